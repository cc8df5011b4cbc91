"""Build-time tables as one compiled program (globalfit.physics.numerics.on_grid; docs/performance.md, "Building the
likelihoods")."""

import os
import subprocess
import sys
from pathlib import Path

import jax.numpy as jnp
import numpy as np
import pytest

from globalfit.physics.numerics import MIN_GRID, gauss_legendre, on_grid
from globalfit.physics.scattering import helm_form_factor
from likelihoods.zprime_searches import reference_widths

ROOT = Path(__file__).resolve().parent.parent


def _calls(x, scale):
    _calls.n += 1  # counts traces: one per compiled program
    return jnp.sin(scale * x), jnp.exp(-x)[None, :] * jnp.ones((2, 1))


_calls.n = 0


def test_values_shapes_and_one_program_per_padded_length():
    x = np.linspace(0.1, 2.0, 37)
    s, e = on_grid(_calls, x, 3.0)
    assert isinstance(s, np.ndarray) and s.shape == (37,) and e.shape == (2, 37)
    np.testing.assert_allclose(s, np.sin(3.0 * x), rtol=1e-15)
    np.testing.assert_allclose(e, np.broadcast_to(np.exp(-x), (2, 37)), rtol=1e-15)
    on_grid(_calls, np.linspace(0.0, 1.0, MIN_GRID), 3.0)  # the same padded length: no new program
    assert _calls.n == 1
    on_grid(_calls, np.linspace(0.0, 1.0, MIN_GRID + 1), 3.0)  # the next power of two
    on_grid(_calls, x, 2.0)  # another static argument
    assert _calls.n == 3
    with pytest.raises(ValueError, match="no points"):
        on_grid(_calls, np.array([]), 3.0)


def test_the_physics_tables_equal_their_eager_evaluation():
    # the Helm form's j1(x)/x = (sin x / x^2 - cos x / x) / x cancels at small x (q R ~ 1e-3 here): either evaluation
    # is within 6.5e-11 of a 40-digit one (mpmath), and they differ by as much
    q = np.geomspace(1e-4, 0.3, 301)
    np.testing.assert_allclose(on_grid(helm_form_factor, q, 133.0), np.asarray(helm_form_factor(q, 133.0)),
                               rtol=2e-10, atol=1e-300)
    M = np.geomspace(1e-3, 3.0, 150)
    for model in ("B", "B-L"):
        for got, want in zip(on_grid(lambda m, k: reference_widths(k, m), M, model), reference_widths(model, jnp.asarray(M))):
            np.testing.assert_allclose(got, np.asarray(want), rtol=1e-13, atol=1e-300)


def test_building_full_B_compiles_few_programs():
    """Building every likelihood of runs/full_B.yaml compiles ~40 programs, not one per operation of its tables (639
    before on_grid, 17-21 s of a cold run): a fresh process counts JAX's compilations."""
    code = ("import logging, jax\n"
            "n = []\n"
            "class H(logging.Handler):\n"
            "    def emit(self, r):\n"
            "        if 'Finished XLA compilation' in r.getMessage(): n.append(1)\n"
            "logging.getLogger('jax').addHandler(H())\n"
            "jax.config.update('jax_log_compiles', True)\n"
            "from globalfit.problem import load_problem\n"
            "load_problem('runs/full_B.yaml')\n"
            "print(len(n))\n")
    env = {**os.environ, "GLOBALFIT_JAX_CACHE": "off"}
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, check=True)
    count = int(out.stdout.strip().splitlines()[-1])
    assert 0 < count <= 80, count



def test_gauss_legendre_rules_are_computed_once_and_read_only():
    """gauss_legendre(n) is numpy's leggauss(n), the same arrays on every call, and cannot be changed in place."""
    x, w = gauss_legendre(48)
    xr, wr = np.polynomial.legendre.leggauss(48)
    assert np.array_equal(x, xr) and np.array_equal(w, wr)
    assert gauss_legendre(48)[0] is x
    with pytest.raises(ValueError):
        w[0] = 0.0
