"""Radiative LFV likelihood: PDG limits, paper-2016 inputs, overrides, value at a quoted limit."""

import pytest

from globalfit.physics.model import observables
from likelihoods import build_likelihoods
from likelihoods.stats import delta_chi2
from tests.helpers import point


def _lk(**opts):
    return build_likelihoods({"lfv_radiative": opts}, "B")[0]


def test_sm_point_is_maximum():
    p = point()
    assert float(_lk().loglike(observables(p, "B"))) == 0.0


def test_pdg_limits_are_read_from_database():
    limits = _lk().limits
    assert limits["tau_e"].source.startswith("PDG") and "tau- --> e- gamma" in limits["tau_e"].source
    assert limits["mu_e"].value < 4.2e-13  # MEG II improved on the paper's MEG 2016 limit


@pytest.mark.parametrize("dataset,expected", [("paper2016", 3.3e-8)])
def test_paper_dataset(dataset, expected):
    assert _lk(dataset=dataset).limits["tau_e"].value == expected


def test_point_at_quoted_limit_gets_promised_delta_chi2():
    lk = _lk(dataset="paper2016")
    # |y_e y_tau| = 0.46 (M_H/400)^2 saturates Br(tau->e gamma) = 3.3e-8 (Eq. 21); find the exact scale
    p = point(y_e=0.46, y_tau=1.0, cos_beta=1e-6, M_Psi=1.0)
    br = float(observables(p, "B")["br_tau_e_gamma"])
    scale = (3.3e-8 / br) ** 0.25
    p = point(y_e=0.46 * scale, y_tau=scale, cos_beta=1e-6, M_Psi=1.0)
    ll = float(lk.loglike(observables(p, "B")))
    assert -2 * ll == pytest.approx(delta_chi2(0.9), rel=1e-6)
    assert delta_chi2(0.9) == pytest.approx(2.706, rel=1e-3)


def test_override():
    lk = _lk(limit_tau_e=1e-9)
    assert lk.limits["tau_e"].value == 1e-9 and lk.limits["tau_e"].source.startswith("override")
