"""The worker: runs in the sandbox, in the same process as the student's code.

Nothing here decides a score, and nothing it writes is believed: it builds each graded
object from the submission (the exercises' worker-side builders) and *captures* each
network as a graph of ATen operations (``capture.py``), which it writes with its report
in the files ``../protocol.py`` names, for the trusted side to rebuild and measure
(``../measure/``). It imports ``protocol`` and ``exercises``, never the trusted side.
"""
