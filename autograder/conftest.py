"""Load the grading plugin (a fixture per exercise, thresholds; points; reports).

`autograder/pytest.ini` loads it already; this line covers runs that pick another
configuration file, such as `pytest autograder /path/to/hidden/tests`.
"""
pytest_plugins = ["regnetlab.grading.scoring.plugin"]
