"""Run outputs: ArviZ InferenceData from the chunk files, ``summary.csv``, the printed diagnostics report.

``globalfit summary OUTDIR`` works on a finished or a partial run (it reads whatever chunks are on disk).
Convergence rule of the report: ONE warning line when any sampled parameter has rank-normalised
split R-hat > 1.01 or bulk/tail ESS < 400 (Vehtari et al. 2021, arXiv:1903.08008), or when any
post-warm-up transition diverged; for the ensemble sampler (walkers as chains) also when the kept chain is shorter
than 50 integrated autocorrelation times (emcee's estimator and rule).
"""

from __future__ import annotations

import json
import math
import warnings
from pathlib import Path

import emcee
import numpy as np
import yaml
from pydantic import ValidationError

from globalfit import _jax  # noqa: F401
from globalfit.problem.config import RunConfig, config_hash
from globalfit.physics.constants import constants
from globalfit.physics.parameters import PARAMETERS
from globalfit.errors import OutputError
from globalfit.problem.parametrisation import sites_for
from globalfit.problem.support import SUPPORT
from globalfit.problem import LL_PREFIX
from globalfit.outputs.rundir import atomic_path, atomic_write, load_chunks, read_progress, resolved_yaml, versions

__all__ = ["load_run_config", "build_idata", "summarise", "divergences", "leapfrog_steps", "sampler_line", "autocorrelation_time", "format_report", "write_outputs", "write_posterior", "summary_report", "RHAT_MAX", "ESS_MIN", "HDI_PROB"]

RHAT_MAX = 1.01
ESS_MIN = 400
TAU_LENGTHS = 50  # an ensemble chain shorter than this many autocorrelation times has an unreliable tau (emcee docs)
HDI_PROB = 0.95


def _az():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        import arviz as az
    return az


def load_run_config(outdir: Path):
    """The resolved RunConfig stored in a run directory."""
    f = outdir / "config.resolved.yaml"
    if not outdir.is_dir():
        raise OutputError(f"{outdir}: no such run directory")
    if not f.exists():
        raise OutputError(f"{outdir}: not a globalfit run directory (no config.resolved.yaml)")
    try:
        return RunConfig.model_validate(yaml.safe_load(f.read_text()))
    except (OSError, UnicodeDecodeError, yaml.YAMLError, ValidationError, RecursionError) as exc:
        raise OutputError(f"{f}: unreadable or not a valid resolved config ({type(exc).__name__}); it is written by globalfit, so it "
                          "was edited outside it") from None


def sampled_names(cfg) -> list[str]:
    return list(cfg.sampled())


def _metropolis_steps_label(cfg) -> str:
    """``N steps per transition`` and, where set, the share of independence proposals."""
    s = cfg.sampler
    share = f", a share {s.metropolis_independence:g} of them independence proposals" if s.metropolis_independence else ""
    return f"{s.metropolis_steps} steps per transition{share}"


def build_idata(outdir: Path):
    """InferenceData from the chunks on disk (posterior, sample_stats, log_likelihood, attrs)."""
    az = _az()
    outdir = Path(outdir)
    cfg = load_run_config(outdir)
    prog = read_progress(outdir)
    post, stat = load_chunks(outdir, int(prog["chunks"]))  # the chunks progress.json counts (a later one is uncommitted)
    posterior = {k: v for k, v in post.items() if not k.startswith(LL_PREFIX)}
    loglike = {k[len(LL_PREFIX):]: v for k, v in post.items() if k.startswith(LL_PREFIX)}
    ensemble = cfg.sampler.method == "ensemble"
    if ensemble:
        stats = {"lp": stat["lp"], "acceptance_rate": stat["moved"].astype(np.float64)}
    else:
        n_steps = stat["num_steps"].astype(np.int64)
        stats = {
            "diverging": stat["diverging"].astype(bool),
            "n_steps": n_steps,
            "tree_depth": np.ceil(np.log2(n_steps + 1.0)).astype(np.int64),
            "energy": stat["energy"],
            "lp": -stat["potential_energy"],
            "acceptance_rate": stat["accept_prob"],
            "step_size": stat["adapt_state.step_size"],
        }
        if "metropolis_accepted" in stat:  # sampler.metropolis: share of the transition's Metropolis proposals accepted
            stats["metropolis_acceptance"] = stat["metropolis_accepted"] / float(cfg.sampler.metropolis_steps)
        if "delayed_accepted" in stat:  # sampler.delayed_acceptance: NUTS's proposal accepted (1) or not (0)
            stats["delayed_acceptance"] = stat["delayed_accepted"].astype(bool)
        # ... and rejected because it lay outside the physical support (1) or not (0); recorded since 2026-12-06: a run
        # resumed across that change has it for its later chunks only, and goes without it
        if "delayed_outside" in stat and stat["delayed_outside"].shape == stat["delayed_accepted"].shape:
            stats["delayed_outside_support"] = stat["delayed_outside"].astype(bool)
    attrs = {
        "config_yaml": resolved_yaml(cfg),
        "config_hash": config_hash(cfg),
        "seed": int(cfg.sampler.seed),
        "scenario": cfg.model.scenario,
        "pdg_edition": constants().pdg_edition,
        "package_versions": json.dumps(versions()),
        "likelihoods": json.dumps(sorted(loglike)),
        "draws_per_chain": int(next(iter(posterior.values())).shape[1]),
        "finished": int(bool(prog.get("finished")) and prog["draws_done"] >= prog["draws_target"]),
        "inference_library": _ensemble_label(cfg) if ensemble else "numpyro NUTS" + (
            f", random-walk Metropolis on {', '.join(cfg.sampler.metropolis)} ({_metropolis_steps_label(cfg)})"
            if cfg.sampler.metropolis else "") + (
            f", delayed acceptance of {', '.join(cfg.sampler.delayed_acceptance)}" if cfg.sampler.delayed_acceptance else ""),
    }
    idata = az.from_dict(posterior=posterior, sample_stats=stats, log_likelihood=loglike or None)
    for group in idata.groups():
        idata[group].attrs.update(attrs)
    return idata


def _ensemble_label(cfg: RunConfig) -> str:
    """What sampled an ensemble run: emcee's version, the moves and their weights, the thinning."""
    snooker = " (de_snooker: ter Braak & Vrugt 2008 as published, globalfit.inference.ensemble.SnookerMove)" \
        if "de_snooker" in cfg.sampler.moves else ""
    return f"emcee {versions().get('emcee', '')} ensemble, moves {cfg.sampler.moves_label()}{snooker}, thin {cfg.sampler.thin}"


def phases(names) -> list[str]:
    """The angles (parameters in rad: the phases) among ``names``."""
    return [n for n in names if n in PARAMETERS and PARAMETERS[n].is_angle]


def summarise(idata, cfg):
    """``az.summary`` of every non-constant posterior variable (mean, sd, HDI, mcse, ESS, R-hat). A phase gets
    circular statistics (ArviZ's ``circ_var_names``: circular mean and sd, the HDI on the circle, whose lower end lies
    above its upper one when the interval runs through +-pi), whatever its prior: the linear mean of a phase peaked at
    +-pi would be ~0."""
    az = _az()
    post = idata.posterior
    names = [v for v in post.data_vars if float(post[v].std()) > 1e-12 * max(float(abs(post[v]).mean()), 1e-300)]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return az.summary(idata, var_names=names, hdi_prob=HDI_PROB, round_to="none", circ_var_names=phases(names) or None)


def divergences(idata) -> int:
    """Divergent NUTS transitions in ``idata`` (0 for the ensemble sampler, which has none)."""
    st = idata.sample_stats
    return int(np.asarray(st["diverging"]).sum()) if "diverging" in st else 0


def autocorrelation_time(idata, cfg) -> tuple[float, str, float]:
    """(tau, worst site, kept chain length in units of tau) of an ensemble run: emcee's integrated autocorrelation time
    of every sample site over the walkers (in ensemble steps, i.e. kept states x ``thin``), the largest (a phase on the
    circle: the phase, :attr:`~globalfit.problem.parametrisation.SiteInfo.diagnosed`)."""
    post = idata.posterior
    names = [info.diagnosed for info in sites_for(cfg).values() if info.diagnosed in post]
    x = np.stack([np.asarray(post[n]).T for n in names], axis=-1)  # (states, walkers, sites)
    tau = emcee.autocorr.integrated_time(x, tol=0)
    worst = int(np.argmax(tau))
    return float(tau[worst]) * cfg.sampler.thin, names[worst], x.shape[0] / float(tau[worst])


def leapfrog_steps(num_steps) -> tuple[float, float]:
    """NUTS's leapfrog steps over draws of shape (chain, draw): the mean per draw, and the mean over transitions of the
    longest chain's, which vectorised chains all wait for (docs/performance.md, "Vectorised chains wait for the longest
    trajectory")."""
    n = np.asarray(num_steps)
    return float(n.mean()), float(n.max(axis=0).mean())


def sampler_line(idata, cfg) -> str:
    """What the sampler did, one line: divergences, tree depth and leapfrog steps (NUTS: vectorised chains take each
    transition as long as their longest trajectory), or walkers, acceptance and the chain length in autocorrelation
    times (ensemble)."""
    st = idata.sample_stats
    if cfg.sampler.method == "ensemble":
        tau, worst, length = autocorrelation_time(idata, cfg)
        return (f"ensemble: {int(idata.posterior.sizes['chain'])} walkers, thinned by {cfg.sampler.thin}; share of kept states that moved "
                f"{float(np.asarray(st['acceptance_rate']).mean()):.2f}; autocorrelation time {tau:.0f} steps ({worst}): the kept chain "
                f"is {length:.0f} tau long")
    moves = ""
    if "metropolis_acceptance" in st:
        moves = (f"   Metropolis moves on {', '.join(cfg.sampler.metropolis)}: {_metropolis_steps_label(cfg)}, "
                 f"{float(np.asarray(st['metropolis_acceptance']).mean()):.2f} accepted")
    if "delayed_acceptance" in st:
        moves += (f"   delayed acceptance of {', '.join(cfg.sampler.delayed_acceptance)}: "
                  f"{float(np.asarray(st['delayed_acceptance']).mean()):.2f} of NUTS's proposals accepted")
        if "delayed_outside_support" in st and SUPPORT in cfg.sampler.delayed_acceptance:
            moves += f", {float(np.asarray(st['delayed_outside_support']).mean()):.3f} rejected outside the physical support"
    mean, longest = leapfrog_steps(st["n_steps"])
    steps = f"leapfrog steps per draw: mean {mean:.0f}"
    if cfg.sampler.chain_method != "sequential" and st.sizes["chain"] > 1:
        steps += f", of the longest chain per transition {longest:.0f} (vectorised chains wait for it)"
    return (f"divergences: {divergences(idata)}   max tree depth reached: {int(np.asarray(st['tree_depth']).max())} "
            f"(limit {cfg.sampler.max_tree_depth}); {steps}{moves}")


def diagnostics_line(summary, idata, cfg) -> tuple[str, bool]:
    """One line: all clear, or a single WARNING naming the worst offenders."""
    names = [info.diagnosed for info in sites_for(cfg).values()]
    names = [n for n in names if n in summary.index]
    n_div = divergences(idata)
    problems = []
    if cfg.sampler.method == "ensemble" and names:
        _, worst, length = autocorrelation_time(idata, cfg)
        if length < TAU_LENGTHS:
            problems.append(f"kept chain {length:.0f} < {TAU_LENGTHS} autocorrelation times ({worst})")
    if names:
        sub = summary.loc[names]
        rh = sub["r_hat"].astype(float)
        ess = np.minimum(sub["ess_bulk"].astype(float), sub["ess_tail"].astype(float))
        if (rh > RHAT_MAX).any() or rh.isna().any():
            worst = rh.fillna(math.inf).idxmax()
            problems.append(f"r_hat {rh[worst]:.3f} > {RHAT_MAX} ({worst})")
        if (ess < ESS_MIN).any():
            worst = ess.idxmin()
            problems.append(f"ESS {ess[worst]:.0f} < {ESS_MIN} ({worst})")
    if n_div:
        problems.append(f"{n_div} divergent transitions")
    if cfg.sampler.method == "ensemble":
        if problems:
            return "WARNING: not converged / unreliable: " + "; ".join(problems) + " -- run longer (sampler.draws, sampler.thin)", False
        return f"diagnostics ok: r_hat <= {RHAT_MAX}, ESS >= {ESS_MIN}, chain >= {TAU_LENGTHS} autocorrelation times", True
    if problems:
        return "WARNING: not converged / unreliable: " + "; ".join(problems) + " -- run longer, raise target_accept or reparametrise", False
    return f"diagnostics ok: r_hat <= {RHAT_MAX}, ESS >= {ESS_MIN}, no divergences", True


def format_report(outdir: Path, idata, summary, cfg) -> str:
    prog = read_progress(outdir)
    post = idata.posterior
    chains, draws = post.sizes["chain"], post.sizes["draw"]
    state = "finished" if prog.get("finished") and prog["draws_done"] >= prog["draws_target"] else f"partial ({prog['draws_done']}/{prog['draws_target']} draws per chain on disk)"
    lo, hi = f"hdi_{100 * (1 - HDI_PROB) / 2:g}%", f"hdi_{100 * (1 + HDI_PROB) / 2:g}%"
    lines = [
        f"run {outdir}: scenario {cfg.model.scenario}, {chains} chains x {draws} draws, {state}; config hash {idata.posterior.attrs.get('config_hash')}",
        "",
        f"{'parameter':<22s} {'mean':>11s} {'sd':>10s} {lo:>11s} {hi:>11s} {'ess_bulk':>9s} {'ess_tail':>9s} {'r_hat':>6s}",
    ]
    rows = []
    for k, info in sites_for(cfg).items():
        site = info.site
        if site == info.diagnosed:  # a phase's unwrapped site is a sampler coordinate: only the phase is shown
            rows.append(site)
        if site != k:
            rows.append(k)
    extra = list(cfg.plots.corner or [])
    if cfg.plots.plane_eps:
        extra.append(cfg.plots.plane_eps)
    for r in ["cos_beta"] + extra:
        if r not in rows:
            rows.append(r)
    for r in rows:
        if r not in summary.index:
            continue
        q = summary.loc[r]
        lines.append(
            f"{r:<22s} {q['mean']:>11.4g} {q['sd']:>10.3g} {q[lo]:>11.4g} {q[hi]:>11.4g} {q['ess_bulk']:>9.0f} {q['ess_tail']:>9.0f} {q['r_hat']:>6.3f}"
        )
    ll = getattr(idata, "log_likelihood", None)
    if ll is not None:
        lines.append("")
        lines.append("log-likelihood (posterior mean, max):")
        for name in ll.data_vars:
            a = np.asarray(ll[name])
            lines.append(f"  {name:<24s} {a.mean():>11.4g} {a.max():>11.4g}")
    lines.append("")
    lines.append(sampler_line(idata, cfg))
    lines.append(diagnostics_line(summary, idata, cfg)[0])
    return "\n".join(lines)


def write_posterior(outdir: Path, idata) -> Path:
    """``OUTDIR/posterior.nc`` from ``idata``, complete or absent after a kill at any moment; returns its path."""
    with atomic_path(outdir / "posterior.nc") as tmp:
        idata.to_netcdf(str(tmp))
    return outdir / "posterior.nc"


def write_outputs(outdir: Path, idata, netcdf: bool = True, summary=None) -> str:
    """posterior.nc (optional), summary.csv, report.txt; returns the report. ``summary``: :func:`summarise` of these
    draws when the caller has it (it takes seconds for a production run; the HTML report uses it too)."""
    cfg = load_run_config(outdir)
    if netcdf:
        write_posterior(outdir, idata)
    summary = summarise(idata, cfg) if summary is None else summary
    atomic_write(outdir / "summary.csv", summary.to_csv().encode())
    report = format_report(outdir, idata, summary, cfg)
    atomic_write(outdir / "report.txt", (report + "\n").encode())
    return report


def summary_report(outdir: Path) -> str:
    """The report of a finished or partial run (rewrites summary.csv and report.txt, not posterior.nc)."""
    outdir = Path(outdir)
    load_run_config(outdir)
    return write_outputs(outdir, build_idata(outdir), netcdf=False)
