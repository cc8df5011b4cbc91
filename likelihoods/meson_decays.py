"""Charged-meson decays M+ -> l+ nu Z' (Z' -> invisible): K+ -> mu+ nu Z', pi+ -> e+ nu Z' (docs/physics.md §9).

**Coupling.** In the mass basis the light neutrinos couple to the Z' with g_l delta_ab + (g_Psi - g_l) kappa*_a kappa_b
(Eq. 10 of arXiv:1607.07616 with the exact mass-basis coefficient of the Psi part, review L4; g_l = g_X l of the
flavours Psi mixes with). The part g_l delta_ab is carried by the whole lepton doublet (nu_L and l, vector-like on
l), so its current is conserved up to m_l and the longitudinal Z' decouples. The part (g_Psi - g_l) kappa*_a kappa_b
couples to neutrinos only: it violates the current at the W vertex (its divergence is proportional to the H' charge
g_Psi - g_l, whose vev breaks U(1)'; derived here from L H' Psi_R), and the emission of a longitudinal Z' is enhanced by (m_M/M_Zp)^2 (Bakhti &
Farzan arXiv:1702.04187; Laha, Dasgupta, Beacom arXiv:1304.3460). **Final flavours are summed** (review M4): the W
makes nu_a, which emits the Z' and leaves as any nu_b, so the rate is proportional to
    g^2 = sum_b |(g_Psi - g_l) kappa*_a kappa_b|^2 = (g_Psi - g_l)^2 |kappa_a|^2 sum_b |kappa_b|^2,
not to the diagonal (g_Psi |kappa_a|^2)^2 alone (from the model's ``kappa``, ``g_Psi``, ``g_l``; gradient-safe at
kappa = 0; even in g_Psi - g_l, so either sign of g_Psi).

**Where it holds: M_Psi >> m_M.** The rate is the effective theory of a Psi much heavier than the meson. For
M_Psi < m_M - m_l the process is M -> l Psi on shell (``psi_peak_searches``); just above, the off-shell Psi propagator
1/(M_Psi^2 - q^2) exceeds its effective 1/M_Psi^2, so the effective rate underestimates the decay there: inserting
(M_Psi^2/(M_Psi^2 - m_23^2))^2 into the Dalitz integral (derived here for the 2026-12-05 review, not in the code) gives
exact/effective = 1.65 (K -> mu) and 2.12 (pi -> e) at M_Psi = 1.22 m_M, where the gate is fully on, 1.36 / 1.55 at
1.5 m_M, 1.18 / 1.25 at 2 m_M and 1.07 / 1.10 at 3 m_M (M_Zp = 10 MeV): the limits used are weaker than they could be
there (permissive). Each channel's term
is multiplied by the gate h(M_Psi) of :mod:`likelihoods._psi` with the channel's meson mass (PDG, K+ or pi+) as
threshold: 0 for M_Psi <= m_M, 1 for M_Psi >= m_M e^w (w = ``psi_switch_width``, default 0.2), smootherstep in
ln M_Psi between; between m_M e^w and a few m_M the effective rate has O(m_M^2/M_Psi^2) corrections (not modelled).
``heavy_psi_only: false`` applies it at every M_Psi (the paper2016 configs).

**Rate (derived here, longitudinal-enhanced approximation).** M -> l nu has amplitude C u(p_nu) Pslash (1-g5) v(p_l),
Sum|M_2|^2 = 4 C^2 m_l^2 (m_M^2 - m_l^2), Gamma_2 = C^2 m_l^2 (m_M^2 - m_l^2)^2 / (4 pi m_M^3). Emitting Z' off the
neutrino line and keeping the k^mu k^nu / M_Zp^2 part of the polarisation sum (the longitudinal mode), the Ward
identity u(p) kslash (pslash + kslash)/(p + k)^2 = u(p) turns the amplitude into (g / M_Zp) C u(p) Pslash (1-g5) v with
P = p_l + p + k, no longer helicity suppressed:
    Sum|M_3|^2 = (g^2 / M_Zp^2) 8 C^2 [2 (p.P)(l.P) - m_M^2 (p.l)],
    p.P = (m_12^2 + m_23^2 - m_l^2 - M_Zp^2)/2,  l.P = (m_M^2 + m_l^2 - m_23^2)/2,  p.l = (m_12^2 - m_l^2)/2
(Dalitz variables m_12 = m(l nu), m_23 = m(nu Z')), and Gamma_3 = 1/((2 pi)^3 32 m_M^3) Int Sum|M_3|^2 dm_12^2 dm_23^2, so
    R = Gamma_3 / Gamma_2 = g^2 Int T dm_12^2 dm_23^2 / (8 pi^2 M_Zp^2 m_l^2 (m_M^2 - m_l^2)^2),   T = [...] above.
For m_l, M_Zp -> 0 the bracket is m_13^2 m_23^2 / 2, Int = m_M^8/48 and R = g^2 m_M^4 / (384 pi^2 m_l^2 M_Zp^2)
(the tests check this closed form against the numerical integral, the integral against a Monte-Carlo estimate, and
the squared amplitude, Ward step included, against an explicit Dirac-matrix evaluation). The module tabulates the
exact-kinematics suppression S(M_Zp) = R / [g^2 m_M^4/(384 pi^2 m_l^2 M_Zp^2)] (two-dimensional Gauss-Legendre
integral over the Dalitz region, 200 masses log-spaced from 1e-5 GeV to the endpoint m_M - m_l, where S -> 0) at
build time, and interpolates it linearly in ln M_Zp; S = 0 beyond the endpoint. Neglected: the -g_{mu nu} part of
the polarisation sum (transverse modes, relative size O(M_Zp^2/m_M^2)), emission through the g_X l_a coupling, and
radiative corrections. **Derived here, not read in a paper** (no rate formula was read in arXiv:1702.04187).

**Prediction:** Br(M -> l nu Z', Z' -> inv) = R Br(M -> l nu) Br(Z' -> invisible), with Br(M -> l nu) from PDG 2026
(S010.1 K+ -> mu+ nu, S008.2 pi+ -> e+ nu; S010.11, S008.1 for the optional channels), read at build time (the
ratio form needs no lifetimes, decay constants or CKM elements: they cancel in Gamma_3/Gamma_2). **Data:** PDG 2026
90 % CL limits, S010.27 Br(K+ -> mu+ nu nu nubar) < 1.0e-6 and S008.10 Br(pi+ -> e+ nu nu nubar) < 1.6e-7; optional
channels (option ``channels``) "K_e" (S010.33, K+ -> e+ nu nu nubar) and "pi_mu" (S008.11, pi+ -> mu+ nu nu nubar).
Approximation: those searches assumed three-neutrino (SM-like or phase-space) spectra, not the l+ spectrum of M ->
l nu Z'; their efficiency is taken as equal. Overrides ``limit_K_mu``, ``limit_pi_e`` (90 % CL).

**Likelihood:** h_M(M_Psi) times :func:`likelihoods.stats.upper_limit` per channel, summed. **A point at a quoted
limit (M_Psi >= m_M e^w) gets -2 Delta ln L = 2.71.**
"""

from __future__ import annotations

import functools
import math
from typing import ClassVar, Literal

import jax.numpy as jnp
import numpy as np
from pydantic import field_validator

from globalfit.physics.constants import constants, pdg_value
from globalfit.physics.interp import interp_uniform
from globalfit.physics.numerics import abs2, gauss_legendre

from . import register
from ._pdg import limit_from_options
from ._psi import PsiGateOptions, heavy_psi_gate
from .base import PositiveNumber, UpperLimits
from .stats import upper_limit

# channel: (meson mass attr, lepton mass attr, flavour index, PDG id of Br(M -> l nu), PDG id of the limit)
CHANNELS = {
    "K_mu": ("m_K", "m_mu", 1, "S010.1", "S010.27"),
    "pi_e": ("m_pi", "m_e", 0, "S008.2", "S008.10"),
    "K_e": ("m_K", "m_e", 0, "S010.11", "S010.33"),
    "pi_mu": ("m_pi", "m_mu", 1, "S008.1", "S008.11"),
}
DEFAULT_CHANNELS = ("K_mu", "pi_e")
N_GRID = 200
M_MIN = 1e-5  # GeV, below the prior box (1e-4): S is constant there


def ratio_integral(m_M: float, m_l: float, m_Z: float, n: int = 64) -> float:
    """Int T dm_12^2 dm_23^2 over the Dalitz region (Gauss-Legendre in m_12^2 and in m_23^2 at fixed m_12^2)."""
    x, w = gauss_legendre(n)
    lo12, hi12 = m_l**2, (m_M - m_Z) ** 2
    s12 = 0.5 * (hi12 - lo12) * (x + 1) + lo12
    w12 = 0.5 * (hi12 - lo12) * w
    m12 = np.sqrt(s12)
    E2 = (s12 - m_l**2) / (2 * m12)  # neutrino energy in the (l nu) rest frame
    E3 = (m_M**2 - s12 - m_Z**2) / (2 * m12)  # Z' energy in that frame
    p3 = np.sqrt(np.maximum(E3**2 - m_Z**2, 0.0))
    lo23 = (E2 + E3) ** 2 - (E2 + p3) ** 2
    hi23 = (E2 + E3) ** 2 - (E2 - p3) ** 2
    s23 = 0.5 * (hi23 - lo23)[:, None] * (x[None, :] + 1) + lo23[:, None]
    w23 = 0.5 * (hi23 - lo23)[:, None] * w[None, :]
    s12b = s12[:, None]
    pP = 0.5 * (s12b + s23 - m_l**2 - m_Z**2)
    lP = 0.5 * (m_M**2 + m_l**2 - s23)
    pl = 0.5 * (s12b - m_l**2)
    T = 2 * pP * lP - m_M**2 * pl
    return float(np.sum(w12[:, None] * w23 * T))


def ratio_exact(g: float, m_M: float, m_l: float, m_Z: float) -> float:
    """Gamma(M -> l nu Z') / Gamma(M -> l nu), longitudinal mode, exact kinematics (module doc)."""
    if m_Z >= m_M - m_l:
        return 0.0
    return g**2 * ratio_integral(m_M, m_l, m_Z) / (8 * math.pi**2 * m_Z**2 * m_l**2 * (m_M**2 - m_l**2) ** 2)


def ratio_light(g, m_M: float, m_l: float, m_Z):
    """Closed form for m_l, M_Zp << m_M: g^2 m_M^4 / (384 pi^2 m_l^2 M_Zp^2)."""
    return g**2 * m_M**4 / (384 * math.pi**2 * m_l**2 * m_Z**2)


@functools.lru_cache(maxsize=None)
def suppression_table(m_M: float, m_l: float) -> tuple[np.ndarray, np.ndarray]:
    """(ln M_Zp grid, S = ratio_exact / ratio_light), S = 0 at the endpoint m_M - m_l."""
    m_end = m_M - m_l
    lnm = np.linspace(math.log(M_MIN), math.log(m_end), N_GRID)
    S = np.array([ratio_exact(1.0, m_M, m_l, math.exp(v)) / ratio_light(1.0, m_M, m_l, math.exp(v)) for v in lnm[:-1]] + [0.0])
    return lnm, S


@register
class MesonDecays(UpperLimits):
    name = "meson_decays"
    label = r"$\pi, K \to \ell \nu Z'$"
    constrains = ("Br(K+ -> mu+ nu Z') and Br(pi+ -> e+ nu Z') with Z' invisible, via (g_Psi - g_l)^2 |kappa_a|^2 sum_b "
                  "|kappa_b|^2; M_Psi above the meson only")
    reference = "rate derived here (longitudinal Z', cf. arXiv:1702.04187, arXiv:1304.3460); PDG 2026 S010.27, S008.10"
    data_edition = "PDG 2026"
    requires: ClassVar[tuple[str, ...]] = ("kappa", "g_Psi", "g_l", "M_Zp", "M_Psi", "br_Zp_invisible")

    class Options(PsiGateOptions):
        channels: tuple[Literal["K_mu", "pi_e", "K_e", "pi_mu"], ...] = DEFAULT_CHANNELS
        """Decay channels used (module doc)."""
        limit_K_mu: PositiveNumber | None = None
        limit_pi_e: PositiveNumber | None = None

        @field_validator("channels")
        @classmethod
        def _nonempty(cls, v):
            if not v:
                raise ValueError(f"expected a non-empty list of channels from {list(CHANNELS)}")
            return tuple(dict.fromkeys(v))

    def setup(self):
        c = constants()
        self.limits, self.tables, self.thresholds = {}, {}, {}
        for ch in self.options.channels:
            mM_attr, ml_attr, flav, br_id, lim_id = CHANNELS[ch]
            m_M, m_l = getattr(c, mM_attr), getattr(c, ml_attr)
            lnm, S = suppression_table(m_M, m_l)
            self.limits[ch] = limit_from_options(lim_id, getattr(self.options, f"limit_{ch}", None), None)
            pref = m_M**4 / (384 * math.pi**2 * m_l**2) * pdg_value(br_id)  # times g^2 S / M_Zp^2
            self.tables[ch] = (flav, lnm, S, pref)
            self.thresholds[ch] = m_M

    def predictions(self, obs):
        k2 = abs2(obs["kappa"])
        g2_psi = (obs["g_Psi"] - obs["g_l"]) ** 2
        k2_sum = jnp.sum(k2)
        M = obs["M_Zp"]
        lnM = jnp.log(M)
        out = {}
        for ch, (flav, lnm, S, pref) in self.tables.items():
            g2 = g2_psi * k2[flav] * k2_sum  # sum over the final neutrino flavour (module doc)
            s = interp_uniform(lnM, lnm[0], lnm[1] - lnm[0], S, left=S[0], right=0.0)
            out[ch] = pref * g2 * s / M**2 * obs["br_Zp_invisible"]
        return out

    def gate(self, channel: str, M_Psi):
        """h(M_Psi) of :mod:`likelihoods._psi` at the channel's meson mass (1 with ``heavy_psi_only: false``)."""
        if not self.options.heavy_psi_only:
            return 1.0
        return heavy_psi_gate(M_Psi, self.thresholds[channel], self.options.psi_switch_width)

    def loglike(self, obs):
        pred = self.predictions(obs)
        return sum(self.gate(ch, obs["M_Psi"]) * upper_limit(pred[ch], lim.value, lim.cl) for ch, lim in self.limits.items())
