"""Limits and measurements read from the offline PDG database (`pdg` package) at build time."""

from __future__ import annotations

import functools
import warnings
from dataclasses import dataclass

from globalfit.physics.constants import pdg_api

__all__ = ["PdgLimit", "pdg_limit", "limit_from_options"]


@dataclass(frozen=True)
class PdgLimit:
    """An upper limit: value at confidence level cl (fraction), with where it came from."""

    value: float
    cl: float
    source: str  # "PDG 2026 S035.32 (tau- --> e- gamma)" or "override: ..."


@functools.lru_cache(maxsize=None)
def pdg_limit(pdgid: str) -> PdgLimit:
    """The PDG best-summary upper limit of a quantity (e.g. 'S035.32' for tau -> e gamma)."""
    api = pdg_api()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        item = api.get(pdgid)
        s = item.best_summary()
        if not s.is_limit:
            raise ValueError(f"PDG {pdgid} ({item.description}) is a measurement, not a limit")
        cl = float(s.confidence_level) / 100.0 if s.confidence_level else 0.9
        return PdgLimit(float(s.value), cl, f"PDG {api.edition} {pdgid} ({item.description})")


def limit_from_options(pdgid: str, limit: float | None, cl: float | None, label: str) -> PdgLimit:
    """PDG value unless the config overrides it (projections, the paper's 2016 inputs)."""
    if limit is None:
        base = pdg_limit(pdgid)
        return base if cl is None else PdgLimit(base.value, cl, base.source)
    if not limit > 0:
        raise ValueError(f"{label}: limit must be > 0, got {limit}")
    c = 0.9 if cl is None else cl
    if not 0 < c < 1:
        raise ValueError(f"{label}: cl must be a fraction in (0, 1), got {c}")
    return PdgLimit(float(limit), c, f"override {limit:g} at {c:.0%} CL")
