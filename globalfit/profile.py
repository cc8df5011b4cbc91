"""Profile-likelihood maps in the (M_Zp, g_X) plane and the NSI reachable there (arXiv:1607.07616, Figs. 5/6).

For a run config, on a grid of (log10 M_Zp, log10 g_X):

1. **Profile.** lnL_prof(M, g) = max over the other sampled parameters theta (inside their prior box and the
   physical support) of lnL_inc(M, g, theta), the sum of the configured likelihoods minus the ``exclude`` set
   (default: every ``osc_*`` likelihood, i.e. "the region allowed by all non-oscillation constraints"). The map is
   chi2(M, g) = -2 [lnL_prof(M, g) - lnL_ref], lnL_ref = the largest lnL_prof on the grid (the best fit found), and
   (M, g) is allowed at threshold t (2.71: 90 % CL for one parameter, the paper's "allowed"; 5.99: 95 % CL for two)
   when chi2 <= t.
2. **Reach.** For derived quantities q (default ``eps_earth_ee``; any real scalar of
   :data:`globalfit.model.DERIVED_NAMES`, or a difference of diagonal Earth-matter entries of :data:`DIFFERENCES`,
   e.g. ``eps_earth_tautau-mumu``, which is what oscillations see when g_X l adds a flavour-universal part, as in
   B-L and L) and each threshold t: q_max(M, g) = max q(theta) subject to
   -2 [lnL_inc(M, g, theta) - lnL_ref] <= t, and q_min the minimum: the NSI a Z' at (M, g) can give while the
   included data allow it, which is what the contours of the paper's Figs. 5/6 show. NaN where no feasible theta
   was found (the Z' is excluded there at that threshold).

**Parametrisation** (as in :mod:`globalfit.sampling`): each sampled parameter lives on its sample site
(:func:`globalfit.sampling.site_of`: log10 for log-uniform priors, ...), mapped to the real line by numpyro's
``biject_to(support)`` (a scaled sigmoid for bounded sites), so the prior box holds by construction; Eq. (9) is
built in through r_H (``model.constraints: parametrised``). The other support cuts (|kappa| < 1, M_Psi > M_Zp,
cos beta <= 1; r_H <= 1 with ``constraints: cut``) enter the optimisation as a penalty
-K sum max(0, ln(value/bound) + m)^2 (K = 100, margin m = 0.01); every candidate is checked with the exact
:func:`globalfit.support.in_support` and dropped if outside. While optimising, each likelihood passes through
:func:`likelihoods.stats.soften_tail` with ``sampler.soften_chi2`` (exact for -2 Delta ln L <= 25, finite slopes
beyond); every reported lnL and q is the exact value at an actual parameter point.

**Method.** One jitted, vmapped function runs a *chain* per (grid point, start): a sequence of rungs, each
``steps`` Adam steps (beta 0.9/0.99, learning rate decaying exponentially 0.3 -> 0.003, non-finite gradients
zeroed; ``jax.lax.scan``) maximising the tilted log-likelihood

    F_lambda(theta) = lnL_inc(theta) + lambda s asinh(q(theta)/q0),   s = +-1, q0 = 1e-12,

each rung warm-started from the previous one (asinh: log-like over the many decades of q, smooth through 0).
lambda = 0 is the profile; a ladder lambda = 0.1 ... 12 traces the Pareto frontier (chi2, q) of the reach problem
(the Lagrangian form of "max q subject to chi2 <= t": each rung's optimum is the constrained maximum for the
chi2 it lands on); one final rung per threshold uses the lambda interpolated (log chi2 linear in log lambda) to
land just below t - 2 x 0.05, warm-started from the last rung below it. Stage 1: chains with lambda = 0 from
2 x ``starts`` x n_q starts per point (the config's ref point, the same with every Yukawa at its lower end
(SM-like), random points of the box) give lnL_prof and lnL_ref; stage 2: from the ``starts`` best stage-1
optima of each point, chains for s = +1 and -1 and each quantity. q_max (q_min) is the largest (smallest) q over
every stage-1 and stage-2 rung with exact chi2 <= t + 0.05 (``FEAS_TOL``), so it is defined wherever chi2 <= t.
The result is a multi-start local optimum: a lower bound on the true reach (an upper bound on chi2). Both stages
call the same compiled function (one compilation per config, quantities, exclude set, grid size, starts, steps).

**Cost** (2 CPU cores, measured). runs/paper2016_B.yaml (7 non-oscillation likelihoods, 9 nuisance parameters),
12 x 12 grid, 4 starts, 200 steps per rung: 2 x 1152 chains of 13 rungs (6 M gradient evaluations), 17 s in all
(about 7 s of tracing and compilation), 22 s with two quantities. runs/paper2016_BmL.yaml is about 20 x dearer per
evaluation (the q^2-dependent nu-e scattering rates): 10 x 10, 3 starts, 150 steps, two quantities took 133 s. The
running time is linear in grid points x starts x quantities x steps; the compilation is paid once per process.
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
    "LADDER",
    "THRESHOLDS",
    "ProfileResult",
    "oscillation_bounds",
    "draw_reach_contours",
    "draw_reference_lines",
    "load_profile",
    "profile_command",
    "profile_map",
    "profile_plot",
    "split_likelihoods",
]

THRESHOLDS = (2.71, 5.99)  # -2 Delta ln L: 90 % CL (1 dof, the paper's "allowed") and 95 % CL (2 dof)
DEFAULT_EXCLUDE = ("osc_*",)
GRID_PARAMS = ("M_Zp", "g_X")
LADDER = (0.1, 0.2, 0.4, 0.7, 1.0, 1.5, 2.0, 3.0, 4.5, 7.0, 12.0)  # tilts lambda of stage 2
PENALTY_SUPPORT = 100.0  # K of the support penalty
SUPPORT_MARGIN = 0.01  # m, in ln units
Q0 = 1.0e-12
FEAS_TOL = 0.05
LR_START, LR_END = 0.3, 0.003
B1, B2 = 0.9, 0.99
_TINY = 1e-300
# differences of diagonal Earth-matter eps: what oscillations see (a flavour-universal part, g_X l in B-L and L, drops out)
DIFFERENCES = {
    "eps_earth_ee-tautau": ("eps_earth_ee", "eps_earth_tautau"),
    "eps_earth_mumu-tautau": ("eps_earth_mumu", "eps_earth_tautau"),
    "eps_earth_tautau-mumu": ("eps_earth_tautau", "eps_earth_mumu"),
    "eps_earth_ee-mumu": ("eps_earth_ee", "eps_earth_mumu"),
}


@dataclass
class ProfileResult:
    """A profile map. Arrays are indexed ``[i_g, i_M]`` (g_X rows, M_Zp columns); ``q_max``/``q_min`` are
    ``[i_quantity, i_threshold, i_g, i_M]``."""

    log10_M: np.ndarray
    log10_g: np.ndarray
    lnL: np.ndarray  # profile of the included likelihoods
    lnL_ref: float
    quantities: list[str]
    thresholds: tuple[float, ...]
    q_max: np.ndarray
    q_min: np.ndarray
    included: list[str]
    excluded: list[str]
    scenario: str
    best: dict[str, np.ndarray] = field(default_factory=dict)  # nuisance values at the profile optimum
    at_max: dict[str, np.ndarray] = field(default_factory=dict)  # nuisance values where q_max is reached, [i_q, i_t, i_g, i_M]
    at_min: dict[str, np.ndarray] = field(default_factory=dict)
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

    def _q(self, quantity: str | None) -> int:
        if quantity is None:
            return 0
        if quantity not in self.quantities:
            raise InputError(f"quantity {quantity!r} not computed; available: {self.quantities}")
        return self.quantities.index(quantity)

    def extremes(self, quantity: str | None = None, threshold: float = THRESHOLDS[0]) -> tuple[np.ndarray, np.ndarray]:
        """(q_min, q_max) maps of one quantity at one threshold."""
        i, t = self._q(quantity), self._t(threshold)
        return self.q_min[i, t], self.q_max[i, t]

    def reach(self, quantity: str | None = None, threshold: float = THRESHOLDS[0]) -> np.ndarray:
        """max |q| reachable, max(|q_max|, |q_min|) (NaN where infeasible)."""
        lo, hi = self.extremes(quantity, threshold)
        with np.errstate(invalid="ignore"):
            return np.fmax(np.abs(hi), np.abs(lo))

    def point(self, i_g: int, i_M: int, where: str = "best", quantity: str | None = None, threshold: float = THRESHOLDS[0]) -> dict[str, float]:
        """The parameter point (config values, r_H kept) at grid node (i_g, i_M): the profile optimum (``best``) or
        where q_max / q_min is reached (``max`` / ``min``)."""
        if where == "best":
            vals = {k: float(v[i_g, i_M]) for k, v in self.best.items()}
        else:
            src = self.at_max if where == "max" else self.at_min
            iq, it = self._q(quantity), self._t(threshold)
            vals = {k: float(v[iq, it, i_g, i_M]) for k, v in src.items()}
        return dict(self.settings.get("fixed", {}), M_Zp=self.settings["sign_M"] * 10.0 ** self.log10_M[i_M],
                    g_X=self.settings["sign_g"] * 10.0 ** self.log10_g[i_g], **vals)

    def index(self, M_Zp: float, g_X: float) -> tuple[int, int]:
        """Grid indices ``(i_g, i_M)`` of the point nearest to (M_Zp, g_X) in log space."""
        return int(np.argmin(np.abs(self.log10_g - math.log10(g_X)))), int(np.argmin(np.abs(self.log10_M - math.log10(M_Zp))))

    def save(self, path: Path) -> Path:
        arrays = {"log10_M": self.log10_M, "log10_g": self.log10_g, "lnL": self.lnL, "chi2": self.chi2, "q_max": self.q_max, "q_min": self.q_min,
                      "thresholds": np.asarray(self.thresholds)}
        for prefix, d in (("best", self.best), ("at_max", self.at_max), ("at_min", self.at_min)):
            arrays.update({f"{prefix}:{k}": v for k, v in d.items()})
        meta = {"quantities": self.quantities, "lnL_ref": self.lnL_ref, "included": self.included, "excluded": self.excluded,
                    "scenario": self.scenario, "seconds": self.seconds, "settings": self.settings}
        np.savez(path, meta=np.asarray(json.dumps(meta)), **arrays)
        return path


def load_profile(path: Path) -> ProfileResult:
    """Read a ``profile.npz`` written by :meth:`ProfileResult.save`."""
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: no such profile file (written by `globalfit profile` as <out>/profile.npz)")
    with np.load(path, allow_pickle=False) as z:
        if "meta" not in z:
            raise InputError(f"{path}: not a globalfit profile file (no 'meta' entry)")
        meta = json.loads(str(z["meta"]))
        groups: dict[str, dict] = {"best": {}, "at_max": {}, "at_min": {}}
        for key in z.files:
            prefix, sep, name = key.partition(":")
            if sep and prefix in groups:
                groups[prefix][name] = z[key]
        return ProfileResult(
            log10_M=z["log10_M"], log10_g=z["log10_g"], lnL=z["lnL"], lnL_ref=meta["lnL_ref"], quantities=meta["quantities"],
            thresholds=tuple(float(t) for t in z["thresholds"]), q_max=z["q_max"], q_min=z["q_min"], included=meta["included"],
            excluded=meta["excluded"], scenario=meta["scenario"], best=groups["best"], at_max=groups["at_max"],
            at_min=groups["at_min"], seconds=meta["seconds"], settings=meta["settings"])


def _grid_range(cfg, name: str, given) -> tuple[float, float, float]:
    """(log10 lo, log10 hi, sign) of a grid axis: the given range, else the log-uniform prior's."""
    from .sampling import site_of

    spec = cfg.sampled().get(name)
    if spec is None:
        raise ConfigError(f"params.{name}: the profile map needs {name} sampled (a log-uniform prior), not fixed")
    sign = site_of(name, spec).sign
    if given is not None:
        lo, hi = given
        if not (0 < lo < hi):
            raise InputError(f"{name} range must satisfy 0 < lo < hi, got {given}")
        return math.log10(lo), math.log10(hi), sign
    if spec.prior != "log-uniform":
        raise ConfigError(f"params.{name}: the profile map needs a log-uniform prior (or an explicit range), got {spec.prior}")
    return math.log10(spec.min), math.log10(spec.max), sign


def split_likelihoods(lks, patterns, where: str = "the config", optional=()) -> tuple[list, list]:
    """(included, excluded) likelihoods; ``patterns`` holds names or fnmatch patterns. A pattern that matches no
    likelihood is an error naming ``where`` (except those in ``optional``)."""
    names = [lk.name for lk in lks]
    for pat in patterns:
        if pat not in optional and not any(fnmatch.fnmatchcase(n, pat) for n in names):
            raise InputError(f"--exclude {pat!r}: matches no likelihood of {where} ({', '.join(names)})")
    out = [lk for lk in lks if any(fnmatch.fnmatchcase(lk.name, p) for p in patterns)]
    return [lk for lk in lks if lk not in out], out


def _split(lks, exclude) -> tuple[list, list]:
    """:func:`split_likelihoods` with the profile default ``osc_*`` (which may match nothing)."""
    return split_likelihoods(lks, list(DEFAULT_EXCLUDE if exclude is None else exclude), optional=DEFAULT_EXCLUDE)


_SOLVERS: dict = {}


def _build_chain(cfg, lks_inc, quantities: tuple[str, ...], thresholds: tuple[float, ...], steps: int, sign_M: float, sign_g: float):
    """``(chains, nuisance names, ref-point start, SM-like start)``; ``chains(lm, lg, u0, s, qi, lams, ref)`` is the
    jitted chain of the module docstring, vmapped over its first five arguments (one row per chain), returning the
    unconstrained point, exact lnL_inc and every quantity after each rung: ``(B, R, n)``, ``(B, R)``, ``(B, R, n_q)``."""
    import jax
    import jax.numpy as jnp
    from numpyro.distributions.transforms import biject_to

    from likelihoods.stats import soften_tail

    from .model import observables
    from .parameters import complete
    from .sampling import complete_with_rh, prior_centre, site_of, spec_site_bounds
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
    K, T = len(LADDER), len(thresholds)
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
        exact, soft = 0.0, 0.0
        for lk in lks_inc:
            ll = lk.loglike(obs, p)
            exact = exact + ll
            soft = soft + (ll if soften is None else soften_tail(ll, soften))
        ok = in_support(p, sc, opts, include_r_H=not r_h_param) if constrained else jnp.asarray(True)
        value = lambda n: obs[DIFFERENCES[n][0]] - obs[DIFFERENCES[n][1]] if n in DIFFERENCES else obs[n]
        q = jnp.stack([jnp.asarray(value(n), dtype=jnp.float64) for n in quantities])
        return soft, exact, q, support_penalty(p), ok

    def adam(objective, u0):
        """Maximise objective(u) from u0: ``steps`` Adam steps, learning rate LR_START -> LR_END."""
        grad = jax.grad(objective)
        decay = (LR_END / LR_START) ** (1.0 / max(steps - 1, 1))

        def body(carry, t):
            u, m, v = carry
            g = -grad(u)
            g = jnp.where(jnp.isfinite(g), g, 0.0)
            m = B1 * m + (1.0 - B1) * g
            v = B2 * v + (1.0 - B2) * g * g
            mh = m / (1.0 - B1 ** (t + 1.0))
            vh = v / (1.0 - B2 ** (t + 1.0))
            return (u - LR_START * decay**t * mh / (jnp.sqrt(vh) + 1e-8), m, v), None

        z = jnp.zeros_like(u0)
        (u, _, _), _ = jax.lax.scan(body, (u0, z, z), jnp.arange(steps, dtype=jnp.float64))
        return u

    def chain(lm, lg, u0, s, qi, lams, ref):
        def tilted(w, lam):
            soft, _, q, pen, _ = pieces(lm, lg, w)
            return soft + lam * s * jnp.arcsinh(q[qi] / Q0) + pen

        def body(carry, r):
            u, hu, hc = carry
            ladder_rung = r < K
            rl = jnp.minimum(r, K - 1)
            # refinement rung: interpolate log chi2 vs log lambda between the last rung below the target and the next
            target = thr[jnp.clip(r - K, 0, T - 1)] - 2.0 * FEAS_TOL
            feas = hc <= target
            k = jnp.clip(jnp.sum(jnp.cumprod(feas)) - 1, 0, K - 2)
            c0, c1, l0, l1 = hc[k], hc[k + 1], lams[k], lams[k + 1]
            ok = feas[k] & (c1 > target) & jnp.isfinite(c1) & (c1 > c0) & (l0 > 0)
            ratio_l = jnp.where(ok, l1 / jnp.where(l0 > 0, l0, 1.0), 2.0)
            ratio_c = jnp.where(ok, c1 / c0, 2.0)
            lam_ref = jnp.where(ok, l0 * jnp.exp(jnp.log(ratio_l) / jnp.log(ratio_c) * jnp.log(jnp.where(ok, target / c0, 1.0))), l0)
            lam = jnp.where(ladder_rung, lams[rl], jnp.clip(lam_ref, l0, l1))
            start = jnp.where(ladder_rung, u, hu[k])
            u_new = adam(lambda w: tilted(w, lam), start)
            _, exact, q, _, inside = pieces(lm, lg, u_new)
            lnl = jnp.where(inside & jnp.isfinite(exact), exact, -jnp.inf)
            c = jnp.where(jnp.isfinite(lnl), jnp.maximum(-2.0 * (lnl - ref), 1e-6), jnp.inf)
            hu = jnp.where(ladder_rung, hu.at[rl].set(u_new), hu)
            hc = jnp.where(ladder_rung, hc.at[rl].set(c), hc)
            return (u_new, hu, hc), (u_new, lnl, q)

        init = (u0, jnp.zeros((K,) + u0.shape), jnp.full((K,), jnp.inf))
        _, out = jax.lax.scan(body, init, jnp.arange(K + T))
        return out

    chains = jax.jit(jax.vmap(chain, in_axes=(0, 0, 0, 0, 0, None, None)))

    ref_start, sm_start = [], []
    for k, info, b in zip(nuis, infos, bij):
        spec = cfg.sampled()[k]
        lo, hi = spec_site_bounds(info)
        z = info.to_site(spec.ref if spec.ref is not None else prior_centre(spec))
        bounded = math.isfinite(lo) and math.isfinite(hi)
        if bounded:
            z = min(max(z, lo + 1e-3 * (hi - lo)), hi - 1e-3 * (hi - lo))
        ref_start.append(float(b.inv(jnp.asarray(z))))
        sm = k.startswith("y_") and bounded  # |Yukawa| at its lower end: no mixing, no NSI
        sm_start.append(float(b.inv(jnp.asarray(lo + 1e-3 * (hi - lo)))) if sm else ref_start[-1])
    return chains, nuis, infos, bij, np.asarray(ref_start), np.asarray(sm_start)


def profile_map(cfg, lks=None, grid: int | tuple[int, int] = 12, quantity: str | list[str] | tuple[str, ...] = "eps_earth_ee",
                exclude=None, thresholds: tuple[float, ...] = THRESHOLDS, starts: int = 4, steps: int = 200, seed: int = 0,
                M_range: tuple[float, float] | None = None, g_range: tuple[float, float] | None = None) -> ProfileResult:
    """Profile map of a run config (a :class:`~globalfit.config.RunConfig` or a path); see the module docstring.

    ``grid``: points per axis (n or (n_M, n_g)); ``quantity``: one derived name or several; ``exclude``: likelihood
    names or fnmatch patterns left out of the profile (default ``("osc_*",)``; ``()`` keeps all); ``steps``: Adam
    steps per rung; ``M_range``/``g_range``: GeV / coupling ranges (default: the priors of M_Zp and g_X)."""
    import jax.numpy as jnp

    from .config import config_hash, load_config
    from .model import DERIVED_NAMES

    if isinstance(cfg, (str, Path)):
        path = Path(cfg)
        if lks is None:
            from .engine import _prepare

            cfg, lks = _prepare(path)
        else:
            cfg = load_config(path)
    if lks is None:
        from likelihoods import build_likelihoods

        lks = build_likelihoods(cfg.likelihoods, cfg.model.scenario, where="profile")
    quantities = (quantity,) if isinstance(quantity, str) else tuple(quantity)
    for q in quantities:
        if q not in DERIVED_NAMES and q not in DIFFERENCES:
            import difflib

            hint = difflib.get_close_matches(q, list(DERIVED_NAMES) + list(DIFFERENCES), n=1)
            raise InputError(f"quantity {q!r}: unknown derived quantity{f' (did you mean {hint[0]!r}?)' if hint else ''}; `globalfit evaluate` lists them")
    if not quantities:
        raise InputError("give at least one quantity")
    n_M, n_g = (grid, grid) if isinstance(grid, int) else tuple(grid)
    if n_M < 2 or n_g < 2 or starts < 1 or steps < 1:
        raise InputError(f"need grid >= 2 per axis, starts >= 1, steps >= 1 (got grid {grid}, starts {starts}, steps {steps})")
    thresholds = tuple(sorted(float(t) for t in thresholds))
    lm_lo, lm_hi, sign_M = _grid_range(cfg, "M_Zp", M_range)
    lg_lo, lg_hi, sign_g = _grid_range(cfg, "g_X", g_range)
    inc, out = _split(lks, exclude)
    key = (config_hash(cfg), tuple(lk.name for lk in inc), quantities, thresholds, steps, sign_M, sign_g)
    if key not in _SOLVERS:
        _SOLVERS[key] = _build_chain(cfg, inc, quantities, thresholds, steps, sign_M, sign_g)
    chains, nuis, infos, bij, ref_start, sm_start = _SOLVERS[key]

    lM = np.linspace(lm_lo, lm_hi, n_M)
    lG = np.linspace(lg_lo, lg_hi, n_g)
    LM, LG = np.meshgrid(lM, lG)  # (n_g, n_M)
    P, Q, S, n = LM.size, len(quantities), starts, len(nuis)
    N1 = 2 * S * Q  # stage-1 starts per point: the same batch size as stage 2 (Q quantities x 2 signs x S)
    rng = np.random.default_rng(seed)
    t0 = time.time()

    # stage 1: profile (lambda = 0 on every rung)
    u0 = rng.normal(0.0, 1.5, size=(P, N1, n))
    u0[:, 0] = ref_start
    if N1 > 1:
        u0[:, 1] = sm_start
    rep = lambda a: np.repeat(a.ravel(), N1)
    lams0 = jnp.zeros(len(LADDER))
    us1, lnl1, q1 = chains(jnp.asarray(rep(LM)), jnp.asarray(rep(LG)), jnp.asarray(u0.reshape(P * N1, n)), jnp.ones(P * N1),
                           jnp.zeros(P * N1, dtype=jnp.int32), lams0, 0.0)
    R = lnl1.shape[1]
    us1 = np.asarray(us1).reshape(P, N1 * R, n)
    lnl1 = np.asarray(lnl1).reshape(P, N1 * R)
    q1 = np.asarray(q1).reshape(P, N1 * R, Q)
    order = np.argsort(-np.where(np.isfinite(lnl1), lnl1, -np.inf), axis=1)
    lnl = np.take_along_axis(lnl1, order[:, :1], axis=1)[:, 0]
    if not np.isfinite(lnl).any():
        raise InputError("no grid point has a finite profile: every optimum left the physical support (check the priors)")
    ref = float(np.max(lnl[np.isfinite(lnl)]))
    u_best = us1[np.arange(P), order[:, 0]]

    # stage 2: tilt ladders from the S best stage-1 optima (one per chain of stage 1), each quantity, both signs
    chain_best = np.full((P, N1), -np.inf)
    chain_u = np.zeros((P, N1, n))
    lr = lnl1.reshape(P, N1, R)
    kbest = np.argmax(np.where(np.isfinite(lr), lr, -np.inf), axis=2)
    chain_best = np.take_along_axis(lr, kbest[..., None], axis=2)[..., 0]
    chain_u = np.take_along_axis(us1.reshape(P, N1, R, n), kbest[..., None, None], axis=2)[:, :, 0]
    top = np.argsort(-np.where(np.isfinite(chain_best), chain_best, -np.inf), axis=1)[:, :S]
    u2 = np.take_along_axis(chain_u, top[..., None], axis=1)  # (P, S, n)
    u2 = np.broadcast_to(u2[:, None, None], (P, Q, 2, S, n)).reshape(P * N1, n)
    signs = np.broadcast_to(np.array([1.0, -1.0])[None, None, :, None], (P, Q, 2, S)).ravel()
    qidx = np.broadcast_to(np.arange(Q)[None, :, None, None], (P, Q, 2, S)).ravel().astype(np.int32)
    us2, lnl2, q2 = chains(jnp.asarray(rep(LM)), jnp.asarray(rep(LG)), jnp.asarray(u2), jnp.asarray(signs), jnp.asarray(qidx),
                         jnp.asarray(LADDER), ref)
    lnl2 = np.asarray(lnl2).reshape(P, Q, 2, S * R)
    q2 = np.asarray(q2).reshape(P, Q, 2, S * R, Q)
    secs = time.time() - t0

    chi1 = -2.0 * (lnl1 - ref)  # (P, N1 R)
    chi2_2 = -2.0 * (lnl2 - ref)  # (P, Q, 2, S R)
    T = len(thresholds)
    q_max = np.full((Q, T, P), np.nan)
    q_min = np.full((Q, T, P), np.nan)
    u_max = np.zeros((Q, T, P, n))
    u_min = np.zeros((Q, T, P, n))
    us2 = np.asarray(us2).reshape(P, Q, 2, S * R, n)
    rows = np.arange(P)
    for iq in range(Q):
        for it, t in enumerate(thresholds):
            f1 = chi1 <= t + FEAS_TOL
            for sgn, qa, ua, fill in ((0, q_max, u_max, -np.inf), (1, q_min, u_min, np.inf)):
                f2 = chi2_2[:, iq, sgn] <= t + FEAS_TOL
                vals = np.concatenate([np.where(f1, q1[..., iq], fill), np.where(f2, q2[:, iq, sgn, :, iq], fill)], axis=1)
                vals = np.where(np.isnan(vals), fill, vals)
                pts = np.concatenate([us1, us2[:, iq, sgn]], axis=1)
                k = np.argmax(vals, axis=1) if sgn == 0 else np.argmin(vals, axis=1)
                v = vals[rows, k]
                qa[iq, it] = np.where(np.isfinite(v), v, np.nan)
                ua[iq, it] = pts[rows, k]
    shape = LM.shape
    phys = lambda uu, shp: {k: np.asarray(info.to_value(b(jnp.asarray(uu[..., j])))).reshape(shp) for j, (k, info, b) in enumerate(zip(nuis, infos, bij))}
    best = phys(u_best, shape)
    return ProfileResult(
        log10_M=lM,
        log10_g=lG,
        lnL=lnl.reshape(shape),
        lnL_ref=ref,
        quantities=list(quantities),
        thresholds=thresholds,
        q_max=q_max.reshape((Q, T) + shape),
        q_min=q_min.reshape((Q, T) + shape),
        included=[lk.name for lk in inc],
        excluded=[lk.name for lk in out],
        scenario=cfg.model.scenario,
        best=best,
        at_max=phys(u_max, (Q, T) + shape),
        at_min=phys(u_min, (Q, T) + shape),
        seconds=secs,
        settings={"grid": [n_M, n_g], "starts": starts, "steps": steps, "seed": seed, "ladder": list(LADDER), "sign_M": sign_M, "sign_g": sign_g,
                      "fixed": cfg.fixed_values()},
    )


def oscillation_bounds(quantity: str, record: dict) -> tuple[float | None, float | None] | None:
    """(lo, hi) on ``quantity`` from an oscillation record (:mod:`likelihoods.oscillation`): the differences
    eps_ee - eps_tautau and eps_mumu - eps_tautau directly (eps_tautau - eps_mumu with the sign flipped), |eps_ab| its
    upper limit, and a single diagonal entry when it alone is non-zero: eps_ee <- eps_ee - eps_tautau,
    eps_mumu <- eps_mumu - eps_tautau, eps_tautau <- minus eps_mumu - eps_tautau (the stronger of the two, as in the
    paper's Fig. 6). None when the record says nothing about ``quantity``."""
    lo_mm, hi_mm = record["mm_tt"]
    table = {
        "eps_earth_ee": tuple(record["ee_tt"]),
        "eps_earth_ee-tautau": tuple(record["ee_tt"]),
        "eps_earth_mumu": (lo_mm, hi_mm),
        "eps_earth_mumu-tautau": (lo_mm, hi_mm),
        "eps_earth_tautau": (-hi_mm, -lo_mm),
        "eps_earth_tautau-mumu": (-hi_mm, -lo_mm),
    }
    if quantity in table:
        return table[quantity]
    if quantity.startswith("abs_eps_earth_"):
        return (None, record[quantity.removeprefix("abs_eps_earth_")])
    return None


def _label(quantity: str) -> str:
    from .plots import label_of

    if quantity in DIFFERENCES:
        a, b = DIFFERENCES[quantity]
        return "$" + label_of(a).strip("$") + " - " + label_of(b).strip("$") + "$"
    return label_of(quantity)


def abs_label(quantity: str) -> str:
    """|q| as a label (q's own label when it is already a modulus, abs_*)."""
    q = _label(quantity)
    return q if quantity.startswith("abs_") else f"|{q}|"


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


def draw_reach_contours(ax, X, Y, R, decades: int, label: str) -> list:
    """Dashed red contours of a positive map R (masked where undefined) at whole decades, at most ``decades`` below
    its largest value; returns the legend handle (none when R has no positive value)."""
    from matplotlib.lines import Line2D

    pos = np.ma.masked_invalid(R).compressed()
    pos = pos[pos > 0]
    if not pos.size:
        return []
    lo, hi = math.floor(math.log10(pos.min())), math.ceil(math.log10(pos.max()))
    levels = [10.0**k for k in range(max(lo, hi - decades), hi + 1)]
    cs = ax.contour(X, Y, R, levels=levels, colors="C3", linewidths=0.8, linestyles="--")
    ax.clabel(cs, fmt=lambda v: f"{v:.0e}", fontsize=7)
    return [Line2D([], [], color="C3", ls="--", lw=0.8, label=label)]


def draw_reference_lines(ax, X, Y, q_min, q_max, quantity: str, cfg, scenario: str, m_lo: float, m_hi: float) -> list:
    """Draw, on a (M_Zp, g_X) map, where the reachable ``q_max`` / ``q_min`` equal the current (osc_lma, solid) and
    DUNE+T2HK (osc_dune_t2hk, dash-dotted) oscillation bounds on ``quantity``, and the cosmology bound on M_Zp
    (dotted); return the legend handles. ``cfg`` supplies the records (none drawn without it)."""
    from matplotlib.lines import Line2D

    from .scenarios import get_scenario

    handles = []
    qlabel = _label(quantity)
    records = _osc_records(cfg) if cfg is not None else {}
    if quantity in ("eps_earth_ee", "eps_earth_mumu", "eps_earth_tautau") and any(get_scenario(scenario).l):
        records = {}  # g_X l adds a flavour-universal part that oscillations do not see: plot a difference instead
        handles.append(Line2D([], [], color="none", label="osc. bounds: see eps_earth_X-Y (universal part unobservable)"))
    for name, ls in (("osc_lma", "-"), ("osc_dune_t2hk", "-.")):
        b = oscillation_bounds(quantity, records[name]) if name in records else None
        if b is None:
            continue
        lo_b, hi_b = b
        drawn = False
        for bound, Z, applies in ((hi_b, q_max, hi_b is not None and hi_b > 0), (lo_b, q_min, lo_b is not None and lo_b < 0)):
            Zm = np.ma.masked_invalid(Z)
            if not applies or Zm.count() == 0 or not (Zm.min() < bound < Zm.max()):
                continue
            ax.contour(X, Y, Zm, levels=[bound], colors="k", linestyles=ls, linewidths=1.4)
            drawn = True
        if drawn:
            label = "current (osc_lma)" if name == "osc_lma" else "DUNE+T2HK (osc_dune_t2hk)"
            rng = f"$\\leq$ {hi_b:g}" if lo_b is None else f"in [{lo_b:g}, {hi_b:g}]"
            handles.append(Line2D([], [], color="k", ls=ls, lw=1.4, label=f"{label}: {qlabel} {rng}"))
    m_cos = _cosmology_bound(cfg) if cfg is not None else None
    if m_cos is not None and m_lo <= m_cos <= m_hi:
        ax.axvline(m_cos, color="k", ls=":", lw=1.2)
        handles.append(Line2D([], [], color="k", ls=":", lw=1.2, label=f"cosmology: $M_{{Z'}}$ = {m_cos * 1e3:g} MeV"))
    return handles


def profile_plot(result: ProfileResult, cfg=None, quantity: str | None = None, threshold: float = THRESHOLDS[0], ax=None):
    """Paper-style figure (Figs. 5/6 of arXiv:1607.07616): M_Zp horizontal, g_X vertical, both log. Shaded: the
    region allowed by the included likelihoods (chi2 <= threshold; lighter up to the next threshold); thin dashed:
    contours of the largest reachable |q| (decades); solid / dash-dotted black: where the reachable q equals the
    current (osc_lma) / DUNE+T2HK (osc_dune_t2hk) bound on q (beyond the line, towards larger |q|, the allowed Z'
    gives NSI that those oscillation data see); dotted vertical: the cosmology bound on M_Zp. ``cfg`` (the run
    config) supplies the oscillation records and the cosmology bound; without it those lines are omitted."""
    import warnings

    from matplotlib.patches import Patch

    from .plots import _mpl

    plt = _mpl()
    quantity = quantity or result.quantities[0]
    qlabel = _label(quantity)
    M = 10.0**result.log10_M
    G = 10.0**result.log10_g
    X, Y = np.meshgrid(M, G)
    chi2 = np.where(np.isfinite(result.chi2), result.chi2, 1e30)
    q_min, q_max = result.extremes(quantity, threshold)
    if ax is None:
        fig, ax = plt.subplots(figsize=(6.4, 5.0))
    else:
        fig = ax.figure
    handles = []
    looser = [t for t in result.thresholds if t > threshold]
    what = " (non-osc.)" if result.excluded else ""
    if looser:
        ax.contourf(X, Y, chi2, levels=[-1e9, looser[0]], colors=["#deebf7"])
    ax.contourf(X, Y, chi2, levels=[-1e9, threshold], colors=["#9ecae1"])
    handles.append(Patch(color="#9ecae1", label=rf"allowed{what}: $-2\Delta\ln L \leq {threshold:g}$"))
    if looser:
        handles.append(Patch(color="#deebf7", label=rf"$-2\Delta\ln L \leq {looser[0]:g}$"))
    R = np.ma.masked_invalid(result.reach(quantity, threshold))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        handles += draw_reach_contours(ax, X, Y, R, decades=8, label=f"largest reachable {abs_label(quantity)}")
        handles += draw_reference_lines(ax, X, Y, q_min, q_max, quantity, cfg, result.scenario, M[0], M[-1])
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlim(M[0], M[-1])
    ax.set_ylim(G[0], G[-1])
    ax.set_xlabel(r"$M_{Z'}$ [GeV]")
    ax.set_ylabel(r"$g_X$")
    ax.set_title(f"{result.scenario}: profile likelihood and reachable {qlabel}", fontsize=10)
    ax.legend(handles=handles, fontsize=7, loc="upper left", framealpha=0.85)
    fig.tight_layout()
    return fig


def profile_command(config_path, out=None, grid=12, quantity: str | list[str] = "eps_earth_ee", exclude=None, starts: int = 4,
                    steps: int = 200, formats=("pdf", "png")) -> int:
    """``globalfit profile CONFIG``: compute the map, write ``profile.npz`` and ``profile_<quantity>.pdf``/``.png``
    into ``out`` (default ``<output.dir>/profile``, else ``out/profile_<config stem>``), print a summary; exit code 0."""
    from .engine import _prepare
    from .plots import _mpl

    path = Path(config_path)
    cfg, lks = _prepare(path)
    if out is None:
        out = Path(cfg.output.dir) / "profile" if cfg.output is not None else Path("out") / f"profile_{path.stem}"
    out = Path(out)
    if isinstance(grid, (list, tuple)):
        grid = int(grid[0]) if len(grid) == 1 else (int(grid[0]), int(grid[1]))
    quantities = [quantity] if isinstance(quantity, str) else list(quantity)
    t0 = time.time()
    res = profile_map(cfg, lks, grid=int(grid) if not isinstance(grid, tuple) else grid, quantity=quantities, exclude=exclude,
                      starts=starts, steps=steps)
    total = time.time() - t0
    out.mkdir(parents=True, exist_ok=True)
    files = [res.save(out / "profile.npz")]
    plt = _mpl()
    for q in quantities:
        fig = profile_plot(res, cfg, q)
        for fmt in formats:
            f = out / f"profile_{q}.{fmt}"
            fig.savefig(f, dpi=130 if fmt == "png" else None, bbox_inches="tight")
            files.append(f)
        plt.close(fig)
    print(f"profile of {path} ({res.scenario}): grid {res.settings['grid']}, {starts} starts, {steps} Adam steps per rung; "
          f"{total:.1f} s ({res.seconds:.1f} s optimising, compilation included on the first call)")
    print(f"  included: {', '.join(res.included)}")
    print(f"  excluded: {', '.join(res.excluded) or '(none)'}")
    print(f"  lnL_ref = {res.lnL_ref:.4g}; share of the grid allowed: " + ", ".join(f"{float(np.mean(res.allowed(t))):.2f} at {t:g}" for t in res.thresholds))
    for q in quantities:
        r = res.reach(q)
        if np.isfinite(r).any():
            i, j = np.unravel_index(np.nanargmax(r), r.shape)
            print(f"  largest reachable |{q}| (chi2 <= {res.thresholds[0]:g}) = {r[i, j]:.3g} at M_Zp = {10**res.log10_M[j]:.3g} GeV, "
                  f"g_X = {10**res.log10_g[i]:.3g}")
    for f in files:
        print(f)
    return 0
