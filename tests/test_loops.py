"""Loop functions against 50-digit mpmath references over x in [1e-12, 1e6] and at x = 1."""

import jax
import jax.numpy as jnp
import mpmath as mp
import numpy as np
import pytest

from globalfit.physics import loops

mp.mp.dps = 50


def _ref(name):
    def fH(x):
        return (1 - 6 * x + 3 * x**2 + 2 * x**3 - 6 * x**2 * mp.log(x)) / (12 * (1 - x) ** 4)

    def fW(x):
        return (10 - 43 * x + 78 * x**2 - 49 * x**3 + 4 * x**4 + 18 * x**3 * mp.log(x)) / (12 * (1 - x) ** 4)

    def A(x):
        return (x**2 - 1 - 2 * x * mp.log(x)) / (x - 1) ** 3

    def B(x):
        return (1 + x) * (3 - 3 * x**2 + (1 + 4 * x + x**2) * mp.log(x)) / (x - 1) ** 5

    def C(x):
        return (3 - 3 * x + (2 + x) * mp.log(x)) / (x - 1) ** 2

    return {
        "f_H": fH,
        "f_W": fW,
        "delta_f_W": lambda x: fW(x) - mp.mpf(5) / 6,
        "f2_lead": A,
        "f2_sub": B,
        "f1_lead": C,
    }[name]


NAMES = ["f_H", "f_W", "delta_f_W", "f2_lead", "f2_sub", "f1_lead"]
XS = np.concatenate([np.logspace(-12, 6, 181), 1 + np.linspace(-0.5, 0.5, 41), [1 - 1e-9, 1 + 1e-9, 1 - 1e-4, 1 + 1e-4]])
XS = XS[XS != 1.0]


@pytest.mark.parametrize("name", NAMES)
def test_against_mpmath(name):
    fn = getattr(loops, name)
    ref = _ref(name)
    got = np.asarray(fn(jnp.asarray(XS)))
    want = np.array([float(ref(mp.mpf(float(x)))) for x in XS])
    # relative accuracy, with an absolute floor at genuine zero crossings
    np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-14 * np.max(np.abs(want)))


@pytest.mark.parametrize(
    "name,value",
    [("f_H", 1 / 24), ("f_W", 17 / 24), ("f2_lead", 1 / 3), ("f2_sub", 1 / 15), ("f1_lead", -1 / 2)],
)
def test_values_at_removable_singularity(name, value):
    assert float(getattr(loops, name)(1.0)) == pytest.approx(value, rel=1e-13)


@pytest.mark.parametrize("name,value", [("f_H", 1 / 12), ("f_W", 5 / 6), ("f2_lead", 1.0)])
def test_limits_at_zero(name, value):
    assert float(getattr(loops, name)(1e-14)) == pytest.approx(value, rel=1e-9)


def test_delta_f_W_small_x_slope():
    # f_W(x) - f_W(0) ~ -x/4 without cancellation (docs/physics.md §5)
    assert float(loops.delta_f_W(1e-12)) == pytest.approx(-0.25e-12, rel=1e-9)


@pytest.mark.parametrize("name", NAMES)
def test_gradients_finite_and_match_mpmath(name):
    fn = getattr(loops, name)
    ref = _ref(name)
    grads = np.asarray(jax.vmap(jax.grad(fn))(jnp.asarray(XS)))
    assert np.all(np.isfinite(grads))
    for x in [1e-6, 0.3, 0.9, 1.0 + 1e-7, 1.1, 3.0, 1e3]:
        want = float(mp.diff(ref, mp.mpf(x)))
        assert float(jax.grad(fn)(x)) == pytest.approx(want, rel=1e-7, abs=1e-12)
