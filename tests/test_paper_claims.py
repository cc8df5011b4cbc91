"""The paper's claims at the level of likelihoods (arXiv:1607.07616, Sec. 2.2 and 3), with its 2016 inputs.

"2016 inputs": the datasets ``paper2016`` of lfv_radiative, lfv_two_body, unitarity and cosmology, and only the
searches that existed in 2016 (meson decays, pi0 -> gamma Z', the pure-B visible searches, and for B-L the beam
dumps, BaBar visible, nu-e scattering and tau -> 3l). Newer data (COHERENT, NA64, BaBar invisible) are left out.
"Allowed" means -2 Delta ln L < 2.71 (90 % CL, one parameter) for each likelihood.
"""

import math

import pytest

from globalfit.physics.constants import constants
from globalfit.physics.model import observables
from globalfit.physics.parameters import complete
from likelihoods import build_likelihoods
from tests.helpers import OSC_LMA_2016, PAPER2016, SEARCHES_2016

NU_E = {"nu_e_charm2": None, "nu_e_texono": None, "nu_e_borexino": None}
ALLOWED = 2.71


def benchmark(scenario, M_Zp, g_X, g_Psi, k2e, k2tau, share=0.75, M_Psi=1.0, M_H=400.0):
    """A point with |kappa_e|^2 = k2e, |kappa_tau|^2 = k2tau and cos(beta) at `share` of its Eq. (9) maximum."""
    g_l = -g_X if scenario == "B-L" else 0.0
    cb = share * M_Zp / (abs(g_Psi - g_l) * constants().vev)
    y = lambda k2: math.sqrt(k2) * math.sqrt(2) * M_Psi / (constants().vev * cb)  # Eq. (8) inverted
    return complete(dict(M_Zp=M_Zp, g_X=g_X, g_Psi=g_Psi, cos_beta=cb, y_e=y(k2e), y_tau=y(k2tau), M_Psi=M_Psi, M_H=M_H))


def chi2(scenario, p, config):
    obs = observables(p, scenario)
    return {lk.name: -2 * float(lk.loglike(obs)) for lk in build_likelihoods(config, scenario)}


def test_fig5_benchmark_allowed_by_all_but_oscillations():
    """Fig. 5 (U(1)_B, M_Zp = 10 MeV, g_B = 1e-5, Eq. 9 saturated to 3/4): |kappa|^2 ~ 1e-3 gives eps ~ 1, allowed by
    every non-oscillation constraint of 2016 and excluded by the current oscillation bounds (Eq. 2)."""
    p = benchmark("B", 0.01, 1e-5, -0.1, 1e-3, 1e-3)
    assert float(observables(p, "B")["abs_eps_earth_etau"]) > 1.0
    c = chi2("B", p, {**PAPER2016, **SEARCHES_2016["B"], "osc_lma": OSC_LMA_2016})
    osc = c.pop("osc_lma")
    assert all(v < ALLOWED for v in c.values()), c
    assert osc > 100


def test_fig5_observable_nsi_allowed_by_everything():
    """Observable NSI (|eps| > 0.05) with every 2016 constraint satisfied, oscillations included: only eps_ee can be
    sizeable (eps_mumu - eps_tautau and, by rank 1, eps_mutau are bounded at the 0.02-0.04 level), with g_Psi g_B > 0."""
    p = benchmark("B", 0.01, 1e-5, 0.01, 1e-3, 0.0)
    eps_ee = float(observables(p, "B")["eps_earth_ee"])
    assert 0.05 < eps_ee < 0.6
    c = chi2("B", p, {**PAPER2016, **SEARCHES_2016["B"], "osc_lma": OSC_LMA_2016})
    assert all(v < ALLOWED for v in c.values()), c


def _lma_dark_point(scenario):
    """kappa_e only, g_Psi g_X < 0, scaled so that eps^Earth_ee - eps^Earth_mumu = -3 (LMA-Dark, Earth units)."""
    p = benchmark(scenario, 0.01, 1e-5, -1.0, 1e-4, 0.0)
    o = observables(p, scenario)
    d = float(o["eps_earth_ee"] - o["eps_earth_mumu"])
    return benchmark(scenario, 0.01, 1e-5, -1.0, 1e-4 * (-3.0 / d), 0.0)


def test_lma_dark_reachable_in_B():
    """U(1)_B with g_Psi g_B < 0 reaches LMA-Dark (eps^q_ee - eps^q_mumu ~ -1) with the 2016 constraints satisfied."""
    p = _lma_dark_point("B")
    o = observables(p, "B")
    assert float(o["eps_u_ee"]) < -0.4 and float(o["eps_earth_ee"]) == pytest.approx(-3.0, rel=1e-6)
    c = chi2("B", p, {**PAPER2016, **SEARCHES_2016["B"], "osc_lma_dark": OSC_LMA_2016})
    assert all(v < ALLOWED for v in c.values()), c


def test_lma_dark_excluded_in_B_minus_L_by_nu_e_scattering():
    """The same eps^q in U(1)_{B-L} comes with eps^e_ee = -3 eps^u_ee (+3 at this point): nu-e scattering excludes it."""
    p = _lma_dark_point("B-L")
    o = observables(p, "B-L")
    assert float(o["eps_e_ee"]) > 0.9
    c = chi2("B-L", p, {**PAPER2016, **SEARCHES_2016["B-L"], **NU_E, "osc_lma_dark": OSC_LMA_2016})
    assert c["osc_lma_dark"] < ALLOWED  # the oscillation side is fine ...
    assert c["nu_e_texono"] + c["nu_e_borexino"] > 100  # ... nu-e scattering is not
    others = {k: v for k, v in c.items() if not k.startswith("nu_e")}
    assert all(v < ALLOWED for v in others.values()), others
