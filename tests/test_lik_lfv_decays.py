"""Two-body LFV into an invisible Z' (lfv_two_body) and tau -> 3l through an on-shell Z' (tau_three_body)."""

import os
import sqlite3

import numpy as np
import pdg
import pytest

from globalfit.errors import ConfigError
from globalfit.physics.model import observables
from likelihoods import build_likelihood, build_likelihoods
from likelihoods.stats import delta_chi2
from tests.helpers import check_finite, point

_check_finite = check_finite


PDG_DB = os.path.join(os.path.dirname(pdg.__file__), "pdg.sqlite")
UPPER90 = delta_chi2(0.9)


def _build(name, scenario="B-L", **opts):
    return build_likelihood(name, scenario, opts)


def _listing(pdgid, document):
    """A measurement of the PDG listing (value, CL) by its document id, read from the pdg package database."""
    con = sqlite3.connect(PDG_DB)
    q = ("select v.value, m.confidence_level from pdgmeasurement m join pdgmeasurement_values v on v.pdgmeasurement_id = m.id "
         "join pdgreference r on r.id = m.pdgreference_id where m.pdgid = ? and r.document_id like ?")
    return con.execute(q, (pdgid, document + "%")).fetchall()


@pytest.mark.parametrize("scenario,config", [
    ("B-L", (("lfv_two_body", ()), ("tau_three_body", ()))),
    ("B", (("lfv_two_body", (("dataset", "paper2016"),)),)),
])
def test_finite_value_and_gradient_over_prior_box(scenario, config, rng):
    _check_finite(config, scenario, rng)


@pytest.mark.parametrize("name", ["lfv_two_body", "tau_three_body"])
def test_sm_point_is_maximum(name):
    p = point(g_X=1e-12)
    assert float(_build(name).loglike(observables(p, "B-L"))) == 0.0


def test_two_body_limits_pdg_vs_paper():
    pdg_l, paper = _build("lfv_two_body").limits, _build("lfv_two_body", dataset="paper2016").limits
    assert "tau- --> e- light boson" in pdg_l["tau_e"].source and pdg_l["tau_e"].cl == 0.9
    assert pdg_l["tau_e"].value < paper["tau_e"].value == 2.7e-3 and paper["tau_e"].cl == 0.95
    assert paper["tau_mu"].value == 5e-3 and pdg_l["mu_e"] == paper["mu_e"]
    # the mu -> e X0 value is the TWIST entry of the PDG listing S029GB; ARGUS 1995 is PDG's Gamma/Gamma(e nu nu)
    assert (9e-6, 90.0) in _listing("S029GB", "BAYES 2015")
    assert {round(v, 4) for v, _ in _listing("S035B11", "ALBRECHT 1995")} == {0.015}
    assert _build("lfv_two_body", limit_mu_e=1e-6, cl=0.95).limits["mu_e"].cl == 0.95


def test_two_body_point_at_quoted_limit():
    """U(1)_L below 2 m_e: the Z' decays only to nu nubar (Br_inv = 1), Br(tau -> e Z') ∝ y_e^2."""
    kw = dict(y_tau=1.0, g_Psi=1.0, cos_beta=1e-8, M_Zp=5e-4, g_X=1e-6, M_H=400.0, M_Psi=1.0)
    p = point(y_e=1.0, **kw)
    obs = observables(p, "L")
    assert float(obs["br_Zp_invisible"]) == pytest.approx(1.0, abs=1e-12)
    for dataset, lim, cl in [("pdg", 4.5e-4, 0.9), ("paper2016", 2.7e-3, 0.95)]:
        fn = _build("lfv_two_body", "L", dataset=dataset)
        assert fn.limits["tau_e"].value == lim
        y = float(np.sqrt(lim / float(obs["br_tau_e_Zp"])))
        q = point(y_e=y, **kw)
        val = float(fn.loglike(observables(q, "L")))
        assert -2 * val == pytest.approx(delta_chi2(cl), rel=1e-8)


def test_two_body_invisible_fraction_multiplies():
    p = point(y_e=1.0, y_tau=1.0, g_Psi=1.0, cos_beta=1e-8, M_Zp=0.05, g_X=1e-3)
    obs = dict(observables(p, "L"))
    fn = _build("lfv_two_body", "L")
    full = float(fn.loglike(obs))
    obs["br_Zp_invisible"] = 0.0 * obs["br_Zp_invisible"]
    assert full < 0 and float(fn.loglike(obs)) == 0.0


def test_three_body_point_at_limit_and_window():
    """B-L, 2 m_e < M_Zp < 2 m_mu: only tau -> e e e is open (y_mu = 0)."""
    kw = dict(y_tau=1.0, g_Psi=1.0, cos_beta=1e-8, M_Zp=0.05, g_X=1e-4)
    p = point(y_e=1.0, **kw)
    obs = observables(p, "B-L")
    br = float(obs["br_tau_e_Zp"] * obs["br_Zp_ee"])
    assert br > 0 and float(obs["br_Zp_mumu"]) == 0.0
    for dataset, lim in [("pdg", 2.5e-8), ("belle2010", 2.7e-8)]:
        fn = _build("tau_three_body", dataset=dataset)
        assert fn.limits["eee"].value == lim
        q = point(y_e=float(np.sqrt(lim / br)), **kw)
        # Br(Z' -> ee) moves by O(kappa^2) when y_e is rescaled: 1e-6 tolerance
        assert -2 * float(fn.loglike(observables(q, "B-L"))) == pytest.approx(UPPER90, rel=1e-6)
    # outside the window 2 m_d < M_Zp < m_tau - m_b the rate and log L are exactly 0
    fn = _build("tau_three_body")
    for M in (5e-4, 1.8):
        q = point(y_e=1.0, **{**kw, "M_Zp": M})
        assert float(fn.loglike(observables(q, "B-L"))) == 0.0


def test_three_body_belle2010_matches_pdg_listing():
    from likelihoods.tau_three_body import BELLE_2010, CHANNELS

    ratio_ids = {"eee": "S035R58", "emumu": "S035R56", "muee": "S035R57", "mumumu": "S035R55"}
    for ch, pid in ratio_ids.items():
        assert _listing(pid, "HAYASAKA 2010") == [(pytest.approx(BELLE_2010[ch]), 90.0)]
    pdg_l = _build("tau_three_body").limits
    assert all(pdg_l[ch].source.startswith("PDG") and CHANNELS[ch][2] in pdg_l[ch].source for ch in CHANNELS)


def test_three_body_only_for_charged_lepton_scenarios():
    with pytest.raises(ConfigError, match="not applicable to scenario B"):
        build_likelihoods({"tau_three_body": None}, "B")


@pytest.mark.parametrize(
    "name,opts,match",
    [("lfv_two_body", {"dataset": "argus"}, r"lfv_two_body.dataset: Input should be 'pdg' or 'paper2016'"),
     ("lfv_two_body", {"limit_tau_e": 0.0}, r"lfv_two_body.limit_tau_e: Input should be greater than 0"),
     ("lfv_two_body", {"limit_tau_e": 1e-3, "cl": 1.5}, r"lfv_two_body.cl: Input should be less than 1"),
     ("tau_three_body", {"dataset": "paper2016"}, r"tau_three_body.dataset: Input should be 'pdg' or 'belle2010'"),
     ("tau_three_body", {"limit_eee": -1e-8}, r"tau_three_body.limit_eee: Input should be greater than 0")],
)
def test_option_validation(name, opts, match):
    with pytest.raises(ConfigError, match=match):
        _build(name, **opts)
