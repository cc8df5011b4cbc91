"""Run configs: YAML -> validated :class:`RunConfig` (pydantic), errors that name file, key path and fix.

A config has the blocks ``model``, ``params``, ``priors`` (a named prior set from ``priors/``),
``likelihoods``, ``sampler``, ``output`` and ``plots``. Each entry of ``params`` is either a number
(fixed) or a mapping ``{prior: <dist>, min, max, loc, scale, ref, negative, signed, latex}`` with ``<dist>`` one of
uniform, log-uniform, normal, half-normal, log-normal, circular; or ``{value: x}`` (fixed). Parameters that a
config does not mention take the documented defaults of :mod:`globalfit.physics.parameters`.

Priors (how :mod:`globalfit.problem.parametrisation` samples them; ``min``/``max`` always truncate):

* ``uniform``: U(min, max) on the value.
* ``log-uniform``: log10(x) ~ U(log10 min, log10 max) (site ``log10_<name>``).
* ``normal``: N(loc, scale); ``half-normal``: |N(0, scale)|, x >= 0.
* ``log-normal``: ln(x) ~ N(loc, scale) (site ``ln_<name>``; loc, scale in ln units).
* ``circular`` (phases only, no min/max/loc/scale): uniform on the circle, x in [-pi, pi); drawn on the real line as
  ``unwrapped_<name>`` ~ N(0, :data:`CIRCULAR_SD`) and wrapped, a prior uniform to 1e-19 without an edge at +-pi.
* ``negative: true`` (log-uniform / log-normal / half-normal only): the parameter is -x, x drawn as above
  (e.g. a negative g_Psi spanning decades); ``min``/``max`` bound |x|, ``ref`` is the signed value.
* ``signed: true`` (log-uniform only): both signs in one fit, each with prior probability 1/2 and |x| log-uniform in
  [min, max]; drawn as one site ``slog10_<name>`` ~ U(-L, L), L = log10(max/min), x = sign(s) min 10^|s|
  (:mod:`globalfit.problem.parametrisation`), so that NUTS crosses between the signs through |x| = min.

The hard physical constraints (:mod:`globalfit.problem.support`) are the model's support. ``model.constraints``:

* ``parametrised`` (default): Eq. (9) of arXiv:1607.07616, r_H = |g_Psi - g_l| v cos(beta)/M_Zp <= 1, is
  built into the parametrisation. The config samples (or fixes) the extra entry ``r_H`` in (0, 1] (the
  share of M_Zp from <H'>) and cos(beta) = r_H M_Zp / (|g_Psi - g_l| v) is derived; giving a prior to
  ``cos_beta`` is then an error (a fixed ``cos_beta`` without ``r_H`` is allowed: r_H <= 1 becomes a cut).
  The remaining constraints (|kappa_alpha| < 1, M_Psi > M_Zp, cos(beta) <= 1) are support cuts (log density
  -inf outside, rejected by NUTS); perturbativity and the M_H bounds are checked on the prior ranges.
* ``cut``: ``cos_beta`` is sampled directly with its prior; r_H <= 1 is one more support cut.
* ``none``: no physical constraint (diagnostics only; the posterior may contain unphysical points).

Relative paths in ``output.dir`` resolve against the current working directory.

Validation (:func:`load_config`; every failure one :class:`~globalfit.errors.ConfigError` line ``FILE: KEY.PATH: what was
expected, got what``): the file is read as UTF-8 with unique keys and bounded size; ``base:`` names a readable file;
every block has its shape before blocks merge (a key of a ``base:`` file or prior set is reported against that file);
every switch is YAML's true or false (not 'yes', 'no', 1 or 0); every number is finite (booleans are not numbers) and every parameter
lies in its physical range (:data:`globalfit.physics.parameters.PARAMETERS`, :func:`check_param_ranges`; an untruncated
normal tail counts up to loc +- :data:`Z_TAIL` scale, where its mass underflows float64); a truncated normal keeps at
least :data:`MIN_TRUNCATED_MASS` of its mass (else it cannot be normalised in float64); keys that a prior kind does not
use are refused rather than ignored.
"""

from __future__ import annotations

import copy
import hashlib
import json
import math
import re
import sys
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, StrictBool, ValidationError, field_validator, model_validator
from scipy.special import ndtr, ndtri

from globalfit.errors import ConfigError
from globalfit.names import did_you_mean
from globalfit.physics.parameters import PARAM_NAMES, PARAMETERS
from globalfit.physics.scenarios import FLAVOURS, SCENARIOS

# Config-only sampling parameters that are not model parameters (see the module docstring).
EXTRA_PARAM_NAMES: tuple[str, ...] = ("r_H",)
CONFIG_PARAM_NAMES: tuple[str, ...] = PARAM_NAMES + EXTRA_PARAM_NAMES

__all__ = [
    "PRIOR_KINDS",
    "ParamSpec",
    "ModelBlock",
    "SamplerBlock",
    "EvidenceBlock",
    "OutputBlock",
    "PlotsBlock",
    "RunConfig",
    "load_config",
    "apply_overrides",
    "config_hash",
    "check_param_ranges",
    "PRIORS_DIR",
    "Z_TAIL",
    "MIN_TRUNCATED_MASS",
    "CIRCULAR_SD",
]

PRIOR_KINDS = ("uniform", "log-uniform", "normal", "half-normal", "log-normal", "circular")
REPO_ROOT = Path(__file__).resolve().parent.parent.parent
PRIORS_DIR = REPO_ROOT / "priors"

# Numerical limits of the priors (float64):
# a normal tail beyond Z_TAIL standard deviations holds less than the smallest normal float64 (Phi(-37.5) < 2.2e-308):
# an untruncated normal prior reaches loc +- Z_TAIL scale and no further, so that is its range for the physical checks;
Z_TAIL: float = float(-ndtri(sys.float_info.min))
# a truncated normal is normalised by P = Phi(b) - Phi(a), which numpyro computes as a difference: below 10^6 float64
# epsilons (2.2e-10, an interval ~6.2 sigma out in the upper tail) it keeps fewer than six digits (ln p off by > 1e-6);
MIN_TRUNCATED_MASS: float = 1e6 * sys.float_info.epsilon
# the sd of a ``circular`` prior's unwrapped site: wide enough that the wrapped normal is uniform to 1e-19
# (globalfit.problem.parametrisation).
CIRCULAR_SD: float = 3.0 * math.pi
# exp(loc) of a log-normal prior must be a float64 number.
_LN_MAX: float = math.log(sys.float_info.max)
# A run config is small: deeper nesting or more values than these is a malformed file (or a YAML alias bomb).
_MAX_DEPTH = 32
_MAX_NODES = 100_000
_MAX_BYTES = 2**20
_PRIOR_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.+-]*$")


def _no_bool(v: Any) -> Any:
    """YAML reads true/false as booleans, which pydantic would silently take as 1/0."""
    if isinstance(v, bool):
        raise ValueError(f"expected a number, got {str(v).lower()}")
    return v


def _whole(v: Any) -> Any:
    """A count: an integer, also written as a float or a string such as 1e4 (PyYAML reads 1e4 as a string)."""
    v = _no_bool(v)
    if isinstance(v, (float, str)) and not isinstance(v, bool):
        try:
            x = float(v)
        except ValueError:
            return v  # pydantic's own message
        if not math.isfinite(x):
            raise ValueError(f"expected a whole number, got {v}")
        if x.is_integer():
            return int(x)
    return v


Number = Annotated[float, BeforeValidator(_no_bool)]
Count = Annotated[int, BeforeValidator(_whole)]
# a switch: YAML's true or false only (pydantic would read 'yes', 'no', 'on', 1, 0 as booleans)
Bool = StrictBool


def _exp(x: float) -> float:
    """exp(x), inf when it overflows."""
    return math.exp(x) if x < _LN_MAX else math.inf


def _normal_mass(loc: float, scale: float, lo: float, hi: float) -> float:
    """Phi((hi - loc)/scale) - Phi((lo - loc)/scale), accurate in both tails (scipy's ndtr, reflected above loc)."""
    a, b = (lo - loc) / scale, (hi - loc) / scale
    if a > 0:  # both in the upper tail: reflect so that the difference is of two small numbers
        return float(ndtr(-a) - ndtr(-b))
    return float(ndtr(b) - ndtr(a))


class _Strict(BaseModel):
    """Base of the config blocks: unknown keys refused, immutable, every number finite.

    The string literal below each field is its description (``FieldInfo.description``, pydantic's attribute
    docstrings): the one-line meaning of the key that ``tools/config_reference.py`` writes into docs/config.md, so
    it is Markdown, and ``{=name}`` in it is filled in from the code there (e.g. ``{=min_mass}``:
    ``MIN_TRUNCATED_MASS``). Every field needs one (the tool stops otherwise)."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False, use_attribute_docstrings=True)


class ParamSpec(_Strict):
    """A sampled or fixed parameter (see the module docstring); every number finite."""

    value: Number | None = None
    """Fixed value. `NAME: 1.5` is short for `NAME: {value: 1.5}`. Takes no other key except `latex`."""
    prior: Literal[PRIOR_KINDS] | None = None  # type: ignore[valid-type]  (the kinds listed once)
    """Sampled, with this prior (see [prior kinds](#prior-kinds)). Give `value` or `prior`, not both."""
    min: Number | None = None
    """Lower bound. Required for `uniform` and `log-uniform` (min < max; log-uniform: min > 0); optional truncation of
    the normal family (on x, also for log-normal); not for `circular`. With `negative`/`signed` it bounds abs(x)."""
    max: Number | None = None
    """Upper bound; as `min`. A truncated normal-family prior must keep >= {=min_mass} of its mass in [min, max]."""
    loc: Number | None = None
    """Centre of `normal`, and of ln(x) for `log-normal` (ln units); required by these two, refused by the others."""
    scale: Number | None = None
    """Standard deviation (> 0) of `normal`, `half-normal`, and of ln(x) for `log-normal`; required by these, refused
    by the others."""
    ref: Number | None = None
    """Start value (signed): NUTS chains start here (parameters without `ref`: at random inside the prior); `evaluate`
    and `run --dry-run` use it (else the prior's centre). Must lie inside the prior."""
    negative: Bool = False
    """`log-uniform`, `log-normal`, `half-normal` only: the parameter is -x, x drawn from the prior (e.g. a negative
    g_Psi spanning decades)."""
    signed: Bool = False
    """`log-uniform` only: both signs in one fit, each with prior probability 1/2, abs(x) log-uniform in [min, max]
    (one site `slog10_<name>`). Not with `negative`."""
    latex: str | None = None
    """LaTeX symbol for plots, replacing the parameter's own (without `$`)."""

    @model_validator(mode="after")
    def _check(self):
        if self.value is not None:
            if self.prior is not None:
                raise ValueError("give either 'value' (fixed) or 'prior' (sampled), not both")
            extra = ([k for k in ("min", "max", "loc", "scale", "ref") if getattr(self, k) is not None] + (["negative"] if self.negative else [])
                     + (["signed"] if self.signed else []))
            if extra:
                raise ValueError(f"a fixed parameter takes only 'value' (and 'latex'); {extra[0]!r} belongs to a sampled one (give a 'prior')")
            return self
        if self.prior is None:
            raise ValueError("expected 'value: <number>' or 'prior: <one of " + ", ".join(PRIOR_KINDS) + ">'")
        if self.negative and self.prior not in ("log-uniform", "log-normal", "half-normal"):
            raise ValueError(f"'negative: true' applies to log-uniform, log-normal and half-normal priors, not {self.prior}")
        if self.signed and self.prior != "log-uniform":
            raise ValueError(f"'signed: true' applies to a log-uniform prior, not {self.prior}")
        if self.signed and self.negative:
            raise ValueError("give 'signed: true' (both signs) or 'negative: true' (the negative one), not both")
        if self.prior == "circular":
            unused = [k for k in ("min", "max", "loc", "scale") if getattr(self, k) is not None]
            if unused:
                raise ValueError(f"{unused[0]!r} does not apply to a circular prior (uniform on the circle, phi in [-pi, pi))")
        elif self.prior in ("uniform", "log-uniform"):
            if self.min is None or self.max is None:
                raise ValueError(f"prior {self.prior} needs 'min' and 'max'")
            unused = [k for k in ("loc", "scale") if getattr(self, k) is not None]
            if unused:
                raise ValueError(f"{unused[0]!r} does not apply to a {self.prior} prior (it is set by 'min' and 'max')")
            if not self.min < self.max:
                raise ValueError(f"prior bounds reversed or empty: min={self.min} must be < max={self.max}")
            if self.prior == "log-uniform" and self.min <= 0:
                raise ValueError(f"log-uniform prior needs min > 0, got min={self.min}")
            if self.prior == "uniform" and not math.isfinite(self.max - self.min):
                raise ValueError(f"uniform prior width max - min = {self.max:g} - ({self.min:g}) overflows float64; narrow it or use log-uniform")
        else:
            if self.scale is None or not self.scale > 0:
                raise ValueError(f"prior {self.prior} needs 'scale' > 0")
            if self.prior in ("normal", "log-normal") and self.loc is None:
                raise ValueError(f"prior {self.prior} needs 'loc'")
            if self.prior == "half-normal" and self.loc is not None:
                raise ValueError("'loc' does not apply to a half-normal prior (|N(0, scale)|, centred at 0)")
            if self.min is not None and self.max is not None and not self.min < self.max:
                raise ValueError(f"prior bounds reversed or empty: min={self.min} must be < max={self.max}")
            if self.prior == "log-normal":
                if abs(self.loc) >= _LN_MAX:
                    raise ValueError(f"log-normal loc={self.loc:g} is ln(x): exp(loc) overflows float64 (|loc| must be below {_LN_MAX:.1f})")
                if self.max is not None and self.max <= 0:
                    raise ValueError(f"log-normal prior needs max > 0 (x > 0), got max={self.max}")
            self._check_normalisable()
        if self.ref is not None and not self.contains(self.ref):
            raise ValueError(f"ref={self.ref} lies outside the prior support")
        return self

    def _check_normalisable(self) -> None:
        """The truncated normal keeps enough mass inside [min, max] to be normalised in float64."""
        loc, scale = self.normal_site()
        lo, hi = self.site_bounds()
        mass = _normal_mass(loc, scale, lo, hi)
        if not mass >= MIN_TRUNCATED_MASS:
            raise ValueError(
                f"prior {self.prior}: a fraction of only {mass:.2g} of it lies between min and max (loc={loc:g}, scale={scale:g}"
                f"{', in ln units' if self.prior == 'log-normal' else ''}): below {MIN_TRUNCATED_MASS:.2g} (10^6 float64 epsilons) the "
                "truncated prior cannot be normalised accurately; move loc towards [min, max] or widen scale"
            )

    @property
    def fixed(self) -> bool:
        return self.value is not None

    def bounds(self) -> tuple[float, float]:
        """Support of the prior (before any model constraint)."""
        if self.prior == "circular":
            return -math.pi, math.pi
        lo = -math.inf if self.min is None else self.min
        hi = math.inf if self.max is None else self.max
        if self.prior in ("half-normal", "log-normal", "log-uniform"):
            lo = max(lo, 0.0)
        return lo, hi

    def normal_site(self) -> tuple[float, float]:
        """(loc, scale) of the normal its sample site follows (ln units for log-normal; half-normal: loc 0; circular:
        the unwrapped angle, 0 and :data:`CIRCULAR_SD`)."""
        if self.prior == "circular":
            return 0.0, CIRCULAR_SD
        return (0.0 if self.prior == "half-normal" else float(self.loc)), float(self.scale)

    def site_bounds(self) -> tuple[float, float]:
        """Truncation of the sample site of a normal-family prior (ln x for log-normal; none for circular)."""
        if self.prior == "circular":
            return -math.inf, math.inf
        lo, hi = self.bounds()
        if self.prior == "log-normal":
            return (math.log(lo) if lo > 0 else -math.inf), (math.log(hi) if math.isfinite(hi) else math.inf)
        return lo, hi

    def reach(self) -> tuple[float, float]:
        """The range of |x| the prior can produce in float64: its support, an untruncated normal tail ending at
        loc +- :data:`Z_TAIL` scale (beyond, its mass underflows float64). Unsigned (see :meth:`value_range`)."""
        if self.fixed:
            return float(self.value), float(self.value)  # type: ignore[arg-type]
        lo, hi = self.bounds()
        if self.prior in ("normal", "half-normal", "log-normal"):
            loc, scale = self.normal_site()
            slo, shi = self.site_bounds()
            tlo, thi = max(slo, loc - Z_TAIL * scale), min(shi, loc + Z_TAIL * scale)
            if self.prior == "log-normal":
                return max(lo, _exp(tlo) if math.isfinite(tlo) else 0.0), min(hi, _exp(thi))
            return max(lo, tlo), min(hi, thi)
        return lo, hi

    def value_range(self) -> tuple[float, float]:
        """Smallest and largest signed value the parameter takes (``negative: true`` flips the sign, ``signed: true``
        takes both)."""
        return self._signed(*self.reach())

    def signed_bounds(self) -> tuple[float, float]:
        """Support of the signed value: :meth:`bounds` with the sign of ``negative`` or ``signed`` applied."""
        return self._signed(*self.bounds())

    def _signed(self, lo: float, hi: float) -> tuple[float, float]:
        if self.signed:
            return -hi, hi
        return (-hi, -lo) if self.negative else (lo, hi)

    def contains(self, x: float) -> bool:
        """Whether the (signed) value x lies in the support."""
        lo, hi = self.bounds()
        if self.signed:
            return lo <= abs(x) <= hi
        return lo <= (-x if self.negative else x) <= hi


def check_param_ranges(specs: dict[str, ParamSpec]) -> None:
    """Every parameter within its physical range (:data:`globalfit.physics.parameters.PARAMETERS`: masses > 0 and below
    the Planck mass, couplings perturbative, ...), r_H in (0, 1] (Eq. 9); ValueError naming ``params.<name>``."""
    for name, spec in specs.items():
        lo, hi = spec.value_range()
        what = "value" if spec.fixed else f"{spec.prior} prior"
        if name == "r_H":
            if not (lo >= 0.0 and hi <= 1.0) or (spec.fixed and lo <= 0.0):
                raise ValueError(f"params.r_H: must lie in (0, 1] (Eq. 9: the H' vev cannot give more than M_Zp), got range [{lo:g}, {hi:g}]")
            continue
        p = PARAMETERS[name]
        if spec.prior == "circular" and not p.is_angle:
            raise ValueError(f"params.{name}: a circular prior is for a phase (an angle in rad), not the {p.description}")
        unit = f" {p.unit}" if p.unit and not p.is_angle else ""
        tiny = 0.0 < abs(lo) < p.smallest_nonzero or 0.0 < abs(hi) < p.smallest_nonzero  # a prior end in (0, smallest_nonzero)
        bad = lo < p.lower or hi > p.upper or (p.strictly_positive and lo <= 0.0) or tiny
        if not bad:
            continue
        if spec.fixed:
            raise ValueError(f"params.{name}: {lo:g}{unit} is outside the physical range of the {p.description}: {p.range_source}")
        edge = lo if (lo < p.lower or (p.strictly_positive and lo <= 0.0) or 0.0 < abs(lo) < p.smallest_nonzero) else hi
        tail = ""
        if spec.prior in ("normal", "half-normal", "log-normal") and (spec.min is None or spec.max is None):
            tail = f" (an untruncated normal tail reaches loc +- {Z_TAIL:.1f} scale: bound it with min/max)"
        raise ValueError(f"params.{name}: the {what} reaches {name} = {edge:.4g}{unit}{tail}, outside the physical range of the "
                         f"{p.description}: {p.range_source}")


class ModelBlock(_Strict):
    scenario: str
    """The gauged U(1)' (X = b B + sum_alpha l_alpha L_alpha; charges in `globalfit/physics/scenarios.py`)."""
    Y_n: Number = Field(1.0, ge=0.0)  # a ratio of densities: finite, >= 0
    """n_n/n_e of the matter the oscillation likelihoods see: eps_earth = (eps^e + 2 eps^u + eps^d) + Y_n (eps^u +
    2 eps^d). Earth ~ 1, the paper's choice. Any other value needs the oscillation likelihoods' density ratios set to
    match (`n_q_over_n_e`, `n_d_over_n_e`; a clear error says which)."""
    eps_convention: Literal["oscillation", "paper2016"] = "oscillation"
    """`oscillation`: eps^f = eps^fL + eps^fR. `paper2016`: a factor 1/2, which reproduces the printed Eqs. 11, 15, 33
    of arXiv:1607.07616."""
    psi_flavours: list[Literal["e", "mu", "tau"]] | None = None
    """The flavours Psi mixes with, i.e. which Yukawas y_alpha may be non-zero (this fixes g_l, the H' charge).
    Distinct and non-empty; they must carry equal U(1)' charge. `null`: the scenario's default: all three, or those
    of charge 0 in a flavoured scenario (B-3Ltau: e, mu). A non-zero y of a flavour outside the list is an error."""
    constraints: Literal["parametrised", "cut", "none"] = "parametrised"
    """How the hard physical constraints enter. `parametrised`: r_H <= 1 (Eq. 9) is built in: sample or fix `r_H` in
    (0, 1], cos_beta is derived (a prior on `cos_beta` is an error); the rest are support cuts. `cut`: sample
    `cos_beta` directly (`r_H` is an error); r_H <= 1 is one more cut. `none`: no constraint (diagnostics only)."""
    kinetic_mixing: Literal["loop", "none"] = "loop"  # globalfit.physics.model.KINETIC_MIXING
    """Z'-photon kinetic mixing of a Z' whose charged leptons have no tree-level charge (U(1)_B). `loop`: DarkCast's
    loop-induced mixing (eps = e g_B/(16 pi^2)). `none`: none, the paper's assumption."""

    @field_validator("scenario")
    @classmethod
    def _scenario(cls, v: str) -> str:
        if v not in SCENARIOS:
            extra = did_you_mean(v, list(SCENARIOS))
            raise ValueError(f"unknown scenario {v!r}; expected one of {sorted(SCENARIOS)}{extra}")
        return v

    @field_validator("psi_flavours")
    @classmethod
    def _flavours(cls, v: list[str] | None) -> list[str] | None:
        if v is not None and len(set(v)) != len(v):
            raise ValueError(f"flavour listed twice in {v}")
        if v is not None and not v:
            raise ValueError("empty list: name the flavours Psi mixes with (e, mu, tau), or leave the key out")
        return v

    def psi_flavour_mask(self) -> tuple[bool, bool, bool] | None:
        if self.psi_flavours is None:
            return None
        return tuple(f in self.psi_flavours for f in FLAVOURS)


# JAX seeds its generator with an int64 (jax.random.PRNGKey); larger seeds overflow
SEED_MAX = 2**63 - 1


class SamplerBlock(_Strict):
    # implemented in globalfit.inference.nuts and globalfit.inference.ensemble
    method: Literal["nuts", "ensemble"] = "nuts"
    """`nuts`: numpyro's NUTS. `ensemble`: emcee's affine-invariant ensemble, for posteriors whose hard mass edges
    keep NUTS's step small (docs/performance.md)."""
    chains: Count = Field(4, ge=1)
    """NUTS: chains. Ensemble: walkers (even, at least 2x the sampled parameters)."""
    warmup: Count = Field(500, ge=1)
    """NUTS: warm-up transitions per chain (step size and mass matrix adapt; discarded). Ensemble: kept states
    discarded as burn-in."""
    draws: Count = Field(1000, ge=1)
    """Draws kept per chain (ensemble: per walker, each `thin` steps apart)."""
    target_accept: Number = Field(0.85, gt=0.0, lt=1.0)
    """NUTS: target acceptance probability of the step-size adaptation."""
    max_tree_depth: Count = Field(10, ge=1, le=20)
    """NUTS: maximum tree depth (at most 2^depth - 1 leapfrog steps per transition). Vectorised chains take each
    transition as long as their longest trajectory (the report's sampler line gives both): with many chains a lower cap
    can pay (runs/gallery/full_B.yaml, 64 chains: 6 gave 2x the min-ESS per second of 10; docs/performance.md)."""
    dense_mass: Bool = False  # numpyro NUTS's dense_mass
    """NUTS: adapt a dense (full) inverse mass matrix in warm-up instead of a diagonal one."""
    chain_method: Literal["vectorized", "parallel", "sequential"] = "vectorized"
    """NUTS: how chains run. `vectorized`: vmap on one device, spread over several when JAX sees them; `parallel`:
    spread over devices (on one device the same as `vectorized`); `sequential`: one after another (lax.map)."""
    seed: Count = Field(0, ge=0, le=SEED_MAX)
    """Random seed (a sweep's `seeds` set it per job)."""
    device: Literal["cpu", "gpu"] = "cpu"
    """JAX platform; a platform JAX does not see is an error (no silent fallback)."""
    chunk_size: Count = Field(250, ge=1)
    """Draws (ensemble: kept states) per chunk written to disk; a killed run resumes after the last chunk
    (`--resume`)."""
    thin: Count = Field(1, ge=1)
    """Ensemble only: keep every thin-th ensemble step (`warmup` and `draws` count kept steps)."""
    # the moves are built in globalfit.inference.ensemble
    moves: dict[Literal["stretch", "de", "de_snooker", "walk"], Annotated[Number, Field(gt=0.0)]] = Field(
        default_factory=lambda: {"stretch": 1.0}, min_length=1)
    """Ensemble only: emcee moves and their weights (normalised): `stretch`, `de`, `de_snooker`, `walk`."""
    # for walkers stuck far from a thin posterior
    restart_strays: Number | None = Field(None, gt=0.0)
    """Ensemble only: at the end of burn-in, each walker whose ln p lies more than this below the walkers' median
    restarts at another walker's position. `null`: off."""
    progress_bar: Bool = True
    """Show a progress bar (when stderr is a terminal)."""
    # Metropolis within Gibbs: globalfit.inference.metropolis
    metropolis: list[str] = Field(default_factory=list)
    """NUTS only: sampled parameters moved by random-walk Metropolis given the others (Metropolis within Gibbs), NUTS
    moving the rest; distinct names; at least one parameter left to NUTS."""
    metropolis_steps: Count = Field(50, ge=1)
    """Metropolis steps per NUTS transition (with `metropolis`)."""
    metropolis_adapt: Bool = True
    """Each chain learns its local Metropolis step from its own warm-up (adaptive Metropolis)."""
    metropolis_independence: Number = Field(0.0, ge=0.0, le=1.0)
    """Share of the Metropolis proposals drawn, once a chain's covariance is learnt, from a multivariate t of the
    chain's warm-up mean and covariance (independence proposals; needs `metropolis_adapt`). 0: local and box-crossing
    steps only."""
    # delayed acceptance: globalfit.inference.metropolis
    delayed_acceptance: list[str] = Field(default_factory=list)
    """NUTS only: likelihoods left out of NUTS's trajectories and applied by an exact accept/reject of each NUTS
    proposal (delayed acceptance), for likelihoods whose steep edges limit NUTS's step size; distinct names of the
    run's likelihoods, and `support` for the physical-support cut (|kappa| < 1, cos beta <= 1). The report gives the
    share of NUTS's proposals accepted and, with `support`, the share rejected outside the support."""
    soften_chi2: Number | None = Field(25.0, gt=0.0)
    """-2 Delta ln L beyond which each likelihood's curvature is bounded while sampling
    (`likelihoods.stats.exclusion_edge`); `null`: exact everywhere. Evidence and reported values use exact
    likelihoods."""

    @field_validator("metropolis", "delayed_acceptance")
    @classmethod
    def _distinct(cls, v: list[str]) -> list[str]:
        if len(set(v)) != len(v):
            raise ValueError(f"name listed twice in {v}")
        return v

    def moves_label(self) -> str:
        """The ensemble's moves as the run log and the NetCDF's ``inference_library`` name them, e.g.
        ``de 0.8, de_snooker 0.2``."""
        return ", ".join(f"{name} {w:g}" for name, w in self.moves.items())

    @model_validator(mode="after")
    def _metropolis_method(self):
        if self.metropolis and self.method != "nuts":
            raise ValueError(f"metropolis: {self.metropolis} moves parameters within NUTS; method {self.method!r} has no NUTS: "
                             "remove the key or set method: nuts")
        if self.metropolis_independence and not self.metropolis_adapt:
            raise ValueError(f"metropolis_independence: {self.metropolis_independence} draws from each chain's learnt "
                             "covariance; metropolis_adapt is false: set it true or metropolis_independence 0")
        if self.delayed_acceptance and self.method != "nuts":
            raise ValueError(f"delayed_acceptance: {self.delayed_acceptance} accepts or rejects NUTS's proposals; method "
                             f"{self.method!r} has no NUTS: remove the key or set method: nuts")
        if self.restart_strays is not None and self.method != "ensemble":
            raise ValueError(f"restart_strays: {self.restart_strays} restarts walkers of the ensemble sampler; method "
                             f"{self.method!r} has none: remove the key or set method: ensemble")
        return self


class EvidenceBlock(_Strict):
    """Nested sampling for the Bayesian evidence (``globalfit evidence``; :mod:`globalfit.inference.evidence`)."""

    live_points: Count | None = Field(None, ge=10)  # null: numpyro's default
    """Live points of nested sampling. `null`: 25 per sampled dimension. `globalfit evidence --live` and a sweep's
    `live_points` override it."""
    max_samples: Count = Field(200_000, ge=1000)
    """Hard cap on nested-sampling draws (dead + live); a run that stops here is reported as not converged."""
    dlogZ: Number = Field(0.1, gt=0.0)
    """Stop when the live points can change ln Z by less than this."""
    seed: Count = Field(0, ge=0, le=SEED_MAX)
    """Random seed (a sweep's `seeds` set it per job)."""
    support_draws: Count = Field(200_000, ge=1000)
    """Prior draws that estimate the probability of the physical support (normalises the truncated prior)."""


class OutputBlock(_Strict):
    dir: str
    """Directory the run writes, relative to the current working directory (not to the config file). Non-empty."""

    @field_validator("dir")
    @classmethod
    def _dir(cls, v: str) -> str:
        if not v.strip():
            raise ValueError("empty: name the output directory (relative to the current directory)")
        if "\x00" in v:
            raise ValueError("contains a NUL character")
        return v


class PlotsBlock(_Strict):
    corner: Annotated[list[str], Field(min_length=1)] | None = None
    """Quantities of the corner (triangle) plot: sampled parameters, derived quantities (`globalfit evaluate` lists
    them) or `cos_beta`. `null`: every sampled parameter."""
    plane_eps: str | None = None
    """NSI coefficient shown on the (M_Zp, g_X) plane: a derived eps (e.g. `eps_earth_ee`) or a difference such as
    `eps_earth_tautau-mumu`. `null`: `eps_earth_ee`."""
    formats: list[Literal["pdf", "png"]] = Field(["pdf", "png"], min_length=1)
    """File formats of every figure."""


def _param_entry(name: Any, spec: Any) -> Any:
    """A ``params`` entry as ParamSpec input: a number (or numeric string) is a fixed value."""
    if isinstance(spec, bool):
        raise ValueError(f"params.{name}: expected a number (fixed) or a mapping {{prior: ...}}, got {str(spec).lower()}")
    if isinstance(spec, (int, float)):
        return {"value": spec}
    if isinstance(spec, str):
        try:
            return {"value": float(spec)}
        except ValueError:
            raise ValueError(f"params.{name}: expected a number (fixed) or a mapping {{prior: ...}}, got {_short(spec)}") from None
    if spec is None:
        raise ValueError(f"params.{name}: empty entry; give a number (fixed) or a mapping {{prior: ..., min: ..., max: ...}}")
    return spec


class RunConfig(_Strict):
    model: ModelBlock
    """The U(1)' model and its physics options ([`model`](#model))."""
    params: dict[str, ParamSpec] = Field(default_factory=dict)
    """Parameter name -> a number (fixed) or a prior ([`params`](#params)). Parameters not named keep their default
    value (fixed)."""
    priors: str | None = None
    """Name of a prior set, `priors/<name>.yaml`, merged under `params` ([`priors`](#priors-prior-sets))."""
    likelihoods: dict[str, dict[str, Any] | None] = Field(default_factory=dict)
    """Likelihood name -> its options, or nothing for the defaults ([`likelihoods`](#likelihoods)). Only the listed
    likelihoods are used; none listed: the posterior is the prior."""
    sampler: SamplerBlock = SamplerBlock()
    """Sampler settings for `globalfit run` ([`sampler`](#sampler))."""
    evidence: EvidenceBlock = EvidenceBlock()
    """Nested-sampling settings for `globalfit evidence` ([`evidence`](#evidence))."""
    output: OutputBlock | None = None
    """Where `globalfit run` writes ([`output`](#output)); `globalfit run` refuses a config without it."""
    plots: PlotsBlock = PlotsBlock()
    """What the plots show ([`plots`](#plots))."""

    @field_validator("params", mode="before")
    @classmethod
    def _param_names(cls, v: Any) -> Any:
        if not isinstance(v, dict):
            return v  # pydantic: "Input should be a valid dictionary"
        for name in v:
            if name not in CONFIG_PARAM_NAMES:
                extra = did_you_mean(str(name), CONFIG_PARAM_NAMES)
                raise ValueError(f"params.{name}: unknown parameter {name!r}{extra}; expected names from {list(CONFIG_PARAM_NAMES)}")
        return {k: _param_entry(k, s) for k, s in v.items()}

    def param_specs(self) -> dict[str, ParamSpec]:
        return dict(self.params)

    def sampled(self) -> dict[str, ParamSpec]:
        return {k: s for k, s in self.param_specs().items() if not s.fixed}

    def fixed_values(self) -> dict[str, float]:
        return {k: s.value for k, s in self.param_specs().items() if s.fixed}  # type: ignore[misc]

    @model_validator(mode="after")
    def _constraints_vs_params(self):
        specs = self.param_specs()
        if self.model.constraints != "parametrised" and "r_H" in specs:
            raise ValueError(f"params.r_H: only used with model.constraints: parametrised (got {self.model.constraints!r}); sample cos_beta instead")
        if self.model.constraints == "parametrised" and "cos_beta" in specs and not specs["cos_beta"].fixed:
            raise ValueError(
                "params.cos_beta: with model.constraints: parametrised cos_beta is derived, cos_beta = r_H M_Zp/(|g_Psi - g_l| v) "
                "(Eq. 9); give a prior to r_H in (0, 1] instead, or set model.constraints: cut to sample cos_beta directly"
            )
        if "r_H" in specs and "cos_beta" in specs:
            raise ValueError("params: give r_H or cos_beta, not both (cos_beta = r_H M_Zp/(|g_Psi - g_l| v))")
        check_param_ranges(specs)
        return self


_TOP_KEYS = list(RunConfig.model_fields)
_MAPPING_BLOCKS = ("model", "params", "likelihoods", "sampler", "evidence", "output", "plots")


def _short(x: Any, n: int = 60) -> str:
    """repr of a user's value, cut to n characters (a message stays one line)."""
    r = repr(x).replace("\n", " ")
    return r if len(r) <= n else r[: n - 3] + "..."


def _keys_at(loc: tuple) -> list[str]:
    blocks = {
        (): _TOP_KEYS + ["base"],
        ("model",): list(ModelBlock.model_fields),
        ("sampler",): list(SamplerBlock.model_fields),
        ("evidence",): list(EvidenceBlock.model_fields),
        ("output",): list(OutputBlock.model_fields),
        ("plots",): list(PlotsBlock.model_fields),
    }
    if len(loc) == 2 and loc[0] == "params":
        return list(ParamSpec.model_fields)
    return blocks.get(tuple(loc), [])


_QUOTED = re.compile(r"'([^']*)'")
_ECHO_INPUT = {"greater_than", "greater_than_equal", "less_than", "less_than_equal", "float_parsing", "float_type", "int_parsing",
               "int_type", "int_from_float", "int_parsing_size", "string_type", "dict_type", "list_type", "bool_parsing", "bool_type",
               "model_type", "model_attributes_type"}


def _explain_one(e: dict) -> tuple[str, str]:
    """(key path, message) of one pydantic error; a validator may name a deeper key path itself (``params.g_X: ...``)."""
    loc = tuple(x for x in e["loc"] if not (isinstance(x, str) and x.startswith("function-")))
    key = ".".join(str(x) for x in loc)
    msg = e["msg"].removeprefix("Value error, ")
    kind = e["type"]
    if kind == "extra_forbidden":
        msg = f"unknown key{did_you_mean(str(loc[-1]), _keys_at(loc[:-1]))}; expected one of {_keys_at(loc[:-1])}"
    elif kind == "missing":
        msg = "required key is missing"
    elif kind == "finite_number":
        msg = f"expected a finite number, got {_short(e.get('input'))}"
    elif kind in ("bool_type", "bool_parsing"):
        msg = f"expected true or false, got {_short(e.get('input'))}"
    elif kind == "int_from_float":
        msg = f"expected a whole number, got {_short(e.get('input'))}"
    elif kind == "too_short":
        n = int(e.get("ctx", {}).get("min_length", 1))
        msg = f"expected at least {n} entr{'y' if n == 1 else 'ies'}, got {_short(e.get('input'))}"
    elif kind == "literal_error":
        options = _QUOTED.findall(str(e.get("ctx", {}).get("expected", "")))
        msg = f"{msg}, got {_short(e.get('input'))}{did_you_mean(str(e.get('input')), options)}"
    elif kind in _ECHO_INPUT:
        msg = f"{msg}, got {_short(e.get('input'))}"
    head, sep, rest = msg.partition(": ")
    if sep and " " not in head and head.split(".")[0] in _TOP_KEYS:
        return head, rest
    return key, msg


def _origin(sources: dict[tuple, Path], path: Path, prior_file: Path | None):
    """``where(key) -> (file, note)``: the file a key path (``sampler.chain``, ``params.g_X.min``) was read from when
    that is not the config itself (a ``base:`` file or the prior set), with a note saying how it got into the
    config; None for a key of the config itself."""
    own = Path(path).resolve()

    def where(key: str) -> tuple[Path, str] | None:
        parts = tuple(key.split("."))
        for n in (2, 1):
            src = sources.get(parts[:n]) if len(parts) >= n else None
            if src is None:
                continue
            if src == prior_file:
                return src, f"prior set of {path}"
            if Path(src).resolve() != own:
                return src, f"base of {path}"
            return None
        return None

    return where


def _explain(err: ValidationError, path: str, origin=None) -> str:
    """One line: ``FILE: KEY.PATH: what was expected, got what`` (and how many more problems there are); ``origin``
    (:func:`_origin`) names the file a key came from when it was not ``path`` itself."""
    lines: list[str] = []
    for e in err.errors():
        key, msg = _explain_one(e)
        src = origin(key) if (origin is not None and key) else None
        if src is not None:
            line = f"{src[0]}: {key}: {msg} (in the {src[1]})"
        else:
            line = f"{path}: {key}: {msg}" if key else f"{path}: {msg}"
        if line not in lines:
            lines.append(line)
    more = len(lines) - 1
    one_file = len({ln.partition(": ")[0] for ln in lines}) == 1
    return lines[0] + (f" (and {more} more problem{'s' if more > 1 else ''} in this {'file' if one_file else 'config'})" if more else "")


class _UniqueKeyLoader(yaml.SafeLoader):
    """PyYAML's SafeLoader, except that a key repeated in one mapping is an error (YAML requires unique keys; PyYAML
    would silently keep the last). Keys merged in with ``<<:`` may be overridden, as YAML's merge key allows."""

    def construct_mapping(self, node, deep=False):
        if isinstance(node, yaml.MappingNode):
            seen: dict[Any, int] = {}
            for key_node, _ in node.value:
                if key_node.tag == "tag:yaml.org,2002:merge":
                    continue
                key = self.construct_object(key_node, deep=True)
                try:
                    first = seen.get(key)
                except TypeError:
                    continue  # unhashable: SafeLoader's own error follows
                if first is not None:
                    raise yaml.constructor.ConstructorError(None, None, f"duplicated key {_short(key)} (first given at line {first + 1}); "
                                                            "each key may appear once per block", key_node.start_mark)
                seen[key] = key_node.start_mark.line
        return super().construct_mapping(node, deep)


def _check_structure(data: Any, path: Path) -> None:
    """Bounded depth and size (a config is small; a deeper or larger document is malformed or an alias bomb)."""
    stack, nodes = [(data, 0)], 0
    while stack:
        obj, depth = stack.pop()
        nodes += 1
        if depth > _MAX_DEPTH:
            raise ConfigError(f"{path}: nested more than {_MAX_DEPTH} levels deep; a run config has blocks of key: value entries")
        if nodes > _MAX_NODES:
            raise ConfigError(f"{path}: more than {_MAX_NODES} values (YAML aliases expanded); a run config is small")
        if isinstance(obj, dict):
            stack.extend((v, depth + 1) for v in obj.values())
            stack.extend((k, depth + 1) for k in obj if isinstance(k, (tuple, frozenset)))
        elif isinstance(obj, (list, tuple, set, frozenset)):
            stack.extend((v, depth + 1) for v in obj)


def read_yaml_mapping(path: Path, what: str, expected: str) -> dict:
    """The mapping in a YAML file (a ``what``: "run config", "sweep file", ...), read as UTF-8 with unique keys and
    bounded size and depth; every failure is one ConfigError line naming the file (``expected``: what the top level
    should be, said when it is not a mapping). An empty file gives {}."""
    if not path.exists():
        raise ConfigError(f"{path}: file not found")
    if path.is_dir():
        raise ConfigError(f"{path}: is a directory; expected a YAML {what} file")
    if not path.is_file():
        raise ConfigError(f"{path}: not a regular file (a device or a pipe?); expected a YAML {what} file")
    try:
        size = path.stat().st_size
        if size > _MAX_BYTES:
            raise ConfigError(f"{path}: {size / 2**20:.1f} MiB; a {what} is a small text file (at most {_MAX_BYTES // 2**20} MiB)")
        raw = path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror or exc}") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        col = exc.start - (raw.rfind(b"\n", 0, exc.start) + 1) + 1
        raise ConfigError(f"{path}: not valid UTF-8: byte 0x{raw[exc.start]:02x} at line {line}, column {col}; save the file as UTF-8") from None
    try:
        data = yaml.load(text, Loader=_UniqueKeyLoader)  # noqa: S506 (a SafeLoader subclass)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = " ".join(str(exc.problem or exc.context or "malformed").split())
        raise ConfigError(f"{path}: not valid YAML{where}: {problem}") from None
    except yaml.reader.ReaderError as exc:
        line = text.count("\n", 0, exc.position) + 1
        raise ConfigError(f"{path}: not valid YAML at line {line}: character {exc.character!r} is not allowed in a YAML file") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML: {' '.join(str(exc).split())}") from None
    except RecursionError:
        raise ConfigError(f"{path}: nested too deeply to read; a {what} has blocks of key: value entries") from None
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: {expected}, got {type(data).__name__}")
    return data


def _read_yaml(path: Path, what: str = "run config") -> dict:
    """The mapping of a run config (or a prior set) with its blocks' shapes checked (:func:`read_yaml_mapping`)."""
    data = read_yaml_mapping(path, what, f"expected a mapping of blocks ({', '.join(_TOP_KEYS)})")
    _check_structure(data, path)
    return data


def _check_blocks(data: dict, path: Path) -> None:
    """Each block has the right shape before blocks are merged (``base:``, prior sets)."""
    for key in _MAPPING_BLOCKS:
        value = data.get(key)
        if value is not None and not isinstance(value, dict):
            raise ConfigError(f"{path}: {key}: expected a mapping (indented key: value lines), got {type(value).__name__} {_short(value)}")
    if "priors" in data and data["priors"] is not None:
        name = data["priors"]
        if not isinstance(name, str) or not _PRIOR_NAME.match(name):
            raise ConfigError(f"{path}: priors: expected the name of a prior set in priors/ (e.g. B), got {_short(name)}")


def resolve_prior_set(name: str, config_path: Path) -> tuple[Path, dict]:
    """Find priors/<name>.yaml (next to the config's runs/ folder first, then the repository's)."""
    candidates = [config_path.parent.parent / "priors" / f"{name}.yaml", config_path.parent / "priors" / f"{name}.yaml", PRIORS_DIR / f"{name}.yaml"]
    for c in candidates:
        if c.is_file():
            data = _read_yaml(c, "prior set")
            params = data.get("params", data)
            if not isinstance(params, dict):
                raise ConfigError(f"{c}: params: expected a mapping of parameter -> prior, got {type(params).__name__}")
            return c, params
    available = sorted(p.stem for p in PRIORS_DIR.glob("*.yaml"))
    extra = did_you_mean(name, available)
    raise ConfigError(f"{config_path}: priors: no prior set named {name!r}{extra}; available: {available}")


def _mark(sources: dict | None, path: Path, key: Any, value: Any, whole: bool) -> None:
    """Record that ``key`` (and each entry of a mapping ``value``) was set by the file ``path`` (``whole``: the file
    replaced the key, so what a base had set under it is gone)."""
    if sources is None:
        return
    if whole:
        for k in [k for k in sources if k[0] == key]:
            del sources[k]
    sources[(key,)] = path
    if isinstance(value, dict):
        for k in value:
            sources[(key, k)] = path


def _with_base(data: dict, path: Path, chain: tuple[Path, ...] = (), sources: dict | None = None) -> dict:
    """Resolve ``base: OTHER.yaml`` (relative to this file): the base's blocks, overridden by this file's.

    ``params`` and ``likelihoods`` merge entry by entry (an entry replaces the base's entry; ``NAME: false`` under
    ``likelihoods`` drops it); ``model``, ``sampler``, ``evidence``, ``output`` and ``plots`` merge key by key;
    ``priors`` is replaced. Bases may chain; a cycle is an error. ``base`` must name a readable file. ``sources``
    (filled in when given): the file each block and each entry of a block (``(block,)``, ``(block, key)``) came from,
    so that an error names the file where the key is written.
    """
    _check_blocks(data, path)
    if "base" not in data:
        for key, value in data.items():
            _mark(sources, path, key, value, whole=True)
        return dict(data)
    base = data["base"]
    if not isinstance(base, str) or not base.strip() or "\x00" in base:
        raise ConfigError(f"{path}: base: expected the file name of another run config (relative to this file), got {_short(base)}")
    base_path = (path.parent / base).resolve()
    if base_path in chain or base_path == path.resolve():
        files = chain + (path.resolve(), base_path)
        cycle = files[files.index(base_path):]
        raise ConfigError(f"{path}: base: {base} includes itself (cycle {' -> '.join(str(c.name) for c in cycle)})")
    if not base_path.exists():
        raise ConfigError(f"{path}: base: {base}: file not found (looked for {base_path})")
    if not base_path.is_file():
        raise ConfigError(f"{path}: base: {base}: is a directory ({base_path}); expected a run config file")
    merged = _with_base(_read_yaml(base_path), base_path, chain + (path.resolve(),), sources)
    for key, value in data.items():
        if key == "base":
            continue
        old = merged.get(key)
        if isinstance(old, dict) and isinstance(value, dict):
            merged[key] = {**old, **value}
            _mark(sources, path, key, value, whole=False)
        else:
            merged[key] = value
            _mark(sources, path, key, value, whole=True)
    return merged


def apply_overrides(data: dict, overrides: dict[str, Any], where: str) -> dict:
    """``data`` (a run config as read, bases resolved) with dotted-key overrides applied, e.g.
    ``{"sampler.seed": 3, "likelihoods.osc_lma": False, "params.g_X.min": 1e-10}``: each key names a path of
    nested mappings (missing levels are created); the value replaces what is there. ``where`` names the overrides'
    origin in errors (e.g. ``sweep.yaml: profile[0].overrides``)."""
    out = copy.deepcopy(data)
    for key, value in overrides.items():
        parts = str(key).split(".")
        if not all(parts):
            raise ConfigError(f"{where}: {key}: expected a dotted key path such as sampler.seed or params.g_X.min")
        if parts[0] not in _TOP_KEYS:
            raise ConfigError(f"{where}: {key}: unknown block {parts[0]!r}{did_you_mean(parts[0], _TOP_KEYS)}; expected one of {_TOP_KEYS}")
        node = out
        for i, part in enumerate(parts[:-1]):
            nxt = node.get(part)
            if nxt is None:
                nxt = node[part] = {}
            if not isinstance(nxt, dict):
                raise ConfigError(f"{where}: {key}: {'.'.join(parts[: i + 1])} is {nxt!r}, not a mapping; override it whole "
                                  f"(e.g. {'.'.join(parts[: i + 1])}: {{prior: log-uniform, min: ..., max: ...}})")
            node = nxt
        node[parts[-1]] = value
    return out


def load_config(path: str | Path, overrides: dict[str, Any] | None = None, where: str | None = None) -> RunConfig:
    """Read and validate a run config: ``base:`` resolved (:func:`_with_base`), prior sets named in ``priors:``
    merged under ``params``, ``overrides`` applied (:func:`apply_overrides`; ``where`` names their origin),
    ``NAME: false`` likelihood entries dropped. Every problem is one ConfigError line naming the file and the key
    path; every number of the result is finite and within its physical range."""
    path = Path(path)
    sources: dict[tuple, Path] = {}
    data = _with_base(_read_yaml(path), path, sources=sources)
    prior_name = data.get("priors")
    prior_file = None
    if prior_name is not None:
        prior_file, prior_params = resolve_prior_set(prior_name, path)
        own_params = data.get("params") or {}
        merged = dict(prior_params)
        merged.update(own_params)
        data = dict(data, params=merged)
        for name in prior_params:
            if name not in own_params:
                sources[("params", name)] = prior_file
    if overrides:
        data = apply_overrides(data, overrides, where or f"{path}: overrides")
        for key in overrides:  # an overridden entry is reported as the config with its overrides
            parts = tuple(str(key).split("."))
            for k in [k for k in sources if k == parts[: len(k)] or k[: len(parts)] == parts]:
                del sources[k]
    lks = data.get("likelihoods")
    if isinstance(lks, dict):
        lks = dict(lks)
        for name, opts in list(lks.items()):
            if opts is False:
                del lks[name]
            elif opts is True:
                lks[name] = None
        data = dict(data, likelihoods=lks)
    try:
        return RunConfig.model_validate(data)
    except ValidationError as err:
        label = str(path) if not overrides else f"{path} (with {where or 'overrides'})"
        raise ConfigError(_explain(err, label, _origin(sources, path, prior_file))) from None
    except RecursionError:
        raise ConfigError(f"{path}: nested too deeply to validate") from None


def config_hash(cfg: RunConfig) -> str:
    """Hash of everything that changes the posterior (output, plots and the evidence settings excluded)."""
    d = cfg.model_dump(mode="json", exclude={"output", "plots", "evidence"})
    d["sampler"] = {k: v for k, v in d["sampler"].items() if k not in ("progress_bar", "chunk_size", "draws")}
    if not d["sampler"]["metropolis"]:  # an unused setting (added later) leaves the runs on disk resumable
        del d["sampler"]["metropolis_adapt"]
    if not d["sampler"]["metropolis"] or not d["sampler"]["metropolis_independence"]:  # likewise (session 62)
        del d["sampler"]["metropolis_independence"]
    if d["sampler"]["restart_strays"] is None:  # likewise (added 2026-12-06)
        del d["sampler"]["restart_strays"]
    if not d["sampler"]["delayed_acceptance"]:  # likewise (added 2026-12-06, session 48)
        del d["sampler"]["delayed_acceptance"]
    return hashlib.sha256(json.dumps(d, sort_keys=True).encode()).hexdigest()[:16]
