"""Shared helpers for the tests."""

import jax.numpy as jnp

from globalfit.parameters import complete


def point(**kw):
    """A complete parameter point (defaults for the rest) as float64 arrays."""
    return complete(kw)


def asfloat(x):
    return float(jnp.asarray(x))
