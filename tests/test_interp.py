"""Fixed-shape interpolation (globalfit.physics.interp): values and gradients against numpy/jnp references, and no
while loop in the compiled physics core functions that use it."""

import re
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from globalfit.physics import loops
from globalfit.physics.interp import _count_not_above, hermite_uniform, horner, interp_sorted, interp_uniform
from globalfit.problem import load_problem


def _no_while(fn, *args):
    lowered = jax.jit(fn).lower(*args)
    return "stablehlo.while" not in lowered.as_text() and not re.search(r"\bwhile\(", lowered.compile().as_text())


def _grads(fn, x, f):
    """(d fn/dx, d fn/df) at every x (jit, vmap)."""
    return jax.jit(jax.vmap(jax.grad(fn, argnums=(0, 1)), (0, None)))(x, f)


def test_interp_uniform_values_and_gradients(rng):
    x0, dx, n = -1.3, 0.25, 17
    xp = x0 + dx * np.arange(n)
    fp = rng.normal(size=(n, 2))
    x = rng.uniform(x0 - 1, xp[-1] + 1, 200)
    x[:3] = xp[0], xp[5], xp[-1]
    got = np.asarray(jax.jit(lambda x: interp_uniform(x, x0, dx, fp))(x))
    for k in range(2):
        np.testing.assert_allclose(got[:, k], np.interp(x, xp, fp[:, k]), rtol=1e-13, atol=1e-14)
    lr = jax.jit(lambda x: interp_uniform(x, x0, dx, fp[:, 0], left=-7.0, right=9.0))(x)
    np.testing.assert_allclose(lr, np.interp(x, xp, fp[:, 0], left=-7.0, right=9.0), rtol=1e-13, atol=1e-14)
    # d/dx: the slope of the interval (0 outside), d/dfp: the hat functions -- as jnp.interp
    ours = _grads(lambda x, f: interp_uniform(x, x0, dx, f), x, fp[:, 0])
    ref = _grads(lambda x, f: jnp.interp(x, jnp.asarray(xp), f), x, fp[:, 0])
    for a, b in zip(ours, ref):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)
    with pytest.raises(ValueError):
        interp_uniform(0.0, 0.0, 0.0, fp)


def test_interp_sorted_equals_jnp_interp(rng):
    xp = np.sort(rng.uniform(-2, 3, 40))
    xp[10] = xp[11]  # a repeated node (a jump)
    fp = rng.normal(size=40)
    x = np.concatenate([rng.uniform(-3, 4, 300), xp])
    for left, right in ((None, None), (-5.0, 5.0)):
        ours = jax.jit(lambda x, left=left, right=right: interp_sorted(x, xp, fp, left, right))(x)
        np.testing.assert_allclose(ours, np.interp(x, xp, fp, left, right), rtol=1e-14, atol=1e-15)
    ours = _grads(lambda x, f: interp_sorted(x, xp, f), x, fp)
    ref = _grads(lambda x, f: jnp.interp(x, xp, f), x, fp)
    for a, b in zip(ours, ref):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)
    assert _no_while(jax.grad(lambda x: interp_sorted(x, xp, fp)), 0.3)
    with pytest.raises(ValueError):
        interp_sorted(0.0, xp, fp[:-1])


@pytest.mark.parametrize("kind", ["uniform", "clustered", "repeated", "decades"])
def test_bucketed_search_counts_exactly(rng, kind):
    """The bucketed search of a constant grid gives searchsorted(xp, x, side="right") exactly: random points, every
    node and its floating-point neighbours, +-inf; clustered nodes (1e-9 apart), repeated nodes, 33 decades."""
    n = 257
    xp = {"uniform": lambda: rng.uniform(-2, 3, n),
          "clustered": lambda: np.concatenate([rng.uniform(-2, 3, n // 2), 1.0 + 1e-9 * rng.uniform(size=n - n // 2)]),
          "repeated": lambda: np.round(rng.uniform(-2, 3, n), 1),
          "decades": lambda: np.exp(rng.uniform(-30, 3, n))}[kind]()
    xp = np.sort(xp)
    x = np.concatenate([rng.uniform(xp[0] - 1, xp[-1] + 1, 500), xp, np.nextafter(xp, np.inf), np.nextafter(xp, -np.inf),
                        [np.inf, -np.inf]])
    x = x[~((np.abs(x) < 1e-300) & (x != 0))]  # XLA flushes denormals to zero
    got = np.asarray(jax.jit(lambda x: _count_not_above(x, xp))(x))
    np.testing.assert_array_equal(got, np.searchsorted(xp, x, side="right"))
    traced = np.asarray(jax.jit(_count_not_above)(x, xp))  # a traced grid: the compare-all path
    np.testing.assert_array_equal(traced, got)


def test_interp_sorted_of_a_constant_grid_uses_the_bucketed_search_under_jit(rng):
    """A numpy grid passed to interp_sorted inside jit (and vmap of grad) compiles to the bucketed search, not to a
    comparison with all n nodes: under jit, jnp.asarray of a numpy array is a tracer in current JAX, so the path must
    be chosen on the grid as given (this once sent every table of the package to the compare-all path)."""
    n = 1000
    xp = np.sort(rng.uniform(-2, 3, n))
    fp = np.sin(xp)
    const = str(jax.make_jaxpr(jax.vmap(jax.grad(lambda x: interp_sorted(x, xp, fp))))(jnp.ones(7)))
    traced = str(jax.make_jaxpr(jax.vmap(jax.grad(lambda x, g: interp_sorted(x, g, fp)), in_axes=(0, None)))(jnp.ones(7), xp))
    assert f"bool[7,{n}]" in traced  # the compare-all path is visible in a jaxpr: the check below can fail
    assert f",{n}]" not in const and f"bool[{n}]" not in const
    x = rng.uniform(-2.5, 3.5, 300)
    np.testing.assert_allclose(np.asarray(jax.jit(lambda x: interp_sorted(x, xp, fp))(x)), np.interp(x, xp, fp),
                               rtol=1e-13, atol=1e-13)
    # several functions on one grid (trailing axis): each column as read alone, bit for bit
    table = np.stack([fp, np.cos(xp), xp**2], axis=1)
    both = np.asarray(jax.jit(lambda x: interp_sorted(x, xp, table))(x))
    assert both.shape == (x.size, 3)
    for j in range(3):
        np.testing.assert_array_equal(both[:, j], np.asarray(jax.jit(lambda x: interp_sorted(x, xp, table[:, j]))(x)))


def test_hermite_uniform_exact_for_cubics_and_accurate_for_smooth_functions(rng):
    x0, dx, n = 0.5, 0.1, 31
    xs = x0 + dx * np.arange(n)
    c = rng.normal(size=4)
    cubic, dcubic = np.polynomial.Polynomial(c), np.polynomial.Polynomial(c).deriv()
    x = np.concatenate([rng.uniform(xs[0], xs[-1], 300), xs])
    value = jax.jit(lambda x: hermite_uniform(x, x0, dx, cubic(xs), dcubic(xs)))(x)
    slope = jax.jit(jax.vmap(jax.grad(lambda x: hermite_uniform(x, x0, dx, cubic(xs), dcubic(xs)))))(x)
    np.testing.assert_allclose(value, cubic(x), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(slope, dcubic(x), rtol=1e-11, atol=1e-11)
    # sin: error bound h^4 max|f''''| / 384 (f'''' = sin); values and derivatives along trailing axes
    f = np.stack([np.sin(xs), np.cos(xs)], axis=1)
    df = np.stack([np.cos(xs), -np.sin(xs)], axis=1)
    val = np.asarray(jax.jit(lambda x: hermite_uniform(x, x0, dx, f, df))(x))
    assert np.max(np.abs(val - np.stack([np.sin(x), np.cos(x)], axis=1))) <= dx**4 / 384 * 1.0001
    # C^1: on and next to the nodes the derivative is the given one; outside the grid the end value, zero gradient
    near = np.concatenate([xs[3:6] - 1e-12, xs[3:6], xs[3:6] + 1e-12, [xs[0], xs[-1], x0 - 1.0, xs[-1] + 1.0]])
    vg = jax.jit(jax.vmap(jax.value_and_grad(lambda x: hermite_uniform(x, x0, dx, f[:, 0], df[:, 0]))))
    v, d = vg(near)
    np.testing.assert_allclose(d[:-2], np.cos(np.concatenate([np.tile(xs[3:6], 3), [xs[0], xs[-1]]])), rtol=1e-9)
    np.testing.assert_allclose(v[-2:], np.sin([xs[0], xs[-1]]), rtol=1e-14)
    assert np.all(np.asarray(d[-2:]) == 0.0)
    with pytest.raises(ValueError):
        hermite_uniform(0.0, x0, dx, f, df[:-1])


def test_horner_equals_polyval(rng):
    c = rng.normal(size=24)
    t = np.linspace(-0.25, 0.25, 101)
    value, slope = jax.jit(jax.vmap(jax.value_and_grad(lambda t: horner(tuple(c), t))))(t)
    np.testing.assert_allclose(value, np.polyval(c[::-1], t), rtol=1e-13, atol=1e-15)
    np.testing.assert_allclose(slope, np.polyval(np.polyder(c[::-1]), t), rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("name", ["f_H", "delta_f_W", "f2_lead", "f2_sub", "f1_lead"])
def test_loop_functions_compile_without_while(name):
    assert _no_while(jax.grad(getattr(loops, name)), 1.1)


def _boolean_arrays(jaxpr, found: list, size: int) -> list:
    """(primitive, shape) of every boolean array larger than ``size`` in a jaxpr and its sub-jaxprs."""
    for eqn in jaxpr.eqns:
        for v in eqn.outvars:
            aval = getattr(v, "aval", None)
            if getattr(aval, "dtype", None) == np.bool_ and np.prod(aval.shape) > size:
                found.append((eqn.primitive.name, aval.shape))
        for val in eqn.params.values():
            for sub in val if isinstance(val, (list, tuple)) else (val,):
                inner = getattr(sub, "jaxpr", sub)
                if hasattr(inner, "eqns"):
                    _boolean_arrays(inner, found, size)
    return found


def test_full_density_reads_every_table_without_a_compare_all_search():
    """The value and gradient of runs/full_B.yaml's density at one point hold no boolean array of more than 64 entries:
    no table (Z' search curves, peak searches, N_eff) is searched by comparing with all its nodes (what happened when
    interp_sorted lost its constant grid to jnp.asarray; docs/performance.md, "Where their cost was")."""
    problem = load_problem(Path(__file__).resolve().parent.parent / "runs" / "full_B.yaml")
    z0 = problem.start_sites()
    x0 = jnp.asarray([z0[s] for s in problem.site_names])
    jaxpr = jax.make_jaxpr(jax.value_and_grad(problem.log_density))(x0).jaxpr
    assert _boolean_arrays(jaxpr, [], 64) == []
