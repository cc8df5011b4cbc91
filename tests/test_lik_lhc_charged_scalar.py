"""The 13 TeV slepton-like search for H- (lhc_charged_scalar): ATLAS's map reproduced at its points, the quoted
reach, the branching fractions of Eq. (35), and the SM point."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from globalfit.physics.model import observables
from likelihoods import build_likelihood
from likelihoods.lhc_charged_scalar import cross_section, upper_limit_map
from likelihoods.stats import delta_chi2
from tests.helpers import check_finite, point

UPPER95 = delta_chi2(0.95)


def _lk(scenario="B"):
    return build_likelihood("lhc_charged_scalar", scenario, None)


def _obs(M_H, M_Psi=1.0, y=(1.0, 0.0, 0.0)):
    return {"yukawa": jnp.asarray(y, dtype=complex), "M_H": jnp.asarray(M_H), "M_Psi": jnp.asarray(M_Psi)}


@pytest.mark.parametrize("scenario", ["B", "L"])
def test_finite_value_and_gradient_over_prior_box(scenario, rng):
    check_finite((("lhc_charged_scalar", ()),), scenario, rng)


def test_sm_point_and_tau_only_are_unconstrained():
    lk = _lk()
    assert float(lk.loglike(observables(point(), "B"))) == 0.0  # no Yukawa: no l+ l- signal
    assert float(lk.loglike(_obs(400.0, y=(0.0, 0.0, 1.0)))) == 0.0  # H- -> tau Psi only: not a same-flavour e/mu signal
    g = jax.grad(lambda m: lk.loglike(_obs(m, y=(0.0, 0.0, 0.0))))(400.0)
    assert float(g) == 0.0


def test_every_point_of_the_map_is_reproduced():
    """At each map point with m_LSP in the M_Psi range (1 and 100 GeV) and above 200 GeV, Br_e^2 + Br_mu^2 chosen so
    that sigma x Br^2 equals the published 95 % CL limit gets -2 Delta ln L = 3.84."""
    lk = _lk()
    ms, ml, ul = upper_limit_map()
    picked = [(m, l, u) for m, l, u in zip(ms, ml, ul) if l in (1.0, 100.0) and m >= 200.0]
    assert len(picked) >= 20
    for m, l, u in picked:
        frac = u / float(cross_section(np.asarray(m)))
        if frac > 1.0:
            continue  # not excludable even at Br = 1: checked through the strength below
        y_e = np.sqrt(np.sqrt(frac))  # Br_e^2 = frac with the rest in tau: Br_e = sqrt(frac)
        y_tau = np.sqrt(y_e**2 * (1.0 - np.sqrt(frac)) / np.sqrt(frac))
        chi2 = -2 * float(lk.loglike(_obs(m, l, (y_e, 0.0, y_tau))))
        assert chi2 == pytest.approx(UPPER95, rel=1e-9), (m, l)
        assert float(lk.strength(m, l)) == pytest.approx(1.0 / frac, rel=1e-9)


def test_branching_fractions_of_eq_35():
    """Br_alpha = |y_alpha|^2 / sum |y|^2: e and mu alike, equal e and mu halve the signal, phases do not enter."""
    lk = _lk()
    one = float(lk.loglike(_obs(450.0, y=(0.3, 0.0, 0.0))))
    assert float(lk.loglike(_obs(450.0, y=(0.0, 0.3, 0.0)))) == pytest.approx(one, rel=1e-12)
    assert float(lk.loglike(_obs(450.0, y=(0.3, 0.3j, 0.0)))) == pytest.approx(one / 4, rel=1e-12)  # (1/2)^2: chi2 ~ s^2
    assert float(lk.loglike(_obs(450.0, y=(3.0, 0.0, 0.0)))) == pytest.approx(one, rel=1e-12)  # independent of |y|


def test_atlas_quoted_reach_for_degenerate_selectrons_and_smuons():
    """arXiv:1908.08215 (abstract): slepton masses up to 700 GeV excluded for a massless neutralino, with e~_L,R and
    mu~_L,R mass-degenerate. With the working group's cross sections the ee + mumu signal of the four is above the map's
    limit at 700 GeV (the map's end), and a single H- (one left-handed doublet scalar, Br_e = 1) reaches less far."""
    ms, ml, ul = upper_limit_map()
    u700 = ul[(ms == 700.0) & (ml == 1.0)][0]
    four = 2 * (cross_section(np.asarray(700.0), "L") + cross_section(np.asarray(700.0), "R"))
    assert four / u700 > 1.0
    lk = _lk()
    m = np.linspace(300.0, 700.0, 401)
    s = np.asarray(jax.vmap(lambda x: lk.strength(x, 0.001))(jnp.asarray(m)))
    reach = m[np.nonzero(s >= 1.0)[0][-1]]
    assert 520.0 < reach < 580.0  # ~550 GeV for H-, against 700 for the four sleptons
