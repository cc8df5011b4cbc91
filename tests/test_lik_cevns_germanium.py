"""CEvNS on germanium (CONUS+, COHERENT Ge, Dresden-II): the Ge nucleus and quenching, SM points, published SM
predictions, the light-Z' enhancement at LMA-Dark points, and that no shipped config mixes Ge quenching models."""

import math
from pathlib import Path

import numpy as np
import pytest
import yaml

from globalfit.errors import ConfigError
from globalfit.physics.scattering import NUCLEI, lindhard_yield
from likelihoods import build_likelihood, build_likelihoods
from likelihoods import cevns_germanium as ge
from likelihoods._cevns_validation import sns_flux_averaged_sigma
from globalfit.physics.model import observables
from tests.helpers import m2ll
from tests.test_paper_claims import benchmark

NAMES = ("cevns_conus_plus", "cevns_coherent_ge", "cevns_dresden2")
RUNS = Path(__file__).resolve().parents[1] / "runs"


def test_ge_nucleus_and_lindhard():
    """Natural Ge as one nucleus (Z = 32, A = 72.630); Lindhard k = 0.162 puts 160 and 180 eVee at ~0.92 and ~1.02 keVnr
    and 1.5 keVee at ~6.6 keVnr; the yield rises with T."""
    g = NUCLEI["Ge"]
    assert (g.Z, g.A) == (32.0, 72.630)
    assert ge.ge_recoil_threshold(0.16, "lindhard") == pytest.approx(0.92, abs=0.01)
    assert ge.ge_recoil_threshold(0.18, "lindhard") == pytest.approx(1.02, abs=0.01)
    assert ge.ge_recoil_threshold(1.5, "lindhard") == pytest.approx(6.6, abs=0.1)
    y = lindhard_yield(np.array([0.5, 1.0, 5.0, 20.0]), 32, 72.63, 0.162)
    assert np.all(np.diff(y) > 0)
    # Fef and YBe tables: Fef yields more ionisation than YBe, so the same threshold is a lower recoil
    assert ge.ge_recoil_threshold(0.2, "fef") < ge.ge_recoil_threshold(0.2, "ybe") < ge.ge_recoil_threshold(0.2, "lindhard")
    with pytest.raises(ValueError, match="ends at 4.5 keVnr"):
        ge.ge_yield("fef")(np.array([6.0]))


def test_sm_points():
    """CONUS+: 395 +- 106 vs 347 +- 59 gives 48^2/(106^2 + 59^2) at the SM; COHERENT Ge: the SM is the measured ratio."""
    m2 = m2ll(NAMES, "B", g_X=1e-12)
    assert m2[0] == pytest.approx(48**2 / (106**2 + 59**2), rel=1e-6)
    assert m2[1] == pytest.approx(0.0, abs=1e-12)
    assert 0.0 <= m2[2] < 1.0  # Dresden-II (Fef): the SM spectrum fits the data about as well as any light-Z' spectrum


def test_coherent_ge_one_sigma():
    """r one combined sigma away from 1.00 +- 0.10 (stat) +- 0.10 r (syst) gets -2 Delta ln L = 1."""
    lk = build_likelihood("cevns_coherent_ge", "B")
    r = 1.0 + 0.1 * math.sqrt(1 + 1.0)  # solve (r - 1)^2 = 0.01 + 0.01 r^2 approximately, then check exactly
    r = 1.0 + math.sqrt(0.01 + 0.01 * r**2)
    r = 1.0 + math.sqrt(0.01 + 0.01 * r**2)
    r = 1.0 + math.sqrt(0.01 + 0.01 * r**2)
    assert -2 * float(lk.loglike_ratio(r, lk.name)) == pytest.approx(1.0, rel=1e-3)


def test_published_sm_predictions():
    """docs/validation.md: CONUS+ absolute SM count at the 160 eVee threshold within 347 +- 59 (a higher 180 eVee threshold
    gives fewer); Dresden-II SM spectra within 5 % of the third-party public-fit prediction (Fef 119.2, YBe 63.9 per day)."""
    conus = build_likelihood("cevns_conus_plus", "B")
    n160, n180 = conus.sm_count("threshold_lo"), conus.sm_count("threshold_hi")
    assert abs(n160 - 347.0) < 59.0 and n180 < n160
    third = {"fef": "cevns_Fef", "ybe": "cevns_YBe"}
    for q, col in third.items():
        lk = build_likelihood("cevns_dresden2", "B", {"quenching": q})
        ref = ge.column("cevns_dresden2_thirdparty_sm.csv", col)
        assert float(lk.signal_sm.sum()) == pytest.approx(float(ref.sum()), rel=0.05)
        assert float(lk.signal_sm[0]) == pytest.approx(float(ref[0]), rel=0.1)


def test_flux_averaged_cross_sections():
    """SNS-flux-averaged SM cross sections (no threshold): COHERENT Ge 5.9e-39 cm^2 (arXiv:2603.17951, abstract) and
    CsI 189e-40 cm^2 per nucleus (arXiv:2110.07730 [S]), within 3 %."""
    assert sns_flux_averaged_sigma("Ge") == pytest.approx(5.9e-39, rel=0.03)
    assert 0.5 * (sns_flux_averaged_sigma("Cs") + sns_flux_averaged_sigma("I")) == pytest.approx(189e-40, rel=0.03)


def test_dresden_rate_only_view():
    """Dresden-II with Fef (the abstract: CEvNS preferred at p < 1.2e-3; deviations of order 60 % from the SM excluded):
    no signal costs > 6, 1.6 x SM costs > 4 more than the SM."""
    lk = build_likelihood("cevns_dresden2", "B")
    m2 = lambda r: -2 * float(lk.loglike_ratio(r, lk.name))
    assert m2(0.0) - m2(1.0) > 6.0
    assert m2(1.6) - m2(1.0) > 4.0


def test_light_zprime_lma_dark_window():
    """LMA-Dark in U(1)_B (eps^Earth_ee - eps^Earth_mumu = -3, g_Psi < 0): reactor CEvNS on Ge sees the light Z'
    (q ~ 10 MeV): CONUS+ excludes M_Zp = 5 and 7 MeV by far more than 2.71; at 3.5 MeV the suppression is stronger."""
    sm = m2ll(NAMES, "B", g_X=1e-12)
    d = {}
    for M in (3.5e-3, 5e-3, 7e-3):
        d[M] = m2ll(NAMES, "B", **lma_dark_point(M)) - sm
    assert d[5e-3][0] > 2.71 and d[7e-3][0] > d[5e-3][0] > d[3.5e-3][0]


def lma_dark_point(M):
    """tests.test_paper_claims' LMA-Dark construction (kappa_e only, g_Psi = -1, g_B = 1e-5) at another M_Zp."""
    p = benchmark("B", M, 1e-5, -1.0, 1e-4, 0.0)
    o = observables(p, "B")
    d = float(o["eps_earth_ee"] - o["eps_earth_mumu"])
    p = benchmark("B", M, 1e-5, -1.0, 1e-4 * (-3.0 / d), 0.0)
    return {k: float(v) for k, v in p.items()}


def test_options():
    with pytest.raises(ConfigError, match="lindhard_k applies only with quenching: lindhard"):
        build_likelihoods({"cevns_conus_plus": {"quenching": "fef", "lindhard_k": 0.2}}, "B")
    with pytest.raises(ConfigError, match="threshold_eVee"):
        build_likelihoods({"cevns_conus_plus": {"threshold_eVee": [180, 160]}}, "B")
    with pytest.raises(ConfigError, match="quenching"):
        build_likelihoods({"cevns_coherent_ge": {"quenching": "fef"}}, "B")
    with pytest.raises(ConfigError, match="not applicable"):
        build_likelihoods({"cevns_conus_plus": None}, "L")


def _ge_quenching(name, opts):
    opts = opts or {}
    if name == "cevns_coherent_ge":
        return ("lindhard", opts.get("lindhard_k", 0.162))
    q = opts.get("quenching", "fef" if name == "cevns_dresden2" else "lindhard")
    return (q, opts.get("lindhard_k", 0.162) if q == "lindhard" else None)


def test_no_shipped_config_mixes_ge_quenching_models():
    """Default configs must not silently combine incompatible assumptions: every shipped run config uses one Ge
    quenching model for all its Ge likelihoods (likelihoods/cevns_germanium.py)."""
    for path in sorted(RUNS.rglob("*.yaml")):
        lks = (yaml.safe_load(path.read_text()) or {}).get("likelihoods") or {}
        models = {_ge_quenching(n, o) for n, o in lks.items() if n in NAMES}
        assert len(models) <= 1, f"{path.name}: Ge likelihoods with different quenching models {models}"
