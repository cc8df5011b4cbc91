"""The potential compiled once and called from the NUTS chunk through ``jax.pure_callback``: what it saves in
compilation and what it costs per call (docs/performance.md, "The potential compiled apart, called back").

A cold NUTS run compiles the potential into its chunk of transitions several times over (the Metropolis steps' value,
NUTS's value and gradient where it starts after them and inside its trajectories, delayed acceptance's likelihoods).
Called back through ``jax.pure_callback`` (a ``jax.custom_jvp`` whose derivative calls back the compiled batched value
and gradient), the chunk holds no copy of it: each of the potential's forms is compiled once, apart. Two measurements:

    PYTHONPATH=. python bench/callback_potential.py loop [runs/full_B.yaml] [--chains 64] [--steps 100]
    PYTHONPATH=. python bench/callback_potential.py run CONFIG.yaml [--callback]   # `globalfit run CONFIG --force`

``loop``: a compiled loop of ``--steps`` batched evaluations of the potential over ``--chains`` points, the potential
inlined or called back, and a callback that does nothing (its floor); compile seconds and µs per step.
``run``: the CLI run of a config, its potential and delayed-acceptance likelihoods called back with ``--callback``;
prints the wall seconds and the callbacks made. Run with ``GLOBALFIT_JAX_CACHE=off`` to time cold compilation.
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
from jax.flatten_util import ravel_pytree

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from globalfit import cli  # noqa: E402
from globalfit.inference.nuts import nuts_start  # noqa: E402
from globalfit.problem import fitproblem, load_problem  # noqa: E402
from benchio import best_time, finish  # noqa: E402

CALLS = {"callbacks": 0, "points": 0}


def called_back(potential, sites: list[str]):
    """``potential`` ({site: u} -> scalar) evaluated through ``jax.pure_callback`` into its compiled batched value
    (and, for derivatives, its compiled batched value and gradient); vmaps hand the callback the whole batch."""
    _, unravel = ravel_pytree({s: jnp.zeros(()) for s in sites})
    n = len(sites)
    flat = lambda x: potential(unravel(x))  # noqa: E731
    value, value_grad = jax.jit(jax.vmap(flat)), jax.jit(jax.vmap(jax.value_and_grad(flat)))

    def host_value(x):
        shape = x.shape[:-1]
        CALLS["callbacks"] += 1
        CALLS["points"] += int(np.prod(shape))
        return np.asarray(value(np.asarray(x).reshape(-1, n))).reshape(shape)

    def host_value_grad(x):
        shape = x.shape[:-1]
        CALLS["callbacks"] += 1
        CALLS["points"] += int(np.prod(shape))
        v, g = value_grad(np.asarray(x).reshape(-1, n))
        return np.asarray(v).reshape(shape), np.asarray(g).reshape(shape + (n,))

    scalar, vector = jax.ShapeDtypeStruct((), jnp.float64), jax.ShapeDtypeStruct((n,), jnp.float64)

    @jax.custom_jvp
    def f(x):
        return jax.pure_callback(host_value, scalar, x, vmap_method="expand_dims")

    @f.defjvp
    def f_jvp(primals, tangents):
        v, g = jax.pure_callback(host_value_grad, (scalar, vector), primals[0], vmap_method="expand_dims")
        return v, jnp.dot(g, tangents[0])

    return lambda u: f(ravel_pytree({s: u[s] for s in sites})[0])


def loop(config: str, chains: int, steps: int) -> dict:
    problem = load_problem(config)
    density = problem.unconstrained()
    sites = sorted(density.transforms)
    start = nuts_start(problem, density, chains)
    x0 = jax.vmap(lambda z: ravel_pytree({s: z[s] for s in sites})[0])(start.z)
    _, unravel = ravel_pytree({s: jnp.zeros(()) for s in sites})
    inlined = jax.vmap(lambda x: density.potential(unravel(x)))
    back = jax.vmap(lambda x: called_back(density.potential, sites)(unravel(x)))
    nothing = lambda x: jax.pure_callback(lambda a: np.zeros(a.shape[:-1]), jax.ShapeDtypeStruct((), jnp.float64), x,  # noqa: E731
                                          vmap_method="expand_dims")
    nothing = jax.vmap(nothing)
    res = {"config": config, "chains": chains, "steps": steps, "load_before": os.getloadavg()}
    for name, f in (("inlined", inlined), ("callback", back), ("empty callback", nothing)):
        def run(x, f=f):  # each step moves the points by the last values, so that no step can be hoisted
            return jax.lax.fori_loop(0, steps, lambda i, acc: acc + f(x + 1e-12 * acc[:, None]), jnp.zeros(chains))
        t = time.perf_counter()
        compiled = jax.jit(run).lower(x0).compile()
        res[f"{name} compile s"] = time.perf_counter() - t
        res[f"{name} us per step"] = 1e6 * best_time(compiled, x0, 5, 3) / steps
    res["batched value alone, us per call"] = 1e6 * best_time(jax.jit(inlined), x0, 5, 50)
    return res


def patch() -> None:
    """Every potential the run engine builds (the density and delayed acceptance's likelihoods) called back."""
    unconstrained, likelihood_potential = fitproblem.FitProblem.unconstrained, fitproblem.FitProblem.likelihood_potential

    def density(self, plain_sum=False):
        d = unconstrained(self, plain_sum)
        return fitproblem.UnconstrainedDensity(called_back(d.potential, sorted(d.transforms)), d.postprocess,
                                               d.transforms, d.unravel, d.ndim)

    fitproblem.FitProblem.unconstrained = density
    fitproblem.FitProblem.likelihood_potential = lambda self, names, support=False: called_back(
        likelihood_potential(self, names, support), sorted(self.site_transforms()))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("what", choices=("loop", "run"))
    ap.add_argument("config", nargs="?", default=str(ROOT / "runs" / "full_B.yaml"))
    ap.add_argument("--chains", type=int, default=64)
    ap.add_argument("--steps", type=int, default=100)
    ap.add_argument("--callback", action="store_true", help="run: the potentials called back")
    ap.add_argument("--json")
    args = ap.parse_args()
    if args.what == "loop":
        res = loop(args.config, args.chains, args.steps)
        for k, v in res.items():
            if k.endswith(" s") or "us per" in k:
                print(f"{k:40s} {v:10.2f}")
        finish(res, args.json)
        return
    if args.callback:
        patch()
    t = time.perf_counter()
    rc = cli.main(["run", args.config, "--force"])
    print(f"wall {time.perf_counter() - t:.1f} s, potential {'called back' if args.callback else 'inlined'}, {CALLS}")
    sys.exit(rc)


if __name__ == "__main__":
    main()
