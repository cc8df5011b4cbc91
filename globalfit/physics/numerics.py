"""Small numerical helpers of the physics core."""

from __future__ import annotations

import functools
from contextlib import contextmanager
from typing import Any, Callable, Hashable, Iterator

import jax
import jax.numpy as jnp
import numpy as np

from globalfit import _jax  # noqa: F401

__all__ = ["abs2", "gauss_legendre", "on_grid", "one_blas_thread"]

# the smallest padded length of on_grid (a power of two)
MIN_GRID = 64


def abs2(z):
    """|z|^2 as Re(z)^2 + Im(z)^2: gradient-safe at z = 0, where jnp.abs(z)**2 of a complex z has no derivative."""
    return jnp.real(z) ** 2 + jnp.imag(z) ** 2


@functools.lru_cache(maxsize=None)
def gauss_legendre(n: int) -> tuple[np.ndarray, np.ndarray]:
    """(nodes, weights) of the n-point Gauss-Legendre rule on [-1, 1] (numpy's ``leggauss``), computed once per n and
    read-only: building a full config asked for the same few rules ~460 times (0.4 s)."""
    x, w = np.polynomial.legendre.leggauss(n)
    x.flags.writeable = w.flags.writeable = False
    return x, w


@functools.lru_cache(maxsize=None)
def _compiled(fn: Callable, static: tuple[Hashable, ...]) -> Callable:
    """``x -> fn(x, *static)`` jitted, one per function and static arguments (:func:`on_grid`)."""
    return jax.jit(lambda x: fn(x, *static))


def on_grid(fn: Callable, x, *static: Hashable) -> Any:
    """``fn(x, *static)`` at the points along the last axis of ``x`` (leading axes, e.g. several inputs stacked, are
    kept), as numpy arrays, by one compiled program per function, static arguments and padded length: the last axis is
    padded with its last value to the next power of two (at least :data:`MIN_GRID`) and every result cut back to its
    length. For tables built before a fit: evaluated eagerly, each JAX operation is compiled on its own (~20 ms each
    on CPU; hundreds per table), and the padding lets tables of similar length share one program (docs/performance.md,
    "Building the likelihoods"). ``fn`` must act on each point alone (elementwise along the last axis); ValueError for
    no points."""
    x = np.asarray(x, dtype=float)
    n = x.shape[-1] if x.ndim else 0
    if n == 0:
        raise ValueError(f"on_grid({getattr(fn, '__name__', fn)}): no points to evaluate (x of shape {x.shape})")
    size = max(MIN_GRID, 1 << max(n - 1, 0).bit_length())
    padded = np.concatenate([x, np.broadcast_to(x[..., -1:], (*x.shape[:-1], size - n))], axis=-1)
    out = _compiled(fn, static)(jnp.asarray(padded))
    return jax.tree.map(lambda a: np.asarray(a)[..., :n], out)


@contextmanager
def one_blas_thread() -> Iterator[None]:
    """numpy's BLAS and LAPACK (OpenBLAS, MKL, ...) on one thread inside (``threadpoolctl``). A product or a
    decomposition can differ in its last bits with the number of BLAS threads, and a Dask worker runs BLAS on one
    (its nanny sets ``OPENBLAS_NUM_THREADS=1``). The likelihoods' tables, built inside, then hold the same bits in every
    process, and a profile map is the same number for number on any number of workers as in one process (full_B
    before this: the CEvNS terms differed by ~5e-16 between a worker and the client, and after 400 Adam steps whole
    cells of the map differed; docs/performance.md, "The same bits in every process")."""
    from threadpoolctl import threadpool_limits  # noqa: PLC0415  (only at build time)

    with threadpool_limits(limits=1, user_api="blas"):
        yield
