"""Why the log-density's value is ``materialised`` (docs/performance.md, "The log-density's last sum, once").

XLA's CPU fusion copies a producer made of cheap element-wise operations into every consumer of its value. A
Metropolis step of ``sampler.metropolis`` consumes the potential in nine selects (one per site), so the last stretch of
the potential's sum was compiled, and evaluated, nine times. This script compiles one Metropolis step of the config's
kernel in several forms (vmapped over the chains; XLA compile time of each, each form a new compilation in this
process) on numpyro's plain potential, then times the run's real Metropolis block (``metropolis_steps``, ``--steps``
steps) on the plain and on the materialised potential, alternating.

    PYTHONPATH=. python bench/metropolis_fusion.py [runs/gallery/full_B_nine_sites.yaml] [--chains 64] [--steps 100]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import jax
import jax.numpy as jnp

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from globalfit.inference import nuts as N  # noqa: E402
from globalfit.inference.metropolis import metropolis_steps  # noqa: E402
from globalfit.problem import load_problem  # noqa: E402
from globalfit.problem.fitproblem import materialised  # noqa: E402


def step_forms(potential, names):
    """One Metropolis step (a fixed move, no random numbers) in the forms compared: (name, fn(rest, fixed, pe, chol))."""

    def propose(fixed, pe, chol):
        delta = chol @ jnp.sin(jnp.arange(len(names)) * pe)
        return {s: fixed[s] + delta[j] for j, s in enumerate(names)}

    def accept(u_new, pe):
        return jnp.isfinite(u_new) & (pe - u_new > 0.3)

    def value(rest, fixed, pe, chol):
        return potential({**rest, **fixed})

    def proposal_value(rest, fixed, pe, chol):
        return potential({**rest, **propose(fixed, pe, chol)})

    def nine_selects(rest, fixed, pe, chol, wrap=lambda u: u):
        prop = propose(fixed, pe, chol)
        ok = accept(wrap(potential({**rest, **prop})), pe)
        return {s: jnp.where(ok, prop[s], fixed[s]) for s in names}

    def one_select(rest, fixed, pe, chol):
        prop = propose(fixed, pe, chol)
        ok = accept(potential({**rest, **prop}), pe)
        return jnp.where(ok, jnp.stack([prop[s] for s in names], -1), jnp.stack([fixed[s] for s in names], -1))

    return [("the potential's value alone", value),
            ("a step returning only the proposal's potential", proposal_value),
            ("a step returning the sites, nine selects", nine_selects),
            ("the same, one select of the stacked sites", one_select),
            ("the same, nine selects, the potential materialised", lambda *a: nine_selects(*a, wrap=materialised))]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("config", nargs="?", default=str(ROOT / "runs" / "gallery" / "full_B_nine_sites.yaml"))
    ap.add_argument("--chains", type=int, default=64)
    ap.add_argument("--steps", type=int, default=100)
    ap.add_argument("--rounds", type=int, default=3, help="alternating timing rounds of the Metropolis block")
    a = ap.parse_args()
    problem = load_problem(a.config)
    if not problem.cfg.sampler.metropolis:
        raise SystemExit(f"{a.config}: sampler.metropolis names no site; this script needs a Metropolis kernel")
    density = problem.unconstrained()
    raw = problem.unconstrained(plain_sum=True).potential
    kernel = N.nuts_kernel(problem, density)
    start = N.nuts_start(problem, density, a.chains)
    names = list(kernel.sites)
    rest = {k: v for k, v in start.z.items() if k not in names}
    fixed = {k: start.z[k] for k in names}
    sigma = jnp.asarray([kernel._sd[s] for s in names])
    chol = jnp.broadcast_to(0.3 * jnp.diag(sigma), (a.chains, len(names), len(names)))
    args = (rest, fixed, start.potential_energy, chol)
    print(f"# {a.config}: {a.chains} chains, Metropolis sites {names}")
    for name, fn in step_forms(raw, names):
        low = jax.jit(jax.vmap(fn)).lower(*args)
        t0 = time.perf_counter()
        low.compile()
        print(f"{name}: XLA compile {time.perf_counter() - t0:.2f} s")
    keys = jax.random.split(jax.random.PRNGKey(0), a.chains)
    blocks = {}
    for label, pot in (("plain", raw), ("materialised", density.potential)):
        blocks[label] = jax.jit(jax.vmap(lambda r, f, pe, k, c, pot=pot: metropolis_steps(pot, r, f, pe, k, kernel._sd, a.steps, c)))
        jax.block_until_ready(blocks[label](rest, fixed, start.potential_energy, keys, chol))
    for r in range(a.rounds):
        for label, block in blocks.items():
            best = float("inf")
            for _ in range(10):
                t0 = time.perf_counter()
                out = jax.block_until_ready(block(rest, fixed, start.potential_energy, keys, chol))
                best = min(best, time.perf_counter() - t0)
            print(f"round {r + 1}, Metropolis block ({a.steps} steps), {label} potential: {1e3 * best:.1f} ms, "
                  f"{float(out[2].mean()):.1f} proposals accepted per chain")


if __name__ == "__main__":
    main()
