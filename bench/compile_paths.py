"""Compile time of the log-densities a fit compiles, side by side (docs/performance.md, "Compile time: which density").

A NUTS fit compiles numpyro's potential (the unconstrained-space density of ``FitProblem.numpyro_model``, built by
``FitProblem.unconstrained``: one factor per likelihood), value and gradient; the profile maps compile the value and
gradient of ``FitProblem.log_density`` (the same posterior on the sample sites), single point or vmapped. (The
ensemble sampler compiles the potential's value only: bench/setup_paths.py.) They hold the same likelihood code, yet XLA compiles them
differently. For each: tracing + lowering time, XLA compile time, the number of fusions of the compiled module and
the size (instructions) of its largest fusion, and the time per point of the compiled function (best of 5 rounds), in
the order given (``--order``, to check that the order does not matter). The header names the XLA flags in force:
``GLOBALFIT_XLA_FLAGS=off`` runs without the package's CPU compile flags (``globalfit._jax.CPU_COMPILE_FLAGS``).

    PYTHONPATH=. python bench/compile_paths.py [runs/full_B.yaml] [--order potential,density,batched,potential_batched]
    GLOBALFIT_XLA_FLAGS=off PYTHONPATH=. python bench/compile_paths.py ...      # XLA's default CPU emitters
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import time
from pathlib import Path

import jax
import jax.numpy as jnp
from jax.flatten_util import ravel_pytree

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from globalfit.problem import load_problem  # noqa: E402
from benchio import best_time  # noqa: E402


def fusion_sizes(hlo_text: str) -> list[int]:
    """Instruction counts of the fused computations of a compiled HLO module, largest first."""
    sizes = [len(block.strip().splitlines()) for block in re.split(r"\n\n", hlo_text)
             if block.strip().startswith("%fused_computation")]
    return sorted(sizes, reverse=True)


def per_call(compiled, arg, rounds: int = 5, target_s: float = 0.3) -> float:
    """Seconds per call of ``compiled(arg)``, best of ``rounds`` rounds of ~``target_s`` each."""
    jax.block_until_ready(compiled(arg))
    t = time.perf_counter()
    jax.block_until_ready(compiled(arg))
    return best_time(compiled, arg, rounds, max(1, int(target_s / max(time.perf_counter() - t, 1e-6))))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("config", nargs="?", default=str(ROOT / "runs" / "full_B.yaml"))
    ap.add_argument("--order", default="potential,density,batched")
    ap.add_argument("--batch", type=int, default=1024)
    args = ap.parse_args()
    problem = load_problem(args.config)
    z0 = problem.start_sites()
    x0 = jnp.asarray([z0[s] for s in problem.site_names])
    density = problem.unconstrained()
    flat0, unravel = ravel_pytree(density.unconstrain(problem.start_sites(refs_only=True)))
    paths = {
        "potential": (jax.value_and_grad(lambda u: -density.potential(unravel(u))), flat0),
        "density": (jax.value_and_grad(problem.log_density), x0),
        "batched": (jax.vmap(jax.value_and_grad(problem.log_density)), jnp.broadcast_to(x0, (args.batch, x0.size))),
        "potential_batched": (jax.vmap(jax.value_and_grad(lambda u: -density.potential(unravel(u)))),
                              jnp.broadcast_to(flat0, (args.batch, flat0.size))),
    }
    print(f"# {args.config}: {len(problem.site_names)} sites, {len(problem.likelihoods)} likelihoods; "
          f"{jax.default_backend()}, {os.cpu_count()} CPUs, load {os.getloadavg()[0]:.1f}; XLA_FLAGS={os.environ.get('XLA_FLAGS', '')!r}")
    print("| density | trace + lower (s) | XLA compile (s) | fusions | largest fusion (instructions) | µs per point |")
    print("| --- | --- | --- | --- | --- | --- |")
    for name in args.order.split(","):
        fn, arg = paths[name]
        t0 = time.perf_counter()
        lowered = jax.jit(fn).lower(arg)
        t1 = time.perf_counter()
        compiled = lowered.compile()
        t2 = time.perf_counter()
        sizes = fusion_sizes(compiled.as_text())
        print(f"| {name} | {t1 - t0:.1f} | {t2 - t1:.1f} | {len(sizes)} | {sizes[0] if sizes else 0} | "
              f"{1e6 * per_call(compiled, arg) / (arg.shape[0] if arg.ndim > 1 else 1):.1f} |", flush=True)


if __name__ == "__main__":
    main()
