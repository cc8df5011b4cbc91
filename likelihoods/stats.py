"""Statistical conventions: how published results become smooth log-likelihoods.

Every function returns log L - log L_max (so 0 at the best point of that measurement, <= 0 elsewhere) and is
smooth in its argument, so NUTS sees no walls. z(p) = Phi^{-1}(p) is the standard-normal quantile.

* **One-sided upper limit** x < L at confidence level CL on a non-negative quantity (branching ratios,
  |kappa|^2, ...): a Gaussian measurement centred at 0 whose one-sided CL quantile is L,
  sigma = L / z(CL), so  -2 Delta ln L = (x / sigma)^2 = z(CL)^2 (x/L)^2.
  **At the quoted limit -2 Delta ln L = z(CL)^2: 1.64 at 90 % CL, 2.71 at 95 % CL.**
* **Two-sided interval** a < x < b at CL: a Gaussian with mean (a+b)/2 whose central CL interval is [a, b],
  sigma = (b - a) / (2 z((1+CL)/2)); or, when the source gives a best fit x0 inside, a bifurcated Gaussian peaked at
  x0 with widths (x0 - a)/z and (b - x0)/z.  **At either end -2 Delta ln L = z((1+CL)/2)^2: 2.71 at 90 % CL.**
* **Symmetric measurement** mu +- sigma: Gaussian. **At mu +- sigma: -2 Delta ln L = 1.**
* **Asymmetric errors** mu +s_plus -s_minus: the variable-width Gaussian of Barlow (arXiv:physics/0406120, Eq. 18),
  V(x) = s_plus s_minus + (s_plus - s_minus)(x - mu), -2 Delta ln L = (x - mu)^2 / V(x), V floored at a small
  positive value far on the short side. **At mu + s_plus and mu - s_minus: -2 Delta ln L = 1.**
* **Far tails (sampling only)**: :func:`soften_tail` keeps log L exact while -2 Delta ln L <= chi2_max and lets it
  grow only logarithmically beyond, so that excluded regions (where a power-law signal makes -2 Delta ln L reach
  1e10 in log-coupling space) are walls of finite slope for NUTS rather than sources of divergences. Posterior
  weight beyond the threshold is below exp(-chi2_max/2) either way.
* **Poisson count** n observed, mu expected: the saturated Poisson log-likelihood
  ln L = n ln mu - mu - (n ln n - n);  -2 Delta ln L is the Poisson deviance (0 at mu = n).
* **Poisson count with a Gaussian-uncertain expectation** (relative uncertainty s on the signal or total): the
  nuisance is profiled in the Gaussian approximation of the count, -2 Delta ln L = (n - mu)^2 / (mu + (s mu)^2)
  with mu floored at a small positive value.
"""

from __future__ import annotations

import jax.numpy as jnp
from jax.scipy.special import xlogy
from scipy.special import ndtri  # quantiles are constants: computed in numpy, outside any trace

from globalfit import _jax  # noqa: F401

__all__ = [
    "z_one_sided",
    "z_two_sided",
    "upper_limit",
    "interval",
    "gaussian",
    "asymmetric_gaussian",
    "poisson",
    "poisson_gaussian",
    "delta_chi2_at_limit",
    "soften_tail",
]


def z_one_sided(cl: float) -> float:
    """z with P(Z < z) = CL (1.2816 for 90 %)."""
    return float(ndtri(cl))


def z_two_sided(cl: float) -> float:
    """z with P(|Z| < z) = CL (1.6449 for 90 %)."""
    return float(ndtri(0.5 * (1.0 + cl)))


def delta_chi2_at_limit(kind: str, cl: float) -> float:
    """-2 Delta ln L that a point exactly at a quoted limit receives under this convention."""
    return {"upper": z_one_sided, "interval": z_two_sided}[kind](cl) ** 2


def upper_limit(x, limit: float, cl: float = 0.9):
    """One-sided upper limit on a non-negative quantity (see module doc)."""
    sigma = limit / z_one_sided(cl)
    return -0.5 * (x / sigma) ** 2


def interval(x, lo: float, hi: float, cl: float = 0.9, best: float | None = None):
    """Two-sided CL interval [lo, hi] (see module doc).

    Without ``best``: a Gaussian centred at the middle. With a best-fit value inside the interval: a bifurcated
    Gaussian peaked at ``best`` with widths (best - lo)/z and (hi - best)/z, continuous with continuous first
    derivative, so the best fit gets 0 and either end still gets z((1+CL)/2)^2.
    """
    z = z_two_sided(cl)
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


def soften_tail(loglike, chi2_max: float = 25.0):
    """log L unchanged for -2 log L <= chi2_max; beyond, t (1 + ln(log L / t)) with t = -chi2_max/2 (continuous,
    with continuous first derivative, monotonic, logarithmic growth)."""
    t = -0.5 * chi2_max
    far = loglike < t
    ratio = jnp.where(far, loglike / t, 1.0)
    return jnp.where(far, t * (1.0 + jnp.log(ratio)), loglike)
