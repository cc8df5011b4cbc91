"""Where the log-density's time goes: value + gradient of the fit problem with all its likelihoods, with none (prior and
parameter map only), and with each likelihood alone, single point (jit) and batched (vmap 1024), with compile times;
and the value alone at a batch of 64 (the form the Metropolis steps of NUTS within Metropolis call, 64 chains).
(docs/performance.md, "Cost by likelihood")

    PYTHONPATH=. python bench/likelihood_cost.py [runs/full_B.yaml]

Each alone includes the model observables that likelihood reads (the couplings, NSI, rates), which the full density
computes once for all; so the single costs add up to more than the whole.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import jax
import jax.numpy as jnp

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from globalfit.problem import load_problem  # noqa: E402
from benchio import best_time  # noqa: E402  (bench/ is on sys.path)


def cost(problem, sites: list[str], x0: jax.Array) -> tuple[float, float, float, float]:
    """(single value + gradient in µs, batched µs per point (vmap 1024), compile s, value at a batch of 64 in µs per
    call); the single and batch-64 times are the best of 5 rounds of 100 calls."""
    f = lambda x: problem.log_density({s: x[i] for i, s in enumerate(sites)})  # noqa: E731
    vg = jax.jit(jax.value_and_grad(f))
    t = time.perf_counter()
    vg(x0)[0].block_until_ready()
    compile_s = time.perf_counter() - t
    single = best_time(vg, x0, rounds=5, n=100) * 1e6
    xs = x0 + 0.01 * jax.random.normal(jax.random.PRNGKey(1), (1024, x0.size))
    bvg = jax.jit(jax.vmap(jax.value_and_grad(f)))
    bvg(xs)[0].block_until_ready()
    t = time.perf_counter()
    for _ in range(5):
        out = bvg(xs)
    out[0].block_until_ready()
    batched = (time.perf_counter() - t) / (5 * 1024) * 1e6
    v64 = jax.jit(jax.vmap(f))
    x64 = xs[:64]
    v64(x64).block_until_ready()
    return single, batched, compile_s, best_time(v64, x64, rounds=5, n=100) * 1e6



def main() -> None:
    problem = load_problem(sys.argv[1] if len(sys.argv) > 1 else ROOT / "runs" / "full_B.yaml")
    z0 = problem.start_sites(refs_only=True)
    sites = list(z0)
    x0 = jnp.asarray([z0[s] for s in sites])
    rows = [("all", problem), ("none (prior and parameter map)", problem.with_likelihoods(()))]
    rows += [(lk.name, problem.with_likelihoods([lk])) for lk in problem.likelihoods]
    print("| likelihoods | single value + gradient (µs) | batched, vmap 1024 (µs per point) | compile (s) | value, vmap 64 (µs per call) |\n"
          "| --- | --- | --- | --- | --- |")
    for label, prob in rows:
        single, batched, compile_s, v64 = cost(prob, sites, x0)
        print(f"| {label} | {single:.0f} | {batched:.2f} | {compile_s:.1f} | {v64:.0f} |", flush=True)


if __name__ == "__main__":
    main()
