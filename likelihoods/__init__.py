"""The likelihood library: one module per measurement (or tightly related group), in the manner of Cobaya.

Each module holds its data records beside the code (or reads them from the `pdg` database at build time), says in
its docstring how the likelihood is built and which approximations it makes, and registers one class per likelihood
with :func:`register` (the contract: :mod:`likelihoods.base`). Statistical conventions: :mod:`likelihoods.stats`.

Run configs enable likelihoods by name (``likelihoods: {name: {option: value}}``); ``globalfit likelihoods`` lists
them with their options.
"""

from __future__ import annotations

import importlib
import pkgutil
from typing import Any, Iterable, Mapping

from pydantic import ValidationError

from globalfit.errors import ConfigError
from globalfit.names import did_you_mean
from globalfit.physics.scenarios import SCENARIOS, Scenario, get_scenario

from .base import Likelihood

__all__ = ["Likelihood", "register", "registry", "build_likelihood", "build_likelihoods", "default_likelihoods", "check_requirements",
           "describe_all", "plot_label"]

_REGISTRY: dict[str, type[Likelihood]] = {}
# built likelihoods by (name, scenario, options): a likelihood is a pure function of them and of its data files, which
# are part of the installed package, so one process builds each configuration once
_BUILT: dict[tuple[str, str, str], Likelihood] = {}
_LOADED = False
_NOT_LIKELIHOODS = {"base", "stats"}


def register(cls: type[Likelihood]) -> type[Likelihood]:
    """Class decorator: add a :class:`~likelihoods.base.Likelihood` subclass to the registry under ``cls.name``."""
    for attr in ("name", "label", "constrains", "reference", "data_edition"):
        if not isinstance(getattr(cls, attr, None), str) or not getattr(cls, attr):
            raise TypeError(f"likelihood class {cls.__name__} lacks the class attribute {attr!r}")
    if cls.name in _REGISTRY:
        raise RuntimeError(f"likelihood {cls.name!r} registered twice")
    _REGISTRY[cls.name] = cls
    return cls


def _load_all() -> None:
    global _LOADED
    if _LOADED:
        return
    for mod in pkgutil.iter_modules(__path__):
        if not mod.name.startswith("_") and mod.name not in _NOT_LIKELIHOODS:
            importlib.import_module(f"{__name__}.{mod.name}")
    _LOADED = True


def registry() -> dict[str, type[Likelihood]]:
    """Every registered likelihood class by name."""
    _load_all()
    return dict(_REGISTRY)


def plot_label(name: str) -> str:
    """A likelihood's legend label (:attr:`~likelihoods.base.Likelihood.label`); ``name`` itself when none is
    registered under it."""
    cls = registry().get(name)
    return cls.label if cls is not None else name


def _option_error(exc: ValidationError, cls: type[Likelihood], where: str) -> ConfigError:
    """The first validation error as one line: file, key path, what was expected."""
    err = exc.errors(include_url=False)[0]
    loc = ".".join(str(x) for x in err["loc"])
    fields = sorted(cls.Options.model_fields)
    if err["type"] == "extra_forbidden":
        key = str(err["loc"][0])
        return ConfigError(f"{where}: likelihoods.{cls.name}.{key}: unknown option{did_you_mean(key, fields)}; "
                           f"options are {fields}")
    msg = err["msg"].replace("Value error, ", "")
    return ConfigError(f"{where}: likelihoods.{cls.name}.{loc}: {msg}, got {err.get('input')!r}")


def build_likelihood(name: str, scenario: str | Scenario, options: Mapping[str, Any] | None = None,
                     where: str = "config") -> Likelihood:
    """One configured likelihood. Errors (unknown name or option, bad value, not applicable to the scenario) are
    one-line ConfigErrors naming ``where`` and the key path."""
    reg = registry()
    sc = get_scenario(scenario) if isinstance(scenario, str) else scenario
    if name not in reg:
        raise ConfigError(f"{where}: likelihoods.{name}: unknown likelihood{did_you_mean(name, list(reg))}; "
                          "`globalfit likelihoods` lists them")
    cls = reg[name]
    if not cls.applies(sc):
        raise ConfigError(f"{where}: likelihoods.{name}: not applicable to scenario {sc.name} (it needs "
                          f"{cls.needs_text()}; applies to {applicable_scenarios(cls)})")
    if options is not None and not isinstance(options, Mapping):
        raise ConfigError(f"{where}: likelihoods.{name}: expected a mapping of options (or nothing), got {options!r}")
    try:
        opts = cls.Options.model_validate(dict(options or {}))
    except ValidationError as exc:
        raise _option_error(exc, cls, where) from None
    key = (name, sc.name, opts.model_dump_json())
    if key not in _BUILT:
        try:
            _BUILT[key] = cls(sc, opts)
        except ValueError as exc:
            raise ConfigError(f"{where}: likelihoods.{name}: {exc}") from None
    return _BUILT[key]


def build_likelihoods(config: Mapping[str, Mapping[str, Any] | None] | None, scenario: str | Scenario,
                      where: str = "config") -> list[Likelihood]:
    """The likelihoods named in a config block ``{name: {option: value} | None}`` (see :func:`build_likelihood`);
    a ConfigError where two of them hold the same data (:attr:`Likelihood.combines`)."""
    names = list(config or {})
    reg = registry()
    for name in names:
        twice = [n for n in getattr(reg.get(name), "combines", ()) if n in names]
        if twice:
            raise ConfigError(f"{where}: likelihoods.{name}: already contains {twice[0]}'s data; remove "
                              f"likelihoods.{twice[0]} (both would count it)")
    return [build_likelihood(name, scenario, opts, where) for name, opts in (config or {}).items()]


def default_likelihoods(scenario: str | Scenario) -> dict[str, None]:
    """Every registered likelihood that applies to the scenario, with its default options; a joint likelihood stands for
    the ones it combines (:attr:`base.Likelihood.combines`), so no data set counts twice."""
    sc = get_scenario(scenario) if isinstance(scenario, str) else scenario
    applicable = {n: cls for n, cls in registry().items() if cls.applies(sc)}
    combined = {m for cls in applicable.values() for m in cls.combines}
    return {n: None for n in applicable if n not in combined}


def check_requirements(likelihoods: Iterable[Likelihood], available: Iterable[str], where: str = "config") -> None:
    """ConfigError naming the first likelihood whose ``requires`` the model does not provide."""
    have = set(available)
    for lk in likelihoods:
        missing = [r for r in lk.requires if r not in have]
        if missing:
            raise ConfigError(f"{where}: likelihoods.{lk.name}: needs the observables {missing}, which the model does "
                              "not compute")


def applicable_scenarios(cls: type[Likelihood]) -> list[str]:
    return [s for s, sc in SCENARIOS.items() if cls.applies(sc)]


def describe_all() -> list[dict[str, Any]]:
    """Name, legend label, what it constrains, reference, data edition, scenarios, observables read and options (with
    defaults) of every registered likelihood."""
    out = []
    for cls in registry().values():
        out.append({
            "name": cls.name,
            "label": cls.label,
            "constrains": cls.constrains,
            "reference": cls.reference,
            "data_edition": cls.data_edition,
            "scenarios": applicable_scenarios(cls),
            "needs": list(cls.needs),
            "requires": list(cls.requires),
            "options": {k: f.default for k, f in cls.Options.model_fields.items()},
        })
    return out
