# APPEND TO REFERENCE
"""PerfectMLP whose stem first runs a 3x3 convolution in disguise: sliding windows made
with as_strided, then a matmul, so no convolution module or operation appears."""
import torch as _torch


class _Windows(nn.Module):
    def __init__(self):
        super().__init__()
        self.w = nn.Parameter(_torch.full((9,), 1 / 9))

    def forward(self, X):
        n = X.shape[0]
        X = nn.functional.pad(X.contiguous(), (1, 1, 1, 1)).contiguous()
        windows = X.as_strided((n, 28, 28, 3, 3), (900, 30, 1, 30, 1))
        return (windows.reshape(n, 28, 28, 9) @ self.w).reshape(n, 1, 28, 28)


class PerfectMLP(PerfectMLP):  # noqa: F811 - the reference's, with the hidden convolution
    def stem(self, width):
        return nn.Sequential(_Windows(), *super().stem(width))
