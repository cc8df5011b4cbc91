"""Statistical conventions: how published results become smooth log-likelihoods. Stated once, here; every likelihood
and the profile maps use them.

Every function returns log L - log L_max (so 0 at the best point of that measurement, <= 0 elsewhere) and is
smooth in its argument, so NUTS sees no walls. z(p) = Phi^{-1}(p) is the standard-normal quantile.

**One number per confidence level.** A published result at confidence level CL (upper limit, or either end of an
interval) is placed where -2 Delta ln L = chi2_1(CL), the CL quantile of a chi^2 with one degree of freedom
(:func:`delta_chi2`): **2.71 at 90 % CL, 3.84 at 95 % CL, 4.00 at "2 sigma" (CL = 0.9545)**. The profile-likelihood
maps call a point *allowed at CL* where -2 Delta ln L <= chi2_1(CL) (:data:`ALLOWED_DELTA_CHI2`: 2.71 at 90 % CL),
so a map drawn with one constraint reproduces that constraint's published limit. Delta chi^2 of a fit is always
quoted relative to the Standard-Model point (no Z' coupling, no mixing), never as a sum of each likelihood's own
maximum.

* **One-sided upper limit** x < L at CL on a non-negative quantity (branching ratios, |kappa|^2, |eps|, a search's
  signal strength): a half-Gaussian at 0 with sigma = L / sqrt(chi2_1(CL)), so
  -2 Delta ln L = chi2_1(CL) (x/L)^2. **A point at the quoted 90 % CL limit gets 2.71.**
* **Two-sided interval** a < x < b at CL: a Gaussian with mean (a+b)/2 whose central CL interval is [a, b],
  sigma = (b - a) / (2 sqrt(chi2_1(CL))); or, when the source gives a best fit x0 inside, a bifurcated Gaussian peaked
  at x0 with widths (x0 - a)/sqrt(chi2_1(CL)) and (b - x0)/sqrt(chi2_1(CL)). **At either end 2.71 at 90 % CL.**
* **Symmetric measurement** mu +- sigma: Gaussian. **At mu +- sigma: -2 Delta ln L = 1.**
* **Asymmetric errors** mu +s_plus -s_minus: the variable-width Gaussian of Barlow (arXiv:physics/0406120, Eq. 18),
  V(x) = s_plus s_minus + (s_plus - s_minus)(x - mu), -2 Delta ln L = (x - mu)^2 / V(x), V floored at a small
  positive value far on the short side. **At mu + s_plus and mu - s_minus: -2 Delta ln L = 1.**
* **Exclusion edges: bounded curvature beyond -2 Delta ln L = 25** (:func:`exclusion_edge`, :data:`EDGE_CHI2`). Deep
  in an excluded region a limit's -2 Delta ln L = chi2_1(CL) (x/L)^2 grows like exp(2 d ln 10 u) in the sampler's
  log-coupling coordinates u (x a monomial of total degree d, e.g. g^4 y^4 / M^4): exact, a wall whose slope and
  curvature have no bound. While sampling, each likelihood's ln L therefore passes through :func:`exclusion_edge`:
  **identical for -2 Delta ln L <= 25** (the 5 sigma-equivalent: every quoted CL, the allowed region and the profile
  maps' 2.71 line are untouched; the posterior weight beyond is below e^-12.5 either way); beyond, with
  l = ln(chi2 / 25), chi2 -> 25 (1 + l): the same value and slope at 25 (C^1), monotonic, linear in l. For a limit
  (l = 2 ln(x / x_25)) the slope of -2 ln L in ln x is then bounded by 50 and its curvature by 100 everywhere
  (4 chi2 inside, attained at the cap; 0 beyond): linear in ln x, so linear in the log-couplings. Where it applies:
  the fit problem (:class:`globalfit.problem.FitProblem`, ``sampler.soften_chi2`` = the cap; evidence and reported
  values use the exact ln L) to each likelihood's total, and a likelihood to a limit that a smooth switch (a
  search's mass window) multiplies, before the switch, so that the switch never meets an unbounded -2 ln L.
  (A continuation growing like sqrt(l) was measured too and gave NUTS larger trees: docs/performance.md.)
* **Poisson count** n observed, mu expected: the saturated Poisson log-likelihood
  ln L = n ln mu - mu - (n ln n - n);  -2 Delta ln L is the Poisson deviance (0 at mu = n).
* **Poisson count with a Gaussian-uncertain expectation** (relative uncertainty s on the signal or total): the
  nuisance is profiled in the Gaussian approximation of the count, -2 Delta ln L = (n - mu)^2 / (mu + (s mu)^2)
  with mu floored at a small positive value.
* **Binned counts with template nuisances** (a collaboration's released histogram with its signal and background
  templates and their systematic variations, :mod:`likelihoods.templates`): the Poisson deviance summed over the bins
  plus |theta|^2 for the standard-normal nuisances (normalisations and shape variations), **profiled** over theta,
  -2 ln L = min_theta [2 sum_k (mu_k - n_k + n_k ln(n_k/mu_k)) + |theta|^2], relative to its minimum over the
  model's free inputs (the rate ratios that scale the signal): each released nuisance is treated as the
  collaboration's fit treats it, and the profile is what a profile map over the model's parameters already does.
* **Counts sharing a normalisation error** (one neutrino flux behind several experiments): the counts' Gaussian forms
  above, with the shared error correlated between them (:func:`shared_scale_gaussian`): covariance
  C_ij = delta_ij (W_i + a_i^2) + rho a_i a_j (i != j), where a_i is the shared error's size in count i and W_i the
  rest of its variance. rho = 0 gives the counts apart. The ln det C term is left out,
  as in the single forms (0 where every residual is 0): d^T C^-1 d is the exponent of the marginal over the shared scale
  (checked against a numerical integral to 1e-5) and equals the profile over it; with -1/2 ln det C(r) it would be the
  marginal itself (for COHERENT ln det C grows by 0.5 at r = 1.3 and 1.5 at r = 2).
"""

from __future__ import annotations

import jax.numpy as jnp
from jax.scipy.special import xlogy
from scipy.stats import chi2  # quantiles are constants: computed in numpy, outside any trace

from globalfit import _jax  # noqa: F401

__all__ = [
    "delta_chi2",
    "cl_of_sigma",
    "ALLOWED_CL",
    "ALLOWED_DELTA_CHI2",
    "upper_limit",
    "interval",
    "gaussian",
    "asymmetric_gaussian",
    "poisson",
    "poisson_gaussian",
    "shared_scale_gaussian",
    "EDGE_CHI2",
    "exclusion_edge",
]


def delta_chi2(cl: float, dof: int = 1) -> float:
    """-2 Delta ln L of a result at confidence level ``cl``: the chi^2_dof quantile (2.706 for 90 %, 1 dof)."""
    return float(chi2.ppf(cl, dof))


def cl_of_sigma(n_sigma: float) -> float:
    """The CL of an "n sigma" result (0.9545 for 2 sigma), so that delta_chi2(cl_of_sigma(n)) = n^2."""
    return float(chi2.cdf(n_sigma**2, 1))


ALLOWED_CL = 0.9
ALLOWED_DELTA_CHI2 = delta_chi2(ALLOWED_CL)  # 2.71: what the profile maps call allowed


def upper_limit(x, limit: float, cl: float = 0.9):
    """One-sided upper limit on a non-negative quantity (see module doc): -2 Delta ln L = chi2_1(cl) (x/limit)^2."""
    return -0.5 * delta_chi2(cl) * (x / limit) ** 2


def interval(x, lo: float, hi: float, cl: float = 0.9, best: float | None = None):
    """Two-sided CL interval [lo, hi] (see module doc).

    Without ``best``: a Gaussian centred at the middle. With a best-fit value inside the interval: a bifurcated
    Gaussian peaked at ``best`` with widths (best - lo)/z and (hi - best)/z, z = sqrt(chi2_1(cl)), continuous with
    continuous first derivative, so the best fit gets 0 and either end still gets chi2_1(cl).
    """
    z = delta_chi2(cl) ** 0.5
    if best is None:
        mu, s_lo, s_hi = 0.5 * (lo + hi), (hi - lo) / (2.0 * z), (hi - lo) / (2.0 * z)
    else:
        if not lo < best < hi:
            raise ValueError(f"best fit {best} must lie inside the interval [{lo}, {hi}]")
        mu, s_lo, s_hi = best, (best - lo) / z, (hi - best) / z
    sigma = jnp.where(x < mu, s_lo, s_hi)
    return -0.5 * ((x - mu) / sigma) ** 2


def gaussian(x, mu: float, sigma: float):
    return -0.5 * ((x - mu) / sigma) ** 2


def asymmetric_gaussian(x, mu: float, s_plus: float, s_minus: float):
    """Barlow's variable-width Gaussian for mu +s_plus -s_minus."""
    V = s_plus * s_minus + (s_plus - s_minus) * (x - mu)
    V = jnp.maximum(V, 1e-3 * s_plus * s_minus)
    return -0.5 * (x - mu) ** 2 / V


def poisson(n: float, mu):
    """Saturated Poisson log-likelihood ln L(mu) - ln L(mu = n)."""
    mu = jnp.maximum(mu, 1e-12)
    return xlogy(n, mu) - mu - (xlogy(n, n) - n)


def poisson_gaussian(n: float, mu, rel_sigma: float):
    """Count n against expectation mu with relative systematic rel_sigma (Gaussian approximation)."""
    mu = jnp.maximum(mu, 1e-12)
    return -0.5 * (n - mu) ** 2 / (mu + (rel_sigma * mu) ** 2)


def shared_scale_gaussian(residuals, own_variances, shared, rho=1.0):
    """-0.5 d^T C^-1 d for counts with residuals d_i, own variances W_i and a shared error of size a_i in each, correlated
    with coefficient rho (module doc): C = diag(W + (1 - rho) a^2) + rho a a^T, so each count alone has variance
    W_i + a_i^2, and rho = 0 is the sum of -0.5 d_i^2 / (W_i + a_i^2). Evaluated as the minimum over x of
    sum_i (d_i - sqrt(rho) a_i x)^2 / D_i + x^2, D = W + (1 - rho) a^2 (equal to d^T C^-1 d by Sherman-Morrison),
    which stays finite far from the data."""
    sd = [jnp.sqrt(w + (1.0 - rho) * a**2) for w, a in zip(own_variances, shared)]
    e = [d / s for d, s in zip(residuals, sd)]
    b = [rho**0.5 * a / s for a, s in zip(shared, sd)]  # scalars: a few counts, no arrays to build
    x = sum(ei * bi for ei, bi in zip(e, b)) / (1.0 + sum(bi**2 for bi in b))
    return -0.5 * (sum((ei - bi * x) ** 2 for ei, bi in zip(e, b)) + x**2)


EDGE_CHI2 = 25.0  # -2 Delta ln L beyond which an exclusion edge has bounded curvature (module doc): 5 sigma-equivalent


def exclusion_edge(loglike, cap: float = EDGE_CHI2):
    """ln L of an exclusion with bounded curvature beyond -2 Delta ln L = ``cap`` (module doc).

    chi2 = -2 ``loglike`` unchanged for chi2 <= cap; beyond, cap (1 + ln(chi2/cap)): continuous with continuous first
    derivative at the cap, monotonic, finite for every finite input.
    """
    t = -0.5 * cap
    far = loglike < t
    l = jnp.log(jnp.where(far, loglike / t, 1.0))
    return jnp.where(far, t * (1.0 + l), loglike)
