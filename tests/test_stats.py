"""The statistical conventions of likelihoods/stats.py give the -2 Delta ln L their docstring promises."""

import jax
import numpy as np
import pytest

from likelihoods import stats


def test_upper_limit_at_limit():
    assert -2 * float(stats.upper_limit(3.3e-8, 3.3e-8, 0.9)) == pytest.approx(2.7055, rel=1e-4)
    assert -2 * float(stats.upper_limit(1.0, 1.0, 0.95)) == pytest.approx(3.8415, rel=1e-4)
    assert float(stats.upper_limit(0.0, 1.0)) == 0.0


@pytest.mark.parametrize("best", [None, 0.0, 0.5])
def test_interval_ends_and_best_fit(best):
    lo, hi = -0.11, 0.60
    for end in (lo, hi):
        assert -2 * float(stats.interval(end, lo, hi, 0.9, best)) == pytest.approx(2.7055, rel=1e-4)
    peak = 0.5 * (lo + hi) if best is None else best
    assert float(stats.interval(peak, lo, hi, 0.9, best)) == 0.0
    g = jax.grad(lambda x: stats.interval(x, lo, hi, 0.9, best))
    assert float(g(peak)) == 0.0 and np.isfinite(float(g(peak + 1e-9)))


def test_one_convention_for_limits_intervals_and_maps():
    """A 90 % CL limit, a 90 % CL interval end and the profile maps' allowed threshold are the same number, and
    "2 sigma" is Delta chi^2 = 4."""
    assert stats.delta_chi2(0.9) == pytest.approx(2.7055, rel=1e-4) == stats.ALLOWED_DELTA_CHI2
    assert -2 * float(stats.upper_limit(2.0, 2.0, 0.9)) == pytest.approx(-2 * float(stats.interval(0.6, -0.11, 0.6, 0.9)))
    assert stats.delta_chi2(stats.cl_of_sigma(2.0)) == pytest.approx(4.0, rel=1e-12)


def test_interval_best_outside_is_an_error():
    with pytest.raises(ValueError, match="inside the interval"):
        stats.interval(0.0, 0.017, 0.43, 0.9, 0.0)


def test_asymmetric_gaussian_one_sigma_points():
    mu, sp, sm = 165.0, 30.0, 25.0
    assert -2 * float(stats.asymmetric_gaussian(mu + sp, mu, sp, sm)) == pytest.approx(1.0)
    assert -2 * float(stats.asymmetric_gaussian(mu - sm, mu, sp, sm)) == pytest.approx(1.0)
    assert np.isfinite(float(stats.asymmetric_gaussian(-1e6, mu, sp, sm)))


def test_poisson_and_gaussian_poisson():
    assert float(stats.poisson(37.0, 37.0)) == 0.0
    assert float(stats.poisson(0.0, 2.0)) == pytest.approx(-2.0)
    assert float(stats.poisson(5.0, 0.0)) < -10 and np.isfinite(float(stats.poisson(5.0, 0.0)))
    assert float(stats.poisson_gaussian(10.0, 10.0, 0.1)) == 0.0
    assert -2 * float(stats.poisson_gaussian(10.0, 20.0, 0.0)) == pytest.approx(100 / 20)


def test_soften_tail_exact_below_threshold_and_smooth_beyond():
    for ll in (0.0, -1.0, -12.5):
        assert float(stats.soften_tail(ll, 25.0)) == ll
    far = float(stats.soften_tail(-1e10, 25.0))
    assert -400 < far < -12.5  # logarithmic growth
    g = jax.grad(lambda x: stats.soften_tail(x, 25.0))
    assert float(g(-12.5 - 1e-9)) == pytest.approx(1.0, rel=1e-6) and float(g(-12.5 + 1e-9)) == 1.0
    xs = np.linspace(-1e4, 0, 1001)
    ys = np.asarray(jax.vmap(lambda x: stats.soften_tail(x, 25.0))(xs))
    assert np.all(np.diff(ys) > 0)  # monotonic
