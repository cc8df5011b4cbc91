"""Does NUTS move between the two signs of a ``signed: true`` parameter? Short vectorized run; per chain the share of
draws with each sign and the number of sign changes, with tree sizes and divergences.

    PYTHONPATH=. python bench/sign_mixing.py CONFIG [--param g_Psi] [--chains 4] [--warmup 150] [--draws 150]
"""

from __future__ import annotations

import argparse
import time

import globalfit  # noqa: F401  (float64)
import jax
import numpy as np

from globalfit.inference.nuts import nuts_mcmc, nuts_start
from globalfit.problem import load_problem


def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("config")
    ap.add_argument("--param", default="g_Psi")
    ap.add_argument("--chains", type=int, default=4)
    ap.add_argument("--warmup", type=int, default=150)
    ap.add_argument("--draws", type=int, default=150)
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args(argv)
    problem = load_problem(a.config)
    site = problem.sites[a.param].site
    t = time.perf_counter()
    density = problem.unconstrained()
    mcmc = nuts_mcmc(problem, density, a.warmup, a.draws, a.chains)
    mcmc.run(jax.random.PRNGKey(a.seed), extra_fields=("diverging", "num_steps"), init_params=nuts_start(problem, density, a.chains))
    wall = time.perf_counter() - t
    s = np.asarray(mcmc.get_samples(group_by_chain=True)[site])
    ex = mcmc.get_extra_fields(group_by_chain=True)
    neg = (s < 0).mean(axis=1)
    switches = (np.diff(np.sign(s), axis=1) != 0).sum(axis=1)
    res = {"wall_s": wall, "negative_share": neg.tolist(), "sign_changes": switches.tolist(),
           "divergences": int(np.asarray(ex["diverging"]).sum()), "median_steps": float(np.median(np.asarray(ex["num_steps"])))}
    print(f"{a.config}: {a.chains} chains x ({a.warmup} + {a.draws}) in {wall:.0f} s; {a.param} < 0 in "
          + ", ".join(f"{x:.0%}" for x in neg) + " of each chain's draws; sign changes per chain " + ", ".join(map(str, switches))
          + f"; {res['divergences']} divergences; median {res['median_steps']:.0f} leapfrog steps per draw")
    return res


if __name__ == "__main__":
    main()
