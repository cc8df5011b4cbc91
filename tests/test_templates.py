"""Binned template likelihoods (likelihoods/templates.py): the Newton profile against scipy's minimiser, the envelope
gradient against finite differences, finiteness far from the data, the shape interpolation."""

import functools

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy.optimize import minimize

from likelihoods.templates import Template, TemplateFit, Variation, chunked_under_vmap, shape_delta


def _toy(shared=None):
    """Two energy-like axes of 6 x 5 bins: a signal peaked low, two backgrounds, shape variations of each kind (data
    drawn with a fixed seed; built once per ``shared``)."""
    return _toy_built(None if shared is None else tuple((k, tuple(v.items())) for k, v in shared.items()))


@functools.lru_cache(maxsize=None)
def _toy_built(shared_items):
    rng = np.random.default_rng(12345)
    shared = None if shared_items is None else {k: dict(v) for k, v in shared_items}
    x, y = np.meshgrid(np.arange(6), np.arange(5), indexing="ij")
    sig = (30.0 * np.exp(-x / 1.5) * np.exp(-y / 2.0)).ravel()
    bkg = (8.0 + 0.5 * y + 0 * x).ravel()
    brn = (5.0 * np.exp(-((x - 3.0) ** 2) / 2.0)).ravel()
    templates = (
        Template("signal", sig, 0.15, True, (Variation("tilt", sig * (1 + 0.1 * (x.ravel() - 2.5) / 2.5),
                                                       sig * (1 - 0.08 * (x.ravel() - 2.5) / 2.5)),
                                             Variation("late", sig * (1 + 0.05 * y.ravel() / 4.0)))),
        Template("flat", bkg, 0.05),
        Template("bump", brn, 0.3, False, (Variation("width", brn * (1 + 0.2 * np.abs(x.ravel() - 3.0) / 3.0)),)),
    )
    truth = sig * 1.2 + bkg + brn
    data = rng.poisson(truth).astype(float)
    P = np.zeros((x.size, 2))  # two rate ratios: the first three energy columns and the rest
    P[x.ravel() < 3, 0] = 1.0
    P[x.ravel() >= 3, 1] = 1.0
    return TemplateFit(data, templates, P, shared, newton_steps=3)


_OBJECTIVES: dict = {}


def _objective(fit):
    """fit.objective and its gradient in the nuisances, compiled once per toy fit (r and the Gaussian term are
    arguments, not constants: one program for every profile below)."""
    if id(fit) not in _OBJECTIVES:
        _OBJECTIVES[id(fit)] = (fit, jax.jit(fit.objective), jax.jit(jax.grad(fit.objective)))
    return _OBJECTIVES[id(fit)][1:]


def _scipy_profile(fit, r, gaussian=None):
    fun, jac = _objective(fit)
    r = jnp.asarray(r, dtype=jnp.float64)
    res = minimize(lambda th: float(fun(th, r, gaussian)), np.zeros(len(fit.nuisances)),
                   jac=lambda th: np.asarray(jac(th, r, gaussian)), method="BFGS", options={"gtol": 1e-10})
    return res.fun


def test_newton_profile_is_the_minimum():
    fit = _toy()
    chi2 = jax.jit(fit.chi2)
    for r in ([1.0, 1.0], [0.0, 0.0], [2.5, 0.7], [0.3, 4.0], [8.0, 8.0]):
        assert float(chi2(jnp.asarray(r))) == pytest.approx(_scipy_profile(fit, r), abs=1e-6)


def test_gradient_is_the_envelope_derivative():
    fit = _toy()
    chi2 = jax.jit(fit.chi2)
    r = jnp.asarray([1.7, 0.6])
    g = np.asarray(jax.grad(fit.chi2)(r))
    h = 1e-5
    fd = [(float(chi2(r.at[i].add(h))) - float(chi2(r.at[i].add(-h)))) / (2 * h) for i in range(2)]
    assert g == pytest.approx(fd, rel=1e-5, abs=1e-6)


def test_gaussian_terms_share_a_nuisance():
    """A shared normalisation nuisance with an outside Gaussian term: the profile is still the minimum."""
    fit = _toy(shared={"flux": {"signal": 0.1}})
    A = jnp.zeros((1, len(fit.nuisances))).at[0, fit.index("flux")].set(30.0)
    chi2 = jax.jit(fit.chi2)
    for d in (-40.0, 0.0, 25.0):
        gaussian = (jnp.asarray([d]), A, jnp.asarray([400.0]))
        assert float(chi2(jnp.asarray([1.3, 1.1]), gaussian)) == pytest.approx(
            _scipy_profile(fit, [1.3, 1.1], gaussian), abs=1e-6)


def test_vmapped_profile_runs_in_chunks_with_the_same_numbers(rng):
    """Under vmap the profile runs chunk by chunk (a batch that is not a multiple of the chunk; a Gaussian term with
    a batched and an unbatched part): values and gradients equal the point-by-point ones."""
    fit = _toy(shared={"flux": {"signal": 0.1}})
    A = jnp.zeros((1, len(fit.nuisances))).at[0, fit.index("flux")].set(30.0)
    R = jnp.asarray(rng.uniform(0.0, 4.0, (37, 2)))
    d = jnp.asarray(rng.normal(0.0, 20.0, (37, 1)))
    D = jnp.asarray([400.0])
    one = jax.jit(jax.value_and_grad(fit.chi2))
    many = jax.jit(jax.vmap(jax.value_and_grad(fit.chi2), in_axes=(0, (0, None, None))))
    values, grads = many(R, (d, A, D))
    for k in range(R.shape[0]):
        v, g = one(R[k], (d[k], A, D))
        assert float(values[k]) == pytest.approx(float(v), rel=1e-12, abs=1e-9)
        assert np.asarray(grads[k]) == pytest.approx(np.asarray(g), rel=1e-10, abs=1e-9)
    assert "while" in jax.jit(jax.vmap(fit.chi2)).lower(R).as_text()  # the chunks


def test_chunked_under_vmap_keeps_pytree_outputs():
    """A function of several arguments returning a tuple, vmapped with one argument unbatched, in chunks of 4."""
    f = chunked_under_vmap(lambda x, y: (jnp.sin(x) * y, {"sq": x**2 + y}), 4)
    x = jnp.linspace(0.0, 2.0, 11)
    a, b = jax.vmap(f, in_axes=(0, None))(x, 0.5)
    assert np.asarray(a) == pytest.approx(np.sin(np.asarray(x)) * 0.5, rel=1e-15)
    assert np.asarray(b["sq"]) == pytest.approx(np.asarray(x) ** 2 + 0.5, rel=1e-15)


def test_finite_far_from_the_data():
    fit = _toy()
    value_grad = jax.jit(jax.value_and_grad(fit.chi2))
    for r in ([0.0, 0.0], [1e3, 1e3], [1e6, 0.0], [0.0, 1e8]):
        v, g = value_grad(jnp.asarray(r))
        assert np.isfinite(float(v)) and np.all(np.isfinite(np.asarray(g)))


def test_shape_delta_interpolation():
    """Value and slope continuous at +-1; the variants at +-1 sigma; one-sided: linear."""
    U, D = np.array([2.0]), np.array([-0.5])
    for t in (-1.0, 1.0):
        lo, hi = (shape_delta(jnp.asarray(t + e), U, D) for e in (-1e-9, 1e-9))
        assert float(lo[0][0]) == pytest.approx(float(hi[0][0]), abs=1e-8)
        assert float(lo[1][0]) == pytest.approx(float(hi[1][0]), abs=1e-7)
    assert float(shape_delta(jnp.asarray(1.0), U, D)[0][0]) == pytest.approx(2.0)
    assert float(shape_delta(jnp.asarray(-1.0), U, D)[0][0]) == pytest.approx(-0.5)
    assert float(shape_delta(jnp.asarray(0.0), U, D)[0][0]) == 0.0
    assert float(shape_delta(jnp.asarray(-2.5), U, D, False)[0][0]) == pytest.approx(-5.0)
