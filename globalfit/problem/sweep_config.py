"""Sweep files: YAML -> validated :class:`SweepFile` (pydantic) -> the list of jobs it names (:func:`expand_sweep`).

A sweep names run configs, overrides and seeds; ``globalfit sweep SWEEP.yaml`` runs every job on Dask
(:mod:`globalfit.inference.sweep`). Blocks (each optional, at least one job in all):

.. code-block:: yaml

    output: {dir: out/sweeps/lma_dark}      # required; relative to the current directory, as in run configs
    retries: 2                              # attempts after a task's first failure (default 2)
    profile:                                # profile-likelihood maps (globalfit profile)
      - config: ../runs/lma_dark_B.yaml     # relative to this file
        grid: 100                           # or [n_M, n_g]
        quantity: [eps_earth_ee-mumu]
        exclude: []                         # default [osc_*]
        starts: 4
        steps: 200
        polish: 1                           # neighbour passes (default 1)
        profile_rungs: 4                    # rungs of each lambda = 0 chain (default 6)
        warm_steps: 100                     # Adam steps per warm-started rung: tilt ladders, neighbour passes (default: steps)
        warm_lr: 0.3                        # first learning rate of a warm-started rung (default 0.3)
        seeds: [0]                          # random starts of the optimiser
    evidence:                               # ln Z and Bayes factors (globalfit evidence), one comparison per
      - configs: [../runs/full_B.yaml, ../runs/full_BmL.yaml]   # variant and seed
        seeds: [0, 1, 2]                    # evidence.seed
        variants:                           # named override sets, e.g. prior sensitivity or data choices
          default: {}
          wide_gX: {params.g_X.min: 1.0e-10}
    run:                                    # NUTS fits (globalfit run); outputs under output.dir
      - config: ../runs/quickstart.yaml
        seeds: [1, 2]                       # sampler.seed
        overrides: {sampler.draws: 500}

Every job entry takes ``name`` (default: the config's file stem; for a comparison of several configs their stems
joined with ``-``), ``overrides`` (dotted keys of the run config, :func:`globalfit.problem.config.apply_overrides`,
applied to every config of the entry), ``variants`` (name -> more overrides; one job per variant) and ``seeds`` (one
job per seed). A job's name is ``<kind>/<name>[/<variant>][/seed<seed>]``; it is also its folder under
``output.dir``. Each config is read, resolved (``base:``, prior sets) and validated here, with the same one-line
errors as run configs; the workers receive the resolved config, not the file.

Validation is that of run configs and reuses its pieces (:mod:`globalfit.problem.config`): the file is read by the same
hardened reader (UTF-8, unique keys, bounded size and depth), counts refuse booleans (``Count``), numbers are finite,
seeds lie in 0..``SEED_MAX`` like ``sampler.seed``, ``M_range``/``g_range`` lie in the physical ranges of M_Zp and g_X
(:func:`globalfit.physics.parameters.check_log_range`) and names cannot leave ``output.dir`` (no ``.``/``..``); a
profile job's settings and every ``exclude`` pattern are checked when the job is built
(:func:`globalfit.inference.sweep.make_job`, which names the entry through :attr:`JobSpec.origin`; ``globalfit sweep``
and its ``--dry-run`` build every job first). Every failure is one :class:`~globalfit.errors.ConfigError` line
``FILE: KEY.PATH: what was expected, got what``.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, ValidationInfo, field_validator

from globalfit.errors import ConfigError
from globalfit.names import did_you_mean
from globalfit.physics.parameters import check_log_range
from globalfit.problem.config import SEED_MAX, Count, Number, RunConfig, load_config
from globalfit.problem.config import OutputBlock as OutputBlockRun
from globalfit.problem.config import _explain as _explain_run_config
from globalfit.problem.config import _explain_one, read_yaml_mapping

__all__ = ["ConfigRef", "JobSpec", "SweepFile", "load_sweep", "expand_sweep", "sweep_jobs"]

_NAME = re.compile(r"^[A-Za-z0-9_.+-]+$")
# a seed of a sweep job: what sampler.seed and evidence.seed take
Seed = Annotated[Count, Field(ge=0, le=SEED_MAX)]


class _Strict(BaseModel):
    """Base of the sweep blocks: unknown keys refused, immutable. The string literal below each field is its
    description, the key's meaning in docs/config.md (as in :mod:`globalfit.problem.config`)."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False, use_attribute_docstrings=True)


def _check_name(v: str | None) -> str | None:
    if v is not None and not _NAME.match(v):
        raise ValueError(f"name {v!r}: use letters, digits and _ . + - only (it names a folder)")
    if v in (".", ".."):
        raise ValueError(f"name {v!r}: names a folder under output.dir, so it cannot be '.' or '..' (the job's outputs would land "
                         "outside its own folder); use letters, digits and _ . + -")
    return v


class _Job(_Strict):
    """The keys every job entry takes. What a job's seed sets depends on the job kind; tools/config_reference.py adds
    that to ``seeds`` in each kind's table."""

    name: str | None = None
    """Names the job and its folder (letters, digits, `_ . + -`; not `.` or `..`). Default: the config file stems joined
    by `-`."""
    overrides: dict[str, Any] = Field(default_factory=dict)
    """Dotted keys of the run config and their values, applied to every config of the entry (e.g.
    `sampler.draws: 500`, `params.g_X.min: 1.0e-10`, `likelihoods.osc_lma: false`)."""
    variants: dict[str, dict[str, Any]] | None = None
    """Variant name -> more overrides; one job per variant (names as for `name`; at least one)."""
    seeds: list[Seed] | None = None
    """Distinct integers; one job per seed."""

    @field_validator("name")
    @classmethod
    def _name(cls, v):
        return _check_name(v)

    @field_validator("variants")
    @classmethod
    def _variants(cls, v):
        if v is not None:
            if not v:
                raise ValueError("variants: give at least one (name: {overrides}), or leave the key out")
            for k in v:
                if not isinstance(k, str):
                    raise ValueError(f"variant name {k!r}: expected a string (letters, digits and _ . + -)")
                _check_name(k)
        return v

    @field_validator("seeds")
    @classmethod
    def _seeds(cls, v):
        if v is not None and (not v or len(set(v)) != len(v)):
            raise ValueError("seeds: a non-empty list of distinct integers")
        return v


class ProfileJob(_Job):
    # null for an optimiser setting: ProfileSettings' default (globalfit/inference/profile.py), which
    # tools/config_reference.py writes into the docs in place of {=profile_<key>}
    config: str
    """Run config, relative to the sweep file."""
    grid: Count | list[Count] = 12
    """Grid points per axis: N, or [N_M, N_g]; each >= 2."""
    quantity: str | list[str] = "eps_earth_ee"
    """Derived quantity (or several) mapped over the plane (`globalfit evaluate` lists them)."""
    exclude: list[str] | None = None
    """Likelihood names or fnmatch patterns left out of the profile. `null`: {=profile_exclude}; `[]`: keep all."""
    starts: Count | None = Field(None, ge=1)
    """Random starts of the optimiser per grid point. `null`: {=profile_starts}."""
    steps: Count | None = Field(None, ge=1)
    """Adam steps per rung. `null`: {=profile_steps}."""
    M_range: list[Number] | None = None
    """[lo, hi] of M_Zp in GeV, 0 < lo < hi, inside the physical range of M_Zp (as in run configs). `null`: the prior
    range of M_Zp."""
    g_range: list[Number] | None = None
    """[lo, hi] of g_X, 0 < lo < hi, inside the physical range of g_X (as in run configs). `null`: the prior range of
    g_X."""
    rows_per_task: Count = Field(1, ge=1)
    """g_X rows per Dask task."""
    polish: Count | None = Field(None, ge=0)
    """Neighbour passes after the first stage. `null`: {=profile_polish}."""
    profile_rungs: Count | None = Field(None, ge=1)
    """Rungs of each lambda = 0 chain. `null`: {=profile_profile_rungs}."""
    warm_steps: Count | None = Field(None, ge=1)
    """Adam steps per warm-started rung (tilt ladders, neighbour passes). `null`: `steps`."""
    warm_lr: Number | None = Field(None, gt=0, le=1)
    """First Adam learning rate of a warm-started rung. `null`: {=profile_warm_lr}."""

    @field_validator("grid")
    @classmethod
    def _grid(cls, v):
        sizes = [v] if isinstance(v, int) else v
        if len(sizes) not in (1, 2) or any(n < 2 for n in sizes):
            raise ValueError(f"grid: expected N or [N_M, N_g] with every N >= 2, got {v}")
        return v

    @field_validator("M_range", "g_range")
    @classmethod
    def _range(cls, v, info: ValidationInfo):
        if v is None:
            return v
        if len(v) != 2:
            raise ValueError(f"expected [lo, hi], got {v}")
        name = {"M_range": "M_Zp", "g_range": "g_X"}[info.field_name]
        try:  # the physical range of the parameter, as run configs check it
            check_log_range(name, v[0], v[1])
        except ValueError as exc:
            raise ValueError(f"[lo, hi] = {v}: {exc}") from None
        return v


class EvidenceJob(_Job):
    configs: list[str] = Field(min_length=1)
    """Run configs compared (one ln Z each), relative to the sweep file; at least one."""
    exclude: list[str] | None = None
    """Likelihood names or fnmatch patterns left out of every config. `null`: none."""
    live_points: Count | None = Field(None, ge=10)
    """Live points. `null`: each config's `evidence.live_points`."""


class RunJob(_Job):
    config: str
    """Run config, relative to the sweep file. Its `output.dir` is replaced by the job's folder."""


class OutputBlock(OutputBlockRun):
    # the run config's output block: the same checks of `dir` (non-empty, no NUL character)
    dir: str
    """Directory of the sweep's results, relative to the current working directory; each job writes to
    `<dir>/<job name>`. Non-empty."""


class SweepFile(_Strict):
    output: OutputBlock
    """Where the sweep writes ([`output`](#output-1))."""
    retries: Count = Field(2, ge=0)
    """Attempts after a task's first failure."""
    profile: list[ProfileJob] = Field(default_factory=list)
    """Profile-likelihood maps, as `globalfit profile` ([`profile` jobs](#profile-jobs))."""
    evidence: list[EvidenceJob] = Field(default_factory=list)
    """ln Z and Bayes factors, as `globalfit evidence` ([`evidence` jobs](#evidence-jobs))."""
    run: list[RunJob] = Field(default_factory=list)
    """Fits, as `globalfit run` ([`run` jobs](#run-jobs))."""


_BLOCK_KEYS = {
    (): list(SweepFile.model_fields),
    ("output",): list(OutputBlock.model_fields),
    ("profile",): list(ProfileJob.model_fields),
    ("evidence",): list(EvidenceJob.model_fields),
    ("run",): list(RunJob.model_fields),
}


# the tag pydantic puts in an error's location for the member of a union (``grid: int | list[int]``) that failed
_UNION_MEMBER = re.compile(r"^(int|str|float|list\[.*\]|function-.*)$")
_EXPECTED = "expected a mapping with output and at least one of profile, evidence, run"


def _explain(err: ValidationError, path: Path) -> str:
    """One line: ``FILE: KEY.PATH: what was expected, got what`` (the run config's formatter,
    :func:`globalfit.problem.config._explain_one`, with the sweep's own keys for an unknown key), and how many more
    problems there are."""
    lines: dict[str, str] = {}  # key path -> line (a union reports each member's failure: the first one is shown)
    for e in err.errors():
        loc = tuple(x for x in e["loc"] if not (isinstance(x, str) and _UNION_MEMBER.match(x)))
        if e["type"] == "extra_forbidden":
            parent = tuple(str(x) for x in loc[:-1] if not isinstance(x, int))
            keys = _BLOCK_KEYS.get(parent, [])
            key, msg = ".".join(str(x) for x in loc), f"unknown key{did_you_mean(str(loc[-1]), keys)}; expected one of {keys}"
        else:
            key, msg = _explain_one(dict(e, loc=loc))
        lines.setdefault(key, f"{path}: {key}: {msg}" if key else f"{path}: {msg}")
    first, *rest = lines.values()
    return first + (f" (and {len(rest)} more problem{'s' if len(rest) > 1 else ''} in this file)" if rest else "")


def _read(path: Path) -> dict:
    """The mapping of a sweep file, read as run configs are (:func:`globalfit.problem.config.read_yaml_mapping`: UTF-8,
    unique keys, bounded size and depth; a directory or a missing file named as such)."""
    data = read_yaml_mapping(path, "sweep file", _EXPECTED)
    if not data:
        raise ConfigError(f"{path}: empty; {_EXPECTED}")
    return data


def load_sweep(path: str | Path) -> SweepFile:
    """Read and validate a sweep file (one-line ConfigError naming the file and key path)."""
    path = Path(path)
    data = _read(path)
    try:
        sweep = SweepFile.model_validate(data)
    except ValidationError as err:
        raise ConfigError(_explain(err, path)) from None
    except RecursionError:
        raise ConfigError(f"{path}: nested too deeply to validate") from None
    if not (sweep.profile or sweep.evidence or sweep.run):
        raise ConfigError(f"{path}: no job: give at least one entry under profile, evidence or run")
    return sweep


@dataclass(frozen=True)
class ConfigRef:
    """A resolved run config as workers receive it: ``where`` (the file, for messages) and the validated config."""

    where: str
    config: RunConfig

    def data(self) -> dict:
        return self.config.model_dump(mode="json")


@dataclass(frozen=True)
class JobSpec:
    """One job of a sweep: a profile map, an evidence comparison (one ln Z per config) or a NUTS run."""

    kind: Literal["profile", "evidence", "run"]
    name: str  # <kind>/<name>[/<variant>]/seed<seed>: also its folder under the output directory
    configs: tuple[ConfigRef, ...]
    settings: dict = field(default_factory=dict)  # kind-specific (profile: ProfileSettings arguments; evidence: exclude, live points)
    seed: int = 0
    origin: str = ""  # where it was written, "FILE: KIND.I" (a sweep file's entry), for errors found when the job is built

    def digest(self) -> str:
        """Hash of everything the job's numbers depend on (resolved configs, settings, seed)."""
        blob = {"kind": self.kind, "configs": [c.data() for c in self.configs], "settings": self.settings, "seed": self.seed}
        return hashlib.sha256(json.dumps(blob, sort_keys=True, default=str).encode()).hexdigest()[:16]


def _resolve(base: Path, rel: str, where: str) -> Path:
    p = Path(rel)
    p = p if p.is_absolute() else Path(os.path.normpath(base / p))
    if not p.is_file():
        raise ConfigError(f"{where}: {rel}: run config not found (looked for {p}; paths are relative to the sweep file)")
    return p


def _with_seed(cfg: RunConfig, kind: str, seed: int | None, run_dir: Path, where: str) -> RunConfig:
    """The config of one job: ``evidence.seed`` (evidence) or ``sampler.seed`` (run) set to the job's seed, and a
    run's ``output.dir`` moved to its folder under the sweep's output directory; the changed blocks are validated
    (``model_copy`` would not), a failure a ConfigError naming ``where``."""
    update: dict[str, Any] = {}
    if kind == "evidence" and seed is not None:
        update["evidence"] = {**dict(cfg.evidence), "seed": seed}
    if kind == "run":
        update["output"] = {"dir": str(run_dir)}
        if seed is not None:
            update["sampler"] = {**dict(cfg.sampler), "seed": seed}
    if not update:
        return cfg
    try:
        return RunConfig.model_validate({**dict(cfg), **update})
    except ValidationError as err:
        raise ConfigError(_explain_run_config(err, where)) from None


def expand_sweep(sweep: SweepFile, path: str | Path) -> list[JobSpec]:
    """Every job of a validated sweep (configs read, overrides applied, validated; ConfigError on any problem)."""
    path = Path(path)
    out_dir = Path(sweep.output.dir).resolve()
    jobs: list[JobSpec] = []
    for kind, entries in (("profile", sweep.profile), ("evidence", sweep.evidence), ("run", sweep.run)):
        for i, entry in enumerate(entries):
            where = f"{path}: {kind}.{i}"
            files = [_resolve(path.parent, c, f"{where}.config{'s' if kind == 'evidence' else ''}")
                     for c in (entry.configs if kind == "evidence" else [entry.config])]
            name = entry.name or "-".join(f.stem for f in files)
            if name in (".", ".."):  # a config file named ..yaml: its stem is "."
                raise ConfigError(f"{where}: the job's default name {name!r} (its config's file stem) cannot name a folder under "
                                  "output.dir; give the entry a 'name'")
            variants = entry.variants or {"": {}}
            for vname, vover in variants.items():
                over = dict(entry.overrides, **vover)
                origin = f"{where}.{'variants.' + vname if vname else 'overrides'}"
                loaded = [load_config(f, over, origin) for f in files]
                for seed in entry.seeds or [None]:
                    job_name = "/".join(x for x in (kind, name, vname) if x) + ("" if seed is None else f"/seed{seed}")
                    refs = [ConfigRef(str(f), _with_seed(cfg, kind, seed, out_dir / job_name, f"{f} (with {where}.seeds)"))
                            for f, cfg in zip(files, loaded)]
                    settings: dict = {}
                    if kind == "profile":
                        settings = {k: getattr(entry, k) for k in ("grid", "quantity", "exclude", "starts", "steps", "M_range", "g_range", "rows_per_task",
                                                                      "polish", "profile_rungs", "warm_steps", "warm_lr")}
                    elif kind == "evidence":
                        settings = {"exclude": entry.exclude, "live_points": entry.live_points}
                    first = refs[0].config
                    job_seed = {"profile": 0 if seed is None else seed, "evidence": first.evidence.seed, "run": first.sampler.seed}[kind]
                    jobs.append(JobSpec(kind=kind, name=job_name, configs=tuple(refs), settings=settings, seed=job_seed, origin=where))
    seen: dict[str, int] = {}
    for j in jobs:
        if j.name in seen:
            raise ConfigError(f"{path}: two jobs named {j.name!r}: give the entries distinct 'name' keys")
        seen[j.name] = 1
    return jobs


def sweep_jobs(path: str | Path) -> tuple[SweepFile, list[JobSpec]]:
    """(validated sweep, its jobs) of a sweep file."""
    sweep = load_sweep(path)
    return sweep, expand_sweep(sweep, path)
