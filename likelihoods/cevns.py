"""Coherent elastic neutrino-nucleus scattering (CEvNS) with a light Z': COHERENT CsI and LAr, solar 8B in XENONnT
and PandaX-4T.

**Prediction.** Every rate is computed from the CEvNS cross section of :mod:`globalfit.physics.scattering` (docs/physics.md §7,
Helm form factor) with the q^2-dependent eps^q_ab(q^2) = G_ab g_q / (sqrt2 G_F (q^2 + M_Zp^2)), q^2 = 2 m_N T,
g_u = g_d = g_X b/3 (``g_quark`` of the model), folded with the source spectrum over the detector's recoil window. Each experiment is a
**single bin**: the likelihood uses the ratio r = R_model/R_SM of flux-averaged rates above the recoil threshold (spectral
shape information is not used), times the experiment's own SM normalisation. For a light Z' the threshold fixes the
typical q^2 (tens of MeV squared), so LMA-Dark-size eps(q^2 = 0) is suppressed by M_Zp^2/(q^2 + M_Zp^2) when M_Zp is small.
The threshold is a sharp cut (kinematics are constants of the build, so the log L stays smooth in the parameters);
real efficiencies rise more slowly: an approximation that shifts the effective q^2. sin^2 theta_W: MS-bar at q -> 0
by default (option ``sin2w_scheme``). **Applies** where the Z' couples to quarks (B, B-L, B-3Ltau).

[cevns_coherent_csi] COHERENT CsI[Na] full data set (Akimov et al., PRL 129, 081801 (2022), arXiv:2110.07730):
306 +- 20 CEvNS events observed, SM 341 +- 11 +- 42 [S]. Prediction N = 341 r; Gaussian with variance
20^2 + ((11^2 + 42^2)/341^2) N^2 (the SM uncertainties scale with the prediction). SNS pi-DAR flux (prompt nu_mu,
delayed nu_e and nubar_mu); Cs and I targets in equal numbers. Recoil window from the 5-60 PE analysis range with light
yield 13.35 PE/keVee and the quenching polynomial E_ee = 0.0554628 x + 4.30681 x^2 - 111.707 x^3 + 840.384 x^4
(x = E_nr, MeV) [S, Newtrinos coherent_csi.jl] (option ``pe_window``). The SM point gets
-2 Delta ln L = 35^2/2283 = 0.54; a prediction at 306 gets 0.

[cevns_coherent_lar] COHERENT CENNS-10 LAr (Akimov et al., PRL 126, 012002 (2021), arXiv:2003.10630): 159 +- 43 fitted
vs SM 128 +- 17 [S, official data release]. Same construction (N = 128 r, variance 43^2 + (17/128)^2 N^2). Threshold
20 keVnr is an **approximation** (Analysis A's efficiency turns on around there; option ``threshold_keVnr``).

[cevns_xenonnt_8b] XENONnT solar 8B (Aprile et al., PRL 133, 191002 (2024), arXiv:2408.02877 [P]): n = 37 observed,
background 26.4 +1.4 -1.3 (symmetrised to 1.35); the measured flux Phi = 4.7e6 cm^-2 s^-1 [P] calibrates the detector:
SM signal s_SM = (37 - 26.4) x Phi_SNO / 4.7e6 (a conversion: the best-fit signal approximated by n - b), with Phi_SNO =
5.25 +- 0.16 +0.11 -0.13 e6 (SNO NC, arXiv:1109.0763 [P]; relative error 3.8 %, symmetrised). Count likelihood
(:func:`likelihoods.stats.poisson_gaussian` form) (n - mu)^2/(mu + sigma_b^2 + (0.038 s)^2), mu = b + s_SM r.
Threshold 0.5 keV [P] read as nuclear-recoil energy (option ``threshold_keVnr``; the efficiency turn-on is not modelled).

[cevns_pandax_8b] PandaX-4T solar 8B (Bo et al., PRL 133, 191001 (2024), arXiv:2407.10892 [P]): paired (threshold
1.1 keVnr) 3 observed vs background 2.8 +- 0.5, best-fit signal 3.5; US2 (0.33 keVnr) 332 vs 251 +- 32, best-fit signal 75;
best-fit flux 8.4e6 [P]. s_SM per channel = best-fit signal x Phi_SNO/8.4e6 (conversion), same count likelihood per channel,
channels added (independent data; the common flux nuisance is treated per channel, an approximation).

The 8B flavour mixture at Earth uses the adiabatic-MSW P_ee(E) (:func:`globalfit.physics.scattering.p_ee_adiabatic`, PDG mixing,
8B production density 100 N_A cm^-3: approximate solar-core value, **UNVERIFIED**), split nu_mu : nu_tau = c23^2 : s23^2;
the 8B spectrum is the analytic approximation of :mod:`globalfit.physics.scattering`.

[cevns_cdmslite] is **not provided**: no CDMSlite number could be sourced (UNVERIFIED).

For every Gaussian-type term a prediction one combined sigma from the observed value gets -2 Delta ln L = 1.
"""

from __future__ import annotations

import functools
import math
from typing import ClassVar, Literal

import jax.numpy as jnp
import numpy as np
from pydantic import field_validator
from scipy.optimize import brentq

from globalfit.physics.scattering import (
    B8_Q_GEV,
    NUCLEI,
    Component,
    b8_pdf,
    grid,
    p_ee_adiabatic,
    pdg_mixing,
    sin2w,
    sns_components,
)

from . import register
from .base import CountRate, RateOptions, RateTarget, Window
from .stats import poisson_gaussian

CSI = {"observed": (306.0, 20.0), "sm": (341.0, math.hypot(11.0, 42.0))}  # [S] arXiv:2110.07730
CSI_LIGHT_YIELD = 13.35  # PE/keVee [S]
CSI_QF = (0.0554628, 4.30681, -111.707, 840.384)  # E_ee(MeV) polynomial in E_nr (MeV), x^1..x^4 [S]
LAR = {"observed": (159.0, 43.0), "sm": (128.0, 17.0)}  # [S] arXiv:2003.10630 data release
PHI_SNO, PHI_SNO_REL = 5.25e6, math.hypot(0.16, 0.12) / 5.25  # [P] arXiv:1109.0763
XENONNT = {"n": 37.0, "b": 26.4, "sigma_b": 1.35, "phi_fit": 4.7e6}  # [P] arXiv:2408.02877
PANDAX = {  # [P] arXiv:2407.10892
    "paired": {"n": 3.0, "b": 2.8, "sigma_b": 0.5, "s_fit": 3.5, "threshold_keVnr": 1.1},
    "US2": {"n": 332.0, "b": 251.0, "sigma_b": 32.0, "s_fit": 75.0, "threshold_keVnr": 0.33},
}
PANDAX_PHI_FIT = 8.4e6
N_E_B8_PRODUCTION = 100.0  # N_A cm^-3, approximate (module doc)


def csi_recoil_window(pe_window=(5.0, 60.0)) -> tuple[float, float]:
    """Nuclear-recoil window [GeV] of a CsI PE window (light yield and quenching polynomial above)."""

    def pe(x_MeV):
        e_ee = sum(c * x_MeV ** (k + 1) for k, c in enumerate(CSI_QF))
        return e_ee * 1e3 * CSI_LIGHT_YIELD

    return tuple(brentq(lambda x: pe(x) - n, 1e-5, 0.05) * 1e-3 for n in pe_window)


@functools.lru_cache(maxsize=None)
def _targets(source: str, nuclei: tuple[str, ...], T_lo: float, T_hi: float, scheme: str) -> tuple[RateTarget, ...]:
    """Rate targets of a source ("sns" or "b8") on nuclei over the recoil window [T_lo, T_hi] (GeV)."""
    comps, n_E = (sns_components(), 40) if source == "sns" else (_b8_components(), 48)
    out = []
    for name in nuclei:
        nuc = NUCLEI[name]
        grids = tuple(grid(c, nuc.mass, T_lo, T_hi, n_E=n_E, n_T=24, A_form_factor=nuc.A) for c in comps)
        out.append(RateTarget(grids, sin2w(scheme), nuc))
    return tuple(out)


def _b8_components():
    """8B flux at Earth split by flavour, weights = flux fractions (module doc)."""
    s23 = pdg_mixing()["s23"]
    xs, ws = np.polynomial.legendre.leggauss(200)
    E = 0.5 * B8_Q_GEV * (xs + 1)
    f = b8_pdf(E)
    norm = np.sum(ws * f)
    comps = []
    for a, prob in enumerate((lambda E: p_ee_adiabatic(E, N_E_B8_PRODUCTION),
                              lambda E: (1 - p_ee_adiabatic(E, N_E_B8_PRODUCTION)) * (1 - s23),
                              lambda E: (1 - p_ee_adiabatic(E, N_E_B8_PRODUCTION)) * s23)):
        weight = float(np.sum(ws * f * prob(E)) / norm)
        comps.append(Component(a, False, weight, pdf=(lambda E, prob=prob: b8_pdf(E) * prob(E)), E_lo=0.0, E_hi=B8_Q_GEV))
    return tuple(comps)


def gauss_count(N, observed: tuple[float, float], sm: tuple[float, float]):
    """-0.5 (n_obs - N)^2 / (sigma_obs^2 + (sigma_SM/N_SM)^2 N^2): the SM uncertainties scale with the prediction."""
    n, s_obs = observed
    n_sm, s_sm = sm
    var = s_obs**2 + (s_sm / n_sm * N) ** 2
    return -0.5 * (n - N) ** 2 / var


def solar_count(n: float, b: float, sigma_b: float, s):
    """(n - mu)^2 / (mu + sigma_b^2 + (rel_Phi s)^2), mu = b + s, in the poisson_gaussian form."""
    mu = b + s
    rel = jnp.sqrt(sigma_b**2 + (PHI_SNO_REL * s) ** 2) / jnp.maximum(mu, 1e-12)
    return poisson_gaussian(n, mu, rel)


class Cevns(CountRate):
    """CEvNS on nuclei: the Z' couples to u and d alike (g_quark)."""

    needs: ClassVar[tuple[str, ...]] = ("quarks",)
    requires: ClassVar[tuple[str, ...]] = ("G", "g_quark", "M_Zp")
    coupling: ClassVar[str] = "g_quark"


class _Coherent(Cevns):
    """A COHERENT count at the SNS: N = N_SM r against the observed count (:func:`gauss_count`)."""

    record: ClassVar[dict]

    def loglike_ratio(self, r, channel):
        return gauss_count(self.record["sm"][0] * r, self.record["observed"], self.record["sm"])


@register
class CoherentCsI(_Coherent):
    name = "cevns_coherent_csi"
    constrains = "CEvNS rate on CsI at the SNS (COHERENT 2021), light-Z' q^2 dependence"
    reference = "COHERENT, PRL 129 (2022) 081801, arXiv:2110.07730"
    data_edition = "COHERENT CsI full data set (2021)"
    record = CSI

    class Options(RateOptions):
        pe_window: Window = (5.0, 60.0)
        """Analysis window in photoelectrons (1 <= lo < hi <= 200)."""

        @field_validator("pe_window")
        @classmethod
        def _in_range(cls, w):
            if not (1.0 <= w[0] and w[1] <= 200.0):
                raise ValueError(f"expected 1 <= lo < hi <= 200 photoelectrons, got {tuple(w)}")
            return w

    def setup(self):
        self.recoil_window = csi_recoil_window(self.options.pe_window)
        self.single(_targets("sns", ("Cs", "I"), *self.recoil_window, self.options.sin2w_scheme))


@register
class CoherentLAr(_Coherent):
    name = "cevns_coherent_lar"
    constrains = "CEvNS rate on argon at the SNS (COHERENT CENNS-10), light-Z' q^2 dependence"
    reference = "COHERENT, PRL 126 (2021) 012002, arXiv:2003.10630"
    data_edition = "COHERENT LAr 2020 (Analysis A)"
    record = LAR

    class Options(RateOptions):
        threshold_keVnr: float = 20.0
        """Effective nuclear-recoil threshold (keV), in (0, 100)."""

        @field_validator("threshold_keVnr")
        @classmethod
        def _in_range(cls, v):
            if not 0 < v < 100:
                raise ValueError(f"expected a threshold in (0, 100) keVnr, got {v}")
            return v

    def setup(self):
        self.single(_targets("sns", ("Ar",), self.options.threshold_keVnr * 1e-6, np.inf, self.options.sin2w_scheme))


@register
class XenonNT8B(Cevns):
    name = "cevns_xenonnt_8b"
    constrains = "solar 8B CEvNS on xenon (XENONnT), light-Z' q^2 dependence"
    reference = "XENONnT, PRL 133 (2024) 191002, arXiv:2408.02877; SNO arXiv:1109.0763"
    data_edition = "XENONnT 2024 (3.51 t yr)"

    class Options(RateOptions):
        threshold_keVnr: float = 0.5
        """Nuclear-recoil threshold (keV), in (0, 5)."""

        @field_validator("threshold_keVnr")
        @classmethod
        def _in_range(cls, v):
            if not 0 < v < 5:
                raise ValueError(f"expected a threshold in (0, 5) keVnr, got {v}")
            return v

    def setup(self):
        self.single(_targets("b8", ("Xe",), self.options.threshold_keVnr * 1e-6, np.inf, self.options.sin2w_scheme))
        d = XENONNT
        self.s_sm = (d["n"] - d["b"]) * PHI_SNO / d["phi_fit"]

    def loglike_ratio(self, r, channel):
        d = XENONNT
        return solar_count(d["n"], d["b"], d["sigma_b"], self.s_sm * r)


@register
class PandaX8B(Cevns):
    name = "cevns_pandax_8b"
    constrains = "solar 8B CEvNS on xenon (PandaX-4T paired + US2), light-Z' q^2 dependence"
    reference = "PandaX-4T, PRL 133 (2024) 191001, arXiv:2407.10892; SNO arXiv:1109.0763"
    data_edition = "PandaX-4T 2024"

    class Options(RateOptions):
        channels: tuple[Literal["paired", "US2"], ...] = ("paired", "US2")
        """Analysis channels used (a non-empty subset of paired and US2)."""

        @field_validator("channels")
        @classmethod
        def _subset(cls, v):
            if not v or len(set(v)) != len(v):
                raise ValueError(f"expected a non-empty list of distinct channels from {sorted(PANDAX)}, got {list(v)}")
            return v

    def setup(self):
        self.channels = {
            c: _targets("b8", ("Xe",), PANDAX[c]["threshold_keVnr"] * 1e-6, np.inf, self.options.sin2w_scheme)
            for c in self.options.channels
        }
        self.s_sm = {c: PANDAX[c]["s_fit"] * PHI_SNO / PANDAX_PHI_FIT for c in self.options.channels}

    def loglike_ratio(self, r, channel):
        d = PANDAX[channel]
        return solar_count(d["n"], d["b"], d["sigma_b"], self.s_sm[channel] * r)
