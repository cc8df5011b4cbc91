"""Hard physical constraints as the model's support (not likelihoods), and the parametrisation that builds
Eq. (9) in.

Constraints (Farzan & Heeck, arXiv:1607.07616; a point is physical iff every one holds):

* Eq. (9): the H' vev feeds (g_Psi - g_l)^2 v^2 cos^2(beta) into M_Zp^2, so
  r_H = |g_Psi - g_l| v cos(beta) / M_Zp <= 1.
* Eq. (8) is an expansion in the mixing: |kappa_alpha| = |y_alpha| v cos(beta) / (sqrt 2 M_Psi) < 1.
* Perturbativity: |y_alpha|, |g_X|, |g_Psi| <= sqrt(4 pi).
* Charged scalar H^-: M_H > 90 GeV (LEP, Br(H^- -> tau nu) = 1, paper Ref. [85]); M_H > 275 GeV when
  y_e or y_mu != 0 (CMS slepton-like search, 19.5 fb^-1 at 8 TeV, Fig. 14 of arXiv:1405.7570 = paper
  Ref. [86]; paper Sec. 3).
* M_Psi > M_Zp (Psi -> nu Z' is its decay; paper Sec. 2), and cos(beta) <= 1.

With ``model.constraints: parametrised`` the sampler draws r_H in (0, 1] and sets
cos(beta) = r_H M_Zp / (|g_Psi - g_l| v) (:func:`cos_beta_from_r_H`), so Eq. (9) holds by construction.
Perturbativity and the M_H bounds are checked on the prior ranges when a run starts
(:func:`check_config`); the rest are support cuts (:func:`log_support` is 0 inside, -inf outside, with a
zero gradient everywhere, so NUTS simply rejects proposals that leave the support).
"""

from __future__ import annotations

import math
from typing import Any, Literal, Mapping, NamedTuple

import jax.numpy as jnp

from globalfit import _jax  # noqa: F401
from globalfit.physics.constants import constants
from globalfit.physics.couplings import kappa, psi_lepton_charge
from globalfit.errors import ConfigError
from globalfit.names import did_you_mean
from globalfit.physics.model import DERIVED_NAMES, DIFFERENCES, ModelOptions
from globalfit.physics.parameters import DEFAULTS, PARAM_NAMES, PERTURBATIVE
from globalfit.physics.scenarios import FLAVOURS, Scenario, get_scenario

__all__ = [
    "PERTURBATIVE",
    "M_H_LEP",
    "M_H_CMS",
    "cos_beta_from_r_H",
    "complete_with_rh",
    "physical_point",
    "Constraint",
    "constraint_values",
    "in_support",
    "log_support",
    "check_config",
    "check_support_reachable",
    "SUPPORT",
    "check_delayed_acceptance",
    "check_metropolis",
    "model_options",
]

M_H_LEP = 90.0  # GeV, LEP charged-scalar bound, paper Ref. [85]
M_H_CMS = 275.0  # GeV, CMS arXiv:1405.7570 Fig. 14 (paper Ref. [86]) when y_e or y_mu != 0
_TINY = 1e-300


def cos_beta_from_r_H(r_H, M_Zp, g_Psi, g_l):
    """Eq. (9) solved for cos(beta): cos(beta) = r_H M_Zp / (|g_Psi - g_l| v) (gradient-safe at g_Psi = g_l)."""
    d = jnp.abs(g_Psi - g_l)
    safe = jnp.where(d > _TINY, d, 1.0)
    return jnp.where(d > _TINY, r_H * M_Zp / (safe * constants().vev), jnp.inf)


def model_options(cfg) -> ModelOptions:
    """ModelOptions of a run config (Y_n, eps convention, flavours Psi mixes with, kinetic mixing)."""
    return ModelOptions(Y_n=cfg.model.Y_n, eps_convention=cfg.model.eps_convention, psi_flavours=cfg.model.psi_flavour_mask(),
                        kinetic_mixing=cfg.model.kinetic_mixing)


def complete_with_rh(values: Mapping[str, object]) -> dict:
    """Fill model defaults but keep the config-only entry ``r_H`` (it replaces cos_beta; Eq. 9 needs M_Zp, g_Psi, g_X)."""
    r = values.get("r_H")
    out = {k: values.get(k, DEFAULTS[k]) for k in PARAM_NAMES if k != "r_H"}
    for k in values:
        if k not in out and k != "r_H":
            out[k] = values[k]  # unknown names fail in complete() with a message naming them
    if r is not None:
        out["r_H"] = r
        out.pop("cos_beta", None)
    return out


def physical_point(values: Mapping[str, object], scenario: Scenario, options: ModelOptions) -> dict:
    """Replace the config-only entry ``r_H`` by cos_beta (Eq. 9); other entries pass through."""
    out = dict(values)
    if "r_H" in out:
        r = out.pop("r_H")
        g_l = psi_lepton_charge({"g_X": out["g_X"]}, scenario, options.flavours(scenario))
        out["cos_beta"] = cos_beta_from_r_H(r, out["M_Zp"], out["g_Psi"], g_l)
    return out


class Constraint(NamedTuple):
    """One hard constraint at a point: ``value`` against ``bound``, of ``kind`` "upper" (the value must stay below the
    bound) or "lower" (above it); ``holds``; ``eq9``: the H' share of M_Zp (Eq. 9), which the ``r_H`` parametrisation
    builds in."""

    value: Any
    bound: Any
    holds: Any
    kind: Literal["upper", "lower"]
    eq9: bool = False


def constraint_values(p: Mapping[str, jnp.ndarray], scenario: Scenario | str, options: ModelOptions = ModelOptions()) -> dict[str, Constraint]:
    """Every constraint at a complete point, by display name."""
    sc = get_scenario(scenario) if isinstance(scenario, str) else scenario
    flav = options.flavours(sc)
    g_l = psi_lepton_charge(p, sc, flav)
    r_H = jnp.abs(p["g_Psi"] - g_l) * constants().vev * p["cos_beta"] / p["M_Zp"]
    k = jnp.abs(kappa(p))
    out: dict[str, Constraint] = {
        "r_H (Eq. 9)": Constraint(r_H, 1.0, r_H <= 1.0, "upper", eq9=True),
        "cos_beta": Constraint(p["cos_beta"], 1.0, p["cos_beta"] <= 1.0, "upper"),
    }
    for i, f in enumerate(FLAVOURS):
        out[f"|kappa_{f}|"] = Constraint(k[i], 1.0, k[i] < 1.0, "upper")
    for name in ("g_X", "g_Psi", "y_e", "y_mu", "y_tau"):
        a = jnp.abs(p[name])
        out[f"|{name}| (perturbativity)"] = Constraint(a, PERTURBATIVE, a <= PERTURBATIVE, "upper")
    light_lepton = (jnp.abs(p["y_e"]) > 0) | (jnp.abs(p["y_mu"]) > 0)
    m_h_min = jnp.where(light_lepton, M_H_CMS, M_H_LEP)
    out["M_H (LEP / CMS 1405.7570)"] = Constraint(p["M_H"], m_h_min, p["M_H"] > m_h_min, "lower")
    out["M_Psi > M_Zp"] = Constraint(p["M_Psi"], p["M_Zp"], p["M_Psi"] > p["M_Zp"], "lower")
    return out


def in_support(p, scenario, options: ModelOptions = ModelOptions(), include_r_H: bool = True):
    """True iff every constraint holds (``include_r_H=False`` skips Eq. 9 where it is parametrised)."""
    ok = jnp.asarray(True)
    for c in constraint_values(p, scenario, options).values():
        if c.eq9 and not include_r_H:
            continue
        ok = ok & c.holds
    return ok


def log_support(p, scenario, options: ModelOptions = ModelOptions(), include_r_H: bool = True):
    """0 inside the support, -inf outside (zero gradient everywhere)."""
    return jnp.where(in_support(p, scenario, options, include_r_H), 0.0, -jnp.inf)


def _range(spec) -> tuple[float, float]:
    """Smallest and largest signed value of a parameter (fixed or sampled; a normal tail ends at loc +- 37.5 scale)."""
    return spec.value_range()


def _abs_range(lo: float, hi: float) -> tuple[float, float]:
    """(min |x|, max |x|) over x in [lo, hi]."""
    return (0.0 if lo <= 0.0 <= hi else min(abs(lo), abs(hi))), max(abs(lo), abs(hi))


def _ratio_min(num: float, den: float) -> float:
    """num/den with x/0 = inf (x > 0) and 0/0 = 0: the smallest value of a ratio of non-negative interval ends."""
    if den > 0.0:
        return num / den
    return 0.0 if num == 0.0 else math.inf


def check_support_reachable(cfg, where: str) -> None:
    """ConfigError when the prior ranges leave no physical point: a constraint of the module docstring fails over the
    whole box (interval bounds, so only a provably empty support is refused; fixed values are checked exactly).

    With r_H (Eq. 9) cos(beta) = r_H M_Zp / (|g_Psi - g_l| v): g_Psi = g_l everywhere leaves H' without U(1)' charge,
    so it cannot give any share of M_Zp and no cos(beta) exists.
    """
    if cfg.model.constraints == "none":
        return
    specs = cfg.param_specs()
    sc = get_scenario(cfg.model.scenario)

    def rng(name):
        return _range(specs[name]) if name in specs else (DEFAULTS[name], DEFAULTS[name])

    (zp_lo, zp_hi), psi_hi = rng("M_Zp"), rng("M_Psi")[1]
    if not psi_hi > zp_lo:
        raise ConfigError(f"{where}: params.M_Psi: every M_Psi (at most {psi_hi:g} GeV) lies below every M_Zp (at least {zp_lo:g} GeV), but "
                          "M_Psi > M_Zp is required (Psi -> nu Z', paper Sec. 2): the physical support is empty")
    flav = model_options(cfg).flavours(sc)
    try:
        l = sc.mixing_lepton_charge(flav)
    except ValueError:
        return  # check_config names the flavour problem
    gx_lo, gx_hi = rng("g_X")
    gl_lo, gl_hi = min(l * gx_lo, l * gx_hi), max(l * gx_lo, l * gx_hi)
    gp_lo, gp_hi = rng("g_Psi")
    d_min, d_max = _abs_range(gp_lo - gl_hi, gp_hi - gl_lo)  # |g_Psi - g_l|
    v = constants().vev
    if "r_H" in specs:
        if d_max == 0.0:
            raise ConfigError(f"{where}: params.g_Psi: g_Psi = g_l = {gl_lo:g} (g_X l of the flavours Psi mixes with) everywhere: H' then "
                              "carries no U(1)' charge and cannot give the share r_H > 0 of M_Zp (Eq. 9); choose g_Psi != g_l or "
                              "model.constraints: cut with a cos_beta")
        r_lo = _range(specs["r_H"])[0]
        cb_min = _ratio_min(r_lo * zp_lo, d_max * v)
        if cb_min > 1.0:
            raise ConfigError(f"{where}: params.r_H: cos(beta) = r_H M_Zp/(|g_Psi - g_l| v) exceeds 1 everywhere (at least {cb_min:.3g}; Eq. 9): "
                              "lower r_H or M_Zp, or raise |g_Psi - g_l|")
        kappa_num = r_lo * zp_lo / d_max if d_max > 0 else math.inf
    else:
        cb_lo = rng("cos_beta")[0]
        rh_min = _ratio_min(d_min * v * cb_lo, zp_hi)
        if rh_min > 1.0:
            raise ConfigError(f"{where}: params.cos_beta: r_H = |g_Psi - g_l| v cos(beta)/M_Zp exceeds 1 everywhere (at least {rh_min:.3g}; "
                              "Eq. 9 of arXiv:1607.07616): lower cos_beta or |g_Psi - g_l|, or raise M_Zp")
        kappa_num = cb_lo * v
    for f, used in zip(FLAVOURS, flav):
        y_lo = _abs_range(*rng(f"y_{f}"))[0]
        k_min = _ratio_min(y_lo * kappa_num, math.sqrt(2.0) * psi_hi)
        if used and k_min >= 1.0:
            raise ConfigError(f"{where}: params.y_{f}: |kappa_{f}| = |y_{f}| v cos(beta)/(sqrt2 M_Psi) >= 1 everywhere (at least {k_min:.3g}); "
                              "Eq. (8) needs |kappa| < 1: lower y or cos(beta), or raise M_Psi")


def check_config(cfg, where: str) -> None:
    """Static checks of a run config against the constraints that prior ranges can guarantee.

    Raises ConfigError naming the key and the bound: M_H above LEP (90 GeV) or CMS (275 GeV, when y_e or y_mu can be
    non-zero); Psi mixing only with flavours of equal charge; a support that is not provably empty
    (:func:`check_support_reachable`). Finiteness, perturbativity and the physical range of each parameter are
    checked when the config is read (:func:`globalfit.problem.config.check_param_ranges`).
    """

    specs = cfg.param_specs()
    sc = get_scenario(cfg.model.scenario)

    def rng(name):
        if name in specs:
            return _range(specs[name])
        return DEFAULTS[name], DEFAULTS[name]

    nonzero = tuple(max(abs(v) for v in rng(f"y_{f}")) > 0 for f in FLAVOURS)
    m_lo, _ = rng("M_H")
    if nonzero[0] or nonzero[1]:
        if m_lo < M_H_CMS:
            raise ConfigError(
                f"{where}: params.M_H: lower end {m_lo:g} GeV is below {M_H_CMS:g} GeV, the CMS bound that applies when y_e or y_mu != 0 "
                f"(arXiv:1405.7570 Fig. 14, paper Ref. [86]); raise it to >= {M_H_CMS:g}"
            )
    elif m_lo < M_H_LEP:
        raise ConfigError(f"{where}: params.M_H: lower end {m_lo:g} GeV is below the LEP bound {M_H_LEP:g} GeV (paper Ref. [85])")
    mask = cfg.model.psi_flavour_mask()
    if mask is not None:
        bad = [f for f, m, nz in zip(FLAVOURS, mask, nonzero) if nz and not m]
        if bad:
            raise ConfigError(f"{where}: params.y_{bad[0]}: non-zero, but model.psi_flavours is {cfg.model.psi_flavours}; set it to 0 or add {bad[0]!r}")
    used = nonzero if mask is None else mask
    if any(used):
        try:
            sc.mixing_lepton_charge(used)
        except ValueError as exc:
            raise ConfigError(f"{where}: params: {exc}") from None
    if mask is None and any(nz and not d for nz, d in zip(nonzero, ModelOptions().flavours(sc))):
        default = ModelOptions().flavours(sc)
        raise ConfigError(
            f"{where}: model.psi_flavours: scenario {sc.name} mixes Psi with {[f for f, d in zip(FLAVOURS, default) if d]} by default; "
            f"set model.psi_flavours to {[f for f, nz in zip(FLAVOURS, nonzero) if nz]} to use those Yukawas"
        )
    check_support_reachable(cfg, where)


def check_matter_composition(Y_n: float, likelihoods, where: str) -> None:
    """With model.Y_n != 1 every oscillation likelihood that converts eps^Earth by a fixed density ratio must set it:
    ``n_q_over_n_e`` of the quark reading (3 = 2 + Y_n = 1 + 2 Y_n only at Y_n = 1) and ``n_d_over_n_e`` of
    osc_icecube_mutau (1 + 2 Y_n); a ConfigError names the key (they are not derived from Y_n: which quark the ranges
    refer to is the source's choice)."""
    if Y_n == 1.0:
        return
    for lk in likelihoods:
        o = lk.options
        for key, used, value in (("n_q_over_n_e", getattr(o, "combination", None) == "quark", f"{2 + Y_n:g} (u) or {1 + 2 * Y_n:g} (d)"),
                                 ("n_d_over_n_e", getattr(o, "density", None) == "d", f"{1 + 2 * Y_n:g}")):
            if used and hasattr(o, key) and key not in o.model_fields_set:
                raise ConfigError(f"{where}: likelihoods.{lk.name}.{key}: model.Y_n is {Y_n:g}, but the default {key} = "
                                  f"{getattr(o, key):g} holds for Y_n = 1; set it ({value} for this Y_n)")


def check_plots(cfg, where: str) -> None:
    """plots.corner names must be recorded quantities; plots.plane_eps a derived eps (DERIVED_NAMES) or a difference
    of :data:`globalfit.physics.model.DIFFERENCES` (e.g. eps_earth_tautau-mumu)."""
    known = set(cfg.sampled()) | set(DERIVED_NAMES) | {"cos_beta"}
    for name in cfg.plots.corner or []:
        if name not in known:
            extra = did_you_mean(name, sorted(known))
            raise ConfigError(f"{where}: plots.corner: unknown quantity {name!r}{extra}; use sampled parameters or derived names (`globalfit evaluate` lists them)")
    eps = cfg.plots.plane_eps
    if eps is not None and eps not in DIFFERENCES and (eps not in DERIVED_NAMES or "eps" not in eps):
        options = [d for d in DERIVED_NAMES if "eps" in d] + sorted(DIFFERENCES)
        extra = did_you_mean(eps, options)
        raise ConfigError(f"{where}: plots.plane_eps: unknown NSI quantity {eps!r}{extra}; expected one of {options}")


# the name sampler.delayed_acceptance gives the physical-support cut (|kappa_alpha| < 1, cos beta <= 1, ...)
SUPPORT = "support"


def check_delayed_acceptance(cfg, where: str) -> None:
    """sampler.delayed_acceptance must name likelihoods of the run or the support cut (:data:`SUPPORT`)."""
    likelihoods = list(cfg.likelihoods) + ([SUPPORT] if cfg.model.constraints != "none" else [])
    for name in cfg.sampler.delayed_acceptance:
        if name not in likelihoods:
            extra = did_you_mean(name, likelihoods)
            raise ConfigError(f"{where}: sampler.delayed_acceptance: {name!r} is not a likelihood of this run{extra}; expected "
                              f"names from {likelihoods}")


def check_metropolis(cfg, where: str) -> None:
    """sampler.metropolis must name sampled parameters and leave at least one to NUTS."""
    sampled = list(cfg.sampled())
    for name in cfg.sampler.metropolis:
        if name not in sampled:
            extra = did_you_mean(name, sampled)
            raise ConfigError(f"{where}: sampler.metropolis: {name!r} is not a sampled parameter of this run{extra}; expected names "
                              f"from {sampled}")
    if cfg.sampler.metropolis and len(cfg.sampler.metropolis) == len(sampled):
        raise ConfigError(f"{where}: sampler.metropolis: every sampled parameter is listed; leave at least one to NUTS "
                          "(or use sampler.method: ensemble)")
