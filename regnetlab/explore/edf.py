"""The error EDF of a design space, and a one-sided test of dominance between two spaces.

F(e) = fraction of the sampled networks whose error is <= e (paper, section 2.2). A
space whose EDF lies above another's everywhere is better: more of its networks reach
any given error. ``ks_plus(a, b)`` is the largest amount by which F_a exceeds F_b, the
one-sided two-sample Kolmogorov-Smirnov statistic D+; ``dominance`` adds scipy's exact
p-value of each direction (``ks_2samp(a, b, alternative="greater", method="exact")``)
for the null hypothesis "a is nowhere better than b", exact for small samples too, where
the large-sample formula ``ks_plus_pvalue`` is only an approximation.
"""
import math

import numpy as np
from scipy import stats


def edf(errors):
    """``(e, F)``: the sorted errors and F at each of them (the EDF's step points)."""
    e = np.sort(np.asarray(errors, dtype=float))
    if e.size == 0:
        raise ValueError("edf: no errors given; expected at least one network")
    return e, np.arange(1, e.size + 1) / e.size


def edf_at(errors, at):
    """F(at) = fraction of ``errors`` <= ``at`` (``at`` a number or an array)."""
    e = np.sort(np.asarray(errors, dtype=float))
    if e.size == 0:
        raise ValueError("edf_at: no errors given; expected at least one network")
    return np.searchsorted(e, np.asarray(at, dtype=float), side="right") / e.size


def ks_plus(a, b):
    """max over e of F_a(e) - F_b(e), in [0, 1]: how far space a's EDF rises above b's."""
    grid = np.concatenate([np.asarray(a, float), np.asarray(b, float)])
    return float(max(0.0, np.max(edf_at(a, grid) - edf_at(b, grid))))


def ks_plus_pvalue(d, n, m):
    """Large-sample p-value of D+ = d with n and m networks: exp(-2 d^2 n m / (n + m))."""
    if n < 1 or m < 1:
        raise ValueError(f"ks_plus_pvalue: n={n}, m={m}; expected at least 1")
    return float(min(1.0, math.exp(-2.0 * d * d * n * m / (n + m))))


def ks_plus_exact(a, b):
    """scipy's exact one-sided p-value of D+ (a's EDF above b's) for samples a and b."""
    return float(stats.ks_2samp(a, b, alternative="greater", method="exact").pvalue)


def dominance(a, b):
    """Both one-sided statistics with exact p-values, so the caller can say which way
    (if any) a space wins."""
    n, m = len(a), len(b)
    if n < 1 or m < 1:
        raise ValueError(f"dominance: n={n}, m={m}; expected at least 1 each")
    return {"n": n, "m": m, "d_plus": ks_plus(a, b), "p_plus": ks_plus_exact(a, b),
            "d_minus": ks_plus(b, a), "p_minus": ks_plus_exact(b, a)}
