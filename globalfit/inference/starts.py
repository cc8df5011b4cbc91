"""Start points of the samplers in unconstrained coordinates (:class:`~globalfit.problem.UnconstrainedDensity`).

NUTS starts every chain at the config's ``ref`` values; the coordinates without a ``ref`` and every walker of the
ensemble sampler are drawn uniformly in (-2, 2), as numpyro's ``init_to_uniform`` does, and redrawn where the density
is not finite.
"""

from __future__ import annotations

from typing import Callable, Mapping

import numpy as np

__all__ = ["uniform_starts"]


def uniform_starts(n: int, ndim: int, rng: np.random.Generator, finite: Callable[[np.ndarray], np.ndarray],
                   fixed: Mapping[int, float] | None = None, radius: float = 2.0, tries: int = 100) -> np.ndarray | None:
    """(n, ndim) points: coordinate i at ``fixed[i]``, the others uniform in (-radius, radius); the rows where
    ``finite`` (a batch of points -> booleans) is False are redrawn, at most ``tries`` rounds. None if rows remain."""
    fixed = dict(fixed or {})
    free = np.array([i for i in range(ndim) if i not in fixed], dtype=int)
    x = np.empty((n, ndim))
    for i, v in fixed.items():
        x[:, i] = v
    bad = np.ones(n, dtype=bool)
    for _ in range(tries):
        x[np.ix_(bad, free)] = rng.uniform(-radius, radius, size=(int(bad.sum()), free.size))
        bad = ~np.asarray(finite(x), dtype=bool)
        if not bad.any():
            return x
        if not free.size:
            return None
    return None
