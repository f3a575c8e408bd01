"""Measurement: runs in the trusted grading process, reading only graphs.

No submission is imported here and no student code runs: the worker's files come in as
bytes, its report is parsed by ``../protocol.py`` and each network is rebuilt from its
graph by ``graph.py`` (allowlisted operations only, sizes checked before anything is
allocated). Then ``network.py`` measures it (its structure read by its family's
describer, ``conv.py`` or ``mlp.py``, over the shared ``walk.py``; its logits; its
gradients), ``training.py`` trains it on data the worker never saw, and ``exercise.py``
does all of that for one exercise's probes.
"""
