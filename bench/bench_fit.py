"""Benchmark of the full U(1)_B posterior (runs/full_B.yaml): one log-density + gradient (jit, after warm-up),
batched throughput with vmap, NUTS min-ESS/s over all sampled parameters, and emcee on the same posterior.

    /work/venv/bin/python bench/bench_fit.py [--config runs/full_B.yaml] [--warmup 300] [--draws 300]

Not part of the test suite (needs `pip install emcee`). Results: docs/performance.md.
"""

from __future__ import annotations

import argparse
import os
import time
import warnings
from pathlib import Path

import globalfit  # noqa: F401  (float64)
import jax
import jax.numpy as jnp
import numpy as np
from numpyro.infer import MCMC, init_to_value
from numpyro.infer.util import initialize_model

from globalfit.problem import load_problem
from globalfit.inference.nuts import nuts_kernel

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


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--config", default=str(ROOT / "runs" / "full_B.yaml"))
    ap.add_argument("--warmup", type=int, default=300)
    ap.add_argument("--draws", type=int, default=300)
    ap.add_argument("--chains", type=int, default=2)
    ap.add_argument("--emcee-steps", type=int, default=3000)
    args = ap.parse_args()
    problem = load_problem(args.config)
    print(f"config {args.config}: {len(problem.sites)} sampled parameters, {len(problem.likelihoods)} likelihoods; device {jax.devices()[0]}; "
          f"{os.cpu_count()} CPU cores visible")

    info = initialize_model(jax.random.PRNGKey(0), problem.numpyro_model(), init_strategy=init_to_value(values=problem.start_sites(refs_only=True)))
    pot = info.potential_fn
    z0 = info.param_info.z
    flat0, unravel = jax.flatten_util.ravel_pytree(z0)
    logp = jax.jit(lambda x: -pot(unravel(x)))
    vg = jax.jit(jax.value_and_grad(lambda x: -pot(unravel(x))))
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
    bvg = jax.jit(jax.vmap(jax.value_and_grad(lambda x: -pot(unravel(x)))))
    bvg(xs)[0].block_until_ready()
    t = time.perf_counter()
    for _ in range(5):
        out = bvg(xs)
    out[0].block_until_ready()
    thr = 5 * batch / (time.perf_counter() - t)
    print(f"vmap batch {batch}: {thr:,.0f} log-density+gradient evaluations/s ({1e3 / thr * batch / batch:.4f} ms each)")

    sites = problem.site_names
    mcmc = MCMC(nuts_kernel(problem),
                num_warmup=args.warmup, num_samples=args.draws, num_chains=args.chains, chain_method="vectorized", progress_bar=False)
    t = time.perf_counter()
    mcmc.run(jax.random.PRNGKey(2))
    nuts_s = time.perf_counter() - t
    s = mcmc.get_samples(group_by_chain=True)
    ess, worst = min_ess(s, sites)
    ndiv = int(np.asarray(mcmc.get_extra_fields()["diverging"]).sum())
    print(f"NUTS: {args.chains} chains x ({args.warmup} warm-up + {args.draws} draws) in {nuts_s:.1f} s (incl. compile); "
          f"min bulk-ESS {ess:.0f} ({worst}) -> {ess / nuts_s:.2f} min-ESS/s; {ndiv} divergences")

    try:
        import emcee
    except ImportError:
        print("emcee not installed: skipped (pip install emcee)")
        return
    nwalk = max(2 * flat0.size + 2, 32)
    p0 = np.asarray(flat0) + 1e-3 * np.random.default_rng(0).standard_normal((nwalk, flat0.size))
    blogp = jax.jit(jax.vmap(logp))

    def lp(x):
        v = np.asarray(blogp(jnp.asarray(x)))
        return np.where(np.isfinite(v), v, -np.inf)

    lp(p0)
    sampler = emcee.EnsembleSampler(nwalk, flat0.size, lp, vectorize=True)
    t = time.perf_counter()
    sampler.run_mcmc(p0, args.emcee_steps, progress=False)
    em_s = time.perf_counter() - t
    chain = sampler.get_chain(discard=args.emcee_steps // 2)  # (steps, walkers, dim)
    try:
        tau = float(np.max(sampler.get_autocorr_time(discard=args.emcee_steps // 2, quiet=True)))
    except Exception:
        tau = float("nan")
    n_eff = chain.shape[0] * chain.shape[1] / tau if np.isfinite(tau) and tau > 0 else float("nan")
    print(f"emcee: {nwalk} walkers x {args.emcee_steps} steps in {em_s:.1f} s; max integrated autocorrelation time {tau:.0f} steps "
          f"(unreliable if > steps/50) -> min-ESS ~{n_eff:.0f} over the second half -> {n_eff / em_s:.2f} min-ESS/s; "
          f"acceptance {np.mean(sampler.acceptance_fraction):.2f}")


if __name__ == "__main__":
    main()
