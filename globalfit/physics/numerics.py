"""Small numerical helpers of the physics core."""

from __future__ import annotations

import jax.numpy as jnp

from globalfit import _jax  # noqa: F401

__all__ = ["abs2"]


def abs2(z):
    """|z|^2 as Re(z)^2 + Im(z)^2: gradient-safe at z = 0, where jnp.abs(z)**2 of a complex z has no derivative."""
    return jnp.real(z) ** 2 + jnp.imag(z) ** 2
