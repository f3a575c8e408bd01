"""The statistics of the studies, from scipy: intervals, rank correlation, resolution.

Besides "is this difference significant", every comparison says how large a difference
this many networks (or seeds) could have resolved, so a report can say plainly that a
budget is too small instead of letting "no significant difference" read as "no
difference".
"""
import math

import numpy as np
from scipy import stats


def t975(df):
    """The two-sided 95% quantile of Student's t with ``df`` degrees of freedom."""
    if df < 1:
        raise ValueError(f"t975: {df} degrees of freedom; expected at least 1")
    return float(stats.t.ppf(0.975, df))


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


def welch_diff(a, b):
    """mean(a) - mean(b) with Welch's 95% interval (``low``, ``high``) and half-width."""
    a, b = np.asarray(a, float), np.asarray(b, float)
    mean = float(a.mean() - b.mean())
    if min(len(a), len(b)) < 2 or (a.var() == 0 and b.var() == 0):
        half = 0.0 if min(len(a), len(b)) > 1 else float("nan")
        return {"mean": mean, "ci95": half, "low": mean - half, "high": mean + half,
                "n": min(len(a), len(b))}
    ci = stats.ttest_ind(a, b, equal_var=False).confidence_interval(0.95)
    return {"mean": mean, "ci95": float(ci.high - mean), "low": float(ci.low),
            "high": float(ci.high), "n": min(len(a), len(b))}


def mean_resolution(a, b, power=0.8, alpha=0.05):
    """The smallest mean difference that samples of these sizes and spreads detect with
    probability ``power`` in a two-sided test at level ``alpha`` (normal approximation)."""
    a, b = np.asarray(a, float), np.asarray(b, float)
    if min(len(a), len(b)) < 2:
        return float("nan")
    se = math.sqrt(a.var(ddof=1) / len(a) + b.var(ddof=1) / len(b))
    return float((stats.norm.ppf(1 - alpha / 2) + stats.norm.ppf(power)) * se)


def ks_resolution(n, m, alpha=0.05):
    """The smallest one-sided KS distance D that is significant at ``alpha`` with ``n`` and
    ``m`` networks (asymptotic: p = exp(-2 D^2 n m / (n + m)))."""
    if n < 1 or m < 1:
        raise ValueError(f"ks_resolution: n={n}, m={m}; expected at least 1 each")
    return math.sqrt(math.log(1 / alpha) * (n + m) / (2 * n * m))


def spearman(x, y):
    """Spearman's rho of paired samples and its two-sided p-value (scipy); for up to 8
    pairs the p-value is exact, from every re-pairing (scipy's permutation test)."""
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    if len(x) != len(y) or len(x) < 3:
        raise ValueError(f"spearman: {len(x)} and {len(y)} values; expected equal "
                         "lengths of at least 3")
    if np.ptp(x) == 0 or np.ptp(y) == 0:
        return {"rho": float("nan"), "p": float("nan"), "n": len(x), "exact": False}
    res = stats.spearmanr(x, y)
    rho, p, exact = float(res.statistic), float(res.pvalue), False
    if len(x) <= 8:
        def statistic(u):
            return stats.spearmanr(u, y).statistic
        p = float(stats.permutation_test((x,), statistic, permutation_type="pairings",
                                         n_resamples=math.factorial(len(x))).pvalue)
        exact = True
    return {"rho": rho, "p": p, "n": len(x), "exact": exact}


def kendall(x, y):
    """Kendall's tau and its two-sided p-value (scipy: exact for small samples without ties)."""
    res = stats.kendalltau(x, y)
    return {"tau": float(res.statistic), "p": float(res.pvalue), "n": len(x)}
