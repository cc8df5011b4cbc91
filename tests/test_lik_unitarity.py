"""PMNS non-unitarity likelihood (unitarity): datasets, limits, finiteness."""

import functools

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from globalfit.model import observables
from globalfit.scenarios import get_scenario
from likelihoods import build_likelihoods, registry
from likelihoods.stats import delta_chi2_at_limit
from tests.helpers import point

BOX = {  # the project's prior box; a quarter of the points on its corners
    "M_Zp": (1e-4, 5.0, "log"),
    "g_X": (1e-9, 1.0, "log"),
    "g_Psi": (-3.5, 3.5, "lin"),
    "M_Psi": (1e-3, 100.0, "log"),
    "M_H": (100.0, 5000.0, "log"),
    "cos_beta": (1e-8, 0.5, "log"),
    "y_e": (0.0, 3.5, "lin"),
    "y_mu": (0.0, 3.5, "lin"),
    "y_tau": (0.0, 3.5, "lin"),
    "phi_mu": (-np.pi, np.pi, "lin"),
    "phi_tau": (-np.pi, np.pi, "lin"),
}


def _box_points(rng, n, scenario):
    pts = {}
    for k, (lo, hi, kind) in BOX.items():
        u = rng.uniform(size=n)
        u[: n // 4] = rng.integers(0, 2, size=n // 4)
        pts[k] = 10 ** (np.log10(lo) + u * (np.log10(hi) - np.log10(lo))) if kind == "log" else lo + u * (hi - lo)
    if scenario == "B-3Ltau":
        pts["y_tau"] = np.zeros(n)
    return {k: jnp.asarray(v) for k, v in pts.items()}


@functools.lru_cache(maxsize=None)
def _value_and_grad(config: tuple, scenario: str):
    lks = build_likelihoods({name: dict(opts) for name, opts in config}, scenario)

    def each(p):
        obs = observables(p, scenario)
        return {lk.name: lk.loglike(obs, p) for lk in lks}

    return jax.jit(jax.vmap(each)), jax.jit(jax.vmap(jax.grad(lambda p: sum(each(p).values()))))


def _check_finite(config: tuple, scenario: str, rng, n=96):
    each, grad = _value_and_grad(config, scenario)
    p = _box_points(rng, n, scenario)
    for name, v in each(p).items():
        v = np.asarray(v)
        assert np.all(np.isfinite(v)), name
        assert np.all(v <= 1e-12), f"{name} must be <= 0 (relative to its maximum)"
    for k, g in grad(p).items():
        assert np.all(np.isfinite(np.asarray(g))), f"d logL / d {k} not finite"


CONFIG = (("unitarity", ()),)


def _build(scenario="B", **opts):
    return registry()["unitarity"].builder(get_scenario(scenario), **opts)


@pytest.mark.parametrize("scenario", ["B", "B-3Ltau"])
def test_finite_value_and_gradient_over_prior_box(scenario, rng):
    _check_finite(CONFIG, scenario, rng)


def test_sm_point_is_maximum():
    p = point(g_X=1e-12)
    assert float(_build()(observables(p, "B"), p)) == 0.0


@pytest.mark.parametrize("dataset,flavour,limit,cl", [("paper2016", "e", 2.5e-3, 0.97725), ("blennow2023", "mu", 1.69e-4, 0.9)])
def test_point_at_quoted_limit(dataset, flavour, limit, cl):
    """|kappa|^2 = limit via the Yukawa (kappa = y v cos(beta) / (sqrt 2 M_Psi), Eq. 8): -2 Delta ln L = z(CL)^2."""
    key = f"y_{flavour}"
    p = point(**{key: 1.0}, cos_beta=1e-3, M_Psi=1.0)
    k2 = float(observables(p, "B")[f"kappa_{flavour}"]) ** 2
    p = point(**{key: float(np.sqrt(limit / k2))}, cos_beta=1e-3, M_Psi=1.0)
    val = float(_build(dataset=dataset)(observables(p, "B"), p))
    assert -2 * val == pytest.approx(delta_chi2_at_limit("upper", cl), rel=1e-4)
    if dataset == "paper2016":
        assert -2 * val == pytest.approx(4.0, rel=1e-9)  # 2 sigma: Delta chi^2 = 4


def test_datasets_differ_as_expected():
    a, b = _build(), _build(dataset="blennow2023")
    assert a.limits == {"e": 2.5e-3, "mu": 4.4e-4, "tau": 5.6e-3} and a.cl == pytest.approx(0.97725, abs=1e-5)
    assert b.limits["mu"] < a.limits["mu"] and b.cl == 0.9  # the 2023 fit is stronger on mu
    assert _build(dataset="blennow2023", mass_range="above_MZ").limits["tau"] == 1.225e-3
    assert _build(limit_tau=1e-3).limits["tau"] == 1e-3


@pytest.mark.parametrize(
    "opts,match",
    [({"dataset": "2016"}, "dataset must be"), ({"dataset": "blennow2023", "mass_range": "all"}, "mass_range must be"),
     ({"limit_e": -1.0}, "limit must be a number > 0"), ({"cl": 95}, "cl must be a fraction")],
)
def test_option_validation(opts, match):
    with pytest.raises(ValueError, match=match):
        _build(**opts)
