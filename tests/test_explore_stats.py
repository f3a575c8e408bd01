"""The explorer's statistics on known inputs: EDF, KS dominance, Spearman, mean intervals."""
import math

import numpy as np
import pytest

from regnetlab.explore.edf import dominance, edf, edf_at, ks_plus, ks_plus_pvalue
from regnetlab.explore.stats import mean_ci, ranks, spearman, within_noise


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


def test_ks_pvalue_formula_and_dominance_dict():
    assert ks_plus_pvalue(0.5, 10, 10) == pytest.approx(math.exp(-2.5))
    assert ks_plus_pvalue(0.0, 5, 5) == 1.0
    d = dominance([0.1, 0.11, 0.12, 0.13], [0.3, 0.31, 0.32, 0.33])
    assert d["d_plus"] == 1.0 and d["d_minus"] == 0.0 and d["p_plus"] < d["p_minus"]


def test_ranks_average_ties():
    assert ranks([10, 20, 20, 5]).tolist() == [2.0, 3.5, 3.5, 1.0]


@pytest.mark.parametrize("seed", range(3))
def test_spearman_matches_scipy(seed):
    scipy_stats = pytest.importorskip("scipy.stats")
    rng = np.random.default_rng(seed)
    x = rng.integers(0, 6, 15).astype(float)  # many ties
    y = x + rng.normal(0, 2, 15)
    ref = scipy_stats.spearmanr(x, y)
    got = spearman(x, y, permutations=4000)
    assert got["rho"] == pytest.approx(ref.statistic)
    assert got["n"] == 15
    assert got["p"] == pytest.approx(ref.pvalue, abs=0.05)


def test_spearman_perfect_and_reversed():
    assert spearman([1, 2, 3, 4, 5], [2, 4, 6, 8, 10], permutations=500)["rho"] == pytest.approx(1)
    assert spearman([1, 2, 3, 4, 5], [5, 4, 3, 2, 1], permutations=500)["rho"] == pytest.approx(-1)
    with pytest.raises(ValueError, match="equal"):
        spearman([1, 2], [1, 2])


def test_mean_ci_and_noise_verdict():
    s = mean_ci([1.0, 2.0, 3.0])
    assert (s["mean"], s["sd"], s["n"]) == (2.0, 1.0, 3)
    assert s["ci95"] == pytest.approx(4.303 / math.sqrt(3))
    assert within_noise(s)  # the 95% half-width 2.48 exceeds the mean 2
    assert not within_noise(mean_ci([1.0, 1.1, 0.9]))
    assert within_noise(mean_ci([0.5]))  # one seed says nothing about noise
