"""Where do NUTS's saturated trees and divergences come from? A short vectorised NUTS run of a config, then:

* tree sizes (leapfrog steps per draw, share at the maximum depth), divergences, adapted step sizes;
* the posterior covariance in numpyro's unconstrained coordinates (sd per site, condition number, correlations);
* what limits the step size: for each likelihood, the largest eigenvalue lambda of the Hessian of its (softened)
  -ln L in the mass-matrix-scaled unconstrained coordinates the leapfrog integrates in, over the draws. A leapfrog
  step eps is unstable where eps > 2 / sqrt(lambda), so the likelihood with the largest lambda sets the step size.
  With ``sampler.metropolis`` (the config's or ``--metropolis``) over the sites NUTS moves only; likelihoods of
  ``sampler.delayed_acceptance`` are marked: they are off NUTS's trajectories;
* at divergent draws vs typical draws: each likelihood's gradient norm.

    python bench/diagnose_geometry.py runs/full_B.yaml --chains 4 --warmup 150 --draws 150 [--dense] [--depth 10]
        [--seed 0] [--no-curvature] [--no-support] [--without LIKELIHOOD ...] [--metropolis PARAM ...] [--target-accept T]

Keys of the config's ``sampler`` block are honoured (``target_accept``, ``soften_chi2``, ``dense_mass``), the command
line overrides chains, warm-up, draws, ``--dense`` and ``--depth``.
"""

from __future__ import annotations

import argparse
import dataclasses
import time

import jax
import jax.numpy as jnp
import numpy as np

from globalfit.inference.nuts import nuts_mcmc, nuts_start
from globalfit.problem import load_problem


def run(problem, chains: int, warmup: int, draws: int, dense: bool, depth: int, seed: int = 0,
        metropolis: list[str] | None = None, target_accept: float | None = None):
    """Vectorised NUTS chains as ``globalfit run`` builds them, with ``dense_mass`` and ``max_tree_depth`` set (and
    ``sampler.metropolis``, ``target_accept`` when given); returns (mcmc, wall seconds)."""
    update = {"dense_mass": dense, "max_tree_depth": depth, "method": "nuts"}
    update |= {"metropolis": metropolis} if metropolis else {}
    update |= {"target_accept": target_accept} if target_accept else {}
    sampler = problem.cfg.sampler.model_copy(update=update)
    problem = problem.with_config(problem.cfg.model_copy(update={"sampler": sampler}))
    t = time.time()
    density = problem.unconstrained()
    m = nuts_mcmc(problem, density, warmup, draws, chains)
    m.run(jax.random.PRNGKey(seed), extra_fields=("diverging", "num_steps", "adapt_state.step_size"),
          init_params=nuts_start(problem, density, chains))
    return m, time.time() - t


def unconstrained_maps(problem):
    """(to_sites, to_unconstrained): site values <-> numpyro's unconstrained coordinates, arrays over sites."""
    transforms = problem.site_transforms()
    bij = [transforms[s] for s in problem.site_names]

    def to_sites(v):
        return jnp.stack([b(v[..., k]) for k, b in enumerate(bij)], -1)

    def to_unc(z):
        return jnp.stack([b.inv(z[..., k]) for k, b in enumerate(bij)], -1)

    return to_sites, to_unc


def mass_root(m, sites):
    """Per chain, L with L L^T = the adapted inverse mass matrix, in the order of ``sites`` (chain, site, site)."""
    imm = m.last_state.adapt_state.inverse_mass_matrix  # {(site, ...): (chain, n) or (chain, n, n)}
    # (NUTS within Metropolis: one array over its sites, raveled in sorted order as jax.flatten_util does a dict)
    (keys, x), = imm.items() if isinstance(imm, dict) else [(tuple(sorted(sites)), imm)]
    x = np.asarray(x)
    perm = [list(keys).index(k) for k in sites]
    if x.ndim == 2:
        return np.stack([np.diag(np.sqrt(r[perm])) for r in x])
    return np.stack([np.linalg.cholesky(r[np.ix_(perm, perm)]) for r in x])


def without_support(problem):
    """DIAGNOSTIC ONLY: the problem without its support cuts (cos beta <= 1, |kappa| < 1, ...; not the model's
    posterior), to count the divergences the hard walls of the support cause."""
    cls = type("NoSupport", (type(problem),), {"constrained": property(lambda self: False)})
    return cls(**{f.name: getattr(problem, f.name) for f in dataclasses.fields(problem)})


def prior_outside_support(problem, n: int = 20000, seed: int = 0) -> float:
    """Share of prior draws (site space) outside the physical support: hard walls NUTS's trajectories can hit."""
    keys = jax.random.split(jax.random.PRNGKey(seed), len(problem.site_names))
    z = jnp.stack([problem.sites[name].distribution.sample(k, (n,)) for k, name in zip(keys, problem._site_order)], -1)
    lp = jax.jit(jax.vmap(lambda zz: problem.log_support(problem.point(zz))))(z)
    return float(np.mean(~np.isfinite(np.asarray(lp))))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("config", nargs="?", default="runs/full_B.yaml")
    ap.add_argument("--chains", type=int, default=4)
    ap.add_argument("--warmup", type=int, default=150)
    ap.add_argument("--draws", type=int, default=150)
    ap.add_argument("--dense", action="store_true")
    ap.add_argument("--depth", type=int, default=10)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--no-support", action="store_true",
                    help="diagnostic only: drop the support cuts (cos beta <= 1, |kappa| < 1): not the model's posterior")
    ap.add_argument("--without", nargs="+", default=[], metavar="LIKELIHOOD",
                    help="diagnostic: drop these likelihoods (names or fnmatch patterns) to localise a cause")
    ap.add_argument("--no-curvature", action="store_true", help="skip the per-likelihood Hessians (compile: minutes)")
    ap.add_argument("--metropolis", nargs="+", metavar="PARAM",
                    help="move these parameters by Metropolis steps within NUTS (sampler.metropolis; default: the config's)")
    ap.add_argument("--target-accept", type=float, help="NUTS target acceptance (default: the config's)")
    a = ap.parse_args()
    pr = load_problem(a.config)
    print("prior draws outside the physical support (hard walls): %.1f %%" % (100 * prior_outside_support(pr)))
    if a.without:
        pr = pr.without(a.without)
        print("DIAGNOSTIC: without", a.without)
    if a.no_support:
        pr = without_support(pr)
        print("DIAGNOSTIC: support cuts dropped")
    dense = a.dense or bool(getattr(pr.cfg.sampler, "dense_mass", False))
    m, wall = run(pr, a.chains, a.warmup, a.draws, dense, a.depth, a.seed, a.metropolis, a.target_accept)
    metropolis = a.metropolis or pr.cfg.sampler.metropolis
    if metropolis:
        print("Metropolis moves on", metropolis, "; delayed acceptance of", pr.cfg.sampler.delayed_acceptance or "none")
    ex = m.get_extra_fields(group_by_chain=True)
    ns, div = np.asarray(ex["num_steps"]), np.asarray(ex["diverging"])
    print(f"{a.config}: {a.chains} x ({a.warmup} + {a.draws}) dense={dense} depth={a.depth} "
          f"target_accept={a.target_accept or pr.cfg.sampler.target_accept} soften_chi2={pr.cfg.sampler.soften_chi2}: {wall:.0f} s")
    print("steps per draw: median %d, mean %.0f, at max depth %.0f %%"
          % (np.median(ns), ns.mean(), 100 * np.mean(ns >= 2**a.depth - 1)))
    print("divergences: %d of %d;" % (div.sum(), div.size), "step sizes",
          np.round(np.asarray(ex["adapt_state.step_size"])[:, -1], 4))

    sites = pr.site_names
    s = m.get_samples(group_by_chain=True)
    Z = np.stack([np.asarray(s[k]) for k in sites], -1)  # chain, draw, site
    to_sites, to_unc = unconstrained_maps(pr)
    U = np.asarray(to_unc(jnp.asarray(Z))).reshape(-1, len(sites))
    C = np.cov(U.T)
    sd = np.sqrt(np.diag(C))
    R = C / np.outer(sd, sd)
    w, v = np.linalg.eigh(C)
    print("unconstrained sd per site:", {k: round(float(x), 2) for k, x in zip(sites, sd)})
    print("covariance eigenvalues: min %.2e max %.2e condition %.1f" % (w[0], w[-1], w[-1] / w[0]))
    strong = [(sites[i], sites[j], round(float(R[i, j]), 2)) for i in range(len(sites)) for j in range(i)
              if abs(R[i, j]) > 0.5]
    print("correlations |r| > 0.5:", strong or "none", "; largest |r|: %.2f" % np.max(np.abs(R - np.eye(len(sites)))))

    if a.no_curvature:
        return
    # what sets the step size: Hessian of each -ln L_i (as sampled: softened) in the leapfrog's coordinates
    names = pr.likelihood_names
    moved = [i for i, k in enumerate(sites) if k not in {pr.sites[p].site for p in metropolis}]  # the NUTS sites
    root = mass_root(m, [sites[i] for i in moved])

    def terms_unc(vv):
        p = pr.point(to_sites(vv))
        lt = pr.loglike_terms(p)
        return jnp.stack([-pr.soften_term(lt[n]) for n in names])

    hess = jax.jit(jax.vmap(jax.hessian(terms_unc)))
    pick = np.arange(0, U.shape[0], max(1, U.shape[0] // 150))
    H = np.asarray(hess(jnp.asarray(U[pick])))[..., moved, :][..., moved]  # draw, term, NUTS site, NUTS site
    Lc = root[pick // a.draws]  # each draw's chain's mass-matrix root
    Hs = np.einsum("dji,dtjk,dkl->dtil", Lc, H, Lc)
    lam = np.linalg.eigvalsh(Hs)[..., -1]  # draw, term
    print("largest Hessian eigenvalue of -ln L_i in the leapfrog's coordinates over %d draws "
          "(step size limit 2/sqrt(lambda)):" % len(pick))
    print("   %-24s %10s %10s %10s" % ("likelihood", "median", "95 %", "max"))
    delayed = set(pr.cfg.sampler.delayed_acceptance)
    for n, col in sorted(zip(names, lam.T), key=lambda t: -np.max(t[1])):
        print("   %-24s %10.3g %10.3g %10.3g%s" % (n, np.median(col), np.quantile(col, 0.95), col.max(),
                                              "   (delayed: off the trajectories)" if n in delayed else ""))
    for t in np.argsort(-lam.max(0))[:3]:  # where the three steepest likelihoods are steepest
        d = int(np.argmax(lam[:, t]))
        w_, v_ = np.linalg.eigh(Hs[d, t])
        comp = sorted(zip([sites[i] for i in moved], v_[:, -1]), key=lambda c: -abs(c[1]))[:3]
        print(f"   {names[t]} steepest at", {k: round(float(x), 2) for k, x in zip(sites, Z.reshape(-1, len(sites))[pick[d]])},
              "along", [(k, round(float(c), 2)) for k, c in comp], "ln L_i = %.3g" % float(-terms_unc(jnp.asarray(U[pick[d]]))[t]))
    on = [t for t, n in enumerate(names) if n not in delayed]
    tot = np.linalg.eigvalsh(Hs[:, on].sum(1))[..., -1]
    print("   %-24s %10.3g %10.3g %10.3g" % ("all on the trajectories", np.median(tot), np.quantile(tot, 0.95), tot.max()))

    if div.sum():
        Ud = U[div.reshape(-1).astype(bool)]
        Zd = Z.reshape(-1, len(sites))[div.reshape(-1).astype(bool)]
        print("divergent draws (site values, first 5):")
        for row in Zd[:5]:
            print("  ", {k: round(float(x), 2) for k, x in zip(sites, row)})
        J = jax.jit(jax.vmap(jax.jacfwd(terms_unc)))
        gd = np.linalg.norm(np.asarray(J(jnp.asarray(Ud[:20]))), axis=-1).mean(0)
        gt = np.linalg.norm(np.asarray(J(jnp.asarray(U[pick[:20]]))), axis=-1).mean(0)
        print("mean |grad ln L_i| (unconstrained coordinates) at divergent vs typical draws:")
        for n, x, y in sorted(zip(names, gd, gt), key=lambda t: -t[1]):
            print(f"   {n:24s} {x:10.3g} {y:10.3g}")


if __name__ == "__main__":
    main()
