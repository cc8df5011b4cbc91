"""Model parameters: names, units, defaults and the checks a point must pass.

A parameter point is a mapping ``name -> float or array`` with the names of :data:`PARAMETERS`.
Yukawas are complex: y_alpha = |y_alpha| exp(i phi_alpha) with phi_e = 0 (only relative phases are
physical). Units: GeV. The defaults form a documented reference point of U(1)_B-like size with no
Psi mixing (all y = 0, hence no NSI and no LFV); a user sets what they study.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Mapping

import jax.numpy as jnp

from globalfit import _jax  # noqa: F401

__all__ = ["Parameter", "PARAMETERS", "PARAM_NAMES", "DEFAULTS", "complete", "check_point"]


@dataclass(frozen=True)
class Parameter:
    name: str
    default: float
    unit: str
    latex: str
    description: str
    lower: float  # physical lower bound (inclusive unless strictly positive)
    upper: float
    strictly_positive: bool = False


PARAMETERS: dict[str, Parameter] = {
    p.name: p
    for p in [
        Parameter("M_Zp", 0.01, "GeV", r"M_{Z'}\,[\mathrm{GeV}]", "Z' mass", 0.0, math.inf, True),
        Parameter("g_X", 1e-5, "", r"g_X", "U(1)' gauge coupling (>= 0; sign conventions sit in g_Psi)", 0.0, math.sqrt(4 * math.pi)),
        Parameter("g_Psi", 0.1, "", r"g_\Psi", "Z' coupling of the Dirac fermion Psi (signed)", -math.sqrt(4 * math.pi), math.sqrt(4 * math.pi)),
        Parameter("M_Psi", 1.0, "GeV", r"M_\Psi\,[\mathrm{GeV}]", "Psi mass", 0.0, math.inf, True),
        Parameter("M_H", 400.0, "GeV", r"M_{H^-}\,[\mathrm{GeV}]", "charged-scalar (H^-) mass", 0.0, math.inf, True),
        Parameter("cos_beta", 1e-4, "", r"\cos\beta", "<H'> = v cos(beta)/sqrt 2", 0.0, 1.0),
        Parameter("y_e", 0.0, "", r"|y_e|", "|Yukawa| of L_e H'~ Psi_R", 0.0, math.sqrt(4 * math.pi)),
        Parameter("y_mu", 0.0, "", r"|y_\mu|", "|Yukawa| of L_mu H'~ Psi_R", 0.0, math.sqrt(4 * math.pi)),
        Parameter("y_tau", 0.0, "", r"|y_\tau|", "|Yukawa| of L_tau H'~ Psi_R", 0.0, math.sqrt(4 * math.pi)),
        Parameter("phi_mu", 0.0, "rad", r"\phi_\mu", "phase of y_mu relative to y_e", -math.inf, math.inf),
        Parameter("phi_tau", 0.0, "rad", r"\phi_\tau", "phase of y_tau relative to y_e", -math.inf, math.inf),
    ]
}
PARAM_NAMES: tuple[str, ...] = tuple(PARAMETERS)
DEFAULTS: dict[str, float] = {n: p.default for n, p in PARAMETERS.items()}


def complete(values: Mapping[str, object]) -> dict[str, jnp.ndarray]:
    """Fill unset parameters with their defaults and convert to float64 arrays.

    Raises KeyError naming an unknown parameter.
    """
    unknown = sorted(set(values) - set(PARAMETERS))
    if unknown:
        raise KeyError(f"unknown parameter(s) {unknown}; expected names from {list(PARAM_NAMES)}")
    out = dict(DEFAULTS)
    out.update(values)
    return {k: jnp.asarray(out[k], dtype=jnp.float64) for k in PARAM_NAMES}


def check_point(values: Mapping[str, float]) -> None:
    """Check concrete parameter values against their physical ranges; raise ValueError naming the offender."""
    for name, value in values.items():
        p = PARAMETERS[name]
        v = float(value)
        if not math.isfinite(v):
            raise ValueError(f"parameter {name}={value!r} is not a finite number")
        if p.strictly_positive and v <= 0:
            raise ValueError(f"parameter {name}={v:g} must be > 0 ({p.description}, in {p.unit})")
        if not (p.lower <= v <= p.upper):
            raise ValueError(f"parameter {name}={v:g} outside its physical range [{p.lower:g}, {p.upper:g}] ({p.description})")
