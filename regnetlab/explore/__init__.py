"""The design-space explorer behind ``regnetlab explore``.

The chapter compares whole design spaces, not single networks: sample N networks from a
space, train each with the same small budget, and compare the spaces by the empirical
distribution of their errors (the EDF). One concept per file:

- ``spaces``  samplers of the AnyNetX A..E spaces, the RegNetX space and VioNet variants
- ``sources`` loads the exercise modules (``solutions/`` or a student's ``exercises/``)
- ``studies`` turns a study name and its sizes into a list of trials, and builds a trial's model
- ``results`` the append-only results file (JSONL with a header), safe to resume
- ``sweep``   runs the trials in worker processes and appends each result at once
- ``edf``     the EDF and a one-sided Kolmogorov-Smirnov dominance statistic
- ``stats``   rank correlation and the spread of paired differences over seeds
- ``report``  tables and figures from recorded results files
"""
