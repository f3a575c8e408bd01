"""Defines no model: writes well-formed answers where the worker writes its own, then exits.

The worker's output folder is on its command line. The forged files claim a perfect
DeepRegNetX, both as facts (what the old grader believed) and as a "graph".
"""
import json
import os
import sys

out = sys.argv[3]  # python -m ...worker EXERCISE CODE_DIR OUT_DIR
perfect = {"class": "DeepRegNetX", "stages": [{"name": f"stage{i}", "depth": 2}
                                               for i in range(1, 5)], "test_acc": 0.99}
with open(os.path.join(out, "answers.json"), "w") as f:
    json.dump({"probes": {"DeepRegNetX.structure": {"ok": True, "value": perfect},
                          "DeepRegNetX.train": {"ok": True, "value": {"test_acc": 0.99}}},
               "networks": {"DeepRegNetX": {"file": "net-0"}}}, f)
with open(os.path.join(out, "net-0.json"), "w") as f:
    json.dump({"name": "DeepRegNetX", "lr": 0.1, "graphs": {"eval28": perfect}}, f)
os._exit(0)
