"""Non-standard interaction coefficients from Z' exchange (docs/physics.md §3, §7).

Integrating out the Z' (coupling G_ab to nubar_a gamma P_L nu_b, vector coupling g_f to f) gives, with
L_NSI = -2 sqrt2 G_F eps^{fP}_ab (nubar_a gamma^mu P_L nu_b)(fbar gamma_mu P f) and
eps^f = eps^{fL} + eps^{fR} (Farzan & Heeck, arXiv:1607.07616, Eq. 1),

    eps^f_ab(q^2) = G_ab g_f / (sqrt2 G_F (q^2 + M_Zp^2)),   g_u = g_d = g_X b/3,  g_e = g_X l_e.

This is the oscillation-fit normalisation: the matter potential is V = sqrt2 G_F sum_f n_f eps^f
(derivation: docs/nsi_normalisation.md). The paper's Eqs. (11), (15), (33) print eps^{fL}
alone, i.e. half of this; ``convention="paper2016"`` reproduces its printed numbers.

Matter (Eqs. 31-32): eps^matter = (eps^e + 2 eps^u + eps^d) + Y_n (eps^u + 2 eps^d), Y_n = n_n/n_e
(Earth: Y_n ~ 1, the paper's choice).
"""

from __future__ import annotations

import math
from typing import Literal

import jax.numpy as jnp

from globalfit import _jax  # noqa: F401
from globalfit.physics.constants import constants
from globalfit.physics.scenarios import Scenario

__all__ = ["EPS_CONVENTIONS", "fermion_couplings", "eps_fermion", "eps_normalisation", "eps_all", "eps_matter"]

EpsConvention = Literal["oscillation", "paper2016"]
EPS_CONVENTIONS: dict[str, float] = {"oscillation": 1.0, "paper2016": 0.5}


def fermion_couplings(g_X, scenario: Scenario) -> dict[str, jnp.ndarray]:
    """Vector Z' couplings g_f of u, d (g_X b/3) and e (g_X l_e)."""
    return {"u": g_X * scenario.q_quark, "d": g_X * scenario.q_quark, "e": g_X * scenario.q_electron}


def eps_fermion(G, g_f, M_Zp, q2=0.0, convention: EpsConvention = "oscillation"):
    """eps^f_ab(q^2) = G_ab g_f / (sqrt2 G_F (q^2 + M_Zp^2)) (times 1/2 in the paper2016 convention)."""
    return G * (g_f * eps_normalisation(convention) / (q2 + M_Zp**2))


def eps_normalisation(convention: EpsConvention = "oscillation") -> float:
    """k = 1/(sqrt2 G_F) [GeV^2] (times 1/2 in the paper2016 convention): eps^f_ab(q^2) = k G_ab g_f / (q^2 + M_Zp^2)."""
    return EPS_CONVENTIONS[convention] / (math.sqrt(2.0) * constants().G_F)


def eps_all(G, g_X, M_Zp, scenario: Scenario, q2=0.0, convention: EpsConvention = "oscillation") -> dict[str, jnp.ndarray]:
    """eps^u, eps^d, eps^e (3x3 complex each) at momentum transfer q^2."""
    return {f: eps_fermion(G, g, M_Zp, q2, convention) for f, g in fermion_couplings(g_X, scenario).items()}


def eps_matter(eps_u, eps_d, eps_e, Y_n=1.0):
    """Eqs. (31)-(32): eps^matter = (eps^e + 2 eps^u + eps^d) + Y_n (eps^u + 2 eps^d) for neutral matter."""
    return (eps_e + 2.0 * eps_u + eps_d) + Y_n * (eps_u + 2.0 * eps_d)
