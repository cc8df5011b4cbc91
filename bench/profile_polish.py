"""Neighbour passes of the profile map (``polish``): can fewer starts and steps plus passes replace the old default?
(docs/performance.md, "Neighbour passes")

    PYTHONPATH=. python bench/profile_polish.py [--config runs/full_B.yaml] [--grid 24] [--rows-per-task 4]
        [--cheap 2 100] [--json F]

In one process: the map at ``--cheap`` (starts, steps) without and with one neighbour pass (``polish`` 0 and 1: a
profile pass before lnL_ref and a reach pass after stage 2), and at the old default, 4 starts x 200 steps without a
pass; every map against the old default, cell by cell: the share of cells whose verdict at -2 Delta ln L = 2.71
agrees, the profile chi2 (cells lower or higher by > 0.1; the median |difference| where either map is below 25), and
for the reach q_max (log10, threshold 2.71, where both define it) the median and largest |difference| and the shares
of cells reaching > 0.1 decades further or less far (``--json`` writes them all). It replaces bench/profile_settings.py
(4 x 200 against 2 x 100, both without a pass: the first comparison here). Each chi2 and
reach is an exact value at an actual point, so a lower chi2 and a larger reach are better (multi-start) optima. Wall
times include one compilation per (steps, block size).
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

from globalfit.inference.profile import profile_map  # noqa: E402
from globalfit.problem import load_problem  # noqa: E402


def compare(a, b) -> dict:
    """Map b against map a, cell by cell (see the module docstring)."""
    qa, qb = a.q_max[0, 0], b.q_max[0, 0]
    both = np.isfinite(qa) & np.isfinite(qb) & (qa > 0) & (qb > 0)
    d = np.log10(qb[both]) - np.log10(qa[both])
    ref = max(a.lnL_ref, b.lnL_ref)
    dchi = -2.0 * (b.lnL - ref) + 2.0 * (a.lnL - ref)
    below = (a.chi2 <= 25) | (b.chi2 <= 25)
    return {"verdict_agrees": float(np.mean(a.allowed() == b.allowed())), "chi2_lower": float(np.mean(dchi < -0.1)),
            "chi2_higher": float(np.mean(dchi > 0.1)), "median_abs_dchi2_below_25": float(np.median(np.abs(dchi[below]))) if below.any() else 0.0,
            "max_abs_dlog10_q": float(np.max(np.abs(d), initial=0.0)), "median_dlog10_q": float(np.median(d)),
            "median_abs_dlog10_q": float(np.median(np.abs(d))), "share_further": float(np.mean(d > 0.1)), "share_shorter": float(np.mean(d < -0.1)),
            "defined_in_a_only": int(np.sum(np.isfinite(qa) & ~np.isfinite(qb))), "defined_in_b_only": int(np.sum(~np.isfinite(qa) & np.isfinite(qb)))}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--config", default=str(ROOT / "runs" / "full_B.yaml"))
    ap.add_argument("--grid", type=int, default=24)
    ap.add_argument("--rows-per-task", type=int, default=4)
    ap.add_argument("--cheap", type=int, nargs=2, default=[2, 100], metavar=("STARTS", "STEPS"))
    ap.add_argument("--json")
    args = ap.parse_args()
    problem = load_problem(args.config)
    res: dict = {"config": args.config, "grid": args.grid, "load_before": os.getloadavg()}
    c = f"{args.cheap[0]}x{args.cheap[1]}"
    runs = {f"{c} + 0 passes": (*args.cheap, 0), f"{c} + 1 pass": (*args.cheap, 1), "4x200 + 0 passes": (4, 200, 0)}
    maps, res["wall_s"] = {}, {}
    for label, (starts, steps, polish) in runs.items():
        t = time.time()
        maps[label] = profile_map(problem, args.grid, starts=starts, steps=steps, polish=polish, rows_per_task=args.rows_per_task)
        res["wall_s"][label] = time.time() - t
        print(f"{label}: {res['wall_s'][label]:.0f} s", flush=True)
    res["compare"] = {}
    for label in list(runs)[:2]:
        r = res["compare"][f"{label} vs 4x200 + 0 passes"] = compare(maps["4x200 + 0 passes"], maps[label])
        print(f"{label} vs 4x200 + 0 passes: verdict agrees {100 * r['verdict_agrees']:.1f} %; profile chi2 lower in {100 * r['chi2_lower']:.1f} %, "
              f"higher in {100 * r['chi2_higher']:.1f} % of cells (> 0.1); reach: median {r['median_dlog10_q']:+.3f} dec, median |d| "
              f"{r['median_abs_dlog10_q']:.3f} dec, further in {100 * r['share_further']:.1f} %, shorter in {100 * r['share_shorter']:.1f} % of cells "
              f"(> 0.1 dec); defined only in the old default {r['defined_in_a_only']}, only in this map {r['defined_in_b_only']}", flush=True)
    res["load_after"] = os.getloadavg()
    print(f"load {res['load_before'][0]:.1f} -> {res['load_after'][0]:.1f}")
    if args.json:
        Path(args.json).write_text(json.dumps(res, indent=2))


if __name__ == "__main__":
    main()
