"""The explorer's statistics on known inputs: EDF, KS dominance, rank correlation, intervals,
and what a sample size can resolve."""
import math

import numpy as np
import pytest

from regnetlab.explore.edf import dominance, edf, edf_at, ks_plus, ks_plus_pvalue
from regnetlab.explore.stats import (kendall, ks_resolution, mean_ci, mean_resolution,
                                     spearman, welch_diff, within_noise)


def test_edf_steps_on_known_errors():
    e, F = edf([0.3, 0.1, 0.2, 0.2])
    assert e.tolist() == [0.1, 0.2, 0.2, 0.3]
    assert F.tolist() == [0.25, 0.5, 0.75, 1.0]


def test_edf_at_counts_errors_at_or_below():
    errs = [0.1, 0.2, 0.2, 0.3]
    assert edf_at(errs, 0.05) == 0.0
    assert edf_at(errs, 0.2) == 0.75  # ties at e are included: F(e) = P(error <= e)
    assert edf_at(errs, 0.25) == 0.75
    assert edf_at(errs, 1.0) == 1.0
    assert edf_at(errs, [0.1, 0.3]).tolist() == [0.25, 1.0]


def test_edf_refuses_empty():
    with pytest.raises(ValueError, match="no errors"):
        edf([])


def test_ks_plus_direction():
    better, worse = [0.10, 0.12, 0.14], [0.20, 0.22, 0.24]
    assert ks_plus(better, worse) == 1.0  # better's EDF lies fully above
    assert ks_plus(worse, better) == 0.0
    assert ks_plus([0.1, 0.3], [0.2, 0.4]) == 0.5


@pytest.mark.parametrize("seed", range(5))
def test_ks_plus_matches_scipy(seed):
    scipy_stats = pytest.importorskip("scipy.stats")
    rng = np.random.default_rng(seed)
    a, b = rng.normal(0.2, 0.03, 17), rng.normal(0.21, 0.03, 23)
    a[:3] = b[:3]  # ties across samples
    ref = scipy_stats.ks_2samp(a, b, alternative="greater").statistic
    assert ks_plus(a, b) == pytest.approx(ref)


def test_ks_pvalue_formula_and_exact_dominance():
    assert ks_plus_pvalue(0.5, 10, 10) == pytest.approx(math.exp(-2.5))
    assert ks_plus_pvalue(0.0, 5, 5) == 1.0
    d = dominance([0.1, 0.11, 0.12], [0.3, 0.31, 0.32])
    assert d["d_plus"] == 1.0 and d["d_minus"] == 0.0
    # exact: of the C(6, 3) = 20 equally likely orderings, one puts all of a first
    assert d["p_plus"] == pytest.approx(1 / 20) and d["p_minus"] == 1.0


def test_spearman_and_kendall_are_scipys_with_exact_small_sample_p():
    perfect = spearman([1, 2, 3, 4, 5], [2, 4, 6, 8, 10])
    # of the 5! re-pairings, the identity and the reversal reach |rho| = 1: p = 2 / 120
    assert perfect["rho"] == pytest.approx(1) and perfect["exact"]
    assert perfect["p"] == pytest.approx(2 / 120)
    assert spearman([1, 2, 3, 4, 5], [5, 4, 3, 2, 1])["rho"] == pytest.approx(-1)
    rng = np.random.default_rng(0)
    x = rng.normal(size=30)
    y = x + rng.normal(size=30)
    big = spearman(x, y)
    assert not big["exact"] and 0 < big["p"] < 0.01 and big["n"] == 30
    k = kendall([1, 2, 3, 4, 5], [1, 3, 2, 4, 5])
    assert k["tau"] == pytest.approx(0.8) and k["p"] == pytest.approx(1 / 12, abs=0.01)
    with pytest.raises(ValueError, match="equal"):
        spearman([1, 2], [1, 2])


def test_mean_ci_and_noise_verdict():
    s = mean_ci([1.0, 2.0, 3.0])
    assert (s["mean"], s["sd"], s["n"]) == (2.0, 1.0, 3)
    assert s["ci95"] == pytest.approx(4.303 / math.sqrt(3), rel=1e-3)
    assert within_noise(s)  # the 95% half-width 2.48 exceeds the mean 2
    assert not within_noise(mean_ci([1.0, 1.1, 0.9]))
    assert within_noise(mean_ci([0.5]))  # one seed says nothing about noise


def test_welch_interval_and_resolution():
    a, b = [1.0, 2.0, 3.0, 4.0], [2.0, 3.0, 4.0, 5.0]
    d = welch_diff(a, b)
    # equal spreads, n = 4 each: Welch's df is 6, the standard error sqrt(2 * (5/3) / 4)
    half = 2.4469 * math.sqrt(2 * (5 / 3) / 4)
    assert d["mean"] == -1.0 and d["low"] == pytest.approx(-1 - half, rel=1e-3)
    assert d["high"] == pytest.approx(-1 + half, rel=1e-3)
    # 80% power, 5% two-sided: (1.96 + 0.8416) standard errors
    assert mean_resolution(a, b) == pytest.approx(2.8016 * math.sqrt(2 * (5 / 3) / 4),
                                                  rel=1e-3)
    assert math.isnan(mean_resolution([1.0], b))
    # the paper's 500 networks per space resolve a KS gap of 0.077; 20 per space 0.39
    assert ks_resolution(500, 500) == pytest.approx(0.0774, abs=1e-4)
    assert ks_resolution(20, 20) == pytest.approx(0.387, abs=1e-3)
    assert ks_resolution(20, 20) > ks_resolution(40, 20) > ks_resolution(40, 40)
