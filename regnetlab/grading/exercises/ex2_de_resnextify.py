"""Exercise 2: De-ResNeXt-ify RegNets with the ResNet block (d2l 8.8.6, exercise 2).

Worker side: each network's ``build``; the rest is data.
"""
from . import CONV_OUTPUT_CASES, Network

ID, MODULE, RUBRIC = "ex2", "ex2_de_resnextify", "test_ex2_de_resnextify.py"
DE_ANYNET_ARCH = ((1, 16), (2, 24), (1, 40))

NETWORKS = [
    Network("DeResNeXt", "DeResNeXt()", lambda m: m.DeResNeXt(),
            outputs=CONV_OUTPUT_CASES, train="ex2.DeResNeXt"),
    Network("DeAnyNet.custom", f"DeAnyNet(arch={DE_ANYNET_ARCH}, stem_channels=8)",
            lambda m: m.DeAnyNet(arch=DE_ANYNET_ARCH, stem_channels=8),
            structure_probe="DeAnyNet.custom", extra={"arch": DE_ANYNET_ARCH}),
]
ANSWERS = {}
CALIBRATION = {"ex2.DeResNeXt": "DE_RESNEXT"}
