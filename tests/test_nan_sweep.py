"""No NaN or inf in the log-density or its gradient over the prior box (globalfit.problem.box_scan): interior points,
corners, edges and every mass where a digitised table or a kinematic threshold changes a likelihood.

Sized for CI (compiling the gradient is what costs): the widest boxes (every parameter over its whole physical range,
M_Zp from 1e-12 GeV to the Planck mass) of U(1)_B and U(1)_{B-L} with the likelihoods built on digitised tables (the
Z' searches); each likelihood's own box sweep is in its tests/test_lik_*.py, and bench/bench_nan_sweep.py runs every
full config and every widest box with all likelihoods at 1e6 points.

A value of -inf is allowed exactly where the point leaves the physical support; nothing else non-finite."""

import pytest

from globalfit.problem.box_scan import sweep, sweep_points, table_masses, widest_problem

N = 512
TABLES = {  # every likelihood built on a digitised table (likelihoods/data/zprime_*.csv)
    "B": ["zp_baryonic_visible", "zp_baryonic_pi0"],
    "B-L": ["zp_babar_invisible", "zp_na64_invisible", "zp_babar_visible", "zp_beam_dump"],
}


def test_table_masses_cover_every_table():
    masses = table_masses()
    assert len(masses) >= 15 and masses.min() < 0.002 and masses.max() > 1.7  # 2 m_e ... m_tau - m_e


@pytest.mark.parametrize("scenario", sorted(TABLES))
def test_widest_box(scenario):
    problem = widest_problem(scenario, {name: None for name in TABLES[scenario]})
    result = sweep(problem, sweep_points(problem, N, seed=1), batch=N)
    assert result.points == N
    assert result.ok, result.defects
    assert 0 < result.outside_support < N  # -inf (never NaN) where the box leaves the support, and finite inside
