"""globalfit: Bayesian global fit of light-Z' models of neutrino NSI (Farzan & Heeck, arXiv:1607.07616).

Layers, imports pointing down only (``tests/test_layers.py``):

1. :mod:`globalfit.physics` -- the physics core: pure JAX model functions (float64, GeV);
2. :mod:`likelihoods` (a top-level package) -- one module per measurement;
3. :mod:`globalfit.problem` -- a run config turned once into a :class:`~globalfit.problem.FitProblem`;
4. :mod:`globalfit.inference` (NUTS, profile likelihood, nested sampling) beside :mod:`globalfit.outputs`
   (run directory, report, figures);
5. commands: :mod:`globalfit.engine` (``globalfit run``) and :mod:`globalfit.cli` (every verb; the only place that
   prints).

:mod:`globalfit.errors`, :mod:`globalfit.names` and :mod:`globalfit._jax` are used by every layer and import nothing.
"""

from . import _jax  # noqa: F401  (enables float64 before anything else)

__version__ = "0.1.0"
