"""Neighbour passes of the profile map (``polish``): how much do they widen the reach, and can fewer starts and steps
plus passes replace the old default? (docs/performance.md, "Neighbour passes")

    PYTHONPATH=. python bench/profile_polish.py [--config runs/full_B.yaml] [--grid 32] [--rows-per-task 4]
        [--cheap 2 100] [--json F]

In one process: the map at ``--cheap`` (starts, steps) with 0, 1 and 2 neighbour passes and at 4 starts x 200 steps with
0 and 1 (each pass continues from the previous one, as ``profile_map(..., polish=k)`` does), then every pair compared
cell by cell: the share of cells whose verdict at -2 Delta ln L = 2.71 agrees, and for the reach q_max (log10, threshold
2.71, where both maps define it) the median difference, the median |difference|, and the shares of cells where the
second map reaches > 0.1 decades further or less far. Each reach is an exact value at a point within the threshold, so
a larger reach is a better (multi-start) optimum. Wall times include one compilation per (steps, block size).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from globalfit.inference.profile import (ProfileSettings, assemble_profile, neighbours, profile_plan, profile_polish,  # noqa: E402
                                         profile_reference, profile_stage1, profile_stage2)
from globalfit.problem import load_problem  # noqa: E402


def passes(problem, grid: int, starts: int, steps: int, n_passes: int, rows_per_task: int) -> tuple[dict, dict]:
    """The maps after stage 2 and after each neighbour pass, and the wall time of each."""
    plan = profile_plan(problem, ProfileSettings.make(grid, starts=starts, steps=steps, rows_per_task=rows_per_task))
    maps, secs = {}, {}
    t = time.time()
    s1 = [profile_stage1(plan, b) for b in plan.blocks]
    ref = profile_reference(s1)
    res = [profile_stage2(plan, b, s, ref) for b, s in zip(plan.blocks, s1)]
    secs[0], maps[0] = time.time() - t, assemble_profile(plan, res, ref, 0.0)
    for k in range(1, n_passes + 1):
        t = time.time()
        res = [profile_polish(plan, b, res[i], *neighbours(res, i), ref) for i, b in enumerate(plan.blocks)]
        secs[k], maps[k] = time.time() - t, assemble_profile(plan, res, ref, 0.0)
    return maps, secs


def compare(a, b) -> dict:
    """Map b against map a, cell by cell (see the module docstring)."""
    qa, qb = a.q_max[0, 0], b.q_max[0, 0]
    both = np.isfinite(qa) & np.isfinite(qb) & (qa > 0) & (qb > 0)
    d = np.log10(qb[both]) - np.log10(qa[both])
    return {"verdict_agrees": float(np.mean(a.allowed() == b.allowed())), "median_dlog10_q": float(np.median(d)),
            "median_abs_dlog10_q": float(np.median(np.abs(d))), "share_further": float(np.mean(d > 0.1)), "share_shorter": float(np.mean(d < -0.1)),
            "defined_in_a_only": int(np.sum(np.isfinite(qa) & ~np.isfinite(qb))), "defined_in_b_only": int(np.sum(~np.isfinite(qa) & np.isfinite(qb)))}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--config", default=str(ROOT / "runs" / "full_B.yaml"))
    ap.add_argument("--grid", type=int, default=32)
    ap.add_argument("--rows-per-task", type=int, default=4)
    ap.add_argument("--cheap", type=int, nargs=2, default=[2, 100], metavar=("STARTS", "STEPS"))
    ap.add_argument("--json")
    args = ap.parse_args()
    problem = load_problem(args.config)
    res: dict = {"config": args.config, "grid": args.grid, "load_before": os.getloadavg()}
    cheap, t_cheap = passes(problem, args.grid, *args.cheap, 2, args.rows_per_task)
    full, t_full = passes(problem, args.grid, 4, 200, 1, args.rows_per_task)
    label = lambda s, k: f"{s} +{k} pass{'es' if k != 1 else ''}"  # noqa: E731
    c = f"{args.cheap[0]}x{args.cheap[1]}"
    maps = {label(c, k): m for k, m in cheap.items()} | {label("4x200", k): m for k, m in full.items()}
    res["wall_s"] = {label(c, k): s for k, s in t_cheap.items()} | {label("4x200", k): s for k, s in t_full.items()}
    for k, s in res["wall_s"].items():
        print(f"{k}: {s:.0f} s", flush=True)
    pairs = [("4x200 +0 passes", "4x200 +1 pass")] + [("4x200 +0 passes", label(c, k)) for k in (0, 1, 2)] + [("4x200 +1 pass", label(c, k)) for k in (1, 2)]
    res["compare"] = {}
    for a, b in pairs:
        r = res["compare"][f"{b} vs {a}"] = compare(maps[a], maps[b])
        print(f"{b} vs {a}: verdict agrees {100 * r['verdict_agrees']:.1f} %; reach: median {r['median_dlog10_q']:+.3f} dec, median |d| "
              f"{r['median_abs_dlog10_q']:.3f} dec, further in {100 * r['share_further']:.1f} %, shorter in {100 * r['share_shorter']:.1f} % of cells "
              f"(> 0.1 dec); defined only in the first {r['defined_in_a_only']}, only in the second {r['defined_in_b_only']}", flush=True)
    res["load_after"] = os.getloadavg()
    print(f"load {res['load_before'][0]:.1f} -> {res['load_after'][0]:.1f}")
    if args.json:
        Path(args.json).write_text(json.dumps(res, indent=2))


if __name__ == "__main__":
    main()
