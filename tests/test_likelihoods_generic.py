"""Every registered likelihood, in every scenario it applies to: finite log L and gradient across the prior box
(random points and extreme corners), and the registry contract (names, references, option errors)."""


import numpy as np
import pytest

from globalfit.errors import ConfigError
from globalfit.physics.parameters import PARAM_NAMES
from likelihoods import build_likelihoods, describe_all, registry
from tests.helpers import _value_and_grad as value_and_grad
from tests.helpers import box_points

SCENARIOS = ["B", "B-L", "L", "B-3Ltau"]

_points = box_points


def _applicable(scenario):
    return {n: None for n, i in registry().items() if i.scenarios is None or scenario in i.scenarios}


def _value_and_grad(scenario):
    return value_and_grad(tuple((n, ()) for n in _applicable(scenario)), scenario)


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
