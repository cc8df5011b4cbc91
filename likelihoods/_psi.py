"""Where Psi is light: the smooth switch that confines heavy-Psi likelihoods to the masses where they hold.

Two families of constraints on the Psi-nu mixing kappa_alpha hold in complementary mass ranges:

* **heavy Psi** (``unitarity``, ``meson_decays``): PMNS non-unitarity fits (arXiv:1605.08774, arXiv:2306.01040)
  assume the heavy state is not produced in the meson decays that normalise the fits, and the longitudinal-Z'
  rate of M -> l nu Z' (``meson_decays``) is the effective theory of a Psi far heavier than the meson;
* **light Psi** (``psi_peak_searches``): for M_Psi < m_K - m_l the decays pi, K -> l Psi happen on shell and the
  peak searches and universality tests bound |kappa_e|^2 and |kappa_mu|^2 directly.

A heavy-Psi likelihood is multiplied by the gate (:func:`heavy_psi_gate`)

    h(M_Psi) = S(t),  t = (ln M_Psi - ln m_thr) / w  clipped to [0, 1],  S(t) = t^3 (10 - 15 t + 6 t^2),

the smootherstep (S, S' and S'' continuous), so h = 0 for M_Psi <= m_thr (where the likelihood does not hold),
h = 1 for M_Psi >= m_thr e^w (where it does) and the log-density stays twice differentiable in ln M_Psi: NUTS sees a
slope, never a step. m_thr is the mass of the meson whose decays would produce Psi (m_K for ``unitarity``, the
channel's meson for ``meson_decays``; PDG masses via :func:`globalfit.physics.constants.constants`); the width w
(option ``psi_switch_width``, default 0.2, i.e. the switch is complete at 1.22 m_thr) is a modelling choice, not data:
between m_thr and m_thr e^w the heavy-Psi bound is applied partially. ``heavy_psi_only: false`` applies the
likelihood at every M_Psi, as the paper (arXiv:1607.07616) did.
"""

from __future__ import annotations

import jax.numpy as jnp
from pydantic import Field

from .base import Options

__all__ = ["smootherstep", "heavy_psi_gate", "PsiGateOptions", "DEFAULT_SWITCH_WIDTH"]

DEFAULT_SWITCH_WIDTH = 0.2  # in ln M_Psi (a modelling choice, module doc)


def smootherstep(t):
    """S(t) = t^3 (10 - 15 t + 6 t^2) on t clipped to [0, 1]: 0 below, 1 above, C2 everywhere."""
    t = jnp.clip(t, 0.0, 1.0)
    return t**3 * (10.0 - 15.0 * t + 6.0 * t**2)


def heavy_psi_gate(M_Psi, m_threshold: float, width: float):
    """h(M_Psi): 0 for M_Psi <= m_threshold, 1 for M_Psi >= m_threshold e^width, smootherstep in ln M_Psi between."""
    return smootherstep((jnp.log(M_Psi) - jnp.log(m_threshold)) / width)


class PsiGateOptions(Options):
    """Options of a likelihood that holds for a heavy Psi only (module doc)."""

    heavy_psi_only: bool = True
    """Apply only where Psi is heavier than the meson whose decays would produce it (smooth switch); false: every
    M_Psi (the paper's 2016 treatment)."""
    psi_switch_width: float = Field(DEFAULT_SWITCH_WIDTH, gt=0, le=2)
    """Width w in ln M_Psi of the switch above the meson mass (module doc)."""
