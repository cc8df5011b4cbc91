"""The model: parameters -> every derived observable (docs/physics.md §1-6).

:func:`observables` maps one parameter point (a dict of float64 scalars) to a dict holding

* the parameter point itself (``M_Zp``, ``g_X``, ``g_Psi``, ``M_Psi``, ``M_H``, ``cos_beta``, Yukawas and phases);
* the Z' couplings to SM fermions, computed once here for every likelihood (:data:`COUPLING_NAMES`): ``g_quark``
  (u and d, g_X b/3), ``g_nucleon`` (per nucleon, g_X b), ``g_electron`` (g_X l_e), ``g_lepton`` (the three charged
  leptons and left-handed neutrinos, g_X l_alpha);
* the complex couplings and NSI matrices (``yukawa``, ``kappa``, ``G``, ``eps_u``, ``eps_d``, ``eps_e``,
  ``eps_earth``);
* every scalar of :data:`DERIVED_NAMES`, the quantities recorded in each fit and printed by ``globalfit evaluate``;
* the Z' branching ratios searches need beyond those: ``br_Zp_tautau``, ``br_Zp_hadrons``, ``br_Zp_pi0_gamma``,
  ``br_Zp_3pi`` and ``br_Zp_leptons_kinetic`` (the part of Br(Z' -> charged leptons) due to kinetic mixing,
  :data:`KINETIC_MIXING`).

It is a pure function: ``jax.jit``, ``jax.vmap`` and ``jax.grad`` apply directly. :class:`ModelOptions` holds the
static (hashable) choices; :func:`observable_names` lists the keys (what a likelihood may declare in ``requires``).
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from typing import Mapping

import jax
import jax.numpy as jnp

from globalfit import _jax  # noqa: F401
from globalfit.physics.constants import constants
from globalfit.physics.couplings import h_prime_share, kappa, nu_coupling_matrix, psi_lepton_charge, yukawas
from globalfit.physics.hadrons import width_baryonic_hadrons, width_to_pi0_gamma, width_to_three_pions
from globalfit.physics.lfv import PAIR_A, PAIR_B, PAIRS, br_l_to_l_gamma, br_l_to_l_Zp
from globalfit.physics.nsi import EPS_CONVENTIONS, eps_all, eps_matter, fermion_couplings
from globalfit.physics.parameters import DEFAULTS, PARAM_NAMES, complete
from globalfit.physics.scenarios import FLAVOURS, Scenario, get_scenario
from globalfit.physics.widths import width_to_leptons, width_to_neutrinos, width_to_psi_nu, width_vector_to_fermions

__all__ = ["ModelOptions", "KINETIC_MIXING", "kinetic_lepton_charge", "DERIVED_NAMES", "DERIVED_INFO", "COUPLING_NAMES", "EPS_EARTH_NAMES", "observables", "observable_names", "derived",
           "default_psi_flavours", "DIFFERENCES"]

COUPLING_NAMES = ("g_quark", "g_nucleon", "g_electron", "g_lepton")

_DIAG = ("ee", "mumu", "tautau")
_OFF = {"emu": (0, 1), "etau": (0, 2), "mutau": (1, 2)}


KINETIC_MIXING: dict[str, str] = {
    "loop": "the loop-induced mixing of DarkCast's B_boson model (arXiv:1801.04847; micha-a-schmidt/darkcast@db9a0f6 "
            "models/B_boson.py): charged leptons couple with x_l g_B, x_l = -e^2/(16 pi^2) (eps = e g_B/(16 pi^2) = "
            "1.92e-3 g_B), for a Z' whose charged leptons carry no tree-level charge (U(1)_B)",
    "none": "no kinetic mixing, the paper's assumption (arXiv:1607.07616 Sec. 4: 'We continue to ignore the kinetic "
            "mixing angle'): a U(1)_B Z' then has no coupling to charged leptons",
}
"""Choices of the Z'-photon kinetic mixing (ModelOptions.kinetic_mixing).

Kinetic mixing is technically unavoidable: the quarks (and, where charged, the leptons) in the loop mix the Z' with the
photon. Its size is UV-dependent (a log of heavy-fermion masses plus a free tree-level term that can cancel it), so
the paper neglects it and notes it "could either strengthen or weaken the bounds of Fig. 1, without affecting the NSI
parameters" (it couples to electric charge, which neutral matter does not have). It matters only where the Z' has no
tree-level coupling to charged leptons: there it is the Z''s only way to decay to e+e- and mu+mu-, which every
visible-decay and beam-dump search of a U(1)_B boson rests on (DarkCast's B-boson recasts,
``zp_baryonic_visible``). With "none" those searches see nothing. Where charged leptons have a tree-level charge
(B-L, L) the loop term is a small correction of unsourced size and is not added under either choice. In B-3L_tau only
the tau is charged: e and mu have no tree-level coupling, as in U(1)_B, so the kinetic mixing (of the quark and tau
loops) would be their only one and would give that Z' e+e-/mu+mu- decays; no source for its size there (no DarkCast
model) was found, so it is not added, and a B-3L_tau fit has no visible-decay or beam-dump search under either choice
(conservative: those limits are missing, not weakened)."""


def kinetic_lepton_charge(scenario: Scenario, options: "ModelOptions") -> float:
    """The charged-lepton vector charge per unit g_X that kinetic mixing adds (all three flavours): x_l b with
    x_l = -e^2/(16 pi^2) under "loop" where it applies (:data:`KINETIC_MIXING`), else 0."""
    if options.kinetic_mixing == "none" or scenario.has_charged_lepton_charge or scenario.b == 0.0:
        return 0.0
    return -constants().e_charge ** 2 / (16 * math.pi**2) * scenario.b


def default_psi_flavours(scenario: Scenario) -> tuple[bool, bool, bool]:
    """Flavours Psi may mix with by default: all of them, or those of charge 0 in a flavoured scenario."""
    if len(set(scenario.l)) == 1:
        return (True, True, True)
    return tuple(li == 0.0 for li in scenario.l)  # B-3Ltau: e and mu


@dataclass(frozen=True)
class ModelOptions:
    """Static model choices.

    Y_n: n_n/n_e of the matter for ``eps_earth`` (Earth ~ 1, the paper's choice).
    eps_convention: "oscillation" (eps^f = eps^{fL} + eps^{fR}, default) or "paper2016" (factor 1/2,
        reproduces the printed Eqs. 11, 15, 33 of arXiv:1607.07616).
    psi_flavours: which y_alpha may be non-zero (fixes g_l, the H' charge); None = scenario default.
    kinetic_mixing: the Z'-photon kinetic mixing of a Z' without tree-level charged-lepton charge
        (:data:`KINETIC_MIXING`): "loop" (default) or "none" (the paper's assumption).
    """

    Y_n: float = 1.0
    eps_convention: str = "oscillation"
    psi_flavours: tuple[bool, bool, bool] | None = None
    kinetic_mixing: str = "loop"

    def __post_init__(self):
        if self.eps_convention not in EPS_CONVENTIONS:
            raise ValueError(f"eps_convention must be one of {sorted(EPS_CONVENTIONS)}, got {self.eps_convention!r}")
        if self.kinetic_mixing not in KINETIC_MIXING:
            raise ValueError(f"kinetic_mixing must be one of {sorted(KINETIC_MIXING)}, got {self.kinetic_mixing!r}")

    def flavours(self, scenario: Scenario) -> tuple[bool, bool, bool]:
        return self.psi_flavours if self.psi_flavours is not None else default_psi_flavours(scenario)


def _derived_info() -> dict[str, tuple[str, str]]:
    info: dict[str, tuple[str, str]] = {}
    for f in FLAVOURS:
        tex = {"e": "e", "mu": r"\mu", "tau": r"\tau"}[f]
        info[f"kappa_{f}"] = (rf"|\kappa_{tex}|", f"|kappa_{f}|, Psi-nu_{f} mixing (Eq. 8)")
    for f in ("u", "d", "e"):
        for ab, tex in zip(_DIAG, ("ee", r"\mu\mu", r"\tau\tau")):
            info[f"eps_{f}_{ab}"] = (rf"\epsilon^{f}_{{{tex}}}", f"eps^{f}_{ab} at q^2 = 0 (real diagonal)")
    for ab, tex in zip(_DIAG, ("ee", r"\mu\mu", r"\tau\tau")):
        info[f"eps_earth_{ab}"] = (rf"\epsilon^\oplus_{{{tex}}}", f"Earth-matter eps_{ab} (Eq. 32, Y_n option)")
    for ab, tex in zip(_OFF, (r"e\mu", r"e\tau", r"\mu\tau")):
        info[f"abs_eps_earth_{ab}"] = (rf"|\epsilon^\oplus_{{{tex}}}|", f"|Earth-matter eps_{ab}|")
    for pair, tex in zip(PAIRS, (r"\mu\to e", r"\tau\to e", r"\tau\to\mu")):
        info[f"br_{pair}_gamma"] = (rf"\mathrm{{Br}}({tex}\gamma)", f"Br({pair.replace('_', ' -> ')} gamma) (Eqs. 16-19)")
    for pair, tex in zip(PAIRS, (r"\mu\to e", r"\tau\to e", r"\tau\to\mu")):
        info[f"br_{pair}_Zp"] = (rf"\mathrm{{Br}}({tex}Z')", f"Br({pair.replace('_', ' -> ')} Z') (Eqs. 23-25)")
    info["width_Zp"] = (r"\Gamma_{Z'}\,[\mathrm{GeV}]", "total Z' width [GeV] (docs/physics.md §6)")
    info["br_Zp_ee"] = (r"\mathrm{Br}(Z'\to ee)", "Br(Z' -> e+ e-)")
    info["br_Zp_mumu"] = (r"\mathrm{Br}(Z'\to\mu\mu)", "Br(Z' -> mu+ mu-)")
    info["br_Zp_invisible"] = (r"\mathrm{Br}(Z'\to\mathrm{inv})", "Br(Z' -> nu nubar, Psi nu, Psi Psibar)")
    info["r_H"] = (r"r_{H'}", "|g_Psi - g_l| v cos(beta)/M_Zp, share of M_Zp from <H'> (Eq. 9, physical iff <= 1)")
    return info


DERIVED_INFO: dict[str, tuple[str, str]] = _derived_info()
DERIVED_NAMES: tuple[str, ...] = tuple(DERIVED_INFO)


def observables(p: Mapping[str, jnp.ndarray], scenario: Scenario | str, options: ModelOptions = ModelOptions()) -> dict[str, jnp.ndarray]:
    """All model outputs at one parameter point (complex matrices + the scalars of DERIVED_NAMES)."""
    if isinstance(scenario, str):
        scenario = get_scenario(scenario)
    flav = options.flavours(scenario)
    g_l = psi_lepton_charge(p, scenario, flav)
    y = yukawas(p)
    k = kappa(p)
    G = nu_coupling_matrix(p, scenario, g_l)
    eps = eps_all(G, p["g_X"], p["M_Zp"], scenario, convention=options.eps_convention)
    eps_earth = eps_matter(eps["u"], eps["d"], eps["e"], options.Y_n)

    cpl = fermion_couplings(p["g_X"], scenario)
    out: dict[str, jnp.ndarray] = {name: p[name] for name in PARAM_NAMES}
    out.update({
        "g_quark": cpl["u"],
        "g_nucleon": p["g_X"] * scenario.b,
        "g_electron": cpl["e"],
        "g_lepton": p["g_X"] * jnp.asarray(scenario.l),
    })
    out.update({
        "yukawa": y,
        "kappa": k,
        "G": G,
        "eps_u": eps["u"],
        "eps_d": eps["d"],
        "eps_e": eps["e"],
        "eps_earth": eps_earth,
    })
    for i, f in enumerate(FLAVOURS):
        out[f"kappa_{f}"] = jnp.abs(k[i])
    for f in ("u", "d", "e"):
        for i, ab in enumerate(_DIAG):
            out[f"eps_{f}_{ab}"] = jnp.real(eps[f][i, i])
    for i, ab in enumerate(_DIAG):
        out[f"eps_earth_{ab}"] = jnp.real(eps_earth[i, i])
    for ab, (i, j) in _OFF.items():
        out[f"abs_eps_earth_{ab}"] = jnp.abs(eps_earth[i, j])

    br_gamma = br_l_to_l_gamma(y, k, PAIR_A, PAIR_B, p["M_H"], p["M_Psi"], p["cos_beta"])
    br_zp = br_l_to_l_Zp(y, PAIR_A, PAIR_B, p["g_Psi"], p["M_H"], p["M_Psi"], p["M_Zp"])
    for i, pair in enumerate(PAIRS):
        out[f"br_{pair}_gamma"] = br_gamma[i]
        out[f"br_{pair}_Zp"] = br_zp[i]

    M = p["M_Zp"]
    x_kin = kinetic_lepton_charge(scenario, options)  # non-zero only where every l_a = 0, so the charges just add
    w_lep = width_to_leptons(p["g_X"], tuple(la + x_kin for la in scenario.l), M)
    w_nu = width_to_neutrinos(G, M)
    w_psi = width_vector_to_fermions(p["g_Psi"], M, p["M_Psi"])
    w_psinu = width_to_psi_nu(k, g_l, p["g_Psi"], M, p["M_Psi"])
    g_B = p["g_X"] * scenario.b
    w_had = width_baryonic_hadrons(g_B, M)
    width_total = jnp.sum(w_lep) + w_nu + w_psi + w_psinu + w_had
    out["width_Zp"] = width_total
    inv_width = 1.0 / jnp.where(width_total > 0, width_total, 1.0)  # Br = 0 when nothing couples
    out["br_Zp_ee"] = w_lep[0] * inv_width
    out["br_Zp_mumu"] = w_lep[1] * inv_width
    out["br_Zp_tautau"] = w_lep[2] * inv_width
    out["br_Zp_hadrons"] = w_had * inv_width
    out["br_Zp_invisible"] = (w_nu + w_psi + w_psinu) * inv_width
    out["br_Zp_leptons_kinetic"] = (jnp.sum(w_lep) if x_kin else jnp.zeros_like(M)) * inv_width
    out["br_Zp_pi0_gamma"] = width_to_pi0_gamma(g_B, M) * inv_width
    out["br_Zp_3pi"] = width_to_three_pions(g_B, M) * inv_width
    out["r_H"] = h_prime_share(p, scenario, flav)
    out["g_l"] = g_l * jnp.ones_like(M)
    return out


@functools.lru_cache(maxsize=None)
def observable_names(scenario: Scenario | str, options: ModelOptions = ModelOptions()) -> frozenset[str]:
    """The keys of :func:`observables` (traced abstractly, nothing is computed)."""
    point = complete(DEFAULTS)
    return frozenset(jax.eval_shape(lambda p: observables(p, scenario, options), point))


def derived(p: Mapping[str, jnp.ndarray], scenario: Scenario | str, options: ModelOptions = ModelOptions()) -> dict[str, jnp.ndarray]:
    """Only the real scalars of DERIVED_NAMES (what a fit records)."""
    obs = observables(p, scenario, options)
    return {k: obs[k] for k in DERIVED_NAMES}


def batched(fn=derived):
    """vmap a per-point function over a dict of parameter arrays (scenario/options bound by the caller)."""
    return jax.vmap(fn)


# the Earth-matter eps entries recorded with every draw (diagonal real parts, off-diagonal moduli)
EPS_EARTH_NAMES: tuple[str, ...] = tuple(f"eps_earth_{ab}" for ab in _DIAG) + tuple(f"abs_eps_earth_{ab}" for ab in _OFF)

# differences of diagonal Earth-matter eps: what oscillations see (a flavour-universal part, g_X l in B-L and L, drops out)
DIFFERENCES = {
    "eps_earth_ee-tautau": ("eps_earth_ee", "eps_earth_tautau"),
    "eps_earth_mumu-tautau": ("eps_earth_mumu", "eps_earth_tautau"),
    "eps_earth_tautau-mumu": ("eps_earth_tautau", "eps_earth_mumu"),
    "eps_earth_ee-mumu": ("eps_earth_ee", "eps_earth_mumu"),
}
