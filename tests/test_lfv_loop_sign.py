"""The relative sign of F_1 and F_2 in l_a -> l_b Z' (globalfit.physics.lfv) derived by a one-loop calculation, not
taken from the paper: the two diagrams of the H^- / Psi loop (Z' from Psi and from H^-; g_l = 0), Feynman parameters
integrated numerically (the l^2 terms in dimensional regularisation), and the on-shell amplitude
pbar' Gamma^mu (pslash + m_a) fitted to {gamma^mu P_L, i sigma^{mu nu} q_nu P_R / m_a, q^mu P_R} with explicit Dirac
matrices, so that F_1 and F_2 come from one fit and no convention can drift between them. The relative sign of the
two diagrams is the one the Ward identity allows (F_1 -> 0 as q^2 -> 0)."""

import numpy as np
import pytest
from scipy.integrate import dblquad

from tests.helpers import GAMMA, PL, PR
from tests.helpers import METRIC as ETA
from tests.helpers import sigma as _sigma
from tests.helpers import slash as _slash


def loop_form_factors(M_H, M_Psi, m_a, M_Zp, tol=1e-10):
    """(F_1, F_2, F_3) per unit g_Psi y_b conj(y_a) of the vertex ubar_b [F_1 gamma P_L + (F_2/m_a) i sigma q P_R +
    F_3 q P_R] u_a eps*, m_b = 0, q = p_a - p_b, and the relative residual of the fit."""
    M2, m2, q2 = M_Psi**2, M_H**2, M_Zp**2
    E_k, p_k = (m_a**2 + q2) / (2 * m_a), (m_a**2 - q2) / (2 * m_a)
    p, q = np.array([m_a, 0, 0, 0.0]), np.array([E_k, 0, 0, p_k])
    pp = p - q

    def D_A(x1, x2):  # Z' from the Psi line
        return (x1 + x2) * M2 + (1 - x1 - x2) * m2 - x1 * (1 - x1 - x2) * m_a**2 - x1 * x2 * q2

    def D_B(x1, x4):  # Z' from the H^- line
        x3 = 1 - x1 - x4
        return x1 * M2 + (1 - x1) * m2 - x1 * x3 * m_a**2 - x3 * x4 * q2

    def integral(f):
        return dblquad(lambda y, x: f(x, y), 0, 1, 0, lambda x: 1 - x, epsabs=tol, epsrel=tol)[0]

    b_A, a_A = [lambda x1, x2: -x1, lambda x1, x2: 1 - x2], [lambda x1, x2: 1 - x1, lambda x1, x2: -x2]
    a_B, c_B = [lambda x1, x4: 1 - x1, lambda x1, x4: -x4], [lambda x1, x4: 2 * x1, lambda x1, x4: 2 * x4 - 1]
    ln_A, ln_B = integral(lambda a, b: np.log(D_A(a, b))), integral(lambda a, b: np.log(D_B(a, b)))
    inv_A = integral(lambda a, b: 1 / D_A(a, b))
    ba = {(i, j): integral(lambda a, b, i=i, j=j: b_A[i](a, b) * a_A[j](a, b) / D_A(a, b)) for i in range(2) for j in range(2)}
    ac = {(i, j): integral(lambda a, b, i=i, j=j: a_B[i](a, b) * c_B[j](a, b) / D_B(a, b)) for i in range(2) for j in range(2)}
    vec_A, vec_B = [p, pp], [p, q]
    gam = []
    for mu in range(4):  # in units of g c / (16 pi^2)
        A = ((0.5 + ln_A) * GAMMA[mu] - M2 * inv_A * GAMMA[mu]
             - sum(ba[i, j] * _slash(vec_A[i]) @ GAMMA[mu] @ _slash(vec_A[j]) for i in range(2) for j in range(2)))
        B = ln_B * GAMMA[mu] - sum(ac[i, j] * _slash(vec_B[i]) * vec_B[j][mu] for i in range(2) for j in range(2))
        gam.append((B - A) @ PL)
    q_low = ETA @ q
    basis = [[GAMMA[mu] @ PL for mu in range(4)],
             [sum(1j * _sigma(mu, nu) * q_low[nu] for nu in range(4)) @ PR / m_a for mu in range(4)],
             [q[mu] * PR for mu in range(4)]]
    left, right = _slash(pp), _slash(p) + m_a * np.eye(4)
    A = np.array([np.concatenate([(left @ B[mu] @ right).ravel() for mu in range(4)]) for B in basis]).T
    b = np.concatenate([(left @ gam[mu] @ right).ravel() for mu in range(4)])
    C = np.linalg.lstsq(A, b, rcond=None)[0]
    return C / (16 * np.pi**2), float(np.linalg.norm(A @ C - b) / np.linalg.norm(b))


@pytest.mark.parametrize("x", [0.1, 1.0])
def test_loop_gives_the_library_ratio_of_form_factors(x):
    """F_1/F_2 of the loop equals the library's (sign and size, rel 1e-3) at the same x = M_Psi^2/M_H^2 and
    r = M_Zp^2/m_a^2; |F_2| per unit coupling equals the library's loop function; F_1 vanishes like q^2 (Ward)."""
    import jax.numpy as jnp

    from globalfit.physics.constants import constants
    from globalfit.physics.lfv import form_factors_Zp

    M_H, m_a, M_Zp = 1.0, 0.01, 0.006  # expansion parameters m_a/M_H, M_Zp/M_H small
    (F1, F2, _), resid = loop_form_factors(M_H, np.sqrt(x), m_a, M_Zp)
    assert resid < 1e-10
    m_tau = constants().m_tau
    y = jnp.array([1.0, 0.0, 1.0])
    lib1, lib2 = (complex(f) for f in form_factors_Zp(y, 2, 0, 1.0, 400.0, 400.0 * np.sqrt(x), m_tau * M_Zp / m_a))
    assert (F1 / F2).real == pytest.approx((lib1 / lib2).real, rel=1e-3)
    assert (F1 / F2).real < 0
    assert abs(F2) / (m_a / M_H) ** 2 == pytest.approx(abs(lib2) / (m_tau / 400.0) ** 2, rel=1e-3)
    (F1_half, _, _), _ = loop_form_factors(M_H, np.sqrt(x), m_a, M_Zp / 2)
    assert F1_half.real / F1.real == pytest.approx(0.25, rel=1e-3)
