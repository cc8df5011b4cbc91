"""Neutrino-electron elastic scattering with a light Z': CHARM-II, TEXONO, Borexino 7Be.

Every prediction is computed from the cross section of :mod:`globalfit.physics.scattering` (PHYSICS.md §7) with the
q^2-dependent eps^e_ab(q^2) = G_ab g_e / (sqrt2 G_F (q^2 + M_Zp^2)), q^2 = 2 m_e T, integrated over the source
spectrum and the recoil window on a fixed Gauss-Legendre grid; none is a digitised curve. The full G matrix
enters (universal g_X l part and the Psi part, off-diagonal entries as incoherent nu_a -> nu_b scattering).
**Scenarios:** registered for B-L and L only: these need a tree-level Z' coupling to electrons, g_e = g_X l_e,
which vanishes for U(1)_B and U(1)_{B-3L_tau}. sin^2 theta_W: MS-bar at q -> 0 by default (option ``sin2w_scheme``,
:func:`globalfit.physics.scattering.sin2w`).

[nu_e_charm2] CHARM-II nu_mu e (Vilain et al., PLB 335, 246 (1994)). The published g_V, g_A are **UNVERIFIED**
(constraints_data A5, addendum §3a) and are not used. Instead a *rate-ratio* measurement r = sigma/sigma_SM with
Gaussian error sigma_r, calibrated on the sourced B-L limit that Bauer, Foldenauer & Jaeckel derived from CHARM-II
(arXiv:1803.05466 Fig. 13, DarkCast digitisation [S], constraints_data A7): sigma_r is fixed so that B-L with
g_Psi = 0 at the calibration point (M_Zp = 1 MeV, g = 6.4e-5, the flat light-mediator plateau) gets
-2 Delta ln L = z((1 + CL)/2)^2 = 2.71 (CL = 0.9, option ``calibration_cl``; the CL of that curve is itself an
assumption). The q^2 dependence then predicts the rest of the curve (the test compares M_Zp = 100 MeV and 1 GeV with
the digitised 9.1e-5 and 6.3e-4). Beam: nu_mu line at <E> = 23.7 GeV [S]; recoil window T = 3-24 GeV is **UNVERIFIED**
(recalled; option ``T_window_GeV``); the nubar_mu run is not used. A point on the calibration curve gets 2.71.

[nu_e_texono] TEXONO reactor nubar_e e (Deniz et al., PRD 81, 072001 (2010), arXiv:0911.1597 [P]):
xi = R_exp/R_SM = 1.08 +- 0.21(stat) +- 0.16(sys), errors added in quadrature (sigma = 0.264), Gaussian in the predicted
ratio R_model/R_SM over the reactor spectrum (Mueller 2011 shape). Recoil window 3-8 MeV **UNVERIFIED** (option
``T_window_MeV``). At xi = 1.08 +- 0.264, -2 Delta ln L = 1; the SM point gets (0.08/0.264)^2 = 0.092.

[nu_e_borexino] Borexino 7Be (862 keV) interaction rate. Phase II (default): 48.3 +- 1.1(stat) +0.4 -0.7(syst)
cpd/100 t (Agostini et al., PRD 100, 082004 (2019), arXiv:1707.09279 [P]); Phase I: 46.0 +- 1.5 +1.5 -1.6 (Bellini et al.,
PRL 107, 141302 (2011), arXiv:1104.1816 [P]). Prediction: R = Phi(7Be) Br(862) N_e <sigma>_SM x r, with Phi = 4.93e9 cm^-2 s^-1
+- 6 % (B16-GS98, Vinyoles et al. arXiv:1611.09867 [S]), Br = 0.8956 and N_e = 3.307e31 per 100 t [S, Newtrinos];
<sigma>_SM over all recoil energies for the oscillated mixture nu_e : nu_mu : nu_tau = P_ee : (1-P_ee) c23^2 : (1-P_ee) s23^2
(incoherent), and r = model/SM rate over the fit window T > 0.19 MeV (Phase II; 0.27 MeV Phase I) [P], where the spectral fit
has its sensitivity. P_ee is the adiabatic MSW value c13^4 (1/2 + 1/2 cos 2theta_12^m cos 2theta_12) + s13^4 with PDG mixing
angles and Delta m^2_21 (pdg database), at the 7Be production density n_e = 90 N_A cm^-3 (approximate solar-core value,
**UNVERIFIED**; option ``n_e_NA_cm3``, or ``p_ee`` to override). Likelihood: Barlow's asymmetric Gaussian with
stat, syst and the 6 % flux error (at the SM prediction) in quadrature. A predicted rate one (combined) sigma from the
measured value gets -2 Delta ln L = 1.
"""

from __future__ import annotations

import functools
import math

import jax.numpy as jnp

from globalfit.physics.constants import constants
from globalfit.physics.scattering import (
    GEV2_TO_CM2,
    Component,
    be7_components,
    grid,
    p_ee_adiabatic,
    pdg_mixing,
    rate_nue,
    reactor_pdf,
    sin2w,
)
from globalfit.physics.scenarios import Scenario, get_scenario

from . import register
from .stats import asymmetric_gaussian, gaussian, z_two_sided

LEPTONIC = ("B-L", "L")

CHARM2_E_NU = 23.7  # GeV [S] DarkCast CHARMII_Bauer2018onh
CHARM2_CALIBRATION = (1e-3, 6.4e-5)  # (M_Zp GeV, g_B-L) on the digitised CHARM-II curve [S] arXiv:1803.05466
TEXONO = (1.08, math.hypot(0.21, 0.16))  # [P] arXiv:0911.1597
BOREXINO = {  # rate, stat, syst+, syst-, T_lo [GeV] of the fit window  [P]
    "II": (48.3, 1.1, 0.4, 0.7, 0.19e-3),
    "I": (46.0, 1.5, 1.5, 1.6, 0.27e-3),
}
PHI_BE7, PHI_BE7_REL = 4.93e9, 0.06  # cm^-2 s^-1, B16-GS98 [S]
BR_862 = 0.8956  # [S]
N_E_100T = 3.307e31  # target electrons per 100 t [S]


def _check_scheme(scheme):
    sin2w(scheme)  # raises ValueError for an unknown scheme


def _window(w, name, unit):
    try:
        lo, hi = (float(x) for x in w)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a pair (lo, hi) in {unit}, got {w!r}") from None
    if not 0 < lo < hi:
        raise ValueError(f"{name} must satisfy 0 < lo < hi, got {w!r}")
    return lo, hi


def _model_rate(grids, s2w, scenario):
    def f(obs, p):
        return rate_nue(grids, s2w, obs["G"], p["g_X"] * scenario.q_electron, p["M_Zp"])

    return f


@functools.lru_cache(maxsize=None)
def _charm2_setup(T_lo, T_hi, scheme):
    s2w = sin2w(scheme)
    me = constants().m_e
    grids = [grid(Component(1, False, 1.0, E_line=CHARM2_E_NU), me, T_lo, T_hi, n_T=48)]
    return grids, float(rate_nue(grids, s2w)), s2w


def charm2_ratio(T_window_GeV=(3.0, 24.0), sin2w_scheme="msbar0"):
    """r(G, g_e, M_Zp) = sigma/sigma_SM in the CHARM-II window (pure JAX in its arguments)."""
    grids, sm, s2w = _charm2_setup(*T_window_GeV, sin2w_scheme)

    def r(G, g_e, M_Zp):
        return rate_nue(grids, s2w, G, g_e, M_Zp) / sm

    return r


@register(
    "nu_e_charm2",
    constrains="nu_mu e elastic rate (CHARM-II), light-Z' q^2 dependence",
    reference="Vilain et al. PLB 335 (1994) 246; calibrated on arXiv:1803.05466 Fig. 13 [S]",
    data_edition="CHARM-II 1994 via Bauer-Foldenauer-Jaeckel 2018 digitisation",
    scenarios=LEPTONIC,
)
def build_charm2(scenario: Scenario, T_window_GeV=(3.0, 24.0), calibration_cl: float = 0.9, sin2w_scheme: str = "msbar0"):
    lo, hi = _window(T_window_GeV, "T_window_GeV", "GeV")
    if not 0 < calibration_cl < 1:
        raise ValueError(f"calibration_cl must be in (0, 1), got {calibration_cl}")
    _check_scheme(sin2w_scheme)
    ratio = charm2_ratio((lo, hi), sin2w_scheme)
    M_cal, g_cal = CHARM2_CALIBRATION
    bl = get_scenario("B-L")
    G_cal = jnp.eye(3) * (g_cal * bl.l[1])
    r_cal = float(ratio(G_cal, g_cal * bl.q_electron, M_cal))
    sigma_r = abs(r_cal - 1.0) / z_two_sided(calibration_cl)
    ql = scenario.q_electron

    def loglike(obs, p):
        return gaussian(ratio(obs["G"], p["g_X"] * ql, p["M_Zp"]), 1.0, sigma_r)

    loglike.sigma_r = sigma_r
    return loglike


@functools.lru_cache(maxsize=None)
def _texono_setup(T_lo, T_hi, scheme):
    s2w = sin2w(scheme)
    me = constants().m_e
    comp = Component(0, True, 1.0, pdf=reactor_pdf, E_lo=1.8e-3, E_hi=10e-3)
    grids = [grid(comp, me, T_lo, T_hi, n_E=48, n_T=24)]
    return grids, float(rate_nue(grids, s2w)), s2w


@register(
    "nu_e_texono",
    constrains="reactor nubar_e e elastic rate (TEXONO), light-Z' q^2 dependence",
    reference="Deniz et al. PRD 81 (2010) 072001, arXiv:0911.1597",
    data_edition="TEXONO 2010",
    scenarios=LEPTONIC,
)
def build_texono(scenario: Scenario, T_window_MeV=(3.0, 8.0), sin2w_scheme: str = "msbar0"):
    lo, hi = _window(T_window_MeV, "T_window_MeV", "MeV")
    _check_scheme(sin2w_scheme)
    grids, sm, s2w = _texono_setup(lo * 1e-3, hi * 1e-3, sin2w_scheme)
    rate = _model_rate(grids, s2w, scenario)
    xi, sig = TEXONO

    def loglike(obs, p):
        return gaussian(rate(obs, p) / sm, xi, sig)

    return loglike


def p_ee_msw(E_GeV: float, n_e_NA_cm3: float) -> float:
    """Adiabatic MSW P_ee with PDG mixing (:func:`globalfit.physics.scattering.p_ee_adiabatic`)."""
    return float(p_ee_adiabatic(E_GeV, n_e_NA_cm3))


@functools.lru_cache(maxsize=None)
def _borexino_setup(T_lo, p_ee, scheme):
    s2w = sin2w(scheme)
    me = constants().m_e
    comps = be7_components(p_ee, pdg_mixing()["s23"])
    full = [grid(c, me, 0.0, n_T=48) for c in comps]
    window = [grid(c, me, T_lo, n_T=48) for c in comps]
    sigma_sm = float(rate_nue(full, s2w)) * GEV2_TO_CM2
    rate_sm = PHI_BE7 * BR_862 * N_E_100T * sigma_sm * 86400.0
    return window, float(rate_nue(window, s2w)), rate_sm, s2w


def borexino_sm_rate(phase="II", p_ee=None, n_e_NA_cm3=90.0, sin2w_scheme="msbar0") -> float:
    """SM 7Be (862 keV) rate in cpd/100 t."""
    pe = p_ee if p_ee is not None else p_ee_msw(0.8613e-3, n_e_NA_cm3)
    return _borexino_setup(BOREXINO[phase][4], pe, sin2w_scheme)[2]


@register(
    "nu_e_borexino",
    constrains="solar 7Be nu-e elastic rate (Borexino), light-Z' q^2 dependence",
    reference="Borexino arXiv:1707.09279 (Phase II), arXiv:1104.1816 (Phase I); B16 SSM arXiv:1611.09867",
    data_edition="Borexino Phase II 2019 | Phase I 2011",
    scenarios=LEPTONIC,
)
def build_borexino(scenario: Scenario, phase: str = "II", p_ee: float | None = None, n_e_NA_cm3: float = 90.0,
                   sin2w_scheme: str = "msbar0"):
    if phase not in BOREXINO:
        raise ValueError(f"phase must be one of {sorted(BOREXINO)}, got {phase!r}")
    if p_ee is not None and not 0 < p_ee < 1:
        raise ValueError(f"p_ee must be in (0, 1), got {p_ee}")
    if not n_e_NA_cm3 > 0:
        raise ValueError(f"n_e_NA_cm3 must be > 0, got {n_e_NA_cm3}")
    _check_scheme(sin2w_scheme)
    pe = p_ee if p_ee is not None else p_ee_msw(0.8613e-3, n_e_NA_cm3)
    meas, stat, sp, sm_, T_lo = BOREXINO[phase]
    window, win_sm, rate_sm, s2w = _borexino_setup(T_lo, pe, sin2w_scheme)
    rate = _model_rate(window, s2w, scenario)
    th = PHI_BE7_REL * rate_sm
    s_plus, s_minus = math.sqrt(stat**2 + sp**2 + th**2), math.sqrt(stat**2 + sm_**2 + th**2)

    def predicted_rate(obs, p):
        """Model 7Be rate [cpd/100 t]: the SM rate scaled by the model/SM ratio in the recoil window."""
        return rate_sm * rate(obs, p) / win_sm

    def loglike(obs, p):
        return asymmetric_gaussian(predicted_rate(obs, p), meas, s_plus, s_minus)

    loglike.predicted_rate = predicted_rate
    loglike.rate_sm = rate_sm
    loglike.p_ee = pe
    return loglike
