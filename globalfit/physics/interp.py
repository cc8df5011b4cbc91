"""Fixed-shape interpolation: index arithmetic or one vectorised comparison, never a search loop.

``jnp.interp`` finds its interval with ``jnp.searchsorted``, whose default method is a ``while`` loop (a binary
search), and ``jnp.polyval`` is a ``scan``: both compile to XLA ``while`` ops that slow compilation and vectorise
poorly. The functions here compile to straight-line code (gathers, compares, arithmetic):

* :func:`interp_uniform` -- linear interpolation on a uniform grid x_j = x0 + j dx: the interval index is
  floor((x - x0)/dx), clipped.
* :func:`interp_sorted` -- linear interpolation on a sorted, non-uniform grid, the same values as ``jnp.interp``
  (same formula, same ``left``/``right`` handling). When the grid is a constant (every table of this package) the
  interval index comes from an exact bucketed search: [xp_0, xp_-1] is cut into 2 len(xp) uniform buckets, and for
  each bucket a window of K consecutive nodes is chosen (numpy, at trace time) between which every point of that
  bucket lies, with one bucket of margin on each side against rounding of the bucket index; the index is the
  window's start plus the number of window nodes <= x. K is a few nodes for the tables here, against len(xp)
  comparisons for ``jnp.searchsorted(..., method="compare_all")``, which remains the path for a traced grid
  (docs/performance.md, "The support mask and the interpolation searches").
* :func:`hermite_uniform` -- cubic Hermite interpolation on a uniform grid from values f_j and derivatives f'_j
  (C^1, error <= h^4 max|f^(4)| / 384 per interval; e.g. de Boor, *A Practical Guide to Splines*, Ch. IV), as
  per-interval cubic coefficients (:func:`hermite_coefficients`, built once) read by :func:`piecewise_cubic` (one
  gather per point).
* :func:`horner` -- a polynomial sum_n c_n t^n unrolled in Python (Horner's scheme, the same operations as
  ``jnp.polyval`` without its loop).

All are jit-, vmap- and grad-safe in float64: no division by a data-dependent zero, gradients are the derivatives of
the interpolant (piecewise constant for the linear ones, zero where the value is clamped outside the grid).
"""

from __future__ import annotations

from collections.abc import Sequence

import jax
import jax.numpy as jnp
import numpy as np
from jax.typing import ArrayLike

from globalfit import _jax  # noqa: F401  (float64)

__all__ = ["interp_uniform", "interp_sorted", "hermite_coefficients", "piecewise_cubic", "hermite_uniform", "horner"]


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
                   right: ArrayLike | None = None) -> jax.Array:
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
                  right: ArrayLike | None = None) -> jax.Array:
    """``jnp.interp(x, xp, fp, left, right)`` for sorted 1-d xp, without a search loop (``searchsorted`` with
    ``method="compare_all"``); same formula, so the same values up to rounding. Repeated nodes (a jump) take the
    right-hand value, as in ``jnp.interp``. fp may carry trailing axes (shape (n, ...), result x.shape +
    fp.shape[1:]): several functions tabulated on one grid are read with one search."""
    grid = xp if isinstance(xp, jax.core.Tracer) else np.asarray(xp, dtype=np.float64)  # before jnp.asarray (below)
    xp = jnp.asarray(xp, dtype=jnp.float64)
    fp = jnp.asarray(fp, dtype=jnp.float64)
    if xp.ndim != 1 or fp.ndim < 1 or xp.shape[0] != fp.shape[0] or xp.shape[0] < 2:
        raise ValueError(f"interp_sorted needs 1-d xp and fp of shape (len(xp), ...), len(xp) >= 2, got {xp.shape} and {fp.shape}")
    x = jnp.asarray(x, dtype=jnp.float64)
    n = xp.shape[0]
    i = jnp.clip(_count_not_above(x, grid), 1, n - 1)
    ex = (...,) + (None,) * (fp.ndim - 1)
    dx = xp[i] - xp[i - 1]
    flat = (dx <= 0.0)[ex]
    t = ((x - xp[i - 1]) / jnp.where(dx <= 0.0, 1.0, dx))[ex]
    f = jnp.where(flat, fp[i - 1], fp[i - 1] + t * (fp[i] - fp[i - 1]))
    f = jnp.where((x < xp[0])[ex], fp[0] if left is None else left, f)
    return jnp.where((x > xp[-1])[ex], fp[-1] if right is None else right, f)


def _search_buckets(xp: np.ndarray) -> tuple[float, float, np.ndarray, np.ndarray] | None:
    """(x0, bucket width, window start per bucket, nodes padded with NaN) of the bucketed search, or None for a
    grid without extent. Bucket b covers [x0 + b w, x0 + (b + 1) w); its window starts at the number of nodes <= the
    start of bucket b - 1 and reaches past every node <= the end of bucket b + 1 (one bucket of margin each side)."""
    n = xp.size
    lo, hi = float(xp[0]), float(xp[-1])
    if not hi > lo:
        return None
    n_buckets = 2 * n
    width = (hi - lo) / n_buckets
    edges = lo + width * np.arange(n_buckets + 1)
    below = np.concatenate([[-np.inf], edges[:-1]])  # start of bucket b - 1 (everything below bucket 0)
    above = np.concatenate([edges[2:-1], [np.inf, np.inf]])  # end of bucket b + 1; the last two reach past xp_-1
    start = np.searchsorted(xp, below, side="right")[:n_buckets]
    stop = np.searchsorted(xp, above, side="right")[:n_buckets]
    k = max(int(np.max(stop - start)), 1)
    return lo, width, start.astype(np.int32), np.concatenate([xp, np.full(k, np.nan)])  # NaN: never <= x


def _count_not_above(x, xp):
    """The number of nodes xp_j <= x (``searchsorted(xp, x, side="right")``), exact; bucketed for a constant grid.
    A constant grid must arrive here as numpy (or a concrete array): inside ``jit``, ``jnp.asarray`` of a numpy array
    is a tracer in current JAX, and a tracer takes the compare-all path."""
    if isinstance(xp, jax.core.Tracer):
        return jnp.searchsorted(xp, x, side="right", method="compare_all")
    xp_np = np.asarray(xp)
    buckets = _search_buckets(xp_np)
    if buckets is None:
        return jnp.searchsorted(xp, x, side="right", method="compare_all")
    lo, width, start, padded = buckets
    k = padded.size - xp_np.size
    b = jnp.clip(jnp.floor((x - lo) / width), 0, start.size - 1).astype(jnp.int32)
    first = jnp.asarray(start)[b]
    window = jnp.asarray(padded)[first[..., None] + jnp.arange(k)]
    return first + jnp.sum(window <= x[..., None], axis=-1, dtype=jnp.int32)


def hermite_coefficients(f: ArrayLike, dfdx: ArrayLike, dx: float) -> np.ndarray | jax.Array:
    """Cubic Hermite interpolant of values f[j] and derivatives dfdx[j] on a uniform grid of step dx (shape (n, ...)
    each) as per-interval polynomial coefficients, shape (n - 1, 4, ...):

    p_i(s) = c0 + c1 s + c2 s^2 + c3 s^3,  s = (x - x_i)/dx in [0, 1],
    c0 = f_i,  c1 = dx f'_i,  c2 = 3 (f_{i+1} - f_i) - dx (2 f'_i + f'_{i+1}),  c3 = 2 (f_i - f_{i+1}) + dx (f'_i + f'_{i+1}),

    so that p and its derivative match f and f' at both ends of every interval (C^1; interpolation error at most
    dx^4 max|f^(4)| / 384). numpy in, numpy out (a table built once); jax arrays in, jax arrays out."""
    lib = np if isinstance(f, np.ndarray) and isinstance(dfdx, np.ndarray) else jnp
    f, dfdx = lib.asarray(f, dtype=np.float64), lib.asarray(dfdx, dtype=np.float64)
    if f.ndim < 1 or f.shape[0] < 2 or dfdx.shape != f.shape:
        raise ValueError(f"Hermite interpolation needs f and dfdx of equal shape (n >= 2, ...), got {f.shape}, {dfdx.shape}")
    if not dx > 0:
        raise ValueError(f"Hermite interpolation needs dx > 0, got {dx}")
    f0, f1, d0, d1 = f[:-1], f[1:], dx * dfdx[:-1], dx * dfdx[1:]
    return lib.stack([f0, d0, 3.0 * (f1 - f0) - 2.0 * d0 - d1, 2.0 * (f0 - f1) + d0 + d1], axis=1)


def piecewise_cubic(x: ArrayLike, x0: float, dx: float, coeffs: ArrayLike) -> jax.Array:
    """Evaluate per-interval cubics (coefficients of shape (n - 1, 4, ...), e.g. :func:`hermite_coefficients`) on the
    uniform grid x_i = x0 + i dx at x (any shape; result x.shape + coeffs.shape[2:]): one gather, Horner in s.
    Outside [x0, x_{n-1}] the end value (constant, zero gradient): callers with known asymptotics handle the outside."""
    coeffs = jnp.asarray(coeffs, dtype=jnp.float64)
    if coeffs.ndim < 2 or coeffs.shape[0] < 1 or coeffs.shape[1] != 4:
        raise ValueError(f"piecewise_cubic needs coefficients of shape (n - 1, 4, ...), got {coeffs.shape}")
    if not dx > 0:
        raise ValueError(f"piecewise_cubic needs dx > 0, got {dx}")
    n = coeffs.shape[0] + 1
    i, s = _cell(_clamp(jnp.asarray(x, dtype=jnp.float64), x0, x0 + (n - 1) * dx), x0, dx, n)
    c = coeffs[i]  # x.shape + (4, ...)
    s = s[(...,) + (None,) * (coeffs.ndim - 2)]
    k = coeffs.ndim - 2  # trailing axes after the 4 coefficients
    c0, c1, c2, c3 = (c[(..., j) + (slice(None),) * k] for j in range(4))
    return c0 + s * (c1 + s * (c2 + s * c3))


def hermite_uniform(x: ArrayLike, x0: float, dx: float, f: ArrayLike, dfdx: ArrayLike) -> jax.Array:
    """Cubic Hermite interpolant of values f[j] and derivatives dfdx[j] at x_j = x0 + j dx (shape (n, ...) each),
    evaluated at x (any shape; result x.shape + f.shape[1:]): :func:`piecewise_cubic` of :func:`hermite_coefficients`
    (build the coefficients once with the latter when one table is read many times)."""
    return piecewise_cubic(x, x0, dx, hermite_coefficients(f, dfdx, dx))


def horner(coeffs: Sequence[float], t: ArrayLike) -> jax.Array:
    """sum_n coeffs[n] t^n by Horner's scheme unrolled in Python (lowest power first; no loop in the graph)."""
    if len(coeffs) == 0:
        raise ValueError("horner needs at least one coefficient")
    t = jnp.asarray(t, dtype=jnp.float64)
    y = jnp.full_like(t, coeffs[-1])
    for c in reversed(coeffs[:-1]):
        y = y * t + c
    return y
