"""DarkCast's proper-lifetime windows of the prompt U(1)_B searches (likelihoods/zprime_searches.py, audit 47, Z2):
R = P g^2 Br eff(Gamma) / (g_lim^2 Br_ref eff(Gamma_ref g_lim^2)), eff = 1 - exp(-t1 Gamma/hbar). The window formulas
are DarkCast's, DarkCast's own recast to a B boson with extra invisible width is reproduced, the limit moves as
g_lim sqrt(rho eff_ref) (not g_lim sqrt(rho)) once the extra width makes the Z' prompt, and value and gradient are
finite everywhere."""

import functools

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy.optimize import brentq

from globalfit.physics.model import observables
from likelihoods import build_likelihoods
from likelihoods.stats import delta_chi2
from likelihoods.zprime_searches import (BARYONIC, DARKCAST_HBAR, LEPTONIC, CurveSet, read_curve, reference_widths,
                                         t1_kloe_ee, t1_kloe_phi_eta, t1_lhcb_prompt, t1_na48)
from tests.helpers import point

CHI2_90 = delta_chi2(0.9)

# t1 [s] printed by DarkCast's own code (Limit(name).efficiency, its solved (t0, t1) at mass M; limits/<name>.py of
# micha-a-schmidt/darkcast@db9a0f6, run from the mirror, 2026-12)
DARKCAST_T1 = {
    t1_na48: [(0.05, 3.3356410e-12), (0.1, 6.6712819e-12), (0.3, 2.0013846e-11)],  # NA48_Batley2015lha
    t1_kloe_phi_eta: [(0.05, 3.6680493e-11), (0.1, 7.2626552e-11), (0.3, 1.9685791e-10)],  # KLOE_Babusci2012cr
    t1_kloe_ee: [(0.05, 2.6112934e-11), (0.1, 5.1852576e-11), (0.3, 1.4453795e-10)],  # KLOE_Anastasi2015qla
    t1_lhcb_prompt: [(0.3, 1.4510600e-13), (0.45, 1.1675884e-13)],  # LHCb_Aaij2019bvg_prompt
}

# DarkCast's own recast (darkcast.Limit(name).recast's equation, limit.py at db9a0f6: Br ratio x production ratio x
# Efficiency.ratio = 1, solved to 1e-10 in ln g) of the dark-photon limits to a B boson (models/B_boson.py) with an
# invisible width (rho - 1) x its visible one (Model(..., iwidth=...)), at row masses of the recast files: (curve, M,
# rho, g). Run from the mirror of github.com/micha-a-schmidt/darkcast at db9a0f6 (2026-12).
DARKCAST_RECAST = [
    ("NA48/2", 0.049928, 1000.0, 0.009440833), ("NA48/2", 0.099799, 10.0, 0.002895021),
    ("NA48/2", 0.020029, 10.0, 0.003333306),
    ("KLOE phi->eta", 0.05, 10.0, 0.002948637), ("KLOE phi->eta", 0.1, 1000.0, 0.02361076),
    ("KLOE phi->eta", 0.2, 10.0, 0.006115314),
    ("KLOE", 0.099, 10.0, 3.745804),
    ("LHCb", 0.2498, 1000.0, 0.01224622), ("LHCb", 0.2999, 10.0, 0.00181049), ("LHCb", 0.4004, 1000.0, 0.1044491),
]


@functools.lru_cache(maxsize=None)
def _one(exp, table="B"):
    curves = BARYONIC if table == "B" else LEPTONIC
    cs = CurveSet([curves[exp]], table, 0.9, 0.1)
    return jax.jit(lambda M, g2, br, width: -2.0 * cs.loglikes(M, 1.0, g2, br, width)[0])


def _ref(M, model="B"):
    _, lep, tot = (float(x) for x in reference_widths(model, jnp.asarray(M)))
    return lep / tot, tot


def _chi2_rho(exp, M, g, rho, model="B"):
    """-2 Delta ln L of one curve for DarkCast's reference boson with its invisible width raised to (rho - 1) x the
    rest: Br = Br_ref / rho, Gamma = rho Gamma_ref g^2."""
    br, tot = _ref(M, model)
    return float(_one(exp, model)(jnp.asarray(M), g**2, br / rho, rho * tot * g**2))


def _limit(exp, M, rho, model="B"):
    """The coupling at which that boson meets the curve (-2 Delta ln L = 2.71)."""
    return np.exp(brentq(lambda x: _chi2_rho(exp, M, np.exp(x), rho, model) - CHI2_90, np.log(1e-7), np.log(1e3),
                         xtol=1e-12))


def _g_lim(exp, M):
    m, g, _, _ = read_curve(BARYONIC[exp].key)
    return float(np.exp(np.interp(np.log(M), np.log(m), np.log(g))))


@pytest.mark.parametrize("t1", list(DARKCAST_T1), ids=lambda f: f.__name__)
def test_windows_are_darkcasts(t1):
    M, want = np.array(DARKCAST_T1[t1]).T
    assert np.asarray(t1(M)) == pytest.approx(want, rel=1e-7)
    assert {c.t1 for c in BARYONIC.values() if c.r is None} == {None, *DARKCAST_T1}
    assert BARYONIC["BaBar"].t1 is None and all(c.t1 is None for c in LEPTONIC.values())  # t1 = infinity


@pytest.mark.parametrize("exp,M,rho,g", DARKCAST_RECAST)
def test_darkcasts_own_recast_with_invisible_width_is_reproduced(exp, M, rho, g):
    """Our chain (dark photon -> DarkCast's B-boson row -> B boson with extra invisible width) equals DarkCast's direct
    recast (dark photon -> that boson) at its coupling: the window, its boosts and the reference's width are DarkCast's."""
    assert _chi2_rho(exp, M, g, rho) == pytest.approx(CHI2_90, rel=1e-3)


@pytest.mark.parametrize("exp,M", [("NA48/2", 0.05), ("KLOE phi->eta", 0.1), ("LHCb", 0.3)])
def test_large_invisible_width_moves_the_limit_as_sqrt_rho_eff_ref(exp, M):
    """With Gamma = rho Gamma_ref and rho large the model decays inside the window (eff = 1) while the reference at
    g_lim does so with eff_ref < 1: the limit is g_lim sqrt(rho eff_ref) (audit 47, Z2), not g_lim sqrt(rho) (the
    rate without the window); for BaBar (t1 = infinity) it stays g_lim sqrt(rho)."""
    g_lim = _g_lim(exp, M)
    _, tot = _ref(M)
    eff_ref = -np.expm1(-BARYONIC[exp].t1(M) * tot * g_lim**2 / DARKCAST_HBAR)
    assert 0.005 < eff_ref < 0.3
    assert _limit(exp, M, 1.0) == pytest.approx(g_lim, rel=1e-8)  # DarkCast's boson itself: on its own row
    rho = 1e4
    got = _limit(exp, M, rho)
    assert got == pytest.approx(g_lim * np.sqrt(rho * eff_ref), rel=1e-4)
    assert got < 0.6 * g_lim * np.sqrt(rho)
    assert _limit("BaBar", 0.2, 10.0) == pytest.approx(_g_lim("BaBar", 0.2) * np.sqrt(10.0), rel=1e-8)


def test_long_lived_limit_barely_moves_with_invisible_width():
    """NA48/2 at 20 MeV: DarkCast's B boson at its limit decays inside 1 m with eff_ref ~ 0.002, so the rate is
    ∝ g^2 Br eff ≈ g^4 Gamma_ll t1/hbar, independent of the invisible width while eff << 1: rho = 10 moves the limit by
    0.5 % (DarkCast: 0.003318 -> 0.003333), where the rate without the window moved it by sqrt(10)."""
    g1, g10 = _limit("NA48/2", 0.020029, 1.0), _limit("NA48/2", 0.020029, 10.0)
    assert g10 / g1 == pytest.approx(0.003333306 / 0.003318228, rel=1e-4)
    assert g10 / g1 < 1.01


def test_windows_change_nothing_without_them():
    """The B-L curves (BaBar visible, t1 = infinity; invisible searches; beam dumps) keep R = P g^2 Br/(g_lim^2 Br_ref)."""
    mass, g_lim, _, _ = read_curve(LEPTONIC["babar_visible"].key)
    i = int(np.searchsorted(mass, 0.3))
    br, tot = _ref(mass[i], "B-L")
    for rho in (1.0, 7.0, 1e3):
        chi2 = float(_one("babar_visible", "B-L")(jnp.asarray(mass[i]), g_lim[i] ** 2, br / rho, rho * tot * g_lim[i] ** 2))
        assert chi2 == pytest.approx(CHI2_90 / rho**2, rel=1e-9)


def test_finite_value_and_gradient_at_window_edges():
    """zp_baryonic_visible (every curve), value and gradient, at the window formulas' special masses (2 m_mu of
    DarkCast and of PDG, the first LHCb row, m_pi0, the start of DarkCast's pi0 gamma grid, every curve's ends) and far
    outside, for couplings over 12 decades, with and without a dominant invisible width (light Psi pair)."""
    lk = build_likelihoods({"zp_baryonic_visible": None}, "B")[0]
    ends = np.concatenate([[c.m_lo, c.m_hi] for c in [lk.curve_set]], axis=None)
    masses = np.unique(np.concatenate([ends, [1e-3, 2 * 0.10566, 2 * 0.1056584, 0.2141, 0.13498, 0.1405, 0.3, 1.0, 70.0]]))
    g = np.geomspace(1e-12, 1.0, 7)
    M, G = (a.ravel() for a in np.meshgrid(masses, g))
    f = jax.jit(jax.vmap(jax.value_and_grad(  # one program for both Psi settings (arguments, not constants)
        lambda m, gx, g_psi, m_psi: lk.loglike(observables(point(M_Zp=m, g_X=gx, g_Psi=g_psi, M_Psi=m_psi, y_e=2.0), "B")),
        argnums=(0, 1)), in_axes=(0, 0, None, None)))
    for g_psi, m_psi in ((0.0, 10.0), (3.5, 1e-3)):
        val, (dm, dg) = f(jnp.asarray(M), jnp.asarray(G), jnp.float64(g_psi), jnp.float64(m_psi))
        assert np.all(np.isfinite(val)) and np.all(np.asarray(val) <= 0.0)
        assert np.all(np.isfinite(dm)) and np.all(np.isfinite(dg))
        assert g_psi != 0.0 or np.any(np.asarray(val) < -10.0)  # and it constrains
    # the curve set alone at extreme widths: 0 (no decay), tiny, huge
    cs = lk.curve_set
    h = jax.jit(jax.vmap(jax.value_and_grad(lambda w, m: jnp.sum(cs.loglikes(m, 1.0, 1e-6, 0.5, w)), argnums=(0, 1))))
    W = jnp.asarray([0.0, 1e-300, 1e-30, 1e-12, 1.0, 1e3] * 3)
    Ms = jnp.asarray([0.05] * 6 + [0.2141] * 6 + [0.3] * 6)
    val, (dw, dm) = h(W, Ms)
    assert np.all(np.isfinite(val)) and np.all(np.isfinite(dw)) and np.all(np.isfinite(dm))
