"""Hadronic width of a baryonic Z' (docs/physics.md §6).

A vector coupled to baryon number (quark charge g_B/3, g_B = g_X b per nucleon) has no isovector part, so it does not
decay to pi pi (rho-like); below 1 GeV it decays to pi0 gamma and pi+ pi- pi0 (omega- and phi-like), above that also
to K K, K K pi and heavier states.

**Z' -> pi0 gamma (chiral anomaly + vector-meson dominance).** The pi0 gamma Z' vertex has the flavour trace of
pi0 -> gamma gamma (N_c Tr[tau_3 Q Q_B] = 1), so

    Gamma(Z' -> pi0 gamma) = alpha alpha_B M^3 / (96 pi^3 f_pi^2) (1 - m_pi0^2/M^2)^3 |F_omega(M^2)|^2
                           = (2/3) (alpha_B/alpha) (M/m_pi0)^3 (1 - m_pi0^2/M^2)^3 Gamma(pi0 -> gamma gamma) |F|^2,

alpha_B = g_B^2/(4 pi), normalised to the measured Gamma(pi0 -> gamma gamma) (PDG) so that f_pi needs no input, with
F_omega(s) proportional to 1/(m_omega^2 - s - i m_omega Gamma_omega), F(0) = 1 (omega mass and width from PDG). The
coefficient is derived here (anomaly + VMD, the crossing of pi0 -> gamma gamma).

**Other channels: DarkCast's data-driven VMD grids** (Ilten, Soreq, Williams, Xue, arXiv:1801.04847, Eqs. 2.15-2.18;
grids ``data/darkcast_rf_*.csv`` copied verbatim with their provenance headers from
micha-a-schmidt/darkcast@db9a0f6:vmd/). For a final state F,

    Gamma(Z' -> F) = g_B^2 M/(12 pi) sum_V c_V R_V^F(M),

R_V^F the ratio sigma(e+e- -> V -> F)/sigma(e+e- -> mu mu) of the meson V (or an interference term), and c_V =
(r_V Tr[T_V Q_B])^2 for one meson, 2 (r_V1 Tr[T_V1 Q_B])(r_V2 Tr[T_V2 Q_B]) for an interference term; with DarkCast's
r_omega = 6, r_phi = 3 sqrt2, T_omega = diag(1/2, 1/2, 0), T_phi = diag(0, 0, 1/sqrt2) and Q_B = 1/3 (u, d, s):
c_omega = 4, c_phi = 1, c_omega-phi = 4, c_rho = 0. Channels used here:

* pi+ pi- pi0: 4 R_omega + R_phi + 4 R_omega,phi (from 0.42 GeV; overtakes pi0 gamma between 0.5 and 0.6 GeV, as the
  paper says: Z' -> pi0 gamma (pi+ pi- pi0) dominant below (above) 0.6 GeV);
* K K: R_phi; K K pi: R_phi; "other" hadronic states: 4 R_omega + R_phi (from 1.0, 1.4 and 1.64 GeV).

Outside the tabulated range (0.14-2 GeV) R is 0 below the first row (thresholds) and held at its 2 GeV value above
(DarkCast's utils.Dataset convention; there the channels sum to g_B^2 M/(12 pi) x 1.0, the value of three quark
flavours of charge 1/3, N_c sum_q (1/3)^2 = 1).

**Check of the pi0 gamma normalisation against DarkCast** (Gamma_this/Gamma_DarkCast, DarkCast = g_B^2 M/(12 pi)
4 R_omega^{pi0 gamma}; :func:`darkcast_width`; tests/test_baryonic.py): 14.4, 4.1, 2.4, 1.7 at M = 0.15, 0.2, 0.3,
0.4 GeV; 1.37, 1.13, 0.96, 0.81 (omega peak, 0.78 GeV), 0.76, 0.69 at 0.5, 0.6, 0.7, 0.78, 0.9, 1.0 GeV. Around the
omega, where Z' -> pi0 gamma matters for the branching ratios, the two agree to 20-40 %, the size of the difference
between the anomaly-normalised F_omega(s) and DarkCast's fit to e+e- -> pi0 gamma data. Towards threshold DarkCast's
grid falls below the anomaly prediction (by x14 at 0.15 GeV; its grid is 0 below 0.1405 GeV, the anomaly width opens
at m_pi0): its off-shell omega -> pi0 gamma parametrisation is not the low-energy theorem, which fixes
Gamma(Z' -> pi0 gamma) at M -> m_pi0 through Gamma(pi0 -> gamma gamma). This module therefore keeps the anomaly form
for pi0 gamma and takes only the channels the anomaly does not give (3 pi, K K, K K pi, other) from DarkCast.

**What the choice changes.** Below the 3 pi threshold (0.42 GeV) Z' -> pi0 gamma is the whole hadronic width, so
there the choice moves the total hadronic width by the full pi0 gamma ratio: x35 at 0.145, x14.4 at 0.15, x4.1 at
0.2, x2.4 at 0.3, x1.73 at 0.4 GeV; then x1.49 at 0.45 and x1.26 at 0.5 GeV (pi0 gamma 95 % and 76 % of it here),
x1.04 at 0.6, and within 2 % above 0.7 GeV (pi0 gamma below 16 %; 0.98 at the omega peak). For a U(1)_B Z' whose
lepton coupling is only the loop kinetic mixing (``kinetic_mixing: loop``) the hadrons are 30 % of its width at
0.15 GeV and 95 % or more from 0.2 GeV, and its total width changes by x1.13, 1.39, 3.54, 2.82, 2.34, 1.72, 1.26, 1.04
at 0.145, 0.15, 0.2, 0.25, 0.3, 0.4, 0.5, 0.6 GeV (its Br(ee + mu mu) by the inverse factor). (An earlier version of this paragraph said "at most
26 %", which holds only above the 3 pi threshold.) The Z' searches recast from DarkCast's curves
(:mod:`likelihoods.zprime_searches`) therefore give their reference model DarkCast's own width
(:func:`darkcast_hadronic_width`), and this model its own: the difference is no longer cancelled there.
"""

from __future__ import annotations

import functools
from pathlib import Path

import jax.numpy as jnp
import numpy as np

from globalfit import _jax  # noqa: F401
from globalfit.physics.constants import constants
from globalfit.physics.interp import interp_uniform

__all__ = [
    "width_to_pi0_gamma",
    "width_to_three_pions",
    "width_baryonic_hadrons",
    "omega_form_factor_sq",
    "vmd_ratio",
    "darkcast_width",
    "darkcast_hadronic_width",
    "DARKCAST_CHANNELS",
]

DATA = Path(__file__).parent / "data"

# c_V of a baryonic Z' per DarkCast grid (module doc): channel -> ((grid file key, c_V), ...)
DARKCAST_CHANNELS: dict[str, tuple[tuple[str, float], ...]] = {
    "pi0_gamma": (("pi0_gamma.omega", 4.0),),
    "pi+_pi-_pi0": (("pip_pim_pi0.omega", 4.0), ("pip_pim_pi0.phi", 1.0), ("pip_pim_pi0.omega_phi", 4.0)),
    "K_K": (("K_K.phi", 1.0),),
    "K_K_pi": (("K_K_pi.phi", 1.0),),
    "other": (("other.omega", 4.0), ("other.phi", 1.0)),
}


@functools.lru_cache(maxsize=None)
def _grid(key: str) -> tuple[np.ndarray, np.ndarray]:
    """(mass [GeV], R) of ``data/darkcast_rf_<key>.csv`` (header lines start with '#')."""
    path = DATA / f"darkcast_rf_{key}.csv"
    arr = np.loadtxt(path, delimiter=",", comments="#", skiprows=1 + sum(1 for ln in path.open() if ln.startswith("#")))
    m = arr[:, 0]
    step = np.diff(m)
    if not np.allclose(step, step[0], rtol=1e-6, atol=0.0):
        raise ValueError(f"{path}: mass grid not uniform (vmd_ratio interpolates on a uniform grid)")
    return m, arr[:, 1]


def vmd_ratio(channel: str, M):
    """sum_V c_V R_V^F(M) of a baryonic Z' for a DarkCast channel (0 below threshold, 2 GeV value above 2 GeV)."""
    total = 0.0
    for key, c in DARKCAST_CHANNELS[channel]:
        m, r = _grid(key)
        dm = (m[-1] - m[0]) / (len(m) - 1)  # DarkCast's grids are uniform in M (0.5 MeV steps): O(1) per point, no search
        total = total + c * interp_uniform(M, float(m[0]), float(dm), r)
    return total


def darkcast_width(channel: str, g_B, M):
    """DarkCast's Gamma(Z' -> channel) = g_B^2 M/(12 pi) sum_V c_V R_V^F(M) [GeV]."""
    return g_B**2 * M / (12 * jnp.pi) * vmd_ratio(channel, M)


def darkcast_hadronic_width(g_B, M):
    """DarkCast's hadronic width of a Z' with quark charges g_B/3 (its ``Model.width("hadrons")``, model.py at
    micha-a-schmidt/darkcast@db9a0f6): every channel of :data:`DARKCAST_CHANNELS` from its grids, **its** pi0 gamma
    included (the rho-meson terms vanish for equal u, d charges). The width of DarkCast's B and B-L bosons, the
    reference models of the Z' searches' recasts; this model's own hadronic width is :func:`width_baryonic_hadrons`."""
    return g_B**2 * M / (12 * jnp.pi) * sum(vmd_ratio(ch, M) for ch in DARKCAST_CHANNELS)


def omega_form_factor_sq(s):
    """|F_omega(s)|^2 = (m_w^4 + m_w^2 Gamma_w^2) / ((m_w^2 - s)^2 + m_w^2 Gamma_w^2), normalised to F(0) = 1."""
    c = constants()
    mw2 = c.m_omega**2
    damp = mw2 * c.width_omega**2
    return (mw2**2 + damp) / ((mw2 - s) ** 2 + damp)


def width_to_pi0_gamma(g_B, M):
    """Gamma(Z' -> pi0 gamma) [GeV] for baryon-number coupling g_B (anomaly + VMD); zero below m_pi0."""
    c = constants()
    gamma_gg = c.width_pi0 * c.br_pi0_gg
    mu = (c.m_pi0 / M) ** 2
    open_ = mu < 1.0
    mu_s = jnp.where(open_, mu, 0.0)
    alpha_B = g_B**2 / (4 * jnp.pi)
    w = (2.0 / 3.0) * (alpha_B / c.alpha) * (M / c.m_pi0) ** 3 * (1 - mu_s) ** 3 * gamma_gg * omega_form_factor_sq(M**2)
    return jnp.where(open_, w, 0.0)


def width_to_three_pions(g_B, M):
    """Gamma(Z' -> pi+ pi- pi0) [GeV] (DarkCast VMD: omega, phi and their interference)."""
    return darkcast_width("pi+_pi-_pi0", g_B, M)


def width_baryonic_hadrons(g_B, M):
    """Hadronic width of a Z' with baryon-number coupling g_B: pi0 gamma (anomaly) + 3 pi, K K, K K pi, other
    (DarkCast); see the module doc."""
    rest = sum(vmd_ratio(ch, M) for ch in ("pi+_pi-_pi0", "K_K", "K_K_pi", "other"))
    return width_to_pi0_gamma(g_B, M) + g_B**2 * M / (12 * jnp.pi) * rest
