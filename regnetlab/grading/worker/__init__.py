"""The untrusted side: code that runs in the sandbox, in the same process as the student's.

Nothing here decides a score, and nothing it writes is believed: it builds each graded
object from the submission and *captures* each network as a graph of ATen operations
(``capture.py``) for the trusted side to rebuild and measure (``../trusted/``).
"""
