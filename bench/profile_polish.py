"""Neighbour passes of the profile map (``polish``): can fewer starts and steps plus passes replace the old default?
(docs/performance.md, "Neighbour passes")

    PYTHONPATH=. python bench/profile_polish.py [--config runs/full_B.yaml] [--grid 24] [--rows-per-task 4]
        [--maps 4x200+0/r13 2x100+0/r13 2x100+1/r13 2x100+1/s100/l0.3 ...] [--warm] [--json F]

In one process: one map per ``--maps`` spec, STARTSxSTEPS+PASSES/rRUNGS (starts, Adam steps per rung, neighbour
passes ``polish``: a profile pass before lnL_ref and a reach pass after stage 2; options: ``/rN`` ``profile_rungs``, rungs of
each lambda = 0 chain; ``/sN`` ``warm_steps`` and ``/lX`` ``warm_lr``, Adam steps and first learning rate of a warm-started rung;
``/dN`` the seed of the starts); the default compares 2 starts x 100 steps without and with one pass against the old default, 4 x 200
without a pass and 13 lambda = 0 rungs. Every map against the first, cell by cell: the share of cells whose verdict at -2 Delta ln L = 2.71
agrees, the profile chi2 (cells lower or higher by > 0.1; the median |difference| where either map is below 25), and
for the reach q_max (log10, threshold 2.71, where both define it) the median and largest |difference| and the shares
of cells reaching > 0.1 decades further or less far (``--json`` writes them all). It replaces bench/profile_settings.py
(4 x 200 against 2 x 100, both without a pass: the first comparison here). Each chi2 and
reach is an exact value at an actual point, so a lower chi2 and a larger reach are better (multi-start) optima. Wall
times include one compilation per (steps, rungs, block size), except with ``--warm``.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from globalfit.inference.profile import (ProfileSettings, profile_map, profile_plan, profile_reference, profile_stage1,  # noqa: E402
                                         profile_stage2)
from globalfit.problem import load_problem  # noqa: E402
from benchio import finish  # noqa: E402  (bench/ is on sys.path)


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


OPTIONS = {"r": ("profile_rungs", int), "s": ("warm_steps", int), "l": ("warm_lr", float), "d": ("seed", int)}


def parse_spec(spec: str) -> dict:
    """``"2x100+1/r4/s50/l0.05/d1"`` -> starts 2, steps 100, polish 1, then optionally profile_rungs 4, warm_steps 50,
    warm_lr 0.05 (Adam steps and first learning rate of a warm-started rung) and seed 1 (omitted: the defaults)."""
    head, *opts = spec.split("/")
    sizes, _, passes = head.partition("+")
    starts, _, steps = sizes.partition("x")
    kw = {"starts": int(starts), "steps": int(steps), "polish": int(passes or 0)}
    for o in opts:
        name, cast = OPTIONS[o[0]]
        kw[name] = cast(o[1:])
    return kw


def run_map(problem, grid: int, rows_per_task: int, spec: str, warm_only: bool = False):
    """The map of one spec (``warm_only``: compile its chains on one block instead)."""
    kw = parse_spec(spec)
    if not warm_only:
        return profile_map(problem, grid, rows_per_task=rows_per_task, **kw)
    plan = profile_plan(problem, ProfileSettings.make(grid, rows_per_task=rows_per_task, **kw))
    s1 = profile_stage1(plan, plan.blocks[0])
    profile_stage1(plan, plan.blocks[0], warm=True)  # the chains of the profile passes (their own with warm_steps / warm_lr)
    profile_stage2(plan, plan.blocks[0], s1, profile_reference([s1]))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--config", default=str(ROOT / "runs" / "full_B.yaml"))
    ap.add_argument("--grid", type=int, default=24)
    ap.add_argument("--rows-per-task", type=int, default=4)
    ap.add_argument("--maps", nargs="+", default=["4x200+0/r13", "2x100+0/r13", "2x100+1/r13"], metavar="SPEC",
                    help="maps as STARTSxSTEPS+PASSES[/rRUNGS][/sREACH_STEPS][/lTILT_LR][/dSEED]; the first is the reference")
    ap.add_argument("--warm", action="store_true", help="compile every map's chains before timing (walls without compilation)")
    ap.add_argument("--json")
    args = ap.parse_args()
    problem = load_problem(args.config)
    res: dict = {"config": args.config, "grid": args.grid, "load_before": os.getloadavg()}
    maps, res["wall_s"] = {}, {}
    if args.warm:  # compile every map's chains first (one block of stage 1 and stage 2 each), so that the walls compare work only
        for spec in args.maps:
            run_map(problem, args.grid, args.rows_per_task, spec, warm_only=True)
    for spec in args.maps:
        t = time.time()
        maps[spec] = run_map(problem, args.grid, args.rows_per_task, spec)
        res["wall_s"][spec] = time.time() - t
        print(f"{spec}: {res['wall_s'][spec]:.0f} s", flush=True)
    res["compare"] = {}
    ref = args.maps[0]
    for spec in args.maps[1:]:
        r = res["compare"][f"{spec} vs {ref}"] = compare(maps[ref], maps[spec])
        print(f"{spec} vs {ref}: verdict agrees {100 * r['verdict_agrees']:.1f} %; profile chi2 lower in {100 * r['chi2_lower']:.1f} %, "
              f"higher in {100 * r['chi2_higher']:.1f} % of cells (> 0.1), median |d chi2| {r['median_abs_dchi2_below_25']:.3f}; reach: median "
              f"{r['median_dlog10_q']:+.3f} dec, median |d| {r['median_abs_dlog10_q']:.3f} dec, further in {100 * r['share_further']:.1f} %, "
              f"shorter in {100 * r['share_shorter']:.1f} % of cells (> 0.1 dec); defined only in the reference {r['defined_in_a_only']}, "
              f"only in this map {r['defined_in_b_only']}", flush=True)
    finish(res, args.json)


if __name__ == "__main__":
    main()
