"""Constants come from the PDG database (pdg package) and CODATA, read once."""

import math

from globalfit.physics.constants import constants, pdg_api


def test_read_once_and_cached():
    assert constants() is constants()


def test_pdg_values_and_edition():
    c = constants()
    api = pdg_api()
    assert c.pdg_edition == str(api.edition)
    assert c.m_tau == float(api.get_particle_by_name("tau-").mass)
    assert c.tau_mu == float(api.get_particle_by_name("mu-").lifetime)


def test_derived_constants():
    c = constants()
    assert math.isclose(c.vev, 246.22, rel_tol=1e-3)  # (sqrt2 G_F)^-1/2
    assert math.isclose(c.f_pi, 0.0924, rel_tol=0.01)  # from Gamma(pi0 -> gamma gamma)
    assert math.isclose(c.width_tau, c.hbar_GeV_s / c.tau_tau)
    assert 0.22 < c.sin2_theta_W < 0.224  # CODATA on-shell scheme
