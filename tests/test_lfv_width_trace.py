"""Eq. (23) checked by an explicit Dirac trace: the l_a -> l_b Z' width, interference term included.

Vertex (arXiv:1607.07616 Eq. 23): M = eps*_mu(k) ubar(p_b) [F_1 gamma^mu P_L + (F_2/m_a) i sigma^{mu nu} q_nu P_R] u(p_a),
sigma^{mu nu} = (i/2)[gamma^mu, gamma^nu], q = k = p_a - p_b, m_b = 0. The spin-averaged |M|^2 is built from 4x4 Dirac
matrices and integrated over two-body phase space; the result must equal globalfit.physics.lfv.width_l_to_l_Zp's formula
m_a/(16 pi) (1-r)^2 [|F_2|^2 (1 + r/2) + |F_1|^2 (1 + 1/(2r)) - 3 Re(F_1 F_2^*)] for arbitrary complex F_1, F_2.
This fixes the relative sign of the interference for this sigma convention (docs/physics.md §5 asks for it).
"""

import numpy as np
import pytest

from tests.helpers import GAMMA, METRIC, PL, PR, sigma, slash

G0 = GAMMA[0]


def width_by_trace(F1, F2, m_a, M):
    E_k = (m_a**2 + M**2) / (2 * m_a)
    pmag = (m_a**2 - M**2) / (2 * m_a)
    p_a = np.array([m_a, 0, 0, 0.0])
    k = np.array([E_k, 0, 0, pmag])
    p_b = p_a - k
    k_low = METRIC @ k
    vertex = []
    for mu in range(4):
        sigma_q = sum(sigma(mu, nu) * k_low[nu] for nu in range(4))
        vertex.append(F1 * GAMMA[mu] @ PL + (F2 / m_a) * 1j * sigma_q @ PR)
    bar = [G0 @ v.conj().T @ G0 for v in vertex]
    pol = -METRIC + np.outer(k_low, k_low) / M**2  # sum over Z' polarisations, lower indices
    A, B = slash(p_b), slash(p_a) + m_a * np.eye(4)
    msq = sum(pol[mu, nu] * np.trace(A @ vertex[mu] @ B @ bar[nu]) for mu in range(4) for nu in range(4))
    msq = msq.real / 2  # average over the initial spin
    return pmag / (8 * np.pi * m_a**2) * msq


def width_formula(F1, F2, m_a, M):
    r = (M / m_a) ** 2
    br = abs(F2) ** 2 * (1 + r / 2) + abs(F1) ** 2 * (1 + 1 / (2 * r)) - 3 * (F1 * np.conj(F2)).real
    return m_a / (16 * np.pi) * (1 - r) ** 2 * br


@pytest.mark.parametrize("seed", range(6))
def test_width_formula_matches_dirac_trace(seed):
    rng = np.random.default_rng(seed)
    F1, F2 = rng.normal(size=2) + 1j * rng.normal(size=2)
    m_a = 1.77
    M = rng.uniform(0.05, 1.5)
    assert width_formula(F1, F2, m_a, M) == pytest.approx(width_by_trace(F1, F2, m_a, M), rel=1e-10, abs=0)


def test_library_uses_the_checked_formula():
    import jax.numpy as jnp

    from globalfit.physics.constants import constants
    from globalfit.physics.lfv import form_factors_Zp, width_l_to_l_Zp

    y = jnp.array([0.7, 0.0, 1.3 * np.exp(0.4j)])
    args = (2, 0, -0.8, 500.0, 300.0, 1.2)  # large M_Zp and M_Psi ~ M_H so F_1 matters
    F1, F2 = (complex(f) for f in form_factors_Zp(y, *args))
    m_tau, m_e, M = constants().m_tau, constants().m_e, 1.2
    momentum = np.sqrt((m_tau**2 - (M + m_e) ** 2) * (m_tau**2 - (M - m_e) ** 2)) / (m_tau**2 - M**2)  # p(m_e)/p(0)
    want = width_by_trace(F1, F2, m_tau, M) * momentum
    assert float(width_l_to_l_Zp(y, *args)) == pytest.approx(want, rel=1e-10, abs=0)  # widths ~1e-18: no absolute floor


def test_form_factor_relative_sign_is_the_derived_one():
    """F_1/F_2 < 0 in the vertex convention of globalfit.physics.lfv (derived there by one-loop calculation, the Ward
    identity fixing the relative sign of the two diagrams; the paper's Eq. (25) prints the other sign), so the
    interference adds: at x = M_Psi^2/M_H^2 = 1 the width bracket is |F_2|^2 (1 + 4r + r^2)."""
    import jax.numpy as jnp

    from globalfit.physics.constants import constants
    from globalfit.physics.lfv import form_factors_Zp, width_l_to_l_Zp

    y = jnp.array([0.5, 0.0, 0.8])
    m_tau = constants().m_tau
    for M_Psi, M_Zp in ((400.0, 0.3), (400.0, 1.0), (40.0, 0.8), (4.0, 1.5)):
        F1, F2 = (complex(f) for f in form_factors_Zp(y, 2, 0, 0.7, 400.0, M_Psi, M_Zp))
        assert F1.real / F2.real < 0 and abs(F1.imag) < 1e-30 and abs(F2.imag) < 1e-30
    M_Zp = 1.0
    F1, F2 = (complex(f) for f in form_factors_Zp(y, 2, 0, 0.7, 400.0, 400.0, M_Zp))
    r = (M_Zp / m_tau) ** 2
    assert F1 / F2 == pytest.approx(-r / (1.0 + (M_Zp / 400.0) ** 2 / 15.0), rel=1e-9)  # x = 1: f1 = -1/2, f2 = 1/3 + z/45
    want = m_tau / (16 * np.pi) * (1 - r) ** 2 * abs(F2) ** 2 * (1 + r / 2 + abs(F1 / F2) ** 2 * (1 + 1 / (2 * r)) + 3 * abs(F1 / F2))
    m_e = constants().m_e
    want *= np.sqrt((m_tau**2 - (M_Zp + m_e) ** 2) * (m_tau**2 - (M_Zp - m_e) ** 2)) / (m_tau**2 - M_Zp**2)
    assert float(width_l_to_l_Zp(y, 2, 0, 0.7, 400.0, 400.0, M_Zp)) == pytest.approx(want, rel=1e-10, abs=0)
    assert want / (m_tau / (16 * np.pi) * (1 - r) ** 2 * abs(F2) ** 2 * (1 + 4 * r + r * r)) == pytest.approx(1.0, rel=1e-4, abs=0)


def test_tau_to_mu_closes_continuously_at_threshold():
    """With the final-state momentum of a massive mu the width falls continuously to 0 at M_Zp = m_tau - m_mu (it stepped
    from 15 % of its peak to 0 with m_mu = 0 kinematics)."""
    import jax.numpy as jnp

    from globalfit.physics.constants import constants
    from globalfit.physics.lfv import width_l_to_l_Zp

    c = constants()
    edge = c.m_tau - c.m_mu
    y = jnp.array([0.0, 0.9, 1.1])
    w = [float(width_l_to_l_Zp(y, 2, 1, 0.5, 400.0, 40.0, edge - d)) for d in (1e-2, 1e-4, 1e-6)]
    assert w[0] > w[1] > w[2] > 0.0 and w[2] < 1e-2 * w[0]
    assert float(width_l_to_l_Zp(y, 2, 1, 0.5, 400.0, 40.0, edge + 1e-9)) == 0.0
