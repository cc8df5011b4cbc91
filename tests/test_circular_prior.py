"""``prior: circular``: a phase sampled on the real line as t ~ N(0, (3 pi)^2) and wrapped to [-pi, pi)."""

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import yaml
from scipy.stats import norm

from globalfit.cli import main
from globalfit.errors import ConfigError
from globalfit.inference.evidence import apply_prior_overrides
from globalfit.problem import load_problem
from globalfit.problem.config import CIRCULAR_SD, load_config
from globalfit.outputs.style import tex_label
from globalfit.problem.parametrisation import wrap_angle

from test_engine import tiny_config


def _config(tmp_path, phase=None, **sampler):
    cfg = tiny_config(tmp_path / "out", **sampler)
    cfg["params"]["y_mu"] = 0.1  # the phase of y_mu matters only where y_mu does
    cfg["params"]["phi_mu"] = {"prior": "circular", "ref": 0.5} if phase is None else phase
    path = tmp_path / "circular.yaml"
    path.write_text(yaml.safe_dump(cfg))
    return path


def test_wrapped_prior_is_uniform_to_machine_precision():
    """sum_k N(phi + 2 pi k; 0, CIRCULAR_SD) = 1/(2 pi) (the wrapped normal's Fourier series, Mardia & Jupp Sec. 3.5.7:
    its first correction, 2 exp(-sd^2/2), is 1e-19)."""
    phi = np.linspace(-math.pi, math.pi, 721)
    k = np.arange(-60, 61)[:, None]
    density = norm.pdf(phi + 2 * math.pi * k, scale=CIRCULAR_SD).sum(axis=0)
    assert np.max(np.abs(density * 2 * math.pi - 1.0)) < 1e-14
    assert 2 * math.exp(-CIRCULAR_SD**2 / 2) < 1e-18


def test_circular_site_wraps_and_maps_back(tmp_path):
    problem = load_problem(_config(tmp_path))
    info = problem.sites["phi_mu"]
    assert info.site == "unwrapped_phi_mu" and info.diagnosed == "phi_mu"
    assert float(info.distribution.scale) == CIRCULAR_SD
    for phi in (-math.pi, -2.0, 0.0, 0.5, 3.0):
        for k in (-5, -1, 0, 2, 7):
            assert float(info.to_value(jnp.asarray(phi + 2 * math.pi * k))) == pytest.approx(phi, abs=1e-12)
        assert info.to_site(phi) == pytest.approx(phi, abs=1e-15)
    assert float(jax.grad(info.to_value)(jnp.asarray(10.0))) == 1.0
    assert problem.start_sites()["unwrapped_phi_mu"] == 0.5
    assert "phi_mu" in problem.diagnosed_names and "unwrapped_phi_mu" in problem.site_names
    assert float(wrap_angle(math.pi)) == pytest.approx(-math.pi)
    assert tex_label("unwrapped_phi_mu") == r"\tilde{\phi_\mu}\;[\mathrm{rad}]"  # the site's label in chains and Cobaya


def test_density_periodic_and_finite_far_out(tmp_path):
    """The likelihoods see exp(i phi): the log-density minus the Gaussian prior of t is 2 pi periodic, and value and
    gradient stay finite however many turns out t lies (the prior's reach, Z_TAIL sd)."""
    problem = load_problem(_config(tmp_path))
    names = problem.site_names
    i = names.index("unwrapped_phi_mu")
    z0 = problem.start_sites()
    ts = np.array([0.3, 0.3 + 2 * math.pi, 0.3 - 6 * math.pi, 1.7, 1.7 + 40 * math.pi, -300.0, 300.0])
    zs = np.array([[z0[n] for n in names]] * len(ts), dtype=float)
    zs[:, i] = ts
    v, g = jax.jit(jax.vmap(jax.value_and_grad(problem.log_density)))(jnp.asarray(zs))
    v, g = np.asarray(v), np.asarray(g)
    assert np.all(np.isfinite(v)) and np.all(np.isfinite(g))
    like = v - norm.logpdf(ts, scale=CIRCULAR_SD)
    assert like[1] == pytest.approx(like[0], abs=1e-9) and like[2] == pytest.approx(like[0], abs=1e-9)
    assert like[4] == pytest.approx(like[3], abs=1e-9)


def test_circular_config_errors(tmp_path):
    with pytest.raises(ConfigError, match="params.phi_mu.*'min' does not apply to a circular prior"):
        load_config(_config(tmp_path, phase={"prior": "circular", "min": -1.0}))
    with pytest.raises(ConfigError, match="ref=4.0 lies outside the prior support"):
        load_config(_config(tmp_path, phase={"prior": "circular", "ref": 4.0}))
    cfg = tiny_config(tmp_path / "o")
    cfg["params"]["g_X"] = {"prior": "circular"}
    (tmp_path / "g.yaml").write_text(yaml.safe_dump(cfg))
    with pytest.raises(ConfigError, match="params.g_X: a circular prior is for a phase"):
        load_config(tmp_path / "g.yaml")


def test_prior_override_to_circular(tmp_path):
    """``--prior phi_mu.prior=circular`` on a uniform phase: the uniform bounds go with the kind they belonged to."""
    path = _config(tmp_path, phase={"prior": "uniform", "min": -math.pi, "max": math.pi, "ref": 0.5})
    cfg = apply_prior_overrides(load_config(path), ["phi_mu.prior=circular"], str(path))
    spec = cfg.sampled()["phi_mu"]
    assert spec.prior == "circular" and spec.min is None and spec.max is None and spec.ref == 0.5


def test_run_samples_the_phase_uniformly(tmp_path):
    """A run where no likelihood depends on phi_mu: its draws are uniform on the circle, and the report's table and
    diagnostics read the phase, not the unwrapped site."""
    path = _config(tmp_path, warmup=100, draws=200)
    assert main(["run", str(path)]) == 0
    import arviz as az

    post = az.from_netcdf(str(tmp_path / "out" / "posterior.nc")).posterior
    phi = np.asarray(post["phi_mu"]).ravel()
    assert np.all((phi >= -math.pi) & (phi < math.pi))
    assert abs(np.mean(np.exp(1j * phi))) < 0.2  # the mean resultant of 400 uniform draws: sd ~0.04
    assert np.ptp(np.asarray(post["unwrapped_phi_mu"])) > 2 * math.pi  # the site itself runs over several turns
    report = (tmp_path / "out" / "report.txt").read_text()
    assert "\nphi_mu " in report and "unwrapped_phi_mu" not in report


def test_phases_summarised_on_the_circle():
    """A phase peaked at pi (draws on both sides of the +-pi cut): circular mean ~pi, sd ~ its width, an HDI through pi;
    a linear summary would say mean ~0, sd ~3."""
    import arviz as az

    from globalfit.outputs.report import summarise

    rng = np.random.default_rng(0)
    phi = np.angle(np.exp(1j * (math.pi + 0.3 * rng.standard_normal((4, 500)))))
    s = summarise(az.from_dict(posterior={"phi_mu": phi, "y_e": rng.random((4, 500))}), None)
    q = s.loc["phi_mu"]
    assert abs(abs(q["mean"]) - math.pi) < 0.05 and q["sd"] == pytest.approx(0.3, rel=0.1)
    assert q["hdi_2.5%"] > 2.0 and q["hdi_97.5%"] < -2.0  # lower end above the upper one: the interval runs through pi
    assert s.loc["y_e", "mean"] == pytest.approx(0.5, abs=0.05)  # other quantities keep linear statistics
