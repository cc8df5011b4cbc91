"""Samplers side by side on one posterior (runs/full_B.yaml by default), in one run: one log-density + gradient (jit,
after warm-up) and its batched throughput (vmap 1024), then min-ESS per second of

* NUTS as ``globalfit run`` builds it (tabulated rates, :func:`globalfit.inference.nuts.nuts_kernel`),
* the same NUTS with Metropolis moves on the mass sites, g_X and g_Psi (``sampler.metropolis``,
  :mod:`globalfit.inference.metropolis`; ``--metropolis`` names them, ``--target-accept`` sets NUTS's target,
  ``--delayed`` the likelihoods applied by delayed acceptance, ``--max-tree-depth D ...`` and ``--metropolis-steps N ...``
  one leg per combination),
* the same NUTS with direct integration of every rate (each rate likelihood's ``exact: true``),
* emcee as ``sampler.method: ensemble`` builds it (:mod:`globalfit.inference.ensemble`, with the config's
  ``sampler.moves``: differential evolution for the full configs since 2026-12-06, the stretch move before), run
  until its chain is >= 50 integrated autocorrelation times long (or ``--emcee-max`` steps, reported as such;
  ``--emcee-steps N``: exactly N steps, as long as a production run),
* nested sampling (jaxns, :func:`globalfit.inference.evidence.nested_sampling`: ESS of its weighted posterior).

    PYTHONPATH=. python bench/bench_fit.py [--config runs/full_B.yaml] [--chains 8] [--warmup 300] [--draws 300]
        [--only nuts,nuts_metropolis,nuts_exact,emcee,jaxns] [--metropolis SITE ...] [--metropolis-steps N ...]
        [--metropolis-adapt on|off] [--delayed LIKELIHOOD ...] [--max-tree-depth D ...] [--driver engine|numpyro]
        [--compilation-cache DIR] [--json bench_fit.json]

min-ESS is the smallest bulk ESS over the sampled parameters (ArviZ); wall times include compilation (without
``--compilation-cache`` every leg compiles, as a first run of a config does; with it, JAX's persistent cache in DIR,
as ``globalfit run`` keeps one: a second bench run with the same DIR times what a rerun of a config costs). Vectorised
chains take one transition as long as their longest trajectory: the NUTS legs report the mean leapfrog steps per draw
and the mean over transitions of the longest chain's. The NUTS legs
run through ``globalfit run``'s engine (``--driver numpyro``: numpyro's ``MCMC.run``, as before 2026-12-05, session 37),
with the warm-up and the draws in chunks of gcd(warmup, draws) transitions. Not part of the test suite. Results: docs/performance.md.
"""

from __future__ import annotations

import argparse
import itertools
import os
import time
import warnings
from pathlib import Path

import globalfit  # noqa: F401  (float64)
import jax
import emcee
import numpy as np

from globalfit._jax import enable_compilation_cache
from globalfit.inference.ensemble import ensemble_density, ensemble_moves, initial_walkers
from globalfit.inference.evidence import nested_sampling
from globalfit.inference.nuts import nuts_mcmc, nuts_start
from globalfit.problem import load_problem
from globalfit.problem.config import load_config
from globalfit.problem.fitproblem import problem_from_config
from globalfit.problem.parametrisation import wrap_angle
from likelihoods import registry
from benchio import engine_run, finish, leapfrog_steps  # bench/ is on sys.path

ROOT = Path(__file__).resolve().parent.parent


def min_ess(samples: dict, names) -> tuple[float, str]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import arviz as az
    ds = az.from_dict(posterior={n: np.asarray(samples[n]) for n in names})
    ess = az.ess(ds, method="bulk")
    vals = {n: float(ess[n]) for n in names}
    worst = min(vals, key=vals.get)
    return vals[worst], worst


def exact_rates(config: str):
    """The problem of ``config`` with ``exact: true`` for every likelihood that has the option (direct integration)."""
    cfg = load_config(config)
    names = [n for n in cfg.likelihoods if "exact" in registry()[n].Options.model_fields]
    return problem_from_config(load_config(config, {f"likelihoods.{n}.exact": True for n in names}, "bench: exact rates"), config), names


def run_nuts(problem, chains: int, warmup: int, draws: int, seed: int = 2, driver: str = "engine") -> dict:
    """One NUTS leg, wall time from the problem to the draws on hand, compilation included. ``driver``: ``engine`` runs
    what ``globalfit run`` runs (:func:`globalfit.inference.nuts.sample_run`: chunks of compiled transitions, the
    recorded quantities, every chunk written to a scratch run directory); ``numpyro`` runs numpyro's ``MCMC.run`` on the
    same kernel (its postprocessing of the draws runs op by op, ~15 s on full_B with 64 chains x 1000)."""
    if driver == "numpyro":
        t = time.perf_counter()
        density = problem.unconstrained()
        mcmc = nuts_mcmc(problem, density, warmup, draws, chains)
        mcmc.run(jax.random.PRNGKey(seed), extra_fields=("diverging", "num_steps"),
                 init_params=nuts_start(problem, density, chains))
        wall = time.perf_counter() - t
        post, ex = mcmc.get_samples(group_by_chain=True), mcmc.get_extra_fields(group_by_chain=True)
    else:
        post, ex, _, wall = engine_run(problem, chains, warmup, draws, seed)
    ess, worst = min_ess(post, problem.diagnosed_names)
    return {"wall_s": wall, "min_ess": ess, "worst": worst, "ess_per_s": ess / wall, "divergences": int(np.asarray(ex["diverging"]).sum()),
            "draws": chains * draws, **leapfrog_steps(ex["num_steps"]), "driver": driver}


def with_metropolis(problem, names: list[str], target_accept: float | None, steps: int | None = None,
                    adapt: bool = True, delayed: list[str] | None = None, max_tree_depth: int | None = None,
                    independence: float | None = None):
    """The problem with ``sampler.metropolis: names``, ``metropolis_adapt: adapt`` and
    ``delayed_acceptance: delayed`` (and ``target_accept``, ``metropolis_steps``, ``max_tree_depth``,
    ``metropolis_independence`` when given)."""
    update = {"metropolis": names, "method": "nuts", "metropolis_adapt": adapt, "delayed_acceptance": list(delayed or [])}
    update |= {"metropolis_independence": independence} if independence is not None else {}
    update |= ({"target_accept": target_accept} if target_accept else {}) | ({"metropolis_steps": steps} if steps else {})
    update |= {"max_tree_depth": max_tree_depth} if max_tree_depth else {}
    return problem.with_config(problem.cfg.model_copy(update={"sampler": problem.cfg.sampler.model_copy(update=update)}))


def wrapped_chain(problem, chain: np.ndarray) -> np.ndarray:
    """An ensemble chain (steps, walkers, sites in sorted order, as ``ravel_pytree``) with every phase on the circle
    wrapped to [-pi, pi): tau is computed on what the NUTS legs' ESS reads (``FitProblem.diagnosed_names``)."""
    chain = np.array(chain)
    circular = {info.site for info in problem.sites.values() if info.transform == "wrap"}
    for j, site in enumerate(sorted(problem.site_names)):
        if site in circular:
            chain[..., j] = np.asarray(wrap_angle(chain[..., j]))
    return chain


def run_emcee(problem, walkers: int, max_steps: int, check_every: int = 1000, stop_at_50_tau: bool = True) -> dict:
    """emcee as ``sampler.method: ensemble`` builds it (:mod:`globalfit.inference.ensemble`: the same density, walkers
    started inside the prior, the config's ``sampler.moves``), until the chain is >= 50 tau long (tau: the largest
    integrated autocorrelation time over parameters) or ``max_steps`` (exactly ``max_steps`` with
    ``stop_at_50_tau=False``); compilation included in the wall time."""
    t = time.perf_counter()
    density = ensemble_density(problem)
    cfg = problem.cfg.model_copy(update={"sampler": problem.cfg.sampler.model_copy(update={"chains": walkers})})
    p0 = initial_walkers(problem.with_config(cfg), density)
    sampler = emcee.EnsembleSampler(walkers, density.ndim, density.log_prob, moves=ensemble_moves(problem.cfg.sampler.moves),
                                    vectorize=True)
    tau, steps = float("nan"), 0
    for _ in sampler.sample(p0, iterations=max_steps, progress=False):
        steps = sampler.iteration
        if steps % check_every == 0:
            tau = float(np.max(sampler.get_autocorr_time(tol=0)))
            if stop_at_50_tau and steps >= 50 * tau:
                break
    wall = time.perf_counter() - t
    tau = float(np.max(emcee.autocorr.integrated_time(wrapped_chain(problem, sampler.get_chain()), tol=0)))
    burn = int(min(steps // 2, 5 * tau))
    n_eff = (steps - burn) * walkers / tau
    return {"wall_s": wall, "steps": steps, "walkers": walkers, "tau": tau, "converged_50tau": steps >= 50 * tau, "min_ess": n_eff,
            "ess_per_s": n_eff / wall, "acceptance": float(np.mean(sampler.acceptance_fraction))}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--config", default=str(ROOT / "runs" / "full_B.yaml"))
    ap.add_argument("--warmup", type=int, default=300)
    ap.add_argument("--draws", type=int, default=300)
    ap.add_argument("--chains", type=int, default=8)
    ap.add_argument("--emcee-max", type=int, default=200_000, help="emcee step cap (stops earlier at 50 tau)")
    ap.add_argument("--emcee-steps", type=int, default=None,
                    help="run emcee exactly this many steps (e.g. a production run's 17,000) instead of stopping at 50 tau")
    ap.add_argument("--walkers", type=int, default=64, help="emcee walkers (the full configs' sampler.chains)")
    ap.add_argument("--live", type=int, help="jaxns live points (default: the config's evidence block)")
    ap.add_argument("--only", default="nuts,nuts_metropolis,nuts_exact,emcee,jaxns")
    ap.add_argument("--metropolis", nargs="+", default=["M_Zp", "M_Psi", "M_H", "g_X", "g_Psi"],
                    help="parameters the nuts_metropolis leg moves by Metropolis steps")
    ap.add_argument("--target-accept", type=float, help="NUTS target acceptance of the nuts_metropolis leg (default: the config's)")
    ap.add_argument("--metropolis-steps", type=int, nargs="+", default=[None], metavar="N",
                    help="Metropolis steps per transition of the nuts_metropolis leg (default: the config's, 50); several "
                         "values run one leg each")
    ap.add_argument("--delayed", nargs="+", default=[], metavar="LIKELIHOOD",
                    help="likelihoods the nuts_metropolis leg applies by delayed acceptance (sampler.delayed_acceptance)")
    ap.add_argument("--max-tree-depth", type=int, nargs="+", default=[None], metavar="D",
                    help="NUTS's max_tree_depth of the nuts_metropolis leg (default: the config's); several values run one "
                         "leg each, side by side")
    ap.add_argument("--metropolis-independence", type=float, nargs="+", default=[None], metavar="S",
                    help="share of independence proposals of the nuts_metropolis leg (sampler.metropolis_independence; "
                         "default: the config's); several values run one leg each")
    ap.add_argument("--metropolis-adapt", choices=["on", "off"], default="on",
                    help="learn the local Metropolis step in warm-up (sampler.metropolis_adapt; default on)")
    ap.add_argument("--driver", choices=["engine", "numpyro"], default="engine",
                    help="NUTS legs: globalfit's run engine (default) or numpyro's MCMC.run (before 2026-12-05, session 37)")
    ap.add_argument("--compilation-cache", metavar="DIR",
                    help="JAX's persistent compilation cache in DIR (globalfit.enable_compilation_cache), for both legs; default off")
    ap.add_argument("--json", help="write the figures to this file")
    args = ap.parse_args()
    if args.compilation_cache:
        enable_compilation_cache(Path(args.compilation_cache))
    which = args.only.split(",")
    problem = load_problem(args.config)
    res: dict = {"config": args.config, "sites": len(problem.sites), "likelihoods": len(problem.likelihoods), "device": str(jax.devices()[0]),
                 "cpu_count": os.cpu_count(), "compilation_cache": args.compilation_cache, "load_before": os.getloadavg()}
    print(f"config {args.config}: {len(problem.sites)} sampled parameters, {len(problem.likelihoods)} likelihoods; device {jax.devices()[0]}; "
          f"{os.cpu_count()} CPU cores visible; load average {os.getloadavg()[0]:.1f}")
    density = problem.unconstrained()
    flat0, unravel = jax.flatten_util.ravel_pytree(density.unconstrain(problem.start_sites(refs_only=True)))
    vg = jax.jit(jax.value_and_grad(lambda x: -density.potential(unravel(x))))
    t = time.perf_counter(); vg(flat0)[0].block_until_ready(); compile_s = time.perf_counter() - t
    n = 200
    t = time.perf_counter()
    for _ in range(n):
        v, g = vg(flat0)
    g.block_until_ready()
    per = (time.perf_counter() - t) / n
    print(f"log-density + gradient: {per * 1e3:.3f} ms per evaluation (jit compile {compile_s:.1f} s)")
    batch = 1024
    xs = flat0 + 0.01 * jax.random.normal(jax.random.PRNGKey(1), (batch, flat0.size))
    bvg = jax.jit(jax.vmap(jax.value_and_grad(lambda x: -density.potential(unravel(x)))))
    bvg(xs)[0].block_until_ready()
    t = time.perf_counter()
    for _ in range(5):
        out = bvg(xs)
    out[0].block_until_ready()
    thr = 5 * batch / (time.perf_counter() - t)
    print(f"vmap batch {batch}: {thr:,.0f} log-density+gradient evaluations/s ({1e3 / thr * batch / batch:.4f} ms each)")

    res["single_ms"], res["batched_per_s"], res["compile_s"] = per * 1e3, thr, compile_s
    if "nuts" in which:
        r = res["nuts"] = run_nuts(problem, args.chains, args.warmup, args.draws, driver=args.driver)
        print(f"NUTS (tables): {args.chains} chains x ({args.warmup} + {args.draws}) in {r['wall_s']:.1f} s; min bulk-ESS {r['min_ess']:.0f} "
              f"({r['worst']}) -> {r['ess_per_s']:.2f} min-ESS/s; {r['divergences']} divergences; {r['steps_per_draw']:.0f} steps/draw")
    if "nuts_metropolis" in which:
        for steps, depth, ind in itertools.product(args.metropolis_steps, args.max_tree_depth, args.metropolis_independence):
            leg = "nuts_metropolis" + (f"_steps{steps}" if len(args.metropolis_steps) > 1 else "") + (
                f"_depth{depth}" if len(args.max_tree_depth) > 1 else "") + (
                f"_independence{ind:g}" if len(args.metropolis_independence) > 1 else "")
            mw = with_metropolis(problem, args.metropolis, args.target_accept, steps,
                                 args.metropolis_adapt == "on", args.delayed, depth, ind)
            r = res[leg] = run_nuts(mw, args.chains, args.warmup, args.draws, driver=args.driver)
            s = mw.cfg.sampler
            r["metropolis"], r["target_accept"], r["metropolis_steps"] = args.metropolis, s.target_accept, s.metropolis_steps
            r["metropolis_adapt"], r["delayed_acceptance"], r["max_tree_depth"] = s.metropolis_adapt, s.delayed_acceptance, s.max_tree_depth
            r["metropolis_independence"] = s.metropolis_independence
            print(f"NUTS + Metropolis on {', '.join(args.metropolis)} (target_accept {s.target_accept}, max_tree_depth "
                  f"{s.max_tree_depth}, {s.metropolis_steps} steps, adapted: {args.metropolis_adapt}, independence share "
                  f"{s.metropolis_independence:g}; delayed acceptance of "
                  f"{', '.join(s.delayed_acceptance) or 'none'}): {args.chains} chains x "
                  f"({args.warmup} + {args.draws}) in {r['wall_s']:.1f} s; min bulk-ESS {r['min_ess']:.0f} ({r['worst']}) -> "
                  f"{r['ess_per_s']:.2f} min-ESS/s; {r['divergences']} divergences; {r['steps_per_draw']:.0f} steps/draw, "
                  f"{r['max_steps_per_transition']:.0f} for the longest chain of a transition")
    if "nuts_exact" in which:
        exact, names = exact_rates(args.config)
        r = res["nuts_exact"] = run_nuts(exact, args.chains, args.warmup, args.draws, driver=args.driver)
        print(f"NUTS (direct integration: {', '.join(names)}): {r['wall_s']:.1f} s; min bulk-ESS {r['min_ess']:.0f} -> {r['ess_per_s']:.2f} "
              f"min-ESS/s; {r['divergences']} divergences; {r['steps_per_draw']:.0f} steps/draw")
    if "emcee" in which:
        r = res["emcee"] = run_emcee(problem, args.walkers, args.emcee_steps or args.emcee_max,
                                     stop_at_50_tau=args.emcee_steps is None)
        print(f"emcee: {r['walkers']} walkers x {r['steps']} steps in {r['wall_s']:.1f} s; tau {r['tau']:.0f} "
              f"({'>= 50 tau' if r['converged_50tau'] else 'stopped at the cap, < 50 tau'}) -> min-ESS ~{r['min_ess']:.0f} -> "
              f"{r['ess_per_s']:.2f} min-ESS/s; acceptance {r['acceptance']:.2f}")
    if "jaxns" in which:
        ns = nested_sampling(problem, live_points=args.live)
        r = res["jaxns"] = {"wall_s": ns["seconds"], "min_ess": ns["ess"], "ess_per_s": ns["ess"] / ns["seconds"], "evals": ns["n_likelihood_evals"],
                            "converged": ns["converged"]}
        print(f"jaxns: {ns['live_points']} live points, {ns['n_likelihood_evals']} likelihood evaluations in {ns['seconds']:.1f} s; "
              f"ESS {ns['ess']:.0f} -> {r['ess_per_s']:.2f} ESS/s{'' if ns['converged'] else ' (stopped at max_samples)'}")
    for leg in [k for k in res if k == "nuts" or k.startswith("nuts_metropolis")]:
        if "emcee" in which:
            print(f"{leg} / emcee min-ESS/s: {res[leg]['ess_per_s'] / res['emcee']['ess_per_s']:.2f}")
    finish(res, args.json)


if __name__ == "__main__":
    main()
