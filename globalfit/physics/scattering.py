"""Neutrino scattering with a light Z' (docs/physics.md §7): nu-e elastic and coherent nu-nucleus (CEvNS)
cross sections, neutrino source spectra, and flux-averaged rates on fixed Gauss-Legendre grids.

**Momentum dependence.** The Z' propagator makes every NSI coefficient a function of the momentum transfer,
eps^f_ab(q^2) = G_ab g_f / (sqrt2 G_F (q^2 + M_Zp^2)), q^2 = 2 m_target T (:func:`globalfit.physics.nsi.eps_fermion`;
oscillation normalisation eps = eps^L + eps^R). For B-L and L the flavour-universal part g_X l_a of G enters
(it does not cancel in scattering).

**nu-e elastic** (Vogel & Engel, PRD 39, 3378 (1989), Eq. 2; the form of docs/physics.md §7), for nu_a on e summed
over the final flavour b (off-diagonal eps_ab scatter nu_a -> nu_b, adding incoherently):

    dsigma/dT = (2 G_F^2 m_e / pi) [A_L + A_R (1 - T/E)^2 - A_LR m_e T / E^2],
    A_L = sum_b |g_L delta_ab + eps^e_ab/2|^2,  A_R likewise with g_R,  A_LR = sum_b Re[(g_L d + eps/2)(g_R d + eps/2)^*],

SM: nu_e: g_L = 1/2 + s_W^2 (CC included), g_R = s_W^2; nu_mu,tau: g_L = -1/2 + s_W^2, g_R = s_W^2; antineutrinos
swap g_L <-> g_R. Tree level (no radiative corrections, a few per cent).

**CEvNS** (Barranco, Miranda, Rashba, JHEP 12 (2005) 021, hep-ph/0508299, in the form of docs/physics.md §7):

    dsigma/dT = (G_F^2 m_N / pi) (1 - m_N T / (2 E^2)) F^2(q) sum_b |Q_SM delta_ab + Z(2 eps^u + eps^d)_ab + N(eps^u + 2 eps^d)_ab|^2,
    Q_SM = Z g_V^p + N g_V^n,  g_V^p = 1/2 - 2 s_W^2,  g_V^n = -1/2,  eps at q^2 = 2 m_N T,

(for the SM, Q_SM = -Q_W/2). F is the Helm form factor with the parameters of Lewin & Smith, Astropart. Phys. 6, 87
(1996), Sec. 4: F(q) = 3 j_1(q r_n)/(q r_n) exp(-(q s)^2/2), r_n^2 = c^2 + (7/3) pi^2 a^2 - 5 s^2, c = 1.23 A^{1/3} - 0.60 fm,
a = 0.52 fm, s = 0.9 fm. Same F for protons and neutrons. Nuclear mass m_N = A u (binding energy neglected, < 1e-3).

**Weak mixing angle.** ``scheme="msbar0"`` (default): the MS-bar value in the Thomson limit, sin^2 theta_W(0) = 0.23868
(Erler & Ferro-Hernandez, JHEP 03 (2018) 196, arXiv:1712.09146 [P, abstract]; the value the PDG electroweak review uses for
low-energy observables) -- the physically appropriate scheme at q^2 -> 0. ``scheme="on-shell"``: CODATA's on-shell
1 - M_W^2/M_Z^2 (:func:`globalfit.physics.constants.constants`), ~7 % lower g_V^p-sensitive rates.

**Sources** (normalised pdfs in E [GeV]; rates in likelihoods are ratios to the SM or carry their own normalisation):

* SNS pi-DAR: prompt nu_mu line at E = (m_pi^2 - m_mu^2)/(2 m_pi); delayed nu_e 192 E^2/m_mu^3 (1/2 - E/m_mu) and
  nubar_mu 64 E^2/m_mu^3 (3/4 - E/m_mu) on [0, m_mu/2]; equal numbers of each per proton (standard kinematics; masses PDG).
* Solar 7Be: line at 0.8613 MeV, branching 0.8956 [S, Newtrinos solar_flux / Borexino]. 8B: the likelihoods use the
  Bahcall et al. (PRC 54, 411 (1996)) table (``likelihoods.cevns.b8_table``, review L2). :func:`b8_pdf` here is only an
  analytic stand-in, an allowed beta+ shape E^2 W sqrt(W^2 - m_e^2), W = Q - E + m_e, Q = 15 MeV, kept as a smooth
  test spectrum for the quadrature and rate-table tests. Solar neutrinos arrive as mass eigenstates with the Standard-Model
  adiabatic-MSW fractions (:func:`solar_mass_fractions`, PDG theta_12): the model's own NSI in the Sun, and the LMA-Dark
  octant, are not put into the propagation (at the LMA-Dark target the rates depend on P_ee alone, which LMA-Dark
  reproduces by construction; flavour-changing NSI with sizeable solar NSI would need the full treatment).
* Reactor nubar_e: Mueller et al., PRC 83, 054615 (2011), arXiv:1101.2663, exp(sum_k a_k E^k) per isotope (coefficients
  [S] as quoted in public code adamanderson/cns_sensitivity ReactorTools.py); fission fractions 235U 0.59, 239Pu 0.29,
  238U 0.07, 241Pu 0.05 (Kopeikin 2004 [S], as quoted in public code); fits made for 2-8 MeV, used up to 10 MeV.
* CHARM-II: nu_mu line at <E> = 23.7 GeV [S, DarkCast CHARMII_Bauer2018onh] (beam spread neglected).

**Solar P_ee** (:func:`p_ee_adiabatic`): adiabatic MSW with the PDG mixing parameters read from the `pdg` database;
the production density n_e is an input (solar-model value, approximate).

**Solar neutrinos at Earth are mass eigenstates.** After the adiabatic exit from the Sun and 1 AU the flux is an
incoherent mixture of |nu_i> = sum_a U_ai |nu_a> with probabilities P_i(E) (:func:`solar_mass_fractions`: c13^2
cos^2 theta_12^m, c13^2 sin^2 theta_12^m, s13^2), i.e. the flavour density matrix rho_ab = sum_i P_i U_ai conj(U_bi),
not the diagonal flavour mixture (P_ee, ...): with flavour-changing NSI the amplitudes of the flavour components of one
nu_i interfere. A source component may therefore carry a flavour ``state`` (the amplitudes U_ai of one nu_i) instead of
a flavour alpha; a node's rate is then that of the state, |(D + eps) psi|^2 summed over final flavours (D the
flavour-diagonal SM amplitude). PMNS matrix in the PDG parametrisation with delta_CP from the `pdg` database
(:func:`pmns_matrix`).

**Quadrature.** Fixed Gauss-Legendre grids in (E, T) built once in numpy (:func:`grid`): for each E node the T nodes span
[T_lo, min(T_hi, T_max(E))], T_max = 2E^2/(m + 2E). Only eps(q^2) depends on parameters, so a rate is a weighted sum
``sum_i w_i dsigma(E_i, T_i)``: jit-, vmap- and grad-friendly, no adaptive integration.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from typing import Callable

import jax.numpy as jnp
import numpy as np
from scipy.optimize import brentq

from globalfit import _jax  # noqa: F401
from globalfit.physics.constants import constants, pdg_value
from globalfit.physics.numerics import abs2, gauss_legendre, on_grid
from globalfit.physics.nsi import eps_fermion

__all__ = [
    "SIN2W_SCHEMES",
    "sin2w",
    "GEV2_TO_CM2",
    "HBARC_GEV_FM",
    "AMU_GEV",
    "Nucleus",
    "NUCLEI",
    "nue_couplings",
    "dsigma_dT_nue",
    "nue_kinematic_weights",
    "dsigma_dT_cevns",
    "cevns_charge_sm",
    "cevns_kinematic_weight",
    "helm_form_factor",
    "Component",
    "Grid",
    "sns_components",
    "be7_components",
    "b8_pdf",
    "reactor_pdf",
    "reactor_component",
    "reactor_nu_per_fission",
    "fissions_per_second",
    "ENERGY_PER_FISSION_MEV",
    "lindhard_yield",
    "recoil_of_ionisation",
    "grid",
    "eps_rows",
    "rate_nue",
    "rate_cevns",
    "sigma_total_cevns",
    "sigma_total_nue",
    "p_ee_adiabatic",
    "pdg_mixing",
    "pmns_matrix",
    "solar_mass_fractions",
    "solar_mass_fractions_from_p_ee",
    "solar_components",
    "eps_on_state",
]

SIN2W_MSBAR0 = 0.23868  # Erler & Ferro-Hernandez, JHEP 03 (2018) 196, arXiv:1712.09146 (MS-bar, Thomson limit)
SIN2W_SCHEMES = ("msbar0", "on-shell")


def sin2w(scheme: str = "msbar0") -> float:
    """sin^2 theta_W in the chosen scheme (see module doc)."""
    if scheme == "msbar0":
        return SIN2W_MSBAR0
    if scheme == "on-shell":
        return constants().sin2_theta_W
    raise ValueError(f"sin2w scheme must be one of {SIN2W_SCHEMES}, got {scheme!r}")


def _codata(name: str) -> float:
    from scipy.constants import physical_constants

    return float(physical_constants[name][0])


HBARC_GEV_FM = _codata("reduced Planck constant times c in MeV fm") * 1e-3  # GeV fm (CODATA)
GEV2_TO_CM2 = (HBARC_GEV_FM * 1e-13) ** 2  # 1 GeV^-2 in cm^2
AMU_GEV = _codata("atomic mass constant energy equivalent in MeV") * 1e-3  # u in GeV (CODATA)


@dataclass(frozen=True)
class Nucleus:
    """Target nucleus: Z, A (mass number; a natural-abundance mean is allowed), mass A u."""

    name: str
    Z: float
    A: float

    @property
    def N(self) -> float:
        return self.A - self.Z

    @property
    def mass(self) -> float:
        return self.A * AMU_GEV


# Cs-133, I-127 (mono-isotopic), Ar-40 (99.6 % of atmospheric Ar); Xe: standard atomic weight 131.293 (CIAAW 2013,
# Meija et al., Pure Appl. Chem. 88, 265 (2016)) as an effective single isotope. Ge (natural: 70, 72, 73, 74, 76): standard
# atomic weight 72.630 +- 0.008 (CIAAW, as quoted on a secondary page; the 2009 revision is supported by the measurement
# 72.6296(19) of Yang & Meija, Anal. Chem. 82, 4188 (2010), doi:10.1021/ac100439j, abstract) as an effective single
# isotope (rate ~ N^2: the isotope spread of N changes <N^2> by < 0.3 %).
NUCLEI = {
    "Cs": Nucleus("Cs", 55.0, 133.0),
    "I": Nucleus("I", 53.0, 127.0),
    "Ar": Nucleus("Ar", 18.0, 40.0),
    "Xe": Nucleus("Xe", 54.0, 131.293),
    "Ge": Nucleus("Ge", 32.0, 72.630),
}


def nue_couplings(alpha: int, anti: bool, s2w: float) -> tuple[float, float]:
    """SM (g_L, g_R) for nu_alpha e scattering (CC included for alpha = e); not yet swapped for antineutrinos."""
    gL = (0.5 if alpha == 0 else -0.5) + s2w
    return gL, s2w


def _one_hot(alpha: int):
    return jnp.asarray([1.0 if b == alpha else 0.0 for b in range(3)])


def dsigma_dT_nue(E, T, alpha: int, anti: bool, s2w: float, eps_row=None):
    """dsigma/dT [GeV^-3] for nu_alpha (anti: nubar_alpha) on a free electron; eps_row[..., b] = eps^e_{alpha b}(q^2)."""
    gL, gR = nue_couplings(alpha, anti, s2w)
    d = _one_hot(alpha)
    shift = 0.0 if eps_row is None else 0.5 * eps_row
    aL = gL * d + shift
    aR = gR * d + shift
    if anti:
        aL, aR = aR, aL
    AL = jnp.sum(abs2(aL), axis=-1)
    AR = jnp.sum(abs2(aR), axis=-1)
    ALR = jnp.sum(jnp.real(aL * jnp.conj(aR)), axis=-1)
    kL, kR, kLR = nue_kinematic_weights(E, T)
    return kL * AL + kR * AR - kLR * ALR


def nue_kinematic_weights(E, T):
    """(k_L, k_R, k_LR) = (2 G_F^2 m_e / pi) (1, (1 - T/E)^2, m_e T / E^2): dsigma_nue/dT = k_L A_L + k_R A_R - k_LR A_LR."""
    c = constants()
    pref = 2.0 * c.G_F**2 * c.m_e / math.pi
    y = T / E
    return pref, pref * (1.0 - y) ** 2, pref * c.m_e * T / E**2


def helm_form_factor(q_GeV, A: float):
    """Helm form factor F(q) with the Lewin-Smith parameters (module doc); q in GeV."""
    a, s = 0.52, 0.9  # fm
    c = 1.23 * A ** (1.0 / 3.0) - 0.60
    rn = math.sqrt(c**2 + 7.0 / 3.0 * math.pi**2 * a**2 - 5.0 * s**2)
    q = jnp.asarray(q_GeV) / HBARC_GEV_FM  # fm^-1
    x = q * rn
    small = x < 1e-3
    xs = jnp.where(small, 1.0, x)
    j1_over_x = jnp.where(small, 1.0 / 3.0 - x**2 / 30.0, (jnp.sin(xs) / xs**2 - jnp.cos(xs) / xs) / xs)
    return 3.0 * j1_over_x * jnp.exp(-0.5 * (q * s) ** 2)


def dsigma_dT_cevns(E, T, nucleus: Nucleus, alpha: int, s2w: float, eps_u_row=None, eps_d_row=None, ff2=None,
                    g_v: tuple[float, float] | None = None):
    """dsigma/dT [GeV^-3] for nu_alpha or nubar_alpha on a nucleus (vector couplings: same for antineutrinos).

    eps_{u,d}_row[..., b] = eps^{u,d}_{alpha b}(q^2 = 2 m_N T); ff2 = F^2 (computed if None); g_v = (g_V^p, g_V^n) of
    flavour alpha (e.g. radiatively corrected, flavour-dependent values); None: tree level, (1/2 - 2 s2w, -1/2)."""
    Z, N = nucleus.Z, nucleus.N
    amp = cevns_charge_sm(nucleus, s2w, g_v) * _one_hot(alpha)
    if eps_u_row is not None:
        amp = amp + Z * (2.0 * eps_u_row + eps_d_row) + N * (eps_u_row + 2.0 * eps_d_row)
    return cevns_kinematic_weight(E, T, nucleus, ff2) * jnp.sum(abs2(amp), axis=-1)


def cevns_charge_sm(nucleus: Nucleus, s2w: float, g_v: tuple[float, float] | None = None) -> float:
    """Q_SM = Z g_V^p + N g_V^n: tree level Z (1/2 - 2 s_W^2) - N/2 (module doc), or with the couplings g_v."""
    g_p, g_n = (0.5 - 2.0 * s2w, -0.5) if g_v is None else g_v
    return nucleus.Z * g_p + nucleus.N * g_n


def cevns_kinematic_weight(E, T, nucleus: Nucleus, ff2=None):
    """(G_F^2 m_N / pi) max(1 - m_N T / (2 E^2), 0) F^2(q): dsigma_CEvNS/dT = this x sum_b |amplitude_ab|^2
    (ff2 = F^2, computed from the Helm form factor at q^2 = 2 m_N T if None)."""
    m = nucleus.mass
    if ff2 is None:
        ff2 = helm_form_factor(jnp.sqrt(2.0 * m * T), nucleus.A) ** 2
    kin = jnp.maximum(1.0 - m * T / (2.0 * E**2), 0.0)
    return constants().G_F ** 2 * m / math.pi * kin * ff2


# ---------------------------------------------------------------------------------------------- sources


@dataclass(frozen=True)
class Component:
    """One neutrino species of a source: flavour alpha (0, 1, 2), anti, weight (relative number), and either a line
    energy ``E_line`` or a normalised pdf on [E_lo, E_hi] (GeV). ``state``: the flavour amplitudes (psi_e, psi_mu,
    psi_tau) of a coherent superposition (a solar mass eigenstate, module doc) instead of the flavour alpha; neutrinos
    only."""

    alpha: int
    anti: bool
    weight: float
    E_line: float | None = None
    pdf: Callable[[np.ndarray], np.ndarray] | None = None
    E_lo: float = 0.0
    E_hi: float = 0.0
    state: tuple[complex, complex, complex] | None = None

    def __post_init__(self):
        if self.state is not None and self.anti:
            raise ValueError("Component: a flavour state is supported for neutrinos only")


def sns_components() -> tuple[Component, ...]:
    """pi+ decay at rest: prompt nu_mu line, delayed nu_e and nubar_mu Michel spectra (one each per pi+)."""
    c = constants()
    mmu, mpi = c.m_mu, c.m_pi
    E_prompt = (mpi**2 - mmu**2) / (2.0 * mpi)
    return (
        Component(1, False, 1.0, E_line=E_prompt),
        Component(0, False, 1.0, pdf=lambda E: 192.0 * E**2 / mmu**3 * (0.5 - E / mmu), E_lo=0.0, E_hi=mmu / 2),
        Component(1, True, 1.0, pdf=lambda E: 64.0 * E**2 / mmu**3 * (0.75 - E / mmu), E_lo=0.0, E_hi=mmu / 2),
    )


BE7_LINE_GEV = 0.8613e-3  # [S] Newtrinos solar_flux (Borexino)
BE7_BR_862 = 0.8956  # [S] idem
B8_Q_GEV = 15.0e-3  # analytic-shape endpoint (module doc; approximation)


def be7_components(p_ee: float) -> tuple[Component, ...]:
    """7Be 862 keV line at Earth: the mass eigenstates nu_1, nu_2, nu_3 with the probabilities that give survival
    probability ``p_ee`` (:func:`solar_mass_fractions_from_p_ee`, :func:`solar_components`; module doc)."""
    return solar_components([(float(w), None) for w in solar_mass_fractions_from_p_ee(p_ee)], E_line=BE7_LINE_GEV)


def b8_pdf(E):
    """Analytic 8B-like spectrum (allowed beta+ shape, Q = 15 MeV; a test stand-in, the likelihoods use the Bahcall
    table: module doc), normalised numerically by :func:`grid`."""
    me = constants().m_e
    W = np.clip(B8_Q_GEV - E, 0.0, None) + me
    return E**2 * W * np.sqrt(np.clip(W**2 - me**2, 0.0, None))


# Mueller et al. 2011 (arXiv:1101.2663) exp-polynomial coefficients, E in MeV, nu/MeV/fission [S]
MUELLER_2011 = {
    "U235": (3.217, -3.111, 1.395, -0.3690, 0.04445, -0.002053),
    "Pu239": (6.413, -7.432, 3.535, -0.8820, 0.1025, -0.004550),
    "U238": (0.4833, 0.1927, -0.1283, -0.006762, 0.002233, -0.0001536),
    "Pu241": (3.251, -3.204, 1.428, -0.3675, 0.04254, -0.001896),
}
REACTOR_FRACTIONS = {"U235": 0.59, "Pu239": 0.29, "U238": 0.07, "Pu241": 0.05}  # Kopeikin 2004 [S]


def reactor_pdf(E, fractions: dict[str, float] | None = None):
    """Reactor nubar_e spectrum shape (Mueller 2011 fits, module doc); E in GeV, unnormalised
    (nu per MeV per fission for fission fractions summing to 1)."""
    x = np.asarray(E) * 1e3
    out = np.zeros_like(x)
    for iso, f in (REACTOR_FRACTIONS if fractions is None else fractions).items():
        a = MUELLER_2011[iso]
        out = out + f * np.exp(sum(ak * x**k for k, ak in enumerate(a)))
    return out


# energy release per fission [MeV] (Ma et al., PRC 88, 014605 (2013)) [S, as coded in murataltinli/ERNIE
# src/Reactor_Antineutrino_Flux.cc @1f9b2cf, which cites that paper]
ENERGY_PER_FISSION_MEV = {"U235": 202.36, "U238": 205.99, "Pu239": 211.12, "Pu241": 214.26}
REACTOR_E_RANGE_GEV = (2.0e-3, 10.0e-3)  # Mueller fits: made for 2-8 MeV, used up to 10 MeV (module doc)


def reactor_component(fractions: dict[str, float] | None = None) -> Component:
    """The reactor nubar_e flux as one source component: Mueller 2011 shape on 2-10 MeV (normalised there by
    :func:`grid`; rates scale with the flux above 2 MeV, :func:`reactor_nu_per_fission`)."""
    return Component(0, True, 1.0, pdf=lambda E: reactor_pdf(E, fractions),
                     E_lo=REACTOR_E_RANGE_GEV[0], E_hi=REACTOR_E_RANGE_GEV[1])


def reactor_nu_per_fission(fractions: dict[str, float] | None = None, E_lo_GeV: float = REACTOR_E_RANGE_GEV[0]) -> float:
    """nubar_e per fission above E_lo (up to 10 MeV) of the Mueller 2011 fits (absolute: nu / MeV / fission)."""
    xs, ws = gauss_legendre(200)
    lo, hi = E_lo_GeV, REACTOR_E_RANGE_GEV[1]
    E = 0.5 * (hi - lo) * (xs + 1) + lo
    return float(0.5 * (hi - lo) * 1e3 * np.sum(ws * reactor_pdf(E, fractions)))


def fissions_per_second(power_W: float, fractions: dict[str, float] | None = None) -> float:
    """Fission rate of a reactor of thermal power P: P / sum_i f_i E_i (E_i: :data:`ENERGY_PER_FISSION_MEV`)."""
    fr = REACTOR_FRACTIONS if fractions is None else fractions
    e_mev = sum(f * ENERGY_PER_FISSION_MEV[iso] for iso, f in fr.items())
    return power_W / (e_mev * 1e6 * _codata("electron volt"))


def lindhard_yield(T_keVnr, Z: float, A: float, k: float):
    """Lindhard ionisation yield (quenching factor) of a nuclear recoil of T keV (Lindhard et al. 1963, in the form of
    arXiv:1801.10159 Eq. 5 [S, as coded in Duncan-Adams/MigdalCalc quench.py]):

        Y = k g(e) / (1 + k g(e)),  g = 3 e^0.15 + 0.7 e^0.6 + e,  e = 11.5 Z^(-7/3) T[keV],

    with the material's k (standard Lindhard: k = 0.133 Z^(2/3) A^(-1/2); Ge fits use k ~ 0.16). numpy, vectorised."""
    eps = 11.5 * Z ** (-7.0 / 3.0) * np.asarray(T_keVnr, dtype=float)
    g = 3.0 * eps**0.15 + 0.7 * eps**0.6 + eps
    return k * g / (1.0 + k * g)


def recoil_of_ionisation(E_ee_keV: float, yield_fn: Callable[[np.ndarray], np.ndarray], T_max_keV: float = 1e3) -> float:
    """The nuclear-recoil energy T [keVnr] whose ionisation energy T Y(T) equals E_ee [keVee] (Y: a quenching model,
    T Y(T) increasing)."""
    return float(brentq(lambda t: t * yield_fn(t) - E_ee_keV, 1e-9, T_max_keV, xtol=1e-14, rtol=1e-13))


# ---------------------------------------------------------------------------------------------- grids and rates


@dataclass(frozen=True)
class Grid:
    """Quadrature nodes of one source component on one target: E, T [GeV], weights w (pdf x dE x dT x weight,
    GeV), q2 = 2 m T, and ff2 (F^2, CEvNS only)."""

    alpha: int
    anti: bool
    E: np.ndarray
    T: np.ndarray
    w: np.ndarray
    q2: np.ndarray
    ff2: np.ndarray | None = None
    state: tuple[complex, complex, complex] | None = None  # Component.state

    @property
    def psi(self) -> np.ndarray:
        """Flavour amplitudes of the incoming neutrino: ``state``, else the unit vector of flavour alpha."""
        return np.asarray(self.state, dtype=complex) if self.state is not None else np.eye(3)[self.alpha].astype(complex)


def _t_max(E, m):
    return 2.0 * E**2 / (m + 2.0 * E)


def _e_min(T, m):
    return 0.5 * (T + np.sqrt(T**2 + 2.0 * m * T))


def grid(comp: Component, m_target: float, T_lo: float, T_hi: float = np.inf, n_E: int = 48, n_T: int = 32,
         efficiency: Callable[[np.ndarray], np.ndarray] | None = None, A_form_factor: float | None = None) -> Grid:
    """Gauss-Legendre nodes for sum over (E, T) of pdf(E) eff(T) dsigma/dT(E, T) on T in [T_lo, min(T_hi, T_max(E))]."""
    xt, wt = gauss_legendre(n_T)
    if comp.E_line is not None:
        Es, wE = np.array([comp.E_line]), np.array([1.0])
    else:
        xe, we = gauss_legendre(n_E)
        lo = max(comp.E_lo, float(_e_min(T_lo, m_target))) if T_lo > 0 else comp.E_lo
        # normalise the pdf on its full support, integrate only where T_lo is reachable
        xn, wn = gauss_legendre(200)
        En = 0.5 * (comp.E_hi - comp.E_lo) * (xn + 1) + comp.E_lo
        norm = 0.5 * (comp.E_hi - comp.E_lo) * np.sum(wn * comp.pdf(En))
        if lo >= comp.E_hi:
            Es, wE = np.array([comp.E_hi]), np.array([0.0])
        else:
            Es = 0.5 * (comp.E_hi - lo) * (xe + 1) + lo
            wE = 0.5 * (comp.E_hi - lo) * we * comp.pdf(Es) / norm
    E_all, T_all, w_all = [], [], []
    for E, w in zip(Es, wE):
        hi = min(T_hi, float(_t_max(E, m_target)))
        width = max(hi - T_lo, 0.0)
        T = 0.5 * width * (xt + 1) + T_lo
        wT = 0.5 * width * wt
        if efficiency is not None:
            wT = wT * efficiency(T)
        E_all.append(np.full(n_T, E))
        T_all.append(T)
        w_all.append(w * wT * comp.weight)
    E, T, w = (np.concatenate(v) for v in (E_all, T_all, w_all))
    T = np.maximum(T, 1e-30)  # empty windows (w = 0) keep finite kinematics
    q2 = 2.0 * m_target * T
    ff2 = None if A_form_factor is None else on_grid(helm_form_factor, np.sqrt(q2), A_form_factor) ** 2
    return Grid(comp.alpha, comp.anti, E, T, w, q2, ff2, comp.state)


def eps_rows(G, g_f, M_Zp, q2, alpha: int):
    """eps^f_{alpha b}(q2_i) for all nodes i, shape (n, 3) complex (:func:`globalfit.physics.nsi.eps_fermion`)."""
    return eps_fermion(G[alpha][None, :], g_f, M_Zp, jnp.asarray(q2)[:, None])


def eps_on_state(G, g_f, M_Zp, q2, psi):
    """(eps^f(q2_i) psi)_b = sum_a eps^f_ba(q2_i) psi_a for all nodes i, shape (n, 3) complex: the NSI amplitude of
    the incoming flavour state psi into each final flavour b (for psi the unit vector of a, conj(eps_ab))."""
    return eps_fermion((jnp.asarray(G) @ jnp.asarray(psi))[None, :], g_f, M_Zp, jnp.asarray(q2)[:, None])


def rate_nue(grids, s2w: float, G=None, g_e=0.0, M_Zp=1.0):
    """sum over grids and nodes of w dsigma_nue/dT [GeV^-2] (SM when G is None); the incoming neutrino of a grid is
    its flavour state psi (:attr:`Grid.psi`): A_L = |D_L psi + eps psi/2|^2 summed over final flavours (likewise A_R,
    A_LR = Re <a_L, a_R>), D_L,R the flavour-diagonal SM couplings (module doc)."""
    total = 0.0
    for g in grids:
        if g.state is None:  # one flavour: the closed form of dsigma_dT_nue
            row = None if G is None else eps_rows(G, g_e, M_Zp, g.q2, g.alpha)
            total = total + jnp.sum(g.w * dsigma_dT_nue(g.E, g.T, g.alpha, g.anti, s2w, row))
            continue
        psi = jnp.asarray(g.psi)
        gL = jnp.asarray([nue_couplings(b, False, s2w)[0] for b in range(3)])
        shift = 0.0 if G is None else 0.5 * eps_on_state(G, g_e, M_Zp, g.q2, psi)
        aL, aR = gL * psi + shift, s2w * psi + shift
        kL, kR, kLR = nue_kinematic_weights(g.E, g.T)
        dsig = (kL * jnp.sum(abs2(aL), axis=-1) + kR * jnp.sum(abs2(aR), axis=-1)
                - kLR * jnp.sum(jnp.real(aL * jnp.conj(aR)), axis=-1))
        total = total + jnp.sum(g.w * dsig)
    return total


def rate_cevns(grids, nucleus: Nucleus, s2w: float, G=None, g_q=0.0, M_Zp=1.0, g_v=None):
    """sum over grids and nodes of w dsigma_CEvNS/dT [GeV^-2] (g_u = g_d = g_q; SM when G is None).

    g_v: None (tree level) or the (g_V^p, g_V^n) of each flavour, indexed by alpha (:func:`dsigma_dT_cevns`). The
    incoming neutrino of a grid is its flavour state psi: sum_b |Q_b psi_b + 3A (eps psi)_b|^2."""
    total = 0.0
    for g in grids:
        if g.state is None:  # one flavour: the closed form of dsigma_dT_cevns
            row = None if G is None else eps_rows(G, g_q, M_Zp, g.q2, g.alpha)
            gv = None if g_v is None else g_v[g.alpha]
            total = total + jnp.sum(g.w * dsigma_dT_cevns(g.E, g.T, nucleus, g.alpha, s2w, row, row, g.ff2, gv))
            continue
        psi = jnp.asarray(g.psi)
        q_sm = jnp.asarray([cevns_charge_sm(nucleus, s2w, None if g_v is None else g_v[b]) for b in range(3)])
        amp = q_sm * psi
        if G is not None:
            amp = amp + 3.0 * (nucleus.Z + nucleus.N) * eps_on_state(G, g_q, M_Zp, g.q2, psi)
        total = total + jnp.sum(g.w * cevns_kinematic_weight(g.E, g.T, nucleus, g.ff2) * jnp.sum(abs2(amp), axis=-1))
    return total


def sigma_total_cevns(E: float, nucleus: Nucleus, s2w: float, alpha: int = 0, n_T: int = 64) -> float:
    """SM total CEvNS cross section [cm^2] at energy E (GeV), Helm form factor included."""
    g = grid(Component(alpha, False, 1.0, E_line=E), nucleus.mass, 0.0, n_T=n_T, A_form_factor=nucleus.A)
    return float(rate_cevns([g], nucleus, s2w)) * GEV2_TO_CM2


def sigma_total_nue(E: float, alpha: int, anti: bool, s2w: float, n_T: int = 64) -> float:
    """SM total nu-e cross section [cm^2] at energy E (GeV)."""
    g = grid(Component(alpha, anti, 1.0, E_line=E), constants().m_e, 0.0, n_T=n_T)
    return float(rate_nue([g], s2w)) * GEV2_TO_CM2


# ---------------------------------------------------------------------------------------------- solar P_ee

N_AVOGADRO = 6.02214076e23  # SI (exact)


@functools.lru_cache(maxsize=1)
def pdg_mixing() -> dict[str, float]:
    """PDG best values of sin^2 theta_12, theta_13, theta_23, Delta m^2_21 [eV^2] and delta_CP [rad] from the pdg
    database (S067DEL is quoted in units of pi)."""
    ids = {"s12": "S067P12", "s13": "S067P13", "s23": "S067P23", "dm21": "S067DM3"}
    out = {k: pdg_value(i) for k, i in ids.items()}
    out["delta"] = math.pi * pdg_value("S067DEL")
    return out


def pmns_matrix() -> np.ndarray:
    """PMNS matrix U (flavour rows e, mu, tau; mass columns 1, 2, 3) in the PDG parametrisation, PDG mixing angles and
    delta_CP; nu_a(field) = sum_i U_ai nu_i, so the flavour amplitudes of the state |nu_i> are the column U[:, i]."""
    m = pdg_mixing()
    s12, s13, s23 = (math.sqrt(m[k]) for k in ("s12", "s13", "s23"))
    c12, c13, c23 = (math.sqrt(1.0 - x * x) for x in (s12, s13, s23))
    e = np.exp(1j * m["delta"])
    return np.array([[c12 * c13, s12 * c13, s13 / e],
                     [-s12 * c23 - c12 * s23 * s13 * e, c12 * c23 - s12 * s23 * s13 * e, s23 * c13],
                     [s12 * s23 - c12 * c23 * s13 * e, -c12 * s23 - s12 * c23 * s13 * e, c23 * c13]])


def solar_mass_fractions(E_GeV, n_e_NA_cm3: float) -> np.ndarray:
    """(P_1, P_2, P_3)(E) of a solar nu_e produced at electron density n_e (adiabatic MSW, as :func:`p_ee_adiabatic`):
    c13^2 cos^2 theta_12^m, c13^2 sin^2 theta_12^m, s13^2; shape (3,) + shape(E). sum_i P_i |U_ei|^2 = P_ee."""
    m = pdg_mixing()
    c2m = _cos_2theta12_matter(E_GeV, n_e_NA_cm3)
    c13sq = 1.0 - m["s13"]
    return np.stack([c13sq * 0.5 * (1.0 + c2m), c13sq * 0.5 * (1.0 - c2m), np.full_like(c2m, m["s13"])])


def solar_mass_fractions_from_p_ee(p_ee: float) -> np.ndarray:
    """(P_1, P_2, P_3) with P_3 = s13^2 that give the survival probability ``p_ee`` (an override of the MSW value):
    P_ee = c13^4 (c12^2 cos^2 theta_m + s12^2 sin^2 theta_m) + s13^4 solved for theta_m. ValueError outside the
    range this allows, [c13^4 s12^2 + s13^4, c13^4 c12^2 + s13^4]."""
    m = pdg_mixing()
    s12sq, s13sq = m["s12"], m["s13"]
    c13sq = 1.0 - s13sq
    x = (p_ee - s13sq**2) / c13sq**2
    sin2m = ((1.0 - s12sq) - x) / (1.0 - 2.0 * s12sq)
    if not 0.0 <= sin2m <= 1.0:
        lo, hi = c13sq**2 * s12sq + s13sq**2, c13sq**2 * (1.0 - s12sq) + s13sq**2
        raise ValueError(f"p_ee = {p_ee}: an adiabatic solar nu_e has {lo:.3f} <= P_ee <= {hi:.3f}")
    return np.array([c13sq * (1.0 - sin2m), c13sq * sin2m, s13sq])


def solar_components(weights_pdfs, E_line=None, E_lo=0.0, E_hi=0.0) -> tuple[Component, ...]:
    """The three mass-eigenstate components of a solar source (module doc): ``weights_pdfs`` = ((weight_i, pdf_i) for
    i = 1, 2, 3), each with the flavour state U[:, i] (:func:`pmns_matrix`)."""
    U = pmns_matrix()
    return tuple(Component(int(np.argmax(np.abs(U[:, i]))), False, w, E_line=E_line, pdf=pdf, E_lo=E_lo, E_hi=E_hi,
                           state=tuple(complex(z) for z in U[:, i]))
                 for i, (w, pdf) in enumerate(weights_pdfs))


def _cos_2theta12_matter(E_GeV, n_e_NA_cm3: float):
    m = pdg_mixing()
    c = constants()
    hbarc_GeV_cm = HBARC_GEV_FM * 1e-13
    n_e = n_e_NA_cm3 * N_AVOGADRO * hbarc_GeV_cm**3  # GeV^3
    c13sq = 1.0 - m["s13"]
    beta = 2.0 * math.sqrt(2.0) * c.G_F * n_e * np.asarray(E_GeV) * c13sq / (m["dm21"] * 1e-18)
    c2 = 1.0 - 2.0 * m["s12"]
    s2 = math.sqrt(1.0 - c2**2)
    return (c2 - beta) / np.hypot(c2 - beta, s2)


def p_ee_adiabatic(E_GeV, n_e_NA_cm3: float):
    """Solar nu_e survival probability, adiabatic MSW (textbook, e.g. PDG review "Neutrino mixing", solar section):

    P_ee = c13^4 (1/2 + 1/2 cos 2theta_12^m cos 2theta_12) + s13^4,
    cos 2theta_12^m = (cos 2theta_12 - beta)/sqrt((cos 2theta_12 - beta)^2 + sin^2 2theta_12),
    beta = 2 sqrt2 G_F n_e E c13^2 / Delta m^2_21, n_e at the production point (in N_A cm^-3). PDG mixing parameters.
    numpy, vectorised over E (GeV)."""
    m = pdg_mixing()
    c13sq = 1.0 - m["s13"]
    c2 = 1.0 - 2.0 * m["s12"]
    return c13sq**2 * (0.5 + 0.5 * _cos_2theta12_matter(E_GeV, n_e_NA_cm3) * c2) + m["s13"] ** 2
