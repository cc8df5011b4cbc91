"""The fit problem (layer 3, above the physics core and the likelihood library).

A run config (:mod:`.config`: the YAML schema) is checked (:mod:`.support`: the physical support), given a
parametrisation (:mod:`.parametrisation`: sample sites) and turned once into a :class:`FitProblem`
(:mod:`.fitproblem`), the log-density every command consumes. :mod:`.evaluate`: one point, every observable and
each likelihood's ln L.
"""

from globalfit.problem.fitproblem import (LL_PREFIX, FitProblem, UnconstrainedDensity, load_problem, problem_from_config,
                                          split_likelihoods)

__all__ = ["LL_PREFIX", "FitProblem", "UnconstrainedDensity", "load_problem", "problem_from_config", "split_likelihoods"]
