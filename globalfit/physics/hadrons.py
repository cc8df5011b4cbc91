"""Hadronic width of a baryonic Z' (docs/physics.md §6; Tulin, arXiv:1404.4370).

Below ~0.6 GeV a vector coupled to baryon number (quark charge g_B/3) decays to hadrons mainly as
Z' -> pi0 gamma (Tulin 2014: "leading decay mode for 140-620 MeV"; Z' -> pi pi is isospin-forbidden).
The pi0 gamma Z' vertex comes from the chiral anomaly with the same flavour trace as pi0 -> gamma gamma
(N_c Tr[tau_3 Q Q_B] = 1), so

    Gamma(Z' -> pi0 gamma) = alpha alpha_B M^3 / (96 pi^3 f_pi^2) (1 - m_pi0^2/M^2)^3 |F_omega(M^2)|^2
                           = (2/3) (alpha_B/alpha) (M/m_pi0)^3 (1 - m_pi0^2/M^2)^3 Gamma(pi0 -> gamma gamma) |F|^2,

alpha_B = g_B^2/(4 pi), normalised to the measured Gamma(pi0 -> gamma gamma) (PDG) so that f_pi needs no
input, with the vector-meson-dominance factor F_omega(s) proportional to 1/(m_omega^2 - s - i m_omega Gamma_omega), F(0) = 1
(omega mass and width from PDG). The coefficient is derived here (anomaly + VMD, cross-checked against
pi0 -> gamma gamma); its agreement with Tulin's printed equation could not be checked (only the abstract
was readable).

Not included: Z' -> pi+ pi- pi0, which takes over above ~0.6 GeV. Above that mass the hadronic width and
hence Br(Z' -> invisible) of a baryonic Z' are therefore under-/over-estimated; the fits of the paper's
Fig. 5 region (M_Zp < 0.6 GeV) are not affected.
"""

from __future__ import annotations

import jax.numpy as jnp

from globalfit import _jax  # noqa: F401
from globalfit.physics.constants import constants

__all__ = ["width_to_pi0_gamma", "width_baryonic_hadrons", "omega_form_factor_sq"]


def omega_form_factor_sq(s):
    """|F_omega(s)|^2 = (m_w^4 + m_w^2 Gamma_w^2) / ((m_w^2 - s)^2 + m_w^2 Gamma_w^2), normalised to F(0) = 1."""
    c = constants()
    mw2 = c.m_omega**2
    damp = mw2 * c.width_omega**2
    return (mw2**2 + damp) / ((mw2 - s) ** 2 + damp)


def width_to_pi0_gamma(g_B, M):
    """Gamma(Z' -> pi0 gamma) [GeV] for baryon-number coupling g_B; zero below m_pi0."""
    c = constants()
    gamma_gg = c.width_pi0 * c.br_pi0_gg
    mu = (c.m_pi0 / M) ** 2
    open_ = mu < 1.0
    mu_s = jnp.where(open_, mu, 0.0)
    alpha_B = g_B**2 / (4 * jnp.pi)
    w = (2.0 / 3.0) * (alpha_B / c.alpha) * (M / c.m_pi0) ** 3 * (1 - mu_s) ** 3 * gamma_gg * omega_form_factor_sq(M**2)
    return jnp.where(open_, w, 0.0)


def width_baryonic_hadrons(g_B, M):
    """Hadronic width of a Z' with baryon-number coupling g_B (pi0 gamma channel; see module doc)."""
    return width_to_pi0_gamma(g_B, M)
