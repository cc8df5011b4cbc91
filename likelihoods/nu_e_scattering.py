"""Neutrino-electron elastic scattering with a light Z': CHARM-II, TEXONO, Borexino 7Be.

Every prediction is computed from the cross section of :mod:`globalfit.physics.scattering` (docs/physics.md §7) with the
q^2-dependent eps^e_ab(q^2) = G_ab g_e / (sqrt2 G_F (q^2 + M_Zp^2)), q^2 = 2 m_e T, integrated over the source
spectrum and the recoil window on a fixed Gauss-Legendre grid; none is a digitised curve. The full G matrix
enters (universal g_X l part and the Psi part, off-diagonal entries as incoherent nu_a -> nu_b scattering).
**Applies** where the Z' couples to electrons at tree level, g_e = g_X l_e (``g_electron`` of the model): B-L and L
(it vanishes for U(1)_B and U(1)_{B-3L_tau}). sin^2 theta_W: MS-bar at q -> 0 by default (option ``sin2w_scheme``,
:func:`globalfit.physics.scattering.sin2w`).

[nu_e_charm2] CHARM-II nu_mu e (Vilain et al., PLB 335, 246 (1994)). The published g_V, g_A are **UNVERIFIED**
(not read in a primary source) and are not used. Instead a *rate-ratio* measurement r = sigma/sigma_SM with
Gaussian error sigma_r, calibrated on the sourced B-L limit that Bauer, Foldenauer & Jaeckel derived from CHARM-II
(arXiv:1803.05466 Fig. 13, DarkCast digitisation [S]): sigma_r is fixed so that B-L with
g_Psi = 0 at the calibration point (M_Zp = 1 MeV, g = 6.4e-5, the flat light-mediator plateau) gets
-2 Delta ln L = z((1 + CL)/2)^2 = 2.71 (CL = 0.9, option ``calibration_cl``; the CL of that curve is itself an
assumption). The q^2 dependence then predicts the rest of the curve (the test compares M_Zp = 100 MeV and 1 GeV with
the digitised 9.1e-5 and 6.3e-4). Beam: nu_mu line at <E> = 23.7 GeV [S]; recoil window T = 3-24 GeV is **UNVERIFIED**
(recalled; option ``T_window_GeV``); the nubar_mu run is not used. A point on the calibration curve gets 2.71.
**Blind spot** (one rate ratio, no spectrum, no nubar_mu run): eps/2 lowers |g_L| and raises g_R, and at large
couplings the quadratic term brings r back to 1. In B-L at M_Zp = 1 MeV, -2 Delta ln L is 2.71 at g = 6.4e-5, 31 at
1.5e-4, then falls to 0.18 at g = 2.27e-4 (g_L ~ -0.11, g_R ~ 0.39) and rises again (27 at 2.5e-4). There the nubar_mu
e rate would be ~2x the SM's, which the nubar_mu run excludes; TEXONO and Borexino give > 1e13 at that point, so fits
are not affected, but CHARM-II drawn alone (``globalfit constraints``) shows a thin allowed line inside its region.

[nu_e_texono] TEXONO reactor nubar_e e (Deniz et al., PRD 81, 072001 (2010), arXiv:0911.1597 [P]):
xi = R_exp/R_SM = 1.08 +- 0.21(stat) +- 0.16(sys), errors added in quadrature (sigma = 0.264), Gaussian in the predicted
ratio R_model/R_SM over the reactor spectrum (Mueller 2011 shape). Recoil window 3-8 MeV **UNVERIFIED** (option
``T_window_MeV``). At xi = 1.08 +- 0.264, -2 Delta ln L = 1; the SM point gets (0.08/0.264)^2 = 0.092.

[nu_e_borexino] Borexino 7Be (862 keV) interaction rate. Phase II (default): 48.3 +- 1.1(stat) +0.4 -0.7(syst)
cpd/100 t (Agostini et al., PRD 100, 082004 (2019), arXiv:1707.09279 [P]); Phase I: 46.0 +- 1.5 +1.5 -1.6 (Bellini et al.,
PRL 107, 141302 (2011), arXiv:1104.1816 [P]). Prediction: R = Phi(7Be) Br(862) N_e <sigma>_SM x r, with Phi = 4.93e9 cm^-2 s^-1
+- 6 % (B16-GS98, Vinyoles et al. arXiv:1611.09867 [S]), Br = 0.8956 and N_e = 3.307e31 per 100 t [S, Newtrinos];
<sigma>_SM over all recoil energies for the mass eigenstates nu_1, nu_2, nu_3 that arrive (probabilities giving P_ee,
:func:`globalfit.physics.scattering.solar_mass_fractions_from_p_ee`; each a coherent flavour state, so that
flavour-changing NSI interfere within it), and r = model/SM rate over the fit window T > 0.19 MeV (Phase II; 0.27 MeV Phase I) [P], where the spectral fit
has its sensitivity. P_ee is the adiabatic MSW value c13^4 (1/2 + 1/2 cos 2theta_12^m cos 2theta_12) + s13^4 with PDG mixing
angles and Delta m^2_21 (pdg database), at the 7Be production density n_e = 90 N_A cm^-3 (approximate solar-core value,
**UNVERIFIED**; option ``n_e_NA_cm3``, or ``p_ee`` to override). The model's own NSI in the Sun (electron NSI of B-L
and L, neutron NSI of B-L) would change P_ee too; that is left out (at 862 keV the conversion is mostly vacuum-like, so
the detection cross section, which is modelled, dominates for |eps| <~ 0.1; not quantified). Likelihood: Barlow's asymmetric Gaussian with
stat, syst and the 6 % flux error (at the SM prediction) in quadrature. A predicted rate one (combined) sigma from the
measured value gets -2 Delta ln L = 1.
The measured rate is that of the 862 keV line: Phase I's abstract calls it the "interaction rate from 862 keV 7Be
solar neutrinos" and converts it into a nu_e-equivalent flux of the whole 7Be source, (3.10 +- 0.15)e9 cm^-2 s^-1,
with a survival probability 0.51 +- 0.07 at 862 keV [P]; this module's prediction reproduces both (2.97e9 and 0.50 at
tree level; tests/test_lik_nu_e.py), which also fixes the reading Phi(7Be) Br(862) above.
"""

from __future__ import annotations

import functools
import math
from typing import ClassVar, Literal

import jax
import jax.numpy as jnp
from pydantic import field_validator

from globalfit.physics.constants import constants
from globalfit.physics.scattering import (
    GEV2_TO_CM2,
    Component,
    be7_components,
    grid,
    p_ee_adiabatic,
    reactor_pdf,
    sin2w,
    solar_mass_fractions_from_p_ee,
)
from globalfit.physics.scenarios import get_scenario

from . import register
from .base import CountRate, Fraction, PositiveNumber, RateOptions, RateTarget, Window
from .stats import asymmetric_gaussian, delta_chi2, gaussian

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
BE7_LINE_GEV = 0.8613e-3


@functools.lru_cache(maxsize=None)
def _target(source: str, T_lo: float, T_hi: float, scheme: str, p_ee: float | None = None) -> tuple[RateTarget, ...]:
    """Rate target on electrons: "charm2" (nu_mu line), "reactor" (nubar_e, Mueller shape) or "be7" (oscillated
    862 keV line, P_ee given), recoil window [T_lo, T_hi] (GeV)."""
    me = constants().m_e
    if source == "charm2":
        grids = (grid(Component(1, False, 1.0, E_line=CHARM2_E_NU), me, T_lo, T_hi, n_T=48),)
    elif source == "reactor":
        comp = Component(0, True, 1.0, pdf=reactor_pdf, E_lo=1.8e-3, E_hi=10e-3)
        grids = (grid(comp, me, T_lo, T_hi, n_E=48, n_T=24),)
    else:
        grids = tuple(grid(c, me, T_lo, T_hi, n_T=48) for c in be7_components(p_ee))
    return (RateTarget(grids, sin2w(scheme)),)


class NuE(CountRate):
    """nu-e elastic scattering: the Z' couples to electrons (g_electron)."""

    needs: ClassVar[tuple[str, ...]] = ("electrons",)
    requires: ClassVar[tuple[str, ...]] = ("G", "g_electron", "M_Zp")
    coupling: ClassVar[str] = "g_electron"


@register
class Charm2(NuE):
    name = "nu_e_charm2"
    label = r"CHARM-II $\nu_\mu e$"
    constrains = "nu_mu e elastic rate (CHARM-II), light-Z' q^2 dependence"
    reference = "Vilain et al. PLB 335 (1994) 246; calibrated on arXiv:1803.05466 Fig. 13 [S]"
    data_edition = "CHARM-II 1994 via Bauer-Foldenauer-Jaeckel 2018 digitisation"

    class Options(RateOptions):
        T_window_GeV: Window = (3.0, 24.0)
        """Electron recoil window (GeV); UNVERIFIED (module doc)."""
        calibration_cl: Fraction = 0.9
        """CL assumed for the digitised calibration curve."""

    def setup(self):
        self.single(_target("charm2", *self.options.T_window_GeV, self.options.sin2w_scheme))
        M_cal, g_cal = CHARM2_CALIBRATION
        bl = get_scenario("B-L")
        (t,) = self.channels[self.name]
        # one compiled program, not ~30 operations compiled one by one (0.7 s of building a B-L or L config)
        r_cal = float(jax.jit(t.rate)(jnp.eye(3) * (g_cal * bl.l[1]), g_cal * bl.q_electron, M_cal)) / t.sm
        self.sigma_r = abs(r_cal - 1.0) / delta_chi2(self.options.calibration_cl) ** 0.5

    def loglike_ratio(self, r, channel):
        return gaussian(r, 1.0, self.sigma_r)


@register
class Texono(NuE):
    name = "nu_e_texono"
    label = r"TEXONO $\bar\nu_e e$"
    constrains = "reactor nubar_e e elastic rate (TEXONO), light-Z' q^2 dependence"
    reference = "Deniz et al. PRD 81 (2010) 072001, arXiv:0911.1597"
    data_edition = "TEXONO 2010"

    class Options(RateOptions):
        T_window_MeV: Window = (3.0, 8.0)
        """Electron recoil window (MeV); UNVERIFIED (module doc)."""

    def setup(self):
        lo, hi = self.options.T_window_MeV
        self.single(_target("reactor", lo * 1e-3, hi * 1e-3, self.options.sin2w_scheme))

    def loglike_ratio(self, r, channel):
        xi, sig = TEXONO
        return gaussian(r, xi, sig)


def p_ee_msw(E_GeV: float, n_e_NA_cm3: float) -> float:
    """Adiabatic MSW P_ee with PDG mixing (:func:`globalfit.physics.scattering.p_ee_adiabatic`)."""
    return float(p_ee_adiabatic(E_GeV, n_e_NA_cm3))


def borexino_sm_rate(phase: str = "II", p_ee: float | None = None, n_e_NA_cm3: float = 90.0, sin2w_scheme: str = "msbar0") -> float:
    """SM 7Be (862 keV) rate in cpd/100 t: Phi(7Be) Br(862) N_e <sigma>_SM over all recoil energies."""
    pe = p_ee if p_ee is not None else p_ee_msw(BE7_LINE_GEV, n_e_NA_cm3)
    (full,) = _target("be7", 0.0, math.inf, sin2w_scheme, pe)
    return PHI_BE7 * BR_862 * N_E_100T * full.sm * GEV2_TO_CM2 * 86400.0


@register
class Borexino(NuE):
    name = "nu_e_borexino"
    label = r"Borexino $\nu e$"
    constrains = "solar 7Be nu-e elastic rate (Borexino), light-Z' q^2 dependence"
    reference = "Borexino arXiv:1707.09279 (Phase II), arXiv:1104.1816 (Phase I); B16 SSM arXiv:1611.09867"
    data_edition = "Borexino Phase II 2019 | Phase I 2011"

    class Options(RateOptions):
        phase: Literal["II", "I"] = "II"
        """Borexino data set: Phase II (2019) or Phase I (2011)."""
        p_ee: Fraction | None = None
        """nu_e survival probability at 862 keV; None: adiabatic MSW at n_e_NA_cm3."""

        @field_validator("p_ee")
        @classmethod
        def _adiabatic(cls, v):
            if v is not None:
                solar_mass_fractions_from_p_ee(v)  # ValueError: outside what an adiabatic solar nu_e can have
            return v
        n_e_NA_cm3: PositiveNumber = 90.0
        """Electron density at 7Be production (N_A cm^-3), approximate (module doc)."""

    def setup(self):
        o = self.options
        self.p_ee = o.p_ee if o.p_ee is not None else p_ee_msw(BE7_LINE_GEV, o.n_e_NA_cm3)
        meas, stat, sp, sm_, T_lo = BOREXINO[o.phase]
        self.single(_target("be7", T_lo, math.inf, o.sin2w_scheme, self.p_ee))
        self.rate_sm_cpd = borexino_sm_rate(o.phase, self.p_ee, o.n_e_NA_cm3, o.sin2w_scheme)
        th = PHI_BE7_REL * self.rate_sm_cpd
        self.measured = meas
        self.s_plus, self.s_minus = math.sqrt(stat**2 + sp**2 + th**2), math.sqrt(stat**2 + sm_**2 + th**2)

    def predicted_rate(self, obs):
        """Model 7Be rate [cpd/100 t]: the SM rate scaled by the model/SM ratio in the recoil window."""
        return self.rate_sm_cpd * self.ratio(obs)

    def loglike_ratio(self, r, channel):
        return asymmetric_gaussian(self.rate_sm_cpd * r, self.measured, self.s_plus, self.s_minus)
