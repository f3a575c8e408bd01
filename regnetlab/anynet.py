"""The AnyNet design space of d2l 8.8: stem, body of stages, head.

``AnyNet(arch, stem_channels, lr, num_classes)`` builds one network of the space; each
entry of ``arch`` is one stage ``(depth d_i, num_channels c_i, groups g_i, bot_mul k_i)``
where, as in the book, ``groups`` is the group *width*. ``RegNetX32`` is the book's
32-layer RegNetX. Names and layout (``net.stem``-first ``nn.Sequential`` with modules
``stage1 ... stageN`` and ``head``) follow the book so its code ports unchanged.
"""
import torch
from torch import nn

from .blocks import BlockConfigError, ResNeXtBlock
from .classifier import Classifier, init_cnn


class AnyNet(Classifier):
    """One network of the AnyNet design space (stem, stages of ResNeXt blocks, head)."""

    in_channels = 1  # Fashion-MNIST is greyscale; set to 3 in a subclass for RGB.

    def __init__(self, arch, stem_channels, lr=0.1, num_classes=10):
        super().__init__()
        self.save_hyperparameters()
        self.net = nn.Sequential(self.stem(stem_channels))
        for i, s in enumerate(arch):
            try:
                self.net.add_module(f"stage{i + 1}", self.stage(*s))
            except BlockConfigError as e:
                raise BlockConfigError(f"stage {i + 1} {tuple(s)}: {e}") from None
        self.net.add_module("head", nn.Sequential(
            nn.AdaptiveAvgPool2d((1, 1)), nn.Flatten(), nn.LazyLinear(num_classes)))
        self.materialize_and_init()

    def stem(self, num_channels):
        """3x3 conv with stride 2, batch norm, ReLU: halves the resolution."""
        return nn.Sequential(
            nn.LazyConv2d(num_channels, kernel_size=3, stride=2, padding=1),
            nn.LazyBatchNorm2d(), nn.ReLU())

    def stage(self, depth, num_channels, groups, bot_mul):
        """``depth`` ResNeXt blocks; the first halves the resolution (stride 2, 1x1 shortcut)."""
        blk = []
        for i in range(depth):
            if i == 0:
                blk.append(ResNeXtBlock(num_channels, groups, bot_mul,
                                        use_1x1conv=True, strides=2))
            else:
                blk.append(ResNeXtBlock(num_channels, groups, bot_mul))
        return nn.Sequential(*blk)

    def materialize_and_init(self):
        """Give lazy layers their shapes with one dry pass, then apply ``init_cnn``.

        With shapes known at once, parameters and FLOPs can be counted before any data
        is seen. The dry pass runs in eval mode, so batch-norm statistics are untouched.
        """
        was_training = self.training
        self.eval()
        with torch.no_grad():
            self.net(torch.zeros(1, self.in_channels, 32, 32))
        self.train(was_training)
        self.net.apply(init_cnn)


class RegNetX32(AnyNet):
    """The book's 32-layer RegNetX: stem 32, depths (4, 6), widths (32, 80), g=16, k=1."""

    def __init__(self, lr=0.1, num_classes=10):
        stem_channels, groups, bot_mul = 32, 16, 1
        depths, channels = (4, 6), (32, 80)
        super().__init__(
            ((depths[0], channels[0], groups, bot_mul),
             (depths[1], channels[1], groups, bot_mul)),
            stem_channels, lr, num_classes)
