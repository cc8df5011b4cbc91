"""One numpyro model from a run config (float64).

* Sampled parameters live on the scale of their prior (:mod:`globalfit.config` lists the vocabulary):
  a log-uniform x is the site ``log10_x`` ~ U(log10 min, log10 max), a log-normal x the site ``ln_x``;
  numpyro maps bounded sites to the real line itself. The physical value is ``numpyro.deterministic(x)``.
* ``model.constraints: parametrised``: cos(beta) = r_H M_Zp/(|g_Psi - g_l| v) is a deterministic
  (Eq. 9 of arXiv:1607.07616 holds by construction); the other hard constraints of
  :mod:`globalfit.support` enter as ``numpyro.factor("support", 0 or -inf)``.
* Every quantity of :data:`globalfit.model.DERIVED_NAMES` is a deterministic; each likelihood adds
  ``numpyro.factor("loglike_<name>", lnL)`` and its value is kept as the deterministic ``lnL__<name>``
  (the engine moves these into the ArviZ ``log_likelihood`` group). While sampling, each factor is passed through
  :func:`likelihoods.stats.soften_tail` (``sampler.soften_chi2``, default 25): exact where -2 Delta ln L <= 25,
  logarithmic beyond, so excluded regions are finite-slope walls instead of divergence traps; the recorded
  ``lnL__<name>`` values are exact.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import jax.numpy as jnp
import numpy as np
import numpyro
import numpyro.distributions as dist

from . import _jax  # noqa: F401
from .config import RunConfig
from .model import DERIVED_NAMES, observables
from .parameters import DEFAULTS, PARAM_NAMES, complete
from .scenarios import get_scenario
from likelihoods.stats import soften_tail

from .support import log_support, model_options, physical_point

numpyro.enable_x64()

__all__ = ["LL_PREFIX", "SiteInfo", "ModelSpec", "build_model", "site_of", "sites_for", "psi_above_zp", "prior_centre", "start_point"]

LL_PREFIX = "lnL__"


@dataclass(frozen=True)
class SiteInfo:
    """How one sampled parameter is drawn: ``site`` is the numpyro sample site, ``transform`` maps it to the value."""

    name: str
    site: str
    transform: str  # "id", "pow10", "exp"
    sign: float
    distribution: object = field(repr=False, compare=False)

    def to_value(self, z):
        v = {"id": lambda t: t, "pow10": lambda t: 10.0**t, "exp": jnp.exp}[self.transform](z)
        return self.sign * v

    def to_site(self, value: float) -> float:
        v = self.sign * value
        return {"id": lambda t: t, "pow10": math.log10, "exp": math.log}[self.transform](v)


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
    if psi is None or psi.fixed or psi.negative or psi.prior not in ("uniform", "log-uniform"):
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
    half-normal median, log-normal exp(loc) (clipped); signed."""
    lo, hi = spec.bounds()
    if spec.prior == "uniform":
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


@dataclass
class ModelSpec:
    """Everything the engine needs about the numpyro model of a config."""

    cfg: RunConfig
    sites: dict[str, SiteInfo]
    fixed: dict[str, float]
    likelihood_names: list[str]
    model: object = field(repr=False)
    recorded: list[str] = field(default_factory=list)  # physical sampled + derived deterministic names

    @property
    def sampled_names(self) -> list[str]:
        return list(self.sites)


def start_point(cfg: RunConfig) -> dict[str, float]:
    """Config values at the start: fixed, then each sampled parameter's ref (else its prior centre)."""
    out = cfg.fixed_values()
    for k, s in cfg.sampled().items():
        out[k] = s.ref if s.ref is not None else prior_centre(s)
    return out


def build_model(cfg: RunConfig, likelihoods) -> ModelSpec:
    """The numpyro model of ``cfg`` with the configured ``likelihoods`` (from ``build_likelihoods``)."""
    scenario = get_scenario(cfg.model.scenario)
    options = model_options(cfg)
    sites = sites_for(cfg)
    psi_spec = cfg.sampled()["M_Psi"] if psi_above_zp(cfg) else None
    fixed = cfg.fixed_values()
    constrained = cfg.model.constraints != "none"
    r_h_parametrised = "r_H" in sites or "r_H" in fixed
    lks = list(likelihoods)
    soften = cfg.sampler.soften_chi2
    sampled_phys = list(sites)
    extra = ["cos_beta"] if r_h_parametrised else []
    derived_names = [d for d in DERIVED_NAMES if d not in sampled_phys and d not in extra]
    recorded = sampled_phys + extra + derived_names

    def model():
        values: dict[str, object] = dict(fixed)
        for name, info in sites.items():
            if name == "M_Psi" and psi_spec is not None:
                continue
            z = numpyro.sample(info.site, info.distribution)
            v = info.to_value(z)
            values[name] = numpyro.deterministic(name, v) if info.site != name else v
        if psi_spec is not None:  # M_Psi > M_Zp by construction (psi_above_zp)
            u = numpyro.sample("u_M_Psi", dist.Uniform(0.0, 1.0))
            m_psi, log_factor = m_psi_from_u(u, values.get("M_Zp", DEFAULTS["M_Zp"]), psi_spec)
            values["M_Psi"] = numpyro.deterministic("M_Psi", m_psi)
            numpyro.factor("prior_M_Psi_above_M_Zp", log_factor)
        point = physical_point(complete_with_rh(values), scenario, options)
        if r_h_parametrised:
            numpyro.deterministic("cos_beta", point["cos_beta"])
        p = complete(point)
        obs = observables(p, scenario, options)
        for d in derived_names:
            numpyro.deterministic(d, obs[d])
        if constrained:
            numpyro.factor("support", log_support(p, scenario, options, include_r_H=not r_h_parametrised))
        for lk in lks:
            ll = lk.loglike(obs, p)
            numpyro.deterministic(LL_PREFIX + lk.name, ll)
            numpyro.factor(f"loglike_{lk.name}", ll if soften is None else soften_tail(ll, soften))

    return ModelSpec(cfg, sites, fixed, [lk.name for lk in lks], model, recorded)


def complete_with_rh(values: dict) -> dict:
    """Fill model defaults but keep the config-only r_H entry (needs M_Zp, g_Psi, g_X for Eq. 9)."""
    r = values.get("r_H")
    base = {k: v for k, v in values.items() if k != "r_H"}
    full = {k: base.get(k, None) for k in PARAM_NAMES}
    out = {k: (v if v is not None else DEFAULTS[k]) for k, v in full.items()}
    if r is not None:
        out["r_H"] = r
        out.pop("cos_beta", None)
    return out


def init_values(spec: ModelSpec) -> dict[str, float]:
    """init_to_value values (site space) from the refs of the config."""
    out = {}
    for name, info in spec.sites.items():
        ref = spec.cfg.sampled()[name].ref
        if ref is not None and info.site == "u_M_Psi":
            zp = start_point(spec.cfg).get("M_Zp", DEFAULTS["M_Zp"])
            out[info.site] = np.float64(u_from_m_psi(ref, zp, spec.cfg.sampled()[name]))
            continue
        if ref is not None:
            z = info.to_site(ref)
            lo, hi = spec_site_bounds(info)
            if math.isfinite(lo) and math.isfinite(hi):  # a ref on the bound maps to -inf/inf unconstrained
                eps = 1e-6 * (hi - lo)
                z = min(max(z, lo + eps), hi - eps)
            out[info.site] = np.float64(z)
    return out


def spec_site_bounds(info: SiteInfo) -> tuple[float, float]:
    """Bounds of a sample site's distribution (±inf when unbounded)."""
    d = info.distribution
    lo = float(getattr(d, "low", -math.inf) if getattr(d, "low", None) is not None else -math.inf)
    hi = float(getattr(d, "high", math.inf) if getattr(d, "high", None) is not None else math.inf)
    return lo, hi
