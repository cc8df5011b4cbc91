"""Evaluate one parameter point: derived observables, per-likelihood log L, and -2 Delta ln L relative to the
Standard-Model point (the same parameters with g_X = 0 and no Psi-neutrino mixing, y_alpha = 0), the convention of
:mod:`likelihoods.stats` for quoting a Delta chi^2."""

from __future__ import annotations

import dataclasses
import math
from typing import Mapping

import numpy as np

from globalfit.physics.model import DERIVED_INFO, DERIVED_NAMES, ModelOptions, observables
from globalfit.physics.parameters import PARAMETERS, check_point, complete
from globalfit.physics.scenarios import FLAVOURS, get_scenario
from globalfit.problem.support import complete_with_rh, physical_point

__all__ = ["evaluate_point", "format_table", "SM_OVERRIDES"]

# the Standard-Model point: no Z' coupling to SM fermions, no Psi-neutrino mixing (every NSI and LFV rate vanishes)
SM_OVERRIDES = {"g_X": 0.0, "y_e": 0.0, "y_mu": 0.0, "y_tau": 0.0}


def _check_psi_flavours(values: Mapping[str, float], scenario, options: ModelOptions) -> ModelOptions:
    """In a flavoured scenario Psi mixes only with flavours of equal charge: infer them from non-zero y."""
    if options.psi_flavours is not None:
        mask = options.psi_flavours
        bad = [f for f, m in zip(FLAVOURS, mask) if not m and float(values.get(f"y_{f}", 0.0)) != 0.0]
        if bad:
            raise ValueError(f"y_{bad[0]} is non-zero but Psi is configured to mix only with {[f for f, m in zip(FLAVOURS, mask) if m]}")
        scenario.mixing_lepton_charge(mask)
        return options
    nonzero = tuple(float(values.get(f"y_{f}", 0.0)) != 0.0 for f in FLAVOURS)
    if any(nonzero):
        scenario.mixing_lepton_charge(nonzero)  # raises if charges differ
        if len(set(scenario.l)) > 1:
            return dataclasses.replace(options, psi_flavours=nonzero)
    return options


def evaluate_point(values: Mapping[str, float], scenario_name: str, options: ModelOptions = ModelOptions(), likelihoods=None) -> dict:
    """Return ``{"scenario", "parameters", "derived", "loglike", "total"}`` for one point.

    ``values`` are config values: parameters of :data:`globalfit.physics.parameters.PARAMETERS`, unset ones at their
    defaults, and optionally ``r_H`` in (0, 1] in place of cos_beta (Eq. 9 of arXiv:1607.07616).

    ``likelihoods`` is a list of configured likelihood objects (see :mod:`likelihoods`); None = none.
    Raises KeyError/ValueError with a one-line message for bad input.
    """
    scenario = get_scenario(scenario_name)
    config_only = {k: float(v) for k, v in values.items() if k == "r_H"}
    for k, v in config_only.items():
        if not (math.isfinite(v) and 0.0 < v <= 1.0):
            raise ValueError(f"parameter r_H={v!r} must lie in (0, 1] (Eq. 9)")
    check_point({k: v for k, v in values.items() if k not in config_only})
    options = _check_psi_flavours(values, scenario, options)
    p = complete(physical_point(complete_with_rh(values), scenario, options))
    if not math.isfinite(float(p["cos_beta"])):
        raise ValueError("r_H given but g_Psi equals the lepton charge of Psi's flavours: Eq. 9 fixes no cos_beta")
    obs = observables(p, scenario, options)
    der = {k: float(np.asarray(obs[k])) for k in DERIVED_NAMES}
    loglike = {}
    for lk in likelihoods or []:
        loglike[lk.name] = float(np.asarray(lk.loglike(obs)))
    p_sm = complete({**{k: v for k, v in p.items()}, **SM_OVERRIDES})
    obs_sm = observables(p_sm, scenario, options)
    total_sm = sum(float(np.asarray(lk.loglike(obs_sm))) for lk in likelihoods or [])
    total = float(sum(loglike.values()))
    return {
        "scenario": scenario.name,
        "parameters": {k: float(np.asarray(v)) for k, v in p.items()},
        "derived": der,
        "loglike": loglike,
        "total": total,
        "total_sm": total_sm,
        "delta_chi2_vs_sm": -2.0 * (total - total_sm),
    }


def format_table(result: dict) -> str:
    """Human-readable table of an evaluate_point result."""
    lines = [f"scenario: {result['scenario']}", "", "parameters"]
    for k, v in result["parameters"].items():
        unit = PARAMETERS[k].unit
        lines.append(f"  {k:<22s} {v:>13.6g} {unit}")
    lines += ["", "derived"]
    for k, v in result["derived"].items():
        lines.append(f"  {k:<22s} {v:>13.6g}   {DERIVED_INFO[k][1]}")
    lines += ["", "log-likelihood"]
    if not result["loglike"]:
        lines.append("  (no likelihoods enabled)")
    for k, v in result["loglike"].items():
        lines.append(f"  {k:<22s} {v:>13.6g}")
    lines.append(f"  {'total':<22s} {result['total']:>13.6g}")
    lines.append(f"  {'total at the SM point':<22s} {result['total_sm']:>13.6g}   (g_X = 0, y_alpha = 0)")
    lines.append(f"  {'-2 Delta ln L vs SM':<22s} {result['delta_chi2_vs_sm']:>13.6g}")
    return "\n".join(lines)
