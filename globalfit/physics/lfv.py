"""Charged-lepton flavour violation at one loop (docs/physics.md §5; Farzan & Heeck, arXiv:1607.07616, Eqs. 16-26).

Radiative decays, m_beta -> 0 (Eqs. 16-19):

    Gamma(l_a -> l_b gamma) = e^2 m_a^3 |F^W + F^H|^2 / (16 pi)
    F^H_ab = -m_a / (16 pi^2 M_H^2) conj(y_a) y_b sin^2(beta) f_H(M_Psi^2/M_H^2)
    F^W_ab = g^2 m_a / (32 pi^2 M_W^2) conj(kappa_a) kappa_b [f_W(M_Psi^2/M_W^2) - f_W(0)]

**The relative sign of the two loops is physical, and they add** (Eqs. (16)-(17) as read from the paper give F^H a +
sign beside F^W's negative bracket, i.e. they cancel; Eq. (20)'s relative sign is illegible in the OCR). Both dipoles multiply
the same operator with the same coupling phase conj(y_a) y_b (kappa_a = y_a v cos(beta)/(sqrt2 M_Psi)), so their
relative sign is fixed by the loops, not by a convention. It follows from the diagonal limit a = b, where 2 m_a F_aa is
the loop's contribution to the anomalous magnetic moment a_l:
- the W loop without the GIM subtraction, F^W with [f_W(0)] alone, gives 2 m F = +(10/3) G_F m^2 / (8 sqrt2 pi^2),
  the SM one-loop W contribution to a_mu (positive; e.g. Jegerlehner & Nyffeler, Phys. Rept. 477 (2009) 1,
  arXiv:0902.3360): so F > 0 means a positive a_l here;
- a heavy neutral lepton mixed with the light neutrinos lowers a_l (its W loop enters as |kappa|^2 [f_W(x) - f_W(0)]
  < 0; type-I seesaw: Chao arXiv:0806.0889);
- a charged scalar with a neutral fermion and chiral couplings lowers a_l too: Delta a = -|y|^2 m^2 f_H(x) / (8 pi^2
  M^2) (f_H(0) = 1/12; Lindner, Platscher, Queiroz arXiv:1610.06587, the singly-charged scalar; the 2HDM H^+- and the
  scotogenic loops are negative likewise), hence the minus sign of F^H above.
So F^W (heavy Psi) and F^H have the same sign. Where it matters: F^W / F^H = 3 cos^2(beta) M_H^2 / M_W^2 for M_Psi << M_W,
M_H (Eq. 20), O(1) for cos(beta) ~ M_W / (sqrt3 M_H), which the prior box allows (cos(beta) = r_H M_Zp/(|g_Psi| v) up
to 1); there the two terms now add where they cancelled before (Br up to ~170x larger at |F^W| ~ |F^H|).

Two-body decays l_a -> l_b Z' (Eqs. 23-25), x = M_Psi^2/M_H^2, r = M_Zp^2/m_a^2, vertex
ubar_b [F_1 gamma^mu P_L + (F_2/m_a) i sigma^{mu nu} q_nu P_R] u_a eps*_mu:

    F_2 = g_Psi y_a conj(y_b) / (64 pi^2) (m_a/M_H)^2 [f2_lead(x) + (M_Zp/M_H)^2 f2_sub(x) / 3]
    F_1 = +g_Psi y_a conj(y_b) / (96 pi^2) (M_Zp/M_H)^2 f1_lead(x)
    Gamma = m_a/(16 pi) (1 - r)^2 [|F_2|^2 (1 + r/2) + |F_1|^2 (1 + 1/(2r)) - 3 Re(F_1 conj F_2)] x p(m_b)/p(0)

(p(m_b)/p(0) = lambda^(1/2)(m_a^2, m_b^2, M_Zp^2)/(m_a^2 - M_Zp^2): the final-state momentum with the mass m_b, so that
tau -> mu Z' closes continuously at M_Zp = m_a - m_b; without it the width stepped from 15 % of its peak to 0 at
1.671 GeV; the other O(m_b^2/m_a^2) terms are left out)

The interference term is derived for this vertex (tests/test_lfv_width_trace.py checks the width against an
explicit Dirac trace). **The sign of F_1 relative to F_2 is derived here, not copied**: the paper prints
F_1 = -g y y*/(96 pi^2) ... (Eq. 25) without stating its sigma^{mu nu} or q convention, and two independent one-loop
Feynman-parameter calculations in the convention above (2026-12-05: the Z' emitted from Psi and from H^-, the
relative sign of the two diagrams fixed by the Ward identity F_1(q^2 = 0) = 0; the on-shell amplitude fitted to
gamma^mu P_L, i sigma q P_R / m_a and q^mu P_R; magnitudes equal to the paper's to 1e-4; the calculation is
tests/test_lfv_loop_sign.py) both give F_1/F_2 < 0, i.e.
the + sign above with f1_lead < 0 < f2_lead. The interference then adds: at x = 1 the bracket is
|F_2|^2 (1 + 4r + r^2) (it was (1 - r)^2 with the paper's printed sign). It is not immaterial: F_1's longitudinal
term (1/(2r)) dominates for M_Zp >~ 0.3 GeV, where the width grows 1.7x (r = 0.1) to 13x (r = 0.5) against the
printed sign. The decay is closed for
M_Zp >= m_a - m_b (the bracket takes m_b = 0, the momentum factor does not). Branching ratios divide by the PDG total
width hbar/tau_a.

The phases of the Yukawas drop out of every rate here: kappa is y times a real number (Eq. 8), so F^W + F^H carries
the one factor conj(y_a) y_b, and F_1, F_2 the one factor g_Psi y_a conj(y_b); each width is |y_a|^2 |y_b|^2 times a
function of the masses, g_Psi and cos(beta) (tests/test_lfv_dipole_sign.py). (A real-arithmetic form of the widths was
measured for the single-point cost and not kept: docs/performance.md, "What a single point costs".)
"""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np

from globalfit import _jax  # noqa: F401
from globalfit.physics.constants import constants
from globalfit.physics.numerics import abs2
from globalfit.physics.loops import delta_f_W, f1_lead, f2_lead, f2_sub, f_H

__all__ = [
    "PAIRS",
    "dipole_H",
    "dipole_W",
    "width_l_to_l_gamma",
    "br_l_to_l_gamma",
    "form_factors_Zp",
    "width_l_to_l_Zp",
    "br_l_to_l_Zp",
]

# (alpha, beta) index pairs of the decays l_alpha -> l_beta X: mu->e, tau->e, tau->mu.
PAIRS: dict[str, tuple[int, int]] = {"mu_e": (1, 0), "tau_e": (2, 0), "tau_mu": (2, 1)}
# the same as index arrays: every function below accepts ints or these arrays (all pairs at once,
# sharing one evaluation of the loop functions)
PAIR_A = np.array([a for a, _ in PAIRS.values()])
PAIR_B = np.array([b for _, b in PAIRS.values()])


def _mass(i):
    return jnp.asarray(constants().lepton_masses)[i]


def _total_width(a):
    c = constants()
    return jnp.asarray([jnp.inf, c.width_mu, c.width_tau])[a]


def dipole_H(y, a: int, b: int, M_H, M_Psi, cos_beta):
    """Eq. (17): charged-Higgs dipole form factor F^H_ab (complex), with the sign that makes Delta a_l = 2 m F_ll
    negative, as a charged scalar with a neutral fermion gives (module doc; the paper prints +)."""
    m_a = _mass(a)
    sin2b = 1.0 - cos_beta**2
    return -m_a / (16 * jnp.pi**2 * M_H**2) * jnp.conj(y[a]) * y[b] * sin2b * f_H(M_Psi**2 / M_H**2)


def dipole_W(k, a: int, b: int, M_Psi):
    """Eq. (16): GIM-subtracted W dipole form factor F^W_ab (complex)."""
    c = constants()
    m_a = _mass(a)
    return c.g_weak**2 * m_a / (32 * jnp.pi**2 * c.M_W**2) * jnp.conj(k[a]) * k[b] * delta_f_W(M_Psi**2 / c.M_W**2)


def width_l_to_l_gamma(y, k, a: int, b: int, M_H, M_Psi, cos_beta):
    """Gamma(l_a -> l_b gamma) = e^2 m_a^3 |F^W + F^H|^2 / (16 pi)  [GeV]."""
    c = constants()
    F = dipole_H(y, a, b, M_H, M_Psi, cos_beta) + dipole_W(k, a, b, M_Psi)
    return c.e_charge**2 * _mass(a) ** 3 * abs2(F) / (16 * jnp.pi)


def br_l_to_l_gamma(y, k, a: int, b: int, M_H, M_Psi, cos_beta):
    """Br(l_a -> l_b gamma) with the PDG total width of l_a."""
    return width_l_to_l_gamma(y, k, a, b, M_H, M_Psi, cos_beta) / _total_width(a)


def form_factors_Zp(y, a: int, b: int, g_Psi, M_H, M_Psi, M_Zp):
    """Eqs. (24)-(25): (F_1, F_2) of the l_a -> l_b Z' vertex (complex)."""
    m_a = _mass(a)
    x = M_Psi**2 / M_H**2
    z = (M_Zp / M_H) ** 2
    coupling = g_Psi * y[a] * jnp.conj(y[b])
    F2 = coupling / (64 * jnp.pi**2) * (m_a / M_H) ** 2 * (f2_lead(x) + z * f2_sub(x) / 3.0)
    F1 = coupling / (96 * jnp.pi**2) * z * f1_lead(x)  # sign derived, not Eq. 25's (module doc)
    return F1, F2


def width_l_to_l_Zp(y, a: int, b: int, g_Psi, M_H, M_Psi, M_Zp):
    """Eq. (23): Gamma(l_a -> l_b Z') [GeV], zero above threshold M_Zp >= m_a - m_b."""
    m_a = _mass(a)
    F1, F2 = form_factors_Zp(y, a, b, g_Psi, M_H, M_Psi, M_Zp)
    m_b = _mass(b)
    r = (M_Zp / m_a) ** 2
    open_ = M_Zp < m_a - m_b
    r_safe = jnp.where(open_, r, 0.5)
    M_safe = jnp.where(open_, M_Zp, 0.5 * (m_a - m_b))
    bracket = (
        abs2(F2) * (1 + r_safe / 2)
        + abs2(F1) * (1 + 1 / (2 * r_safe))
        - 3 * jnp.real(F1 * jnp.conj(F2))
    )
    # the final-state momentum with m_b, lambda^(1/2)(m_a^2, m_b^2, M^2) / (m_a^2 - M^2) of the m_b = 0 one: the width
    # closes continuously at M_Zp = m_a - m_b (the rest of the m_b dependence, O(m_b^2/m_a^2), is left out)
    lam = (m_a**2 - (M_safe + m_b) ** 2) * (m_a**2 - (M_safe - m_b) ** 2)
    momentum = jnp.sqrt(lam) / (m_a**2 - M_safe**2)
    return jnp.where(open_, m_a / (16 * jnp.pi) * (1 - r_safe) ** 2 * bracket * momentum, 0.0)


def br_l_to_l_Zp(y, a: int, b: int, g_Psi, M_H, M_Psi, M_Zp):
    """Br(l_a -> l_b Z') with the PDG total width of l_a."""
    return width_l_to_l_Zp(y, a, b, g_Psi, M_H, M_Psi, M_Zp) / _total_width(a)
