"""CEvNS likelihoods (COHERENT CsI/LAr, XENONnT and PandaX-4T 8B): finiteness, SM point, best point, one-sigma points,
and the light-mediator suppression of LMA-Dark-size NSI."""

import math

import numpy as np
import pytest
from scipy.optimize import brentq

from globalfit.physics.constants import constants
from globalfit.errors import ConfigError
from globalfit.physics.model import observables
from globalfit.physics.parameters import PARAM_NAMES
from likelihoods import build_likelihoods, registry
from likelihoods import cevns
from tests.helpers import point
from tests.helpers import box_points as _points
from tests.helpers import jitted_likelihoods, m2ll

NAMES = ("cevns_coherent_csi", "cevns_coherent_lar", "cevns_xenonnt_8b", "cevns_pandax_8b")


def _lks(scenario):
    return jitted_likelihoods(NAMES, scenario)[0]


def _jitted(scenario):
    return jitted_likelihoods(NAMES, scenario)[1:]


def _m2ll(scenario, **kw):
    return m2ll(NAMES, scenario, **kw)


@pytest.mark.parametrize("scenario", ["B", "B-L", "B-3Ltau"])
def test_finite_value_and_gradient(scenario, rng):
    _, each, grad = _jitted(scenario)
    p = _points(rng, 64, scenario)
    v = np.asarray(each(p))
    assert np.all(np.isfinite(v)) and np.all(v <= 1e-9)
    g = grad(p)
    for k in PARAM_NAMES:
        assert np.all(np.isfinite(np.asarray(g[k]))), k


def _count_m2(n, b, sb, s):
    mu = b + s
    return (n - mu) ** 2 / (mu + sb**2 + (cevns.PHI_SNO_REL * s) ** 2)


def test_sm_point_values():
    m2 = _m2ll("B", g_X=1e-12)
    assert m2[0] == pytest.approx(35**2 / (20**2 + 11**2 + 42**2), rel=1e-6)  # 306 +- 20 vs 341 +- 11 +- 42
    assert m2[1] == pytest.approx(31**2 / (43**2 + 17**2), rel=1e-6)  # 159 +- 43 vs 128 +- 17
    s_x = 10.6 * 5.25 / 4.7
    assert m2[2] == pytest.approx(_count_m2(37, 26.4, 1.35, s_x), rel=1e-6)
    pp = _count_m2(3, 2.8, 0.5, 3.5 * 5.25 / 8.4) + _count_m2(332, 251, 32, 75 * 5.25 / 8.4)
    assert m2[3] == pytest.approx(pp, rel=1e-6)


def test_csi_recoil_window_from_light_yield_and_quenching():
    lo, hi = cevns.csi_recoil_window()
    assert lo == pytest.approx(5.0e-6, rel=0.05) and 40e-6 < hi < 50e-6  # ~5 keVnr threshold for 5 PE


def _lma_dark_point(M, eps0=-0.3):
    """U(1)_B, Psi mixing with nu_e only, |kappa_e|^2 = 1e-3, g_Psi = -0.15: g_X set for eps^u_ee(q^2 = 0) = eps0."""
    c = constants()
    kap2, M_Psi, cb, g_psi = 1e-3, 1.0, 1e-3, -0.15
    y_e = math.sqrt(kap2) * math.sqrt(2) * M_Psi / (c.vev * cb)
    g_X = eps0 * math.sqrt(2) * c.G_F * M**2 * 3 / (g_psi * kap2)
    return dict(M_Zp=M, g_X=g_X, g_Psi=g_psi, y_e=y_e, cos_beta=cb, M_Psi=M_Psi)


def test_lma_dark_contact_nsi_excluded_but_light_mediator_suppressed():
    heavy, light = _lma_dark_point(1.0), _lma_dark_point(5e-3)
    for kw in (heavy, light):
        p = point(**kw)
        assert float(observables(p, "B")["eps_u_ee"]) == pytest.approx(-0.3, rel=1e-9)
    m2_heavy, m2_light, m2_sm = _m2ll("B", **heavy), _m2ll("B", **light), _m2ll("B", g_X=1e-12)
    # M_Zp = 1 GeV acts as contact NSI: every CEvNS data set excludes it strongly
    assert np.all(m2_heavy > 30.0), m2_heavy
    # M_Zp = 5 MeV: q^2 ~ (20-60 MeV)^2 >> M^2 suppresses eps, the penalty stays within ~1 of the SM one
    assert np.all(np.abs(m2_light - m2_sm) < 1.0), (m2_light, m2_sm)
    assert np.sum(m2_heavy) > 100 * np.sum(np.abs(m2_light - m2_sm))


def test_best_point_and_one_sigma_point_csi():
    """A point predicting exactly 306 CsI events gets 0; one combined sigma above it gets -2 Delta ln L = 1."""
    lk = _lks("B")[0]
    f = lambda x, target: float(lk.ratio(observables(point(**_lma_dark_point(1.0, x)), "B"))) * 341 - target
    x0 = brentq(lambda x: f(x, 306.0), 0.0, 0.02)  # eps > 0 interferes destructively with Q_SM < 0
    assert _m2ll("B", **_lma_dark_point(1.0, x0))[0] == pytest.approx(0.0, abs=1e-10)
    # N = 306 - sigma(N) with sigma^2 = 20^2 + (43.4/341)^2 N^2, solved for N
    a = (11**2 + 42**2) / 341**2
    N1 = brentq(lambda N: (306 - N) ** 2 - (400 + a * N**2), 200, 306)
    x1 = brentq(lambda x: f(x, N1), x0, 0.05)
    assert _m2ll("B", **_lma_dark_point(1.0, x1))[0] == pytest.approx(1.0, rel=1e-6)


def test_options_and_registration():
    with pytest.raises(ConfigError, match="pe_window"):
        build_likelihoods({"cevns_coherent_csi": {"pe_window": (60, 5)}}, "B")
    with pytest.raises(ConfigError, match="channels"):
        build_likelihoods({"cevns_pandax_8b": {"channels": ["S2only"]}}, "B")
    with pytest.raises(ConfigError, match="threshold"):
        build_likelihoods({"cevns_coherent_lar": {"threshold_keVnr": -1}}, "B")
    with pytest.raises(ConfigError, match="not applicable"):
        build_likelihoods({"cevns_xenonnt_8b": None}, "L")
    assert "cevns_cdmslite" not in registry()  # no sourced CDMSlite numbers (constraints_data B7)
    lk = build_likelihoods({"cevns_pandax_8b": {"channels": ["US2"]}}, "B-L")[0]
    assert set(lk.s_sm) == {"US2"}
