"""Run configs: YAML -> validated :class:`RunConfig` (pydantic), errors that name file, key path and fix.

A config has the blocks ``model``, ``params``, ``priors`` (a named prior set from ``priors/``),
``likelihoods``, ``sampler``, ``output`` and ``plots``. Each entry of ``params`` is either a number
(fixed) or a mapping ``{prior: <dist>, min, max, loc, scale, ref, negative, latex}`` with ``<dist>`` one of
uniform, log-uniform, normal, half-normal, log-normal; or ``{value: x}`` (fixed). Parameters that a
config does not mention take the documented defaults of :mod:`globalfit.physics.parameters`.

Priors (how :mod:`globalfit.problem.parametrisation` samples them; ``min``/``max`` always truncate):

* ``uniform``: U(min, max) on the value.
* ``log-uniform``: log10(x) ~ U(log10 min, log10 max) (site ``log10_<name>``).
* ``normal``: N(loc, scale); ``half-normal``: |N(0, scale)|, x >= 0.
* ``log-normal``: ln(x) ~ N(loc, scale) (site ``ln_<name>``; loc, scale in ln units).
* ``negative: true`` (log-uniform / log-normal / half-normal only): the parameter is -x, x drawn as above
  (e.g. a negative g_Psi spanning decades); ``min``/``max`` bound |x|, ``ref`` is the signed value.

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
"""

from __future__ import annotations

import copy
import hashlib
import json
import math
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from globalfit.errors import ConfigError
from globalfit.names import did_you_mean
from globalfit.physics.parameters import PARAM_NAMES

# Config-only sampling parameters that are not model parameters (see the module docstring).
EXTRA_PARAM_NAMES: tuple[str, ...] = ("r_H",)
CONFIG_PARAM_NAMES: tuple[str, ...] = PARAM_NAMES + EXTRA_PARAM_NAMES
from globalfit.physics.scenarios import FLAVOURS, SCENARIOS

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
    "PRIORS_DIR",
]

PRIOR_KINDS = ("uniform", "log-uniform", "normal", "half-normal", "log-normal")
REPO_ROOT = Path(__file__).resolve().parent.parent.parent
PRIORS_DIR = REPO_ROOT / "priors"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ParamSpec(_Strict):
    """A sampled or fixed parameter."""

    value: float | None = None
    prior: Literal["uniform", "log-uniform", "normal", "half-normal", "log-normal"] | None = None
    min: float | None = None
    max: float | None = None
    loc: float | None = None
    scale: float | None = None
    ref: float | None = None
    negative: bool = False
    latex: str | None = None

    @model_validator(mode="after")
    def _check(self):
        if self.value is not None:
            if self.prior is not None:
                raise ValueError("give either 'value' (fixed) or 'prior' (sampled), not both")
            return self
        if self.prior is None:
            raise ValueError("expected 'value: <number>' or 'prior: <one of " + ", ".join(PRIOR_KINDS) + ">'")
        if self.negative and self.prior not in ("log-uniform", "log-normal", "half-normal"):
            raise ValueError(f"'negative: true' applies to log-uniform, log-normal and half-normal priors, not {self.prior}")
        if self.prior in ("uniform", "log-uniform"):
            if self.min is None or self.max is None:
                raise ValueError(f"prior {self.prior} needs 'min' and 'max'")
            if not self.min < self.max:
                raise ValueError(f"prior bounds reversed or empty: min={self.min} must be < max={self.max}")
            if self.prior == "log-uniform" and self.min <= 0:
                raise ValueError(f"log-uniform prior needs min > 0, got min={self.min}")
        else:
            if self.scale is None or not self.scale > 0:
                raise ValueError(f"prior {self.prior} needs 'scale' > 0")
            if self.prior in ("normal", "log-normal") and self.loc is None:
                raise ValueError(f"prior {self.prior} needs 'loc'")
            if self.min is not None and self.max is not None and not self.min < self.max:
                raise ValueError(f"prior bounds reversed or empty: min={self.min} must be < max={self.max}")
        if self.ref is not None and not self.contains(self.ref):
            raise ValueError(f"ref={self.ref} lies outside the prior support")
        return self

    @property
    def fixed(self) -> bool:
        return self.value is not None

    def bounds(self) -> tuple[float, float]:
        """Support of the prior (before any model constraint)."""
        lo = -math.inf if self.min is None else self.min
        hi = math.inf if self.max is None else self.max
        if self.prior in ("half-normal", "log-normal", "log-uniform"):
            lo = max(lo, 0.0)
        return lo, hi

    def contains(self, x: float) -> bool:
        """Whether the (signed) value x lies in the support."""
        lo, hi = self.bounds()
        return lo <= (-x if self.negative else x) <= hi


class ModelBlock(_Strict):
    scenario: str
    Y_n: float = Field(1.0, ge=0.0)
    eps_convention: Literal["oscillation", "paper2016"] = "oscillation"
    psi_flavours: list[Literal["e", "mu", "tau"]] | None = None
    constraints: Literal["parametrised", "cut", "none"] = "parametrised"

    @field_validator("scenario")
    @classmethod
    def _scenario(cls, v: str) -> str:
        if v not in SCENARIOS:
            extra = did_you_mean(v, list(SCENARIOS))
            raise ValueError(f"unknown scenario {v!r}; expected one of {sorted(SCENARIOS)}{extra}")
        return v

    def psi_flavour_mask(self) -> tuple[bool, bool, bool] | None:
        if self.psi_flavours is None:
            return None
        return tuple(f in self.psi_flavours for f in FLAVOURS)


class SamplerBlock(_Strict):
    chains: int = Field(4, ge=1)
    warmup: int = Field(500, ge=1)
    draws: int = Field(1000, ge=1)
    target_accept: float = Field(0.85, gt=0.0, lt=1.0)
    max_tree_depth: int = Field(10, ge=1, le=20)
    # adapt a dense (full) inverse mass matrix in warm-up instead of a diagonal one (numpyro NUTS dense_mass)
    dense_mass: bool = False
    chain_method: Literal["vectorized", "parallel", "sequential"] = "vectorized"
    seed: int = 0
    device: Literal["cpu", "gpu"] = "cpu"
    chunk_size: int = Field(250, ge=1)
    progress_bar: bool = True
    # -2 Delta ln L beyond which each likelihood's exclusion edge has bounded curvature while sampling
    # (likelihoods.stats.exclusion_edge); null = exact everywhere
    soften_chi2: float | None = Field(25.0, gt=0.0)


class EvidenceBlock(_Strict):
    """Nested sampling for the Bayesian evidence (``globalfit evidence``; :mod:`globalfit.inference.evidence`)."""

    # live points; null = 25 per sampled dimension (numpyro's default)
    live_points: int | None = Field(None, ge=10)
    # hard cap on nested-sampling draws (dead + live)
    max_samples: int = Field(200_000, ge=1000)
    # stop when the live points can change ln Z by less than this
    dlogZ: float = Field(0.1, gt=0.0)
    seed: int = 0
    # prior draws for the probability of the physical support (normalises the truncated prior)
    support_draws: int = Field(200_000, ge=1000)


class OutputBlock(_Strict):
    dir: str


class PlotsBlock(_Strict):
    corner: list[str] | None = None
    plane_eps: str | None = None
    formats: list[Literal["pdf", "png"]] = ["pdf", "png"]


class RunConfig(_Strict):
    model: ModelBlock
    params: dict[str, ParamSpec | float] = Field(default_factory=dict)
    priors: str | None = None
    likelihoods: dict[str, dict[str, Any] | None] = Field(default_factory=dict)
    sampler: SamplerBlock = SamplerBlock()
    evidence: EvidenceBlock = EvidenceBlock()
    output: OutputBlock | None = None
    plots: PlotsBlock = PlotsBlock()

    @field_validator("params")
    @classmethod
    def _param_names(cls, v: dict) -> dict:
        for name in v:
            if name not in CONFIG_PARAM_NAMES:
                extra = did_you_mean(name, CONFIG_PARAM_NAMES)
                raise ValueError(f"unknown parameter {name!r}{extra}; expected names from {list(CONFIG_PARAM_NAMES)}")
        return {k: (ParamSpec(value=float(s)) if isinstance(s, (int, float)) else s) for k, s in v.items()}

    def param_specs(self) -> dict[str, ParamSpec]:
        return dict(self.params)  # type: ignore[arg-type]

    def sampled(self) -> dict[str, ParamSpec]:
        return {k: s for k, s in self.param_specs().items() if not s.fixed}

    def fixed_values(self) -> dict[str, float]:
        return {k: s.value for k, s in self.param_specs().items() if s.fixed}  # type: ignore[misc]

    @model_validator(mode="after")
    def _constraints_vs_params(self):
        specs = self.param_specs()
        if self.model.constraints != "parametrised" and "r_H" in specs:
            raise ValueError(f"params.r_H is only used with model.constraints: parametrised (got {self.model.constraints!r}); sample cos_beta instead")
        if self.model.constraints == "parametrised" and "cos_beta" in specs and not specs["cos_beta"].fixed:
            raise ValueError(
                "params.cos_beta: with model.constraints: parametrised cos_beta is derived, cos_beta = r_H M_Zp/(|g_Psi - g_l| v) "
                "(Eq. 9); give a prior to r_H in (0, 1] instead, or set model.constraints: cut to sample cos_beta directly"
            )
        if "r_H" in specs and "cos_beta" in specs:
            raise ValueError("params: give r_H or cos_beta, not both (cos_beta = r_H M_Zp/(|g_Psi - g_l| v))")
        if "r_H" in specs:
            lo, hi = (specs["r_H"].value, specs["r_H"].value) if specs["r_H"].fixed else specs["r_H"].bounds()
            if not (lo >= 0.0 and hi <= 1.0) or (specs["r_H"].fixed and specs["r_H"].value <= 0.0):
                raise ValueError(f"params.r_H: must lie in (0, 1] (Eq. 9: the H' vev cannot give more than M_Zp), got range [{lo:g}, {hi:g}]")
        return self


_TOP_KEYS = list(RunConfig.model_fields)


def _format_loc(loc: tuple) -> str:
    return ".".join(str(x) for x in loc if not (isinstance(x, str) and ("[" in x or x in {"float", "ParamSpec"})))


def _suggest(bad: str, section_keys: list[str]) -> str:
    return did_you_mean(bad, section_keys)


def _explain(err: ValidationError, path: str) -> str:
    lines = []
    for e in err.errors():
        loc = tuple(e["loc"])
        # drop pydantic's union-branch labels
        clean = tuple(x for x in loc if not (isinstance(x, str) and (x.startswith("function-") or x in ("ParamSpec", "float"))))
        key = ".".join(str(x) for x in clean)
        msg = e["msg"].removeprefix("Value error, ")
        if not key:  # whole-config checks name their key path in the message
            lines.append(f"{path}: {msg}")
            continue
        if e["type"] == "extra_forbidden":
            parent_keys = _keys_at(clean[:-1])
            msg = f"unknown key{_suggest(str(clean[-1]), parent_keys)}"
        elif e["type"] == "missing":
            msg = "required key is missing"
        lines.append(f"{path}: {key}: {msg}")
    # pydantic reports every branch of a union; keep unique lines, most specific first
    seen, out = set(), []
    for line in lines:
        if line not in seen:
            seen.add(line)
            out.append(line)
    return out[0] if len(out) == 1 else out[0] + "".join(f"\n  also: {l}" for l in out[1:3])


def _keys_at(loc: tuple) -> list[str]:
    blocks = {
        (): _TOP_KEYS,
        ("model",): list(ModelBlock.model_fields),
        ("sampler",): list(SamplerBlock.model_fields),
        ("evidence",): list(EvidenceBlock.model_fields),
        ("output",): list(OutputBlock.model_fields),
        ("plots",): list(PlotsBlock.model_fields),
    }
    if len(loc) == 2 and loc[0] == "params":
        return list(ParamSpec.model_fields)
    return blocks.get(tuple(loc), [])


def _read_yaml(path: Path) -> dict:
    if not path.exists():
        raise ConfigError(f"{path}: file not found")
    try:
        data = yaml.safe_load(path.read_text())
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise ConfigError(f"{path}: not valid YAML{where}: {getattr(exc, 'problem', exc)}") from None
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a mapping of blocks ({', '.join(_TOP_KEYS)}), got {type(data).__name__}")
    return data


def resolve_prior_set(name: str, config_path: Path) -> tuple[Path, dict]:
    """Find priors/<name>.yaml (next to the config's runs/ folder first, then the repository's)."""
    candidates = [config_path.parent.parent / "priors" / f"{name}.yaml", config_path.parent / "priors" / f"{name}.yaml", PRIORS_DIR / f"{name}.yaml"]
    for c in candidates:
        if c.exists():
            data = _read_yaml(c)
            params = data.get("params", data)
            if not isinstance(params, dict):
                raise ConfigError(f"{c}: params: expected a mapping of parameter -> prior")
            return c, params
    available = sorted(p.stem for p in PRIORS_DIR.glob("*.yaml"))
    extra = did_you_mean(name, available)
    raise ConfigError(f"{config_path}: priors: no prior set named {name!r}{extra}; available: {available}")




def _with_base(data: dict, path: Path, chain: tuple[Path, ...] = ()) -> dict:
    """Resolve ``base: OTHER.yaml`` (relative to this file): the base's blocks, overridden by this file's.

    ``params`` and ``likelihoods`` merge entry by entry (an entry replaces the base's entry; ``NAME: false`` under
    ``likelihoods`` drops it); ``model``, ``sampler``, ``evidence``, ``output`` and ``plots`` merge key by key;
    ``priors`` is replaced. Bases may chain; a cycle is an error.
    """
    base = data.get("base")
    if base is None:
        return {k: v for k, v in data.items() if k != "base"}
    if not isinstance(base, str):
        raise ConfigError(f"{path}: base: expected the file name of another run config, got {base!r}")
    base_path = (path.parent / base).resolve()
    if base_path in chain or base_path == path.resolve():
        raise ConfigError(f"{path}: base: {base} includes itself (cycle {' -> '.join(str(c.name) for c in chain + (base_path,))})")
    if not base_path.exists():
        raise ConfigError(f"{path}: base: {base}: file not found (looked for {base_path})")
    merged = _with_base(_read_yaml(base_path), base_path, chain + (path.resolve(),))
    for key, value in data.items():
        if key == "base":
            continue
        old = merged.get(key)
        if isinstance(old, dict) and isinstance(value, dict):
            merged[key] = {**old, **value}
        else:
            merged[key] = value
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
    ``NAME: false`` likelihood entries dropped."""
    path = Path(path)
    data = _with_base(_read_yaml(path), path)
    prior_name = data.get("priors")
    if prior_name is not None:
        if not isinstance(prior_name, str):
            raise ConfigError(f"{path}: priors: expected the name of a prior set in priors/, got {prior_name!r}")
        prior_file, prior_params = resolve_prior_set(prior_name, path)
        merged = dict(prior_params)
        merged.update(data.get("params") or {})
        data = dict(data, params=merged)
    if overrides:
        data = apply_overrides(data, overrides, where or f"{path}: overrides")
    lks = data.get("likelihoods")
    if isinstance(lks, dict):
        for name, opts in list(lks.items()):
            if opts is False:
                del lks[name]
            elif opts is True:
                lks[name] = None
    try:
        return RunConfig.model_validate(data)
    except ValidationError as err:
        raise ConfigError(_explain(err, str(path) if not overrides else f"{path} (with {where or 'overrides'})")) from None


def config_hash(cfg: RunConfig) -> str:
    """Hash of everything that changes the posterior (output, plots and the evidence settings excluded)."""
    d = cfg.model_dump(mode="json", exclude={"output", "plots", "evidence"})
    d["sampler"] = {k: v for k, v in d["sampler"].items() if k not in ("progress_bar", "chunk_size", "draws")}
    return hashlib.sha256(json.dumps(d, sort_keys=True).encode()).hexdigest()[:16]
