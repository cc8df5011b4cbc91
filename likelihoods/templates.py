"""Binned template likelihoods: a released histogram of counts n_k with the collaboration's signal and background
templates and their systematic variations, compared with the model by a Poisson likelihood whose nuisances are
profiled (the convention is stated in :mod:`likelihoods.stats`, "Binned counts with template nuisances").

**Expected counts.** The model enters through m rate ratios r (model over SM, e.g. per energy bin and neutrino
timing group) and a fixed map P from them to a factor per bin, f = 1 + P (r - 1). With nominal templates T_j,
relative normalisation errors C_ji (template j, nuisance i) and shape variations Delta_v (:func:`shape_delta`),

    mu_k(theta; r) = sum_j (1 + sum_i C_ji theta_i) [T_jk + sum_{v of j} Delta_vk(theta_v)] F_jk,

F_jk = f_k for the signal templates and 1 for the backgrounds. Every nuisance is a standard normal. This is the
HistFactory template model (K. Cranmer et al., CERN-OPEN-2012-016; as in pyhf) with linear normalisation factors; the
shape interpolation is our C^1 choice (:func:`shape_delta`), and the profile over the nuisances is the profile
likelihood of Cowan, Cranmer, Gross and Vitells (arXiv:1007.1727).

**Profile.** chi2(r) = min_theta q(theta; r),

    q = 2 sum_k (mu_k - n_k + n_k ln(n_k / mu_k)) + |theta|^2 + sum_m (d_m - a_m . theta)^2 / D_m,

the last sum being optional Gaussian terms in the same nuisances (another experiment sharing a normalisation
error: :meth:`TemplateFit.chi2`'s ``gaussian``). The minimum is found by a fixed number of Newton steps: analytic
gradient and Hessian, the Hessian's eigenvalues taken as |lambda| >= 1 (every step descends where the shape
interpolation is not convex), each step clipped to |Delta theta_i| <= 2. They start from a predictor: the exact
minimum theta_hat(s) for a uniform signal scale (every rate ratio r = s), tabulated at build time for s in [0, 40]
(with a line search: the best of 1, 1/2, 1/4, 1/8 of each step), plus its linear response d theta_hat / d r at that s
applied to r - s, where s is the signal-weighted mean of the factor f. No search and no data-dependent loop: one
compiled shape. The gradient in r is the partial derivative at the profiled theta (envelope theorem: d chi2/d r =
d q/d r at theta_hat, exact at the minimum), so the Newton steps are not differentiated. Under ``jax.vmap`` the
profile runs over chunks of :data:`PROFILE_CHUNK` points (``jax.lax.map``), so that each chunk's bins x nuisances
stay in the cache: 4x faster per point than one vmap over 1024 points for LAr's 960 bins (docs/performance.md, "The
binned CEvNS likelihoods"); one point is unchanged.

**Reference.** :meth:`TemplateFit.calibrate` finds the best uniform signal scale (the collaboration's own fit with a
free signal normalisation) and the minimum over free ratios r in [0, 50]; ln L = -chi2/2 is quoted relative to the
latter (:meth:`TemplateFit.loglike`), so it is <= 0 everywhere.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass

import jax
import jax.numpy as jnp
import numpy as np
from jax.custom_batching import custom_vmap
from jax.typing import ArrayLike
from scipy.optimize import brentq, minimize, minimize_scalar

from globalfit import _jax  # noqa: F401  (float64)

__all__ = ["Variation", "Template", "TemplateFit", "shape_delta", "chunked_under_vmap"]

STEP_CLIP = 2.0  # largest change of one nuisance in one Newton step (standard deviations)
STEP_LENGTHS = np.array([1.0, 0.5, 0.25, 0.125])  # the fractions of a Newton step tried; the best is taken
PREDICTOR_SCALES = np.linspace(0.0, 40.0, 161)  # uniform signal scales s of the predictor table
TABLE_STEPS = 40  # Newton steps from theta = 0 for each entry of the predictor table
PROFILE_CHUNK = 32  # points per chunk of the profile under jax.vmap (module doc)


def chunked_under_vmap(fn, chunk: int):
    """``fn`` (positional array arguments, pytrees allowed) as is for one point; under ``jax.vmap``, ``jax.lax.map``
    over chunks of ``chunk`` points, each chunk vectorised (unbatched arguments broadcast). Not differentiable: for
    values under ``stop_gradient``."""

    @custom_vmap
    def wrapped(*args):
        return fn(*args)

    @wrapped.def_vmap
    def _chunks(axis_size, in_batched, *args):
        args = jax.tree.map(lambda x, b: x if b else jnp.broadcast_to(x, (axis_size, *jnp.shape(x))), args,
                            tuple(in_batched))
        out = jax.lax.map(lambda a: fn(*a), args, batch_size=chunk)
        return out, jax.tree.map(lambda _: True, out)

    return wrapped


@dataclass(frozen=True, eq=False)
class Variation:
    """A systematic shape variation of a template: the template at +1 sigma (``up``) and at -1 sigma (``down``), or
    one variant only (``down`` None: linear in its nuisance, the variant at +1 sigma). ``nuisance``: the name of a
    nuisance that several templates' variations share (e.g. a light yield), None for its own."""

    name: str
    up: np.ndarray
    down: np.ndarray | None = None
    nuisance: str | None = None


@dataclass(frozen=True, eq=False)
class Template:
    """A template (expected counts per bin at the prediction's normalisation), the relative error of its
    normalisation (0: fixed), whether the model's factor per bin multiplies it (``signal``) and its variations."""

    name: str
    nominal: np.ndarray
    norm_error: float = 0.0
    signal: bool = False
    variations: tuple[Variation, ...] = ()


def shape_delta(theta, up_delta, down_delta, two_sided=True):
    """(Delta(theta), Delta'(theta), Delta''(theta)) of a shape variation with changes U at +1 and D at -1 sigma,
    C^1 in theta: theta U for theta >= 1, -theta D for theta <= -1, and A theta + S (3/2 theta^2 - 1/2 theta^4)
    between (A = (U - D)/2, S = (U + D)/2: value and slope match at +-1). One-sided: theta U."""
    a, s = 0.5 * (up_delta - down_delta), 0.5 * (up_delta + down_delta)
    hi, lo = theta >= 1.0, theta <= -1.0
    d = jnp.where(hi, theta * up_delta, jnp.where(lo, -theta * down_delta, a * theta + s * (1.5 * theta**2 - 0.5 * theta**4)))
    d1 = jnp.where(hi, up_delta, jnp.where(lo, -down_delta, a + s * (3.0 * theta - 2.0 * theta**3)))
    d2 = jnp.where(hi | lo, 0.0, s * (3.0 - 6.0 * theta**2))
    return (jnp.where(two_sided, d, theta * up_delta), jnp.where(two_sided, d1, up_delta),
            jnp.where(two_sided, d2, 0.0))


class TemplateFit:
    """The profiled Poisson likelihood of the module doc for observed counts ``data`` (flattened bins), ``templates``
    and the map ``factor_map`` P (bins x m) from the m rate ratios to the signal factor per bin. ``shared``: extra
    nuisances not tied to one template, {name: {template name: relative normalisation error}} (e.g. a neutrino flux
    that :meth:`chi2`'s ``gaussian`` terms also use). ``newton_steps``: the fixed number of Newton steps."""

    def __init__(self, data: np.ndarray, templates: tuple[Template, ...], factor_map: np.ndarray,
                 shared: dict[str, dict[str, float]] | None = None, newton_steps: int = 2):
        shared = shared or {}
        self.data = np.asarray(data, dtype=float)
        self.factor_map = np.asarray(factor_map, dtype=float)
        self.templates = tuple(templates)
        self.newton_steps = newton_steps
        names = [f"{t.name}:norm" for t in templates if t.norm_error > 0] + list(shared)
        var_names = [v.nuisance or f"{t.name}:{v.name}" for t in templates for v in t.variations]
        names += list(dict.fromkeys(var_names))
        self.nuisances: tuple[str, ...] = tuple(names)
        ix = {n: i for i, n in enumerate(names)}
        self.C = np.zeros((len(templates), len(names)))
        for j, t in enumerate(templates):
            if t.norm_error > 0:
                self.C[j, ix[f"{t.name}:norm"]] = t.norm_error
            for s, errors in shared.items():
                self.C[j, ix[s]] = errors.get(t.name, 0.0)
        self.T = np.stack([t.nominal for t in templates])
        self.is_signal = np.array([t.signal for t in templates])
        var = [(j, ix[v.nuisance or f"{t.name}:{v.name}"], v) for j, t in enumerate(templates) for v in t.variations]
        self.var_template = np.array([j for j, _, _ in var], dtype=int)
        self.var_nuisance = np.array([i for _, i, _ in var], dtype=int)
        K = self.data.size
        self.U = np.array([v.up - templates[j].nominal for j, _, v in var]).reshape(-1, K)
        self.D = np.array([np.zeros(K) if v.down is None else v.down - templates[j].nominal for j, _, v in var]).reshape(-1, K)
        self.two_sided = np.array([v.down is not None for _, _, v in var], dtype=bool).reshape(-1, 1)
        n = self.data
        self.n_ln_n = float(np.sum(np.where(n > 0, n * np.log(np.where(n > 0, n, 1.0)), 0.0)))
        signal = self.T[self.is_signal].sum(axis=0)
        self.signal_weights = signal @ self.factor_map / signal.sum()  # s = 1 + w . (r - 1)
        self._predictor_table()
        self._profile_chunked = chunked_under_vmap(self._profile, PROFILE_CHUNK)

    def with_newton_steps(self, newton_steps: int) -> "TemplateFit":
        """The same fit (tables and calibration shared) profiled with another number of Newton steps."""
        other = copy.copy(self)
        other.newton_steps = newton_steps
        other._profile_chunked = chunked_under_vmap(other._profile, PROFILE_CHUNK)
        return other

    def index(self, name: str) -> int:
        """Position of a nuisance in theta."""
        return self.nuisances.index(name)

    # -------------------------------------------------------------------------------------------- the expectation

    def factor(self, r):
        """The signal factor per bin, f = 1 + P (r - 1)."""
        return 1.0 + jnp.asarray(self.factor_map) @ (jnp.asarray(r) - 1.0)

    def _parts(self, theta, f):
        """(mu, the rows d mu/d theta_i (I, K), per variation v the pair (F_j d1_v, norm_j F_j d2_v)). Written
        with loops over the few templates, variations and non-zero C_ji (static), no scatter: vectorised over points
        (vmap), scatters and batched gathers cost several times the arithmetic."""
        d, d1, d2 = shape_delta(theta[self.var_nuisance][:, None], self.U, self.D, self.two_sided)
        norm = 1.0 + jnp.asarray(self.C) @ theta
        contrib, rows = [], [None] * len(self.nuisances)
        for j in range(len(self.templates)):
            shaped = jnp.asarray(self.T[j])
            for v in np.flatnonzero(self.var_template == j):
                shaped = shaped + d[v]
            contrib.append(shaped * f if self.is_signal[j] else shaped)
        F = [f if self.is_signal[j] else 1.0 for j in range(len(self.templates))]
        mu = sum(norm[j] * contrib[j] for j in range(len(contrib)))

        def add(i, x):
            rows[i] = x if rows[i] is None else rows[i] + x

        for j, i in zip(*np.nonzero(self.C)):
            add(i, self.C[j, i] * contrib[j])
        curv = []
        for v, (j, i) in enumerate(zip(self.var_template, self.var_nuisance)):
            add(i, norm[j] * F[j] * d1[v])
            curv.append((F[j] * d1[v], norm[j] * F[j] * d2[v]))
        rows = [jnp.zeros_like(mu) if r is None else r for r in rows]
        return mu, jnp.stack(rows), curv

    def expected(self, theta: ArrayLike, r: ArrayLike) -> jax.Array:
        """mu_k(theta; r) (module doc)."""
        return self._parts(jnp.asarray(theta), self.factor(r))[0]

    def objective(self, theta, r, gaussian=None):
        """q(theta; r) of the module doc (mu floored at 1e-12); ``gaussian`` = (d, A, D): terms (d_m - A_m . theta)^2/D_m."""
        return self._q(jnp.asarray(theta), self.factor(r), gaussian)

    def _q(self, theta, f, gaussian):
        mu = jnp.maximum(self._parts(theta, f)[0], 1e-12)
        n = jnp.asarray(self.data)
        q = 2.0 * (jnp.sum(mu - n) - jnp.sum(n * jnp.log(mu)) + self.n_ln_n) + jnp.sum(theta**2)
        if gaussian is not None:
            d, A, D = gaussian
            q = q + jnp.sum((d - A @ theta) ** 2 / D)
        return q

    # ------------------------------------------------------------------------------------------------ the profile

    def _newton_step(self, theta, f, gaussian, search: bool = False):
        mu, jac, curv = self._parts(theta, f)
        mu = jnp.maximum(mu, 1e-12)
        n = jnp.asarray(self.data)
        w = 1.0 - n / mu
        g = 2.0 * jac @ w + 2.0 * theta
        H = 2.0 * (jac * (n / mu**2)) @ jac.T + 2.0 * np.eye(theta.size)
        # second derivatives of mu: normalisation i x shape v of the same template, and each shape's own curvature
        for (j, iv), (fd1, nfd2) in zip(zip(self.var_template, self.var_nuisance), curv):
            E = np.zeros(H.shape)
            E[iv, iv] = 1.0
            H = H + 2.0 * jnp.dot(nfd2, w) * E
            for i in np.flatnonzero(self.C[j]):
                E = np.zeros(H.shape)
                E[i, iv] = E[iv, i] = self.C[j, i]
                H = H + 2.0 * jnp.dot(fd1, w) * E
        if gaussian is not None:
            d, A, D = gaussian
            g = g - 2.0 * A.T @ ((d - A @ theta) / D)
            H = H + 2.0 * (A.T / D) @ A
        lam, V = jnp.linalg.eigh(H)
        step = V @ ((V.T @ g) / jnp.maximum(jnp.abs(lam), 1.0))
        step = step * jnp.minimum(1.0, STEP_CLIP / jnp.max(jnp.abs(step)))
        if not search:
            return theta - step
        trials = theta[None, :] - STEP_LENGTHS[:, None] * step[None, :]
        q = jax.vmap(lambda th: self._q(th, f, gaussian))(trials)
        return trials[jnp.argmin(q)]

    def _predictor_table(self):
        """theta_hat(s) and d theta_hat/d r at f = s (module doc) for every s in PREDICTOR_SCALES at once:
        TABLE_STEPS Newton steps from theta = 0, checked by the gradient."""
        m = self.factor_map.shape[1]

        def q_r(theta, r):
            return self._q(theta, self.factor(r), None)

        def solve(s):
            r = jnp.full(m, s)
            theta = jax.lax.fori_loop(0, TABLE_STEPS, lambda _, th: self._newton_step(th, self.factor(r), None, True),
                                      jnp.zeros(len(self.nuisances)))
            H = jax.hessian(q_r)(theta, r)
            cross = jax.jacfwd(jax.grad(q_r), argnums=1)(theta, r)
            return theta, -jnp.linalg.solve(H, cross), jnp.max(jnp.abs(jax.grad(q_r)(theta, r)))

        thetas, slopes, residual = jax.jit(jax.vmap(solve))(jnp.asarray(PREDICTOR_SCALES))
        worst = int(np.argmax(np.asarray(residual)))
        if float(residual[worst]) > 1e-5:
            raise RuntimeError(f"template fit: the profile at signal scale {PREDICTOR_SCALES[worst]} did not converge")
        self.theta_table, self.slope_table = np.asarray(thetas), np.asarray(slopes)

    def predictor(self, r):
        """theta_hat(s) + (d theta_hat/d r)(s) (r - r_s), r_s the ratios of the uniform scale s (module doc)."""
        r = jnp.asarray(r)
        s = jnp.clip(1.0 + jnp.dot(self.signal_weights, r - 1.0), PREDICTOR_SCALES[0], PREDICTOR_SCALES[-1])
        h = PREDICTOR_SCALES[1] - PREDICTOR_SCALES[0]
        j = jnp.clip(jnp.floor(s / h).astype(int), 0, PREDICTOR_SCALES.size - 2)
        w = s / h - j
        thetas, slopes = jnp.asarray(self.theta_table), jnp.asarray(self.slope_table)
        theta = (1.0 - w) * thetas[j] + w * thetas[j + 1]
        slope = (1.0 - w) * slopes[j] + w * slopes[j + 1]
        return theta + slope @ (r - s)

    def profile(self, r, gaussian=None):
        """theta_hat(r): ``newton_steps`` Newton steps from :meth:`predictor` (in chunks under ``jax.vmap``: module
        doc); not differentiable (:meth:`chi2` stops its gradient)."""
        return self._profile_chunked(r, gaussian)

    def _profile(self, r, gaussian):
        f = self.factor(r)
        theta = self.predictor(r)
        for _ in range(self.newton_steps):
            theta = self._newton_step(theta, f, gaussian)
        return theta

    def chi2(self, r, gaussian=None):
        """The profiled chi2(r) (module doc); JAX, differentiable in r and in the ``gaussian`` terms (envelope
        theorem)."""
        frozen = None if gaussian is None else tuple(jax.lax.stop_gradient(x) for x in gaussian)
        theta = jax.lax.stop_gradient(self.profile(jax.lax.stop_gradient(r), frozen))
        return self.objective(theta, r, gaussian)

    # ------------------------------------------------------------------------------------------- the reference

    def calibrate(self, scale_max: float) -> None:
        """The reference points of the likelihood (scipy, at build time): ``best_scale`` and ``chi2_scale``, the best
        uniform signal scale s (every r = s) in [0, scale_max] and chi2 there; ``chi2_zero``, chi2 without signal;
        ``chi2_best``, the minimum over free ratios r in [0, 50] (L-BFGS-B from the best scale), below which chi2
        cannot go: :meth:`loglike` is relative to it."""
        m = self.factor_map.shape[1]
        value_grad = jax.jit(jax.value_and_grad(self.chi2))  # one compilation for both searches

        def chi2(s):  # strongly typed, as the L-BFGS-B points below: one compilation, not two
            return float(value_grad(jnp.full(m, s, dtype=jnp.float64))[0])

        best = minimize_scalar(chi2, bounds=(0.0, scale_max), method="bounded", options={"xatol": 1e-8})
        self.best_scale, self.chi2_scale, self.chi2_zero = float(best.x), float(best.fun), chi2(0.0)
        free = minimize(lambda r: tuple(np.asarray(x) for x in value_grad(jnp.asarray(r))), np.full(m, best.x),
                        jac=True, method="L-BFGS-B", bounds=[(0.0, 50.0)] * m)
        self.chi2_best = min(float(free.fun), self.chi2_scale)

    def scale_interval(self, delta_chi2: float = 1.0, scale_max: float = 5.0) -> tuple[float, float]:
        """The uniform signal scales where chi2 - chi2_scale = delta_chi2 on either side of the best (after
        :meth:`calibrate`; 1 sigma by default)."""
        m = self.factor_map.shape[1]
        chi2 = jax.jit(lambda s: self.chi2(jnp.full(m, s)) - self.chi2_scale - delta_chi2)
        return (brentq(lambda s: float(chi2(s)), 0.0, self.best_scale),
                brentq(lambda s: float(chi2(s)), self.best_scale, scale_max))

    def loglike(self, r, gaussian=None):
        """-0.5 (chi2(r) - chi2_best) (:meth:`calibrate`): ln L relative to the best free ratios."""
        return -0.5 * (self.chi2(r, gaussian) - self.chi2_best)
