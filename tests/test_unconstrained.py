"""The density NUTS and the ensemble sampler move in (:meth:`FitProblem.unconstrained`) and where they start
(:func:`globalfit.inference.nuts.nuts_start`, :func:`globalfit.inference.starts.uniform_starts`)."""

from __future__ import annotations

from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from globalfit.inference.nuts import nuts_start
from globalfit.inference.starts import uniform_starts
from globalfit.problem import load_problem

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def problem():
    return load_problem(ROOT / "runs" / "quickstart.yaml")


def test_potential_is_the_site_density_with_the_jacobian(problem):
    """-potential(u) = ln p(z) + ln |dz/du| with z = T(u) (numpyro's transforms), and the recorded quantities are the
    site and parameter values of z."""
    d = problem.unconstrained()
    sites = sorted(d.transforms)
    us = jnp.asarray(np.random.default_rng(0).uniform(-2, 2, size=(6, d.ndim)))

    @jax.jit  # compiled (evaluated eagerly, its few hundred operations ran one by one)
    def site_density(us):
        zs = jax.vmap(lambda u: {s: d.transforms[s](v) for s, v in d.unravel(u).items()})(us)
        jac = sum(jax.vmap(d.transforms[s].log_abs_det_jacobian)(jax.vmap(d.unravel)(us)[s], zs[s]) for s in sites)
        return zs, problem.log_density(jnp.stack([zs[s] for s in problem.site_names], -1)) + jac

    zs, expected = site_density(us)
    got = -jax.jit(jax.vmap(lambda u: d.potential(d.unravel(u))))(us)
    np.testing.assert_allclose(np.asarray(got), np.asarray(expected), rtol=1e-12)
    rec = jax.jit(jax.vmap(lambda u: d.postprocess(d.unravel(u))))(us)
    for s in sites:
        np.testing.assert_allclose(np.asarray(rec[s]), np.asarray(zs[s]), rtol=1e-14)
    np.testing.assert_allclose(np.asarray(rec["M_Zp"]), 10.0 ** np.asarray(zs["log10_M_Zp"]), rtol=1e-12)
    assert {"lnL__osc_lma", "eps_u_ee"} <= set(rec)


def test_nuts_starts_at_the_refs_and_draws_the_rest(problem, tmp_path):
    d = problem.unconstrained()
    start = nuts_start(problem, d, 3)
    refs = d.unconstrain(problem.start_sites(refs_only=True))
    for s, v in refs.items():
        np.testing.assert_array_equal(np.asarray(start.z[s]), np.full(3, float(v)))
    assert np.all(np.isfinite(np.asarray(start.potential_energy)))
    np.testing.assert_allclose(np.asarray(start.potential_energy), float(d.potential(refs)), rtol=1e-12)
    one = nuts_start(problem, d, 1, batched=False)
    assert np.ndim(one.potential_energy) == 0 and float(one.z["y_e"]) == float(refs["y_e"])

    path = tmp_path / "noref.yaml"  # y_e without a ref: drawn per chain, uniform in (-2, 2) unconstrained
    path.write_text(f"base: {ROOT / 'runs' / 'quickstart.yaml'}\nparams:\n  y_e: {{prior: uniform, min: 0.0, max: 3.5, ref: null}}\n")
    p2 = load_problem(path)
    d2 = p2.unconstrained()
    start = nuts_start(p2, d2, 4)
    y = np.asarray(start.z["y_e"])
    assert np.all(np.abs(y) < 2) and len(set(y.tolist())) == 4
    np.testing.assert_array_equal(np.asarray(start.z["log10_g_X"]), np.full(4, float(refs["log10_g_X"])))
    assert np.all(np.isfinite(np.asarray(start.z_grad["y_e"])))


def test_uniform_starts_redraws_until_finite():
    rng = np.random.default_rng(1)
    x = uniform_starts(50, 3, rng, lambda x: x[:, 0] > 0, fixed={2: 0.5})
    assert x.shape == (50, 3) and np.all(x[:, 0] > 0) and np.all(x[:, 2] == 0.5) and np.all(np.abs(x[:, :2]) < 2)
    assert uniform_starts(4, 2, rng, lambda x: x[:, 0] > 1, fixed={0: 0.0, 1: 0.0}) is None  # nothing left to redraw
    assert uniform_starts(4, 1, rng, lambda x: np.zeros(len(x), bool), tries=3) is None


def test_materialised_is_the_value_and_keeps_the_potential():
    """``materialised(x)`` is x + 0 (every value but -0 bit for bit, as XLA computes it: subnormals flushed to 0 as by
    any XLA operation on CPU; gradient 1), and the potential built on it is numpyro's potential to the last bit, value
    and gradient."""
    from globalfit.problem.fitproblem import materialised

    x = jnp.asarray([1.5, -3e300, 2.3e-308, np.inf, -np.inf, 0.0])
    np.testing.assert_array_equal(np.asarray(materialised(x)), np.asarray(x))
    assert np.isnan(float(materialised(jnp.asarray(np.nan))))
    assert float(jax.grad(lambda t: materialised(t) * 3.0)(2.0)) == 3.0

    problem = load_problem(ROOT / "runs" / "quickstart.yaml")
    d = problem.unconstrained()
    raw = problem.unconstrained(plain_sum=True).potential
    us = jnp.asarray(np.random.default_rng(1).uniform(-2, 2, size=(5, d.ndim)))
    for fn_a, fn_b in ((d.potential, raw), (jax.grad(d.potential), jax.grad(raw))):
        a = jax.jit(jax.vmap(lambda u: fn_a(d.unravel(u))))(us)
        b = jax.jit(jax.vmap(lambda u: fn_b(d.unravel(u))))(us)
        for la, lb in zip(jax.tree.leaves(a), jax.tree.leaves(b)):
            np.testing.assert_array_equal(np.asarray(la), np.asarray(lb))


def test_materialised_sum_is_compiled_once():
    """The reason for ``materialised``: XLA's CPU fusion copies a sum of cheap terms into each consumer of its value
    (here nine accept/reject selects, as in a Metropolis step); through ``materialised`` it is compiled once. Counted as
    the multiplications in the optimised program (docs/performance.md, "The log-density's last sum, once")."""
    from globalfit.problem.fitproblem import materialised

    def step(x, y, wrap):
        total = sum(x[k % 7] * (k + 1.5) + x[(k + 3) % 7] * x[k % 5] for k in range(60))
        ok = wrap(total) > 0.3
        return [jnp.where(ok, x[j], y[j]) for j in range(9)]

    args = (jnp.ones((64, 9)).T, jnp.zeros((64, 9)).T)
    count = {}
    for name, wrap in (("plain", lambda t: t), ("materialised", materialised)):
        hlo = jax.jit(lambda x, y, w=wrap: step(x, y, w)).lower(*args).compile().as_text()
        count[name] = hlo.count(" multiply(")
    assert count["materialised"] * 3 < count["plain"], count
