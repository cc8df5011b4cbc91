"""Profile-likelihood maps in the (M_Zp, g_X) plane and the NSI reachable there (arXiv:1607.07616, Figs. 5/6).

For a run config, on a grid of (log10 M_Zp, log10 g_X):

1. **Profile.** lnL_prof(M, g) = max over the other sampled parameters theta (inside their prior box and the
   physical support) of lnL_inc(M, g, theta), the sum of the configured likelihoods minus the ``exclude`` set
   (default: every ``osc_*`` likelihood, i.e. "the region allowed by all non-oscillation constraints"). The map is
   chi2(M, g) = -2 [lnL_prof(M, g) - lnL_ref], lnL_ref = the largest lnL_prof on the grid (the best fit found), and
   (M, g) is allowed at threshold t (2.71: 90 % CL for one parameter, the paper's "allowed"; 5.99: 95 % CL for two)
   when chi2 <= t.
2. **Reach.** For derived quantities q (default ``eps_earth_ee``; any real scalar of
   :data:`globalfit.physics.model.DERIVED_NAMES`, or a difference of diagonal Earth-matter entries of :data:`DIFFERENCES`,
   e.g. ``eps_earth_tautau-mumu``, which is what oscillations see when g_X l adds a flavour-universal part, as in
   B-L and L) and each threshold t: q_max(M, g) = max q(theta) subject to
   -2 [lnL_inc(M, g, theta) - lnL_ref] <= t, and q_min the minimum: the NSI a Z' at (M, g) can give while the
   included data allow it, which is what the contours of the paper's Figs. 5/6 show. NaN where no feasible theta
   was found (the Z' is excluded there at that threshold).

**Parametrisation** (the fit problem's, :mod:`globalfit.problem.fitproblem`): each sampled parameter lives on its sample site
(:mod:`globalfit.problem.parametrisation`: log10 for log-uniform priors, u_M_Psi for M_Psi > M_Zp, ...), mapped to the real line by numpyro's
``biject_to(support)`` (a scaled sigmoid for bounded sites), so the prior box holds by construction; Eq. (9) is
built in through r_H (``model.constraints: parametrised``). The other support cuts (|kappa| < 1, M_Psi > M_Zp,
cos beta <= 1; r_H <= 1 with ``constraints: cut``) enter the optimisation as a penalty
-K sum max(0, ln(value/bound) + m)^2 (K = 100, margin m = 0.01); every candidate is checked with the exact
:func:`globalfit.problem.support.in_support` and dropped if outside. While optimising, each likelihood passes through
:func:`likelihoods.stats.exclusion_edge` with ``sampler.soften_chi2`` (exact for -2 Delta ln L <= 25, finite slopes
beyond); every reported lnL and q is the exact value at an actual parameter point.

**Method.** A jitted, vmapped function runs a *chain* per (grid point, start): a sequence of rungs, each a run of
Adam steps (beta 0.9/0.99, learning rate decaying exponentially to 0.003, non-finite gradients zeroed;
``jax.lax.scan``): ``steps`` steps from 0.3 on a stage-1 rung, ``warm_steps`` (default ``steps``) from ``warm_lr``
(default 0.3) on a warm-started rung (tilt ladders, neighbour passes), maximising the tilted log-likelihood

    F_lambda(theta) = lnL_inc(theta) + lambda s asinh(q(theta)/q0),   s = +-1, q0 = 1e-12,

each rung warm-started from the previous one (asinh: log-like over the many decades of q, smooth through 0).
lambda = 0 is the profile; a ladder lambda = 0.1 ... 12 traces the Pareto frontier (chi2, q) of the reach problem
(the Lagrangian form of "max q subject to chi2 <= t": each rung's optimum is the constrained maximum for the
chi2 it lands on); one final rung per threshold uses the lambda interpolated (log chi2 linear in log lambda) to
land just below t - 2 x 0.05, warm-started from the last rung below it. Stage 1: chains of ``profile_rungs``
rungs (default 6; each rung restarts the learning-rate schedule) with lambda = 0 from 2 x ``starts`` x n_q starts
per point (the config's ref point, the same with every Yukawa at its lower end (SM-like), random points of the box)
give lnL_prof and lnL_ref; stage 2: from the ``starts`` best stage-1
optima of each point, chains for s = +1 and -1 and each quantity. q_max (q_min) is the largest (smallest) q over
every stage-1 and stage-2 rung with exact chi2 <= t + 0.05 (``FEAS_TOL``), so it is defined wherever chi2 <= t.
**Neighbour passes** (``polish``, default 1). Each pass is a profile pass after stage 1
(:func:`profile_stage1_polish`: per point, lambda = 0 chains from the best stage-1 optima of its 8 grid neighbours,
appended to its own, so lnL_prof can only rise; lnL_ref is taken after it) and a reach pass after stage 2
(:func:`profile_polish`: per point, quantity and sign, tilt ladders from the ``starts`` best reach optima among the
point and its neighbours; a reach is replaced only where the pass finds a larger (smaller) q within the threshold).
Why: both problems have many local optima, and a multi-start optimum misses the better ones in scattered cells (on a
32 x 32 full_B map, 2 x 100 and 4 x 200 starts x steps differ in reach by a median 0.3 decades per cell); an optimum
found in one cell is a good start in the next (docs/performance.md, "Neighbour passes"). The result is a multi-start
local optimum: a lower bound on the true reach (an upper bound on chi2). Two compiled functions serve every stage:
the lambda = 0 chain (stage 1, profile passes) and the tilt ladder (stage 2, reach passes); one compilation each per
config, quantities, exclude set, block size, starts, steps, profile rungs, warm steps and warm learning rate (the
profile passes get a third compiled function when their rungs differ from stage 1's).
**Dense maps** (``warm_steps`` = steps / 2, ``warm_lr`` = 0.05): a tilt rung starts near its optimum, and the chains of
a neighbour pass start from the neighbours' optima, so short, gentle rungs do as well in less time (24 x 24 full_B
map, 2 x 100 with a pass, against a 4 x 200 map: the reach further about as often as shorter, where 100-step rungs
from 0.3 fall short 7-10 times as often, and the profile lower about as often as higher; less than half the time). On coarse
maps without close neighbours the large first steps are what finds the far optima (docs/performance.md, "Warm-started
rungs").

**Blocks.** The grid is computed in blocks of ``rows_per_task`` g_X rows (:class:`ProfilePlan`): stage 1 of every
block, the profile passes of every block, lnL_ref over the whole grid, stage 2 of every block, the reach passes of
every block (a block's pass reads the previous stage of the blocks below and above it), then the map is assembled.
The blocks are the tasks of a Dask sweep (:mod:`globalfit.inference.sweep`); :func:`profile_map` runs them in this process. Each chain is computed
independently of the others in its batch, so the map does not depend on the block size (checked: bit-identical to
the former single-batch computation) and is the same on any number of workers.

**Cost** (2 CPU cores, measured). runs/paper2016_B.yaml (7 non-oscillation likelihoods, 9 nuisance parameters),
12 x 12 grid, 4 starts, 200 steps per rung: 2 x 1152 chains of 13 rungs (6 M gradient evaluations), 17 s in all
(about 7 s of tracing and compilation), 22 s with two quantities. runs/paper2016_BmL.yaml is about 20 x dearer per
evaluation (the q^2-dependent nu-e scattering rates): 10 x 10, 3 starts, 150 steps, two quantities took 133 s. The
running time is linear in grid points x starts x quantities x steps x (2 + 2 polish) stages (these figures: without
neighbour passes; one pass doubles the time); the compilation is paid once per process.
"""

from __future__ import annotations

import math
import operator
import time
from dataclasses import dataclass, field
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np

from likelihoods.oscillation import config_options

from globalfit import _jax  # noqa: F401
from globalfit.problem.config import config_hash
from globalfit.errors import ConfigError, InputError
from globalfit.names import did_you_mean
from globalfit.physics.model import DERIVED_NAMES, DIFFERENCES
from globalfit.problem.parametrisation import site_bounds
from globalfit.problem import FitProblem, load_problem
from globalfit.outputs.profile_result import THRESHOLDS, ProfileResult
from globalfit.problem.support import constraint_values

__all__ = ["DEFAULT_EXCLUDE", "FEAS_TOL", "LADDER", "THRESHOLDS", "ProfilePlan", "ProfileResult", "ProfileSettings", "assemble_profile",
           "neighbours", "profile_map", "profile_plan", "profile_polish", "profile_reference", "profile_stage1", "profile_stage1_polish",
           "profile_stage2"]

DEFAULT_EXCLUDE = ("osc_*",)
GRID_PARAMS = ("M_Zp", "g_X")
LADDER = (0.1, 0.2, 0.4, 0.7, 1.0, 1.5, 2.0, 3.0, 4.5, 7.0, 12.0)  # tilts lambda of stage 2
PROFILE_RUNGS = 6  # rungs of a lambda = 0 chain
PENALTY_SUPPORT = 100.0  # K of the support penalty
SUPPORT_MARGIN = 0.01  # m, in ln units
Q0 = 1.0e-12
FEAS_TOL = 0.05
LR_START, LR_END = 0.3, 0.003  # Adam learning rate over a rung: LR_START -> LR_END (a warm-started rung: warm_lr -> LR_END)
B1, B2 = 0.9, 0.99
START_MARGIN = 1e-3  # starts on bounded sites lie this fraction of the range inside the edges
_TINY = 1e-300


def _grid_range(problem: FitProblem, name: str, given) -> tuple[float, float, float]:
    """(log10 lo, log10 hi, sign) of a grid axis: the given range, else the log-uniform prior's."""
    spec = problem.cfg.sampled().get(name)
    if spec is None:
        raise ConfigError(f"{problem.where}: params.{name}: the profile map needs {name} sampled (a log-uniform prior), not fixed")
    sign = problem.sites[name].sign
    if given is not None:
        lo, hi = given
        if not (0 < lo < hi):
            raise InputError(f"{name} range must satisfy 0 < lo < hi, got {given}")
        return math.log10(lo), math.log10(hi), sign
    if spec.prior != "log-uniform":
        raise ConfigError(f"{problem.where}: params.{name}: the profile map needs a log-uniform prior (or an explicit range), got {spec.prior}")
    return math.log10(spec.min), math.log10(spec.max), sign


_SOLVERS: dict = {}


def _build_chain(problem: FitProblem, quantities: tuple[str, ...], thresholds: tuple[float, ...], steps: int, sign_M: float, sign_g: float,
                 profile_rungs: int, warm_steps: int, warm_lr: float):
    """``(chains, profile_chains, pass_chains, nuisance names, physical(u, lm, lg), ref-point start, SM-like start)``; ``chains(lm,
    lg, u0, s, qi, lams, ref)`` is the jitted chain of the module docstring, vmapped over its first five arguments (one
    row per chain), returning the unconstrained point, exact lnL_inc and every quantity after each rung: ``(B, R, n)``,
    ``(B, R)``, ``(B, R, n_q)``; ``profile_chains(lm, lg, u0)`` the same for a chain of ``profile_rungs`` rungs at
    lambda = 0 (stage 1), ``pass_chains`` for the profile passes. A stage-1 rung is ``steps`` Adam steps from learning
    rate LR_START; a warm-started rung (tilt ladder, profile pass) ``warm_steps`` steps from ``warm_lr``
    (``pass_chains`` is ``profile_chains`` when the two agree). ``problem`` holds the included likelihoods only."""
    nuis = [k for k in problem.sites if k not in GRID_PARAMS]
    infos = [problem.sites[k] for k in nuis]
    transforms = problem.site_transforms()
    bij = [transforms[i.site] for i in infos]
    K, T = len(LADDER), len(thresholds)
    thr = jnp.asarray(thresholds, dtype=jnp.float64)

    def values(lm, lg, u):
        z = {info.site: b(u[..., j]) for j, (info, b) in enumerate(zip(infos, bij))}
        return problem.values(z, override={"M_Zp": sign_M * 10.0**lm, "g_X": sign_g * 10.0**lg})[0]

    def point(lm, lg, u):
        return problem.physical(values(lm, lg, u))

    def safe_log(x):
        x = jnp.where(jnp.isfinite(x), x, 1e300)
        ok = x > _TINY
        return jnp.where(ok, jnp.log(jnp.where(ok, x, 1.0)), -700.0)

    def support_penalty(p):
        if not problem.constrained:
            return jnp.asarray(0.0)
        pen = 0.0
        for c in constraint_values(p, problem.scenario, problem.options).values():
            if c.eq9 and problem.r_h_parametrised:
                continue
            v = (safe_log(c.bound) - safe_log(c.value)) if c.kind == "lower" else (safe_log(c.value) - safe_log(c.bound))
            pen = pen + jnp.maximum(v + SUPPORT_MARGIN, 0.0) ** 2
        return -PENALTY_SUPPORT * pen

    def pieces(lm, lg, u):
        p = point(lm, lg, u)
        obs = problem.observables(p)
        exact, soft = 0.0, 0.0
        for ll in problem.loglike_terms(p, obs).values():
            exact = exact + ll
            soft = soft + problem.soften_term(ll)
        ok = problem.inside_support(p)
        value = lambda n: obs[DIFFERENCES[n][0]] - obs[DIFFERENCES[n][1]] if n in DIFFERENCES else obs[n]
        q = jnp.stack([jnp.asarray(value(n), dtype=jnp.float64) for n in quantities])
        return soft, exact, q, support_penalty(p), ok

    def adam(objective, u0, steps=steps, lr=LR_START):
        """Maximise objective(u) from u0: ``steps`` Adam steps, learning rate lr -> LR_END (exponential decay)."""
        grad = jax.grad(objective)
        decay = (LR_END / lr) ** (1.0 / max(steps - 1, 1))

        def body(carry, t):
            u, m, v = carry
            g = -grad(u)
            g = jnp.where(jnp.isfinite(g), g, 0.0)
            m = B1 * m + (1.0 - B1) * g
            v = B2 * v + (1.0 - B2) * g * g
            mh = m / (1.0 - B1 ** (t + 1.0))
            vh = v / (1.0 - B2 ** (t + 1.0))
            return (u - lr * decay**t * mh / (jnp.sqrt(vh) + 1e-8), m, v), None

        z = jnp.zeros_like(u0)
        (u, _, _), _ = jax.lax.scan(body, (u0, z, z), jnp.arange(steps, dtype=jnp.float64))
        return u

    def exact_at(lm, lg, u):
        """(exact lnL_inc, -inf outside the physical support; every quantity) at u."""
        _, exact, q, _, inside = pieces(lm, lg, u)
        return jnp.where(inside & jnp.isfinite(exact), exact, -jnp.inf), q

    def profile_chain(n_steps, lr):
        """A chain of ``profile_rungs`` lambda = 0 rungs of ``n_steps`` Adam steps from learning rate ``lr``."""
        def run(lm, lg, u0):
            def objective(w):
                soft, _, _, pen, _ = pieces(lm, lg, w)
                return soft + pen

            def body(u, _):
                u_new = adam(objective, u, n_steps, lr)
                lnl, q = exact_at(lm, lg, u_new)
                return u_new, (u_new, lnl, q)

            _, out = jax.lax.scan(body, u0, None, length=profile_rungs)
            return out
        return run

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
            u_new = adam(lambda w: tilted(w, lam), start, warm_steps, warm_lr)
            lnl, q = exact_at(lm, lg, u_new)
            c = jnp.where(jnp.isfinite(lnl), jnp.maximum(-2.0 * (lnl - ref), 1e-6), jnp.inf)
            hu = jnp.where(ladder_rung, hu.at[rl].set(u_new), hu)
            hc = jnp.where(ladder_rung, hc.at[rl].set(c), hc)
            return (u_new, hu, hc), (u_new, lnl, q)

        init = (u0, jnp.zeros((K,) + u0.shape), jnp.full((K,), jnp.inf))
        _, out = jax.lax.scan(body, init, jnp.arange(K + T))
        return out

    chains = jax.jit(jax.vmap(chain, in_axes=(0, 0, 0, 0, 0, None, None)))
    profile_chains = jax.jit(jax.vmap(profile_chain(steps, LR_START)))
    pass_chains = profile_chains if (warm_steps, warm_lr) == (steps, LR_START) else jax.jit(jax.vmap(profile_chain(warm_steps, warm_lr)))

    start = problem.start_sites()
    ref_start, sm_start = [], []
    for k, info, b in zip(nuis, infos, bij):
        lo, hi = site_bounds(info)
        z = start[info.site]
        bounded = math.isfinite(lo) and math.isfinite(hi)
        if bounded:
            z = min(max(z, lo + START_MARGIN * (hi - lo)), hi - START_MARGIN * (hi - lo))
        ref_start.append(float(b.inv(jnp.asarray(z))))
        sm = k.startswith("y_") and bounded  # |Yukawa| at its lower end: no mixing, no NSI
        sm_start.append(float(b.inv(jnp.asarray(lo + START_MARGIN * (hi - lo)))) if sm else ref_start[-1])
    return chains, profile_chains, pass_chains, nuis, values, np.asarray(ref_start), np.asarray(sm_start)


def _setting_error(key: str, message: str) -> InputError:
    """The InputError of a bad :class:`ProfileSettings` value; ``key`` (its argument of :meth:`ProfileSettings.make`, a
    sweep file's key) lets a sweep name the file and key path (:mod:`globalfit.problem.sweep_config`)."""
    err = InputError(message)
    err.key = key  # type: ignore[attr-defined]
    return err


@dataclass(frozen=True)
class ProfileSettings:
    """Everything a profile map depends on besides the fit problem (see :func:`profile_map`). Plain data: it travels
    to Dask workers, which rebuild the :class:`ProfilePlan` from it and the problem's config."""

    grid: tuple[int, int] = (12, 12)
    quantities: tuple[str, ...] = ("eps_earth_ee",)
    exclude: tuple[str, ...] | None = None
    thresholds: tuple[float, ...] = THRESHOLDS
    starts: int = 4
    steps: int = 200  # Adam steps per rung
    seed: int = 0
    M_range: tuple[float, float] | None = None
    g_range: tuple[float, float] | None = None
    rows_per_task: int = 1
    polish: int = 1  # neighbour passes (profile_polish)
    profile_rungs: int = PROFILE_RUNGS  # rungs of each lambda = 0 chain (stage 1 and the profile passes)
    warm_steps: int | None = None  # Adam steps per warm-started rung (tilt ladders, neighbour passes); None: steps
    warm_lr: float = LR_START  # first Adam learning rate of a warm-started rung

    @property
    def warm_rung_steps(self) -> int:
        """Adam steps per warm-started rung (every tilt-ladder rung, every rung of a profile pass): ``warm_steps``,
        by default ``steps``."""
        return self.steps if self.warm_steps is None else self.warm_steps

    @classmethod
    def make(cls, grid: int | tuple[int, int] | list[int] = 12, quantity: str | list[str] | tuple[str, ...] = "eps_earth_ee",
             exclude=None, thresholds=THRESHOLDS, starts: int | None = None, steps: int | None = None, seed: int = 0,
             M_range=None, g_range=None, rows_per_task: int = 1, polish: int | None = None,
             profile_rungs: int | None = None, warm_steps: int | None = None, warm_lr: float | None = None) -> "ProfileSettings":
        """Settings from the arguments of :func:`profile_map`, checked (InputError on a bad value); ``None``: the
        class default (the one place the defaults of the CLI, sweep files and :func:`profile_map` are set)."""
        starts = cls.starts if starts is None else starts
        steps = cls.steps if steps is None else steps
        polish = cls.polish if polish is None else polish
        profile_rungs = cls.profile_rungs if profile_rungs is None else profile_rungs
        warm_lr = cls.warm_lr if warm_lr is None else warm_lr
        quantities = (quantity,) if isinstance(quantity, str) else tuple(quantity)
        if not quantities:
            raise _setting_error("quantity", "quantity: none given; give at least one quantity (`globalfit evaluate` lists them)")
        for q in quantities:
            if q not in DERIVED_NAMES and q not in DIFFERENCES:
                hint = did_you_mean(q, list(DERIVED_NAMES) + list(DIFFERENCES))
                raise _setting_error("quantity", f"quantity {q!r}: unknown derived quantity{hint}; `globalfit evaluate` lists them")
        try:  # N or (N_M, N_g), whole numbers (numpy integers too)
            sizes = [operator.index(grid)]
        except TypeError:
            try:
                sizes = [operator.index(n) for n in grid]
            except TypeError:
                sizes = []
        if len(sizes) not in (1, 2) or min(sizes) < 2:
            raise _setting_error("grid", f"grid {grid!r}: need >= 2 points per axis (N, or N_M and N_g; whole numbers)")
        n_M, n_g = (sizes[0], sizes[0]) if len(sizes) == 1 else (sizes[0], sizes[1])
        # each check its own message: the option, the value given and what it needs
        checks = [("starts", starts, starts >= 1, "starts >= 1 (random starts per grid point)"),
                  ("steps", steps, steps >= 1, "steps >= 1 (Adam steps per rung)"),
                  ("rows_per_task", rows_per_task, rows_per_task >= 1, "rows per task >= 1 (g_X rows per task)"),
                  ("polish", polish, polish >= 0, "polish >= 0 (neighbour passes)"),
                  ("profile_rungs", profile_rungs, profile_rungs >= 1, "profile rungs >= 1 (rungs of each lambda = 0 chain)"),
                  ("warm_steps", warm_steps, warm_steps is None or warm_steps >= 1, "warm steps >= 1 (Adam steps per warm-started rung)"),
                  ("warm_lr", warm_lr, 0 < warm_lr <= 1, "0 < warm lr <= 1 (first learning rate of a warm-started rung)")]
        for key, value, ok, need in checks:
            if not ok:
                raise _setting_error(key, f"{key.replace('_', ' ')} {value}: need {need}")
        rng_ = lambda r: None if r is None else (float(r[0]), float(r[1]))  # noqa: E731
        return cls(grid=(n_M, n_g), quantities=quantities, exclude=None if exclude is None else tuple(exclude),
                   thresholds=tuple(sorted(float(t) for t in thresholds)), starts=int(starts), steps=int(steps), seed=int(seed),
                   M_range=rng_(M_range), g_range=rng_(g_range), rows_per_task=int(rows_per_task), polish=int(polish),
                   profile_rungs=int(profile_rungs), warm_steps=None if warm_steps is None else int(warm_steps),
                   warm_lr=float(warm_lr))


@dataclass
class ProfilePlan:
    """A profile map laid out as tasks: the grid, the included problem, the compiled chains and the row blocks.

    The map is computed in blocks of ``rows_per_task`` g_X rows (the last one padded to the same size, so that one
    compilation serves every block): :func:`profile_stage1` per block, then lnL_ref = the largest profile over every
    block, then :func:`profile_stage2` per block, then :func:`assemble_profile`. The in-process path
    (:func:`profile_map`) and the Dask sweep (:mod:`globalfit.inference.sweep`) run the same blocks with the same
    inputs, so their results are identical."""

    problem: FitProblem
    settings: ProfileSettings
    included: FitProblem
    excluded: list[str]
    log10_M: np.ndarray
    log10_g: np.ndarray
    sign_M: float
    sign_g: float
    chains: object = field(repr=False)
    profile_chains: object = field(repr=False)
    pass_chains: object = field(repr=False)
    nuisance: list[str] = field(repr=False)
    values: object = field(repr=False)
    ref_start: np.ndarray = field(repr=False)
    sm_start: np.ndarray = field(repr=False)

    @property
    def n_chains(self) -> int:
        """Chains per grid point and stage (N1 = 2 x starts x quantities)."""
        return 2 * self.settings.starts * len(self.settings.quantities)

    @property
    def rungs(self) -> int:
        """Rungs per reach chain (stage 2, reach passes): the tilt ladder, then one refinement per threshold."""
        return len(LADDER) + len(self.settings.thresholds)

    @property
    def profile_rungs(self) -> int:
        """Rungs per lambda = 0 chain (stage 1, profile passes)."""
        return self.settings.profile_rungs

    @property
    def blocks(self) -> list[tuple[int, int]]:
        """Row blocks ``(first g_X row, one past the last)``."""
        n_g, k = len(self.log10_g), self.settings.rows_per_task
        return [(r, min(r + k, n_g)) for r in range(0, n_g, k)]

    def starts_of(self, block: tuple[int, int]) -> np.ndarray:
        """Stage-1 starts of the points of a block, ``(points, N1, n)``: the ref point, the SM-like point, then random
        normal(0, 1.5) points in unconstrained space, drawn for the whole grid from ``settings.seed``."""
        n_M, n_g = len(self.log10_M), len(self.log10_g)
        N1, n = self.n_chains, len(self.nuisance)
        u0 = np.random.default_rng(self.settings.seed).normal(0.0, 1.5, size=(n_g * n_M, N1, n))
        u0[:, 0] = self.ref_start
        if N1 > 1:
            u0[:, 1] = self.sm_start
        return u0[block[0] * n_M: block[1] * n_M]

    def _grid_of(self, block: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
        """(log10 M, log10 g) of the block's points, padded to a full block, each repeated once per chain."""
        k = self.settings.rows_per_task
        rows = np.arange(block[0], block[0] + k).clip(max=len(self.log10_g) - 1)
        LM, LG = np.meshgrid(self.log10_M, self.log10_g[rows])
        rep = lambda a: np.repeat(a.ravel(), self.n_chains)  # noqa: E731
        return rep(LM), rep(LG)

    def _pad(self, a: np.ndarray) -> np.ndarray:
        """``a`` (points, ...) padded with copies of its last point to a full block."""
        full = self.settings.rows_per_task * len(self.log10_M)
        return a if len(a) == full else np.concatenate([a, np.repeat(a[-1:], full - len(a), axis=0)])


def profile_plan(problem: FitProblem, settings: ProfileSettings) -> ProfilePlan:
    """The :class:`ProfilePlan` of a problem (compiled chains cached per process: one compilation per config,
    quantities, exclude set, thresholds, steps and block size)."""
    lm_lo, lm_hi, sign_M = _grid_range(problem, "M_Zp", settings.M_range)
    lg_lo, lg_hi, sign_g = _grid_range(problem, "g_X", settings.g_range)
    exclude = DEFAULT_EXCLUDE if settings.exclude is None else settings.exclude
    included = problem.without(exclude, optional=DEFAULT_EXCLUDE)
    excluded = [n for n in problem.likelihood_names if n not in included.likelihood_names]
    key = (config_hash(included.cfg), tuple(included.likelihood_names), settings.quantities, settings.thresholds, settings.steps, sign_M, sign_g,
           settings.profile_rungs, settings.warm_rung_steps, settings.warm_lr)
    if key not in _SOLVERS:
        _SOLVERS[key] = _build_chain(included, settings.quantities, settings.thresholds, settings.steps, sign_M, sign_g, settings.profile_rungs,
                                     settings.warm_rung_steps, settings.warm_lr)
    chains, profile_chains, pass_chains, nuis, values, ref_start, sm_start = _SOLVERS[key]
    n_M, n_g = settings.grid
    return ProfilePlan(problem=problem, settings=settings, included=included, excluded=excluded,
                       log10_M=np.linspace(lm_lo, lm_hi, n_M), log10_g=np.linspace(lg_lo, lg_hi, n_g), sign_M=sign_M, sign_g=sign_g,
                       chains=chains, profile_chains=profile_chains, pass_chains=pass_chains, nuisance=nuis, values=values, ref_start=ref_start, sm_start=sm_start)


def profile_stage1(plan: ProfilePlan, block: tuple[int, int], u0: np.ndarray | None = None, warm: bool = False) -> dict[str, np.ndarray]:
    """Stage 1 (lambda = 0 on every rung) for the points of a row block, from ``u0`` (default
    :meth:`ProfilePlan.starts_of`; ``warm``: the starts are optima, so the chains of the profile passes run): every
    rung's unconstrained point ``us1`` (points, N1 R, n), exact lnL_inc ``lnl1`` (points, N1 R) and quantities ``q1``
    (points, N1 R, n_q)."""
    t0 = time.perf_counter()
    u0 = plan.starts_of(block) if u0 is None else np.asarray(u0)
    P, N1, n = u0.shape
    lm, lg = plan._grid_of(block)
    B = len(lm)
    run = plan.pass_chains if warm else plan.profile_chains
    us, lnl, q = run(jnp.asarray(lm), jnp.asarray(lg), jnp.asarray(plan._pad(u0).reshape(B, n)))
    R = lnl.shape[1]
    return {"us1": np.asarray(us)[: P * N1].reshape(P, N1 * R, n), "lnl1": np.asarray(lnl)[: P * N1].reshape(P, N1 * R),
            "q1": np.asarray(q)[: P * N1].reshape(P, N1 * R, -1), "seconds": np.float64(time.perf_counter() - t0)}


def _neighbourhood(n_M: int, rows: int, off: int, rows_w: int, values: np.ndarray, points: np.ndarray,
                   self_too: bool) -> tuple[np.ndarray, np.ndarray]:
    """Candidates of every point of a block from its grid neighbourhood: ``values`` (..., rows_w, n_M, C) and
    ``points`` (..., rows_w, n_M, C, n) over a window of rows (the block's rows start at window row ``off``) ->
    (scores (..., rows, n_M, 9 C or 8 C), points (..., rows, n_M, 9 C or 8 C, n)); -inf outside the grid or where a
    value is not finite; the point itself is a candidate only with ``self_too``."""
    r, c = np.arange(rows)[:, None] + off, np.arange(n_M)[None, :]
    scores, cands = [], []
    for dr in (-1, 0, 1):
        for dc in (-1, 0, 1):
            if (dr, dc) == (0, 0) and not self_too:
                continue
            rr, cc = r + dr, c + dc
            inside = (rr >= 0) & (rr < rows_w) & (cc >= 0) & (cc < n_M)
            rr, cc = rr.clip(0, rows_w - 1), cc.clip(0, n_M - 1)
            v = values[..., rr, cc, :]
            scores.append(np.where(inside[..., None] & np.isfinite(v), v, -np.inf))
            cands.append(points[..., rr, cc, :, :])
    return np.concatenate(scores, axis=-1), np.concatenate(cands, axis=-2)


def _window(arrays: list[np.ndarray], n_M: int, axis: int) -> np.ndarray:
    """Arrays of consecutive row blocks joined along their point axis ``axis``, which is split into (rows, n_M)."""
    a = np.concatenate(arrays, axis=axis)
    return a.reshape(a.shape[:axis] + (-1, n_M) + a.shape[axis + 1:])


def _chain_bests(s1: dict, R: int) -> tuple[np.ndarray, np.ndarray]:
    """Best rung of every stage-1 chain: (lnL (P, chains), point (P, chains, n))."""
    P, n = s1["us1"].shape[0], s1["us1"].shape[2]
    lr = s1["lnl1"].reshape(P, -1, R)
    k = np.argmax(np.where(np.isfinite(lr), lr, -np.inf), axis=2)
    best = np.take_along_axis(lr, k[..., None], axis=2)[..., 0]
    return best, np.take_along_axis(s1["us1"].reshape(P, -1, R, n), k[..., None, None], axis=2)[:, :, 0]


def profile_stage1_polish(plan: ProfilePlan, block: tuple[int, int], s1: dict, before: dict | None, after: dict | None) -> dict:
    """One neighbour pass of the profile (lambda = 0, before lnL_ref) for a row block: per point, stage-1 chains from the
    ``n_chains`` best stage-1 optima of its 8 grid neighbours (its own best where it has no finite neighbour),
    appended to the block's stage-1 chains (so lnL_prof can only rise, and every earlier rung stays a reach
    candidate). ``before`` / ``after``: the blocks below and above (None at the grid's edge)."""
    t0 = time.perf_counter()
    n_M, R, N1, n = len(plan.log10_M), plan.profile_rungs, plan.n_chains, len(plan.nuisance)
    parts = [x for x in (before, s1, after) if x is not None]
    bests = [_chain_bests(x, R) for x in parts]
    lnl_w = _window([b[0] for b in bests], n_M, 0)  # (rows_w, n_M, chains)
    u_w = _window([b[1] for b in bests], n_M, 0)
    P = len(s1["lnl1"])
    rows, off = P // n_M, (0 if before is None else len(before["lnl1"]) // n_M)
    score, cand = _neighbourhood(n_M, rows, off, lnl_w.shape[0], lnl_w, u_w, self_too=False)
    top = np.argsort(-score, axis=-1, kind="stable")[..., :N1]  # (rows, n_M, N1)
    u0 = np.take_along_axis(cand, top[..., None], axis=-2)
    own = _chain_bests(s1, R)
    own_best = np.take_along_axis(own[1], np.argmax(np.where(np.isfinite(own[0]), own[0], -np.inf), axis=1)[:, None, None], axis=1)
    found = np.take_along_axis(score, top, axis=-1) > -np.inf
    u0 = np.where(found.reshape(P, N1)[..., None], u0.reshape(P, N1, n), own_best)
    new = profile_stage1(plan, block, u0, warm=True)
    return {k: np.concatenate([s1[k], new[k]], axis=1) for k in ("us1", "lnl1", "q1")} | {"seconds": np.float64(time.perf_counter() - t0)}


def profile_reference(stage1: list[dict]) -> float:
    """lnL_ref: the largest profile lnL found on the grid (over the stage-1 results of every block)."""
    best = [np.max(np.where(np.isfinite(s["lnl1"]), s["lnl1"], -np.inf)) for s in stage1]
    if not np.isfinite(best).any():
        raise InputError("no grid point has a finite profile: every optimum left the physical support (check the priors)")
    return float(np.max(best))


def _extremes(thresholds, ref: float, shared: list[tuple], per: list[tuple]) -> tuple[np.ndarray, ...]:
    """(q_max, q_min, u_max, u_min), shapes (Q, T, P) and (Q, T, P, n): per quantity q and threshold t, the largest
    and smallest q over every candidate rung with chi2 = -2 (lnL - ref) <= t + FEAS_TOL (NaN where none) and where
    it is reached. ``shared``: (lnL (P, K), every quantity (P, K, Q), points (P, K, n)) candidates for every q and
    sign; ``per``: for each (q, sign) in the order q0+, q0-, q1+, ... its own (lnL (P, K'), that q (P, K'), points)."""
    P, n = per[0][2].shape[0], per[0][2].shape[2]
    Q, T = len(per) // 2, len(thresholds)
    lnl_s = np.concatenate([c[0] for c in shared] or [np.zeros((P, 0))], axis=1)
    q_s = np.concatenate([c[1] for c in shared] or [np.zeros((P, 0, Q))], axis=1)
    u_s = np.concatenate([c[2] for c in shared] or [np.zeros((P, 0, n))], axis=1)
    q_max, q_min = np.full((Q, T, P), np.nan), np.full((Q, T, P), np.nan)
    u_max, u_min = np.zeros((Q, T, P, n)), np.zeros((Q, T, P, n))
    rows = np.arange(P)
    chi_s = -2.0 * (lnl_s - ref)
    for iq in range(Q):
        for it, t in enumerate(thresholds):
            for sgn, qa, ua, fill in ((0, q_max, u_max, -np.inf), (1, q_min, u_min, np.inf)):
                lnl_p, q_p, u_p = per[2 * iq + sgn]
                vals = np.concatenate([np.where(chi_s <= t + FEAS_TOL, q_s[..., iq], fill),
                                       np.where(-2.0 * (lnl_p - ref) <= t + FEAS_TOL, q_p, fill)], axis=1)
                vals = np.where(np.isnan(vals), fill, vals)
                pts = np.concatenate([u_s, u_p], axis=1)
                k = np.argmax(vals, axis=1) if sgn == 0 else np.argmin(vals, axis=1)
                v = vals[rows, k]
                qa[iq, it] = np.where(np.isfinite(v), v, np.nan)
                ua[iq, it] = pts[rows, k]
    return q_max, q_min, u_max, u_min


def _tilt_ladders(plan: ProfilePlan, block: tuple[int, int], u0: np.ndarray, ref: float) -> list[tuple]:
    """Run the tilt ladders of stage 2 for the points of a block from ``u0`` (P, Q, 2, S, n): per quantity q, sign
    (+ maximises q, - minimises it) and start. Returns, for each (q, sign) in the order q0+, q0-, q1+, ..., every
    rung's (exact lnL (P, S R), that q (P, S R), unconstrained point (P, S R, n)), as :func:`_extremes` reads them."""
    P, Q, _, S, n = u0.shape
    N1 = plan.n_chains
    signs = np.broadcast_to(np.array([1.0, -1.0])[None, None, :, None], (P, Q, 2, S)).reshape(P, N1)
    qidx = np.broadcast_to(np.arange(Q)[None, :, None, None], (P, Q, 2, S)).reshape(P, N1).astype(np.int32)
    lm, lg = plan._grid_of(block)
    B = len(lm)
    us2, lnl2, q2 = plan.chains(jnp.asarray(lm), jnp.asarray(lg), jnp.asarray(plan._pad(np.reshape(u0, (P, N1, n))).reshape(B, n)),
                                jnp.asarray(plan._pad(signs).ravel()), jnp.asarray(plan._pad(qidx).ravel()), jnp.asarray(LADDER), ref)
    R = lnl2.shape[1]
    lnl2 = np.asarray(lnl2)[: P * N1].reshape(P, Q, 2, S * R)
    q2 = np.asarray(q2)[: P * N1].reshape(P, Q, 2, S * R, Q)
    us2 = np.asarray(us2)[: P * N1].reshape(P, Q, 2, S * R, n)
    return [(lnl2[:, iq, sgn], q2[:, iq, sgn, :, iq], us2[:, iq, sgn]) for iq in range(Q) for sgn in (0, 1)]


def profile_stage2(plan: ProfilePlan, block: tuple[int, int], s1: dict, ref: float) -> dict[str, np.ndarray]:
    """Stage 2 for a row block: tilt ladders from the ``starts`` best stage-1 optima of each point (one per stage-1
    chain), each quantity, both signs; then lnL_prof, its optimum and, per quantity and threshold, q_max / q_min over
    every stage-1 and stage-2 rung with chi2 <= t + FEAS_TOL and the points where they are reached."""
    t0 = time.perf_counter()
    st = plan.settings
    us1, lnl1, q1 = s1["us1"], s1["lnl1"], s1["q1"]
    P, Q, S, n = len(lnl1), len(st.quantities), st.starts, len(plan.nuisance)
    R = plan.profile_rungs
    N1 = lnl1.shape[1] // R  # stage-1 chains per point: n_chains, plus n_chains per profile neighbour pass
    order = np.argsort(-np.where(np.isfinite(lnl1), lnl1, -np.inf), axis=1)
    lnl = np.take_along_axis(lnl1, order[:, :1], axis=1)[:, 0]
    u_best = us1[np.arange(P), order[:, 0]]

    lr = lnl1.reshape(P, N1, R)
    kbest = np.argmax(np.where(np.isfinite(lr), lr, -np.inf), axis=2)
    chain_best = np.take_along_axis(lr, kbest[..., None], axis=2)[..., 0]
    chain_u = np.take_along_axis(us1.reshape(P, N1, R, n), kbest[..., None, None], axis=2)[:, :, 0]
    score = np.where(np.isfinite(chain_best), chain_best, -np.inf)
    # the best chain of all, then the best S - 1 of the point's own stage-1 chains (without a profile pass: the S best);
    # the own chains keep stage 2's starts as diverse as without the pass, whose chains often share one optimum
    best = np.argmax(score, axis=1)
    own = score[:, : plan.n_chains].copy()
    own[np.arange(P), np.minimum(best, plan.n_chains - 1)] = np.where(best < plan.n_chains, -np.inf, own[np.arange(P), np.minimum(best, plan.n_chains - 1)])
    top = np.concatenate([best[:, None], np.argsort(-own, axis=1, kind="stable")[:, : S - 1]], axis=1)
    u2 = np.take_along_axis(chain_u, top[..., None], axis=1)  # (P, S, n)
    per = _tilt_ladders(plan, block, np.broadcast_to(u2[:, None, None], (P, Q, 2, S, n)), ref)
    q_max, q_min, u_max, u_min = _extremes(st.thresholds, ref, [(lnl1, q1, us1)], per)
    return {"lnl": lnl, "u_best": u_best, "q_max": q_max, "q_min": q_min, "u_max": u_max, "u_min": u_min,
            "seconds": np.float64(time.perf_counter() - t0)}


def profile_polish(plan: ProfilePlan, block: tuple[int, int], s2: dict, before: dict | None, after: dict | None,
                   ref: float) -> dict[str, np.ndarray]:
    """One neighbour pass for a row block: per point, quantity and sign, tilt ladders (as in stage 2) from the
    ``starts`` best reach optima among the point and its 8 grid neighbours (ranked by their q_max, or -q_min, at the
    first threshold); q_max / q_min and their points are replaced where the pass finds a larger (smaller) q with
    chi2 <= t + FEAS_TOL. ``s2``: the block's stage-2 (or previous pass) result; ``before`` / ``after``: those of the
    blocks below and above it (None at the grid's edge). A reach optimum found in one cell thus seeds its neighbours:
    the multi-start optimum of each cell is at least as good as before and the map loses isolated misses."""
    t0 = time.perf_counter()
    st = plan.settings
    n_M, Q, S, n = len(plan.log10_M), len(st.quantities), st.starts, len(plan.nuisance)
    parts = [x for x in (before, s2, after) if x is not None]
    off = 0 if before is None else len(before["lnl"]) // n_M
    P = len(s2["lnl"])
    rows = P // n_M
    # scores (larger is better for both signs) and points at the first threshold, (Q, 2, rows_w, n_M, 1[, n])
    win = {k: _window([x[k] for x in parts], n_M, 2)[:, 0] for k in ("q_max", "q_min", "u_max", "u_min")}
    values = np.stack([win["q_max"], -win["q_min"]], axis=1)[..., None]
    points = np.stack([win["u_max"], win["u_min"]], axis=1)[..., None, :]
    score, cand = _neighbourhood(n_M, rows, off, values.shape[2], values, points, self_too=True)
    top = np.argsort(-score, axis=-1, kind="stable")[..., :S]  # (Q, 2, rows, n_M, S)
    u0 = np.take_along_axis(cand, top[..., None], axis=-2)
    found = np.take_along_axis(score, top, axis=-1) > -np.inf
    u0 = np.where(found[..., None], u0, s2["u_best"].reshape(rows, n_M, n)[None, None, :, :, None])
    u0 = np.moveaxis(u0.reshape(Q, 2, P, S, n), 2, 0)  # (P, Q, 2, S, n)
    q_max, q_min, u_max, u_min = _extremes(st.thresholds, ref, [], _tilt_ladders(plan, block, u0, ref))
    better_max = np.isfinite(q_max) & ~(q_max <= s2["q_max"])
    better_min = np.isfinite(q_min) & ~(q_min >= s2["q_min"])
    return dict(s2, q_max=np.where(better_max, q_max, s2["q_max"]), q_min=np.where(better_min, q_min, s2["q_min"]),
                u_max=np.where(better_max[..., None], u_max, s2["u_max"]), u_min=np.where(better_min[..., None], u_min, s2["u_min"]),
                seconds=np.float64(time.perf_counter() - t0))


def assemble_profile(plan: ProfilePlan, stage2: list[dict], ref: float, seconds: float) -> ProfileResult:
    """The :class:`ProfileResult` from the stage-2 results of every block (in block order); ``seconds``: the time
    spent optimising (the sum over tasks)."""
    st = plan.settings
    n_M, n_g = st.grid
    shape = (n_g, n_M)
    Q, T = len(st.quantities), len(st.thresholds)
    cat = lambda k, axis=0: np.concatenate([s[k] for s in stage2], axis=axis)  # noqa: E731
    lnl, u_best = cat("lnl"), cat("u_best")
    q_max, q_min, u_max, u_min = cat("q_max", 2), cat("q_min", 2), cat("u_max", 2), cat("u_min", 2)
    LM, LG = np.meshgrid(plan.log10_M, plan.log10_g)
    lm_flat, lg_flat = jnp.asarray(LM.ravel()), jnp.asarray(LG.ravel())

    def phys(uu, shp):  # nuisance values (config names) at unconstrained points uu (..., P, n)
        vals = plan.values(lm_flat, lg_flat, jnp.asarray(uu))
        return {k: np.asarray(jnp.broadcast_to(vals[k], uu.shape[:-1])).reshape(shp) for k in plan.nuisance}

    return ProfileResult(
        log10_M=plan.log10_M,
        log10_g=plan.log10_g,
        lnL=lnl.reshape(shape),
        lnL_ref=ref,
        quantities=list(st.quantities),
        thresholds=st.thresholds,
        q_max=q_max.reshape((Q, T) + shape),
        q_min=q_min.reshape((Q, T) + shape),
        included=plan.included.likelihood_names,
        excluded=plan.excluded,
        scenario=plan.problem.scenario.name,
        best=phys(u_best, shape),
        at_max=phys(u_max, (Q, T) + shape),
        at_min=phys(u_min, (Q, T) + shape),
        seconds=seconds,
        lnL_sm=float(sum(plan.included.sm_loglike().values())),
        settings={"grid": [n_M, n_g], "starts": st.starts, "steps": st.steps, "polish": st.polish, "profile_rungs": st.profile_rungs, "warm_steps": st.warm_rung_steps, "warm_lr": st.warm_lr, "seed": st.seed, "ladder": list(LADDER), "sign_M": plan.sign_M,
                  "sign_g": plan.sign_g, "fixed": plan.problem.fixed, "oscillation_options": config_options(plan.problem.cfg.likelihoods)},
    )


def profile_map(problem: FitProblem | str | Path, grid: int | tuple[int, int] = 12,
                quantity: str | list[str] | tuple[str, ...] = "eps_earth_ee", exclude=None, thresholds: tuple[float, ...] = THRESHOLDS,
                starts: int | None = None, steps: int | None = None, seed: int = 0, M_range: tuple[float, float] | None = None,
                g_range: tuple[float, float] | None = None, rows_per_task: int = 1, polish: int | None = None,
                profile_rungs: int | None = None, warm_steps: int | None = None, warm_lr: float | None = None) -> ProfileResult:
    """Profile map of a fit problem (or the path of a run config), in this process; see the module docstring.

    ``grid``: points per axis (n or (n_M, n_g)); ``quantity``: one derived name or several; ``exclude``: likelihood
    names or fnmatch patterns left out of the profile (default ``("osc_*",)``; ``()`` keeps all); ``steps``: Adam
    steps per rung (``starts``, ``steps``, ``polish``: None = :class:`ProfileSettings`' defaults); ``M_range``/``g_range``: GeV / coupling ranges (default: the priors of M_Zp and g_X);
    ``rows_per_task``: g_X rows per block (:class:`ProfilePlan`; the Dask sweep runs the same blocks as tasks);
    ``polish``: neighbour passes after stage 2 (:func:`profile_polish`); ``profile_rungs``: rungs of each lambda = 0 chain;
    ``warm_steps``, ``warm_lr``: Adam steps and first learning rate of a warm-started rung (tilt ladders, profile passes;
    None: ``steps`` and 0.3)."""
    if not isinstance(problem, FitProblem):
        problem = load_problem(problem)
    settings = ProfileSettings.make(grid, quantity, exclude, thresholds, starts, steps, seed, M_range, g_range, rows_per_task, polish,
                                    profile_rungs, warm_steps, warm_lr)
    plan = profile_plan(problem, settings)
    stages = [[profile_stage1(plan, b) for b in plan.blocks]]
    for _ in range(settings.polish):
        prev = stages[-1]
        stages.append([profile_stage1_polish(plan, b, prev[i], *neighbours(prev, i)) for i, b in enumerate(plan.blocks)])
    s1 = stages[-1]
    ref = profile_reference(s1)
    stages.append([profile_stage2(plan, b, s, ref) for b, s in zip(plan.blocks, s1)])
    for _ in range(settings.polish):
        prev = stages[-1]
        stages.append([profile_polish(plan, b, prev[i], *neighbours(prev, i), ref) for i, b in enumerate(plan.blocks)])
    seconds = float(sum(r["seconds"] for stage in stages for r in stage))
    return assemble_profile(plan, stages[-1], ref, seconds)


def neighbours(results: list, i: int) -> tuple:
    """(result of the block below block i, of the block above it), None at the grid's edges."""
    return (results[i - 1] if i > 0 else None, results[i + 1] if i + 1 < len(results) else None)
