"""Small statistics for the studies: rank correlation and the spread of paired differences.

numpy only (scipy is a test dependency, used there to check these functions).
"""
import math

import numpy as np

# Two-sided 95% quantiles of Student's t for 1..30 degrees of freedom; 1.96 beyond.
_T975 = (12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228,
         2.201, 2.179, 2.160, 2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086,
         2.080, 2.074, 2.069, 2.064, 2.060, 2.056, 2.052, 2.048, 2.045, 2.042)


def t975(df):
    if df < 1:
        raise ValueError(f"t975: {df} degrees of freedom; expected at least 1")
    return _T975[df - 1] if df <= len(_T975) else 1.96


def ranks(x):
    """Ranks 1..n, ties sharing their average rank (as in Spearman's definition)."""
    x = np.asarray(x, dtype=float)
    order = np.argsort(x, kind="mergesort")
    r = np.empty(len(x))
    r[order] = np.arange(1, len(x) + 1)
    for v in np.unique(x):  # average the ranks of tied values
        tied = x == v
        if tied.sum() > 1:
            r[tied] = r[tied].mean()
    return r


def spearman(x, y, permutations=10_000, seed=0):
    """Spearman's rho of paired samples, and a two-sided permutation p-value.

    The p-value is the fraction of random re-pairings whose |rho| is at least the
    observed one (exact in distribution, no normal approximation for small n).
    """
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    if len(x) != len(y) or len(x) < 3:
        raise ValueError(f"spearman: {len(x)} and {len(y)} values; expected equal "
                         "lengths of at least 3")
    rx, ry = ranks(x), ranks(y)
    if rx.std() == 0 or ry.std() == 0:
        return {"rho": float("nan"), "p": float("nan"), "n": len(x)}
    rho = float(np.corrcoef(rx, ry)[0, 1])
    rng = np.random.default_rng(seed)
    perm = np.array([np.corrcoef(rx, rng.permutation(ry))[0, 1] for _ in range(permutations)])
    p = float((np.sum(np.abs(perm) >= abs(rho) - 1e-12) + 1) / (permutations + 1))
    return {"rho": rho, "p": p, "n": len(x)}


def mean_ci(values):
    """Mean, standard deviation, n and the 95% t-interval half-width of ``values``."""
    v = np.asarray(values, dtype=float)
    n = len(v)
    if n == 0:
        raise ValueError("mean_ci: no values")
    sd = float(v.std(ddof=1)) if n > 1 else float("nan")
    half = t975(n - 1) * sd / math.sqrt(n) if n > 1 else float("nan")
    return {"mean": float(v.mean()), "sd": sd, "n": n, "ci95": half}


def within_noise(summary):
    """True when the 95% interval of a mean difference contains 0 (or n is 1)."""
    return not (summary["n"] > 1 and abs(summary["mean"]) > summary["ci95"])
