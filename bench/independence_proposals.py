"""Independence proposals in the Metropolis steps of NUTS within Metropolis (``sampler.metropolis_independence``,
globalfit/inference/metropolis.py). Two measurements (docs/performance.md, "Independence proposals"):

    PYTHONPATH=. python bench/independence_proposals.py acceptance out/full_B [--config runs/gallery/full_B_nine_sites.yaml]
    PYTHONPATH=. python bench/independence_proposals.py block

``acceptance``: how often an independence sampler would accept, offline. A posterior on disk (e.g. the ensemble's
production run of full_B) gives draws x; in the unconstrained coordinates of ``--config``'s Metropolis sites a
proposal q (a Gaussian, multivariate t of several ν, or a Gaussian mixture fitted by EM) is fitted to them; one
proposal y ~ q per draw, at that draw's other sites (as the kernel proposes, given the NUTS sites), and the mean of
min(1, w(y)/w(x)), w = p/q, is the independence sampler's acceptance rate at stationarity (Tierney, Ann. Statist. 22 (1994) 1701).

``block``: the Metropolis block's own cost per step, on a potential of nine sites that costs nothing (64 chains,
100 steps): with and without independence proposals.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
from scipy import stats

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchio import best_time  # noqa: E402  (bench/ is on sys.path)
from globalfit.inference import metropolis as mh  # noqa: E402
from globalfit.problem import load_problem  # noqa: E402
from globalfit.problem.parametrisation import u_from_m_psi  # noqa: E402


def posterior_sites(problem, run: Path, thin: int) -> dict[str, np.ndarray]:
    """Every site of ``problem`` from the posterior of ``run`` (every thin-th draw), as site values."""
    import arviz as az

    post = az.from_netcdf(run / "posterior.nc").posterior
    col = lambda name: post[name].values.ravel()[::thin]  # noqa: E731
    out = {}
    for name in problem.start_sites(refs_only=True):
        if name == "u_M_Psi":
            spec = problem.cfg.sampled()["M_Psi"]
            out[name] = np.array([u_from_m_psi(p, z, spec) for p, z in zip(col("M_Psi"), col("M_Zp"))])
        else:  # a circular phase's site holds the phase itself
            out[name] = col(name.removeprefix("unwrapped_"))
    return out


def gaussian_mixture(x: np.ndarray, k: int, iters: int = 200, seed: int = 0):
    """(weights, means, covariances) of a k-component Gaussian mixture fitted to x by EM."""
    rng = np.random.default_rng(seed)
    n, d = x.shape
    mu, cov, w = x[rng.choice(n, k, replace=False)], np.array([np.cov(x.T)] * k), np.full(k, 1.0 / k)
    for _ in range(iters):
        log_r = np.stack([np.log(w[j]) + stats.multivariate_normal(mu[j], cov[j], allow_singular=True).logpdf(x)
                          for j in range(k)], axis=1)
        r = np.exp(log_r - np.logaddexp.reduce(log_r, axis=1)[:, None])
        nk = r.sum(0) + 1e-12
        w, mu = nk / n, (r.T @ x) / nk[:, None]
        cov = np.array([((x - mu[j]).T * r[:, j]) @ (x - mu[j]) / nk[j] + 1e-6 * np.eye(d) for j in range(k)])
    return w, mu, cov


def mixture(w, mu, cov, rng):
    """(sample(n), logpdf) of a Gaussian mixture."""
    comps = [stats.multivariate_normal(mu[j], cov[j]) for j in range(len(w))]

    def sample(n):
        idx = rng.choice(len(w), n, p=w)
        out = np.empty((n, mu.shape[1]))
        for j, c in enumerate(comps):
            if np.any(idx == j):
                out[idx == j] = np.atleast_2d(c.rvs(int(np.sum(idx == j)), random_state=rng))
        return out

    return sample, lambda z: np.logaddexp.reduce([np.log(w[j]) + c.logpdf(z) for j, c in enumerate(comps)], axis=0)


def acceptance(args) -> None:
    problem = load_problem(args.config)
    density = problem.unconstrained()
    u = density.unconstrain({k: jnp.asarray(v) for k, v in posterior_sites(problem, Path(args.run), args.thin).items()})
    order = sorted(u)  # the flat order of ravel_pytree
    moved = [order.index(problem.sites[name].site) for name in problem.cfg.sampler.metropolis]
    x = np.stack([np.asarray(u[s]) for s in order], axis=1)
    log_p = jax.jit(jax.vmap(lambda v: -density.potential(density.unravel(v))))
    lp_x = np.asarray(log_p(jnp.asarray(x)))
    xm = x[:, moved]
    rng = np.random.default_rng(0)
    print(f"{x.shape[0]} draws of {args.run}; {len(moved)} Metropolis sites of {args.config} "
          f"({', '.join(problem.cfg.sampler.metropolis)}); ln p finite at {np.isfinite(lp_x).mean():.3f} of them")

    def rate(label, sample, logq):
        y = x.copy()
        y[:, moved] = sample(x.shape[0])
        lp_y = np.asarray(log_p(jnp.asarray(y)))
        a = np.exp(np.minimum(0.0, (lp_y - logq(y[:, moved])) - (lp_x - logq(xm))))
        a[~np.isfinite(lp_y)] = 0.0
        print(f"  {label}: acceptance {a.mean():.3f} (proposals of finite density {np.isfinite(lp_y).mean():.2f})", flush=True)

    mean, cov = xm.mean(0), np.cov(xm.T)
    for nu in (4, 5, 10, None):
        q = stats.multivariate_normal(mean, cov) if nu is None else stats.multivariate_t(mean, cov, df=nu)
        rate("Gaussian" if nu is None else f"multivariate t, nu = {nu}", lambda n, q=q: q.rvs(n, random_state=rng), q.logpdf)
    for k in (2, 4, 8):
        rate(f"Gaussian mixture, {k} components", *mixture(*gaussian_mixture(xm, k), rng))


def block(args) -> None:
    d, chains, steps = 9, 64, 100
    names = [f"s{i}" for i in range(d)]
    sd = {n: 1.0 for n in names}
    potential = lambda z: 0.5 * sum(z[n] ** 2 for n in names) + 0.5 * z["r"] ** 2  # noqa: E731
    a = np.random.default_rng(0).normal(size=(chains, d, d)) * 0.1 + np.eye(d)
    chol = jnp.asarray(np.linalg.cholesky(a @ a.transpose(0, 2, 1)))
    fixed, rest = {n: jnp.zeros(chains) for n in names}, {"r": jnp.zeros(chains)}
    pe = jax.vmap(lambda r, f: potential({**r, **f}))(rest, fixed)
    keys = jax.random.split(jax.random.PRNGKey(0), chains)
    scale = chol * (np.sqrt(d) / mh.AM_SCALE)
    legs = {"local and box-crossing steps": None, "half of them independence proposals": 0.5}
    for rnd in range(2):
        for label, share in legs.items():
            def run(r, f, p, k, c, s, share=share):
                ind = None if share is None else (jnp.asarray(share), jnp.zeros(d), s)
                return mh.metropolis_steps(potential, r, f, p, k, sd, steps, c, ind)
            fn = jax.jit(jax.vmap(run))
            call = (rest, fixed, pe, keys, chol, scale)
            jax.block_until_ready(fn(*call))
            per = best_time(lambda c: fn(*c), call, rounds=3, n=20) / steps
            print(f"round {rnd + 1}, {label}: {per * 1e6:.1f} µs per step of {chains} chains", flush=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = ap.add_subparsers(dest="what", required=True)
    a = sub.add_parser("acceptance")
    a.add_argument("run", help="a run directory with posterior.nc (e.g. out/full_B)")
    a.add_argument("--config", default=str(ROOT / "runs" / "gallery" / "full_B_nine_sites.yaml"),
                   help="the config whose Metropolis sites and coordinates are used")
    a.add_argument("--thin", type=int, default=10, help="every thin-th draw of the run")
    sub.add_parser("block")
    args = ap.parse_args()
    acceptance(args) if args.what == "acceptance" else block(args)


if __name__ == "__main__":
    main()
