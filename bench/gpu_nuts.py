"""NUTS with many vectorized chains on one accelerator: what a lent GPU runs in at most ~5 minutes.

    python bench/gpu_nuts.py                                   # runs/full_B.yaml, 1024 chains x (200 + 200), the device JAX picks
    python bench/gpu_nuts.py --config runs/quickstart.yaml --chains 4 --warmup 20 --draws 20    # a CPU smoke run
    python bench/gpu_nuts.py --config runs/gallery/full_B.yaml  # NUTS with Metropolis moves on the mass sites (sampler.metropolis)
    python bench/gpu_nuts.py --config runs/gallery/full_B_nine_sites.yaml  # the divergence-free setting

Prints (and with ``--json FILE`` writes) the device, compile time, wall time of warm-up and draws, min bulk- and
tail-ESS over the sampled parameters, ESS per second per device, R-hat, divergences and the leapfrog steps per
draw (the mean, and the longest chain's per transition, which 1024 vectorised chains all wait for). It runs what ``globalfit run`` runs (``benchio.engine_run``: the config's kernel, NUTS or NUTS with Metropolis
moves, with its target acceptance, tree depth and mass matrix; chunks of compiled transitions), chains ``vectorized``
(vmap) on the config's ``sampler.device`` platform, or ``--device``; warm-up and draws are timed by the run's progress
record and the run's wall time. Nothing else is installed on the device: the same command runs on a laptop's CPU and on a GPU
(``pip install -U "jax[cuda12]"``).
"""

from __future__ import annotations

import argparse
import json
import os
import warnings
from pathlib import Path

import globalfit  # noqa: F401  (float64)
import jax
import numpy as np

from globalfit.problem import load_problem
from benchio import engine_run, leapfrog_steps  # bench/ is on sys.path

ROOT = Path(__file__).resolve().parent.parent

__all__ = ["run", "main"]


def _diagnostics(samples: dict[str, np.ndarray], names: list[str]) -> dict[str, float]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import arviz as az  # noqa: PLC0415  (slow import, only when a run finished)
    ds = az.from_dict(posterior={n: np.asarray(samples[n]) for n in names})
    bulk, tail, rhat = az.ess(ds, method="bulk"), az.ess(ds, method="tail"), az.rhat(ds)
    return {"min_ess_bulk": min(float(bulk[n]) for n in names), "min_ess_tail": min(float(tail[n]) for n in names),
            "max_rhat": max(float(rhat[n]) for n in names)}


def run(config: str, chains: int, warmup: int, draws: int, device: str | None = None, seed: int = 0) -> dict:
    """One timed NUTS run of ``config`` with ``chains`` vectorized chains; returns the figures as a dict."""
    problem = load_problem(config)
    platform = device or problem.cfg.sampler.device
    dev = jax.devices(platform)[0]
    samples, extra, prog, wall = engine_run(problem, chains, warmup, draws, seed, device=platform)
    t_warm = prog["warmup_seconds"]
    t_draw = wall - t_warm  # the draw chunks and their writes (the record's sampling_seconds are rounded to 0.01 s)
    out = {"config": config, "device": str(dev), "platform": dev.platform, "chains": chains, "warmup": warmup, "draws": draws,
           "sampled": len(problem.site_names), "likelihoods": len(problem.likelihoods),
           "warmup_s": t_warm, "draws_s": t_draw, "divergences": int(np.asarray(extra["diverging"]).sum()),
           **leapfrog_steps(extra["num_steps"]), "cpu_count": os.cpu_count()}
    out.update(_diagnostics(samples, problem.diagnosed_names))
    out["ess_per_s"] = out["min_ess_bulk"] / t_draw
    out["ess_per_s_incl_warmup"] = out["min_ess_bulk"] / (t_warm + t_draw)
    return out


def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--config", default=str(ROOT / "runs" / "full_B.yaml"))
    ap.add_argument("--chains", type=int, default=1024)
    ap.add_argument("--warmup", type=int, default=200)
    ap.add_argument("--draws", type=int, default=200)
    ap.add_argument("--device", choices=["cpu", "gpu"], help="JAX platform (default: the config's sampler.device)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--json", help="also write the figures to this file")
    a = ap.parse_args(argv)
    res = run(a.config, a.chains, a.warmup, a.draws, a.device, a.seed)
    print(f"{res['config']} on {res['device']}: {res['chains']} chains x ({res['warmup']} + {res['draws']}); "
          f"warm-up {res['warmup_s']:.1f} s (compile included), draws {res['draws_s']:.1f} s; "
          f"min ESS bulk {res['min_ess_bulk']:.0f}, tail {res['min_ess_tail']:.0f}; max R-hat {res['max_rhat']:.3f}; "
          f"{res['ess_per_s']:.1f} min-ESS/s per device ({res['ess_per_s_incl_warmup']:.1f} with warm-up); "
          f"{res['divergences']} divergences; {res['steps_per_draw']:.0f} leapfrog steps per draw, "
          f"{res['max_steps_per_transition']:.0f} for the longest chain of a transition (vectorised chains wait for it)")
    if a.json:
        Path(a.json).write_text(json.dumps(res, indent=2))
    return res


if __name__ == "__main__":
    main()
