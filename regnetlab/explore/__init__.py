"""The design-space explorer behind ``regnetlab explore``.

The chapter compares whole design spaces, not single networks: sample N networks from a
space, train each with the same small budget, and compare the spaces by the empirical
distribution of their errors (the EDF). One concept per file:

- ``spaces``  samplers of the AnyNetX A..E spaces, the RegNetX space and VioNet variants,
  within a complexity band, obeying the principles of :mod:`regnetlab.principles`
- ``sources`` loads the exercise modules (``solutions/`` or a student's ``exercises/``)
- ``study``   what a study is (trials, settings, report) and how a trial's model is built
- ``studies`` one module per study, found by looking in the folder
- ``results`` the append-only results file (JSONL with a header), safe to resume
- ``sweep``   runs the trials on an engine (:mod:`regnetlab.engines`), appending each result
- ``edf``     the EDF and one-sided Kolmogorov-Smirnov dominance with exact p-values
- ``stats``   intervals, rank correlation and what a sample size can resolve (scipy)
- ``report``  the helpers the studies' reports share, and ``make_all``
"""
