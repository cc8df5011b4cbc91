"""The log-density as built against the forms it replaced, in one process (docs/performance.md, "The support mask
and the interpolation searches").

``FitProblem.likelihood_point`` evaluates the likelihoods at the start point wherever a point leaves the physical
support (the "double where" that keeps NaN out of the gradient). Its mask is now the boolean
``FitProblem.inside_support``; before, it was ``isfinite(log_support)`` (``log_support`` = where(inside, 0, -inf)).
The two masks are equal point by point, yet XLA compiles the density around them differently. The interpolation
searches of non-uniform tables (``globalfit.physics.interp.interp_sorted``) are now bucketed; before, every point was
compared with every node (``searchsorted(..., method="compare_all")``). This script times value + gradient of the
density as built, with the old mask, and with the old mask and the old searches, single point (jit) and batched
(vmap), interleaved over several rounds (the best round of each), and checks that they agree.

    PYTHONPATH=. python bench/density_ab.py [runs/full_B.yaml] [--batch 1024] [--rounds 7]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np

import globalfit.physics.interp as interp

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from globalfit.problem import load_problem  # noqa: E402
from benchio import best_time  # noqa: E402


def density_before(problem):
    """The log-density with the mask read as isfinite(log_support), as before (otherwise identical)."""

    def one(z):
        p = problem.point(z)
        inside = jnp.isfinite(problem.log_support(p))
        ref = problem.physical(problem.start())
        q = {k: jnp.where(inside, v, ref[k]) for k, v in p.items()}
        lp = sum(problem.soften_term(ll) for ll in problem.loglike_terms(q).values())
        return problem.log_prior(z) + jnp.where(inside, lp, -jnp.inf)

    return one


def compare_all(x, xp):
    """The search as it was: every point against every node."""
    return jnp.searchsorted(xp, x, side="right", method="compare_all")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("config", nargs="?", default=str(ROOT / "runs" / "full_B.yaml"))
    ap.add_argument("--batch", type=int, default=1024)
    ap.add_argument("--rounds", type=int, default=7)
    args = ap.parse_args()
    problem = load_problem(args.config)
    z0 = problem.start_sites()
    sites = problem.site_names
    x0 = jnp.asarray([z0[s] for s in sites])
    xs = x0 + 0.3 * jax.random.normal(jax.random.PRNGKey(1), (args.batch, x0.size))
    densities = [("as built: inside_support, bucketed searches", problem.log_density, False),
                 ("mask isfinite(log_support)", density_before(problem), False),
                 ("mask isfinite(log_support), compare-all searches (before)", density_before(problem), True)]
    rows, outs = [], []
    built_search = interp._count_not_above
    jax.make_jaxpr(problem.log_density)(z0)  # one-time set-up (tables) outside the compile times
    for label, dens, old_search in densities:
        f = lambda x, dens=dens: dens({s: x[i] for i, s in enumerate(sites)})  # noqa: E731
        single, batched = jax.jit(jax.value_and_grad(f)), jax.jit(jax.vmap(jax.value_and_grad(f)))
        interp._count_not_above = compare_all if old_search else built_search  # read while tracing (the first calls)
        t = time.perf_counter()
        jax.block_until_ready(single(x0))
        compile_s = time.perf_counter() - t
        outs.append(batched(xs))
        interp._count_not_above = built_search
        rows.append([label, single, batched, compile_s, 1.0, 1.0])
    for _ in range(2):  # interleave the two densities, best round of each
        for row in rows:
            row[4] = min(row[4], best_time(row[1], x0, args.rounds, 100))
            row[5] = min(row[5], best_time(row[2], xs, args.rounds, 5) / args.batch)
    v_new, g_new = (np.asarray(a) for a in outs[0])
    same_value = same_grad = True
    for out in outs[1:]:
        v_old, g_old = (np.asarray(a) for a in out)
        fin = np.isfinite(v_old)
        same_value &= np.array_equal(np.isfinite(v_new), fin) and np.allclose(v_new[fin], v_old[fin], rtol=1e-12, atol=1e-12)
        same_grad &= np.allclose(g_new, g_old, rtol=1e-10, atol=1e-12)
    print(f"# {args.config}: {len(sites)} sites, {len(problem.likelihoods)} likelihoods; batch {args.batch} "
          f"({int((~fin).sum())} outside the support); {jax.default_backend()}, {os.cpu_count()} CPUs, "
          f"load {os.getloadavg()[0]:.1f}; values equal: {same_value}, gradients equal: {same_grad}")
    print("| density | single value + gradient (µs) | batched (µs per point) | batched (points/s) | compile, single (s) |")
    print("| --- | --- | --- | --- | --- |")
    for label, _, _, compile_s, single, batched in rows:
        print(f"| {label} | {single * 1e6:.0f} | {batched * 1e6:.2f} | {1 / batched:,.0f} | {compile_s:.1f} |")
    print(f"before / as built: batched {rows[-1][5] / rows[0][5]:.2f}, single {rows[-1][4] / rows[0][4]:.2f}")


if __name__ == "__main__":
    main()
