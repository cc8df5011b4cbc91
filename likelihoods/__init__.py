"""The likelihood library: one module per measurement (or tightly related group), in the manner of
flavio/Cobaya. Each module

* holds its data record(s) beside the code (value, uncertainty or limit and CL, kinematics, experiment,
  arXiv id / INSPIRE key), or reads them from the `pdg` database at build time;
* says in its docstring how the likelihood is built and which approximations it makes;
* registers one or more builders with :func:`register`. A builder takes the scenario and its options
  (keyword arguments with defaults: the options a run config may set) and returns a pure JAX function
  ``loglike(obs, p) -> scalar`` of the model observables (:func:`globalfit.physics.model.observables`) and the
  parameter point. Statistical conventions: :mod:`likelihoods.stats`.

Run configs enable likelihoods by name (``likelihoods: {name: {option: value}}``);
``globalfit likelihoods`` lists them.
"""

from __future__ import annotations

import importlib
import inspect
import json
import pkgutil
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping

from globalfit.errors import ConfigError
from globalfit.names import did_you_mean
from globalfit.physics.scenarios import Scenario, get_scenario

__all__ = ["LikelihoodInfo", "Likelihood", "register", "registry", "build_likelihoods", "describe_all"]

LogLike = Callable[[Mapping[str, Any], Mapping[str, Any]], Any]


@dataclass(frozen=True)
class LikelihoodInfo:
    name: str
    constrains: str
    reference: str
    data_edition: str
    builder: Callable[..., LogLike] = field(repr=False, compare=False)
    scenarios: tuple[str, ...] | None = None  # None: meaningful in every scenario

    def options(self) -> dict[str, Any]:
        sig = inspect.signature(self.builder)
        return {k: v.default for k, v in sig.parameters.items() if k != "scenario"}


@dataclass(frozen=True)
class Likelihood:
    """A configured likelihood: ``loglike(obs, p)`` returns log L (0 at the data's best point)."""

    name: str
    info: LikelihoodInfo
    options: dict
    loglike: LogLike = field(repr=False, compare=False)


_REGISTRY: dict[str, LikelihoodInfo] = {}
# built likelihoods by (name, scenario, options): a builder is a pure function of them and its data files, which are
# part of the installed package, so one process builds each configuration once
_BUILT: dict[tuple[str, str, str], "Likelihood"] = {}
_LOADED = False


def register(name: str, *, constrains: str, reference: str, data_edition: str, scenarios: tuple[str, ...] | None = None):
    """Decorator registering a builder ``builder(scenario, **options) -> loglike``."""

    def deco(builder):
        if name in _REGISTRY:
            raise RuntimeError(f"likelihood {name!r} registered twice")
        _REGISTRY[name] = LikelihoodInfo(name, constrains, reference, data_edition, builder, scenarios)
        return builder

    return deco


def _load_all() -> None:
    global _LOADED
    if _LOADED:
        return
    for mod in pkgutil.iter_modules(__path__):
        if not mod.name.startswith("_") and mod.name != "stats":
            importlib.import_module(f"{__name__}.{mod.name}")
    _LOADED = True


def registry() -> dict[str, LikelihoodInfo]:
    _load_all()
    return dict(_REGISTRY)


def describe_all() -> list[dict[str, Any]]:
    """Name, what it constrains, reference, data edition and options of every registered likelihood."""
    return [
        {
            "name": i.name,
            "constrains": i.constrains,
            "reference": i.reference,
            "data_edition": i.data_edition,
            "scenarios": list(i.scenarios) if i.scenarios else "all",
            "options": {k: v for k, v in i.options().items()},
        }
        for i in registry().values()
    ]


def build_likelihoods(config: Mapping[str, Mapping[str, Any] | None] | None, scenario: str | Scenario, where: str = "config") -> list[Likelihood]:
    """Instantiate the likelihoods named in a config block ``{name: {option: value} | None}``.

    Errors (unknown name or option, bad option value) are ConfigError naming ``where`` and the key path.
    """
    if not config:
        return []
    reg = registry()
    sc = get_scenario(scenario) if isinstance(scenario, str) else scenario
    out = []
    for name, opts in config.items():
        if name not in reg:
            extra = did_you_mean(name, list(reg))
            raise ConfigError(f"{where}: likelihoods.{name}: unknown likelihood{extra}; `globalfit likelihoods` lists them")
        info = reg[name]
        if info.scenarios is not None and sc.name not in info.scenarios:
            raise ConfigError(f"{where}: likelihoods.{name}: not applicable to scenario {sc.name} (only {list(info.scenarios)})")
        opts = dict(opts or {})
        allowed = info.options()
        for k in opts:
            if k not in allowed:
                extra = did_you_mean(k, list(allowed))
                raise ConfigError(f"{where}: likelihoods.{name}.{k}: unknown option{extra}; options are {sorted(allowed)}")
        key = (name, sc.name, json.dumps(opts, sort_keys=True, default=repr))
        if key not in _BUILT:
            try:
                fn = info.builder(sc, **opts)
            except (ValueError, TypeError, KeyError) as exc:
                raise ConfigError(f"{where}: likelihoods.{name}: {str(exc).strip(chr(39))}") from None
            _BUILT[key] = Likelihood(name, info, {**allowed, **opts}, fn)
        out.append(_BUILT[key])
    return out
