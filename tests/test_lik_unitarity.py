"""PMNS non-unitarity likelihood (unitarity): datasets, limits, finiteness."""


import numpy as np
import pytest

from globalfit.errors import ConfigError

from globalfit.physics.model import observables
from likelihoods import build_likelihood
from likelihoods.stats import delta_chi2
from tests.helpers import check_finite, point

_check_finite = check_finite


CONFIG = (("unitarity", ()),)


def _build(scenario="B", **opts):
    return build_likelihood("unitarity", scenario, opts)


@pytest.mark.parametrize("scenario", ["B", "B-3Ltau"])
def test_finite_value_and_gradient_over_prior_box(scenario, rng):
    _check_finite(CONFIG, scenario, rng)


def test_sm_point_is_maximum():
    p = point(g_X=1e-12)
    assert float(_build().loglike(observables(p, "B"))) == 0.0


@pytest.mark.parametrize("dataset,flavour,limit,cl", [("paper2016", "e", 2.5e-3, 0.9545), ("blennow2023", "mu", 1.69e-4, 0.9)])
def test_point_at_quoted_limit(dataset, flavour, limit, cl):
    """|kappa|^2 = limit via the Yukawa (kappa = y v cos(beta) / (sqrt 2 M_Psi), Eq. 8): -2 Delta ln L = z(CL)^2."""
    key = f"y_{flavour}"
    p = point(**{key: 1.0}, cos_beta=1e-3, M_Psi=1.0)
    k2 = float(observables(p, "B")[f"kappa_{flavour}"]) ** 2
    p = point(**{key: float(np.sqrt(limit / k2))}, cos_beta=1e-3, M_Psi=1.0)
    val = float(_build(dataset=dataset).loglike(observables(p, "B")))
    assert -2 * val == pytest.approx(delta_chi2(cl), rel=1e-4)
    if dataset == "paper2016":
        assert -2 * val == pytest.approx(4.0, rel=1e-9)  # 2 sigma: Delta chi^2 = 4


def test_datasets_differ_as_expected():
    a, b = _build(), _build(dataset="blennow2023")
    assert a.limits == {"e": 2.5e-3, "mu": 4.4e-4, "tau": 5.6e-3} and a.cl == pytest.approx(0.9545, abs=1e-4)
    assert b.limits["mu"] < a.limits["mu"] and b.cl == 0.9  # the 2023 fit is stronger on mu
    assert _build(dataset="blennow2023", mass_range="above_MZ").limits["tau"] == 1.225e-3
    assert _build(limit_tau=1e-3).limits["tau"] == 1e-3


@pytest.mark.parametrize(
    "opts,match",
    [({"dataset": "2016"}, r"unitarity.dataset: Input should be 'paper2016' or 'blennow2023'"), ({"dataset": "blennow2023", "mass_range": "all"}, r"unitarity.mass_range: Input should be 'below_MZ' or 'above_MZ'"),
     ({"limit_e": -1.0}, r"unitarity.limit_e: Input should be greater than 0"), ({"cl": 95}, r"unitarity.cl: Input should be less than 1")],
)
def test_option_validation(opts, match):
    with pytest.raises(ConfigError, match=match):
        _build(**opts)
