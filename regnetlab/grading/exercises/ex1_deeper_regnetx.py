"""Exercise 1: a deeper RegNetX with four stages (d2l 8.8.6, exercise 1).

Worker side: the network's ``build``; the rest is data.
"""
from . import CONV_OUTPUT_CASES, Network

ID, MODULE, RUBRIC = "ex1", "ex1_deeper_regnetx", "test_ex1_deeper_regnetx.py"

NETWORKS = [Network("DeepRegNetX", "DeepRegNetX()", lambda m: m.DeepRegNetX(),
                    outputs=CONV_OUTPUT_CASES, train="ex1.DeepRegNetX")]
ANSWERS = {}
CALIBRATION = {"ex1.DeepRegNetX": "DEEP_REGNETX"}
