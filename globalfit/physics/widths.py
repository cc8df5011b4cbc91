"""Z' partial widths and branching ratios (docs/physics.md §6).

* Gamma(Z' -> f fbar) = N_c g_f^2 M/(12 pi) (1 + 2 m_f^2/M^2) sqrt(1 - 4 m_f^2/M^2)     (vector coupling g_f)
* Gamma(Z' -> nu_a nubar_b) = |G_ab|^2 M/(24 pi), summed over ordered pairs (left-handed only)
* Gamma(Z' -> Psi Psibar) as f fbar with g_Psi, M_Psi
* Gamma(Z' -> Psi nubar_a + nu_a Psibar) = 2 |(g_l - g_Psi) kappa_a|^2 M/(24 pi) (1 - mu)^2 (1 + mu/2),
  mu = M_Psi^2/M^2: the Psi–nu current of Eq. (10) of arXiv:1607.07616 (width derived for a
  left-handed current with one massive fermion; reduces to the nu nubar formula as mu -> 0).
* Hadrons of a baryonic Z': see :mod:`globalfit.physics.hadrons`.

Every width is a smooth function below and above its threshold (gradient-safe ``where``).
"""

from __future__ import annotations

import jax.numpy as jnp

from globalfit import _jax  # noqa: F401
from globalfit.physics.constants import constants
from globalfit.physics.numerics import abs2

__all__ = ["width_vector_to_fermions", "width_to_neutrinos", "width_to_psi_nu", "width_to_leptons"]


def width_vector_to_fermions(g_f, M, m_f, n_c: float = 1.0):
    """Gamma(V -> f fbar) for a vector coupling g_f; zero below 2 m_f."""
    mu = (m_f / M) ** 2
    open_ = mu < 0.25
    mu_s = jnp.where(open_, mu, 0.0)
    return jnp.where(open_, n_c * g_f**2 * M / (12 * jnp.pi) * (1 + 2 * mu_s) * jnp.sqrt(1 - 4 * mu_s), 0.0)


def width_to_neutrinos(G, M):
    """Gamma(Z' -> nu nubar) = sum_ab |G_ab|^2 M/(24 pi)."""
    return jnp.sum(abs2(G)) * M / (24 * jnp.pi)


def width_to_psi_nu(k, g_l, g_Psi, M, M_Psi):
    """Gamma(Z' -> Psi nubar + nu Psibar) from the (g_l - g_Psi) kappa_a current; zero below M_Psi."""
    mu = (M_Psi / M) ** 2
    open_ = mu < 1.0
    mu_s = jnp.where(open_, mu, 0.0)
    c2 = jnp.sum(abs2((g_l - g_Psi) * k))
    return jnp.where(open_, 2 * c2 * M / (24 * jnp.pi) * (1 - mu_s) ** 2 * (1 + mu_s / 2), 0.0)


def width_to_leptons(g_X, l: tuple[float, float, float], M) -> jnp.ndarray:
    """(Gamma(Z'->ee), Gamma(Z'->mu mu), Gamma(Z'->tau tau)) for charges g_X l_a (one vectorised evaluation)."""
    shape = (3,) + (1,) * jnp.ndim(M)  # flavour first, then the shape of M
    charges = jnp.reshape(jnp.asarray(l, dtype=float), shape)
    masses = jnp.reshape(jnp.asarray(constants().lepton_masses), shape)
    return width_vector_to_fermions(g_X * charges, M, masses)
