"""The binned CEvNS releases (``analysis: binned`` of ``cevns_coherent_lar`` and ``cevns_xenonnt_8b``) against the
counts: each release's fit reproduced, our SM template against the release's, and the 90 % CL edge on g_X in
U(1)_{B-L} from each analysis. Prints the Markdown of docs/validation.md, "Binned CEvNS releases".

    PYTHONPATH=. python bench/cevns_binned.py
    PYTHONPATH=. python bench/cevns_binned.py --cost   # full_B's value + gradient with counts and binned (slow)
    PYTHONPATH=. python bench/cevns_binned.py --stack  # the rate stack alone: shared basis against a dense read
    PYTHONPATH=. python bench/cevns_binned.py --steps  # each profile's error and cost with 1 and 2 Newton steps
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
from scipy.optimize import brentq

from globalfit.physics import rates
from globalfit.physics.model import observables
from globalfit.physics.parameters import complete
from likelihoods import build_likelihood, cevns
from likelihoods.cevns import PHI_SNO
from likelihoods.stats import ALLOWED_DELTA_CHI2

MASSES_MEV = (1.0, 3.0, 10.0, 30.0, 100.0, 300.0, 1000.0)


def lar_fit() -> list[str]:
    """The release's fit with a free uniform CEvNS scale: best count, 1 sigma, background yields, no-CEvNS and SM."""
    b = cevns.lar_binned("msbar0", "radiative")
    m = len(b.targets)
    chi2 = jax.jit(lambda s: b.fit.chi2(jnp.full(m, s)) - b.fit.chi2_scale)
    lo, hi = b.fit.scale_interval()
    theta = np.asarray(b.fit.profile(jnp.full(m, b.fit.best_scale)))
    yields = dict(zip([t.name for t in b.fit.templates], (1.0 + b.fit.C @ theta) * b.fit.T.sum(axis=1)))
    return [
        "| quantity | release (LArParametersAnlA.yaml) | ours |",
        "| --- | --- | --- |",
        f"| CEvNS events, best fit (1 sigma) | 159 ± 43 | {128 * b.fit.best_scale:.1f} ({128 * lo:.1f}–{128 * hi:.1f}) |",
        f"| prompt BRN | 553 ± 34 | {yields['brn']:.0f} |",
        f"| delayed BRN | 10 ± 11 | {yields['delayed_brn']:.1f} |",
        f"| steady state | 3131 ± 23 | {yields['steady_state']:.0f} |",
        f"| −2ΔlnL of no CEvNS / of the SM (128) | > 3σ (abstract) / — | {float(chi2(0.0)):.2f} / {float(chi2(1.0)):.2f} |",
        f"| time offset of the release's axis against our arrival model | — | {b.time_offset_us * 1e3:.0f} ns (fitted) |",
    ]


def lar_template() -> list[str]:
    """Our SM CEvNS events per energy bin (with the groups' arrivals in the time window) against the release's."""
    b = cevns.lar_binned("msbar0", "radiative")
    E_edges, t_edges = cevns.lar_release_edges()
    a = cevns.sns_window_fractions(t_edges, *cevns.lar_pulse_us(), b.time_offset_us)
    tmpl, ours = b.sm_template()
    n = 5
    lines = ["| keVee | " + " | ".join(f"{E_edges[i]:g}–{E_edges[i + 1]:g}" for i in range(n)) + " |",
             "| --- |" + " --- |" * n,
             "| release's CEvNS template | " + " | ".join(f"{x:.2f}" for x in tmpl.sum(axis=1)[:n]) + " |",
             "| ours (SM, normalised to 128) | " + " | ".join(f"{x:.2f}" for x in ours.sum(axis=1)[:n]) + " |",
             "| ours: prompt share | " + " | ".join(f"{x:.2f}" for x in (b.sm_rates[:n, 0] * a[:, 0].sum()) /
                                                  np.maximum((b.sm_rates[:n] * a.sum(axis=0)).sum(axis=1), 1e-300)) + " |"]
    tp, to = tmpl.sum(axis=0) / tmpl.sum(), ours.sum(axis=0) / ours.sum()
    lines += ["", "| µs | " + " | ".join(f"{t_edges[j]:g}–{t_edges[j + 1]:g}" for j in range(4)) + " | … |",
              "| --- |" + " --- |" * 5,
              "| release: fraction per time bin | " + " | ".join(f"{x:.3f}" for x in tp[:4]) + " | |",
              "| ours | " + " | ".join(f"{x:.3f}" for x in to[:4]) + f" | max difference {np.max(np.abs(tp - to)):.3f} |"]
    return lines


def edges(name: str) -> list[str]:
    """The g_X where -2 Delta ln L (vs g_X = 0 at the same mass) reaches 2.71, in U(1)_{B-L} at g_Psi = 0, from
    likelihood ``name`` alone, count and binned."""
    lks = {"count": build_likelihood(name, "B-L", {}), "binned": build_likelihood(name, "B-L", {"analysis": "binned"})}
    base = complete({"g_Psi": 0.0, "y_e": 0.0, "y_mu": 0.0, "y_tau": 0.0})
    fns = {k: jax.jit(lambda M, g, lk=lk: lk.loglike(observables(dict(base, M_Zp=M, g_X=g), "B-L")))
           for k, lk in lks.items()}
    rows = []
    for k, f in fns.items():
        out = []
        for M in MASSES_MEV:
            M_GeV = M * 1e-3
            l0 = float(f(M_GeV, 0.0))
            d = lambda lg: -2.0 * (float(f(M_GeV, 10.0**lg)) - l0) - ALLOWED_DELTA_CHI2  # noqa: E731
            grid = np.linspace(-8.0, -1.0, 71)
            vals = [d(x) for x in grid]
            i = next((i for i in range(1, len(grid)) if vals[i - 1] < 0 <= vals[i]), None)
            out.append("—" if i is None else f"{10 ** brentq(d, grid[i - 1], grid[i], xtol=1e-4):.2e}")
        rows.append(f"| g_B−L at 90 % CL, {name} {k} | " + " | ".join(out) + " |")
    return rows


def edge_table() -> list[str]:
    head = ["| M_Z′ (MeV) | " + " | ".join(f"{m:g}" for m in MASSES_MEV) + " |", "| --- |" + " --- |" * len(MASSES_MEV)]
    return head + edges("cevns_coherent_lar") + edges("cevns_xenonnt_8b")


def xenon_fit() -> list[str]:
    """XENONnT's fit with a free uniform 8B scale: flux (1 sigma), background-only rejection, expected events."""
    b = cevns.xenon_binned("msbar0", "radiative")
    lo, hi = b.fit.scale_interval()
    T = {t.name: t.nominal.sum() for t in b.fit.templates}
    bkg = sum(v for k, v in T.items() if not k.startswith("b8"))
    sig = sum(v for k, v in T.items() if k.startswith("b8"))
    return [
        "| quantity | XENONnT (arXiv:2408.02877) | ours |",
        "| --- | --- | --- |",
        f"| 8B flux (1 sigma), 1e6 cm⁻² s⁻¹ | 4.7 +3.6 −2.3 | {b.fit.best_scale * PHI_SNO / 1e6:.2f} +{(hi - b.fit.best_scale) * PHI_SNO / 1e6:.2f} −{(b.fit.best_scale - lo) * PHI_SNO / 1e6:.2f} |",
        f"| background-only hypothesis rejected at | 2.73 σ | {np.sqrt(b.fit.chi2_zero - b.fit.chi2_scale):.2f} σ (√Δχ²) |",
        f"| expected background / SM 8B events (nominal templates) | 26.4 +1.4 −1.3 / — | {bkg:.2f} / {sig:.2f} |",
        f"| observed events | 37 | {int(b.fit.data.sum())} |",
    ]


def xenon_template() -> list[str]:
    """Our SM 8B template (the monoenergetic templates weighted by our recoil spectrum) against the release's."""
    rows = ["| science run | largest bin fraction (release) | largest |difference| of bin fractions |", "| --- | --- | --- |"]
    for run, (t, o) in cevns.xenon_binned("msbar0", "radiative").sm_template().items():
        rows.append(f"| {run} | {t.max():.3f} | {np.abs(o - t).max():.4f} |")
    return rows


def cost(rounds: int = 2) -> list[str]:
    """runs/full_B.yaml's value + gradient (bench/likelihood_cost.py's ``cost``) as shipped, with the binned LAr, and
    with XENONnT apart from cevns_solar_8b as its count and binned, alternating."""
    root = Path(__file__).resolve().parent.parent
    sys.path.insert(0, str(root / "bench"))
    from likelihood_cost import cost as measure

    from globalfit.problem.config import load_config
    from globalfit.problem.fitproblem import problem_from_config

    path = root / "runs" / "full_B.yaml"
    apart = {"likelihoods.cevns_solar_8b": False, "likelihoods.cevns_pandax_8b": None}
    variants = {"the shipped config (LAr count, XENONnT count in cevns_solar_8b)": {},
                "LAr binned (`lar_analysis: binned`)": {"likelihoods.cevns_coherent_sns": {"lar_analysis": "binned"}},
                "XENONnT count and PandaX-4T apart (no cevns_solar_8b)": {**apart, "likelihoods.cevns_xenonnt_8b": None},
                "XENONnT binned (`analysis: binned`) and PandaX-4T apart": {
                    **apart, "likelihoods.cevns_xenonnt_8b": {"analysis": "binned"}}}
    problems = {k: problem_from_config(load_config(path, v, "--cost"), str(path)) for k, v in variants.items()}
    z0 = next(iter(problems.values())).start_sites(refs_only=True)
    x0 = jnp.asarray(list(z0.values()))
    got = {k: [] for k in problems}
    for _ in range(rounds):
        for k, p in problems.items():
            got[k].append(measure(p, list(z0), x0))
    rows = ["| runs/full_B.yaml | single value + gradient (µs) | batched, vmap 1024 (µs per point) | compile (s) |",
            "| --- | --- | --- | --- |"]
    for k, v in got.items():
        rows.append(f"| {k} | " + " | ".join(" / ".join(f"{x[i]:.{d}f}" for x in v) for i, d in ((0, 0), (1, 1), (2, 1))) + " |")
    return rows


def _dense_read(stack: rates.RateTableStack):
    """The stack's rates read as before the shared basis (session 53): every table's cubic coefficients padded to the
    common lattice and gathered together, (4, 2, K, 18) numbers per point."""
    j_lo = round(stack.u0 / stack.du)
    j_hi = j_lo + stack.cubic.shape[0]
    cols = []
    for t in stack.tables:
        j0 = round(t.u0 / t.du)
        first, last = np.zeros((1, 4, 2, 18)), np.zeros((1, 4, 2, 18))
        first[0, 0], last[0, 0] = t.cubic[0, 0], t.cubic[-1].sum(axis=0)
        cols.append(np.concatenate([np.repeat(first, j0 - j_lo, 0), t.cubic,
                                    np.repeat(last, j_hi - j0 - t.cubic.shape[0], 0)]))
    cubic = np.stack(cols, axis=3)
    return lambda G, g, M: rates._evaluate(cubic, stack.u0, stack.du, stack.q2_ref, stack.sm, G, g, M)


def stack_cost(rounds: int = 3) -> list[str]:
    """The rate stack of runs/full_B.yaml as shipped (9 tables) and with the binned XENONnT (39): batched value and
    gradient (in g_f and M_Z') of sum ln R_k, vmap 1024 over the prior box, read through the shared basis and as a
    dense read of every table, alternating; best of 10 calls per round."""
    from globalfit.problem.config import load_config
    from globalfit.problem.fitproblem import problem_from_config

    path = Path(__file__).resolve().parent.parent / "runs" / "full_B.yaml"
    apart = {"likelihoods.cevns_solar_8b": False, "likelihoods.cevns_pandax_8b": None}
    variants = {"full_B as shipped": {},
                "full_B, binned XENONnT": {**apart, "likelihoods.cevns_xenonnt_8b": {"analysis": "binned"}}}
    rng = np.random.default_rng(0)
    n = 1024
    M = jnp.asarray(10.0 ** rng.uniform(-5, 0.5, n))
    G = 0.3 * (rng.normal(size=(n, 3, 3)) + 1j * rng.normal(size=(n, 3, 3)))
    G = jnp.asarray(0.5 * (G + np.conj(np.swapaxes(G, 1, 2))))
    rows = ["| rate stack | tables K | shared basis r | shared basis (µs per point) | dense read (µs per point) | "
            "largest |ΔR|/|R − R_SM| |",
            "| --- | --- | --- | --- | --- | --- |"]
    for label, v in variants.items():
        stack = problem_from_config(load_config(path, v, "--stack"), str(path)).rates.stack
        g = jnp.asarray(10.0 ** rng.uniform(-6, -2, (n, len(stack.tables))))
        reads = {"shared": stack.rates, "dense": _dense_read(stack)}
        fns = {k: jax.jit(jax.vmap(jax.value_and_grad(lambda G, g, M, f=f: jnp.sum(jnp.log(f(G, g, M))),
                                                      argnums=(1, 2)))) for k, f in reads.items()}
        best = {k: np.inf for k in fns}
        for _ in range(rounds):
            for k, f in fns.items():
                jax.block_until_ready(f(G, g, M))
                for _ in range(10):
                    t = time.perf_counter()
                    jax.block_until_ready(f(G, g, M))
                    best[k] = min(best[k], time.perf_counter() - t)
        got, want = (jax.jit(jax.vmap(f))(G, g, M) for f in reads.values())
        err = float(jnp.max(jnp.abs(got - want) / jnp.maximum(jnp.abs(want - stack.sm), 1e-300)))
        rows.append(f"| {label} | {len(stack.tables)} | {stack.rank} | {1e6 * best['shared'] / n:.1f} | "
                    f"{1e6 * best['dense'] / n:.1f} | {err:.0e} |")
    return rows


def _ratio_sets(m: int, n: int = 1024) -> dict[str, np.ndarray]:
    """Rate-ratio vectors of m channels, from near the SM to far from it (n each)."""
    rng = np.random.default_rng(2)
    scale = np.log(rng.uniform(0.3, 3, (n, 1)))
    return {"within 5 % of the SM": 1 + 0.05 * rng.normal(size=(n, m)),
            "a uniform scale s in 0.3–3, each channel × exp(0.1 N(0,1))": np.exp(scale + 0.1 * rng.normal(size=(n, m))),
            "the same, × exp(0.3 N(0,1))": np.exp(scale + 0.3 * rng.normal(size=(n, m))),
            "each channel uniform in 0–3": rng.uniform(0, 3, (n, m)),
            "a uniform scale in 0–10": np.repeat(rng.uniform(0, 10, (n, 1)), m, 1)}


def newton_steps() -> list[str]:
    """Each binned profile with 1 and 2 Newton steps from the predictor: the largest chi2 excess over the converged
    profile (30 line-searched steps) and the largest relative change of the gradient in r between 1 and 2 steps, on
    1024 ratio vectors of each kind; then the batched value + gradient of the profile alone (vmap 1024, µs per
    point, best of 10 calls in each of 3 alternating rounds)."""
    rows = ["| profile | ratio vectors | chi2 excess, 1 step | 2 steps | \\|Δ gradient\\| / \\|gradient\\|, 1 against 2 |",
            "| --- | --- | --- | --- | --- |"]
    cost = ["| profile | 1 step (µs per point) | 2 steps (µs per point) |", "| --- | --- | --- |"]
    for label, fit in (("LAr", cevns.lar_binned("msbar0", "radiative").fit),
                       ("XENONnT", cevns.xenon_binned("msbar0", "radiative").fit)):
        fits = {k: fit.with_newton_steps(k) for k in (1, 2)}
        value_grad = {k: jax.jit(jax.vmap(jax.value_and_grad(f.chi2))) for k, f in fits.items()}

        def converged(r):
            f = fit.factor(r)
            theta = jax.lax.fori_loop(0, 30, lambda _, th: fit._newton_step(th, f, None, True), fit.predictor(r))
            return fit.objective(theta, r)

        best = jax.jit(jax.vmap(converged))
        sets = _ratio_sets(fit.factor_map.shape[1])
        for name, R in sets.items():
            R = jnp.asarray(R)
            c0 = best(R)
            (v1, g1), (v2, g2) = value_grad[1](R), value_grad[2](R)
            rel = jnp.linalg.norm(g1 - g2, axis=1) / jnp.maximum(jnp.linalg.norm(g2, axis=1), 1e-300)
            rows.append(f"| {label} | {name} | {float(jnp.max(v1 - c0)):.0e} | {float(jnp.max(v2 - c0)):.0e} | "
                        f"{float(jnp.max(rel)):.0e} |")
        R = jnp.asarray(next(iter(sets.values())))
        t_best = {k: np.inf for k in value_grad}
        for _ in range(3):
            for k, f in value_grad.items():
                jax.block_until_ready(f(R))
                for _ in range(10):
                    t = time.perf_counter()
                    jax.block_until_ready(f(R))
                    t_best[k] = min(t_best[k], time.perf_counter() - t)
        cost.append(f"| {label} | {1e6 * t_best[1] / R.shape[0]:.1f} | {1e6 * t_best[2] / R.shape[0]:.1f} |")
    return rows + [""] + cost


if __name__ == "__main__":
    if "--cost" in sys.argv:
        blocks = (cost(),)
    elif "--stack" in sys.argv:
        blocks = (stack_cost(),)
    elif "--steps" in sys.argv:
        blocks = (newton_steps(),)
    else:
        blocks = (lar_fit(), lar_template(), xenon_fit(), xenon_template(), edge_table())
    for block in blocks:
        print("\n".join(block) + "\n")
