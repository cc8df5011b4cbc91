"""Light-Psi peak searches (psi_peak_searches): quoted limits reproduced, envelope, smooth curve ends, invisibility."""

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from globalfit.errors import ConfigError
from globalfit.physics.constants import constants
from globalfit.physics.model import observables
from likelihoods import build_likelihood
from likelihoods.psi_peak_searches import CURVES, DEFAULT_CURVES, read_curve
from likelihoods.stats import delta_chi2, exclusion_edge
from tests.helpers import check_finite, point

UPPER90 = delta_chi2(0.9)


def _build(scenario="B", **opts):
    return build_likelihood("psi_peak_searches", scenario, opts)


def _obs(M_Psi, k2e=0.0, k2mu=0.0, br_inv=1.0):
    return {"kappa": jnp.asarray([math.sqrt(k2e), math.sqrt(k2mu), 0.0], dtype=complex), "M_Psi": jnp.asarray(M_Psi),
            "br_Zp_invisible": jnp.asarray(br_inv)}


@pytest.mark.parametrize("scenario", ["B", "L"])
def test_finite_value_and_gradient_over_prior_box(scenario, rng):
    check_finite((("psi_peak_searches", ()), ("psi_peak_searches", (("invisible", "all"),))), scenario, rng)


def test_sm_point_and_heavy_psi_are_unconstrained():
    fn = _build()
    assert float(fn.loglike(observables(point(g_X=1e-12, M_Psi=0.1), "B"))) == 0.0  # kappa = 0
    assert float(fn.loglike(_obs(0.6, k2e=1e-3, k2mu=1e-3))) > -1e-8  # above m_K: nothing applies


@pytest.mark.parametrize("name", ["na62_2020", "e949", "pienu2019_high_tmu", "bryman_shrock_beta"])
def test_point_at_quoted_limit(name):
    """Each curve alone: |kappa|^2 at the quoted 90 % CL limit of a node gets 2.71 (every node inside the curve's
    range, away from its tapered ends, is reproduced exactly)."""
    fn = _build(curves=[name], invisible="all")
    m, lim = read_curve(name)
    inner = np.nonzero((np.log(m) > np.log(m[0]) + 0.05) & (np.log(m) < np.log(m[-1]) - 0.05))[0]
    i = inner[len(inner) // 2]
    kw = {"k2e": lim[i]} if CURVES[name][0] == 0 else {"k2mu": lim[i]}
    assert -2 * float(fn.loglike(_obs(m[i], **kw))) == pytest.approx(UPPER90, rel=1e-9)


def test_envelope_takes_the_strongest_curve():
    """pi+ -> e+ N at 100 MeV: PIENU 2017, TRIUMF and the R_pi universality curve overlap; the limit is the smallest."""
    fn = _build(invisible="all")
    m = 0.1
    lims = [float(np.exp(np.interp(np.log(m), np.log(read_curve(n)[0]), np.log(read_curve(n)[1]))))
            for n in ("pienu2017", "triumf1992", "bryman_shrock_pi", "bryman_shrock_K")]
    assert float(fn.limit("e", jnp.asarray(m))) == pytest.approx(min(lims), rel=1e-9)
    assert min(lims) < 1e-7  # PIENU: 1e-8 level
    # the e and mu flavours add
    both = -2 * float(fn.loglike(_obs(m, k2e=min(lims), k2mu=float(fn.limit("mu", jnp.asarray(m))))))
    assert both == pytest.approx(2 * UPPER90, rel=1e-6)


def test_curve_ends_are_continuous():
    """Where NA62 K+ -> e+ N starts (144 MeV) the limit drops by ~50x: the taper makes -2 ln L continuous there (no
    step for NUTS) and finite in its gradient."""
    fn = _build(invisible="all")
    lnm = np.log(0.144) + np.linspace(-0.01, 0.06, 2001)
    k2 = 3e-9
    f = jax.jit(jax.vmap(lambda x: fn.loglike(_obs(jnp.exp(x), k2e=k2))))
    vals = -2 * np.asarray(f(jnp.asarray(lnm)))
    assert vals[0] < 0.2 and vals[-1] > 2.0  # weak before, NA62-strong after
    assert np.max(np.abs(np.diff(vals))) < 0.05 * np.ptp(vals)  # no jump between neighbours 3.5e-5 apart in ln m
    g = jax.grad(lambda x: fn.loglike(_obs(jnp.exp(x), k2e=k2)))
    assert all(np.isfinite(float(g(jnp.asarray(x)))) for x in (np.log(0.144), np.log(0.144) + 0.025, np.log(0.462)))


def test_invisible_fraction_and_gaps():
    """Signal counted as |kappa|^2 Br(Z' -> inv) by default; the mu-flavour gap 34-45 MeV is unconstrained."""
    fn, allinv = _build(), _build(invisible="all")
    o = _obs(0.3, k2mu=1e-8, br_inv=0.5)
    assert float(fn.loglike(o)) == pytest.approx(0.25 * float(allinv.loglike(o)), rel=1e-12)
    assert float(fn.loglike(_obs(0.04, k2mu=1e-4))) > -1e-8
    assert float(fn.limit("mu", jnp.asarray(0.04))) > 100.0
    # kinematics: K+ -> mu+ N closes at m_K - m_mu, where the last mu curve ends
    c = constants()
    assert max(read_curve(n)[0][-1] for n in DEFAULT_CURVES if CURVES[n][0] == 1) < c.m_K - c.m_mu


def test_far_tail_is_exact_and_edge_bounded():
    """The likelihood is exact deep in the excluded region (-2 ln L grows as |kappa|^4); the sampler's exclusion edge
    (likelihoods.stats.exclusion_edge, applied by the fit problem) keeps it finite and slowly growing."""
    fn = _build(invisible="all")
    ll = fn.loglike(_obs(0.3, k2e=1e-2))
    ll2 = fn.loglike(_obs(0.3, k2e=2e-2))
    assert float(ll2) == pytest.approx(4 * float(ll), rel=1e-9) and -2 * float(ll) > 25.0
    assert 25.0 < -2 * float(exclusion_edge(ll)) < 1000.0  # exact: 8.5e14


@pytest.mark.parametrize(
    "opts,match",
    [({"curves": ["na62"]}, r"psi_peak_searches.curves.0: Input should be 'pienu2017'"),
     ({"curves": []}, r"psi_peak_searches.curves: expected a non-empty list of curves"),
     ({"invisible": "none"}, r"psi_peak_searches.invisible: Input should be 'br_invisible' or 'all'"),
     ({"edge_width": 0.0}, r"psi_peak_searches.edge_width: Input should be greater than 0")],
)
def test_option_validation(opts, match):
    with pytest.raises(ConfigError, match=match):
        _build(**opts)
