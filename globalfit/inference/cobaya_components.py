"""Cobaya components of a globalfit run config (needs the optional dependency ``cobaya``: ``pip install
'globalfit[cobaya]'``). What they compute and why Cobaya samples the sample sites: :mod:`globalfit.inference.cobaya_interop`,
which also writes the input YAML (``globalfit cobaya CONFIG``).

* :class:`GlobalfitTheory` (option ``config``: the run config file): sites -> physical point, observables, derived
  parameters and ``lnL__<name>`` of each requested likelihood, once per point.
* :class:`GlobalfitLikelihood`: one globalfit likelihood, named by its Cobaya component name (``osc_lma: {class:
  globalfit.inference.cobaya_components.GlobalfitLikelihood}``); its log-likelihood is the theory's ``lnL__<name>``.
* :func:`constraint_prior` (``prior: {globalfit_constraints: "import_module('globalfit.inference.cobaya_components')
  .constraint_prior('CONFIG')"}``): ln f_Psi + ln 1_support as a Cobaya external prior of the sites.
"""

from __future__ import annotations

import inspect
from functools import lru_cache
from pathlib import Path

import numpy as np
from cobaya.likelihood import Likelihood
from cobaya.log import LoggedError
from cobaya.theory import Theory

from globalfit.problem import LL_PREFIX, FitProblem, load_problem
from globalfit.inference.cobaya_interop import constraint_function, derived_names, point_function

__all__ = ["GlobalfitTheory", "GlobalfitLikelihood", "constraint_prior"]


@lru_cache(maxsize=8)
def _problem(config: str, mtime: float) -> FitProblem:
    return load_problem(config).exact()


def problem_of(config: str) -> FitProblem:
    """The (exact) fit problem of a config file, loaded once per file version."""
    path = Path(config).resolve()
    return _problem(str(path), path.stat().st_mtime if path.exists() else 0.0)


class GlobalfitTheory(Theory):
    """The model of a globalfit run config: sample sites in, derived parameters and ``lnL__<name>`` out."""

    config: str = ""

    def initialize(self):
        if not self.config:
            raise LoggedError(self.log, "option 'config' (a globalfit run config file) is required")
        self.problem = problem_of(self.config)
        self._wanted: set[str] = set()
        self._fn = None

    def get_can_support_params(self):
        return self.problem.site_names

    def get_can_provide_params(self):
        return derived_names(self.problem)

    def get_can_provide(self):
        return [LL_PREFIX + n for n in self.problem.likelihood_names]

    def must_provide(self, **requirements):
        super().must_provide(**requirements)
        self._wanted |= {k[len(LL_PREFIX):] for k in requirements if k.startswith(LL_PREFIX)}
        self._fn = None

    def _function(self):
        if self._fn is None:
            keep = [lk for lk in self.problem.likelihoods if lk.name in self._wanted]
            self._fn = point_function(self.problem.with_likelihoods(keep))
        return self._fn

    def calculate(self, state, want_derived=True, **params_values_dict):
        z = np.array([params_values_dict[s] for s in self.problem.site_names], dtype=float)
        derived, lnl = self._function()(z)
        for name, v in lnl.items():
            state[LL_PREFIX + name] = v
        if want_derived:
            state["derived"] = derived
        return True


class GlobalfitLikelihood(Likelihood):
    """One globalfit likelihood (its name: the component name); needs :class:`GlobalfitTheory`."""

    def get_requirements(self):
        return {LL_PREFIX + self.get_name(): None}

    def logp(self, **params_values):
        return self.provider.get_result(LL_PREFIX + self.get_name())


def constraint_prior(config: str):
    """Cobaya external prior ln f_Psi + ln 1_support of the sites of ``config`` (a function whose arguments are the
    site names, as Cobaya requires)."""
    problem = problem_of(config)
    fn = constraint_function(problem)
    sites = problem.site_names

    def logp(**values):
        return fn(np.array([values[s] for s in sites], dtype=float))

    logp.__signature__ = inspect.Signature([inspect.Parameter(s, inspect.Parameter.POSITIONAL_OR_KEYWORD) for s in sites])
    return logp
