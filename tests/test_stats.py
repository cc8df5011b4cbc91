"""The statistical conventions of likelihoods/stats.py give the -2 Delta ln L their docstring promises."""

import jax
import jax.numpy as jnp
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


def _edge_chi2(ln_x, cap=25.0):
    """-2 ln L through the exclusion edge of a 90 % CL upper limit at 1, as a function of ln x."""
    return -2.0 * stats.exclusion_edge(stats.upper_limit(jnp.exp(ln_x), 1.0, 0.9), cap)


def test_exclusion_edge_identical_below_the_cap():
    for ll in (0.0, -1.0, -1.353, -12.0, -12.5):
        assert float(stats.exclusion_edge(ll, 25.0)) == ll
    assert stats.EDGE_CHI2 == 25.0
    x_cap = (25.0 / stats.delta_chi2(0.9)) ** 0.5  # the limit's x where -2 Delta ln L = 25
    xs = np.linspace(0.0, x_cap, 101)
    np.testing.assert_array_equal(np.asarray(stats.exclusion_edge(stats.upper_limit(xs, 1.0), 25.0)),
                                  np.asarray(stats.upper_limit(xs, 1.0)))


def test_exclusion_edge_c1_at_the_cap():
    g = jax.grad(lambda x: stats.exclusion_edge(x, 25.0))
    assert float(g(-12.5 - 1e-9)) == pytest.approx(1.0, rel=1e-6) and float(g(-12.5 + 1e-9)) == 1.0
    below, above = float(stats.exclusion_edge(-12.5 + 1e-9)), float(stats.exclusion_edge(-12.5 - 1e-9))
    assert abs(above - below) < 1e-8


def test_exclusion_edge_bounded_curvature_in_ln_x():
    """For a limit, slope of -2 ln L in ln x <= 2 cap and |curvature| <= 4 cap everywhere (module doc), monotonic."""
    ln_x = jnp.linspace(-5.0, 60.0, 4001)  # x up to e^60: exact chi2 ~ 1e52
    d1 = np.asarray(jax.vmap(jax.grad(_edge_chi2))(ln_x))
    d2 = np.asarray(jax.vmap(jax.grad(jax.grad(_edge_chi2)))(ln_x))
    assert np.all(np.isfinite(d1)) and np.all(np.isfinite(d2))
    assert np.all(d1 >= 0) and d1.max() <= 50.0 * (1 + 1e-9)
    assert np.abs(d2).max() <= 100.0 * (1 + 1e-9)
    assert np.all(np.abs(d2[np.asarray(ln_x) > 2.0]) < 1e-6)  # linear in ln x beyond the cap
    exact_d2 = np.asarray(jax.vmap(jax.grad(jax.grad(lambda t: -2.0 * stats.upper_limit(jnp.exp(t), 1.0))))(ln_x))
    assert exact_d2.max() > 1e50  # what the edge removes


def test_exclusion_edge_finite_everywhere():
    lls = jnp.asarray([0.0, -12.5, -13.0, -1e3, -1e10, -1e300, -np.finfo(float).max])
    v = np.asarray(jax.vmap(lambda x: stats.exclusion_edge(x))(lls))
    g = np.asarray(jax.vmap(jax.grad(lambda x: stats.exclusion_edge(x)))(lls))
    assert np.all(np.isfinite(v)) and np.all(np.isfinite(g))
    assert np.all(np.diff(v) < 0)  # monotonic
    assert -2 * v[-1] < 25.0 * (1 + np.log(np.finfo(float).max))  # ~17,800: logarithmic growth
