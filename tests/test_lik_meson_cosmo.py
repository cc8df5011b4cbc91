"""Meson decays M -> l nu Z' (meson_decays) and the Delta N_eff bound on M_Zp (cosmology)."""

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from globalfit.errors import ConfigError

from globalfit.physics.constants import constants
from globalfit.physics.model import observables
from likelihoods import build_likelihood
from likelihoods.stats import delta_chi2
from tests.helpers import check_finite, point

_check_finite = check_finite


UPPER90 = delta_chi2(0.9)
CONFIG = (("meson_decays", (("channels", ("K_mu", "pi_e", "K_e", "pi_mu")),)), ("cosmology", ()))


def _build(name, scenario="B", **opts):
    return build_likelihood(name, scenario, opts)


@pytest.mark.parametrize("scenario", ["B", "L"])
def test_finite_value_and_gradient_over_prior_box(scenario, rng):
    _check_finite(CONFIG, scenario, rng)


@pytest.mark.parametrize("name", ["meson_decays", "cosmology"])
def test_sm_point_is_maximum(name):
    p = point(g_X=1e-12, M_Zp=0.01)  # no mixing (y = 0), G = g_X l = 0 in U(1)_B
    assert float(_build(name).loglike(observables(p, "B"))) == 0.0


def test_rate_closed_form_against_dalitz_integral():
    """R = Gamma(M -> l nu Z')/Gamma(M -> l nu) -> g^2 m_M^4/(384 pi^2 m_l^2 M_Zp^2) for m_l, M_Zp << m_M."""
    from likelihoods.meson_decays import ratio_exact, ratio_integral, ratio_light

    assert ratio_integral(1.0, 1e-6, 1e-6) == pytest.approx(1 / 48, rel=1e-6)  # massless: Int m13^2 m23^2 / 2 = m^8/48
    for m_l, m_z in [(1e-4, 1e-4), (1e-4, 1e-3), (1e-5, 3e-4)]:
        assert ratio_exact(0.3, 1.0, m_l, m_z) == pytest.approx(ratio_light(0.3, 1.0, m_l, m_z), rel=2e-3)
    c = constants()
    assert ratio_exact(1.0, c.m_K, c.m_mu, c.m_K - c.m_mu + 1e-6) == 0.0
    # a Monte-Carlo estimate of the same Dalitz integral (K -> mu nu Z', M_Zp = 0.1 GeV) with the physical region
    # found independently from the rest-frame energies and the triangle inequality of the three momenta
    rng = np.random.default_rng(1)
    mM, ml, mz = c.m_K, c.m_mu, 0.1
    s12 = rng.uniform(ml**2, (mM - mz) ** 2, 400_000)
    s23 = rng.uniform(0.0, (mM - ml) ** 2, 400_000)
    E1 = (mM**2 + ml**2 - s23) / (2 * mM)  # lepton
    E3 = (mM**2 + mz**2 - s12) / (2 * mM)  # Z'
    E2 = mM - E1 - E3  # neutrino
    ok = (E1 >= ml) & (E3 >= mz) & (E2 >= 0)
    p1, p3 = np.sqrt(np.maximum(E1**2 - ml**2, 0)), np.sqrt(np.maximum(E3**2 - mz**2, 0))
    inside = ok & (E2 <= p1 + p3) & (E2 >= np.abs(p1 - p3))
    T = 2 * 0.5 * (s12 + s23 - ml**2 - mz**2) * 0.5 * (mM**2 + ml**2 - s23) - mM**2 * 0.5 * (s12 - ml**2)
    area = ((mM - mz) ** 2 - ml**2) * (mM - ml) ** 2
    mc = area * np.mean(np.where(inside, T, 0.0))
    assert mc == pytest.approx(ratio_integral(mM, ml, mz), rel=1e-2)


def _dirac():
    s = [np.array([[0, 1], [1, 0]]), np.array([[0, -1j], [1j, 0]]), np.array([[1, 0], [0, -1]])]
    z, one = np.zeros((2, 2)), np.eye(2)
    g = [np.block([[one, z], [z, -one]])] + [np.block([[z, si], [-si, z]]) for si in s]
    return [x.astype(complex) for x in g], (1j * g[0] @ g[1] @ g[2] @ g[3]).astype(complex)


def test_squared_amplitude_ward_identity_and_trace():
    """Sum|M|^2 of the k^mu k^nu / M_Zp^2 (longitudinal) part, from explicit Dirac matrices with the neutrino
    propagator, equals (g/M_Zp)^2 8 [2 (p.P)(l.P) - m_M^2 (p.l)] used in the module (C = 1)."""
    g, g5 = _dirac()
    metric = np.diag([1.0, -1.0, -1.0, -1.0])
    slash = lambda a: sum(metric[m, m] * a[m] * g[m] for m in range(4))
    dot = lambda a, b: a @ metric @ b
    PL = 0.5 * (np.eye(4) - g5)
    rng = np.random.default_rng(7)
    mM, ml, mz = 0.4937, 0.1057, 0.03

    def boost(v, beta):
        b2 = beta @ beta
        gam = 1 / np.sqrt(1 - b2)
        bp = beta @ v[1:]
        return np.concatenate([[gam * (v[0] + bp)], v[1:] + ((gam - 1) * bp / b2 + gam * v[0]) * beta])

    for _ in range(3):
        s23 = rng.uniform(mz**2 * 1.2, (mM - ml) ** 2 * 0.9)
        E1 = (mM**2 + ml**2 - s23) / (2 * mM)
        n = rng.normal(size=3)
        n /= np.linalg.norm(n)
        lep = np.concatenate([[E1], np.sqrt(E1**2 - ml**2) * n])
        rest = np.array([mM, 0, 0, 0]) - lep
        m23 = np.sqrt(s23)
        q = (s23 - mz**2) / (2 * m23)
        u = rng.normal(size=3)
        u /= np.linalg.norm(u)
        nu0, z0 = np.concatenate([[q], q * u]), np.concatenate([[np.sqrt(q**2 + mz**2)], -q * u])
        beta = rest[1:] / rest[0]
        nu, k = boost(nu0, beta), boost(z0, beta)
        P = lep + nu + k
        qq = nu + k
        Gam = slash(k) @ PL @ slash(qq) / dot(qq, qq) @ slash(P) @ (np.eye(4) - g5)
        Gbar = g[0] @ Gam.conj().T @ g[0]
        msq = np.trace(slash(nu) @ Gam @ (slash(lep) - ml * np.eye(4)) @ Gbar).real
        formula = 8 * (2 * dot(nu, P) * dot(lep, P) - mM**2 * dot(nu, lep))
        assert msq == pytest.approx(formula, rel=1e-9)
    # two-body normalisation: Sum|u(p) Pslash (1 - g5) v(l)|^2 = 4 m_l^2 (m_M^2 - m_l^2)
    E = (mM**2 + ml**2) / (2 * mM)
    lep = np.array([E, 0, 0, np.sqrt(E**2 - ml**2)])
    nu = np.array([mM, 0, 0, 0]) - lep
    Gam = slash(lep + nu) @ (np.eye(4) - g5)
    msq = np.trace(slash(nu) @ Gam @ (slash(lep) - ml * np.eye(4)) @ g[0] @ Gam.conj().T @ g[0]).real
    assert msq == pytest.approx(4 * ml**2 * (mM**2 - ml**2), rel=1e-9)


def test_meson_point_at_quoted_limit():
    """U(1)_B, M_Zp < m_pi0: Br(Z' -> inv) = 1 and Br(K -> mu nu Z') ∝ (g_Psi |kappa_mu|^2)^2 ∝ y_mu^4."""
    kw = dict(g_Psi=1.0, cos_beta=1e-3, M_Psi=1.0, M_Zp=0.01, g_X=1e-9)
    p = point(y_mu=0.1, **kw)
    fn = _build("meson_decays")
    assert fn.limits["K_mu"].value == 1e-6 and fn.limits["pi_e"].value == 1.6e-7
    obs = observables(p, "B")
    assert float(obs["br_Zp_invisible"]) == pytest.approx(1.0, abs=1e-12)
    chi2 = -2 * float(fn.loglike(obs))
    assert chi2 > 0
    q = point(y_mu=0.1 * (UPPER90 / chi2) ** 0.125, **kw)  # chi2 ∝ Br^2 ∝ y^8
    assert -2 * float(fn.loglike(observables(q, "B"))) == pytest.approx(UPPER90, rel=1e-9)
    # and the Br at that point is the PDG limit, computed from the closed form times the suppression table
    from likelihoods.meson_decays import suppression_table

    c = constants()
    k2 = float(observables(q, "B")["kappa_mu"]) ** 2
    lnm, S = suppression_table(c.m_K, c.m_mu)
    br = (k2**2) * c.m_K**4 / (384 * math.pi**2 * c.m_mu**2 * 0.01**2) * np.interp(math.log(0.01), lnm, S) * 0.6356026
    assert br == pytest.approx(1e-6, rel=1e-5)


def test_meson_channels_and_endpoint():
    fn = _build("meson_decays", channels=["K_mu", "pi_e", "K_e", "pi_mu"])
    assert set(fn.limits) == {"K_mu", "pi_e", "K_e", "pi_mu"}
    assert _build("meson_decays", limit_K_mu=2e-6).limits["K_mu"].value == 2e-6
    p = point(y_e=1.0, y_mu=1.0, g_Psi=1.0, cos_beta=1e-3, M_Zp=0.4935, g_X=1e-9)  # above every endpoint (m_K - m_e = 0.4932)
    assert float(fn.loglike(observables(p, "B"))) == 0.0


def test_meson_rate_sums_final_flavours_and_is_even_in_g_psi():
    """Review M4: Br(K -> mu nu Z') ∝ (g_Psi - g_l)^2 |kappa_mu|^2 sum_b |kappa_b|^2: adding |kappa_tau| = |kappa_mu|
    doubles it; flipping the sign of g_Psi leaves it unchanged (g_l = 0 in U(1)_B); in B-L g_l = -g_X enters."""
    fn = _build("meson_decays")
    kw = dict(g_Psi=1.0, cos_beta=1e-3, M_Psi=1.0, M_Zp=0.01, g_X=1e-9)
    one = fn.predictions(observables(point(y_mu=0.1, **kw), "B"))["K_mu"]
    two = fn.predictions(observables(point(y_mu=0.1, y_tau=0.1, **kw), "B"))["K_mu"]
    assert float(two) == pytest.approx(2 * float(one), rel=1e-12)
    neg = fn.predictions(observables(point(y_mu=0.1, **{**kw, "g_Psi": -1.0}), "B"))["K_mu"]
    assert float(neg) == pytest.approx(float(one), rel=1e-12)
    fbl = _build("meson_decays", scenario="B-L")
    kbl = dict(kw, g_X=1e-2)  # g_l = -g_X: (g_Psi - g_l)^2 = (1 + 1e-2)^2; the Br(Z' -> inv) differs, divided out
    o_p, o_m = (observables(point(y_mu=0.1, **{**kbl, "g_Psi": g}), "B-L") for g in (1.0, -1.0))
    r = (float(fbl.predictions(o_p)["K_mu"]) / float(o_p["br_Zp_invisible"])) / (
        float(fbl.predictions(o_m)["K_mu"]) / float(o_m["br_Zp_invisible"]))
    assert r == pytest.approx((1.01 / 0.99) ** 2, rel=1e-9)


def test_meson_gate_on_psi_mass():
    """The effective rate holds for M_Psi >> m_M: each channel is off for M_Psi <= m_M, on for M_Psi >= m_M e^0.2."""
    c = constants()
    fn = _build("meson_decays")
    kw = dict(y_mu=0.1, y_e=0.1, g_Psi=1.0, cos_beta=1e-3, M_Zp=0.01, g_X=1e-9)

    def terms(m_psi, f=fn):
        obs = observables(point(M_Psi=m_psi, **kw), "B")
        pred = f.predictions(obs)
        return {ch: -2 * float(f.gate(ch, obs["M_Psi"]) * (-0.5) * UPPER90 * (pred[ch] / lim.value) ** 2)
                for ch, lim in f.limits.items()}, -2 * float(f.loglike(obs))

    t, total = terms(0.9 * c.m_pi)
    assert total == 0.0
    t, total = terms(0.5 * (c.m_pi * math.exp(0.2) + c.m_K))  # pion channel on, kaon channel off
    assert t["K_mu"] == 0.0 and total == pytest.approx(t["pi_e"], rel=1e-12) and total > 0
    t, total = terms(c.m_K * math.exp(0.1))  # kaon channel half-way: the smootherstep at t = 1/2
    assert float(fn.gate("K_mu", c.m_K * math.exp(0.1))) == pytest.approx(0.5, abs=1e-12)
    t, total = terms(c.m_K * math.exp(0.2))
    assert total == pytest.approx(t["pi_e"] + t["K_mu"], rel=1e-12)
    paper = _build("meson_decays", heavy_psi_only=False)
    assert terms(0.1, paper)[1] > 0


# ---------------------------------------------------------------------------------------------------- cosmology


def _cosmo_obs(M_Zp, G=1e-6, M_Psi=1.0, kappa=0.0, g_Psi=0.1):
    return {"M_Zp": jnp.asarray(M_Zp), "G": G * jnp.eye(3, dtype=complex), "M_Psi": jnp.asarray(M_Psi),
            "kappa": kappa * jnp.ones(3, dtype=complex), "g_Psi": jnp.asarray(g_Psi), "g_l": jnp.asarray(0.0)}


def test_cosmology_reproduces_derived_neff_and_planck_delta_chi2():
    """N_eff(M) of the NUDEC_BSM table at its nodes; with Planck 2018 (2.99 +- 0.17) a thermalised Z' gets
    -2 Delta ln L = 86.4 / 45.1 / 18.1 at 3.5 / 5 / 7 MeV (the memo's table) and 4 near 10.4 MeV."""
    from likelihoods.cosmology import N_EFF_SM, vector_table

    fn = _build("cosmology", psi="ignore")
    m, dn = vector_table()
    for i in (0, 10, 20, len(m) - 1):
        assert float(fn.n_eff(_cosmo_obs(m[i]))) == pytest.approx(N_EFF_SM + dn[i], rel=1e-12)
    chi2 = {M: -2 * float(fn.loglike(_cosmo_obs(M * 1e-3))) for M in (3.5, 5.0, 7.0)}
    assert chi2 == {3.5: pytest.approx(86.40, abs=0.01), 5.0: pytest.approx(45.10, abs=0.01), 7.0: pytest.approx(18.10, abs=0.01)}
    assert fn.lower_mass_bound(4.0) == pytest.approx(10.4e-3, rel=0.01)
    assert _build("cosmology", dataset="act2025").lower_mass_bound(4.0) == pytest.approx(13.4e-3, rel=0.01)
    # the excess decays above the table (30 MeV) and the SM point is the maximum
    assert -2 * float(fn.loglike(_cosmo_obs(0.1))) < 1e-8
    assert float(fn.loglike(_cosmo_obs(3e-3, G=0.0))) == 0.0


def test_cosmology_thermalisation_switch():
    """Counted where Gamma(Z' -> nu nu)/H(T = M_Zp) > 10, not below 0.1 (K = 1 at |G| ~ 4e-10 for M = 5 MeV)."""
    from likelihoods.cosmology import hubble
    from globalfit.physics.widths import width_to_neutrinos

    fn = _build("cosmology", psi="ignore")
    M = 5e-3
    g_one = math.sqrt(24 * math.pi * hubble(M) / (3 * M))  # K = 1 with G = g 1 (three diagonal entries)
    assert float(width_to_neutrinos(g_one * jnp.eye(3), M)) == pytest.approx(hubble(M), rel=1e-12)
    assert 3e-10 < math.sqrt(3) * g_one < 5e-10  # |G| (Frobenius) at K = 1: the memo's 4e-10
    full = -2 * float(fn.loglike(_cosmo_obs(M, G=1e-6)))
    assert -2 * float(fn.loglike(_cosmo_obs(M, G=g_one * 10 ** 0.51))) == pytest.approx(full, rel=1e-12)  # K > 10
    assert float(fn.loglike(_cosmo_obs(M, G=g_one * 10 ** -0.51))) == 0.0  # K < 0.1
    mid = -2 * float(fn.loglike(_cosmo_obs(M, G=g_one)))
    assert 0 < mid < full
    assumed = _build("cosmology", psi="ignore", thermalisation="assumed")
    assert -2 * float(assumed.loglike(_cosmo_obs(M, G=0.0))) == pytest.approx(full, rel=1e-12)


def test_cosmology_light_psi_adds_neff():
    """A thermalised light Psi (4 dof) beside the Z' raises N_eff (NUDEC_BSM, both species in the neutrino sector);
    a heavy one, or one too weakly mixed to equilibrate, does not."""
    fn = _build("cosmology")
    zp = float(fn.n_eff(_cosmo_obs(10e-3)))
    light = float(fn.n_eff(_cosmo_obs(10e-3, M_Psi=12e-3, kappa=1e-2, g_Psi=0.5)))
    assert light > zp + 0.2
    assert float(fn.n_eff(_cosmo_obs(10e-3, M_Psi=12e-3, kappa=1e-14, g_Psi=0.5))) == pytest.approx(zp, rel=1e-12)
    assert float(fn.n_eff(_cosmo_obs(10e-3, M_Psi=1.0, kappa=1e-2))) == pytest.approx(zp, abs=1e-4)  # clamped at 50 MeV
    neg = float(fn.n_eff(_cosmo_obs(10e-3, M_Psi=12e-3, kappa=1e-2, g_Psi=-0.5)))  # even in g_Psi - g_l
    assert neg == pytest.approx(light, rel=1e-12)
    assert float(_build("cosmology", psi="ignore").n_eff(_cosmo_obs(10e-3, M_Psi=12e-3, kappa=1e-2))) == pytest.approx(zp)


def test_cosmology_edges_still_reproduce_their_limits():
    """The previous edges (paper2016 configs): -2 Delta ln L = 4 at the quoted mass, 0 above limit e^{2w}."""
    for dataset, m in [("sabti2020", 3.7e-3), ("paper2016", 5e-3)]:
        fn = _build("cosmology", dataset=dataset, thermalisation="assumed")
        assert fn.limit == m and fn.plot_mass() == m
        assert -2 * float(fn.loglike(_cosmo_obs(m))) == pytest.approx(4.0, rel=1e-12)
        assert float(fn.loglike(_cosmo_obs(fn.m_zero * 1.0001))) == 0.0
    assert _build("cosmology", dataset="sabti2020").m_zero == pytest.approx(3.7e-3 * math.exp(0.5))
    g = jax.grad(lambda m: _build("cosmology", dataset="sabti2020").loglike(_cosmo_obs(m)))
    assert np.isfinite(float(g(jnp.asarray(3.7e-3 * math.exp(0.5))))) and float(g(jnp.asarray(3e-3))) > 0


@pytest.mark.parametrize(
    "name,opts,match",
    [("meson_decays", {"channels": ["K_tau"]}, r"meson_decays.channels.0: Input should be 'K_mu', 'pi_e', 'K_e' or 'pi_mu'"),
     ("meson_decays", {"channels": "K_mu"}, r"meson_decays.channels: Input should be a valid tuple"),
     ("meson_decays", {"limit_pi_e": -1.0}, r"meson_decays.limit_pi_e: Input should be greater than 0"),
     ("meson_decays", {"psi_switch_width": 0.0}, r"meson_decays.psi_switch_width: Input should be greater than 0"),
     ("cosmology", {"dataset": "planck"}, r"cosmology.dataset: Input should be 'planck2018', 'act2025', 'act2025_bbn', 'sabti2020' or 'paper2016'"),
     ("cosmology", {"log_width": 0.0}, r"cosmology.log_width: Input should be greater than 0"),
     ("cosmology", {"limit": -5e-3}, r"cosmology.limit: Input should be greater than 0"),
     ("cosmology", {"limit": 5e-3}, r"cosmology: limit applies to the edge datasets"),
     ("cosmology", {"thermalisation_window": [10.0, 1.0]}, r"cosmology.thermalisation_window: expected a window"),
     ("cosmology", {"thermalisation": "yes"}, r"cosmology.thermalisation: Input should be 'gated' or 'assumed'")],
)
def test_option_validation(name, opts, match):
    with pytest.raises(ConfigError, match=match):
        _build(name, **opts)
