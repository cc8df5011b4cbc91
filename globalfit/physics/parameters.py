"""Model parameters: names, units, defaults and the checks a point must pass.

A parameter point is a mapping ``name -> float or array`` with the names of :data:`PARAMETERS`.
Yukawas are complex: y_alpha = |y_alpha| exp(i phi_alpha) with phi_e = 0 (only relative phases are
physical). Units: GeV. The defaults form a documented reference point of U(1)_B-like size with no
Psi mixing (all y = 0, hence no NSI and no LFV); a user sets what they study.

Physical ranges (``Parameter.lower``/``upper``; every config value and ``--set`` value is checked against them):

* masses (M_Zp, M_Psi, M_H) > 0 and at most the Planck mass :data:`M_PLANCK` (CODATA, ``scipy.constants``), above
  which the model, a renormalisable field theory without gravity, does not apply. Lower ends: M_Psi and M_H at least
  :data:`M_MIN` = (smallest normal float64)^(1/4) ~ 1.2e-77 GeV, below which a mass to the fourth power underflows
  float64; M_Zp at least :data:`M_ZP_MIN` = 1e-12 GeV (1 meV), the domain over which every likelihood's value and
  gradient are verified finite (``bench/bench_nan_sweep.py``, ``tests/test_nan_sweep.py``): at 1e-16 GeV and below the
  gradients of lfv_two_body, meson_decays and zp_baryonic_pi0 (Z' emission rates growing as 1/M_Zp^2) overflow float64
  (NaN) at some points of the widest box, so the floor keeps four decades of margin;
* couplings |g_X|, |g_Psi|, |y_alpha| <= sqrt(4 pi) (perturbativity, the range of the physics spec's Sec. 1),
  g_X >= 0 and |y_alpha| >= 0 by convention (signs and phases sit in g_Psi and phi_alpha). A non-zero g_X is at
  least :data:`G_X_MIN` = 1e-50 (``Parameter.smallest_nonzero``; g_X = 0 itself is allowed): where Psi does not mix
  (r_H -> 0) the Z' width is ~ g_X^2 M_Zp, and for g_X between ~1e-130 and ~1e-80 its square underflows float64 in
  the gradient of the Z' search likelihoods' branching ratios (NaN; below ~1e-140 the width is exactly 0 and guarded),
  verified finite from 1e-70 up by the same sweeps, so the floor keeps twenty decades of margin;
* cos(beta) in [0, 1]; phases any finite angle.
"""

from __future__ import annotations

import math
import sys
from dataclasses import dataclass
from typing import Mapping

import jax.numpy as jnp
from scipy.constants import physical_constants

from globalfit import _jax  # noqa: F401

__all__ = ["Parameter", "PARAMETERS", "PARAM_NAMES", "DEFAULTS", "M_MIN", "M_ZP_MIN", "G_X_MIN", "M_PLANCK", "PERTURBATIVE", "complete", "check_point", "check_log_range"]

M_PLANCK: float = physical_constants["Planck mass energy equivalent in GeV"][0]  # GeV, CODATA via scipy.constants
M_MIN: float = sys.float_info.min ** 0.25  # GeV: M^4 stays a normal float64 number (module docstring)
M_ZP_MIN: float = 1e-12  # GeV: lower end of the verified numerical domain of M_Zp (module docstring)
G_X_MIN: float = 1e-50  # smallest non-zero g_X of the verified numerical domain (module docstring)
PERTURBATIVE: float = math.sqrt(4.0 * math.pi)  # perturbativity of a gauge or Yukawa coupling, |g| <= sqrt(4 pi)
_MASS = f"M > 0, from {M_MIN:.3g} GeV (below, M^4 underflows float64) to the Planck mass {M_PLANCK:.4g} GeV (CODATA)"
_MASS_ZP = (f"M_Zp > 0, from {M_ZP_MIN:g} GeV (the domain where every likelihood and its gradient are verified finite; below "
            f"~1e-16 GeV longitudinal Z' emission overflows float64) to the Planck mass {M_PLANCK:.4g} GeV (CODATA)")
_PERT = f"sqrt(4 pi) = {PERTURBATIVE:.4f} (the perturbative region)"


@dataclass(frozen=True)
class Parameter:
    name: str
    default: float
    unit: str
    latex: str
    description: str
    lower: float  # physical lower bound (inclusive)
    upper: float  # physical upper bound (inclusive)
    strictly_positive: bool = False
    range_source: str = ""  # where lower and upper come from (for error messages)
    smallest_nonzero: float = 0.0  # |x| in (0, smallest_nonzero) is outside the verified numerical domain (0 itself is not)

    @property
    def is_angle(self) -> bool:
        """A phase (unit rad): periodic in 2 pi, summarised on the circle, the one kind a ``circular`` prior takes."""
        return self.unit == "rad"


PARAMETERS: dict[str, Parameter] = {
    p.name: p
    for p in [
        Parameter("M_Zp", 0.01, "GeV", r"M_{Z'}\,[\mathrm{GeV}]", "Z' mass", M_ZP_MIN, M_PLANCK, True, _MASS_ZP),
        Parameter("g_X", 1e-5, "", r"g_X", "U(1)' gauge coupling (>= 0; sign conventions sit in g_Psi)", 0.0, PERTURBATIVE, False,
                  f"0 <= g_X <= {_PERT}; signs sit in g_Psi; a non-zero g_X at least {G_X_MIN:g} (below, the Z' width "
                  "squared underflows float64 in likelihood gradients)", G_X_MIN),
        Parameter("g_Psi", 0.1, "", r"g_\Psi", "Z' coupling of the Dirac fermion Psi (signed)", -PERTURBATIVE, PERTURBATIVE, False, f"|g_Psi| <= {_PERT}"),
        Parameter("M_Psi", 1.0, "GeV", r"M_\Psi\,[\mathrm{GeV}]", "Psi mass", M_MIN, M_PLANCK, True, _MASS),
        Parameter("M_H", 400.0, "GeV", r"M_{H^-}\,[\mathrm{GeV}]", "charged-scalar (H^-) mass", M_MIN, M_PLANCK, True, _MASS),
        Parameter("cos_beta", 1e-4, "", r"\cos\beta", "<H'> = v cos(beta)/sqrt 2", 0.0, 1.0, False, "0 <= cos(beta) <= 1"),
        Parameter("y_e", 0.0, "", r"|y_e|", "|Yukawa| of L_e H'~ Psi_R", 0.0, PERTURBATIVE, False, f"0 <= |y| <= {_PERT}; a modulus"),
        Parameter("y_mu", 0.0, "", r"|y_\mu|", "|Yukawa| of L_mu H'~ Psi_R", 0.0, PERTURBATIVE, False, f"0 <= |y| <= {_PERT}; a modulus"),
        Parameter("y_tau", 0.0, "", r"|y_\tau|", "|Yukawa| of L_tau H'~ Psi_R", 0.0, PERTURBATIVE, False, f"0 <= |y| <= {_PERT}; a modulus"),
        Parameter("phi_mu", 0.0, "rad", r"\phi_\mu", "phase of y_mu relative to y_e", -math.inf, math.inf, False, "any finite angle"),
        Parameter("phi_tau", 0.0, "rad", r"\phi_\tau", "phase of y_tau relative to y_e", -math.inf, math.inf, False, "any finite angle"),
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
        if not (p.lower <= v <= p.upper) or 0.0 < abs(v) < p.smallest_nonzero:
            raise ValueError(f"parameter {name}={v:g} outside its physical range [{p.lower:g}, {p.upper:g}] ({p.description}: {p.range_source})")


def check_log_range(name: str, lo: float, hi: float) -> None:
    """A log axis [lo, hi] of parameter ``name`` (a profile or constraints map): finite, 0 < lo < hi, both ends in its
    physical range (:func:`check_point`); raise ValueError saying which."""
    if not (math.isfinite(lo) and math.isfinite(hi) and 0.0 < lo < hi):
        raise ValueError(f"expected 0 < lo < hi (finite; a log axis of {name}), got [{lo:g}, {hi:g}]")
    check_point({name: lo})
    check_point({name: hi})
