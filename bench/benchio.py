"""What the benchmarks share: the best-of-rounds timing of a call, a run of the engine ``globalfit run`` uses, and the
end of a run (the machine load after it beside the load before it, and the JSON record).

    from benchio import best_time, engine_run, finish   # bench/ is on sys.path when a script of it runs
    finish(res, args.json)                              # res holds "load_before" = os.getloadavg() taken at the start
"""

from __future__ import annotations

import json
import math
import os
import tempfile
import time
from pathlib import Path

import jax

from globalfit.inference.nuts import sample_run
from globalfit.outputs.report import leapfrog_steps as report_steps
from globalfit.outputs.rundir import load_chunks, prepare_run_dir, read_progress
from globalfit.problem.config import OutputBlock


def best_time(fn, arg, rounds: int, n: int) -> float:
    """Best (over ``rounds``) mean seconds per call of ``fn(arg)`` over ``n`` calls."""
    best = float("inf")
    for _ in range(rounds):
        t = time.perf_counter()
        for _ in range(n):
            out = fn(arg)
        jax.block_until_ready(out)
        best = min(best, (time.perf_counter() - t) / n)
    return best


def leapfrog_steps(num_steps) -> dict[str, float]:
    """The run report's leapfrog-step counts (:func:`globalfit.outputs.report.leapfrog_steps`) as bench figures."""
    mean, longest = report_steps(num_steps)
    return {"steps_per_draw": mean, "max_steps_per_transition": longest}


def finish(res: dict, json_path: str | None) -> None:
    """Record ``load_after``, print the 1-minute load before -> after, write ``res`` to ``json_path`` if given."""
    res["load_after"] = os.getloadavg()
    print(f"load {res['load_before'][0]:.1f} -> {res['load_after'][0]:.1f} (1-minute average)")
    if json_path:
        Path(json_path).write_text(json.dumps(res, indent=2, default=str))


def engine_run(problem, chains: int, warmup: int, draws: int, seed: int, device: str | None = None) -> tuple[dict, dict, dict, float]:
    """What ``globalfit run`` runs (:func:`globalfit.inference.nuts.sample_run`: the config's kernel, NUTS or NUTS with
    Metropolis moves; chunks of compiled transitions, the recorded quantities, every chunk written to a scratch run
    directory) with these chains, draws, seed and ``sampler.device``. Returns (draws by chain, extra fields, the run's
    progress record with ``warmup_seconds`` (compilation included) and ``sampling_seconds``, wall seconds from the
    problem to the draws on disk)."""
    chunk = math.gcd(warmup, draws) if warmup else draws
    while chunk > 250 and chunk % 2 == 0:  # the configs' chunk sizes are 250-500
        chunk //= 2
    update = {"method": "nuts", "chains": chains, "warmup": warmup, "draws": draws, "seed": seed, "chunk_size": chunk, "progress_bar": False}
    if device is not None:
        update["device"] = device
    with tempfile.TemporaryDirectory() as tmp:
        output = (problem.cfg.output or OutputBlock(dir=tmp)).model_copy(update={"dir": tmp})
        run = problem.with_config(problem.cfg.model_copy(update={"sampler": problem.cfg.sampler.model_copy(update=update), "output": output}))
        outdir, prog = prepare_run_dir(run.cfg, Path(tmp) / "bench.yaml", resume=False, force=True, source="bench")
        t = time.perf_counter()
        sample_run(run, outdir, prog)
        wall = time.perf_counter() - t
        post, extra = load_chunks(outdir)
        return post, extra, read_progress(outdir), wall
