"""Gradients of every derived quantity w.r.t. every parameter: finite, and equal to finite differences;
vmap over 1e4 points equals a loop."""

import functools

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from globalfit.physics.model import DERIVED_NAMES, derived
from globalfit.physics.parameters import PARAM_NAMES, complete
from tests.test_structure import _random_point

SCENARIOS = ["B", "B-L", "L", "B-3Ltau"]
# compile-bound (~40 s each): B in the default run, the others with -m slow (CONTRIBUTING.md)
SCENARIOS_TIERED = [pytest.param(s, marks=pytest.mark.slow) if s != "B" else s for s in SCENARIOS]


@functools.lru_cache(maxsize=None)
def _jacobian(scenario):
    return jax.jit(jax.jacfwd(lambda p: derived(p, scenario)))


def _point_for(scenario, rng):
    p = _random_point(rng, M_Zp=10 ** rng.uniform(-3, np.log10(0.09)))
    if scenario == "B-3Ltau":  # Psi mixes with e, mu only (charge 0)
        p["y_tau"] = jnp.asarray(0.0)
    return p


@pytest.mark.parametrize("scenario", SCENARIOS_TIERED)
def test_gradients_finite_and_match_finite_differences(scenario, rng):
    f = jax.jit(lambda p: derived(p, scenario))
    jac = _jacobian(scenario)
    for _ in range(3):
        p = _point_for(scenario, rng)
        J = jac(p)
        for name in DERIVED_NAMES:
            for q in PARAM_NAMES:
                g = float(J[name][q])
                assert np.isfinite(g), (name, q)
        # central differences, relative step (absolute for phases)
        for q in PARAM_NAMES:
            x = float(p[q])
            h = 1e-5 if q.startswith("phi") or x == 0 else 1e-6 * abs(x)
            # float64, not weakly typed: f is compiled once, not once per parameter
            up = f({**p, q: jnp.asarray(x + h, dtype=jnp.float64)})
            dn = f({**p, q: jnp.asarray(x - h, dtype=jnp.float64)})
            for name in DERIVED_NAMES:
                fd = (float(up[name]) - float(dn[name])) / (2 * h)
                # finite-difference round-off ~ eps |f| / h
                roundoff = 1e-14 * max(abs(float(up[name])), abs(float(dn[name]))) / h
                assert float(J[name][q]) == pytest.approx(fd, rel=1e-4, abs=roundoff + 1e-300), (name, q)


@pytest.mark.parametrize("scenario", SCENARIOS_TIERED)
def test_gradients_finite_at_zero_yukawas_and_corners(scenario):
    """Where y = 0 (no mixing), at the edges of the physical box and at M_Psi = M_H."""
    jac = _jacobian(scenario)
    corners = [
        {},
        {"M_Zp": 1e-4, "g_X": 1e-9, "g_Psi": 1e-4, "cos_beta": 1e-8},
        {"M_Zp": 3.0, "g_X": 1.0, "g_Psi": -3.5, "cos_beta": 0.5, "y_e": 3.5, "y_mu": 3.5},
        {"M_Psi": 400.0, "M_H": 400.0, "y_e": 1.0, "y_mu": 1.0},
        {"M_Psi": 1e-3, "y_e": 1e-8, "y_mu": 1e-8, "M_Zp": 0.1056583755},
    ]
    for c in corners:
        if scenario == "B-3Ltau":
            c = {k: v for k, v in c.items() if k != "y_tau"}
        J = jac(complete(c))
        for name in DERIVED_NAMES:
            for q in PARAM_NAMES:
                assert np.isfinite(float(J[name][q])), (c, name, q)


def test_vmap_matches_loop(rng):
    n = 10_000
    batch = {
        "M_Zp": 10 ** rng.uniform(-3, 0, n),
        "g_X": 10 ** rng.uniform(-7, -3, n),
        "g_Psi": rng.uniform(-1, 1, n),
        "M_Psi": 10 ** rng.uniform(-1.5, 0.5, n),
        "M_H": rng.uniform(300, 2000, n),
        "cos_beta": 10 ** rng.uniform(-6, -3, n),
        "y_e": rng.uniform(0, 2, n),
        "y_mu": rng.uniform(0, 2, n),
        "y_tau": rng.uniform(0, 2, n),
        "phi_mu": rng.uniform(-3, 3, n),
        "phi_tau": rng.uniform(-3, 3, n),
    }
    batch = {k: jnp.asarray(v) for k, v in batch.items()}
    out = jax.jit(jax.vmap(lambda p: derived(p, "B")))(batch)
    assert all(out[k].shape == (n,) for k in DERIVED_NAMES)
    one = jax.jit(lambda p: derived(p, "B"))  # compiled once (evaluated eagerly, each point ran op by op)
    for i in rng.integers(0, n, 5):
        single = one({k: v[i] for k, v in batch.items()})
        for k in DERIVED_NAMES:
            np.testing.assert_allclose(float(out[k][i]), float(single[k]), rtol=1e-12, atol=0)
