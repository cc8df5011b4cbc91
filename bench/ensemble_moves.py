"""emcee's moves side by side on one posterior (``sampler.moves``; docs/performance.md, "Ensemble moves").

    PYTHONPATH=. python bench/ensemble_moves.py [--config runs/lma_dark_B.yaml] [--burn 10000] [--steps 60000]
        [--thin 10] [--moves stretch de:0.8,de_snooker:0.2 ...] [--json F]

In one process, the same compiled density (the problem's numpyro potential, vmapped over walkers, as
``sampler.method: ensemble`` builds it) and the same start walkers for every move set; each runs ``--burn`` steps,
then ``--steps`` steps of which every ``--thin``-th is kept. Per move set: wall time, acceptance, emcee's integrated
autocorrelation time tau of every unconstrained coordinate (``tol=0``: an estimate even when the chain is shorter
than 50 tau, which the line says), the kept chain in units of the worst tau, the smallest bulk ESS and largest split
R-hat over the walkers (ArviZ), min-ESS per second of sampling, and milliseconds per ensemble step. A chain shorter than 50 tau underestimates tau:
compare move sets at equal length, and trust a ranking only where the gap is large.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import arviz as az
import emcee
import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from globalfit.inference.ensemble import ensemble_density, ensemble_moves, initial_walkers  # noqa: E402
from globalfit.problem import load_problem  # noqa: E402
from benchio import finish  # noqa: E402  (bench/ is on sys.path)


def parse_moves(spec: str) -> dict[str, float]:
    """``"de:0.8,de_snooker:0.2"`` -> {"de": 0.8, "de_snooker": 0.2}; a bare name has weight 1."""
    out = {}
    for part in spec.split(","):
        name, _, w = part.partition(":")
        out[name.strip()] = float(w) if w else 1.0
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--config", default=str(ROOT / "runs" / "lma_dark_B.yaml"))
    ap.add_argument("--burn", type=int, default=10_000)
    ap.add_argument("--steps", type=int, default=60_000)
    ap.add_argument("--thin", type=int, default=10)
    ap.add_argument("--moves", nargs="+", default=["stretch", "de:0.8,de_snooker:0.2"])
    ap.add_argument("--json")
    args = ap.parse_args()
    problem = load_problem(args.config)
    density = ensemble_density(problem)
    start = initial_walkers(problem, density)
    density.log_prob(start)  # compile
    res: dict = {"config": args.config, "walkers": len(start), "ndim": density.ndim, "burn": args.burn, "steps": args.steps,
                 "thin": args.thin, "load_before": os.getloadavg(), "moves": {}}
    for spec in args.moves:
        moves = parse_moves(spec)
        sampler = emcee.EnsembleSampler(len(start), density.ndim, density.log_prob, moves=ensemble_moves(moves), vectorize=True)
        state = emcee.State(start, random_state=np.random.RandomState(problem.cfg.sampler.seed).get_state())
        t0 = time.time()
        state = sampler.run_mcmc(state, args.burn, store=False, progress=False)
        t1 = time.time()
        sampler.reset()
        sampler.run_mcmc(state, args.steps // args.thin, thin_by=args.thin, progress=False)
        t2 = time.time()
        chain = sampler.get_chain()  # (kept, walkers, ndim)
        tau = emcee.autocorr.integrated_time(chain, tol=0) * args.thin  # in steps
        ds = az.convert_to_dataset(np.swapaxes(chain, 0, 1))
        ess = float(az.ess(ds, method="bulk")["x"].min())
        rhat = float(az.rhat(ds)["x"].max())
        r = res["moves"][spec] = {"weights": moves, "burn_s": t1 - t0, "sample_s": t2 - t1, "acceptance": float(np.mean(sampler.acceptance_fraction)),
                                  "tau_max": float(tau.max()), "tau": tau.tolist(), "length_over_tau": args.steps / float(tau.max()),
                                  "min_ess_bulk": ess, "max_rhat": rhat, "min_ess_per_s": ess / (t2 - t1),
                                  "ms_per_step": 1e3 * (t2 - t1) / (args.steps // args.thin * args.thin)}
        print(f"{spec}: burn-in {r['burn_s']:.0f} s, sampling {r['sample_s']:.1f} s ({r['ms_per_step']:.2f} ms per step); acceptance {r['acceptance']:.3f}; worst tau "
              f"{r['tau_max']:.0f} steps (chain = {r['length_over_tau']:.1f} tau{'' if r['length_over_tau'] >= 50 else ': < 50 tau, tau underestimated'}); "
              f"min bulk ESS {ess:.0f}, max R-hat {rhat:.3f}; {r['min_ess_per_s']:.2f} min-ESS/s", flush=True)
    finish(res, args.json)


if __name__ == "__main__":
    main()
