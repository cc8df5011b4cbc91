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


def test_gate_below_m_K():
    """Psi produced in K decays (M_Psi <= m_K): the heavy-state fits do not apply (0); fully on from m_K e^0.2; the
    smootherstep in between; heavy_psi_only=false (the paper) applies them at every mass."""
    from globalfit.physics.constants import constants

    m_K = constants().m_K
    fn, paper = _build(), _build(heavy_psi_only=False)

    def m2(f, m_psi):  # |kappa_e|^2 = 2.5e-3 (the paper's limit) at every M_Psi: y_e scales with M_Psi (Eq. 8)
        p = point(y_e=1.0, cos_beta=1e-3, M_Psi=m_psi)
        k2 = float(observables(p, "B")["kappa_e"]) ** 2
        p = point(y_e=float(np.sqrt(2.5e-3 / k2)), cos_beta=1e-3, M_Psi=m_psi)
        return -2 * float(f.loglike(observables(p, "B")))

    assert m2(fn, 0.3) == 0.0 and m2(fn, m_K) == 0.0
    assert m2(fn, m_K * np.exp(0.1)) == pytest.approx(2.0, rel=1e-6)  # S(1/2) = 1/2 of 4.0
    assert m2(fn, m_K * np.exp(0.2)) == pytest.approx(4.0, rel=1e-6)
    assert m2(paper, 0.3) == pytest.approx(4.0, rel=1e-6)
    assert m2(_build(psi_switch_width=0.5), m_K * np.exp(0.25)) == pytest.approx(2.0, rel=1e-6)


def test_datasets_differ_as_expected():
    a, b = _build(), _build(dataset="blennow2023")
    assert a.limits == {"e": 2.5e-3, "mu": 4.4e-4, "tau": 5.6e-3} and a.cl == pytest.approx(0.9545, abs=1e-4)
    assert b.limits["mu"] < a.limits["mu"] and b.cl == 0.9  # the 2023 fit is stronger on mu
    assert _build(dataset="blennow2023", mass_range="above_MZ").limits["tau"] == 1.225e-3
    assert _build(limit_tau=1e-3).limits["tau"] == 1e-3


@pytest.mark.parametrize(
    "opts,match",
    [({"dataset": "2016"}, r"unitarity.dataset: Input should be 'paper2016' or 'blennow2023'"), ({"dataset": "blennow2023", "mass_range": "all"}, r"unitarity.mass_range: Input should be 'below_MZ' or 'above_MZ'"),
     ({"limit_e": -1.0}, r"unitarity.limit_e: Input should be greater than 0"), ({"cl": 95}, r"unitarity.cl: Input should be less than 1"),
     ({"heavy_psi_only": "maybe"}, r"unitarity.heavy_psi_only: Input should be a valid boolean")],
)
def test_option_validation(opts, match):
    with pytest.raises(ConfigError, match=match):
        _build(**opts)
