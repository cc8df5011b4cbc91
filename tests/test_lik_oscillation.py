"""Oscillation likelihoods (osc_lma, osc_dune_t2hk, osc_lma_dark, osc_icecube_mutau)."""


import jax.numpy as jnp
import numpy as np
import pytest

from globalfit.errors import ConfigError

from globalfit.physics.model import observables
from likelihoods import build_likelihood
from likelihoods.stats import delta_chi2, interval
from tests.helpers import check_finite, point

_check_finite = check_finite


CONFIG = (
    ("osc_lma", ()),
    ("osc_dune_t2hk", (("combination", "earth"), ("centre", "sm"))),
    ("osc_lma_dark", ()),
    ("osc_icecube_mutau", ()),
)
EARTH = {"combination": "earth"}
UPPER90 = delta_chi2(0.9)  # 2.71
INTERVAL90 = delta_chi2(0.9)  # 2.71 (the same number: likelihoods.stats)


def _build(name, scenario="B", **opts):
    return build_likelihood(name, scenario, opts)


def _obs(eps):
    """Synthetic observables: a 3x3 Earth-matter eps."""
    return {"eps_earth": jnp.asarray(eps, dtype=jnp.complex128)}


def _eps(ee=0.0, mm=0.0, tt=0.0, emu=0.0, etau=0.0, mutau=0.0):
    e = np.diag([ee, mm, tt]).astype(complex)
    for (i, j), v in {(0, 1): emu, (0, 2): etau, (1, 2): mutau}.items():
        e[i, j], e[j, i] = v, np.conj(v)
    return e


@pytest.mark.parametrize("scenario", ["B", "B-L"])
def test_finite_value_and_gradient_over_prior_box(scenario, rng):
    _check_finite(CONFIG, scenario, rng)


def test_finite_osc_lma_electron_in_L(rng):
    _check_finite((("osc_lma_electron", ()), ("osc_icecube_mutau", ())), "L", rng)


def test_sm_point_values():
    """eps = 0 is the LMA best fit (paper Sec. 3): the SM point is the maximum of osc_lma (and of DUNE+T2HK's
    mu-mu range); IceCube 2022 gives no best fit, so its interval is centred."""
    p = point(g_X=1e-12)
    obs = observables(p, "B")
    assert float(_build("osc_lma").loglike(obs)) == 0.0
    assert float(_build("osc_lma").loglike(_obs(_eps(ee=0.3)))) < 0.0
    exp_ic = float(interval(0.0, -0.0041, 0.0031) + interval(0.0, -0.0036, 0.0036))
    assert float(_build("osc_icecube_mutau").loglike(obs)) == pytest.approx(exp_ic, rel=1e-6)


@pytest.mark.parametrize("ab,lim", [("emu", 0.12), ("etau", 0.18), ("mutau", 0.018)])
def test_offdiagonal_at_limit(ab, lim):
    fn = _build("osc_lma", **EARTH)
    centre = dict(ee=0.0, mm=0.0)
    base = float(fn.loglike(_obs(_eps(**centre))))
    assert base == pytest.approx(0.0, abs=1e-12)
    val = float(fn.loglike(_obs(_eps(**centre, **{ab: lim * np.exp(0.7j)}))))
    assert -2 * val == pytest.approx(UPPER90, rel=1e-9)


@pytest.mark.parametrize("end", [-0.11, 0.60])
def test_diagonal_at_interval_end(end):
    fn = _build("osc_lma", **EARTH)
    val = float(fn.loglike(_obs(_eps(ee=end, mm=0.0))))
    assert -2 * val == pytest.approx(INTERVAL90, rel=1e-9)


def test_ee_lower_sign_switch_and_dune_projection():
    assert _build("osc_lma").record["ee_tt"] == (-0.11, 0.60)
    assert _build("osc_lma", ee_lower_sign=1).record["ee_tt"] == (0.11, 0.60)
    fn = _build("osc_dune_t2hk", **EARTH)
    val = float(fn.loglike(_obs(_eps(ee=0.43, mm=0.0, emu=0.024))))
    assert -2 * val == pytest.approx(INTERVAL90 + UPPER90, rel=1e-9)


def test_dune_t2hk_centring():
    """Review M3: centred as its source (0.017 < eps_ee - eps_tautau < 0.43, best fit away from 0) the SM point pays
    3.17; centred at the SM it pays 0 and a point at half the range's width from 0 pays 2.71."""
    src, sm = _build("osc_dune_t2hk", **EARTH), _build("osc_dune_t2hk", centre="sm", **EARTH)
    assert -2 * float(src.loglike(_obs(_eps()))) == pytest.approx(3.17, abs=0.01)
    assert float(sm.loglike(_obs(_eps()))) == 0.0
    half = 0.5 * (0.43 - 0.017)
    assert -2 * float(sm.loglike(_obs(_eps(ee=-half)))) == pytest.approx(INTERVAL90, rel=1e-9)
    assert -2 * float(sm.loglike(_obs(_eps(mm=0.5 * (0.025 + 0.027))))) == pytest.approx(INTERVAL90, rel=1e-9)


def test_combination_earth_vs_quark():
    """U(1)_B, eps^e = 0, eps^u = eps^d: eps^Earth = 3 (eps^u + eps^d) for Y_n = 1, so the quark reading (default)
    compares eps^u + eps^d and the off-diagonal term of the Earth reading is 9x; in B-L the quark equivalent is the
    neutron NSI over 3 (electron NSI cancels the proton part), not eps^u + eps^d."""
    p = point(y_e=1.0, y_mu=1.0, cos_beta=1e-6, g_Psi=1.0, g_X=1e-6, M_Zp=0.01)
    obs = observables(p, "B")
    np.testing.assert_allclose(np.asarray(obs["eps_earth"]), 3 * np.asarray(obs["eps_u"] + obs["eps_d"]), rtol=1e-12)
    quark, earth = _build("osc_lma"), _build("osc_lma", **EARTH)
    np.testing.assert_allclose(np.asarray(quark.eps(obs)), np.asarray(obs["eps_u"] + obs["eps_d"]), rtol=1e-12)
    from likelihoods.oscillation import LMA_CURRENT, offdiag_upper

    e = float(offdiag_upper(earth.eps(obs), LMA_CURRENT))
    q = float(offdiag_upper(quark.eps(obs), LMA_CURRENT))
    assert e == pytest.approx(9 * q, rel=1e-10) and e < 0
    obl = observables(p, "B-L")
    np.testing.assert_allclose(np.asarray(quark.eps(obl)), 0.5 * np.asarray(obl["eps_u"] + obl["eps_d"]), rtol=1e-10)
    assert quark.earth_record()["ee_tt"] == pytest.approx((-0.33, 1.80)) and earth.earth_record() == earth.record


def test_applicability_follows_the_nsi():
    """Quark-NSI ranges need a quark coupling (not U(1)_L, review M9); osc_lma_electron (the paper's treatment of
    U(1)_L) applies to electron-only NSI; IceCube (Earth matter only) applies everywhere."""
    for name in ("osc_lma", "osc_dune_t2hk", "osc_lma_dark"):
        assert _build(name, "B-L") is not None
        with pytest.raises(ConfigError, match=rf"likelihoods.{name}: not applicable to scenario L \(it needs a coupling to quarks"):
            _build(name, "L")
    fn = _build("osc_lma_electron", "L", **EARTH)
    o = observables(point(y_e=1.0, cos_beta=1e-6, g_Psi=1.0, g_X=1e-6, M_Zp=0.01), "L")
    assert float(fn.loglike(o)) == pytest.approx(float(_build("osc_lma", "B", **EARTH).loglike(o)), rel=1e-12)
    for sc in ("B", "B-L"):
        with pytest.raises(ConfigError, match="osc_lma_electron: not applicable"):
            _build("osc_lma_electron", sc)
    assert _build("osc_icecube_mutau", "L") is not None


def test_lma_dark_reachable_in_U1B():
    """Paper Sec. 3: with kappa_e only and g_Psi g_B < 0, eps^Earth_ee = -3 (LMA-Dark) in U(1)_B."""
    p = point(y_e=1.0, cos_beta=1e-6, g_Psi=-1.0, g_X=1e-5, M_Zp=0.01)
    e = float(observables(p, "B")["eps_earth_ee"])
    assert e < 0
    p = point(y_e=np.sqrt(-3.0 / e), cos_beta=1e-6, g_Psi=-1.0, g_X=1e-5, M_Zp=0.01)
    obs = observables(p, "B")
    assert float(obs["eps_earth_ee"]) == pytest.approx(-3.0, rel=1e-9)
    for opts in ({}, EARTH):  # eps^q_ee - eps^q_mumu = -1 is eps^Earth = -3: both readings hit the target
        val = float(_build("osc_lma_dark", **opts).loglike(obs))
        assert val == pytest.approx(float(interval(0.0, -0.04, 0.037)), abs=1e-6)  # only the mumu-tautau term remains
    assert float(_build("osc_lma").loglike(obs)) < -100  # the standard LMA range excludes it
    # ends of the constructed interval
    fn = _build("osc_lma_dark")
    assert fn.interval_ee_mumu == pytest.approx((-1.1, -0.9))
    mm = 0.5 * (-0.04 + 0.037)
    val = float(_build("osc_lma_dark", **EARTH).loglike(_obs(_eps(ee=-3.3 + mm, mm=mm))))
    assert -2 * val == pytest.approx(INTERVAL90, rel=1e-9)


def test_icecube_datasets_and_density():
    a, b = _build("osc_icecube_mutau"), _build("osc_icecube_mutau", dataset="deepcore2018")
    assert a.interval == (-0.0041, 0.0031) and b.interval == (-0.0067, 0.0081)
    assert a.norm == pytest.approx(1 / 3) and _build("osc_icecube_mutau", density="e").norm == 1.0
    fn = _build("osc_icecube_mutau", imaginary="ignore")
    val = float(fn.loglike(_obs(_eps(mutau=3 * 0.0031))))  # eps^(d) = eps^Earth / 3 at the upper end
    assert -2 * val == pytest.approx(INTERVAL90, rel=1e-9)


@pytest.mark.parametrize(
    "name,opts,match",
    [
        ("osc_lma", {"combination": "u+d"}, r"osc_lma.combination: Input should be 'quark' or 'earth'"),
        ("osc_lma", {"n_q_over_n_e": 0}, r"osc_lma.n_q_over_n_e: Input should be greater than 0"),
        ("osc_dune_t2hk", {"centre": "middle"}, r"osc_dune_t2hk.centre: Input should be 'source' or 'sm'"),
        ("osc_lma", {"ee_lower_sign": 0}, r"osc_lma.ee_lower_sign: Input should be -1 or 1"),
        ("osc_dune_t2hk", {"combination": "sun"}, r"osc_dune_t2hk.combination: Input should be 'quark' or 'earth'"),
        ("osc_lma_dark", {"lmad_halfwidth": -1.0}, r"osc_lma_dark.lmad_halfwidth: Input should be greater than 0"),
        ("osc_icecube_mutau", {"dataset": "ic86"}, r"osc_icecube_mutau.dataset: Input should be 'icecube2022' or 'deepcore2018'"),
        ("osc_icecube_mutau", {"density": "u"}, r"osc_icecube_mutau.density: Input should be 'd' or 'e'"),
        ("osc_icecube_mutau", {"imaginary": "both"}, r"osc_icecube_mutau.imaginary: Input should be 'same' or 'ignore'"),
    ],
)
def test_option_validation(name, opts, match):
    with pytest.raises(ConfigError, match=match):
        _build(name, **opts)
