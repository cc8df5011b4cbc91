"""A fit problem as a Cobaya model (Torrado & Lewis, arXiv:2005.05290): the input YAML of a run config, and the
functions the Cobaya components of :mod:`globalfit.inference.cobaya_components` evaluate.

What Cobaya samples. The *sample sites* of the problem (:attr:`FitProblem.site_names`: ``log10_M_Zp``, ``y_e``,
``u_M_Psi``, ...), not the physical parameters. On the sites the config's prior is a product of simple 1-D
distributions (uniform in log10 for a log-uniform prior, a truncated normal, ...), which Cobaya's ``prior`` block
states exactly; M_Psi > M_Zp and Eq. (9) of arXiv:1607.07616 (r_H in (0, 1]) are built into the parametrisation
(:mod:`globalfit.problem.parametrisation`), so the Metropolis sampler sees the same box without walls that NUTS
sees, instead of a physical space cut by diagonal constraints. The rest of the density,

    ln f_Psi(z) + ln 1_support(x(z))

(the M_Psi > M_Zp prior factor and the support cuts), is Cobaya's external prior ``globalfit_constraints`` (added
only when the config can make it non-zero). Cobaya's posterior is then :meth:`FitProblem.log_density` with exact
likelihoods (no ``sampler.soften_chi2``: softening only acts beyond -2 Delta ln L = 25 of one likelihood, where the
posterior mass is negligible). The physical parameters (M_Zp, ...), cos(beta) and every derived quantity are
Cobaya derived parameters.

Components. One theory, ``globalfit`` (:class:`~globalfit.inference.cobaya_components.GlobalfitTheory`), maps the
sites to the physical point and observables once per point and provides ``lnL__<name>`` for each likelihood of the
config; each likelihood is its own Cobaya likelihood (:class:`~globalfit.inference.cobaya_components.GlobalfitLikelihood`)
named as in ``globalfit likelihoods``, so Cobaya's ``chi2__<name>`` columns are the per-likelihood -2 ln L. Drop a
likelihood from the ``likelihood`` block and the theory no longer computes it.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any, Callable

import jax
import jax.numpy as jnp
import numpy as np
import yaml

from globalfit import _jax  # noqa: F401
from globalfit.problem import FitProblem
from globalfit.problem.parametrisation import SiteInfo, site_bounds
from globalfit.outputs.style import tex_label

__all__ = ["THEORY_CLASS", "LIKELIHOOD_CLASS", "CONSTRAINT_PRIOR", "site_prior", "needs_constraint_prior",
           "derived_names", "cobaya_params", "cobaya_info", "cobaya_yaml", "point_function", "constraint_function"]

THEORY_CLASS = "globalfit.inference.cobaya_components.GlobalfitTheory"
LIKELIHOOD_CLASS = "globalfit.inference.cobaya_components.GlobalfitLikelihood"
CONSTRAINT_PRIOR = "globalfit_constraints"


def _finite(x: float) -> float | None:
    return float(x) if math.isfinite(x) else None


def site_prior(info: SiteInfo) -> dict[str, Any]:
    """Cobaya ``prior`` of a sample site: ``{min, max}`` for a uniform site, ``{dist: norm}`` or ``{dist: truncnorm}``
    (scipy's standardised ``a``, ``b``) for a normal one."""
    d = info.distribution
    lo, hi = site_bounds(info)
    base = getattr(d, "base_dist", d)
    if type(d).__name__ == "Uniform":
        return {"min": lo, "max": hi}
    loc, scale = float(np.asarray(base.loc)), float(np.asarray(base.scale))
    if not (math.isfinite(lo) or math.isfinite(hi)):
        return {"dist": "norm", "loc": loc, "scale": scale}
    a = (lo - loc) / scale if math.isfinite(lo) else -1e300
    b = (hi - loc) / scale if math.isfinite(hi) else 1e300
    return {"dist": "truncnorm", "a": a, "b": b, "loc": loc, "scale": scale}


def _proposal(prior: dict) -> float:
    """Initial Metropolis step: a tenth of the prior's spread (Cobaya learns the covariance while running)."""
    if "min" in prior:
        return float(f"{0.1 * (prior['max'] - prior['min']):.4g}")
    return float(f"{0.1 * prior['scale']:.4g}")


def needs_constraint_prior(problem: FitProblem) -> bool:
    """Whether ln f_Psi + ln 1_support can differ from 0 (M_Psi > M_Zp built in, or physical constraints on)."""
    return problem.psi_spec is not None or problem.constrained


def derived_names(problem: FitProblem) -> list[str]:
    """Cobaya derived parameters: the physical value of each sampled parameter drawn on another site, cos(beta) when
    r_H replaces it, and every derived quantity of the model."""
    out = [n for n, info in problem.sites.items() if info.site != n]
    if problem.r_h_parametrised and "cos_beta" not in problem.sites:
        out.append("cos_beta")
    return out + [d for d in problem.derived_names if d not in out]


def cobaya_params(problem: FitProblem) -> dict[str, dict]:
    """The ``params`` block: each site with its prior, start (``ref``: the config's ref, else the prior centre) and
    initial proposal; then the derived parameters."""
    start = problem.start_sites()
    params: dict[str, dict] = {}
    for name in problem.site_names:
        info = next(i for i in problem.sites.values() if i.site == name)
        prior = site_prior(info)
        params[name] = {"prior": prior, "ref": float(start[name]), "proposal": _proposal(prior), "latex": tex_label(name, problem.cfg)}
    for name in derived_names(problem):
        params[name] = {"latex": tex_label(name, problem.cfg), "derived": True}
    return params


def cobaya_info(problem: FitProblem, config: str | Path, output: str | None = None,
                sampler: dict | None = None) -> dict[str, Any]:
    """Cobaya's input (the ``info`` of ``cobaya.run``) for a run config file: theory, one likelihood per globalfit
    likelihood, the site priors, the external constraint prior, the derived parameters, the sampler (default:
    ``mcmc`` to R-1 < 0.01) and ``output`` (a path prefix; None: in memory)."""
    config = str(Path(config).resolve())
    info: dict[str, Any] = {
        "theory": {"globalfit": {"class": THEORY_CLASS, "config": config}},
        "likelihood": {name: {"class": LIKELIHOOD_CLASS} for name in problem.likelihood_names},
        "params": cobaya_params(problem),
        "sampler": sampler if sampler is not None else {"mcmc": {"Rminus1_stop": 0.01, "Rminus1_cl_stop": 0.2, "max_tries": 10000}},
    }
    if needs_constraint_prior(problem):
        info["prior"] = {CONSTRAINT_PRIOR: f"import_module('globalfit.inference.cobaya_components').constraint_prior({config!r})"}
    if output is not None:
        info["output"] = str(output)
    return info


def cobaya_yaml(problem: FitProblem, config: str | Path, output: str | None = None, sampler: dict | None = None) -> str:
    """:func:`cobaya_info` as an input file for ``cobaya-run`` (with a header saying where it came from)."""
    info = cobaya_info(problem, config, output, sampler)
    head = (f"# Cobaya input for {problem.where} (scenario {problem.scenario.name}), written by `globalfit cobaya`.\n"
            "# Cobaya samples the globalfit sample sites (see globalfit/inference/cobaya_interop.py); the physical\n"
            "# parameters and derived quantities are Cobaya derived parameters. Run: cobaya-run THIS_FILE\n")
    return head + yaml.safe_dump(info, sort_keys=False, width=200)


def point_function(problem: FitProblem) -> Callable[[np.ndarray], tuple[dict, dict]]:
    """Jitted ``z -> (derived values, {likelihood: exact ln L})`` at one site point (array over :attr:`site_names`)."""
    names = derived_names(problem)

    @jax.jit
    def f(z):
        values, _ = problem.values(z)
        p = problem.physical(values)
        obs = problem.observables(p)
        derived = {}
        for n in names:
            derived[n] = p[n] if n in p else (values[n] if n in values else obs[n])
        return derived, problem.loglike_terms(p, obs)

    def call(z):
        d, ll = jax.device_get(f(jnp.asarray(z, dtype=jnp.float64)))
        return {k: float(v) for k, v in d.items()}, {k: float(v) for k, v in ll.items()}

    return call


def constraint_function(problem: FitProblem) -> Callable[[np.ndarray], float]:
    """Jitted ``z -> ln f_Psi(z) + ln 1_support(x(z))`` (see the module docstring)."""

    @jax.jit
    def f(z):
        values, log_f = problem.values(z)
        return log_f + problem.log_support(problem.physical(values))

    return lambda z: float(f(jnp.asarray(z, dtype=jnp.float64)))
