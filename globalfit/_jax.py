"""Enable float64 in JAX before any array is created. Imported by every physics module."""

import jax

jax.config.update("jax_enable_x64", True)
