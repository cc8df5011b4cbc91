"""Tracing and compiling a cold NUTS run's programs, as built and as before (docs/performance.md, "Tracing the NUTS
chunk").

A cold NUTS run traces and compiles two large programs: the start's value and gradient over the chains (``nuts_start``)
and the chunks' scan of NUTS transitions (``nuts._chunk_runner``), plus the recorded quantities of the draws
(``nuts._recorder``). This script times, in the order ``sample_run`` does them: the chunk's trace, its lowering and its
XLA compile; the start's trace of the vmapped value and gradient; the recorder's trace and compile. Variants:

- ``--unjitted``: the kernel's potential without its ``jax.jit`` (``FitProblem.unconstrained`` wraps it), as before
  2026-12-05: JAX then batches the potential's whole jaxpr again in every pass over NUTS's while-loops.
- ``--record-in-chunk``: the recorded quantities computed inside the chunk's scan (as before 2026-12-05).
- ``--plain-sum``: numpyro's potential as it is, its value not passed through ``fitproblem.materialised`` (as before
  session 38); XLA then copies the log-density's last sum into each consumer of the value.
- ``--time-chunks N``: also run the compiled chunk N times from a real start (``nuts_start``) and print the best time
  per transition.

The kernel is the run's (``nuts.nuts_kernel``): a config with ``sampler.metropolis`` gets NUTS with Metropolis moves.

    PYTHONPATH=. python bench/nuts_chunk_trace.py [runs/full_B.yaml] [--chains 4] [--unjitted] [--record-in-chunk]
        [--plain-sum] [--time-chunks 3]
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
import time
from pathlib import Path

import jax
from jax import lax

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from globalfit.inference import nuts as N  # noqa: E402
from globalfit.problem import load_problem  # noqa: E402


def record_in_chunk(kernel, post, chains: int):
    """The chunk runner as it was: the recorded quantities of every transition inside the compiled scan."""

    def run(state, n):
        def body(st, _):
            st = kernel.sample(st, (), {})
            return st, st.z

        last, zs = lax.scan(body, state, None, length=n)
        return last, jax.vmap(jax.vmap(post))(zs)

    return jax.jit(run, static_argnums=1)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("config", nargs="?", default=str(ROOT / "runs" / "full_B.yaml"))
    ap.add_argument("--chains", type=int, default=4)
    ap.add_argument("--length", type=int, default=20, help="transitions per chunk")
    ap.add_argument("--unjitted", action="store_true")
    ap.add_argument("--record-in-chunk", action="store_true")
    ap.add_argument("--plain-sum", action="store_true")
    ap.add_argument("--time-chunks", type=int, default=0)
    a = ap.parse_args()
    problem = load_problem(a.config)
    density = problem.unconstrained(plain_sum=a.plain_sum)
    potential = density.potential.__wrapped__ if a.unjitted else density.potential
    kernel = N.nuts_kernel(problem, dataclasses.replace(density, potential=potential))
    runner = (record_in_chunk(kernel, density.postprocess, a.chains) if a.record_in_chunk
              else N._chunk_runner(kernel, a.chains, "vectorized", a.length).compiled)
    extra = () if a.record_in_chunk else (a.length,)  # the chunk's length: static in the old runner, an argument now
    shaped = N.start_shaped(density, a.chains)
    state = N._init_shapes(kernel, jax.random.split(jax.random.PRNGKey(0), a.chains), 20, shaped, True)  # as sample_run
    print(f"# {a.config}, {a.chains} chains, chunks of {a.length}; potential {'unjitted' if a.unjitted else 'jitted'}, "
          f"{'plain sum' if a.plain_sum else 'materialised'}; recorded quantities "
          f"{'in the chunk' if a.record_in_chunk else 'apart'}; Metropolis sites: {problem.cfg.sampler.metropolis or 'none'}")
    t0 = time.perf_counter()
    traced = runner.trace(state, a.length)
    t1 = time.perf_counter()
    lowered = traced.lower()
    t2 = time.perf_counter()
    lowered.compile()
    t3 = time.perf_counter()
    print(f"chunk: trace {t1 - t0:.2f} s, lower {t2 - t1:.2f} s, XLA compile {t3 - t2:.2f} s")
    t0 = time.perf_counter()
    jax.jit(jax.vmap(jax.value_and_grad(potential))).trace(shaped.z)
    print(f"start's value and gradient over the chains: trace {time.perf_counter() - t0:.2f} s")
    if not a.record_in_chunk:
        record = N._recorder(density.postprocess, a.length)
        t0 = time.perf_counter()
        low = record.compiled.lower(N.draws_shaped(shaped, a.chains, a.length))
        t1 = time.perf_counter()
        low.compile()
        print(f"recorder: trace + lower {t1 - t0:.2f} s, XLA compile {time.perf_counter() - t1:.2f} s")
    if a.time_chunks:
        compiled = lowered.compile()
        start = N.nuts_start(problem, density, a.chains)
        fresh = N.nuts_kernel(problem, density)
        st = N._init_chains(fresh, jax.random.split(jax.random.PRNGKey(0), a.chains), 20, N.own_start(fresh, start), True)
        best = float("inf")
        for _ in range(a.time_chunks):
            t0 = time.perf_counter()
            jax.block_until_ready(compiled(st, *extra))
            best = min(best, time.perf_counter() - t0)
        print(f"chunk run: best of {a.time_chunks}, {1e3 * best / a.length:.2f} ms per transition ({a.chains} chains)")


if __name__ == "__main__":
    main()
