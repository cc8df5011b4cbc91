"""NaN/inf sweep of the log-density and its gradient (globalfit.problem.box_scan) at 1e6 points per prior box: every
shipped full config (runs/full_*.yaml, its own box) and the widest box of each scenario (every parameter over its whole
physical range, with every likelihood that applies: a joint likelihood in place of those it combines, which the
tests sweep each alone). Interior, corners, edges and the masses where a digitised table
or a kinematic threshold changes a likelihood, a quarter each.

    /work/venv/bin/python bench/bench_nan_sweep.py [--points 1000000] [--batch 4096] [--only full_B,widest_B-L]

Prints one line per box (points, outside the support, NaN values, inf values inside the support, non-finite
gradients, value-and-gradient evaluations per second, sweep and compile seconds) and exits 1 if any box has a defect,
printing up to 10 offending points.
Results: docs/performance.md.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import globalfit  # noqa: F401  (float64)
import jax

from globalfit.physics.scenarios import SCENARIOS
from globalfit.problem import load_problem
from globalfit.problem.box_scan import sweep, sweep_kernel, sweep_points, widest_problem
from likelihoods import default_likelihoods

ROOT = Path(__file__).resolve().parent.parent


def boxes() -> dict:
    """name -> zero-argument builder of the fit problem."""
    out = {}
    for path in sorted((ROOT / "runs").glob("full_*.yaml")):
        out[path.stem] = lambda path=path: load_problem(path)
    for sc in SCENARIOS:
        lks = default_likelihoods(sc)
        out[f"widest_{sc}"] = lambda sc=sc, lks=lks: widest_problem(sc, lks)
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--points", type=int, default=1_000_000)
    ap.add_argument("--batch", type=int, default=4096)
    ap.add_argument("--only", help="comma-separated box names (default: all)")
    args = ap.parse_args()
    todo = boxes()
    if args.only:
        todo = {k: v for k, v in todo.items() if k in args.only.split(",")}
    print(f"# {args.points} points per box, batches of {args.batch}; {jax.devices()[0].platform}, "
          f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}", flush=True)
    print(f"{'box':<18s} {'points':>9s} {'outside':>9s} {'NaN':>5s} {'inf in':>6s} {'bad grad':>8s} {'eval/s':>8s} {'s':>7s} {'compile s':>9s}", flush=True)
    failed = False
    for name, build in todo.items():
        problem = build()
        z = sweep_points(problem, args.points, seed=0)
        kernel = sweep_kernel(problem)
        t0 = time.perf_counter()
        sweep(problem, z[: args.batch], batch=args.batch, kernel=kernel)  # compiles (timed apart)
        compile_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        r = sweep(problem, z, batch=args.batch, kernel=kernel)
        seconds = time.perf_counter() - t0
        print(f"{name:<18s} {r.points:>9d} {r.outside_support:>9d} {r.nan_value:>5d} {r.inf_value_inside:>6d} {r.bad_gradient:>8d} "
              f"{r.points / seconds:>8.0f} {seconds:>7.0f} {compile_s:>9.0f}", flush=True)
        for d in r.defects:
            print("   ", d)
        failed |= not r.ok
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
