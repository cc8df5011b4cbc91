"""Evaluate one parameter point: derived observables, per-likelihood log L, and -2 Delta ln L relative to the
Standard-Model point (the same parameters with g_X = 0 and no Psi-neutrino mixing, y_alpha = 0), the convention of
:mod:`likelihoods.stats` for quoting a Delta chi^2."""

from __future__ import annotations

import dataclasses
import math
from typing import Mapping

import numpy as np

from globalfit.physics.model import DERIVED_INFO, DERIVED_NAMES, ModelOptions, observables
from globalfit.physics.parameters import DEFAULTS, PARAMETERS, check_point, complete
from globalfit.physics.scenarios import FLAVOURS, get_scenario
from globalfit.problem.support import complete_with_rh, constraint_values, physical_point

__all__ = ["check_values", "evaluate_point", "violated_constraints", "format_table", "SM_OVERRIDES"]

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


def check_values(values: Mapping[str, float], scenario_name: str, options: ModelOptions = ModelOptions()) -> ModelOptions:
    """Every check of a point that needs no model evaluation (ValueError/KeyError, one line): known names, r_H in
    (0, 1] and not together with cos_beta, each value finite and in its physical range
    (:func:`globalfit.physics.parameters.check_point`), Psi mixing only with flavours of equal charge, and with r_H a
    g_Psi different from g_l (Eq. 9 fixes cos_beta only then). Returns the options with the Psi flavours inferred."""
    scenario = get_scenario(scenario_name)
    unknown = sorted(k for k in values if k not in PARAMETERS and k != "r_H")
    if unknown:
        raise KeyError(f"unknown parameter(s) {unknown}; expected names from {list(PARAMETERS) + ['r_H']}")
    if "r_H" in values and "cos_beta" in values:
        raise ValueError("r_H and cos_beta both given: give one of them (cos_beta = r_H M_Zp/(|g_Psi - g_l| v), Eq. 9)")
    if "r_H" in values:
        r = float(values["r_H"])
        if not (math.isfinite(r) and 0.0 < r <= 1.0):
            raise ValueError(f"parameter r_H={r!r} must lie in (0, 1] (Eq. 9)")
    check_point({k: v for k, v in values.items() if k != "r_H"})
    options = _check_psi_flavours(values, scenario, options)
    if "r_H" in values:
        g_l = float(values.get("g_X", DEFAULTS["g_X"])) * scenario.mixing_lepton_charge(options.flavours(scenario))
        if float(values.get("g_Psi", DEFAULTS["g_Psi"])) == g_l:
            raise ValueError("r_H given but g_Psi equals the lepton charge of Psi's flavours: Eq. 9 fixes no cos_beta")
    return options


def evaluate_point(values: Mapping[str, float], scenario_name: str, options: ModelOptions = ModelOptions(), likelihoods=None) -> dict:
    """Return ``{"scenario", "parameters", "derived", "loglike", "total"}`` for one point.

    ``values`` are config values: parameters of :data:`globalfit.physics.parameters.PARAMETERS`, unset ones at their
    defaults, and optionally ``r_H`` in (0, 1] in place of cos_beta (Eq. 9 of arXiv:1607.07616).

    ``likelihoods`` is a list of configured likelihood objects (see :mod:`likelihoods`); None = none.
    Raises KeyError/ValueError with a one-line message for bad input (:func:`check_values`) and for a point whose
    observables or log L are not finite (it then names the support constraints the point violates).
    """
    scenario = get_scenario(scenario_name)
    options = check_values(values, scenario_name, options)
    p = complete(physical_point(complete_with_rh(values), scenario, options))
    obs = observables(p, scenario, options)
    der = {k: float(np.asarray(obs[k])) for k in DERIVED_NAMES}
    loglike = {}
    for lk in likelihoods or []:
        loglike[lk.name] = float(np.asarray(lk.loglike(obs)))
    bad = [k for k, v in {**der, **loglike}.items() if not math.isfinite(v)]
    if bad:
        violated = [name for name, c in constraint_values(p, scenario, options).items() if not bool(c.holds)]
        where = f"; the point violates {', '.join(violated)} (the model's physical support)" if violated else ""
        raise ValueError(f"the point gives non-finite {', '.join(bad[:4])}{' ...' if len(bad) > 4 else ''}{where}")
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
        "delta_chi2_vs_sm": 2.0 * (total_sm - total),  # x - x is +0: no "-0" at the SM point
    }


def violated_constraints(result: dict, options: ModelOptions = ModelOptions()) -> list[str]:
    """The constraints of :mod:`globalfit.problem.support` that the point of an :func:`evaluate_point` result violates
    (empty inside the physical support)."""
    p = complete(result["parameters"])
    scenario = get_scenario(result["scenario"])
    options = _check_psi_flavours(result["parameters"], scenario, options)
    return [name for name, c in constraint_values(p, scenario, options).items() if not bool(c.holds)]


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
