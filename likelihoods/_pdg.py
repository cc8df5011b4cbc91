"""Limits read from the offline PDG database (the `pdg` package) at build time."""

from __future__ import annotations

import functools
import warnings

from globalfit.physics.constants import pdg_api

from .base import Limit, Measurement

__all__ = ["pdg_limit", "pdg_measurement", "limit_from_options"]


def _best_summary(pdgid: str, want_limit: bool):
    """(edition, description, best summary) of a PDG quantity; ValueError when it is a limit and a measurement was
    wanted, or the reverse."""
    api = pdg_api()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        item = api.get(pdgid)
        s = item.best_summary()
    if bool(s.is_limit) != want_limit:
        kind, other = ("a measurement", "a limit") if want_limit else ("a limit", "a measurement")
        raise ValueError(f"PDG {pdgid} ({item.description}) is {kind}, not {other}")
    return api.edition, item.description, s


@functools.lru_cache(maxsize=None)
def pdg_limit(pdgid: str) -> Limit:
    """The PDG best-summary upper limit of a quantity (e.g. 'S035.32' for tau -> e gamma), with its CL."""
    edition, description, s = _best_summary(pdgid, want_limit=True)
    cl = float(s.confidence_level) / 100.0 if s.confidence_level else 0.9
    return Limit(float(s.value), cl, f"PDG {edition} {pdgid} ({description})")


@functools.lru_cache(maxsize=None)
def pdg_measurement(pdgid: str) -> Measurement:
    """The PDG best-summary value of a measured quantity with its errors (e.g. 'S014.7', Br(eta -> pi0 gamma gamma))."""
    edition, description, s = _best_summary(pdgid, want_limit=False)
    return Measurement(float(s.value), float(s.error_positive), float(s.error_negative), f"PDG {edition} {pdgid} ({description})")


def limit_from_options(pdgid: str, limit: float | None, cl: float | None) -> Limit:
    """The PDG limit unless the config overrides it (projections, the paper's 2016 inputs); an override without a CL
    is a 90 % CL limit. The options are already validated (positive, finite, CL in (0, 1))."""
    if limit is None:
        base = pdg_limit(pdgid)
        return base if cl is None else Limit(base.value, cl, base.source)
    c = 0.9 if cl is None else cl
    return Limit(float(limit), c, f"override {limit:g} at {c:.0%} CL")
