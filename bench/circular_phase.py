"""NUTS on a phase: the uniform site of ``prior: uniform`` on [-pi, pi) against ``prior: circular`` (docs/performance.md,
"Phases on the circle").

    PYTHONPATH=. python bench/circular_phase.py [--draws 4000] [--seeds 1 2]

Two phases a, b sampled together by numpyro's NUTS (4 vectorised chains, 400 warm-up + ``--draws``, target_accept 0.85):
a flat likelihood, and a von Mises one, kappa = 2, centred at pi for a (where the uniform site's box ends) and at 2 for b.
Three ways to draw a phase with a uniform prior:

* ``uniform``: the site a ~ U(-pi, pi) (numpyro's logit transform to the real line);
* ``circular``: t ~ N(0, (3 pi)^2), a = wrap(t), as ``prior: circular`` builds it
  (:func:`globalfit.problem.parametrisation.site_of`);
* ``projected``: a 2-d standard normal vector and its angle (two sites per phase; for reference).

Prints bulk and tail ESS per draw of a and b and of their cosines, and the mean leapfrog steps per draw.
"""

from __future__ import annotations

import argparse
import math

import globalfit  # noqa: F401  (float64)
import arviz as az
import jax
import jax.numpy as jnp
import numpy as np
import numpyro
import numpyro.distributions as dist
from numpyro.infer import MCMC, NUTS

from globalfit.problem.config import CIRCULAR_SD
from globalfit.problem.parametrisation import wrap_angle


def phases(kind: str) -> tuple:
    if kind == "uniform":
        return tuple(numpyro.sample(n, dist.Uniform(-math.pi, math.pi)) for n in "ab")
    if kind == "circular":
        return tuple(numpyro.deterministic(n, wrap_angle(numpyro.sample("t" + n, dist.Normal(0.0, CIRCULAR_SD)))) for n in "ab")
    x = numpyro.sample("x", dist.Normal(0.0, 1.0).expand([2, 2]).to_event(2))
    return tuple(numpyro.deterministic(n, jnp.arctan2(x[i, 1], x[i, 0])) for i, n in enumerate("ab"))


def model(kind: str, likelihood: str) -> None:
    a, b = phases(kind)
    if likelihood == "peaked":
        numpyro.factor("L", 2.0 * jnp.cos(a - math.pi) + 2.0 * jnp.cos(b - 2.0))


def run(kind: str, likelihood: str, seed: int, draws: int) -> dict:
    mc = MCMC(NUTS(model, target_accept_prob=0.85), num_warmup=400, num_samples=draws, num_chains=4, chain_method="vectorized",
              progress_bar=False)
    mc.run(jax.random.PRNGKey(seed), kind, likelihood, extra_fields=("num_steps",))
    s = mc.get_samples(group_by_chain=True)
    post = {n: np.asarray(s[n]) for n in "ab"} | {f"cos {n}": np.cos(np.asarray(s[n])) for n in "ab"}
    d = az.from_dict(posterior=post)
    bulk, tail = az.ess(d, method="bulk"), az.ess(d, method="tail")
    n = 4 * draws
    return {"bulk": {k: float(bulk[k]) / n for k in post}, "tail": {k: float(tail[k]) / n for k in post},
            "steps": float(np.mean(mc.get_extra_fields()["num_steps"]))}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--draws", type=int, default=4000)
    ap.add_argument("--seeds", type=int, nargs="+", default=[1, 2])
    args = ap.parse_args()
    print("| likelihood | phase drawn as | seed | bulk ESS per draw: a, b, cos a, cos b | tail ESS per draw: a, b | leapfrog steps |")
    print("| --- | --- | --- | --- | --- | --- |")
    for likelihood in ("flat", "peaked"):
        for kind in ("uniform", "circular", "projected"):
            for seed in args.seeds:
                r = run(kind, likelihood, seed, args.draws)
                b, t = r["bulk"], r["tail"]
                print(f"| {likelihood} | {kind} | {seed} | {b['a']:.2f}, {b['b']:.2f}, {b['cos a']:.2f}, {b['cos b']:.2f} | "
                      f"{t['a']:.2f}, {t['b']:.2f} | {r['steps']:.1f} |", flush=True)


if __name__ == "__main__":
    main()
