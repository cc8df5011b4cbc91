"""Direct Z' searches of the paper's Fig. 1 (arXiv:1607.07616; docs/physics.md §8).

**Data.** Digitised limits on the coupling g vs M_Z' in ``likelihoods/data/zprime_*.csv``, each file headed by
its experiment, paper and digitisation source. All curves are DarkCast (Ilten et al.) recasts of the
published dark-photon limits, tag [D] (derived by running public code on published
digitised data, log-interpolated at the listed masses; not published numbers): §D1 to DarkCast's
``B-L_boson`` model for B-L and L, §C5 to DarkCast's ``B_boson`` model for B. Each curve is treated as a
90 % CL limit (option ``cl``). Between tabulated masses ln g is interpolated linearly in ln M.

**Recast to the Farzan–Heeck model.** A search counts S = (production) x Br(Z' -> observed channel) x
(decay probability). Production is by electrons (BaBar, NA64, E137: ∝ (g_X l_e)^2) or by hadrons (nu-Cal,
CHARM, NA48/2 pi0 -> gamma Z': ∝ (g_X b)^2; the reference models have |l_e| = b = 1). The reference
branching ratios and width are those of DarkCast's model, computed here with this package's widths
(:mod:`globalfit.physics.widths`, :mod:`globalfit.physics.hadrons`) at g = 1:

* B-L reference: leptons with charge -1, three nu nubar (|G|^2 = 3 g^2, no Psi, i.e. g_Psi = 0), hadrons of
  b = 1 (Z' -> pi0 gamma);
* B reference: quark charge 1/3, charged leptons through the loop kinetic mixing of DarkCast's ``B_boson``,
  x_l = -e^2/(16 pi^2) per unit g (github.com/micha-a-schmidt/darkcast, models/B_boson.py), no neutrinos.
  The same loop coupling, x_l g_X b, is added to the model's charged leptons (the globalfit model has none
  at tree level for U(1)_B), in its visible and total widths.

In the B-L scenario with g_Psi = 0 the ratios below are 1 and every curve is reproduced exactly; hadronic
modelling (pi0 gamma only, no 3 pi) cancels in the ratios.

* **Prompt searches** (invisible: BaBar 1702.03327, NA64 1906.00176; visible ee+mumu: BaBar 1406.2980,
  NA48/2 1504.00607). The rate is production x Br:

      R = P g_X^2 Br(Z' -> D) / (g_lim(M)^2 Br_ref(Z' -> D)),   P = l_e^2 or b^2,

  D = invisible (nu nubar, Psi nu, Psi Psibar: ``br_Zp_invisible``) or charged leptons (ee + mumu).
  Invisible searches ignore visible decays outside the detector (conservative).
* **Beam dumps** (E137, nu-Cal I, CHARM: excluded bands g_lo..g_hi). Single-energy decay-in-volume model:
  S ∝ P g^2 Br(Z' -> ee+mumu) Pdec(Gamma_tot a), Pdec(u) = exp(-u) (1 - exp(-r u)), with r = (decay-region
  length)/(distance to it) of the experiment and a(M) [1/GeV] an effective boost x distance. At each mass,
  a and the normalisation are solved so that the reference model has R = S/S_thr = 1 exactly at both band
  edges (the lower edge is the long-lived regime S ∝ g^4, the upper the exponential lifetime cut). The model's
  own total width (extra invisible channels) and Br then move both edges. Approximation: one effective boost
  per mass instead of the experiment's spectrum, so only the edges are data; the band interior and the
  response to a changed lifetime are modelled. Geometry ratios r (recalled, not read: E137 204 m decay region
  after 179 m shield, Bjorken et al. arXiv:0906.0580; nu-Cal I 23 m after 64 m; CHARM 35 m after 480 m) only
  shape the interior.

**Likelihood.** -2 Delta ln L = z(CL)^2 R^2 (:func:`likelihoods.stats.upper_limit` on R with limit 1; beyond
-2 Delta ln L = 25, deep in the excluded region, with bounded curvature, :func:`likelihoods.stats.exclusion_edge`), times
a taper w(M): w = 1 inside the tabulated mass range, smoothstep to exactly 0 over the outermost ``taper``
(default 0.1) in ln M, and 0 outside (no constraint). **A point on a curve at an interior tabulated mass gets
-2 Delta ln L = 2.71** (90 % CL); inside a beam-dump band more.

**U(1)_B meson decay** [zp_baryonic_pi0]: Br(pi0 -> gamma Z') = 2 (g_B^2/e^2) (1 - M^2/m_pi0^2)^3
|F_omega(M^2)|^2 Br(pi0 -> gamma gamma), g_B = g_X b. Derivation: the anomaly vertex is
∝ N_c Tr[tau_3 {Q_1, Q_2}]; N_c Tr[tau_3 Q Q_B] = N_c Tr[tau_3 Q^2] = 1, so the gamma Z' amplitude is 2 g_B/e times
the gamma gamma one, and the identical-photon factor 1/2 is absent: ratio 4 (g_B/e)^2/2. It is the crossing of
:mod:`globalfit.physics.hadrons` (Gamma(Z' -> pi0 gamma) = (2/3)(alpha_B/alpha)(M/m_pi0)^3(1 - m_pi0^2/M^2)^3 Gamma_gg,
the 1/3 from averaging the Z' spin) and reproduces Br(pi0 -> gamma A') = 2 eps^2 (1 - M^2/m^2)^3 Br_gg of a dark
photon. Times the fraction of Z' that escapes (1 - Br(charged leptons) - Br(pi0 gamma); decays by the loop
coupling are slow and taken as escaping), compared with the PDG 90 % CL limit Br(pi0 -> gamma nu nubar) < 1.9e-7
(S009.15). Approximation: that search assumed three-body kinematics, not a mono-energetic photon.

**Neutron–lead scattering** [zp_neutron_lead] — **UNVERIFIED**: alpha_B = g_B^2/(4 pi) < 3.4e-11 (M/MeV)^4
(Barbieri & Ericson PLB 57 (1975) 270; Leeb & Schmiedmayer PRL 68 (1992) 1472) is a recollection: the
coefficient, its CL and its mass range (default M < 0.1 GeV) were not read in any source
(no primary source was read). The paper's Fig. 1 uses it; enable it knowingly.

Not built (no sourced rate or data): eta -> gamma Z', K+ -> pi+ Z' (Dror–Lasenby–Pospelov rate,
arXiv:1707.01503 v3, not transcribed), J/psi and Upsilon decays.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path

import jax.numpy as jnp
import numpy as np
from scipy.optimize import brentq

from typing import ClassVar, Literal

from pydantic import Field, field_validator

from globalfit.physics.constants import constants
from globalfit.physics.interp import interp_sorted
from globalfit.physics.hadrons import omega_form_factor_sq, width_baryonic_hadrons
from globalfit.physics.scenarios import Scenario
from globalfit.physics.widths import width_to_leptons

from . import register
from ._pdg import limit_from_options
from .base import Fraction, Likelihood, Options, PositiveNumber
from .stats import EDGE_CHI2, exclusion_edge, upper_limit

DATA = Path(__file__).parent / "data"


@dataclass(frozen=True)
class Curve:
    """One digitised curve: file key, production ('electron' | 'hadron'), channel ('invisible' | 'leptons'),
    geometry ratio r for beam dumps (None: prompt one-sided limit)."""

    key: str
    label: str
    production: str
    channel: str
    r: float | None = None


LEPTONIC = {
    "babar_invisible": Curve("bl_babar_invisible", "BaBar invisible", "electron", "invisible"),
    "na64_invisible": Curve("bl_na64_invisible", "NA64 invisible", "electron", "invisible"),
    "babar_visible": Curve("bl_babar_visible", "BaBar visible", "electron", "leptons"),
    "E137": Curve("bl_e137", "E137", "electron", "leptons", 204.0 / 179.0),
    "nuCal": Curve("bl_nucal", "nu-Cal I", "hadron", "leptons", 23.0 / 64.0),
    "CHARM": Curve("bl_charm", "CHARM", "hadron", "leptons", 35.0 / 480.0),
}
BARYONIC = {
    "NA48/2": Curve("b_na48_visible", "NA48/2", "hadron", "leptons"),
    "BaBar": Curve("b_babar_visible", "BaBar visible", "hadron", "leptons"),
    "CHARM": Curve("b_charm", "CHARM", "hadron", "leptons", 35.0 / 480.0),
    "nuCal": Curve("b_nucal", "nu-Cal I", "hadron", "leptons", 23.0 / 64.0),
}


@functools.lru_cache(maxsize=None)
def read_curve(key: str) -> tuple[np.ndarray, np.ndarray, np.ndarray | None, str]:
    """(mass [GeV], g_lower, g_upper or None, provenance header) of ``data/zprime_<key>.csv``."""
    path = DATA / f"zprime_{key}.csv"
    lines = path.read_text().splitlines()
    header = "\n".join(ln[2:] for ln in lines if ln.startswith("#"))
    arr = np.loadtxt(path, delimiter=",", comments="#", skiprows=sum(1 for ln in lines if ln.startswith("#")) + 1, ndmin=2)
    return arr[:, 0], arr[:, 1], (arr[:, 2] if arr.shape[1] > 2 else None), header


def loop_lepton_coupling() -> float:
    """DarkCast B_boson charged-lepton coupling per unit g: -e^2/(16 pi^2)."""
    return -constants().e_charge ** 2 / (16 * np.pi**2)


def reference_widths(model: str, M):
    """(Gamma_invisible, Gamma_ee+mumu, Gamma_total) of DarkCast's reference model at g = 1 [GeV]."""
    if model == "B-L":
        lep = width_to_leptons(1.0, (-1.0, -1.0, -1.0), M)
        inv = 3.0 * M / (24 * jnp.pi)
    else:
        x = loop_lepton_coupling()
        lep = width_to_leptons(x, (1.0, 1.0, 1.0), M)
        inv = jnp.zeros_like(M)
    had = width_baryonic_hadrons(1.0, M)
    return inv, lep[0] + lep[1], inv + jnp.sum(lep, axis=0) + had


def _smoothstep(t):
    t = jnp.clip(t, 0.0, 1.0)
    return t * t * (3.0 - 2.0 * t)


def mass_window(M, m_lo: float, m_hi: float, taper: float):
    """1 inside [m_lo, m_hi] away from its ends, C^1 smoothstep to exactly 0 at the ends over `taper` in ln M."""
    x = jnp.log(M)
    return _smoothstep((x - np.log(m_lo)) / taper) * _smoothstep((np.log(m_hi) - x) / taper)


def _log_pdec(u, r):
    """ln[exp(-u)(1 - exp(-r u))] in numpy, stable for small and large u."""
    return -u + np.log(-np.expm1(-r * u))


def _solve_band(lnM_grid, lo, hi, br_ref, gamma_ref, r):
    """Per mass: a [1/GeV] and ln C such that R(g_lo) = R(g_hi) = 1 for the reference model."""
    ln_a, ln_c = [], []
    for glo, ghi, b, gam in zip(lo, hi, br_ref, gamma_ref):
        t = (ghi / glo) ** 2
        f = lambda lu: _log_pdec(np.exp(lu), r) - np.log(t) - _log_pdec(t * np.exp(lu), r)  # noqa: E731
        u = np.exp(brentq(f, -60.0, 10.0, xtol=1e-13))
        ln_a.append(np.log(u / (glo**2 * gam)))
        ln_c.append(np.log(glo**2 * b) + _log_pdec(u, r))
    return np.array(ln_a), np.array(ln_c)


def build_curve(curve: Curve, reference: str, cl: float, taper: float, n_grid: int = 200):
    """R(M, P, g_X^2, Br_model, Gamma_model) for one curve, and its mass window; pure JAX."""
    mass, lo, hi, header = read_curve(curve.key)
    m_lo, m_hi = float(mass[0]), float(mass[-1])
    lnm, lnlo = np.log(mass), np.log(lo)
    if curve.r is None:
        ch = 0 if curve.channel == "invisible" else 1

        def ratio(M, prod, g2, br_model, width_model):
            inside = (M > m_lo) & (M < m_hi)
            Ms = jnp.where(inside, M, np.sqrt(m_lo * m_hi))
            w = reference_widths(reference, Ms)
            br_ref = w[ch] / w[2]
            g_lim = jnp.exp(interp_sorted(jnp.log(Ms), lnm, lnlo))
            return prod * g2 * br_model / (g_lim**2 * br_ref)

    else:
        grid = np.unique(np.concatenate([lnm, np.linspace(lnm[0], lnm[-1], n_grid)]))
        glo = np.exp(np.interp(grid, lnm, lnlo))
        ghi = np.exp(np.interp(grid, lnm, np.log(hi)))
        _, w_lep, w_tot = (np.asarray(x) for x in reference_widths(reference, jnp.asarray(np.exp(grid))))
        ln_a, ln_c = _solve_band(grid, glo, ghi, w_lep / w_tot, w_tot, curve.r)
        r = curve.r

        def ratio(M, prod, g2, br_model, width_model):
            lM = jnp.log(M)
            u = width_model * jnp.exp(interp_sorted(lM, grid, ln_a))
            pdec = jnp.exp(-u) * (-jnp.expm1(-r * u))
            return prod * g2 * br_model * pdec / jnp.exp(interp_sorted(lM, grid, ln_c))

    def loglike_at(M, prod, g2, br_model, width_model):
        inside = (M > m_lo) & (M < m_hi)
        R = ratio(M, prod, g2, br_model, width_model)
        R = jnp.where(inside, R, 0.0)
        # the window multiplies the bounded exclusion edge (likelihoods.stats.exclusion_edge): w -> 0 then never meets a huge -2 ln L (whose
        # logarithm would otherwise put an arbitrarily steep wall at the outer end of the taper)
        return mass_window(M, m_lo, m_hi, taper) * exclusion_edge(upper_limit(R, 1.0, cl), EDGE_CHI2)

    loglike_at.header = header
    loglike_at.mass_range = (m_lo, m_hi)
    return loglike_at


def _production(curve: Curve, scenario: Scenario) -> float:
    return scenario.l[0] ** 2 if curve.production == "electron" else scenario.b**2


class CurveOptions(Options):
    cl: Fraction = 0.9
    """CL the digitised curves are read at."""
    taper: float = Field(0.1, gt=0, le=1)
    """Width in ln M of the smooth turn-off at the ends of a curve's mass range."""


class _Curves(Likelihood):
    """A sum of digitised search curves recast to the model's Z' width and branching ratios (module doc)."""

    requires: ClassVar[tuple[str, ...]] = ("M_Zp", "g_X", "br_Zp_invisible", "br_Zp_ee", "br_Zp_mumu", "width_Zp")
    curve_table: ClassVar[dict[str, Curve]]
    reference_model: ClassVar[str]

    def experiments(self) -> list[str]:
        return list(self.curve_table)

    def setup(self):
        names = self.experiments()
        self.parts = [(build_curve(self.curve_table[n], self.reference_model, self.options.cl, self.options.taper),
                       self.curve_table[n], _production(self.curve_table[n], self.scenario)) for n in names]
        self.curves = {n: fn.header for (fn, _, _), n in zip(self.parts, names)}


class _Leptonic(_Curves):
    """Searches with an electron-produced or hadron-produced Z' recast from DarkCast's B-L model."""

    needs: ClassVar[tuple[str, ...]] = ("electrons",)
    reference_model: ClassVar[str] = "B-L"
    Options = CurveOptions

    def loglike(self, obs):
        total = 0.0
        for fn, c, prod in self.parts:
            br = obs["br_Zp_invisible"] if c.channel == "invisible" else obs["br_Zp_ee"] + obs["br_Zp_mumu"]
            total = total + fn(obs["M_Zp"], prod, obs["g_X"] ** 2, br, obs["width_Zp"])
        return total


_LEP_REF = "DarkCast recast [D] of "


@register
class ZpBabarInvisible(_Leptonic):
    name = "zp_babar_invisible"
    constrains = "g_X Br(Z'->inv)^(1/2) vs M_Zp (e+e- -> gamma + invisible)"
    reference = _LEP_REF + "BaBar arXiv:1702.03327"
    data_edition = "DarkCast B-L recast [D], data/zprime_bl_babar_invisible.csv"
    curve_table = {"babar_invisible": LEPTONIC["babar_invisible"]}


@register
class ZpNa64Invisible(_Leptonic):
    name = "zp_na64_invisible"
    constrains = "g_X Br(Z'->inv)^(1/2) vs M_Zp (e- N -> e- N + invisible)"
    reference = _LEP_REF + "NA64 arXiv:1906.00176"
    data_edition = "DarkCast B-L recast [D], data/zprime_bl_na64_invisible.csv"
    curve_table = {"na64_invisible": LEPTONIC["na64_invisible"]}


@register
class ZpBabarVisible(_Leptonic):
    name = "zp_babar_visible"
    constrains = "g_X Br(Z'->ee,mumu)^(1/2) vs M_Zp (e+e- -> gamma l+ l-)"
    reference = _LEP_REF + "BaBar arXiv:1406.2980"
    data_edition = "DarkCast B-L recast [D], data/zprime_bl_babar_visible.csv"
    curve_table = {"babar_visible": LEPTONIC["babar_visible"]}


BEAM_DUMPS = {k: v for k, v in LEPTONIC.items() if v.r is not None}


def _pick(names: tuple[str, ...] | None, allowed: list[str], scenario: Scenario) -> list[str]:
    """The experiments asked for (default: every one whose production the scenario has)."""
    if names is None:
        return allowed
    for n in names:
        if n not in allowed:
            raise ValueError(f"experiments: {n} needs a Z' coupling to quarks or electrons that scenario "
                             f"{scenario.name} lacks (usable: {allowed})")
    return list(names)


def _nonempty(v):
    if v is not None and not v:
        raise ValueError("expected at least one experiment (or leave the option out for all)")
    return v


@register
class ZpBeamDump(_Leptonic):
    name = "zp_beam_dump"
    constrains = "excluded (g_X, M_Zp) bands of E137, nu-Cal I, CHARM (Z' -> ee, mumu; lifetime)"
    reference = (_LEP_REF + "E137 (Andreas et al. PRD 86 095019, arXiv:1209.6083), nu-Cal I (Bluemlein et al. "
                 "Int. J. Mod. Phys. A7 3835 (1992)), CHARM (Bergsma et al. Phys. Lett. 157B 458 (1985))")
    data_edition = "DarkCast B-L recast [D], data/zprime_bl_{e137,nucal,charm}.csv"
    curve_table = BEAM_DUMPS

    class Options(CurveOptions):
        experiments: tuple[Literal["E137", "nuCal", "CHARM"], ...] | None = None
        """Beam dumps used (default: every one whose production the scenario has)."""
        _check = field_validator("experiments")(classmethod(lambda cls, v: _nonempty(v)))

    def experiments(self):
        allowed = [n for n in BEAM_DUMPS if _production(BEAM_DUMPS[n], self.scenario) != 0]
        return _pick(self.options.experiments, allowed, self.scenario)


@register
class ZpBaryonicVisible(_Curves):
    name = "zp_baryonic_visible"
    constrains = "g_B vs M_Zp from Z' -> e+e- (NA48/2, BaBar) and beam dumps (CHARM, nu-Cal I)"
    reference = "DarkCast recast [D] of NA48/2 arXiv:1504.00607, BaBar arXiv:1406.2980, CHARM, nu-Cal I"
    data_edition = "DarkCast B recast [D], data/zprime_b_*.csv"
    # the recast rests on the loop-induced lepton coupling of a Z' with no tree-level lepton charge (module doc)
    needs: ClassVar[tuple[str, ...]] = ("quarks", "no_charged_leptons")
    requires: ClassVar[tuple[str, ...]] = _Curves.requires + ("g_nucleon",)
    curve_table = BARYONIC
    reference_model = "B"

    class Options(CurveOptions):
        experiments: tuple[Literal["NA48/2", "BaBar", "CHARM", "nuCal"], ...] | None = None
        """Searches used (default: all)."""
        _check = field_validator("experiments")(classmethod(lambda cls, v: _nonempty(v)))

    def experiments(self):
        return _pick(self.options.experiments, list(BARYONIC), self.scenario)

    def loglike(self, obs):
        M, gB = obs["M_Zp"], obs["g_nucleon"]
        loop = width_to_leptons(loop_lepton_coupling() * gB, (1.0, 1.0, 1.0), M)
        w_tot = obs["width_Zp"] + jnp.sum(loop)
        w_vis = loop[0] + loop[1] + obs["width_Zp"] * (obs["br_Zp_ee"] + obs["br_Zp_mumu"])
        br = jnp.where(w_tot > 0, w_vis / jnp.where(w_tot > 0, w_tot, 1.0), 0.0)
        return sum(fn(M, prod, obs["g_X"] ** 2, br, w_tot) for fn, _, prod in self.parts)


def br_pi0_gamma_zp(g_B, M):
    """Br(pi0 -> gamma Z') = 2 (g_B^2/e^2)(1 - M^2/m_pi0^2)^3 |F_omega(M^2)|^2 Br(pi0 -> gamma gamma); 0 above m_pi0."""
    c = constants()
    x = (M / c.m_pi0) ** 2
    open_ = x < 1.0
    xs = jnp.where(open_, x, 0.0)
    br = 2.0 * g_B**2 / c.e_charge**2 * (1.0 - xs) ** 3 * omega_form_factor_sq(jnp.where(open_, M, 0.0) ** 2) * c.br_pi0_gg
    return jnp.where(open_, br, 0.0)


@register
class ZpBaryonicPi0(Likelihood):
    name = "zp_baryonic_pi0"
    constrains = "Br(pi0 -> gamma Z') x Br(Z' escapes)"
    reference = "PDG S009.15 (pi0 -> gamma nu nubar); rate: chiral anomaly (this module)"
    data_edition = "PDG 2026"
    needs: ClassVar[tuple[str, ...]] = ("quarks",)
    requires: ClassVar[tuple[str, ...]] = ("g_nucleon", "M_Zp", "br_Zp_ee", "br_Zp_mumu", "br_Zp_tautau", "br_Zp_hadrons")

    class Options(Options):
        limit: PositiveNumber | None = None
        """Override of the PDG limit on Br(pi0 -> gamma nu nubar)."""
        cl: Fraction | None = None

    def setup(self):
        self.limit = limit_from_options("S009.15", self.options.limit, self.options.cl)

    def loglike(self, obs):
        visible = obs["br_Zp_ee"] + obs["br_Zp_mumu"] + obs["br_Zp_tautau"] + obs["br_Zp_hadrons"]
        escape = jnp.clip(1.0 - visible, 0.0, 1.0)
        return upper_limit(br_pi0_gamma_zp(obs["g_nucleon"], obs["M_Zp"]) * escape, self.limit.value, self.limit.cl)


NPB_COEFF = 3.4e-11  # UNVERIFIED recollection: alpha_B < 3.4e-11 (M/MeV)^4


@register
class ZpNeutronLead(Likelihood):
    name = "zp_neutron_lead"
    constrains = "alpha_B = g_B^2/4pi vs M_Zp (neutron-Pb scattering) -- UNVERIFIED coefficient"
    reference = "Barbieri & Ericson PLB 57 (1975) 270; Leeb & Schmiedmayer PRL 68 (1992) 1472 (not read)"
    data_edition = "UNVERIFIED recollection: alpha_B < 3.4e-11 (M/MeV)^4"
    needs: ClassVar[tuple[str, ...]] = ("quarks",)
    requires: ClassVar[tuple[str, ...]] = ("g_nucleon", "M_Zp")

    class Options(CurveOptions):
        coefficient: PositiveNumber = NPB_COEFF
        m_min: PositiveNumber = 1e-5
        m_max: PositiveNumber = 0.1

    def setup(self):
        if not self.options.m_min < self.options.m_max:
            raise ValueError(f"need m_min < m_max [GeV], got {self.options.m_min}, {self.options.m_max}")

    def loglike(self, obs):
        o = self.options
        M = obs["M_Zp"]
        inside = (M > o.m_min) & (M < o.m_max)
        Ms = jnp.where(inside, M, np.sqrt(o.m_min * o.m_max))
        alpha_B = obs["g_nucleon"] ** 2 / (4 * jnp.pi)
        R = jnp.where(inside, alpha_B / (o.coefficient * (Ms / 1e-3) ** 4), 0.0)
        return mass_window(M, o.m_min, o.m_max, o.taper) * upper_limit(R, 1.0, o.cl)
