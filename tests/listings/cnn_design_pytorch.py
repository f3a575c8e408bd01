# The PyTorch code of d2l 8.8 "Designing Convolution Network Architectures", cell by cell,
# exactly as a reader of the PyTorch tab sees it; tests/test_book_listings.py runs it with
# the one line `from d2l import torch as d2l` changed to `import regnetlab as d2l`.
#
# Source: Dive into Deep Learning, https://github.com/d2l-ai/d2l-en, file
# chapter_convolutional-modern/cnn-design.md at commit
# 003f46d8d6bbe6311a235ca107b93f1b4e897953
# (https://github.com/d2l-ai/d2l-en/blob/003f46d8d6bbe6311a235ca107b93f1b4e897953/chapter_convolutional-modern/cnn-design.md).
# Authors: Aston Zhang, Zachary C. Lipton, Mu Li, Alexander J. Smola and contributors.
# The book's code is under MIT-0 and its text under CC BY-SA 4.0 (see the repository's
# LICENSE and LICENSE-SAMPLECODE). What was changed here: the `%%tab pytorch` markers are
# left out, and the `__init__` cell keeps only its `if tab.selected('pytorch'):` branch,
# unindented, which is what d2lbook renders in the PyTorch tab. Nothing else.

# %% imports
from d2l import torch as d2l
import torch
from torch import nn
from torch.nn import functional as F

# %% stem
class AnyNet(d2l.Classifier):
    def stem(self, num_channels):
        return nn.Sequential(
            nn.LazyConv2d(num_channels, kernel_size=3, stride=2, padding=1),
            nn.LazyBatchNorm2d(), nn.ReLU())

# %% stage
@d2l.add_to_class(AnyNet)
def stage(self, depth, num_channels, groups, bot_mul):
    blk = []
    for i in range(depth):
        if i == 0:
            blk.append(d2l.ResNeXtBlock(num_channels, groups, bot_mul,
                use_1x1conv=True, strides=2))
        else:
            blk.append(d2l.ResNeXtBlock(num_channels, groups, bot_mul))
    return nn.Sequential(*blk)

# %% __init__
@d2l.add_to_class(AnyNet)
def __init__(self, arch, stem_channels, lr=0.1, num_classes=10):
    super(AnyNet, self).__init__()
    self.save_hyperparameters()
    self.net = nn.Sequential(self.stem(stem_channels))
    for i, s in enumerate(arch):
        self.net.add_module(f'stage{i+1}', self.stage(*s))
    self.net.add_module('head', nn.Sequential(
        nn.AdaptiveAvgPool2d((1, 1)), nn.Flatten(),
        nn.LazyLinear(num_classes)))
    self.net.apply(d2l.init_cnn)

# %% RegNetX32
class RegNetX32(AnyNet):
    def __init__(self, lr=0.1, num_classes=10):
        stem_channels, groups, bot_mul = 32, 16, 1
        depths, channels = (4, 6), (32, 80)
        super().__init__(
            ((depths[0], channels[0], groups, bot_mul),
             (depths[1], channels[1], groups, bot_mul)),
            stem_channels, lr, num_classes)

# %% layer_summary
RegNetX32().layer_summary((1, 1, 96, 96))

# %% training
model = RegNetX32(lr=0.05)
trainer = d2l.Trainer(max_epochs=10, num_gpus=1)
data = d2l.FashionMNIST(batch_size=128, resize=(96, 96))
trainer.fit(model, data)
