"""globalfit: Bayesian global fit of light-Z' models of neutrino NSI (Farzan & Heeck, arXiv:1607.07616).

Physics core (pure JAX, float64): :mod:`.scenarios`, :mod:`.parameters`, :mod:`.couplings`, :mod:`.nsi`,
:mod:`.loops`, :mod:`.lfv`, :mod:`.widths`, :mod:`.hadrons`, :mod:`.model`.
"""

from . import _jax  # noqa: F401  (enables float64 before anything else)

__version__ = "0.1.0"
