"""What one XLA CPU thunk costs, and how many a single-point log-density runs (docs/performance.md, "What a single
point costs").

XLA's CPU runtime runs a compiled program as thunks (one per fusion or unfused op). It executes them in order on the
calling thread when every buffer is <= 512 bytes (or there are <= 8 thunks), otherwise as a concurrent graph. Two toy
programs of ``--thunks`` scalar steps (exp, a 3-vector sum, log: one thunk each) tell the two modes apart: one whose
buffers are all small (sequential mode), one that also reads an 8 kB constant (concurrent mode). Then the value and
gradient of ``FitProblem.log_density`` of a config at its start point: thunks and time per call. Best of 7 rounds.

    PYTHONPATH=. python bench/thunk_cost.py [runs/full_B.yaml] [--thunks 200]
    taskset -c 0 env PYTHONPATH=. python bench/thunk_cost.py ...      # the same on one core
    PYTHONPATH=. python bench/thunk_cost.py --parts                   # the log-density's thunks by part, no timing

``--parts`` compiles the log-density with each likelihood, the model's observables and the rate stack under a
``jax.named_scope`` of their own and counts the thunks whose operation carries each name (the rest: the prior, the
parametrisation, the sum and what XLA fused across parts).
"""

from __future__ import annotations

import argparse
import collections
import functools
import os
import re
import sys
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from globalfit.problem import fitproblem, load_problem  # noqa: E402
from benchio import best_time, finish  # noqa: E402

_NOT_THUNKS = ("parameter", "constant", "get-tuple-element", "tuple", "bitcast")


def thunk_count(compiled) -> int:
    """Instructions of the compiled entry computation that run as thunks."""
    entry = compiled.as_text().split("\nENTRY")[1].split("\n}")[0]
    ops = re.findall(r"= \S+ (\S+?)\(", entry)
    return sum(op not in _NOT_THUNKS for op in ops)


def toy(n_steps: int, big_constant: bool):
    """A chain of n_steps scalar steps that XLA cannot fuse together (a reduction ends each)."""
    table = jnp.asarray(np.linspace(0.0, 1.0, 1000))  # 8 kB: forces the concurrent executor
    offsets = jnp.arange(3.0)

    def f(x):
        acc = x
        for _ in range(n_steps):
            acc = 0.5 * jnp.log(jnp.sum(jnp.exp(0.1 * acc + offsets) ** 2))
        if big_constant:
            acc = acc + table[jnp.clip((10 * x).astype(int), 0, 999)]
        return acc

    return f


def _scoped(name: str, f):
    @functools.wraps(f)
    def g(*a, **k):
        with jax.named_scope("part_" + name):
            return f(*a, **k)
    return g


def density_program(problem):
    """The compiled value and gradient of ``problem.log_density`` at its start point, and that point."""
    z0 = problem.start_sites(refs_only=True)
    sites = list(z0)
    x0 = jnp.asarray([z0[s] for s in sites])
    density = jax.value_and_grad(lambda v: problem.log_density({s: v[i] for i, s in enumerate(sites)}))
    return jax.jit(density).lower(x0).compile(), x0


def thunks_by_part(config: str) -> collections.Counter:
    """Thunks of the value and gradient of the config's log-density, by part (module doc, ``--parts``)."""
    problem = load_problem(config)
    for lk in problem.likelihoods:
        object.__setattr__(lk, "loglike", _scoped(lk.name, lk.loglike))
    if problem.rates is not None:
        object.__setattr__(problem.rates, "provide", _scoped("rates", problem.rates.provide))
    model = fitproblem.observables
    fitproblem.observables = _scoped("model", model)
    try:
        compiled, _ = density_program(problem)
    finally:
        fitproblem.observables = model
    entry = compiled.as_text().split("\nENTRY")[1].split("\n}")[0]
    parts = collections.Counter()
    for line in entry.splitlines():
        op = re.search(r"= \S+ (\S+?)\(", line)
        if op and op.group(1) not in _NOT_THUNKS:
            name = re.search(r"part_([\w\-]+)", line)
            parts[name.group(1) if name else "(rest)"] += 1
    return parts


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("config", nargs="?", default=str(ROOT / "runs/full_B.yaml"))
    ap.add_argument("--thunks", type=int, default=200, help="steps of the toy programs")
    ap.add_argument("--json", default=None)
    ap.add_argument("--parts", action="store_true", help="count the log-density's thunks by part instead")
    args = ap.parse_args()
    load = os.getloadavg()
    if args.parts:
        parts = thunks_by_part(args.config)
        print(f"{Path(args.config).name}: {sum(parts.values())} thunks\n| part | thunks |\n| --- | --- |")
        for name, n in parts.most_common():
            print(f"| {name} | {n} |")
        finish({"config": args.config, "parts": dict(parts), "load_before": load}, args.json)
        return
    res: dict = {"load_before": load, "cores": len(os.sched_getaffinity(0))}
    print(f"{res['cores']} core(s) available to this process")
    print("| program | thunks | µs per call | µs per thunk |\n| --- | --- | --- | --- |")
    x = jnp.float64(0.3)
    for big in (False, True):
        compiled = jax.jit(toy(args.thunks, big)).lower(x).compile()
        n, t = thunk_count(compiled), best_time(compiled, x, 7, 500)
        label = "toy, one 8 kB constant (concurrent)" if big else "toy, small buffers (sequential)"
        res[label] = {"thunks": n, "us": t * 1e6}
        print(f"| {label} | {n} | {t * 1e6:.1f} | {t * 1e6 / n:.2f} |")
    compiled, x0 = density_program(load_problem(args.config))
    n, t = thunk_count(compiled), best_time(compiled, x0, 7, 300)
    label = f"{Path(args.config).name}: value + gradient, one point"
    res[label] = {"thunks": n, "us": t * 1e6}
    print(f"| {label} | {n} | {t * 1e6:.1f} | {t * 1e6 / n:.2f} |")
    finish(res, args.json)


if __name__ == "__main__":
    main()
