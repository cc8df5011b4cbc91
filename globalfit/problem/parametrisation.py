"""The parametrisation of a run config: which sample site draws each sampled parameter, and how it maps back.

* A uniform x is drawn as the site ``x``; a log-uniform x as ``log10_x`` ~ U(log10 min, log10 max); a log-normal x as
  ``ln_x``; normal and half-normal priors (optionally truncated by min/max) as ``x``. ``negative: true`` flips the sign.
  ``signed: true`` (log-uniform): ``slog10_x`` ~ U(-L, L), L = log10(max/min), x = sign(s) min 10^|s|: both signs with
  prior probability 1/2 each, |x| log-uniform, and one connected site on which NUTS moves from one sign to the other
  through |x| = min (where, for a coupling such as g_Psi with a small min, the physics of the two signs coincides).
* ``prior: circular`` (a phase, uniform on the circle): ``unwrapped_x`` ~ N(0, (3 pi)^2) on the real line,
  x = wrap(t) in [-pi, pi). The wrapped normal's density, (1/2pi) [1 + 2 sum_n exp(-n^2 sd^2/2) cos(n x)] (Mardia & Jupp,
  *Directional Statistics*, 2000, Sec. 3.5.7), is 1/2pi to 1e-19 for sd = 3 pi: uniform in float64. The model depends on
  a phase only through exp(i x), so the density along t is smooth and periodic under a wide Gaussian: no edge at
  x = +-pi where a uniform site's box would cut a mode in two, and NUTS moves across the circle freely (per draw,
  bulk ESS of a flat phase 0.95-1.00 against 0.68-0.73 for a uniform site; of a phase peaked at pi 0.73-0.96 against 0.05;
  docs/performance.md, "Phases on the circle"). Diagnostics read the phase x, not t (:attr:`SiteInfo.diagnosed`).
* ``M_Psi > M_Zp`` is built in (:func:`psi_above_zp`) by drawing ``u_M_Psi`` in (0, 1) on the allowed part of the
  M_Psi prior, with the exact prior factor.
* ``r_H`` in (0, 1] replaces cos(beta) under ``model.constraints: parametrised`` (Eq. 9 of arXiv:1607.07616;
  :func:`globalfit.problem.support.physical_point`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import jax.numpy as jnp
import numpyro.distributions as dist

from globalfit import _jax  # noqa: F401
from globalfit.problem.config import CIRCULAR_SD, RunConfig
from globalfit.physics.parameters import DEFAULTS

__all__ = ["SiteInfo", "site_of", "wrap_angle", "psi_above_zp", "sites_for", "m_psi_from_u", "u_from_m_psi", "prior_centre", "site_bounds"]


@dataclass(frozen=True)
class SiteInfo:
    """How one sampled parameter is drawn: ``site`` is the numpyro sample site, ``transform`` maps it to the value."""

    name: str
    site: str
    transform: str  # "id", "pow10", "exp", "slog10" (signed log scale), "wrap" (an angle: t -> t mod 2 pi in [-pi, pi))
    sign: float
    distribution: object = field(repr=False, compare=False)
    scale: float = 1.0  # "slog10": the smallest |x|

    def to_value(self, z):
        if self.transform == "slog10":
            return jnp.where(z < 0, -1.0, 1.0) * self.scale * 10.0 ** jnp.abs(z)  # s = 0 is +min, never 0
        v = {"id": lambda t: t, "pow10": lambda t: 10.0**t, "exp": jnp.exp, "wrap": wrap_angle}[self.transform](z)
        return self.sign * v

    def to_site(self, value: float) -> float:
        if self.transform == "slog10":
            return math.copysign(math.log10(abs(value) / self.scale), value)
        v = self.sign * value
        return {"id": lambda t: t, "pow10": math.log10, "exp": math.log, "wrap": lambda t: float(wrap_angle(t))}[self.transform](v)

    @property
    def diagnosed(self) -> str:
        """The name whose draws R-hat, ESS and autocorrelation times are computed on: the site, except for a phase on
        the circle, whose unwrapped site t is a sampler coordinate (t and t + 2 pi k are the same point): the phase."""
        return self.name if self.transform == "wrap" else self.site


def wrap_angle(t):
    """t mod 2 pi in [-pi, pi) (an array, or a float); its derivative is 1."""
    return jnp.remainder(t + math.pi, 2.0 * math.pi) - math.pi


def _truncated_normal(loc, scale, lo, hi):
    lo = None if not math.isfinite(lo) else lo
    hi = None if not math.isfinite(hi) else hi
    if lo is None and hi is None:
        return dist.Normal(loc, scale)
    return dist.TruncatedNormal(loc, scale, low=lo, high=hi)


def site_of(name: str, spec) -> SiteInfo:
    """The sample site of one sampled parameter (see the module docstring)."""
    sign = -1.0 if spec.negative else 1.0
    lo, hi = spec.bounds()
    if spec.prior == "uniform":
        return SiteInfo(name, name, "id", sign, dist.Uniform(spec.min, spec.max))
    if spec.prior == "circular":
        return SiteInfo(name, f"unwrapped_{name}", "wrap", 1.0, dist.Normal(0.0, CIRCULAR_SD))
    if spec.prior == "log-uniform" and spec.signed:
        span = math.log10(spec.max / spec.min)
        return SiteInfo(name, f"slog10_{name}", "slog10", 1.0, dist.Uniform(-span, span), scale=float(spec.min))
    if spec.prior == "log-uniform":
        return SiteInfo(name, f"log10_{name}", "pow10", sign, dist.Uniform(math.log10(spec.min), math.log10(spec.max)))
    if spec.prior == "normal":
        return SiteInfo(name, name, "id", sign, _truncated_normal(spec.loc, spec.scale, lo, hi))
    if spec.prior == "half-normal":
        return SiteInfo(name, name, "id", sign, _truncated_normal(0.0, spec.scale, max(lo, 0.0), hi))
    if spec.prior == "log-normal":
        llo = math.log(lo) if lo > 0 else -math.inf
        lhi = math.log(hi) if math.isfinite(hi) else math.inf
        return SiteInfo(name, f"ln_{name}", "exp", sign, _truncated_normal(spec.loc, spec.scale, llo, lhi))
    raise ValueError(f"unknown prior {spec.prior!r}")


def psi_above_zp(cfg: RunConfig) -> bool:
    """Whether M_Psi > M_Zp is built into the parametrisation (else it is a support cut).

    It is when constraints are parametrised, M_Psi has a uniform or log-uniform prior [a, b] and every M_Zp the
    config allows lies below b. M_Psi is then drawn as u in (0, 1) on the allowed part of its prior,
    x(M_Psi) = L + u (x(b) - L), L = max(x(a), x(M_Zp)), x = log10 (log-uniform) or the identity (uniform), and the
    factor ln[(x(b) - L)/(x(b) - x(a))] restores the truncated prior exactly: the joint prior is the config's,
    restricted to M_Psi > M_Zp, with no wall for NUTS to hit.
    """
    if cfg.model.constraints == "none":
        return False
    specs = cfg.param_specs()
    psi = specs.get("M_Psi")
    if psi is None or psi.fixed or psi.negative or psi.signed or psi.prior not in ("uniform", "log-uniform"):
        return False
    zp = specs.get("M_Zp")
    if zp is None:
        zp_max = DEFAULTS["M_Zp"]
    else:
        zp_max = zp.value if zp.fixed else zp.bounds()[1]
    return zp_max < psi.max


def sites_for(cfg: RunConfig) -> dict[str, SiteInfo]:
    """The sample site of every sampled parameter of ``cfg`` (M_Psi as ``u_M_Psi`` when :func:`psi_above_zp`)."""
    sites = {k: site_of(k, s) for k, s in cfg.sampled().items()}
    if psi_above_zp(cfg):
        spec = cfg.sampled()["M_Psi"]
        sites["M_Psi"] = SiteInfo("M_Psi", "u_M_Psi", "pow10" if spec.prior == "log-uniform" else "id", 1.0, dist.Uniform(0.0, 1.0))
    return sites


def _psi_scale(spec):
    """(x, x^-1, x(a), x(b)) of the M_Psi prior: log10 for log-uniform, identity for uniform."""
    if spec.prior == "log-uniform":
        return jnp.log10, (lambda t: 10.0**t), math.log10(spec.min), math.log10(spec.max)
    return (lambda t: t), (lambda t: t), spec.min, spec.max


def m_psi_from_u(u, M_Zp, spec):
    """M_Psi on the allowed part of its prior and the log prior factor (see :func:`psi_above_zp`)."""
    x, x_inv, xa, xb = _psi_scale(spec)
    lower = jnp.maximum(xa, x(M_Zp))
    return x_inv(lower + u * (xb - lower)), jnp.log((xb - lower) / (xb - xa))


def u_from_m_psi(M_Psi: float, M_Zp: float, spec) -> float:
    """Inverse of :func:`m_psi_from_u` (for init values); clipped into (0, 1)."""
    x, _, xa, xb = _psi_scale(spec)
    lower = max(xa, float(x(M_Zp)))
    u = (float(x(M_Psi)) - lower) / (xb - lower)
    return min(max(u, 1e-6), 1 - 1e-6)


def prior_centre(spec) -> float:
    """A representative value: uniform midpoint, log-uniform geometric mean, normal loc (clipped),
    half-normal median, log-normal exp(loc) (clipped), circular 0; signed."""
    lo, hi = spec.bounds()
    if spec.prior == "circular":
        v = 0.0
    elif spec.prior == "uniform":
        v = 0.5 * (spec.min + spec.max)
    elif spec.prior == "log-uniform":
        v = math.sqrt(spec.min * spec.max)
    elif spec.prior == "normal":
        v = spec.loc
    elif spec.prior == "half-normal":
        v = 0.6745 * spec.scale
    else:
        v = math.exp(spec.loc)
    v = min(max(v, lo), hi)
    return -v if spec.negative else v


def site_bounds(info: SiteInfo) -> tuple[float, float]:
    """Bounds of a sample site's distribution (±inf when unbounded)."""
    d = info.distribution
    lo = float(getattr(d, "low", -math.inf) if getattr(d, "low", None) is not None else -math.inf)
    hi = float(getattr(d, "high", math.inf) if getattr(d, "high", None) is not None else math.inf)
    return lo, hi
