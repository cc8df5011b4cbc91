"""Bayesian evidence of a run config by nested sampling, and Bayes factors between U(1)' scenarios.

``globalfit evidence CONFIG [CONFIG ...]`` runs nested sampling (jaxns, arXiv:2012.15286, compiled as one program) on
the numpyro model of each fit problem (:meth:`globalfit.problem.FitProblem.numpyro_model`, likelihoods exact: no
``soften_chi2``; its sites on the unit cube through numpyro's ``UniformReparam``) and prints ln Z with its
uncertainty and the Bayes factors against the first.

What Z means here:

* **Prior.** The config's prior restricted to the physical support (:mod:`globalfit.problem.support`: |kappa| < 1, Eq. 9,
  M_Psi > M_Zp, ...) and *renormalised* on it: the model does not exist outside its support, so its prior is the
  truncated one. Nested sampling (jaxns) drops the prior volume where ln L = -inf from its bookkeeping, so it returns
  Z_raw = int_box pi L 1(support) / V_s, V_s the unit-cube volume of the support (checked on a toy: a cut keeping
  0.3 of a uniform box gives ln Z_raw = ln Z_true - ln 0.3 within its error). The support probability
  P_s = int_box pi 1(support) and V_s are estimated from the same ``evidence.support_draws`` prior draws, and
  ln Z = ln Z_raw + ln V_s - ln P_s (P_s and V_s printed; their Monte-Carlo errors added in quadrature). Until
  2026-12-05 ln V_s was missing, which put every ln Z ~0.16 too high for the full configs (V_s = 0.85) and left the
  Bayes factors between scenarios unchanged (the same V_s).
* **Likelihood normalisation.** Every likelihood is log L relative to its own maximum over its observable
  (``likelihoods`` contract), so ln Z <= 0 and -ln Z measures how much of the prior the data exclude (plus any
  tension at the best point).
* **Same data.** A Bayes factor compares models on the same data. A likelihood that one config uses and another does
  not may be missing only where the registry says it does not apply to that scenario (``applies``: e.g. nu-e
  scattering in U(1)_B, where the Z' has no electron coupling); its value is then taken as the Standard-Model one
  everywhere, a constant ln L_SM added to that config's ln Z (printed as "SM const"). That is exact where the
  likelihood cannot depend on the scenario's parameters; ``applies`` also excludes a few by the data's origin (quark
  NSI ranges in U(1)_L, hadronic searches in B-L), where it is an approximation: measured, ln E[L] of osc_lma under
  U(1)_L's posterior is -0.0007, of the hadronic visible searches over B-L's prior -0.0018 (2026-12-05 review).
  A likelihood missing from a config whose scenario it does apply to is an error: the comparison would not be
  on the same data.
* **Uncertainty.** jaxns' statistical estimate of ln Z (from the prior-volume shrinkage); the scatter over seeds is
  the honest check and is what docs/evidence.md reports.
* **Prior sensitivity.** Upper limits only cut away prior volume, so Bayes factors here are ratios of allowed
  prior fractions and depend on the prior ranges: rerun with ``--prior NAME.min=VALUE`` (any ParamSpec field of
  the config's ``params``) to see by how much.
* **Probability of a region.** ``--exclude`` drops likelihoods by name pattern: for a likelihood L_D that selects a
  region (e.g. ``osc_lma_dark``), Z(with L_D) / Z(without) = E[L_D] under the posterior of the other data, the
  posterior mass of that region (smoothed by L_D's own width).
"""

from __future__ import annotations

import functools
import json
import logging
import math
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Sequence

import jax
import jax.numpy as jnp
import numpy as np
from numpyro.handlers import reparam
from numpyro.infer.util import log_density
from pydantic import ValidationError

from likelihoods import build_likelihoods, registry

from globalfit import _jax  # noqa: F401
from globalfit.problem.config import RunConfig
from globalfit.errors import ConfigError, InputError
from globalfit.physics.model import ModelOptions, observables
from globalfit.physics.parameters import DEFAULTS, complete
from globalfit.problem import FitProblem
from globalfit.problem.evaluate import SM_OVERRIDES
from globalfit.outputs.rundir import atomic_write
from globalfit.physics.scenarios import SCENARIOS, get_scenario

__all__ = [
    "EvidenceResult",
    "check_new_output",
    "nested_sampling",
    "log_factor_fn",
    "site_values",
    "support_probability",
    "support_volume",
    "sm_loglike",
    "same_data_constants",
    "apply_prior_overrides",
    "evidence",
    "log_evidence_parts",
    "evidence_result",
    "evidence_line",
    "format_evidence",
    "seed_scatter",
    "format_seed_scatter",
    "write_evidence",
]


@dataclass
class EvidenceResult:
    """ln Z of one config (natural logs) and how it was obtained."""

    config: str
    scenario: str
    log_Z: float  # ln Z on the support-normalised prior, plus the SM constants of the same-data union
    log_Z_err: float
    log_Z_raw: float  # nested sampling on the box prior, support as a cut
    log_Z_raw_err: float
    log_P_support: float
    log_P_support_err: float
    log_V_support: float
    log_V_support_err: float
    sm_constant: float  # sum of ln L_SM of likelihoods added for the same-data comparison
    likelihoods: list[str]
    added: list[str]
    n_dim: int
    live_points: int
    n_likelihood_evals: int
    n_samples: int
    ess: float
    information_H: float
    seconds: float
    converged: bool  # False: stopped at evidence.max_samples before reaching dlogZ
    posterior_quantiles: dict  # 5 %, 50 %, 95 % of the nested-sampling posterior (4000 resampled draws)
    seed: int | None = None  # of the nested sampling and the support draws (None: not recorded, before 2026-12-06)


QUANTILE_EXTRAS = ("eps_earth_ee", "eps_earth_mumu", "eps_earth_tautau", "abs_eps_earth_mutau")
# XLA would fold a max_samples-long cumulative sum of jaxns's at compile time, for 1-5 s, printing a multi-line
# "Constant folding an instruction is taking > 1s ... file a bug" alarm on stderr; without folding the compilation
# takes as long and the sampling 10-15 % longer (docs/performance.md, "Nested sampling")
NO_CONSTANT_FOLDING = {"xla_disable_hlo_passes": "constant_folding"}


def nested_sampling(problem: FitProblem, live_points: int | None = None, max_samples: int | None = None,
                    dlogZ: float | None = None, seed: int | None = None) -> dict:
    """Run jaxns on the model of ``problem`` (exact likelihoods); returns ln Z_raw and run statistics.

    The likelihood is :func:`log_factor_fn`'s f on the unit cube of the sample sites (each mapped through its inverse
    CDF, numpyro's ``UniformReparam``): the sum of the likelihoods, the support (0 or -inf) and the M_Psi > M_Zp prior
    factor of :func:`globalfit.problem.parametrisation.psi_above_zp`. The whole sampler is one compiled program
    (``jax.jit``, as jaxns's documentation runs it); numpyro's wrapper ran it operation by operation. The program and
    the posterior trace are compiled once per problem object and settings (:meth:`FitProblem.compiled`): another seed
    on the same problem only samples.
    """
    ev = problem.cfg.evidence
    seed = ev.seed if seed is None else seed
    key = jax.random.PRNGKey(seed)
    n_dim = len(problem.site_names)
    live = int(live_points or ev.live_points or 25 * n_dim)
    settings = (live, float(max_samples or ev.max_samples), float(dlogZ or ev.dlogZ))
    run = problem.compiled(("nested_sampling",) + settings, lambda: _nested_sampler(problem, *settings))
    t0 = time.perf_counter()
    r = jax.block_until_ready(run(key))
    seconds = time.perf_counter() - t0
    u = _jaxns()[0].resample(jax.random.fold_in(key, 1), r.samples["u"], r.log_dp_mean, S=4000, replace=True)
    names = problem.sampled_names + list(QUANTILE_EXTRAS)
    trace = problem.compiled("site_values", lambda: jax.jit(jax.vmap(lambda x: site_values(problem, x, names))))
    draws = trace(u)
    quantiles = {n: [float(v) for v in np.quantile(np.asarray(draws[n]), [0.05, 0.5, 0.95])] for n in names if n in draws}
    return dict(
        log_Z_raw=float(r.log_Z_mean), log_Z_raw_err=float(r.log_Z_uncert), n_dim=n_dim, live_points=live,
        n_likelihood_evals=int(r.total_num_likelihood_evaluations), n_samples=int(r.total_num_samples),
        ess=float(r.ESS), information_H=float(r.H_mean), seconds=seconds,
        converged=not bool(int(r.termination_reason) & 1),  # jaxns bit 0: max_samples reached
        posterior_quantiles=quantiles, seed=int(seed),
    )


@functools.cache
def _jaxns():
    """(jaxns, TensorFlow Probability's distributions for jaxns's priors, numpyro's ``UniformReparam``), imported at
    first use: ~1 s of imports (jaxns brings TensorFlow Probability and pylab) that only nested sampling needs, not
    every command and sweep worker. jaxns calls ``logging.basicConfig(level=INFO)`` on import, which would make the
    process print JAX's and Dask's INFO records; a library must not configure logging, so the root logger holds a
    do-nothing handler during the import (basicConfig then does nothing) and is left as it was."""
    root, guard = logging.getLogger(), logging.NullHandler()
    root.addHandler(guard)
    try:
        from numpyro.contrib.nested_sampling import UniformReparam  # noqa: PLC0415
        import jaxns  # noqa: PLC0415
    finally:
        root.removeHandler(guard)
    import tensorflow_probability.substrates.jax.distributions as tfpd  # noqa: PLC0415

    return jaxns, tfpd, UniformReparam


def _nested_sampler(problem: FitProblem, live: int, max_samples: float, dlogZ: float):
    """run(key) -> jaxns's untrimmed results: the nested sampler of :func:`nested_sampling` as one jitted program."""
    sites, f = log_factor_fn(problem)
    n_dim = len(sites)
    jaxns, tfpd, _ = _jaxns()

    def unit_cube():
        return (yield jaxns.Prior(tfpd.Uniform(low=jnp.zeros(n_dim), high=jnp.ones(n_dim)), name="u"))

    # params={}: f has no jaxns parameters; without it jaxns finds that out by evaluating f eagerly (~7 s for full_B)
    model = jaxns.Model(prior_model=unit_cube, log_likelihood=f, params={})
    # init_efficiency_threshold=0: jaxns 2.6's uniform-sampling stage stops before its first draw (its termination
    # register starts at efficiency 0, below any threshold: nested_samplers/common/initialisation.py), so it changes
    # nothing (the same ln Z and evaluations bit for bit on full_B, lma_dark_B and a 2-d test) but costs a third of
    # the compilation
    ns = jaxns.NestedSampler(model=model, num_live_points=live, max_samples=max_samples, init_efficiency_threshold=0.0)
    term = jaxns.TerminationCondition(dlogZ=jnp.asarray(dlogZ))
    # untrimmed results (arrays of max_samples, weight 0 past the last sample) can be computed in the same program
    return jax.jit(lambda k: ns.to_results(*ns(k, term_cond=term), trim=False), compiler_options=NO_CONSTANT_FOLDING)


def _on_unit_cube(problem: FitProblem):
    """(site names, g): g(u) = (sum of the model's factors, its trace) at unit-cube point u, the problem's exact numpyro
    model with every sample site drawn as ``<site>_base`` on [0, 1] and mapped through its inverse CDF."""
    problem = problem.exact()
    sites = problem.site_names
    uniform = _jaxns()[2]
    model = reparam(problem.numpyro_model(), config={s: uniform() for s in sites})

    def g(u):
        return log_density(model, (), {}, {s + "_base": u[..., i] for i, s in enumerate(sites)})

    return sites, g


def log_factor_fn(problem: FitProblem):
    """(site names, f): f(u) = sum of the model's factors at unit-cube point u (one entry per sample site, mapped
    through the site's inverse CDF as in nested sampling): likelihoods (exact), support, M_Psi > M_Zp factor.

    Z_raw = int_[0,1]^d exp(f(u)) du, so f also serves quadrature checks and the support probability.
    """
    sites, g = _on_unit_cube(problem)
    return sites, lambda u: g(u)[0]


def site_values(problem: FitProblem, u, names: list[str]) -> dict:
    """The model's sites and recorded quantities ``names`` (those it has) at unit-cube point u."""
    trace = _on_unit_cube(problem)[1](u)[1]
    return {n: trace[n]["value"] for n in names if n in trace}


def _prior_factor_draws(problem: FitProblem, draws: int | None, seed: int | None) -> np.ndarray:
    """exp(sum of the model's factors without likelihoods) at uniform draws of the unit cube of the sample sites: the
    support indicator times the M_Psi > M_Zp prior factor; 0 outside the support."""
    ev = problem.cfg.evidence
    n = int(draws or ev.support_draws)
    u = jax.random.uniform(jax.random.PRNGKey(ev.seed if seed is None else seed), (n, len(problem.site_names)),
                           minval=1e-12, maxval=1 - 1e-12)
    w = np.asarray(problem.compiled("prior_factor", lambda: _prior_factor_fn(problem))(u))
    w = np.where(np.isfinite(w), w, 0.0)
    if not np.any(w > 0.0):
        raise ConfigError(f"{n} prior draws all fall outside the model's physical support: check the prior ranges")
    return w


def _prior_factor_fn(problem: FitProblem):
    """The jitted exp(sum of the model's factors without likelihoods), vmapped over unit-cube points."""
    _, f = log_factor_fn(problem.with_likelihoods([]))
    return jax.jit(jax.vmap(lambda x: jnp.exp(f(x))))


def _log_mean(w: np.ndarray) -> tuple[float, float]:
    mean = float(w.mean())
    return math.log(mean), float(w.std(ddof=1) / math.sqrt(w.size)) / mean


def support_probability(problem: FitProblem, draws: int | None = None, seed: int | None = None) -> tuple[float, float]:
    """(ln P_s, its standard error): prior probability of the physical support, by Monte Carlo.

    P_s = E_prior[exp(sum of the model's factors without likelihoods)]: the support indicator times the
    M_Psi > M_Zp prior factor (which is itself the probability that M_Psi lies above M_Zp at fixed M_Zp).
    """
    return _log_mean(_prior_factor_draws(problem, draws, seed))


def support_volume(problem: FitProblem, draws: int | None = None, seed: int | None = None) -> tuple[float, float]:
    """(ln V_s, its standard error): the unit-cube volume of the physical support (the fraction of uniform site draws
    inside it, every prior factor ignored). Nested sampling (jaxns) leaves out the volume where ln L = -inf, so the
    Z it returns is int pi L 1(support) / V_s (module doc)."""
    return _log_mean((_prior_factor_draws(problem, draws, seed) > 0.0).astype(float))


def sm_loglike(name: str, options: dict | None) -> float:
    """ln L of likelihood ``name`` at the Standard-Model point (``SM_OVERRIDES``: no Z' couplings, no mixing), for a
    likelihood a config lacks (:meth:`FitProblem.sm_loglike` for those it has).

    Built in the first scenario the registry allows; at g_X = g_Psi-mixing = 0 no scenario-dependent quantity is left.
    """
    cls = registry()[name]
    sc = next(s for s in SCENARIOS.values() if cls.applies(s))
    (lk,) = build_likelihoods({name: options}, sc, where="same-data union")
    p = complete({**DEFAULTS, **SM_OVERRIDES})
    p = {k: jnp.asarray(v, dtype=jnp.float64) for k, v in p.items()}
    return float(lk.loglike(observables(p, sc, ModelOptions())))


def same_data_constants(cfgs: list[tuple[str, RunConfig]]) -> list[tuple[float, list[str]]]:
    """For each config: (sum of ln L_SM of the union's likelihoods it lacks, their names); see the module docstring."""
    union: dict[str, dict | None] = {}
    for where, cfg in cfgs:
        for name, opts in cfg.likelihoods.items():
            if name in union and (union[name] or {}) != (opts or {}):
                raise ConfigError(f"{where}: likelihoods.{name}: options {opts or {}} differ from another config's {union[name] or {}}; "
                                  "a Bayes factor needs the same data")
            union.setdefault(name, opts)
    out = []
    for where, cfg in cfgs:
        missing = [n for n in union if n not in cfg.likelihoods]
        for n in missing:
            if registry()[n].applies(get_scenario(cfg.model.scenario)):
                raise ConfigError(f"{where}: likelihoods: lacks {n!r}, which another config uses and which applies to scenario "
                                  f"{cfg.model.scenario}; add it so that every config sees the same data")
        out.append((sum(sm_loglike(n, union[n]) for n in missing), missing))
    return out


def apply_prior_overrides(cfg: RunConfig, overrides: list[str], where: str) -> RunConfig:
    """``NAME.FIELD=VALUE`` items (e.g. ``g_X.min=1e-10``) applied to the config's sampled parameters."""
    params = dict(cfg.params)
    for item in overrides:
        key, eq, raw = item.partition("=")
        name, dot, fld = key.strip().partition(".")
        if not eq or not dot:
            raise InputError(f"--prior {item!r}: expected NAME.FIELD=VALUE, e.g. g_X.min=1e-10")
        spec = params.get(name)
        if spec is None or spec.fixed:
            raise InputError(f"--prior {item!r}: {name!r} is not a sampled parameter of {where}; sampled: {list(cfg.sampled())}")
        if fld not in ("min", "max", "loc", "scale", "prior", "negative", "signed"):
            raise InputError(f"--prior {item!r}: field {fld!r}; expected one of min, max, loc, scale, prior, negative, signed")
        if fld in ("negative", "signed"):
            if raw.strip().lower() not in ("true", "false"):
                raise InputError(f"--prior {item!r}: {fld} takes true or false")
            value = raw.strip().lower() == "true"
        else:
            try:
                value = raw if fld == "prior" else float(raw)
            except ValueError:
                raise InputError(f"--prior {item!r}: {raw!r} is not a number") from None
        data = spec.model_dump(exclude_none=True)
        data[fld] = value
        if fld == "prior" and value == "circular":  # the whole circle: the bounds and shape of the previous kind go
            for k in ("min", "max", "loc", "scale"):
                data.pop(k, None)
        try:
            if data.get("ref") is not None and not type(spec)(**{k: v for k, v in data.items() if k != "ref"}).contains(data["ref"]):
                data.pop("ref")
            params[name] = type(spec)(**data)
        except ValueError as exc:
            errs = getattr(exc, "errors", None)
            msg = errs()[0]["msg"].removeprefix("Value error, ") if errs else str(exc)
            raise InputError(f"--prior {item!r}: {msg}") from None
    try:  # the whole config again: physical ranges and cross-checks see the new prior
        return RunConfig.model_validate({**cfg.model_dump(exclude={"params"}), "params": {k: v.model_dump(exclude_none=True) for k, v in params.items()}})
    except ValidationError as exc:
        e = exc.errors()[0]
        key = ".".join(str(x) for x in e["loc"])
        raise InputError(f"--prior {', '.join(overrides)}: {key + ': ' if key else ''}{e['msg'].removeprefix('Value error, ')}") from None


def format_evidence(results: list[EvidenceResult]) -> str:
    ref = results[0]
    lines = [f"{'config':34s} {'scenario':8s} {'ln Z':>9s} {'+-':>6s} {'ln Z_raw':>9s} {'ln V_s':>8s} {'ln P_s':>8s} {'SM const':>9s} {'ln B vs first':>14s}  evals, s"]
    for r in results:
        ln_b = r.log_Z - ref.log_Z
        err = math.hypot(r.log_Z_err, ref.log_Z_err) if r is not ref else 0.0
        lines.append(f"{r.config:34s} {r.scenario:8s} {r.log_Z:9.3f} {r.log_Z_err:6.3f} {r.log_Z_raw:9.3f} {r.log_V_support:8.3f} {r.log_P_support:8.3f} "
                     f"{r.sm_constant:9.3f} {ln_b:8.2f} +- {err:4.2f}  {r.n_likelihood_evals}, {r.seconds:.0f}")
    lines.append("ln Z: support-normalised prior, exact likelihoods (log L relative to each likelihood's maximum); "
                 "Jeffreys: |ln B| < 1 inconclusive, 1-2.5 weak, 2.5-5 moderate, > 5 strong")
    return "\n".join(lines)


def log_evidence_parts(problem: FitProblem, live_points: int | None = None, seed: int | None = None) -> dict:
    """ln Z_raw by nested sampling, ln P_s and ln V_s of one problem (:func:`nested_sampling`, :func:`support_probability`,
    :func:`support_volume`):
    the part of an :class:`EvidenceResult` that needs computing (one task of a sweep)."""
    ns = nested_sampling(problem, live_points=live_points, seed=seed)
    w = _prior_factor_draws(problem, None, seed)  # one set of draws for both (support_probability, support_volume)
    (lps, lps_err), (lvs, lvs_err) = _log_mean(w), _log_mean((w > 0.0).astype(float))
    return dict(ns, log_P_support=lps, log_P_support_err=lps_err, log_V_support=lvs, log_V_support_err=lvs_err)


def evidence_result(problem: FitProblem, parts: dict, const: float, added: list[str]) -> EvidenceResult:
    """The :class:`EvidenceResult` of a problem from :func:`log_evidence_parts` and its same-data constant."""
    parts = dict(parts)
    lps, lps_err = parts.pop("log_P_support"), parts.pop("log_P_support_err")
    lvs, lvs_err = parts.pop("log_V_support"), parts.pop("log_V_support_err")
    return EvidenceResult(config=problem.where, scenario=problem.scenario.name, log_Z=parts["log_Z_raw"] + lvs - lps + const,
                          log_Z_err=math.hypot(parts["log_Z_raw_err"], lps_err, lvs_err), log_P_support=lps, log_P_support_err=lps_err,
                          log_V_support=lvs, log_V_support_err=lvs_err,
                          sm_constant=const, likelihoods=problem.likelihood_names, added=list(added), **parts)


def evidence_line(problem: FitProblem, result: EvidenceResult) -> str:
    """Two lines on one result: ln Z, time, convergence, posterior quantiles."""
    note = "" if result.converged else f"; NOT converged: stopped at evidence.max_samples = {problem.cfg.evidence.max_samples}, raise it"
    q = result.posterior_quantiles
    return (f"{problem.where}: ln Z = {result.log_Z:.3f} +- {result.log_Z_err:.3f} ({result.seconds:.0f} s{note})\n"
            "  posterior 5/50/95 %: " + "; ".join(f"{k} {v[0]:.3g} / {v[1]:.3g} / {v[2]:.3g}" for k, v in q.items()
                                                 if k in ("M_Zp", "g_X", "g_Psi", "eps_earth_ee")))


def evidence(problems: list[FitProblem], prior: list[str] | None = None, live_points: int | None = None,
             seeds: Sequence[int | None] = (None,), log=lambda line: None) -> list[list[EvidenceResult]]:
    """ln Z of each fit problem for each seed (``results[i][j]``: seed i, problem j; seed None: the config's
    ``evidence.seed``), ``--prior`` overrides applied to each problem once, same-data constants added; ``log`` receives
    one progress line per run. Every seed runs on the same problem objects, so only the first compiles."""
    if prior:
        problems = [p.with_config(apply_prior_overrides(p.cfg, prior, p.where)) for p in problems]
    consts = same_data_constants([(p.where, p.cfg) for p in problems])
    out = []
    for seed in seeds:
        results = []
        for problem, (const, added) in zip(problems, consts):
            results.append(evidence_result(problem, log_evidence_parts(problem, live_points=live_points, seed=seed), const, added))
            log(evidence_line(problem, results[-1]))
        out.append(results)
    return out


def seed_scatter(log_z: np.ndarray) -> dict:
    """Mean and standard deviation (ddof 1) over seeds of each config's ln Z and of ln B against the first config;
    ``log_z`` is (seeds, configs), at least two seeds. The scatter over seeds, not one run's error, is the honest
    uncertainty of a nested-sampling ln Z (docs/results.md)."""
    log_z = np.asarray(log_z, dtype=float)
    ln_b = log_z - log_z[:, :1]
    return {"log_Z_mean": log_z.mean(0).tolist(), "log_Z_std": log_z.std(0, ddof=1).tolist(),
            "ln_B_vs_first_mean": ln_b.mean(0).tolist(), "ln_B_vs_first_std": ln_b.std(0, ddof=1).tolist()}


def format_seed_scatter(scatter: dict, names: list[str]) -> str:
    """One line: each config's ln Z mean +- standard deviation over the seeds (and ln B against the first)."""
    cols = zip(names, scatter["log_Z_mean"], scatter["log_Z_std"], scatter["ln_B_vs_first_mean"], scatter["ln_B_vs_first_std"])
    return ", ".join(f"{n} ln Z {m:.3f} +- {sd:.3f}" + (f" (ln B {b:.2f} +- {bs:.2f})" if i else "")
                     for i, (n, m, sd, b, bs) in enumerate(cols))


def check_new_output(out: Path) -> Path:
    """``out`` as a Path if no file is there yet (checked before the nested sampling too, so that minutes of it are not
    lost to a name already taken), else an InputError."""
    out = Path(out)
    if out.exists():
        raise InputError(f"--out {out}: exists; give a new file name (nothing is overwritten)")
    return out


def write_evidence(out: Path, results: list[list[EvidenceResult]], prior: list[str] | None, exclude: list[str] | None) -> Path:
    """The results of every seed (:func:`evidence`) as JSON in a new file (an existing one is never overwritten):
    ``results`` lists each run (its ``seed`` recorded), ``seed_scatter`` is there when more than one seed ran."""
    out = check_new_output(out)
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InputError(f"--out {out}: cannot create {out.parent}: {exc.strerror or exc}") from None
    doc = {"prior_overrides": prior or [], "excluded": exclude or [], "seeds": [rs[0].seed for rs in results],
           "results": [asdict(r) for rs in results for r in rs]}
    if len(results) > 1:
        doc["seed_scatter"] = seed_scatter(np.array([[r.log_Z for r in rs] for rs in results]))
    atomic_write(out, json.dumps(doc, indent=2).encode())
    return out
