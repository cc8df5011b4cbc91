"""Psi–neutrino mixing and the Z' couplings of the light neutrinos (docs/physics.md §2).

References: Farzan & Heeck, arXiv:1607.07616, Eqs. (6), (8), (9), (10).

Conventions stated once here:

* y_alpha = |y_alpha| exp(i phi_alpha), phi_e = 0.
* (8)  kappa_alpha = y_alpha v cos(beta) / (sqrt 2 M_Psi), valid for |kappa| << 1.
* (10) G_ab = g_X l_a delta_ab + (g_Psi - g_l) conj(kappa_a) kappa_b is the coefficient of
  Z'_mu nubar_a gamma^mu P_L nu_b (the paper prints g_Psi; g_Psi - g_l is the light block of the exact (nu, Psi)
  diagonalisation to O(kappa^2): :func:`nu_coupling_matrix`). (The transpose convention kappa_a conj(kappa_b) would only flip the
  sign of off-diagonal phases; |G_ab| and the diagonal are convention independent.)
* (9)  The H' vev contributes (g_Psi - g_l)^2 v^2 cos^2(beta) to M_Zp^2, so
  r_H = |g_Psi - g_l| v cos(beta) / M_Zp <= 1 is a hard physical constraint.
"""

from __future__ import annotations

import jax.numpy as jnp

from globalfit import _jax  # noqa: F401
from globalfit.physics.constants import constants
from globalfit.physics.scenarios import Scenario

__all__ = ["yukawas", "kappa", "nu_coupling_matrix", "psi_lepton_charge", "h_prime_share", "cos_beta_max"]


def yukawas(p) -> jnp.ndarray:
    """Complex Yukawa vector (y_e, y_mu e^{i phi_mu}, y_tau e^{i phi_tau})."""
    one = jnp.ones_like(p["y_e"])
    phases = jnp.stack([0.0 * one, p["phi_mu"] * one, p["phi_tau"] * one])
    mags = jnp.stack([p["y_e"], p["y_mu"], p["y_tau"]])
    return mags * jnp.exp(1j * phases)


def kappa(p) -> jnp.ndarray:
    """Eq. (8): complex mixing kappa_alpha = y_alpha v cos(beta) / (sqrt 2 M_Psi)."""
    v = constants().vev
    return yukawas(p) * (v * p["cos_beta"] / (jnp.sqrt(2.0) * p["M_Psi"]))


def nu_coupling_matrix(p, scenario: Scenario, g_l) -> jnp.ndarray:
    """Eq. (10) to O(kappa^2): G_ab = g_X l_a delta_ab + (g_Psi - g_l) conj(kappa_a) kappa_b (3x3 complex Hermitian).

    g_l is the charge of the flavours Psi mixes with (:func:`psi_lepton_charge`). The light states are the active
    flavours less their Psi component, so the flavour part of the current loses g_l conj(kappa_a) kappa_b while the
    Psi part adds g_Psi conj(kappa_a) kappa_b: for the light block, U^dag U = 1 - W^dag W (physics review 2026-12,
    finding L4). The paper's Eq. (10) drops the g_l term, which matters only where |g_Psi| ~ |g_l| (the paper's own
    off-diagonal nu-Psi coupling carries the same g_l - g_Psi). Dropped: O(g kappa^4).
    """
    k = kappa(p)
    gauge = p["g_X"] * jnp.diag(jnp.asarray(scenario.l, dtype=jnp.float64))
    return gauge + (p["g_Psi"] - g_l) * jnp.conj(k)[:, None] * k[None, :]


def psi_lepton_charge(p, scenario: Scenario, psi_flavours: tuple[bool, bool, bool]) -> jnp.ndarray:
    """g_l = g_X l of the flavours Psi mixes with (docs/physics.md §1); H' carries g_Psi - g_l."""
    return p["g_X"] * scenario.mixing_lepton_charge(psi_flavours)


def h_prime_share(p, scenario: Scenario, psi_flavours: tuple[bool, bool, bool]) -> jnp.ndarray:
    """Eq. (9): r_H = |g_Psi - g_l| v cos(beta) / M_Zp, the share of M_Zp from <H'>; physical iff <= 1."""
    g_l = psi_lepton_charge(p, scenario, psi_flavours)
    return jnp.abs(p["g_Psi"] - g_l) * constants().vev * p["cos_beta"] / p["M_Zp"]


def cos_beta_max(M_Zp, g_Psi, g_l=0.0):
    """Eq. (9): the largest cos(beta) allowed, M_Zp / (|g_Psi - g_l| v)."""
    return M_Zp / (jnp.abs(g_Psi - g_l) * constants().vev)
