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


def _light_block_coupling(m_alpha: np.ndarray, M_Psi: float, charges: np.ndarray, g_Psi: float) -> np.ndarray:
    """The Z' coupling among the three massless states, found without expanding in kappa.

    The left-handed fields (nu_e, nu_mu, nu_tau, Psi_L) meet Psi_R through the row (m_alpha, M_Psi), m_alpha =
    y_alpha <H'> (Eq. 7 with M_nu = 0): the massive state is that row's direction, the three massless ones span its
    orthogonal complement. Their flavour basis is the Loewdin one (the projections of nu_alpha, orthonormalised:
    the light block of the mixing matrix is then Hermitian). The coupling there is V^dag diag(g_X l, g_Psi) V.
    """
    row = np.concatenate([m_alpha, [M_Psi]]).astype(complex)
    heavy = row.conj() / np.linalg.norm(row)                    # Psi_R-bar (row . fields): the massive direction
    projector = np.eye(4) - np.outer(heavy, heavy.conj())
    flavours = projector[:, :3]                                 # the projections of nu_alpha
    overlap = flavours.conj().T @ flavours
    w, v = np.linalg.eigh(overlap)
    light = flavours @ (v @ np.diag(w ** -0.5) @ v.conj().T)    # orthonormal, closest to the flavours
    return light.conj().T @ np.diag(np.concatenate([charges, [g_Psi]]).astype(complex)) @ light


@pytest.mark.parametrize("scenario", ["B", "B-L", "L"])
def test_nu_coupling_matrix_is_the_light_block_to_order_kappa_squared(rng, scenario):
    """G of Eq. (10), with the g_l term (physics review L4), equals the exact light-block coupling of the mixed
    (nu, Psi) system to O(kappa^4), including where g_Psi ~ g_l; without the g_l term it misses by g_l |kappa|^2."""
    sc = SCENARIOS[scenario]
    for g_ratio in (1e3, 1.0, -2.0):
        p = _random_point(rng, g_X=1e-3, cos_beta=2e-4, M_Psi=1.0, y_e=rng.uniform(0.5, 1.0),
                          y_mu=rng.uniform(0.5, 1.0), y_tau=rng.uniform(0.5, 1.0))
        g_l = float(p["g_X"]) * sc.l[0]
        p["g_Psi"] = jnp.asarray(g_ratio * float(p["g_X"]) if g_l == 0 else g_ratio * g_l)
        obs = observables(p, scenario)
        k = np.asarray(obs["kappa"])
        m_alpha = k * float(p["M_Psi"])               # Eq. (8): kappa_a = m_a / M_Psi
        exact = _light_block_coupling(m_alpha, float(p["M_Psi"]), float(p["g_X"]) * np.asarray(sc.l), float(p["g_Psi"]))
        G = np.asarray(obs["G"])
        kk = np.sum(np.abs(k) ** 2)
        scale = abs(float(p["g_Psi"])) + abs(g_l)
        np.testing.assert_allclose(G, exact, rtol=0, atol=10 * scale * kk ** 2)
        if g_l != 0:
            dropped = G + g_l * np.outer(np.conj(k), k)      # back to the paper's Eq. (10): g_l + g_Psi kappa* kappa
            assert np.max(np.abs(dropped - exact)) > 0.1 * abs(g_l) * np.max(np.abs(k)) ** 2
