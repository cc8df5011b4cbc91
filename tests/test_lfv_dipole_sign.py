"""The relative sign of the W and H^- dipoles of l_a -> l_b gamma (globalfit.physics.lfv module doc): both multiply
conj(y_a) y_b, so their sign is physical, read off the diagonal limit a = b, where Delta a_l = 2 m_l F_ll:
- the code's W normalisation gives the SM W loop (light neutrinos, f_W(0) without the GIM subtraction) the positive
  +(10/3) G_F m^2 / (8 sqrt2 pi^2) of the one-loop electroweak a_mu (Jegerlehner & Nyffeler, arXiv:0902.3360);
- a heavy Psi mixed in lowers a_l (type-I seesaw: Chao arXiv:0806.0889): F^W_ll < 0;
- a charged scalar with a neutral fermion and chiral coupling y gives Delta a = -(m^2 |y|^2 / (8 pi^2 M_S^2))
  (1/2) int_0^1 x^2 (1 - x) / (x + r (1 - x)) dx, r = M_F^2/M_S^2 (Lindner, Platscher, Queiroz arXiv:1610.06587,
  singly-charged scalar; integrated here numerically, not through f_H): F^H_ll < 0.
So the two add: Br = Br(H^- alone) (1 + 3 cos^2(beta) M_H^2/M_W^2)^2 for M_Psi << M_W, M_H (Eq. 20 with a + sign)."""

import math

import jax.numpy as jnp
import pytest
from scipy.integrate import quad

from globalfit.physics.constants import constants
from globalfit.physics.couplings import kappa, yukawas
from globalfit.physics.lfv import br_l_to_l_gamma, dipole_H, dipole_W
from globalfit.physics.loops import delta_f_W
from tests.helpers import asfloat, point


def _charged_scalar_a(m, y2, M_S, M_F):
    """Delta a_l of a charged scalar M_S and a neutral fermion M_F, chiral coupling |y|^2 (arXiv:1610.06587)."""
    r = (M_F / M_S) ** 2
    integral = quad(lambda x: x * x * (1 - x) / (x + r * (1 - x)), 0, 1, epsabs=1e-15, epsrel=1e-12)[0]
    return -(m**2 * y2 / (8 * math.pi**2 * M_S**2)) * 0.5 * integral


@pytest.mark.parametrize("M_Psi", [0.5, 300.0])
def test_diagonal_limits_give_the_known_signs_of_a_mu(M_Psi):
    c = constants()
    m = c.lepton_masses[1]
    cb, M_H = 0.3, 800.0
    p = point(y_mu=0.7, cos_beta=cb, M_Psi=M_Psi, M_H=M_H)
    y, k = yukawas(p), kappa(p)
    F_H = complex(dipole_H(y, 1, 1, M_H, M_Psi, cb))
    y2_eff = abs(complex(y[1])) ** 2 * (1 - cb**2)  # the H^- couples with y sin(beta)
    assert 2 * m * F_H.real == pytest.approx(_charged_scalar_a(m, y2_eff, M_H, M_Psi), rel=1e-9)
    assert F_H.real < 0
    F_W = complex(dipole_W(k, 1, 1, M_Psi))
    assert F_W.real < 0  # a heavy neutral lepton lowers a_mu
    # the same normalisation, unsubtracted at x = 0 (light neutrinos, |U|^2 = 1): the SM W loop, positive
    prefactor = F_W.real / (abs(complex(k[1])) ** 2 * float(delta_f_W(M_Psi**2 / c.M_W**2)))
    sm_w = 10.0 / 3.0 * c.G_F * m**2 / (8 * math.sqrt(2) * math.pi**2)
    assert 2 * m * prefactor * 5.0 / 6.0 == pytest.approx(sm_w, rel=1e-9)


def test_w_and_h_loops_add_in_mu_to_e_gamma():
    """Where 3 cos^2(beta) M_H^2/M_W^2 ~ 1 (cos(beta) up to 1 is in the prior box) the rate is (1 + ratio)^2 times the
    H^- loop's alone, not (1 - ratio)^2."""
    c = constants()
    cb, M_H, M_Psi = 0.05, 1000.0, 1.0
    p = point(y_e=0.01, y_mu=0.02, cos_beta=cb, M_Psi=M_Psi, M_H=M_H)
    y, k = yukawas(p), kappa(p)
    F_H = complex(dipole_H(y, 1, 0, M_H, M_Psi, cb))
    F_W = complex(dipole_W(k, 1, 0, M_Psi))
    ratio = F_W / F_H
    assert ratio.real == pytest.approx(3 * cb**2 * M_H**2 / ((1 - cb**2) * c.M_W**2), rel=2e-3)
    assert 0.5 < ratio.real < 2.0
    br = asfloat(br_l_to_l_gamma(y, k, 1, 0, M_H, M_Psi, cb))
    br_H = c.e_charge**2 * c.lepton_masses[1] ** 3 * abs(F_H) ** 2 / (16 * math.pi) / c.width_mu
    assert br == pytest.approx(br_H * (1 + ratio.real) ** 2, rel=1e-9)
    assert jnp.isfinite(br)


@pytest.mark.parametrize("phases", [(1.1, -2.3), (math.pi, 0.5)])
def test_rates_depend_on_the_yukawa_moduli_only(phases):
    """kappa is y times a real number (Eq. 8), so F^H + F^W carries the one factor conj(y_a) y_b, and F_1, F_2 the one
    factor g_Psi y_a conj(y_b): every LFV rate depends on |y_a|^2 |y_b|^2 only, not on the phases."""
    from globalfit.physics.lfv import PAIRS, br_l_to_l_Zp

    cb, M_H, M_Psi, g_Psi, M_Zp = 0.05, 1000.0, 300.0, -0.7, 0.08
    values = {}
    for phi in ((0.0, 0.0), phases):
        p = point(y_e=0.3, y_mu=0.5, y_tau=0.8, phi_mu=phi[0], phi_tau=phi[1], cos_beta=cb, M_Psi=M_Psi, M_H=M_H)
        y, k = yukawas(p), kappa(p)
        values[phi] = [(asfloat(br_l_to_l_gamma(y, k, a, b, M_H, M_Psi, cb)),
                        asfloat(br_l_to_l_Zp(y, a, b, g_Psi, M_H, M_Psi, M_Zp))) for a, b in PAIRS.values()]
    for real, rotated in zip(values[(0.0, 0.0)], values[phases]):
        assert real[0] > 0 and real[1] > 0
        assert rotated == pytest.approx(real, rel=1e-12, abs=0)
