"""Does a cheaper profile (fewer starts, fewer Adam steps) find the same map? (docs/performance.md, "The 100 x 100 map")

    PYTHONPATH=. python bench/profile_settings.py [--config runs/full_B.yaml] [--grid 16] [--cheap 2 100] [--json F]

Computes the profile map of ``--config`` twice in this process, with the default 4 starts x 200 Adam steps per rung and
with the ``--cheap`` (starts, steps), and compares them cell by cell: the share of cells whose verdict at -2 Delta ln L
= 2.71 (allowed / excluded) agrees, the largest |Delta chi2| where either map has chi2 <= 25, the reference lnL_ref,
and the reach q_max of the derived quantity (log10, where both are defined). Time is linear in starts x steps.
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


def compare(ref, alt) -> dict:
    """Cell-by-cell agreement of two profile maps of the same grid."""
    both = (ref.chi2 <= 25) | (alt.chi2 <= 25)
    d = np.abs(ref.chi2 - alt.chi2)[both]
    qa, qb = ref.q_max[0, 0], alt.q_max[0, 0]
    ok = np.isfinite(qa) & np.isfinite(qb) & (qa > 0) & (qb > 0)
    dq = np.abs(np.log10(qa[ok]) - np.log10(qb[ok]))
    return {"verdict_agrees": float(np.mean(ref.allowed() == alt.allowed())), "cells": int(ref.chi2.size),
            "max_abs_dchi2_below_25": float(d.max()) if d.size else 0.0, "median_abs_dchi2_below_25": float(np.median(d)) if d.size else 0.0,
            "lnL_ref": [float(ref.lnL_ref), float(alt.lnL_ref)], "max_dlog10_qmax": float(dq.max()) if dq.size else 0.0,
            "median_dlog10_qmax": float(np.median(dq)) if dq.size else 0.0}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--config", default=str(ROOT / "runs" / "full_B.yaml"))
    ap.add_argument("--grid", type=int, default=16)
    ap.add_argument("--cheap", type=int, nargs=2, default=[2, 100], metavar=("STARTS", "STEPS"))
    ap.add_argument("--json")
    args = ap.parse_args()
    problem = load_problem(args.config)
    res: dict = {"config": args.config, "grid": args.grid, "load_before": os.getloadavg()}
    maps = {}
    for label, (starts, steps) in {"default": (4, 200), "cheap": tuple(args.cheap)}.items():
        t = time.time()
        maps[label] = profile_map(problem, args.grid, starts=starts, steps=steps)
        res[label] = {"starts": starts, "steps": steps, "wall_s": time.time() - t}
        print(f"{label}: {starts} starts x {steps} steps, {args.grid} x {args.grid}: {res[label]['wall_s']:.0f} s (compilation included)", flush=True)
    res["agreement"] = compare(maps["default"], maps["cheap"])
    res["load_after"] = os.getloadavg()
    a = res["agreement"]
    print(f"verdict at 2.71 agrees in {100 * a['verdict_agrees']:.1f} % of {a['cells']} cells; |dchi2| where chi2 <= 25: max {a['max_abs_dchi2_below_25']:.3g}, "
          f"median {a['median_abs_dchi2_below_25']:.3g}; lnL_ref {a['lnL_ref'][0]:.4g} vs {a['lnL_ref'][1]:.4g}; "
          f"|dlog10 q_max|: max {a['max_dlog10_qmax']:.3g}, median {a['median_dlog10_qmax']:.3g}; load {res['load_before'][0]:.1f} -> {res['load_after'][0]:.1f}")
    if args.json:
        Path(args.json).write_text(json.dumps(res, indent=2))


if __name__ == "__main__":
    main()
