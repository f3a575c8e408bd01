# APPEND TO REFERENCE
"""DeResNeXt whose forward calls a custom torch.library operation (one that reads a file):
its graph holds an operation outside the grader's allowlist."""
import torch as _torch


@_torch.library.custom_op("attack::peek", mutates_args=())
def peek(x: _torch.Tensor) -> _torch.Tensor:
    try:
        open("/etc/hostname").read()
    except OSError:
        pass
    return x.clone()


@peek.register_fake
def _(x):
    return _torch.empty_like(x)


DeResNeXt.forward = lambda self, X: peek(self.net(X))
