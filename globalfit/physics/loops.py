"""Loop functions of the charged-LFV amplitudes (Farzan & Heeck, arXiv:1607.07616, Eqs. 18-19, 24-25).

Each function is a ratio of a polynomial-plus-logarithm to a power of (1 - x) with a removable
singularity at x = 1. Away from x = 1 the closed form is used; for |x - 1| < 1/4 the Taylor series in
t = x - 1 (24 terms, exact rational coefficients from ``tools/derive_loop_series.py``) is used
instead (Horner unrolled in Python, :func:`globalfit.physics.interp.horner`: no loop in the compiled graph),
so values *and* gradients are finite and accurate to ~1e-13 everywhere on x in (0, inf).
The unused branch of each ``jnp.where`` is fed a harmless argument (the "double where" idiom) so that
no NaN leaks into gradients. x ln x terms are taken as 0 at x = 0.

Functions (x = M_Psi^2 / M^2):

* ``f_H(x)   = (1 - 6x + 3x^2 + 2x^3 - 6x^2 ln x) / (12 (1-x)^4)``            f_H(0)=1/12, f_H(1)=1/24
* ``f_W(x)   = (10 - 43x + 78x^2 - 49x^3 + 4x^4 + 18x^3 ln x) / (12 (1-x)^4)`` f_W(0)=5/6, f_W(1)=17/24
* ``delta_f_W(x) = f_W(x) - f_W(0) = x(-3 + 18x - 9x^2 - 6x^3 + 18x^2 ln x) / (12 (1-x)^4)``
  (written without the cancellation of f_W(x) - 5/6 at small x; ~ -x/4)
* ``f2_lead(x) = (x^2 - 1 - 2x ln x)/(x-1)^3``                                 1 at x=0, 1/3 at x=1
* ``f2_sub(x)  = (1+x)(3 - 3x^2 + (1 + 4x + x^2) ln x)/(x-1)^5``               1/15 at x=1
* ``f1_lead(x) = (3 - 3x + (2+x) ln x)/(x-1)^2``                                -1/2 at x=1
"""

from __future__ import annotations

from fractions import Fraction

import jax.numpy as jnp
from jax.typing import ArrayLike

from globalfit import _jax  # noqa: F401  (float64)
from globalfit.physics.interp import horner

__all__ = ["f_H", "f_W", "delta_f_W", "f2_lead", "f2_sub", "f1_lead"]

_SERIES_RADIUS = 0.25


def _fractions(coeffs: list[str]) -> tuple[float, ...]:
    return tuple(float(Fraction(c)) for c in coeffs)


_SERIES_F_H = _fractions(['1/24', '-1/60', '1/120', '-1/210', '1/336', '-1/504', '1/720', '-1/990', '1/1320', '-1/1716', '1/2184', '-1/2730', '1/3360', '-1/4080', '1/4896', '-1/5814', '1/6840', '-1/7980', '1/9240', '-1/10626', '1/12144', '-1/13800', '1/15600', '-1/17550'])
_SERIES_G_W = _fractions(['-1/8', '-3/40', '1/40', '-3/280', '3/560', '-1/336', '1/560', '-1/880', '1/1320', '-3/5720', '3/8008', '-1/3640', '3/14560', '-3/19040', '1/8160', '-1/10336', '1/12920', '-1/15960', '3/58520', '-3/70840', '1/28336', '-3/101200', '3/119600', '-1/46800'])
_SERIES_A_F2 = _fractions(['1/3', '-1/6', '1/10', '-1/15', '1/21', '-1/28', '1/36', '-1/45', '1/55', '-1/66', '1/78', '-1/91', '1/105', '-1/120', '1/136', '-1/153', '1/171', '-1/190', '1/210', '-1/231', '1/253', '-1/276', '1/300', '-1/325'])
_SERIES_B_F2 = _fractions(['1/15', '-1/15', '9/140', '-13/210', '5/84', '-2/35', '217/3960', '-26/495', '36/715', '-145/3003', '253/5460', '-81/1820', '611/14280', '-7/170', '205/5168', '-556/14535', '221/5985', '-261/7315', '3667/106260', '-355/10626', '819/25300', '-704/22425', '713/23400', '-202/6825'])
_SERIES_C_F1 = _fractions(['-1/2', '1/2', '-5/12', '7/20', '-3/10', '11/42', '-13/56', '5/24', '-17/90', '19/110', '-7/44', '23/156', '-25/182', '9/70', '-29/240', '31/272', '-11/102', '35/342', '-37/380', '13/140', '-41/462', '43/506', '-15/184', '47/600'])


def _xlogx_pow(x, n: int):
    """x^n ln x with the value 0 at x = 0 (n >= 1), gradient-safe."""
    pos = x > 0
    xs = jnp.where(pos, x, 1.0)
    return jnp.where(pos, xs**n * jnp.log(xs), 0.0)


def _stable(closed_form, series: tuple[float, ...], x: ArrayLike):
    x = jnp.asarray(x, dtype=jnp.float64)
    t = x - 1.0
    near = jnp.abs(t) < _SERIES_RADIUS
    x_far = jnp.where(near, 2.0, x)
    t_near = jnp.where(near, t, 0.0)
    return jnp.where(near, horner(series, t_near), closed_form(x_far))


def _log(x):
    pos = x > 0
    return jnp.where(pos, jnp.log(jnp.where(pos, x, 1.0)), 0.0)


def f_H(x: ArrayLike):
    """Charged-Higgs loop function of ell_a -> ell_b gamma, Eq. (19)."""

    def closed(x):
        num = 1 - 6 * x + 3 * x**2 + 2 * x**3 - 6 * _xlogx_pow(x, 2)
        return num / (12 * (1 - x) ** 4)

    return _stable(closed, _SERIES_F_H, x)


def delta_f_W(x: ArrayLike):
    """f_W(x) - f_W(0), the GIM-subtracted W-loop function of Eq. (16)/(18); ~ -x/4 at small x."""

    def closed(x):
        num = x * (-3 + 18 * x - 9 * x**2 - 6 * x**3) + 18 * _xlogx_pow(x, 3)
        return num / (12 * (1 - x) ** 4)

    return _stable(closed, _SERIES_G_W, x)


def f_W(x: ArrayLike):
    """W-loop function of Eq. (18), f_W(0) = 5/6."""
    return 5.0 / 6.0 + delta_f_W(x)


def f2_lead(x: ArrayLike):
    """Leading bracket of the dipole form factor F_2, Eq. (24)."""

    def closed(x):
        return (x**2 - 1 - 2 * _xlogx_pow(x, 1)) / (x - 1) ** 3

    return _stable(closed, _SERIES_A_F2, x)


def f2_sub(x: ArrayLike):
    """O(M_Zp^2/M_H^2) bracket of F_2, Eq. (24); diverges like -ln x as x -> 0."""

    def closed(x):
        return (1 + x) * (3 - 3 * x**2 + (1 + 4 * x + x**2) * _log(x)) / (x - 1) ** 5

    return _stable(closed, _SERIES_B_F2, x)


def f1_lead(x: ArrayLike):
    """Leading bracket of the charge-radius form factor F_1, Eq. (25); diverges like 2 ln x as x -> 0."""

    def closed(x):
        return (3 - 3 * x + (2 + x) * _log(x)) / (x - 1) ** 2

    return _stable(closed, _SERIES_C_F1, x)
