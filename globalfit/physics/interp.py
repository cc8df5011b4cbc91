"""Fixed-shape interpolation: index arithmetic or one vectorised comparison, never a search loop.

``jnp.interp`` finds its interval with ``jnp.searchsorted``, whose default method is a ``while`` loop (a binary
search), and ``jnp.polyval`` is a ``scan``: both compile to XLA ``while`` ops that slow compilation and vectorise
poorly. The functions here compile to straight-line code (gathers, compares, arithmetic):

* :func:`interp_uniform` -- linear interpolation on a uniform grid x_j = x0 + j dx: the interval index is
  floor((x - x0)/dx), clipped.
* :func:`interp_sorted` -- linear interpolation on a sorted, non-uniform grid, the same values as ``jnp.interp``
  (same formula, same ``left``/``right`` handling): the interval index is ``jnp.searchsorted(...,
  method="compare_all")``, one comparison of x with every node (cost O(len(xp)) per point: meant for the tables of
  tens to a few thousand nodes in this package).
* :func:`hermite_uniform` -- cubic Hermite interpolation on a uniform grid from values f_j and derivatives f'_j
  (C^1, error <= h^4 max|f''''| / 384 per interval; e.g. de Boor, *A Practical Guide to Splines*, Ch. IV).
* :func:`horner` -- a polynomial sum_n c_n t^n unrolled in Python (Horner's scheme, the same operations as
  ``jnp.polyval`` without its loop).

All are jit-, vmap- and grad-safe in float64: no division by a data-dependent zero, gradients are the derivatives of
the interpolant (piecewise constant for the linear ones, zero where the value is clamped outside the grid).
"""

from __future__ import annotations

from collections.abc import Sequence

import jax.numpy as jnp
from jax.typing import ArrayLike

from globalfit import _jax  # noqa: F401  (float64)

__all__ = ["interp_uniform", "interp_sorted", "hermite_uniform", "horner"]


def _clamp(x, lo: float, hi: float):
    """x limited to [lo, hi] by ``where`` (gradient 1 inside and on the edges, 0 outside; ``jnp.clip`` halves it
    on the edges)."""
    return jnp.where(x < lo, lo, jnp.where(x > hi, hi, x))


def _cell(x, x0: float, dx: float, n: int):
    """(i, s): interval index i in [0, n-2] and local coordinate s = (x - x_i)/dx, in [0, 1] for x in the grid."""
    t = (x - x0) / dx
    i = jnp.clip(jnp.floor(t), 0, n - 2).astype(jnp.int32)
    return i, t - i


def interp_uniform(x: ArrayLike, x0: float, dx: float, fp: ArrayLike, left: ArrayLike | None = None,
                   right: ArrayLike | None = None):
    """Linear interpolation of fp[j] = f(x0 + j dx) at x (any shape); fp may carry trailing axes (shape (n, ...),
    result x.shape + fp.shape[1:]). Outside the grid: ``left``/``right`` if given, else the end values
    (as ``jnp.interp``)."""
    fp = jnp.asarray(fp, dtype=jnp.float64)
    n = fp.shape[0]
    if n < 2:
        raise ValueError(f"interp_uniform needs at least 2 nodes, got {n}")
    if not dx > 0:
        raise ValueError(f"interp_uniform needs dx > 0, got {dx}")
    x = jnp.asarray(x, dtype=jnp.float64)
    i, s = _cell(_clamp(x, x0, x0 + (n - 1) * dx), x0, dx, n)
    ex = (...,) + (None,) * (fp.ndim - 1)
    f = fp[i] + s[ex] * (fp[i + 1] - fp[i])
    if left is not None:
        f = jnp.where((x < x0)[ex], left, f)
    if right is not None:
        f = jnp.where((x > x0 + (n - 1) * dx)[ex], right, f)
    return f


def interp_sorted(x: ArrayLike, xp: ArrayLike, fp: ArrayLike, left: ArrayLike | None = None,
                  right: ArrayLike | None = None):
    """``jnp.interp(x, xp, fp, left, right)`` for sorted 1-d xp, without a search loop (``searchsorted`` with
    ``method="compare_all"``); same formula, so the same values up to rounding. Repeated nodes (a jump) take the
    right-hand value, as in ``jnp.interp``."""
    xp = jnp.asarray(xp, dtype=jnp.float64)
    fp = jnp.asarray(fp, dtype=jnp.float64)
    if xp.ndim != 1 or xp.shape != fp.shape or xp.shape[0] < 2:
        raise ValueError(f"interp_sorted needs 1-d xp and fp of equal length >= 2, got {xp.shape} and {fp.shape}")
    x = jnp.asarray(x, dtype=jnp.float64)
    n = xp.shape[0]
    i = jnp.clip(jnp.searchsorted(xp, x, side="right", method="compare_all"), 1, n - 1)
    dx = xp[i] - xp[i - 1]
    flat = dx <= 0.0
    f = jnp.where(flat, fp[i - 1], fp[i - 1] + (x - xp[i - 1]) / jnp.where(flat, 1.0, dx) * (fp[i] - fp[i - 1]))
    f = jnp.where(x < xp[0], fp[0] if left is None else left, f)
    return jnp.where(x > xp[-1], fp[-1] if right is None else right, f)


def hermite_uniform(x: ArrayLike, x0: float, dx: float, f: ArrayLike, dfdx: ArrayLike):
    """Cubic Hermite interpolant of values f[j] and derivatives dfdx[j] at x_j = x0 + j dx (shape (n, ...) each),
    evaluated at x (any shape; result x.shape + f.shape[1:]). C^1 in x; outside [x0, x_{n-1}] the end value
    (constant, zero gradient): callers with known asymptotics handle the outside themselves.

    p(s) = h00 f_i + h10 dx f'_i + h01 f_{i+1} + h11 dx f'_{i+1},  s = (x - x_i)/dx,
    h00 = (1 + 2s)(1 - s)^2, h10 = s (1 - s)^2, h01 = s^2 (3 - 2s), h11 = s^2 (s - 1)."""
    f = jnp.asarray(f, dtype=jnp.float64)
    dfdx = jnp.asarray(dfdx, dtype=jnp.float64)
    n = f.shape[0]
    if n < 2 or dfdx.shape != f.shape:
        raise ValueError(f"hermite_uniform needs f and dfdx of equal shape (n >= 2, ...), got {f.shape}, {dfdx.shape}")
    if not dx > 0:
        raise ValueError(f"hermite_uniform needs dx > 0, got {dx}")
    x = _clamp(jnp.asarray(x, dtype=jnp.float64), x0, x0 + (n - 1) * dx)
    i, s = _cell(x, x0, dx, n)
    ex = (...,) + (None,) * (f.ndim - 1)
    s = s[ex]
    r = 1.0 - s
    h00 = (1.0 + 2.0 * s) * r * r
    h10 = s * r * r
    h01 = s * s * (3.0 - 2.0 * s)
    h11 = -s * s * r
    return h00 * f[i] + h01 * f[i + 1] + dx * (h10 * dfdx[i] + h11 * dfdx[i + 1])


def horner(coeffs: Sequence[float], t: ArrayLike):
    """sum_n coeffs[n] t^n by Horner's scheme unrolled in Python (lowest power first; no loop in the graph)."""
    if len(coeffs) == 0:
        raise ValueError("horner needs at least one coefficient")
    t = jnp.asarray(t, dtype=jnp.float64)
    y = jnp.full_like(t, coeffs[-1])
    for c in reversed(coeffs[:-1]):
        y = y * t + c
    return y
