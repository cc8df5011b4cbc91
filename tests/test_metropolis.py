"""NUTS with Metropolis moves on chosen sites (``sampler.metropolis``, globalfit/inference/metropolis.py): it samples a
known posterior correctly (also across a jump that stops NUTS), with and without the warm-up adaptation of its local
step, which learns the chain's covariance and is frozen for the draws; a run with it has every output and resumes to the
identical chain (also spread over 4 devices), and bad settings are one-line config errors."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import jax
import jax.numpy as jnp
from jax import lax
import numpy as np
import pytest
import yaml
from numpyro.infer import MCMC
from numpyro.infer.util import ParamInfo
from scipy.stats import norm

from globalfit.errors import ConfigError
from globalfit.inference.metropolis import AM_JITTER, AM_SCALE, MetropolisNUTS, adapt_proposal, initial_proposal
from globalfit.inference.nuts import metropolis_sites, nuts_kernel, sample_run
from globalfit.outputs.report import build_idata, sampler_line, write_outputs
from globalfit.outputs.rundir import load_chunks, prepare_run_dir, write_progress
from globalfit.problem import load_problem
from test_engine import tiny_config
from test_multidevice import SAMPLE_ONLY, SAMPLER, _draws, _env, _same_draws
from test_resume import SMALL

ROOT = Path(__file__).resolve().parent.parent

# a correlated Gaussian in (a, b) times an independent c whose density halves across c = 0 (a jump: no gradient sees
# it). Exact moments: E a = E b = 0, var a = var b = 1, corr(a, b) = 0.6; P(c > 0) = 1/3, E c = -1/3 sqrt(2/pi).
RHO = 0.6


def _potential(z):
    a, b, c = z["a"], z["b"], z["c"]
    gauss = (a**2 - 2 * RHO * a * b + b**2) / (2 * (1 - RHO**2)) + c**2 / 2
    return gauss + jnp.where(c > 0, jnp.log(2.0), 0.0)


def _smooth(z):
    """_potential without its jump."""
    return _potential(z) - jnp.where(z["c"] > 0, jnp.log(2.0), 0.0)


def _jump(z):
    """The jump of _potential across c = 0 and a wall at c = 1 (the density 0 beyond, as outside a physical support)."""
    return jnp.where(z["c"] > 1, jnp.inf, jnp.where(z["c"] > 0, jnp.log(2.0), 0.0))


@pytest.mark.parametrize("sites", [["a"], []])
def test_delayed_acceptance_samples_a_known_posterior(sites):
    """NUTS moves c on the smooth part only; the jump across c = 0 and the wall at c = 1 accept or reject its
    proposals (delayed acceptance), with a Metropolis site a or none: the exact moments, ~4 Monte Carlo standard
    errors. For c: density phi(c) below 0, phi(c)/2 on (0, 1), 0 above."""
    z_c = 0.5 + 0.5 * (norm.cdf(1.0) - 0.5)
    p_positive = 0.5 * (norm.cdf(1.0) - 0.5) / z_c
    mean_c = (-norm.pdf(0.0) + 0.5 * (norm.pdf(0.0) - norm.pdf(1.0))) / z_c
    kernel = MetropolisNUTS(_smooth, sites, {"a": 1.0}, steps=5, delayed=_jump, target_accept_prob=0.8)
    chains = 8
    mcmc = MCMC(kernel, num_warmup=300, num_samples=3000, num_chains=chains, chain_method="vectorized", progress_bar=False)
    mcmc.run(jax.random.PRNGKey(0), init_params={k: jnp.zeros(chains) for k in "abc"},
             extra_fields=("diverging", "delayed_accepted", "delayed_energy"))
    s = {k: np.asarray(v) for k, v in mcmc.get_samples().items()}
    assert abs(s["a"].mean()) < 0.06 and abs(s["b"].mean()) < 0.06
    assert np.corrcoef(s["a"], s["b"])[0, 1] == pytest.approx(RHO, abs=0.04)
    assert s["c"].max() <= 1.0 and np.mean(s["c"] > 0) == pytest.approx(p_positive, abs=0.03)
    assert s["c"].mean() == pytest.approx(mean_c, abs=0.05)
    extra = {k: np.asarray(v) for k, v in mcmc.get_extra_fields().items()}
    outcome = extra["delayed_accepted"]  # 1 accepted, 0 rejected (the jump), -1 rejected outside the support (the wall)
    assert set(np.unique(outcome)) == {-1, 0, 1} and 0.5 < np.mean(outcome == 1) < 1.0
    np.testing.assert_allclose(extra["delayed_energy"], np.where(s["c"] > 0, np.log(2.0), 0.0), atol=1e-12)  # D at the chain's point
    assert not extra["diverging"].any()


@pytest.mark.parametrize("adapt, independence", [(True, 0.0), (False, 0.0), (True, 0.5), (True, 1.0)])
def test_metropolis_within_nuts_samples_a_known_posterior(adapt, independence):
    """a (Metropolis, correlated with the NUTS site b) and c (Metropolis, across a jump) against exact moments, also
    with independence proposals (half or all of them once the covariance is learnt; without the q ratio in their
    acceptance var a came out 0.55 and 0.34, P(c > 0) 0.24 and 0.15); 8 chains x 3000 draws: the tolerances are ~4 Monte
    Carlo standard errors at the measured ESS."""
    kernel = MetropolisNUTS(_potential, ["a", "c"], {"a": 1.0, "c": 1.0}, steps=5, adapt=adapt, independence=independence,
                            target_accept_prob=0.8)
    chains = 8
    mcmc = MCMC(kernel, num_warmup=300, num_samples=3000, num_chains=chains, chain_method="vectorized", progress_bar=False)
    start = {k: jnp.zeros(chains) for k in "abc"}
    mcmc.run(jax.random.PRNGKey(0), init_params=start, extra_fields=("diverging",))
    s = {k: np.asarray(v) for k, v in mcmc.get_samples().items()}
    assert set(s) == {"a", "b", "c"}
    assert abs(s["a"].mean()) < 0.06 and abs(s["b"].mean()) < 0.06
    assert s["a"].var() == pytest.approx(1.0, rel=0.08) and s["b"].var() == pytest.approx(1.0, rel=0.08)
    assert np.corrcoef(s["a"], s["b"])[0, 1] == pytest.approx(RHO, abs=0.04)
    assert np.mean(s["c"] > 0) == pytest.approx(1 / 3, abs=0.03)
    assert s["c"].mean() == pytest.approx(-np.sqrt(2 / np.pi) / 3, abs=0.05)
    assert not np.asarray(mcmc.get_extra_fields()["diverging"]).any()


def test_init_takes_a_given_potential_as_nuts_part_and_own_start_drops_the_posteriors():
    """A start's potential energy and gradient, where given, are taken as NUTS's part U (not computed again: a saved
    state, the traced init's placeholder); own_start drops those of the posterior (U + D) only where D exists."""
    z = {"a": jnp.asarray(0.5), "b": jnp.asarray(-0.2), "c": jnp.asarray(0.3)}
    given = ParamInfo(z, jnp.asarray(123.0), jax.tree.map(jnp.zeros_like, z))
    plain = MetropolisNUTS(_smooth, ["a"], {"a": 1.0}, steps=2)
    delayed = MetropolisNUTS(_smooth, ["a"], {"a": 1.0}, steps=2, delayed=_jump)
    assert plain.own_start(given) is given
    assert delayed.own_start(given).potential_energy is None and delayed.own_start(given).z is z
    for kernel in (plain, delayed):
        key = jax.random.PRNGKey(0)
        assert float(kernel.init(key, 10, given).hmc.potential_energy) == 123.0
        assert float(kernel.init(key, 10, kernel.own_start(given)).hmc.potential_energy) == pytest.approx(
            float(_smooth(z)) if kernel is delayed else 123.0)


def test_adapted_step_is_the_chains_covariance_and_frozen_after_warm_up():
    """adapt_proposal keeps Welford's running moments: after n points, L L^T = (2.38²/d)(cov + jitter diag(σ²)) with
    numpy's covariance; nothing changes where it is off. In a kernel the learnt L differs from the start 0.3 diag(σ)
    after warm-up, has the target's correlation (1 for a degenerate pair), and stays the same through the draws."""
    sigma = jnp.asarray([1.0, 2.0, 0.5])
    x = np.random.default_rng(1).multivariate_normal([0, 1, -1], [[1, 0.5, 0], [0.5, 2, 0.3], [0, 0.3, 0.7]], 200)
    p = initial_proposal(sigma)
    for row in x:
        p = adapt_proposal(p, jnp.asarray(row), sigma, True)
    assert int(p.count) == 200
    np.testing.assert_allclose(p.mean, x.mean(0), rtol=1e-12)
    expected = AM_SCALE**2 / 3 * (np.cov(x.T) + AM_JITTER * np.diag(np.asarray(sigma) ** 2))
    np.testing.assert_allclose(p.chol @ p.chol.T, expected, rtol=1e-10)
    same = adapt_proposal(p, jnp.asarray(x[0]), sigma, False)
    for a, b in zip(same, p):
        np.testing.assert_array_equal(a, b)

    def ridge(z):  # a and c: a narrow ridge a = c (sd 0.01 across it), b a unit Gaussian
        return (z["a"] - z["c"]) ** 2 / (2 * 0.01**2) + z["c"] ** 2 / 2 + z["b"] ** 2 / 2

    kernel = MetropolisNUTS(ridge, ["a", "c"], {"a": 1.0, "c": 1.0}, steps=5)
    keys = jax.random.split(jax.random.PRNGKey(3), 2)
    state = kernel.init(keys, 200, {k: jnp.zeros(2) for k in "abc"})
    start = np.asarray(state.proposal.chol)
    advance = jax.jit(lambda st, n: lax.fori_loop(0, n, lambda i, s: kernel.sample(s, (), {}), st), static_argnums=1)
    state = advance(state, 200)
    learnt = np.asarray(state.proposal.chol)
    assert not np.allclose(learnt, start)
    cov = np.einsum("cij,ckj->cik", learnt, learnt)
    assert np.all(cov[:, 0, 1] / np.sqrt(cov[:, 0, 0] * cov[:, 1, 1]) > 0.99)
    state = advance(state, 200)
    np.testing.assert_array_equal(np.asarray(state.proposal.chol), learnt)


def _config(tmp_path: Path, name: str, draws: int, extra: dict | None = None, **sampler) -> Path:
    """test_resume's prior-only U(1)_B run (M_Zp, g_X sampled), M_Zp moved by Metropolis steps; ``extra``: more
    top-level blocks (likelihoods)."""
    settings = {**SMALL["sampler"], "warmup": 20, "draws": draws, "chunk_size": 10, "seed": 4, "metropolis": ["M_Zp"],
                "metropolis_steps": 5, **sampler}
    path = tmp_path / f"{name}.yaml"
    path.write_text(yaml.safe_dump({**SMALL, **(extra or {}), "sampler": settings, "output": {"dir": str(tmp_path / name)}}))
    return path


def _run(path: Path, resume: bool = False) -> Path:
    problem = load_problem(path)
    outdir, prog = prepare_run_dir(problem.cfg, path, resume=resume, force=False)
    sample_run(problem, outdir, prog)
    prog["finished"] = True
    write_progress(outdir, prog)
    return outdir


def test_a_run_with_metropolis_sites_has_its_outputs_and_resumes_to_the_same_chain(tmp_path):
    whole = _run(_config(tmp_path, "whole", draws=20))
    idata = build_idata(whole)
    assert idata.posterior.sizes["chain"] == 2 and idata.posterior.sizes["draw"] == 20
    post, stat = load_chunks(whole)
    assert {"log10_M_Zp", "M_Zp", "g_X"} <= set(post) and {"diverging", "num_steps", "metropolis_accepted"} <= set(stat)
    assert np.unique(post["M_Zp"]).size > 10  # the Metropolis site moves
    share = np.asarray(idata.sample_stats["metropolis_acceptance"])
    assert share.shape == (2, 20) and 0.0 < share.mean() < 1.0 and np.all((share >= 0) & (share <= 1))
    report = write_outputs(whole, idata, netcdf=False)
    assert "Metropolis moves on M_Zp: 5 steps per transition" in report and "accepted" in report
    n_steps = np.asarray(idata.sample_stats["n_steps"])  # the two vectorised chains wait for the longer trajectory
    assert (f"leapfrog steps per draw: mean {n_steps.mean():.0f}, of the longest chain per transition "
            f"{n_steps.max(axis=0).mean():.0f}") in report

    part = _run(_config(tmp_path, "part", draws=10))  # one chunk, then extended and resumed
    _run(_config(tmp_path, "part", draws=20), resume=True)
    a, b = load_chunks(whole)[0], load_chunks(part)[0]
    for k in a:
        np.testing.assert_array_equal(a[k], b[k], err_msg=k)


def test_a_run_with_delayed_acceptance_has_its_outputs_and_resumes_to_the_same_chain(tmp_path):
    """zp_neutron_lead and the support cut accept or reject NUTS's proposals (no Metropolis site): the outputs record
    the share accepted, the share rejected outside the support and the whole posterior's potential energy (NUTS's plus
    D), and a resumed run is the identical chain."""
    lks = {"likelihoods": {"zp_neutron_lead": None, "cosmology": None}}
    settings = dict(metropolis=[], delayed_acceptance=["zp_neutron_lead", "support"])
    whole = _run(_config(tmp_path, "whole", draws=20, extra=lks, **settings))
    idata = build_idata(whole)
    post, stat = load_chunks(whole)
    assert "delayed_accepted" in stat and "metropolis_accepted" not in stat
    share = np.asarray(idata.sample_stats["delayed_acceptance"])
    assert share.shape == (2, 20) and share.dtype == bool and 0.0 < share.mean() <= 1.0
    outside = np.asarray(idata.sample_stats["delayed_outside_support"])
    assert outside.dtype == bool and not (outside & share).any()  # a proposal outside the support is never accepted
    problem = load_problem(_config(tmp_path, "whole", draws=20, extra=lks, **settings))
    density = problem.unconstrained()
    u = density.unconstrain({s: post[s][:, -1] for s in density.transforms})
    np.testing.assert_allclose(np.asarray(jax.vmap(density.potential)(u)), stat["potential_energy"][:, -1], rtol=1e-10)
    report = write_outputs(whole, idata, netcdf=False)
    assert "delayed acceptance of zp_neutron_lead, support:" in report and "Metropolis moves" not in report
    assert f"{outside.mean():.3f} rejected outside the physical support" in report
    without = problem.cfg.model_copy(update={"sampler": problem.cfg.sampler.model_copy(update={"delayed_acceptance": ["zp_neutron_lead"]})})
    assert "outside the physical support" not in sampler_line(idata, without)  # said only where D holds the support
    # a run resumed across the change that added delayed_outside has it for its later chunks only: no error, no stat
    older = tmp_path / "older"
    shutil.copytree(whole, older)
    chunks = sorted((older / "chunks").glob("chunk_*.npz"))
    assert len(chunks) == 2
    with np.load(chunks[0]) as z:
        arrays = {k: z[k] for k in z.files if k != "stat:delayed_outside"}
    np.savez(chunks[0], **arrays)
    st_older = build_idata(older).sample_stats
    assert "delayed_outside_support" not in st_older and st_older["delayed_acceptance"].shape == share.shape

    part = _run(_config(tmp_path, "part", draws=10, extra=lks, **settings))
    _run(_config(tmp_path, "part", draws=20, extra=lks, **settings), resume=True)
    a, b = load_chunks(whole)[0], load_chunks(part)[0]
    for k in a:
        np.testing.assert_array_equal(a[k], b[k], err_msg=k)


def test_delayed_acceptance_splits_the_density_exactly(tmp_path):
    """-ln p = U + D: U (NUTS's) without osc_lma and without the support cut, D = osc_lma's -ln L and +inf outside the
    physical support (cos beta <= 1 fails for small |g_Psi| and large M_Zp); U stays finite there."""
    cfg = tiny_config(tmp_path / "out", delayed_acceptance=["osc_lma", "support"])
    cfg["params"]["M_Zp"] = {"prior": "log-uniform", "min": 1.0e-3, "max": 1.0, "ref": 0.01}
    cfg["params"]["g_Psi"] = {"prior": "log-uniform", "min": 1.0e-4, "max": 3.5, "ref": 1.0}
    path = tmp_path / "split.yaml"
    path.write_text(yaml.safe_dump(cfg))
    problem = load_problem(path)
    assert isinstance(nuts_kernel(problem), MetropolisNUTS)
    density = problem.unconstrained()
    nuts_part = problem.without(["osc_lma"]).without_support_factor().unconstrained().potential
    delayed = problem.likelihood_potential(["osc_lma"], support=True)
    keys = jax.random.split(jax.random.PRNGKey(0), len(density.transforms))
    u = {s: 2.0 * jax.random.normal(k, (400,)) for k, s in zip(keys, sorted(density.transforms))}
    full, nuts_u, d = (np.asarray(jax.vmap(f)(u)) for f in (density.potential, nuts_part, delayed))
    outside = ~np.isfinite(full)
    assert 0.05 < outside.mean() < 0.95
    assert np.isfinite(nuts_u).all() and np.all(d[outside] == np.inf) and np.isfinite(d[~outside]).all()
    np.testing.assert_allclose(nuts_u[~outside] + d[~outside], full[~outside], rtol=1e-10)
    assert np.ptp(d[~outside]) > 0  # osc_lma varies


def test_metropolis_settings_are_one_line_config_errors(tmp_path):
    problem = load_problem(_config(tmp_path, "ok", draws=10))
    sd = metropolis_sites(problem)
    assert list(sd) == ["log10_M_Zp"] and sd["log10_M_Zp"] == pytest.approx(1.81, rel=0.02)  # logit image of a uniform
    assert isinstance(nuts_kernel(problem), MetropolisNUTS)
    with pytest.raises(ConfigError, match=r"unknown.yaml: sampler.metropolis: 'y_tau' is not a sampled parameter"):
        load_problem(_config(tmp_path, "unknown", draws=10, metropolis=["y_tau"]))
    with pytest.raises(ConfigError, match="leave at least one to NUTS"):
        load_problem(_config(tmp_path, "all", draws=10, metropolis=["M_Zp", "g_X"]))
    with pytest.raises(ConfigError, match="listed twice"):
        load_problem(_config(tmp_path, "twice", draws=10, metropolis=["M_Zp", "M_Zp"]))
    with pytest.raises(ConfigError, match="method 'ensemble' has no NUTS"):
        load_problem(_config(tmp_path, "ensemble", draws=10, method="ensemble", chains=4))
    with pytest.raises(ConfigError, match=r"noadapt.yaml: sampler: .*metropolis_independence: 0.5 draws from each chain's "
                                          r"learnt covariance; metropolis_adapt is false"):
        load_problem(_config(tmp_path, "noadapt", draws=10, metropolis_adapt=False, metropolis_independence=0.5))
    with pytest.raises(ConfigError, match=r"share.yaml: sampler.metropolis_independence: .*less than or equal to 1"):
        load_problem(_config(tmp_path, "share", draws=10, metropolis_independence=1.5))
    assert nuts_kernel(load_problem(_config(tmp_path, "ind", draws=10, metropolis_independence=0.5))).independence == 0.5
    with pytest.raises(ConfigError, match=r"nolk.yaml: sampler.delayed_acceptance: 'cosmolgy' is not a likelihood of this run"
                                          r" \(did you mean 'cosmology'\?\)"):
        load_problem(_config(tmp_path, "nolk", draws=10, extra={"likelihoods": {"cosmology": None}},
                             delayed_acceptance=["cosmolgy"]))
    with pytest.raises(ConfigError, match="delayed_acceptance.*method 'ensemble' has no NUTS"):
        load_problem(_config(tmp_path, "ens", draws=10, extra={"likelihoods": {"cosmology": None}}, metropolis=[],
                             method="ensemble", chains=4, delayed_acceptance=["cosmology"]))


@pytest.mark.slow
@pytest.mark.parametrize("delayed", [[], ["support"]])
def test_metropolis_chains_on_four_devices_equal_one_device(tmp_path, delayed):
    """The spread path (4 CPU devices) runs the same 4 chains as one device (equal to rounding, as for NUTS:
    tests/test_multidevice.py), with g_X moved by Metropolis steps, and with the support cut applied by delayed
    acceptance (the state's extra fields pass through the pmap)."""
    paths = {}
    for name in ("one", "four"):
        cfg = tiny_config(tmp_path / name, **SAMPLER, metropolis=["g_X"], metropolis_steps=5, delayed_acceptance=delayed)
        cfg["plots"] = {"corner": ["g_X", "y_e"], "formats": ["png"]}
        paths[name] = tmp_path / f"{name}.yaml"
        paths[name].write_text(yaml.safe_dump(cfg))
    problem = load_problem(paths["one"])
    outdir, prog = prepare_run_dir(problem.cfg, paths["one"], False, False)
    sample_run(problem, outdir, prog)
    r = subprocess.run([sys.executable, "-c", SAMPLE_ONLY, str(paths["four"])],
                       env=_env(XLA_FLAGS="--xla_force_host_platform_device_count=4"), capture_output=True, text=True, timeout=900)
    assert r.returncode == 0, r.stderr[-2000:]
    assert "4 chains over 1 process x 4 cpu devices" in r.stderr
    _same_draws(_draws(tmp_path / "four"), _draws(tmp_path / "one"))
