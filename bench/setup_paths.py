"""Set-up before the first sample, side by side in one process (docs/performance.md, "Set-up before sampling").

What a sampler does before its first transition, timed for the two ways of building the problem's unconstrained
density:

* numpyro's ``initialize_model`` (how NUTS and the ensemble sampler were built before): it also searches for a valid
  start, evaluating value and gradient of the potential op by op (one key) or in a compiled loop (one key per chain);
* :meth:`FitProblem.unconstrained` (``get_potential_fn`` on the sites' transforms) followed by what each sampler then
  needs: NUTS the start's value and gradient (:func:`globalfit.inference.nuts.nuts_start`, jit of the vmapped
  value and gradient), the ensemble sampler the vmapped value (its first batch of walkers).

    PYTHONPATH=. python bench/setup_paths.py [runs/full_B.yaml] [--chains 4] [--order old,new]

Each path runs on a fresh copy of the problem (nothing compiled is shared); the order can be swapped to check that it
does not matter. The potentials of both builds are compared at the start.
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
from numpyro.infer import init_to_value
from numpyro.infer.util import initialize_model

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from benchio import finish  # noqa: E402
from globalfit.inference.ensemble import ensemble_density  # noqa: E402
from globalfit.inference.nuts import nuts_start  # noqa: E402
from globalfit.problem import load_problem  # noqa: E402


def old_path(config: str, chains: int) -> dict:
    """numpyro's initialize_model, as NUTS (one key per chain) and the ensemble sampler (one key) called it."""
    out = {}
    problem = load_problem(config)
    refs = {k: np.float64(v) for k, v in problem.start_sites(refs_only=True).items()}
    keys = jax.random.split(jax.random.PRNGKey(0), chains)
    t = time.perf_counter()
    info = initialize_model(keys, problem.numpyro_model(), init_strategy=init_to_value(values=refs))
    jax.block_until_ready(info.param_info)
    out["nuts"] = time.perf_counter() - t
    out["pe"] = float(np.asarray(info.param_info.potential_energy)[0])
    problem = load_problem(config)
    t = time.perf_counter()
    info = initialize_model(jax.random.PRNGKey(0), problem.numpyro_model(), init_strategy=init_to_value(values=refs))
    jax.block_until_ready(info.param_info)
    out["ensemble build"] = time.perf_counter() - t
    flat0, unravel = jax.flatten_util.ravel_pytree(info.param_info.z)
    batched = jax.jit(jax.vmap(lambda x: -info.potential_fn(unravel(x))))
    t = time.perf_counter()
    jax.block_until_ready(batched(jnp.broadcast_to(flat0, (2 * chains, flat0.size))))
    out["ensemble first batch"] = time.perf_counter() - t
    return out


def new_path(config: str, chains: int) -> dict:
    """FitProblem.unconstrained, then nuts_start (NUTS) or ensemble_density and its first batch (ensemble)."""
    out = {}
    problem = load_problem(config)
    t = time.perf_counter()
    density = problem.unconstrained()
    start = nuts_start(problem, density, chains)
    jax.block_until_ready(start)
    out["nuts"] = time.perf_counter() - t
    out["pe"] = float(np.asarray(start.potential_energy)[0])
    problem = load_problem(config)
    t = time.perf_counter()
    dens = ensemble_density(problem)
    out["ensemble build"] = time.perf_counter() - t
    flat0, _ = jax.flatten_util.ravel_pytree(problem.unconstrained().unconstrain(problem.start_sites(refs_only=True)))
    t = time.perf_counter()
    dens.log_prob(np.broadcast_to(np.asarray(flat0), (2 * chains, flat0.size)))
    out["ensemble first batch"] = time.perf_counter() - t
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("config", nargs="?", default=str(ROOT / "runs" / "full_B.yaml"))
    ap.add_argument("--chains", type=int, default=4)
    ap.add_argument("--order", default="old,new")
    ap.add_argument("--json", help="write the figures to this file")
    args = ap.parse_args()
    res: dict = {"config": args.config, "chains": args.chains, "cpu_count": os.cpu_count(), "load_before": os.getloadavg()}
    paths = {"old": ("numpyro initialize_model", old_path), "new": ("FitProblem.unconstrained", new_path)}
    for key in args.order.split(","):
        res[key] = paths[key][1](args.config, args.chains)
    print(f"# {args.config}: {args.chains} NUTS chains; {jax.default_backend()}, {os.cpu_count()} CPUs; "
          f"potential at the start equal: {np.isclose(res['old']['pe'], res['new']['pe'], rtol=1e-12)}")
    print("| build | NUTS: density and start (s) | ensemble: density (s) | ensemble: first batch (s) | ensemble total (s) |")
    print("| --- | --- | --- | --- | --- |")
    for key in args.order.split(","):
        r = res[key]
        print(f"| {paths[key][0]} | {r['nuts']:.1f} | {r['ensemble build']:.1f} | {r['ensemble first batch']:.1f} | "
              f"{r['ensemble build'] + r['ensemble first batch']:.1f} |")
    finish(res, args.json)


if __name__ == "__main__":
    main()
