"""Every registered likelihood, in every scenario it applies to: finite log L and gradient across the prior box
(random points and extreme corners), and the registry contract (names, references, option errors)."""

import functools

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from globalfit.errors import ConfigError
from globalfit.model import observables
from globalfit.parameters import PARAM_NAMES, complete
from likelihoods import build_likelihoods, describe_all, registry

SCENARIOS = ["B", "B-L", "L", "B-3Ltau"]

BOX = {  # prior box of the project (priors/): extreme corners are tested too
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


def _points(rng, n, scenario):
    pts = {}
    for k, (lo, hi, kind) in BOX.items():
        u = rng.uniform(size=n)
        corner = rng.integers(0, 2, size=n).astype(float)
        u[: n // 4] = corner[: n // 4]  # a quarter of the points on corners of the box
        pts[k] = 10 ** (np.log10(lo) + u * (np.log10(hi) - np.log10(lo))) if kind == "log" else lo + u * (hi - lo)
    if scenario == "B-3Ltau":
        pts["y_tau"] = np.zeros(n)  # Psi mixes with e, mu only (equal charge)
    return {k: jnp.asarray(v) for k, v in pts.items()}


def _applicable(scenario):
    return {n: None for n, i in registry().items() if i.scenarios is None or scenario in i.scenarios}


@functools.lru_cache(maxsize=None)
def _value_and_grad(scenario):
    lks = build_likelihoods(_applicable(scenario), scenario)

    def each(p):
        obs = observables(p, scenario)
        return {lk.name: lk.loglike(obs, p) for lk in lks}

    def total(p):
        return sum(each(p).values())

    return jax.jit(jax.vmap(each)), jax.jit(jax.vmap(jax.grad(total)))


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_finite_value_and_gradient_over_prior_box(scenario, rng):
    if not _applicable(scenario):
        pytest.skip("no likelihood applies")
    each, grad = _value_and_grad(scenario)
    p = _points(rng, 256, scenario)
    vals = each(p)
    for name, v in vals.items():
        bad = ~np.isfinite(np.asarray(v))
        assert not bad.any(), f"{name} not finite at {[{k: float(x[i]) for k, x in p.items()} for i in np.where(bad)[0][:1]]}"
        assert np.all(np.asarray(v) <= 1e-9), f"{name} > 0: log L must be relative to its maximum"
    g = grad(p)
    for k in PARAM_NAMES:
        bad = ~np.isfinite(np.asarray(g[k]))
        assert not bad.any(), f"d logL/d {k} not finite at {[{q: float(x[i]) for q, x in p.items()} for i in np.where(bad)[0][:1]]}"


def test_registry_entries_are_documented():
    rows = describe_all()
    assert rows, "no likelihood registered"
    import importlib

    for r in rows:
        assert r["reference"] and r["constrains"] and r["data_edition"]
    for info in registry().values():
        mod = importlib.import_module(info.builder.__module__)
        assert mod.__doc__ and len(mod.__doc__) > 200, f"{mod.__name__} needs a docstring saying how it is built"


def test_unknown_likelihood_and_option_errors():
    with pytest.raises(ConfigError, match=r"run.yaml: likelihoods.lfv_radiativ: unknown likelihood \(did you mean 'lfv_radiative'\?\)"):
        build_likelihoods({"lfv_radiativ": None}, "B", where="run.yaml")
    with pytest.raises(ConfigError, match=r"likelihoods.lfv_radiative.datset: unknown option \(did you mean 'dataset'\?\)"):
        build_likelihoods({"lfv_radiative": {"datset": "pdg"}}, "B", where="run.yaml")
    with pytest.raises(ConfigError, match="dataset must be"):
        build_likelihoods({"lfv_radiative": {"dataset": "2099"}}, "B", where="run.yaml")
