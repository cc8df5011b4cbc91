"""The rate stack's last contraction in two orders, side by side in one process (docs/performance.md, "The rate
stack's contraction order").

``RateTableStack.rates`` forms R_k = sm_k + g_k d_k sum_r phi_r (y1 W1)_rk + g_k^2 d_k^2 sum_r phi_r (y2 W2)_rk from
r basis values phi(ln M) and the 18 numbers y_p = (Re Y, Im Y) of Y = G, G^2. ``y first`` (the code): y_p times the
stored weights (18 x r K), then the basis values; under vmap one matrix product (batch x 18) x (18 x r K).
``outer`` (session 53's form, kept here for the comparison): the outer product phi y_p (r 18 numbers per point) times
weights laid out (r 18 x K). Both forms read the same stack (full_B's CEvNS and nu-e tables); value, and value and
gradient in (g, M), of sum_k ln R_k, vmapped over B points of the prior box, every form timed in each round in turn
(best of the rounds, mean of ``--calls`` calls each):

    PYTHONPATH=. python bench/rate_stack_forms.py [runs/full_B.yaml] [--batches 1 64 1024] [--rounds 15]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from globalfit.physics.rates import _damp, _log_mass, _re_im, piecewise_cubic  # noqa: E402
from globalfit.problem import load_problem  # noqa: E402
from likelihoods.base import rate_provider  # noqa: E402


def outer_form(stack):
    """Session 53's read: (phi y_p) flattened, times the weights laid out (r 18, K)."""
    r, K = stack.rank, stack.q2_ref.size
    w = np.ascontiguousarray(stack.weights.reshape(2, 18, r, K).transpose(0, 2, 1, 3).reshape(2, r * 18, K))

    def rates(G, g_f, M_Zp):
        u = _log_mass(M_Zp)
        phi = piecewise_cubic(u, stack.u0, stack.du, stack.cubic)
        damp = _damp(u, stack.q2_ref)
        t1, t2 = ((phi[:, None] * _re_im(Y)[None, :]).reshape(-1) @ w[p] for p, Y in enumerate((G, G @ G)))
        return stack.sm + g_f * damp * t1 + g_f**2 * (damp * damp) * t2
    return rates


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("config", nargs="?", default=str(ROOT / "runs" / "full_B.yaml"))
    ap.add_argument("--batches", type=int, nargs="+", default=[1, 64, 1024])
    ap.add_argument("--rounds", type=int, default=15)
    ap.add_argument("--calls", type=int, default=50)
    args = ap.parse_args()
    stack = rate_provider(load_problem(args.config).likelihoods).stack
    K = stack.q2_ref.size
    forms = {"y first": stack.rates, "outer": outer_form(stack)}
    rng = np.random.default_rng(0)
    print(f"# {args.config}: {K} rate tables, shared basis r = {stack.rank}; best of {args.rounds} rounds x {args.calls} calls")
    print("| batch | " + " | ".join(f"{f}, {v} (µs per call)" for v in ("value", "value + gradient") for f in forms) + " |")
    print("| --- |" + " --- |" * (2 * len(forms)))
    for B in args.batches:
        A = rng.normal(size=(B, 3, 3)) + 1j * rng.normal(size=(B, 3, 3))
        G = jnp.asarray(1e-4 * (A + np.conj(np.swapaxes(A, 1, 2))))
        g = jnp.asarray(1e-4 * rng.uniform(0.5, 2.0, size=(B, K)))
        M = jnp.asarray(10.0 ** rng.uniform(-3, 0, size=B))
        fns = {}
        for name, rates in forms.items():
            f = lambda G, g, M, rates=rates: jnp.sum(jnp.log(rates(G, g, M)))  # noqa: E731
            fns[name, "value"] = jax.jit(jax.vmap(f))
            fns[name, "grad"] = jax.jit(jax.vmap(jax.value_and_grad(f, argnums=(1, 2))))
        ref = np.asarray(fns["outer", "value"](G, g, M))
        for (name, kind), fn in fns.items():  # compile, and check that the forms agree
            out = fn(G, g, M)
            np.testing.assert_allclose(out[0] if kind == "grad" else out, ref, rtol=1e-12, err_msg=name)
        best = dict.fromkeys(fns, float("inf"))
        for _ in range(args.rounds):
            for key, fn in fns.items():
                t = time.perf_counter()
                for _ in range(args.calls):
                    out = fn(G, g, M)
                jax.block_until_ready(out)
                best[key] = min(best[key], (time.perf_counter() - t) / args.calls)
        print(f"| {B} | " + " | ".join(f"{1e6 * best[f, v]:.1f}" for v in ("value", "grad") for f in forms) + " |", flush=True)


if __name__ == "__main__":
    main()
