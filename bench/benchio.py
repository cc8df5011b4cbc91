"""What the benchmarks share: the best-of-rounds timing of a call, and the end of a run (the machine load after it
beside the load before it, and the JSON record).

    from benchio import best_time, finish   # bench/ is on sys.path when a script of it runs
    finish(res, args.json)                  # res holds "load_before" = os.getloadavg() taken at the start
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import jax


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


def finish(res: dict, json_path: str | None) -> None:
    """Record ``load_after``, print the 1-minute load before -> after, write ``res`` to ``json_path`` if given."""
    res["load_after"] = os.getloadavg()
    print(f"load {res['load_before'][0]:.1f} -> {res['load_after'][0]:.1f} (1-minute average)")
    if json_path:
        Path(json_path).write_text(json.dumps(res, indent=2, default=str))
