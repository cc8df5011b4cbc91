"""Sweep engine benchmark (docs/performance.md, "Sweeps on Dask"): scaling of a profile map from 1 to N local Dask
workers, the overhead per task, identical results on every path, and the cost of a 100 x 100 map.

    python bench/bench_sweep.py                      # scaling: runs/paper2016_B.yaml, 12 x 12, 4 starts, 200 steps
    python bench/bench_sweep.py --row-config runs/full_B.yaml   # also: rows of a full_B map -> a 100 x 100 estimate
    python bench/bench_sweep.py --row-config runs/full_B.yaml --rows-only --row-points 10 --row-steps 50

Each path runs the same map twice: *cold* (a fresh process or cluster: imports, tracing, XLA compilation or the
persistent-cache load, then the tasks) and *warm* (same processes again: only the tasks). Scaling is the ratio of the
warm wall times; the overhead per task is what a worker spends between the end of one task and the start of the next
(scheduling, transfers, the client's atomic write), from ``events.jsonl``, and the client's delay in receiving a
result, both against the mean task time. Per-core scaling: the same map in one worker process on one core against two
such workers (the default cluster on 2 cores), and against this process pinned to one core (whose XLA thread pool,
sized for every core, then shares one). The machine's load average is printed before and after: the machine may be
shared, so wall-clock ratios depend on it while the per-task overhead does not.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from globalfit.inference.sweep import _core_share_plugin, dask_client, local_cores, make_job, pin_threads, run_sweep  # noqa: E402
from globalfit.outputs.profile_result import load_profile  # noqa: E402
from globalfit.outputs.sweepdir import read_events  # noqa: E402
from globalfit.problem.config import load_config  # noqa: E402
from globalfit.problem.sweep_config import ConfigRef, JobSpec  # noqa: E402
from benchio import finish  # noqa: E402  (bench/ is on sys.path)


def _job(config: Path, grid, starts: int, steps: int):
    spec = JobSpec(kind="profile", name=f"profile/{config.stem}", configs=(ConfigRef(str(config), load_config(config)),), seed=0,
                   settings={"grid": grid, "quantity": ["eps_earth_ee"], "exclude": None, "starts": starts, "steps": steps,
                             "M_range": None, "g_range": None, "rows_per_task": 1})
    return make_job(spec, folder="")


def _stats(outdir: Path) -> dict:
    ev = [e for e in read_events(outdir) if e["status"] == "done"]
    dur = np.array([e["end"] - e["start"] for e in ev])
    by_worker: dict[str, list] = {}
    for e in sorted(ev, key=lambda e: e["start"]):
        by_worker.setdefault(e["worker"], []).append(e)
    gaps = [b["start"] - a["end"] for w in by_worker.values() for a, b in zip(w, w[1:])]
    recv = [e["received"] - e["end"] for e in ev]
    cpu = np.array([e.get("cpu", np.nan) for e in ev])
    return {"tasks": len(ev), "workers_used": len(by_worker), "task_mean_s": float(dur.mean()), "task_sum_s": float(dur.sum()),
            "task_cpu_sum_s": float(cpu.sum()),
            "span_s": max(e["end"] for e in ev) - min(e["start"] for e in ev),
            "gap_mean_s": float(np.mean(gaps)) if gaps else 0.0, "receive_mean_s": float(np.mean(recv))}


@contextlib.contextmanager
def _one_core_worker():
    """A LocalCluster of one worker process on one core (the core share of worker 0 of as many as there are cores),
    as each of the default cluster's workers: the per-core baseline without the in-process path's XLA thread pool
    sized for every core."""
    from distributed import Client, LocalCluster  # noqa: PLC0415

    cluster = LocalCluster(n_workers=1, threads_per_worker=1, processes=True, host="127.0.0.1", dashboard_address=None,
                           silence_logs=logging.ERROR)
    client = Client(cluster)
    client.register_plugin(_core_share_plugin(len(local_cores())))
    try:
        yield client
    finally:
        client.close()
        cluster.close()


def _path(config, grid, starts, steps, workers: int, tmp: Path, tag: str = "", one_core: bool = False) -> dict:
    """Cold and warm runs of one map on ``workers`` local Dask workers (0: in this process; ``one_core``: one worker
    on one core)."""
    out = {}
    ctx = (contextlib.nullcontext(None) if workers == 0 else _one_core_worker() if one_core else dask_client(None, workers))
    t0 = time.time()
    with ctx as client:
        started = time.time() - t0
        for phase in ("cold", "warm"):
            d = tmp / f"w{workers}{tag}_{phase}"
            t = time.time()
            rep = run_sweep([_job(config, grid, starts, steps)], d, client=client)
            assert not rep.failed, rep.failed
            out[phase] = {"wall_s": time.time() - t, **_stats(d)}
            out[phase]["profile"] = str(d / "profile.npz")
    out["cluster_start_s"] = started
    return out


def _same(a: str, b: str) -> bool:
    ra, rb = load_profile(Path(a)), load_profile(Path(b))
    return all(np.array_equal(getattr(ra, k), getattr(rb, k), equal_nan=True) for k in ("lnL", "q_max", "q_min")) and ra.lnL_ref == rb.lnL_ref


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--config", default=str(ROOT / "runs" / "paper2016_B.yaml"))
    ap.add_argument("--grid", type=int, default=12)
    ap.add_argument("--starts", type=int, default=4)
    ap.add_argument("--steps", type=int, default=200)
    ap.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--row-config", help="also time two 100-point rows of this config's map (-> a 100 x 100 estimate)")
    ap.add_argument("--row-points", type=int, default=10, help="M_Zp points of the measured rows (the estimate scales to 100)")
    ap.add_argument("--row-steps", type=int, default=50, help="Adam steps of the measured rows (the estimate scales to --steps)")
    ap.add_argument("--row-workers", type=int, default=0, help="Dask workers for the rows (0: in this process)")
    ap.add_argument("--rows-only", action="store_true", help="only the --row-config measurement")
    ap.add_argument("--json", help="write the figures here")
    args = ap.parse_args()
    load0 = os.getloadavg()
    tmp = Path(tempfile.mkdtemp(prefix="bench_sweep_"))
    res: dict = {"config": args.config, "grid": args.grid, "starts": args.starts, "steps": args.steps, "cores": os.cpu_count(), "load_before": load0}
    if not args.rows_only:
        res["serial"] = _path(Path(args.config), args.grid, args.starts, args.steps, 0, tmp)
        cores = local_cores()
        if len(cores) > 1 and pin_threads({min(cores)}):  # the same process on one core: what XLA's threads give
            res["serial_1core"] = _path(Path(args.config), args.grid, args.starts, args.steps, 0, tmp, tag="_1core")
            pin_threads(cores)
        if len(cores) > 1:
            res["worker_1core"] = _path(Path(args.config), args.grid, args.starts, args.steps, 1, tmp, tag="_1core", one_core=True)
        for w in args.workers:
            res[f"workers_{w}"] = _path(Path(args.config), args.grid, args.starts, args.steps, w, tmp)
        ref = res["serial"]["warm"]["profile"]
        res["identical_to_serial"] = {k: _same(ref, v["warm"]["profile"]) and _same(ref, v["cold"]["profile"])
                                      for k, v in res.items() if k.startswith(("workers_", "worker_1core"))}
        print(f"profile map {Path(args.config).name} {args.grid}x{args.grid}, {args.starts} starts, {args.steps} steps; load before {load0}")
        print(f"{'path':<12s} {'cold wall':>10s} {'warm wall':>10s} {'tasks':>6s} {'task mean':>10s} {'gap/task':>9s} {'recv/task':>10s} {'overhead':>9s}")
        for k, v in res.items():
            if k.startswith(("serial", "workers_", "worker_1core")):
                w = v["warm"]
                over = (w["gap_mean_s"] + w["receive_mean_s"]) / w["task_mean_s"]
                v["overhead_fraction"] = over
                print(f"{k:<12s} {v['cold']['wall_s']:10.1f} {w['wall_s']:10.1f} {w['tasks']:6d} {w['task_mean_s']:10.2f} {w['gap_mean_s']:9.3f} "
                      f"{w['receive_mean_s']:10.3f} {100 * over:8.1f}%")
        for w in args.workers[1:]:
            res[f"speedup_1_to_{w}"] = res["workers_1"]["warm"]["wall_s"] / res[f"workers_{w}"]["warm"]["wall_s"]
            print(f"speed-up 1 -> {w} workers (warm): {res[f'speedup_1_to_{w}']:.2f}x")
        if "serial_1core" in res:
            res["threads_speedup"] = res["serial_1core"]["warm"]["wall_s"] / res["serial"]["warm"]["wall_s"]
            print(f"in-process map, all {len(cores)} cores (XLA's intra-op threads) vs one core: {res['threads_speedup']:.2f}x")
            for w in args.workers[1:]:
                if w <= len(cores):  # each of w workers has one core (globalfit.inference.sweep.core_share)
                    res[f"core_scaling_1_to_{w}"] = res["serial_1core"]["warm"]["wall_s"] / res[f"workers_{w}"]["warm"]["wall_s"]
                    print(f"one core in-process -> {w} one-core workers: {res[f'core_scaling_1_to_{w}']:.2f}x")
        if "worker_1core" in res:
            for w in args.workers[1:]:
                if w <= len(cores):
                    res[f"worker_core_scaling_1_to_{w}"] = res["worker_1core"]["warm"]["wall_s"] / res[f"workers_{w}"]["warm"]["wall_s"]
                    print(f"one one-core worker -> {w} one-core workers: {res[f'worker_core_scaling_1_to_{w}']:.2f}x")
        print(f"identical to the in-process map: {res['identical_to_serial']}")

    if args.row_config:
        rc = Path(args.row_config)
        row = _path(rc, [args.row_points, 2], args.starts, args.row_steps, args.row_workers, tmp)
        w = row["warm"]
        scale = (100 / args.row_points) * (args.steps / args.row_steps)  # task time is linear in points x steps
        per_row = w["task_cpu_sum_s"] / 2 * scale  # stage 1 + 2 of one 100-point row at args.steps steps: CPU time (load-independent)
        workers = max(args.row_workers, 1)
        est = 100 * per_row / 2  # 100 rows on 2 workers (2 cores)
        res["row"] = {"config": str(rc), "points": args.row_points, "steps": args.row_steps, **row, "scale": scale,
                      "seconds_per_100pt_row": per_row, "estimate_100x100_on_2_workers_s": est}
        print(f"{rc.name}: {args.row_points}-point rows, {args.row_steps} steps, {workers if args.row_workers else 'no'} Dask workers: "
              f"stage 1 + 2 of one row {w['task_cpu_sum_s'] / 2:.1f} s CPU, {w['task_sum_s'] / 2:.1f} s wall (warm; cold run {row['cold']['wall_s']:.0f} s)")
        print(f"  -> one 100-point row at {args.steps} steps {per_row:.0f} CPU s; 100 x 100 map on 2 idle cores ~ {est / 3600:.1f} h "
              f"(+ start-up and compilation)")
    finish(res, args.json)


if __name__ == "__main__":
    main()
