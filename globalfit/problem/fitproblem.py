"""One fit problem: a run config turned, once, into the log-density every command consumes.

:func:`load_problem` reads a run config, checks it (:func:`globalfit.problem.support.check_config`), builds its likelihoods
and its parametrisation (:mod:`globalfit.problem.parametrisation`). The resulting :class:`FitProblem` is what NUTS
(:mod:`globalfit.inference.nuts`), the profile likelihood (:mod:`globalfit.inference.profile`), nested sampling
(:mod:`globalfit.inference.evidence`), the dry run, ``evaluate``, the benchmark and the report use; none of them rebuilds any
part of it.

Coordinates. ``z`` is a point in *site space*: one value per sample site (``log10_M_Zp``, ``u_M_Psi``, ...; see
:attr:`FitProblem.site_names`), either a mapping ``site -> value`` or an array whose last axis runs over the sites
in that order. The log-density on site space is

    ln p(z) = sum_sites ln pi_site(z_site) + ln f_Psi(z) + ln 1_support(x(z)) + sum_likelihoods ln L_i(x(z)),

the likelihoods evaluated only inside the support (outside, where ln 1_support = -inf, at the start point instead:
:meth:`FitProblem.likelihood_point`, so that neither the value nor the gradient is ever NaN)

with f_Psi the M_Psi > M_Zp prior factor (:func:`globalfit.problem.parametrisation.psi_above_zp`) and x(z) the complete
physical point (:meth:`FitProblem.point`: r_H -> cos beta by Eq. 9 of arXiv:1607.07616, defaults filled). While
sampling each ln L_i passes through :func:`likelihoods.stats.exclusion_edge` (``sampler.soften_chi2``); the terms
recorded (:meth:`FitProblem.loglike_terms`) are exact.
"""

from __future__ import annotations

import fnmatch
import math
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Callable, Hashable, Iterable, Mapping, TypeVar

import jax
import jax.numpy as jnp
import numpyro
from jax.flatten_util import ravel_pytree
from numpyro.distributions.transforms import biject_to
from numpyro.infer.util import get_potential_fn, transform_fn

from globalfit import _jax  # noqa: F401
from globalfit.problem.config import ParamSpec, RunConfig, load_config
from globalfit.errors import InputError
from globalfit.problem.evaluate import SM_OVERRIDES, evaluate_point
from globalfit.physics.model import DERIVED_NAMES, ModelOptions, observable_names, observables
from globalfit.physics.parameters import DEFAULTS, complete
from globalfit.problem.parametrisation import SiteInfo, m_psi_from_u, prior_centre, psi_above_zp, site_bounds, sites_for, u_from_m_psi
from globalfit.physics.scenarios import Scenario, get_scenario
from globalfit.problem.support import check_config, check_delayed_acceptance, check_matter_composition, check_metropolis, check_plots, complete_with_rh, in_support, model_options, physical_point
from likelihoods import Likelihood, build_likelihoods, check_requirements
from likelihoods.base import RateProvider, rate_provider
from likelihoods.stats import exclusion_edge

numpyro.enable_x64()

__all__ = ["LL_PREFIX", "FitProblem", "UnconstrainedDensity", "load_problem", "problem_from_config", "split_likelihoods"]

LL_PREFIX = "lnL__"
_START_MARGIN = 1e-6  # a start on a bounded site's edge is moved this fraction of the range inside


def materialised(x: jnp.ndarray) -> jnp.ndarray:
    """``x + 0`` (``x`` itself, but for the sign of a zero), computed as a reduction. A log-density ends in a sum of
    O(100) terms made of cheap element-wise operations; XLA's CPU fusion copies such a producer into every consumer of
    its value (each of the nine accept/reject selects of a Metropolis step, for instance), compiling and evaluating the
    whole sum once per consumer. It never copies a reduction, so the sum is computed once
    (docs/performance.md, "The log-density's last sum, once")."""
    return jnp.sum(jnp.stack([x, jnp.zeros_like(x)]), axis=0)


def split_likelihoods(lks: Iterable[Likelihood], patterns: Iterable[str], where: str = "the config",
                      optional: Iterable[str] = ()) -> tuple[list[Likelihood], list[Likelihood]]:
    """(included, excluded) likelihoods; ``patterns`` holds names or fnmatch patterns. A pattern that matches no
    likelihood is an error naming ``where`` (except those in ``optional``)."""
    lks, patterns, optional = list(lks), list(patterns), set(optional)
    names = [lk.name for lk in lks]
    for pat in patterns:
        if pat not in optional and not any(fnmatch.fnmatchcase(n, pat) for n in names):
            raise InputError(f"--exclude {pat!r}: matches no likelihood of {where} ({', '.join(names)})")
    out = [lk for lk in lks if any(fnmatch.fnmatchcase(lk.name, p) for p in patterns)]
    return [lk for lk in lks if lk not in out], out


@dataclass(frozen=True)
class UnconstrainedDensity:
    """The numpyro model of a problem in unconstrained coordinates: site value z = T(u) with T = ``biject_to`` of the
    site's support (numpyro's transforms), what NUTS and the ensemble sampler move in
    (:meth:`FitProblem.unconstrained`)."""

    potential: Callable[[Mapping[str, Any]], jnp.ndarray]  # {site: u} -> -ln p(u): prior with |dT/du|, support, likelihoods
    postprocess: Callable[[Mapping[str, Any]], dict]  # {site: u} -> sites, parameters, derived quantities, exact ln L
    transforms: dict  # site -> T
    unravel: Callable[[jnp.ndarray], dict]  # flat u (sites in sorted order, as ravel_pytree) -> {site: u}
    ndim: int

    def unconstrain(self, z: Mapping[str, Any]) -> dict[str, jnp.ndarray]:
        """{site: u} of site values ``z`` (T^-1)."""
        return transform_fn(self.transforms, {k: jnp.asarray(v, dtype=jnp.float64) for k, v in z.items()}, invert=True)


_T = TypeVar("_T")


@dataclass(frozen=True)
class FitProblem:
    """A run config as a posterior: scenario, model options, likelihoods and parametrisation (see the module docstring).

    Build it with :func:`load_problem` (from a file) or :func:`problem_from_config`.
    """

    cfg: RunConfig
    where: str  # the config file (for messages)
    scenario: Scenario
    options: ModelOptions
    likelihoods: tuple[Likelihood, ...]
    sites: dict[str, SiteInfo] = field(repr=False)  # sampled parameter -> its sample site
    soften: float | None = None  # sampler.soften_chi2 (None: exact likelihoods in the density)
    rates: RateProvider | None = field(default=None, repr=False)  # the scattering rates the likelihoods read
    # the support cut as a factor of the density (False: left to delayed acceptance, :meth:`likelihood_potential`)
    support_factor: bool = True
    # functions compiled for this problem object (:meth:`compiled`); a derived problem (``replace``) starts empty
    _compiled: dict = field(default_factory=dict, init=False, repr=False, compare=False)

    def compiled(self, key: Hashable, build: Callable[[], _T]) -> _T:
        """``build()`` once per problem object and ``key``, then the same value: the jitted programs of a computation
        repeated on this problem (e.g. the evidence of several seeds) keep their traces and executables. A derived
        problem (:meth:`exact`, :meth:`without`, ...) is a new object with none."""
        if key not in self._compiled:
            self._compiled[key] = build()
        return self._compiled[key]

    # --- the parametrisation -------------------------------------------------------------------------------
    @property
    def fixed(self) -> dict[str, float]:
        return self.cfg.fixed_values()

    @property
    def sampled_names(self) -> list[str]:
        """Sampled parameters (config names; ``r_H`` where it replaces cos_beta)."""
        return list(self.sites)

    @property
    def site_names(self) -> list[str]:
        """Sample sites in the order of the last axis of an array ``z``."""
        return [self.sites[n].site for n in self._site_order]

    @property
    def diagnosed_names(self) -> list[str]:
        """What R-hat and ESS are computed on, one name per sample site in :attr:`site_names` order: the site, or
        for a phase on the circle the phase (:attr:`globalfit.problem.parametrisation.SiteInfo.diagnosed`)."""
        return [self.sites[n].diagnosed for n in self._site_order]

    @property
    def _site_order(self) -> list[str]:
        names = [n for n in self.sites if not (n == "M_Psi" and self.psi_spec is not None)]
        return names + (["M_Psi"] if self.psi_spec is not None else [])

    @property
    def psi_spec(self) -> ParamSpec | None:
        """The M_Psi prior when M_Psi > M_Zp is built into the parametrisation (``u_M_Psi``), else None."""
        return self.cfg.sampled()["M_Psi"] if psi_above_zp(self.cfg) else None

    @property
    def r_h_parametrised(self) -> bool:
        return "r_H" in self.sites or "r_H" in self.fixed

    @property
    def constrained(self) -> bool:
        return self.cfg.model.constraints != "none"

    @property
    def likelihood_names(self) -> list[str]:
        return [lk.name for lk in self.likelihoods]

    @property
    def derived_names(self) -> list[str]:
        """Derived quantities recorded with every draw (those not already sampled)."""
        extra = {"cos_beta"} if self.r_h_parametrised else set()
        return [d for d in DERIVED_NAMES if d not in self.sites and d not in extra]

    # --- points ---------------------------------------------------------------------------------------------
    def start(self) -> dict[str, float]:
        """The start point in config values: fixed values, then each sampled parameter's ``ref`` (else its prior
        centre, :func:`globalfit.problem.parametrisation.prior_centre`). May hold ``r_H`` (see :meth:`physical`)."""
        out = dict(self.fixed)
        for k, s in self.cfg.sampled().items():
            out[k] = s.ref if s.ref is not None else prior_centre(s)
        return out

    def start_sites(self, refs_only: bool = False) -> dict[str, float]:
        """:meth:`start` in site space (bounded sites moved inside their edges); ``refs_only``: only the sites
        whose parameter has a ``ref`` (NUTS draws the others at random)."""
        start, specs = self.start(), self.cfg.sampled()
        out: dict[str, float] = {}
        for name, info in self.sites.items():
            if refs_only and specs[name].ref is None:
                continue
            if info.site == "u_M_Psi":
                out[info.site] = float(u_from_m_psi(start[name], start.get("M_Zp", DEFAULTS["M_Zp"]), specs[name]))
                continue
            z = info.to_site(start[name])
            lo, hi = site_bounds(info)
            if math.isfinite(lo) and math.isfinite(hi):  # a start on the bound maps to -inf/inf unconstrained
                eps = _START_MARGIN * (hi - lo)
                z = min(max(z, lo + eps), hi - eps)
            out[info.site] = float(z)
        return out

    def as_sites(self, z) -> dict[str, Any]:
        """``z`` as a mapping site -> value (an array's last axis runs over :attr:`site_names`)."""
        if isinstance(z, Mapping):
            return dict(z)
        z = jnp.asarray(z)
        return {s: z[..., i] for i, s in enumerate(self.site_names)}

    def values(self, z, override: Mapping[str, Any] | None = None) -> tuple[dict[str, Any], Any]:
        """(config values, ln f_Psi) at site point ``z``: fixed values, then each sampled parameter from its site,
        ``override`` replacing any of them (before M_Psi is placed above M_Zp). ``r_H`` is kept."""
        zs, override = self.as_sites(z), dict(override or {})
        vals: dict[str, Any] = dict(self.fixed)
        for name in self._site_order:
            info = self.sites[name]
            if info.site != "u_M_Psi" and name not in override:
                vals[name] = info.to_value(zs[info.site])
        vals.update(override)
        log_f = jnp.asarray(0.0)
        if self.psi_spec is not None:
            vals["M_Psi"], log_f = m_psi_from_u(zs["u_M_Psi"], vals.get("M_Zp", DEFAULTS["M_Zp"]), self.psi_spec)
        return vals, log_f

    def physical(self, values: Mapping[str, Any]) -> dict[str, jnp.ndarray]:
        """The complete physical point of config values: r_H -> cos beta (Eq. 9), defaults for unset parameters."""
        return complete(physical_point(complete_with_rh(values), self.scenario, self.options))

    def point(self, z) -> dict[str, jnp.ndarray]:
        """The complete physical point at site point ``z``."""
        return self.physical(self.values(z)[0])

    # --- the density ----------------------------------------------------------------------------------------
    def observables(self, p: Mapping[str, Any]) -> dict:
        """The model's observables at ``p``, with every tabulated scattering rate the likelihoods read computed
        together (:class:`likelihoods.base.RateProvider`)."""
        obs = observables(p, self.scenario, self.options)
        return obs if self.rates is None else self.rates.provide(obs)

    def loglike_terms(self, p: Mapping[str, Any], obs: Mapping[str, Any] | None = None) -> dict[str, jnp.ndarray]:
        """Exact ln L of every likelihood at the physical point ``p`` (``obs``: its observables, if at hand)."""
        obs = self.observables(p) if obs is None else obs
        return {lk.name: lk.loglike(obs) for lk in self.likelihoods}

    def inside_support(self, p: Mapping[str, Any]) -> jnp.ndarray:
        """True inside the physical support (Eq. 9 skipped where r_H builds it in); always True without constraints.

        Masks are built from this boolean, not from ``isfinite(log_support)``: the two are equal, but XLA compiles a
        mask read through ``isfinite`` of a -inf/0 select into a log-density ~1.8x slower per batched point
        (docs/performance.md, "The support mask and the interpolation searches")."""
        if not self.constrained:
            return jnp.asarray(True)
        return in_support(p, self.scenario, self.options, include_r_H=not self.r_h_parametrised)

    def log_support(self, p: Mapping[str, Any]) -> jnp.ndarray:
        """0 inside the physical support, -inf outside (Eq. 9 skipped where r_H builds it in); 0 without constraints."""
        return jnp.where(self.inside_support(p), 0.0, -jnp.inf)

    def log_prior(self, z) -> jnp.ndarray:
        """ln of the prior density on site space, including the M_Psi > M_Zp factor (-inf outside the prior box)."""
        zs = self.as_sites(z)
        total = self.values(zs)[1]
        for name in self._site_order:
            info = self.sites[name]
            d, x = info.distribution, zs[info.site]
            inside = d.support(x)
            safe = jnp.where(inside, x, _interior(info, d))
            total = total + jnp.where(inside, d.log_prob(safe), -jnp.inf)
        return total

    def soften_term(self, ll):
        return ll if self.soften is None else exclusion_edge(ll, self.soften)

    def likelihood_point(self, p: Mapping[str, Any]) -> tuple[dict[str, jnp.ndarray], jnp.ndarray]:
        """(point the likelihoods are evaluated at, inside): ``p`` inside the physical support; outside it (where the
        density is -inf anyway) the start point, so that no likelihood sees a point where the model does not exist (and
        may overflow) and no NaN reaches the value or the gradient (the "double where": the gradient of
        ``where(inside, f(p_safe), -inf)`` is 0, not NaN, outside). Without constraints every point is used as it is."""
        if not self.constrained:
            return dict(p), jnp.asarray(True)
        inside = self.inside_support(p)
        ref = self.physical(self.start())
        return {k: jnp.where(inside, v, ref[k]) for k, v in p.items()}, inside

    def _log_density_one(self, z):
        p = self.point(z)
        q, inside = self.likelihood_point(p)
        lp = jnp.asarray(0.0)
        for ll in self.loglike_terms(q).values():
            lp = lp + self.soften_term(ll)
        return materialised(self.log_prior(z) + jnp.where(inside, lp, -jnp.inf))

    def log_density(self, z) -> jnp.ndarray:
        """ln p(z) of the module docstring; pure, jit/grad-able; batched over any leading axes of an array ``z``."""
        if isinstance(z, Mapping):
            return self._log_density_one(z)
        z = jnp.asarray(z, dtype=jnp.float64)
        fn = self._log_density_one
        for _ in range(z.ndim - 1):
            fn = jax.vmap(fn)
        return fn(z)

    def numpyro_model(self) -> Callable[[], None]:
        """The numpyro model of the problem: the same density as :meth:`log_density`, each likelihood a factor
        ``loglike_<name>`` (softened) and a deterministic ``lnL__<name>`` (exact); every recorded quantity a site."""
        psi = self.psi_spec
        derived = self.derived_names

        def model():
            zs = {}
            for name in self._site_order:
                info = self.sites[name]
                zs[info.site] = numpyro.sample(info.site, info.distribution)
            values, log_f = self.values(zs)
            for name in self._site_order:
                if self.sites[name].site != name:
                    numpyro.deterministic(name, values[name])
            if psi is not None:
                numpyro.factor("prior_M_Psi_above_M_Zp", log_f)
            p = self.physical(values)
            if self.r_h_parametrised:
                numpyro.deterministic("cos_beta", p["cos_beta"])
            q, inside = self.likelihood_point(p)  # p inside the support, the start point outside (no NaN there)
            obs = self.observables(q)
            for d in derived:
                numpyro.deterministic(d, obs[d])
            if self.constrained and self.support_factor:
                numpyro.factor("support", self.log_support(p))
            for name, ll in self.loglike_terms(q, obs).items():
                numpyro.deterministic(LL_PREFIX + name, ll)
                numpyro.factor(f"loglike_{name}", jnp.where(inside, self.soften_term(ll), 0.0))

        return model

    def site_transforms(self) -> dict[str, Any]:
        """site -> T = numpyro's ``biject_to`` of the site's support: the site value z = T(u) of an unconstrained u
        (the samplers' and the profile maps' coordinates)."""
        return {info.site: biject_to(info.distribution.support) for info in self.sites.values()}

    def unconstrained(self, plain_sum: bool = False) -> UnconstrainedDensity:
        """:meth:`numpyro_model` in unconstrained coordinates, built from the sites' supports with numpyro's
        ``get_potential_fn``. Not with ``initialize_model``, which also searches for a valid start by evaluating the
        value and gradient at a draw (op by op for one chain, a compiled loop for several): 9-23 s of set-up that the
        samplers do not need, since they choose their own starts (docs/performance.md, "Set-up before sampling").

        The potential is a ``jax.jit`` function, so that its traces are kept: NUTS's chains batch the tree-building
        while-loops around its value and gradient several times over (JAX batches a loop body until its batched
        carries settle), and the start search traces the same value and gradient; a jitted potential is traced and
        differentiated once and its batched forms are cached (docs/performance.md, "Tracing the NUTS chunk"). Its value
        is :func:`materialised`; ``plain_sum=True`` gives numpyro's potential as it is (to compare, in benchmarks and
        tests)."""
        transforms = self.site_transforms()
        potential, postprocess = get_potential_fn(self.numpyro_model(), transforms, replay_model=True)
        _, unravel = ravel_pytree({s: jnp.zeros(()) for s in transforms})
        value = potential if plain_sum else (lambda u: materialised(potential(u)))
        return UnconstrainedDensity(jax.jit(value), postprocess, transforms, unravel, len(transforms))

    def likelihood_potential(self, names: Iterable[str], support: bool = False) -> Callable[[Mapping[str, Any]], jnp.ndarray]:
        """{site: u} -> -sum of the named likelihoods' ln L as the sampling density has them (``soften_chi2``'s edge
        applied), in unconstrained coordinates, and with ``support`` +inf outside the physical support: D of delayed
        acceptance (:mod:`globalfit.inference.metropolis`), whose U is :meth:`unconstrained` of :meth:`without` the same
        names (and with ``support`` of :meth:`without_support_factor`). Without ``support``, 0 outside the support
        (where U is infinite)."""
        part = self.with_likelihoods(lk for lk in self.likelihoods if lk.name in set(names))
        transforms = self.site_transforms()

        def potential(u: Mapping[str, Any]) -> jnp.ndarray:
            q, inside = part.likelihood_point(part.point({s: transforms[s](u[s]) for s in transforms}))
            lp = sum(part.soften_term(ll) for ll in part.loglike_terms(q).values())
            return -jnp.where(inside, lp, -jnp.inf if support else 0.0)

        return jax.jit(potential)

    def without_support_factor(self) -> "FitProblem":
        """The problem whose density leaves out the support cut (-inf outside the physical support); the likelihoods
        still see only physical points (:meth:`likelihood_point`). U of delayed acceptance with the support in D."""
        return replace(self, support_factor=False)

    # --- variants -------------------------------------------------------------------------------------------
    def without(self, patterns: Iterable[str], optional: Iterable[str] = ()) -> "FitProblem":
        """The problem without the likelihoods matching any name or fnmatch pattern (a pattern matching nothing is an
        error, except those in ``optional``); the config's ``likelihoods`` block follows."""
        keep, _ = split_likelihoods(self.likelihoods, patterns, self.where, optional)
        return self.with_likelihoods(keep)

    def with_likelihoods(self, lks: Iterable[Likelihood]) -> "FitProblem":
        lks = tuple(lks)
        names = {lk.name for lk in lks}
        cfg = self.cfg.model_copy(update={"likelihoods": {k: v for k, v in self.cfg.likelihoods.items() if k in names}})
        return replace(self, cfg=cfg, likelihoods=lks, rates=rate_provider(lks))

    def exact(self) -> "FitProblem":
        """The problem with exact likelihoods in the density (no ``soften_chi2``: evidence, reported values)."""
        cfg = self.cfg.model_copy(update={"sampler": self.cfg.sampler.model_copy(update={"soften_chi2": None})})
        return replace(self, cfg=cfg, soften=None)

    def with_config(self, cfg: RunConfig) -> "FitProblem":
        """The same likelihoods under another config of the same model (e.g. prior overrides); re-checked."""
        check_config(cfg, self.where)
        return replace(self, cfg=cfg, sites=sites_for(cfg), soften=cfg.sampler.soften_chi2)

    def sm_loglike(self) -> dict[str, float]:
        """Exact ln L of every likelihood at the Standard-Model point (:data:`~globalfit.problem.evaluate.SM_OVERRIDES`:
        g_X = 0, y_alpha = 0; the other parameters at :meth:`start`, which then change no rate): the reference of a
        quoted Delta chi^2 (:mod:`likelihoods.stats`)."""
        p = self.physical({**self.start(), **SM_OVERRIDES})
        return {k: float(v) for k, v in jax.jit(self.loglike_terms)(p).items()}

    def evaluate(self, values: Mapping[str, float] | None = None) -> dict:
        """Every derived observable and each likelihood's ln L at config values (default: :meth:`start`);
        see :func:`globalfit.problem.evaluate.evaluate_point`."""
        return evaluate_point(self.start() if values is None else values, self.scenario.name, self.options, list(self.likelihoods))


def _interior(info: SiteInfo, d) -> float:
    """A point inside a site's support (where log_prob is evaluated for points outside, then masked)."""
    lo, hi = site_bounds(info)
    if math.isfinite(lo) and math.isfinite(hi):
        return 0.5 * (lo + hi)
    if math.isfinite(lo):
        return lo + 1.0
    if math.isfinite(hi):
        return hi - 1.0
    return 0.0


def problem_from_config(cfg: RunConfig, where: str, likelihoods: Iterable[Likelihood] | None = None) -> FitProblem:
    """The :class:`FitProblem` of a validated config (``likelihoods``: already built ones, else from ``cfg``)."""
    check_config(cfg, where)
    check_plots(cfg, where)
    check_metropolis(cfg, where)
    check_delayed_acceptance(cfg, where)
    scenario = get_scenario(cfg.model.scenario)
    lks = tuple(build_likelihoods(cfg.likelihoods, scenario, where=where) if likelihoods is None else likelihoods)
    options = model_options(cfg)
    check_requirements(lks, observable_names(scenario, options), where)
    check_matter_composition(cfg.model.Y_n, lks, where)
    return FitProblem(cfg=cfg, where=where, scenario=scenario, options=options, likelihoods=lks,
                      sites=sites_for(cfg), soften=cfg.sampler.soften_chi2, rates=rate_provider(lks))


def load_problem(path: str | Path) -> FitProblem:
    """Read, validate and build the fit problem of a run config file (errors: one-line ConfigError)."""
    path = Path(path)
    return problem_from_config(load_config(path), str(path))
