"""Profile-likelihood maps in the (M_Zp, g_X) plane and the NSI reachable there (arXiv:1607.07616, Figs. 5/6).

For a run config, on a grid of (log10 M_Zp, log10 g_X):

1. **Profile.** lnL_prof(M, g) = max over the other sampled parameters theta (inside their prior box and the
   physical support) of lnL_inc(M, g, theta) = sum of the configured likelihoods minus the ``exclude`` set (default
   every ``osc_*`` likelihood: "the region allowed by all non-oscillation constraints"). The map is
   chi2(M, g) = -2 [lnL_prof(M, g) - lnL_ref], lnL_ref = the largest lnL_prof on the grid (the best fit found),
   and (M, g) is allowed at threshold t (2.71: 90 % CL, 5.99: 95 % CL for 2 parameters) when chi2 <= t.
2. **Reach.** For a derived quantity q (default ``eps_earth_ee``, any real scalar of
   :data:`globalfit.model.DERIVED_NAMES`) and each threshold t: q_max(M, g) = max q(theta) subject to
   -2 [lnL_inc(theta) - lnL_ref] <= t, and q_min the minimum -- the NSI a Z' at (M, g) can give while the Z'
   itself and its mixing are allowed, which is what the contours of the paper's Figs. 5/6 show. Undefined (NaN)
   where no feasible theta was found (the Z' is excluded there at that threshold).

**Parametrisation** (as in :mod:`globalfit.sampling`): each sampled parameter lives on its sample site
(:func:`globalfit.sampling.site_of`: log10 for log-uniform priors, ...), mapped to the real line by numpyro's
``biject_to(support)`` (a scaled sigmoid for the bounded sites), so the prior box holds by construction; Eq. (9) is
built in through r_H (``model.constraints: parametrised``). The remaining support cuts (|kappa| < 1, M_Psi > M_Zp,
cos beta <= 1; r_H <= 1 when cut) enter the optimisation as a smooth penalty -K sum max(0, ln(value/bound) +
1e-3)^2 (K = 1e3); every optimum is then checked with the exact :func:`globalfit.support.in_support` and rejected
if outside. While optimising, each likelihood passes through :func:`likelihoods.stats.soften_tail` with
``sampler.soften_chi2`` (exact for -2 Delta ln L <= 25, finite slopes beyond); reported values are exact.

**Optimiser.** Adam (beta1 0.9, beta2 0.999) written with ``jax.lax.scan``, a learning rate decaying
exponentially from 0.3 to 0.003 over ``steps`` steps, non-finite gradients zeroed; vmapped over grid points x
starts (``starts``: the config's ref point, the same with every Yukawa site at its lower end (SM-like), and random
points of the box); the whole map (both stages) is one ``jax.jit`` call, compiled once per (config, quantity,
exclude, grid size, starts, steps). Stage 2 starts from the stage-1 optima of the same grid point.
**Constrained extremum by a quadratic penalty:** stage 2 maximises
    s asinh(q/q0) - lambda max(0, chi2(theta) - t)^2 + support penalty,   s = +-1, q0 = 1e-12, lambda = 50
(asinh: log-like over the many decades of q, smooth through 0); for a constraint growing like kappa^2 this
settles at chi2 - t ~ 1/(2 lambda t) ~ 4e-3. A candidate counts as feasible when its exact chi2 <= t + 0.05
(``FEAS_TOL``); the stage-1 optima are candidates too, so q_max and q_min are defined wherever chi2 <= t.
The result is a local, multi-start optimum: a lower bound on the true reach and an upper bound on chi2.

**Cost** (2 CPU cores, paper2016_B, 8 likelihoods, 9 nuisance parameters): a 12 x 12 grid, 4 starts, 200 steps,
thresholds (2.71, 5.99) runs 144 x 4 x (1 + 4) = 2880 optimisations of 200 steps: about 20 s of compilation plus
about 25 s of running (measured, see the module's tests); the cost is linear in grid points x starts x steps.
"""

from __future__ import annotations

import fnmatch
import json
import math
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from . import _jax  # noqa: F401
from .errors import ConfigError, InputError

__all__ = [
    "THRESHOLDS",
    "ProfileResult",
    "profile_map",
    "oscillation_bounds",
    "profile_plot",
    "profile_command",
]

THRESHOLDS = (2.71, 5.99)  # -2 Delta ln L: 90 % CL (1 dof, the paper's "allowed") and 95 % CL (2 dof)
DEFAULT_EXCLUDE = ("osc_*",)
GRID_PARAMS = ("M_Zp", "g_X")
PENALTY_SUPPORT = 1.0e3
SUPPORT_MARGIN = 1.0e-3
PENALTY_CHI2 = 50.0
Q0 = 1.0e-12
FEAS_TOL = 0.05
LR_START, LR_END = 0.3, 0.003
_TINY = 1e-300


@dataclass
class ProfileResult:
    """A profile map. Arrays are indexed ``[i_g, i_M]`` (g_X rows, M_Zp columns); reach arrays ``[i_threshold, i_g, i_M]``."""

    log10_M: np.ndarray
    log10_g: np.ndarray
    lnL: np.ndarray  # profile of the included likelihoods
    lnL_ref: float
    quantity: str
    thresholds: tuple[float, ...]
    q_max: np.ndarray
    q_min: np.ndarray
    included: list[str]
    excluded: list[str]
    scenario: str
    best: dict[str, np.ndarray] = field(default_factory=dict)  # nuisance values at the profile optimum
    seconds: float = 0.0
    settings: dict = field(default_factory=dict)

    @property
    def chi2(self) -> np.ndarray:
        """-2 [lnL_prof - lnL_ref] on the grid."""
        return -2.0 * (self.lnL - self.lnL_ref)

    def allowed(self, threshold: float = THRESHOLDS[0]) -> np.ndarray:
        return self.chi2 <= threshold

    def _t(self, threshold: float) -> int:
        for i, t in enumerate(self.thresholds):
            if math.isclose(t, threshold):
                return i
        raise InputError(f"threshold {threshold} not computed; available: {list(self.thresholds)}")

    def reach(self, threshold: float = THRESHOLDS[0]) -> np.ndarray:
        """max |q| reachable: max(|q_max|, |q_min|) (NaN where infeasible)."""
        i = self._t(threshold)
        with np.errstate(invalid="ignore"):
            return np.fmax(np.abs(self.q_max[i]), np.abs(self.q_min[i]))

    def index(self, M_Zp: float, g_X: float) -> tuple[int, int]:
        """Grid indices ``(i_g, i_M)`` of the point nearest to (M_Zp, g_X) in log space."""
        return int(np.argmin(np.abs(self.log10_g - math.log10(g_X)))), int(np.argmin(np.abs(self.log10_M - math.log10(M_Zp))))

    def save(self, path: Path) -> Path:
        arrays = dict(log10_M=self.log10_M, log10_g=self.log10_g, lnL=self.lnL, chi2=self.chi2, q_max=self.q_max, q_min=self.q_min,
                      thresholds=np.asarray(self.thresholds))
        arrays.update({f"best:{k}": v for k, v in self.best.items()})
        meta = dict(quantity=self.quantity, lnL_ref=self.lnL_ref, included=self.included, excluded=self.excluded, scenario=self.scenario,
                    seconds=self.seconds, settings=self.settings)
        np.savez(path, meta=np.asarray(json.dumps(meta)), **arrays)
        return path


def _grid_range(cfg, name: str, given) -> tuple[float, float, float]:
    """(log10 lo, log10 hi, sign) of a grid axis: the given range, else the log-uniform prior's."""
    from .sampling import site_of

    spec = cfg.sampled().get(name)
    if spec is None:
        raise ConfigError(f"params.{name}: the profile map needs {name} sampled (a log-uniform prior), not fixed")
    info = site_of(name, spec)
    if given is not None:
        lo, hi = given
        if not (0 < lo < hi):
            raise InputError(f"{name} range must satisfy 0 < lo < hi, got {given}")
        return math.log10(lo), math.log10(hi), info.sign
    if spec.prior != "log-uniform":
        raise ConfigError(f"params.{name}: the profile map needs a log-uniform prior (or an explicit range), got {spec.prior}")
    return math.log10(spec.min), math.log10(spec.max), info.sign


def _split(lks, exclude) -> tuple[list, list]:
    patterns = list(DEFAULT_EXCLUDE if exclude is None else exclude)
    names = [lk.name for lk in lks]
    for pat in patterns:
        if not any(fnmatch.fnmatchcase(n, pat) for n in names) and pat not in DEFAULT_EXCLUDE:
            raise InputError(f"--exclude {pat!r}: matches no likelihood of the config ({names})")
    out = [lk for lk in lks if any(fnmatch.fnmatchcase(lk.name, p) for p in patterns)]
    inc = [lk for lk in lks if lk not in out]
    return inc, out


_SOLVERS: dict = {}


def _build_solver(cfg, lks_inc, quantity: str, thresholds, n_starts: int, steps: int, sign_M: float, sign_g: float):
    """The jitted function ``(lm, lg, u0) -> dict`` for the config (see the module docstring)."""
    import jax
    import jax.numpy as jnp
    from numpyro.distributions.transforms import biject_to

    from likelihoods.stats import soften_tail

    from .model import observables
    from .parameters import complete
    from .sampling import complete_with_rh, site_of
    from .scenarios import get_scenario
    from .support import constraint_values, in_support, model_options, physical_point

    sc = get_scenario(cfg.model.scenario)
    opts = model_options(cfg)
    fixed = cfg.fixed_values()
    nuis = [k for k in cfg.sampled() if k not in GRID_PARAMS]
    infos = [site_of(k, cfg.sampled()[k]) for k in nuis]
    bij = [biject_to(i.distribution.support) for i in infos]
    r_h_param = "r_H" in cfg.sampled() or "r_H" in fixed
    constrained = cfg.model.constraints != "none"
    soften = cfg.sampler.soften_chi2
    thr = jnp.asarray(thresholds, dtype=jnp.float64)

    def point(lm, lg, u):
        values = dict(fixed)
        values["M_Zp"] = sign_M * 10.0**lm
        values["g_X"] = sign_g * 10.0**lg
        for j, (k, info, b) in enumerate(zip(nuis, infos, bij)):
            values[k] = info.to_value(b(u[j]))
        return complete(physical_point(complete_with_rh(values), sc, opts))

    def safe_log(x):
        x = jnp.where(jnp.isfinite(x), x, 1e300)
        ok = x > _TINY
        return jnp.where(ok, jnp.log(jnp.where(ok, x, 1.0)), -700.0)

    def support_penalty(p):
        if not constrained:
            return jnp.asarray(0.0)
        pen = 0.0
        for name, (val, bound, _) in constraint_values(p, sc, opts).items():
            if name.startswith("r_H") and r_h_param:
                continue
            lower = name.startswith("M_")  # M_H > bound, M_Psi > M_Zp
            v = (safe_log(bound) - safe_log(val)) if lower else (safe_log(val) - safe_log(bound))
            pen = pen + jnp.maximum(v + SUPPORT_MARGIN, 0.0) ** 2
        return -PENALTY_SUPPORT * pen

    def pieces(lm, lg, u):
        p = point(lm, lg, u)
        obs = observables(p, sc, opts)
        exact = 0.0
        soft = 0.0
        for lk in lks_inc:
            ll = lk.loglike(obs, p)
            exact = exact + ll
            soft = soft + (ll if soften is None else soften_tail(ll, soften))
        ok = in_support(p, sc, opts, include_r_H=not r_h_param) if constrained else jnp.asarray(True)
        q = obs[quantity]
        return dict(soft=soft, exact=exact, q=q, pen=support_penalty(p), ok=ok)

    def adam(objective, u0):
        """Maximise objective(u) from u0 with ``steps`` Adam steps."""
        grad = jax.grad(objective)
        decay = (LR_END / LR_START) ** (1.0 / max(steps - 1, 1))

        def body(carry, t):
            u, m, v = carry
            g = -grad(u)
            g = jnp.where(jnp.isfinite(g), g, 0.0)
            m = 0.9 * m + 0.1 * g
            v = 0.999 * v + 0.001 * g * g
            mh = m / (1.0 - 0.9 ** (t + 1.0))
            vh = v / (1.0 - 0.999 ** (t + 1.0))
            lr = LR_START * decay**t
            return (u - lr * mh / (jnp.sqrt(vh) + 1e-8), m, v), None

        z = jnp.zeros_like(u0)
        (u, _, _), _ = jax.lax.scan(body, (u0, z, z), jnp.arange(steps, dtype=jnp.float64))
        return u

    def exact_at(lm, lg, u):
        pc = pieces(lm, lg, u)
        lnl = jnp.where(pc["ok"] & jnp.isfinite(pc["exact"]), pc["exact"], -jnp.inf)
        return lnl, pc["q"]

    def stage1(lm, lg, u0):
        u = adam(lambda w: (lambda pc: pc["soft"] + pc["pen"])(pieces(lm, lg, w)), u0)
        return u

    def stage2(lm, lg, u0, s, t, ref):
        def obj(w):
            pc = pieces(lm, lg, w)
            chi2 = -2.0 * (pc["soft"] - ref)
            return s * jnp.arcsinh(pc["q"] / Q0) - PENALTY_CHI2 * jnp.maximum(chi2 - t, 0.0) ** 2 + pc["pen"]

        return adam(obj, u0)

    over_starts = lambda f: jax.vmap(f, in_axes=(None, None, 0))  # noqa: E731

    def solve(lm, lg, u0):
        # stage 1: profile, vmapped over points and starts (candidates: the starts and the optima)
        u1 = jax.vmap(over_starts(stage1))(lm, lg, u0)  # (P, S, n)
        cand = jnp.concatenate([u0, u1], axis=1)  # (P, 2S, n)
        lnl_c, q_c = jax.vmap(over_starts(exact_at))(lm, lg, cand)
        k = jnp.argmax(lnl_c, axis=1)
        lnl = jnp.take_along_axis(lnl_c, k[:, None], axis=1)[:, 0]
        u_best = jnp.take_along_axis(cand, k[:, None, None], axis=1)[:, 0]
        ref = jnp.max(jnp.where(jnp.isfinite(lnl), lnl, -jnp.inf))
        # stage 2: extremes of q from the stage-1 optima, for each sign and threshold
        T = thr.shape[0]
        signs = jnp.concatenate([jnp.ones(T), -jnp.ones(T)])
        ts = jnp.concatenate([thr, thr])

        def per_point(lm1, lg1, us):
            def per_task(s, t):
                return jax.vmap(lambda w: stage2(lm1, lg1, w, s, t, ref))(us)  # (S, n)

            u2 = jax.vmap(per_task)(signs, ts)  # (2T, S, n)
            lnl2, q2 = jax.vmap(jax.vmap(lambda w: exact_at(lm1, lg1, w)))(u2)
            return lnl2, q2

        lnl2, q2 = jax.vmap(per_point)(lm, lg, u1)  # (P, 2T, S)
        chi2_2 = -2.0 * (lnl2 - ref)
        chi2_c = -2.0 * (lnl_c - ref)  # (P, 2S)

        def extreme(s_idx, t):
            feas2 = chi2_2[:, s_idx] <= t + FEAS_TOL
            feas_c = chi2_c <= t + FEAS_TOL
            if s_idx < T:
                a = jnp.max(jnp.where(feas2, q2[:, s_idx], -jnp.inf), axis=1)
                b = jnp.max(jnp.where(feas_c, q_c, -jnp.inf), axis=1)
                return jnp.maximum(a, b)
            a = jnp.min(jnp.where(feas2, q2[:, s_idx], jnp.inf), axis=1)
            b = jnp.min(jnp.where(feas_c, q_c, jnp.inf), axis=1)
            return jnp.minimum(a, b)

        q_max = jnp.stack([extreme(i, thresholds[i]) for i in range(T)])
        q_min = jnp.stack([extreme(T + i, thresholds[i]) for i in range(T)])
        best = {k_: info.to_value(b(u_best[:, j])) for j, (k_, info, b) in enumerate(zip(nuis, infos, bij))}
        return dict(lnL=lnl, ref=ref, q_max=q_max, q_min=q_min, best=best)

    init_sites = []
    lo_sites = []
    for k, info, b in zip(nuis, infos, bij):
        spec = cfg.sampled()[k]
        from .sampling import prior_centre, spec_site_bounds

        ref_v = spec.ref if spec.ref is not None else prior_centre(spec)
        z = info.to_site(ref_v)
        lo, hi = spec_site_bounds(info)
        if math.isfinite(lo) and math.isfinite(hi):
            z = min(max(z, lo + 1e-3 * (hi - lo)), hi - 1e-3 * (hi - lo))
        init_sites.append(float(b.inv(jnp.asarray(z))))
        is_yukawa = k.startswith("y_")
        lo_sites.append(float(b.inv(jnp.asarray(lo + 1e-3 * (hi - lo)))) if (is_yukawa and math.isfinite(lo) and math.isfinite(hi)) else init_sites[-1])
    solve.pieces, solve.adam, solve.stage2 = pieces, adam, stage2
    return jax.jit(solve), nuis, np.asarray(init_sites), np.asarray(lo_sites), solve


def profile_map(cfg, lks=None, grid: int | tuple[int, int] = 12, quantity: str = "eps_earth_ee", exclude=None,
                thresholds: tuple[float, ...] = THRESHOLDS, starts: int = 4, steps: int = 200, seed: int = 0,
                M_range: tuple[float, float] | None = None, g_range: tuple[float, float] | None = None) -> ProfileResult:
    """Profile map of a run config (a :class:`~globalfit.config.RunConfig` or a path) -- see the module docstring.

    ``grid``: points per axis (n or (n_M, n_g)); ``exclude``: likelihood names or fnmatch patterns left out of the
    profile (default ``("osc_*",)``; ``()`` keeps all); ``M_range``/``g_range``: GeV / coupling ranges (default: the
    priors of M_Zp and g_X)."""
    import jax.numpy as jnp

    from .config import config_hash, load_config
    from .model import DERIVED_NAMES

    if isinstance(cfg, (str, Path)):
        path = Path(cfg)
        cfg = load_config(path)
        if lks is None:
            from .engine import _prepare

            cfg, lks = _prepare(path)
    if lks is None:
        from likelihoods import build_likelihoods

        lks = build_likelihoods(cfg.likelihoods, cfg.model.scenario, where="profile")
    if quantity not in DERIVED_NAMES:
        import difflib

        hint = difflib.get_close_matches(quantity, DERIVED_NAMES, n=1)
        raise InputError(f"--quantity {quantity!r}: unknown derived quantity{f' (did you mean {hint[0]!r}?)' if hint else ''}")
    n_M, n_g = (grid, grid) if isinstance(grid, int) else tuple(grid)
    if n_M < 2 or n_g < 2 or starts < 2 or steps < 1:
        raise InputError(f"need grid >= 2 per axis, starts >= 2, steps >= 1 (got grid {grid}, starts {starts}, steps {steps})")
    thresholds = tuple(float(t) for t in thresholds)
    lm_lo, lm_hi, sign_M = _grid_range(cfg, "M_Zp", M_range)
    lg_lo, lg_hi, sign_g = _grid_range(cfg, "g_X", g_range)
    inc, out = _split(lks, exclude)
    key = (config_hash(cfg), tuple(lk.name for lk in inc), quantity, thresholds, starts, steps, sign_M, sign_g)
    if key not in _SOLVERS:
        _SOLVERS[key] = _build_solver(cfg, inc, quantity, thresholds, starts, steps, sign_M, sign_g)
    solve, nuis, init, lo_init, _ = _SOLVERS[key]
    lM = np.linspace(lm_lo, lm_hi, n_M)
    lG = np.linspace(lg_lo, lg_hi, n_g)
    LM, LG = np.meshgrid(lM, lG)  # (n_g, n_M)
    P = LM.size
    rng = np.random.default_rng(seed)
    u0 = rng.normal(0.0, 1.5, size=(P, starts, len(nuis)))
    u0[:, 0] = init
    u0[:, 1] = lo_init
    t0 = time.time()
    res = solve(jnp.asarray(LM.ravel()), jnp.asarray(LG.ravel()), jnp.asarray(u0))
    res = {k: (np.asarray(v) if not isinstance(v, dict) else {kk: np.asarray(vv) for kk, vv in v.items()}) for k, v in res.items()}
    secs = time.time() - t0
    shape = LM.shape
    nanify = lambda a: np.where(np.isfinite(a), a, np.nan)  # noqa: E731
    return ProfileResult(
        log10_M=lM,
        log10_g=lG,
        lnL=res["lnL"].reshape(shape),
        lnL_ref=float(res["ref"]),
        quantity=quantity,
        thresholds=thresholds,
        q_max=nanify(res["q_max"]).reshape((len(thresholds),) + shape),
        q_min=nanify(res["q_min"]).reshape((len(thresholds),) + shape),
        included=[lk.name for lk in inc],
        excluded=[lk.name for lk in out],
        scenario=cfg.model.scenario,
        best={k: v.reshape(shape) for k, v in res["best"].items()},
        seconds=secs,
        settings=dict(grid=[n_M, n_g], starts=starts, steps=steps, seed=seed),
    )


def oscillation_bounds(quantity: str, record: dict) -> tuple[float | None, float | None] | None:
    """(lo, hi) on ``quantity`` implied by an oscillation record (:mod:`likelihoods.oscillation`) when that entry
    alone is non-zero: eps_ee <- eps_ee - eps_tautau, eps_mumu <- eps_mumu - eps_tautau, eps_tautau <- minus
    eps_mumu - eps_tautau (the stronger of the two, the paper's Fig. 6), |eps_ab| <- its upper limit. None when
    the record says nothing about ``quantity`` (only Earth-matter eps)."""
    if quantity == "eps_earth_ee":
        return tuple(record["ee_tt"])
    if quantity == "eps_earth_mumu":
        return tuple(record["mm_tt"])
    if quantity == "eps_earth_tautau":
        lo, hi = record["mm_tt"]
        return (-hi, -lo)
    if quantity.startswith("abs_eps_earth_"):
        return (None, record[quantity.removeprefix("abs_eps_earth_")])
    return None


def _osc_records(cfg) -> dict[str, dict]:
    """Records of the current (osc_lma, with the config's options) and projected (osc_dune_t2hk) oscillation bounds."""
    from likelihoods import build_likelihoods

    opts = dict(cfg.likelihoods.get("osc_lma") or {})
    comb = opts.get("combination", "earth")
    lks = build_likelihoods({"osc_lma": opts, "osc_dune_t2hk": {"combination": comb}}, cfg.model.scenario, where="profile")
    if comb != "earth":
        return {}
    return {lk.name: lk.loglike.record for lk in lks}


def _cosmology_bound(cfg) -> float | None:
    if "cosmology" not in cfg.likelihoods:
        return None
    from likelihoods.cosmology import DATASETS

    o = dict(cfg.likelihoods.get("cosmology") or {})
    return float(o["limit"]) if o.get("limit") is not None else DATASETS[o.get("dataset", "sabti2020")]


def profile_plot(result: ProfileResult, cfg=None, threshold: float = THRESHOLDS[0]):
    """Paper-style figure (Figs. 5/6 of arXiv:1607.07616): M_Zp horizontal, g_X vertical, both log. Shaded: the
    region allowed by the included likelihoods (chi2 <= threshold; the lighter band up to the next threshold);
    thin dashed: contours of the reachable |q| (decades); solid / dash-dotted black: where the reachable q equals
    the current (osc_lma) / DUNE+T2HK bound (NSI observable beyond the line, towards larger |q|); dotted vertical:
    the cosmology bound on M_Zp."""
    import warnings

    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    from .plots import _mpl, label_of

    plt = _mpl()
    M = 10.0**result.log10_M
    G = 10.0**result.log10_g
    X, Y = np.meshgrid(M, G)
    chi2 = result.chi2
    it = result._t(threshold)
    fig, ax = plt.subplots(figsize=(6.4, 5.0))
    handles = []
    others = [t for t in result.thresholds if t > threshold]
    if others:
        ax.contourf(X, Y, chi2, levels=[-1e-9, others[0]], colors=["#deebf7"])
    ax.contourf(X, Y, chi2, levels=[-1e-9, threshold], colors=["#9ecae1"])
    handles.append(Patch(color="#9ecae1", label=rf"allowed: $-2\Delta\ln L \leq {threshold:g}$ (non-osc.)" if result.excluded else rf"allowed: $-2\Delta\ln L \leq {threshold:g}$"))
    if others:
        handles.append(Patch(color="#deebf7", label=rf"$\leq {others[0]:g}$"))
    R = np.ma.masked_invalid(result.reach(threshold))
    qlabel = label_of(result.quantity)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pos = R.compressed()
        pos = pos[pos > 0]
        if pos.size:
            lo, hi = math.floor(math.log10(pos.min())), math.ceil(math.log10(pos.max()))
            levels = [10.0**k for k in range(max(lo, hi - 8), hi + 1)]
            cs = ax.contour(X, Y, R, levels=levels, colors="C3", linewidths=0.8, linestyles="--")
            ax.clabel(cs, fmt=lambda v: f"{v:.0e}", fontsize=7)
            handles.append(Line2D([], [], color="C3", ls="--", lw=0.8, label=f"max reachable |{qlabel}|"))
        if cfg is not None:
            for name, ls in (("osc_lma", "-"), ("osc_dune_t2hk", "-.")):
                rec = _osc_records(cfg).get(name)
                b = oscillation_bounds(result.quantity, rec) if rec else None
                if b is None:
                    continue
                lo_b, hi_b = b
                drawn = False
                if hi_b is not None and hi_b > 0 and np.isfinite(result.q_max[it]).any():
                    ax.contour(X, Y, np.ma.masked_invalid(result.q_max[it]), levels=[hi_b], colors="k", linestyles=ls, linewidths=1.4)
                    drawn = True
                if lo_b is not None and lo_b < 0 and np.isfinite(result.q_min[it]).any():
                    ax.contour(X, Y, np.ma.masked_invalid(result.q_min[it]), levels=[lo_b], colors="k", linestyles=ls, linewidths=1.4)
                    drawn = True
                if drawn:
                    what = "current (osc_lma)" if name == "osc_lma" else "DUNE+T2HK (osc_dune_t2hk)"
                    rng = ", ".join(f"{v:g}" for v in b if v is not None)
                    handles.append(Line2D([], [], color="k", ls=ls, lw=1.4, label=f"{what}: {qlabel} bound [{rng}]"))
            m_cos = _cosmology_bound(cfg)
            if m_cos is not None and M[0] <= m_cos <= M[-1]:
                ax.axvline(m_cos, color="k", ls=":", lw=1.2)
                handles.append(Line2D([], [], color="k", ls=":", lw=1.2, label=f"cosmology: $M_{{Z'}}$ = {m_cos * 1e3:g} MeV"))
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlim(M[0], M[-1])
    ax.set_ylim(G[0], G[-1])
    ax.set_xlabel(r"$M_{Z'}$ [GeV]")
    ax.set_ylabel(r"$g_X$")
    ax.set_title(f"U(1)$_{{{result.scenario}}}$: profile likelihood and reachable {qlabel}", fontsize=10)
    ax.legend(handles=handles, fontsize=7, loc="lower right", framealpha=0.85)
    fig.tight_layout()
    return fig


def profile_command(config_path, out=None, grid=12, quantity: str = "eps_earth_ee", exclude=None, starts: int = 4, steps: int = 200,
                    formats=("pdf", "png")) -> int:
    """``globalfit profile CONFIG``: compute the map, write ``profile.npz``, ``profile.pdf``/``.png`` and a summary
    into ``out`` (default ``<output.dir>/profile``, else ``out/profile_<config stem>``); return the exit code."""
    from .engine import _prepare

    path = Path(config_path)
    cfg, lks = _prepare(path)
    if out is None:
        out = Path(cfg.output.dir) / "profile" if cfg.output is not None else Path("out") / f"profile_{path.stem}"
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    if isinstance(grid, (list, tuple)) and len(grid) == 1:
        grid = int(grid[0])
    grid = int(grid) if isinstance(grid, (int, str)) else tuple(int(x) for x in grid)
    t0 = time.time()
    res = profile_map(cfg, lks, grid=grid, quantity=quantity, exclude=exclude, starts=starts, steps=steps)
    total = time.time() - t0
    res.save(out / "profile.npz")
    fig = profile_plot(res, cfg)
    files = []
    for fmt in formats:
        f = out / f"profile.{fmt}"
        fig.savefig(f, dpi=130 if fmt == "png" else None, bbox_inches="tight")
        files.append(f)
    from .plots import _mpl

    _mpl().close(fig)
    frac = {t: float(np.mean(res.allowed(t))) for t in res.thresholds}
    print(f"profile of {path} ({res.scenario}): grid {res.settings['grid']}, {starts} starts, {steps} Adam steps; {total:.1f} s")
    print(f"  included: {', '.join(res.included)}")
    print(f"  excluded: {', '.join(res.excluded) or '(none)'}")
    print(f"  lnL_ref = {res.lnL_ref:.4g}; allowed share of the grid: " + ", ".join(f"{frac[t]:.2f} at {t:g}" for t in res.thresholds))
    r = res.reach(res.thresholds[0])
    if np.isfinite(r).any():
        i, j = np.unravel_index(np.nanargmax(r), r.shape)
        print(f"  largest reachable |{quantity}| = {r[i, j]:.3g} at M_Zp = {10**res.log10_M[j]:.3g} GeV, g_X = {10**res.log10_g[i]:.3g}")
    for f in [out / "profile.npz"] + files:
        print(f)
    return 0
