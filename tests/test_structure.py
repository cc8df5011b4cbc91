"""Structural properties of the NSI matrices (docs/physics.md §3)."""

import jax.numpy as jnp
import numpy as np
import pytest

from globalfit.physics.constants import constants
from globalfit.physics.model import ModelOptions, observables
from globalfit.physics.scenarios import SCENARIOS
from tests.helpers import point


def _random_point(rng, **over):
    kw = dict(
        M_Zp=10 ** rng.uniform(-3, 0),
        g_X=10 ** rng.uniform(-7, -3),
        g_Psi=rng.choice([-1, 1]) * 10 ** rng.uniform(-3, 0),
        M_Psi=10 ** rng.uniform(-1.5, 0.5),
        M_H=rng.uniform(300, 2000),
        cos_beta=10 ** rng.uniform(-6, -3),
        y_e=rng.uniform(0, 2),
        y_mu=rng.uniform(0, 2),
        y_tau=rng.uniform(0, 2),
        phi_mu=rng.uniform(-np.pi, np.pi),
        phi_tau=rng.uniform(-np.pi, np.pi),
    )
    kw.update(over)
    return point(**kw)


@pytest.mark.parametrize("f", ["eps_u", "eps_d", "eps_earth"])
def test_rank_one_and_hermitian_in_B(rng, f):
    """One Psi: eps_ab ~ kappa_a* kappa_b is Hermitian and rank 1, so |eps_ab|^2 = eps_aa eps_bb."""
    for _ in range(20):
        obs = observables(_random_point(rng), "B")
        e = np.asarray(obs[f])
        np.testing.assert_allclose(e, e.conj().T, rtol=1e-12, atol=0)
        for a in range(3):
            for b in range(3):
                np.testing.assert_allclose(abs(e[a, b]) ** 2, (e[a, a] * e[b, b]).real, rtol=1e-10, atol=1e-300)


@pytest.mark.parametrize("scenario", ["B-L", "L"])
def test_rank_one_after_removing_universal_part(rng, scenario):
    """With lepton charge G has a flavour-universal diagonal g_X l; the Psi part alone stays rank 1."""
    for _ in range(10):
        p = _random_point(rng)
        obs = observables(p, scenario)
        G = np.asarray(obs["G"])
        psi = G - float(p["g_X"]) * np.diag(SCENARIOS[scenario].l)
        for a in range(3):
            for b in range(3):
                np.testing.assert_allclose(abs(psi[a, b]) ** 2, (psi[a, a] * psi[b, b]).real, rtol=1e-10, atol=1e-300)


def test_b_minus_l_cancels_electrons_against_protons(rng):
    """B-L: eps^e + 2 eps^u + eps^d = 0, only neutrons count (Eq. 32)."""
    for _ in range(10):
        obs = observables(_random_point(rng), "B-L")
        proton_like = obs["eps_e"] + 2 * obs["eps_u"] + obs["eps_d"]
        np.testing.assert_allclose(np.asarray(proton_like), 0, atol=1e-12 * float(jnp.max(jnp.abs(obs["eps_u"]))))
        o = observables(_random_point(rng), "B-L", ModelOptions(Y_n=0.0))
        np.testing.assert_allclose(np.asarray(o["eps_earth"]), 0, atol=1e-12 * float(jnp.max(jnp.abs(o["eps_u"]))))


def test_matter_combination_in_B_is_three_times_u_plus_d_for_earth(rng):
    """Fig. 5 caption: Earth (Y_n = 1) eps = eps^e + 3 eps^u + 3 eps^d; for B, eps^e = 0."""
    obs = observables(_random_point(rng), "B")
    np.testing.assert_allclose(np.asarray(obs["eps_earth"]), np.asarray(3 * obs["eps_u"] + 3 * obs["eps_d"]), rtol=1e-12)


def test_eps_from_matter_potential(rng):
    """Cross-check through the potential (docs/physics.md §3): a medium of density n_f sources Z'_0 = g_f n_f/M^2;
    a left-handed nu feels V_ab = G_ab g_f n_f / M^2, and oscillation fits define V = sqrt2 G_F n_f eps^f."""
    G_F = constants().G_F
    p = _random_point(rng)
    obs = observables(p, "L")
    g_e = float(p["g_X"]) * 1.0
    n_e = 1.0  # arbitrary units: V/n is what counts
    V = np.asarray(obs["G"]) * g_e * n_e / float(p["M_Zp"]) ** 2
    np.testing.assert_allclose(V, np.sqrt(2) * G_F * n_e * np.asarray(obs["eps_e"]), rtol=1e-12)


def test_paper_convention_is_half(rng):
    p = _random_point(rng)
    a = observables(p, "B")["eps_u"]
    b = observables(p, "B", ModelOptions(eps_convention="paper2016"))["eps_u"]
    np.testing.assert_allclose(np.asarray(b), 0.5 * np.asarray(a), rtol=1e-14)


def test_no_mixing_no_nsi_no_lfv():
    obs = observables(point(), "B")
    for k in ("eps_u_ee", "br_tau_e_gamma", "br_mu_e_Zp", "kappa_e"):
        assert float(obs[k]) == 0.0


def test_flavoured_scenario_rejects_mixed_charges():
    from globalfit.problem.evaluate import evaluate_point

    with pytest.raises(ValueError, match="different"):
        evaluate_point({"y_e": 1.0, "y_tau": 1.0}, "B-3Ltau")
    res = evaluate_point({"y_tau": 1.0}, "B-3Ltau")  # Psi mixes with tau only: g_l = -3 g_X
    assert res["derived"]["kappa_tau"] > 0
