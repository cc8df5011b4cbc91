"""``signed: true``: both signs of a log-uniform parameter (g_Psi) in one fit, on one connected sample site."""

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import yaml

from globalfit.errors import ConfigError
from globalfit.problem import load_problem
from globalfit.problem.config import load_config

from test_engine import tiny_config


def _config(tmp_path, **g_psi):
    cfg = tiny_config(tmp_path / "out")
    cfg["params"]["g_Psi"] = {"prior": "log-uniform", "min": 1e-4, "max": 3.5, "ref": -0.5, **g_psi}
    path = tmp_path / "signed.yaml"
    path.write_text(yaml.safe_dump(cfg))
    return path


def test_signed_site_maps_both_signs_and_back(tmp_path):
    problem = load_problem(_config(tmp_path, signed=True))
    info = problem.sites["g_Psi"]
    span = math.log10(3.5 / 1e-4)
    assert info.site == "slog10_g_Psi" and float(info.distribution.low) == -span and float(info.distribution.high) == span
    for s in (-span, -2.0, -1e-9, 1e-9, 1.3, span):
        x = float(info.to_value(jnp.asarray(s)))
        assert math.copysign(1.0, x) == math.copysign(1.0, s) and 1e-4 <= abs(x) <= 3.5 * (1 + 1e-12)
        assert info.to_site(x) == pytest.approx(s, abs=1e-9)
    assert problem.start_sites()["slog10_g_Psi"] == pytest.approx(-math.log10(0.5 / 1e-4))  # ref -0.5 kept with its sign


def test_signed_log_density_finite_across_zero_and_flat_prior(tmp_path):
    problem = load_problem(_config(tmp_path, signed=True))
    names = problem.site_names
    z0 = problem.start_sites()
    i = names.index("slog10_g_Psi")
    zs = np.array([[z0[n] for n in names]] * 5, dtype=float)
    zs[:, i] = [-3.0, -1e-6, 0.0, 1e-6, 3.0]
    zs[:, names.index("y_e")] = 1e-3  # at |g_Psi| = min, Eq. (9) makes cos(beta) large: a small Yukawa keeps |kappa_e| < 1
    vg = jax.jit(jax.vmap(jax.value_and_grad(problem.log_density)))
    v, g = vg(jnp.asarray(zs))
    assert np.all(np.isfinite(np.asarray(v))) and np.all(np.isfinite(np.asarray(g)))
    # the prior is flat in the site: log_prior differs only through the M_Psi > M_Zp factor, which g_Psi does not touch
    lp = jax.vmap(problem.log_prior)(jnp.asarray(zs))
    assert np.ptp(np.asarray(lp)) == pytest.approx(0.0, abs=1e-12)
    # either side of s = 0 the value is the same point up to the sign of g_Psi (|g_Psi| = min, where NSI vanish)
    assert float(v[1]) == pytest.approx(float(v[3]), abs=1e-3)


def test_signed_config_errors(tmp_path):
    with pytest.raises(ConfigError, match="'signed: true' applies to a log-uniform prior"):
        cfg = tiny_config(tmp_path / "o")
        cfg["params"]["g_Psi"] = {"prior": "uniform", "min": -1.0, "max": 1.0, "signed": True}
        (tmp_path / "a.yaml").write_text(yaml.safe_dump(cfg))
        load_config(tmp_path / "a.yaml")
    with pytest.raises(ConfigError, match="not both"):
        load_config(_config(tmp_path, signed=True, negative=True))
