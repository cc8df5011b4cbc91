"""Light Psi (M_Psi < m_K): peak-search and universality limits on |kappa_e|^2 and |kappa_mu|^2 vs M_Psi.

**Why.** In the model the light nu_alpha contains kappa_alpha of the Dirac state Psi (Eq. 8 of arXiv:1607.07616),
so |kappa_alpha|^2 is the heavy-neutrino mixing |U_alpha4|^2. For M_Psi < m_K - m_l the decays pi+, K+ -> l+ Psi
are open, are not helicity suppressed like pi -> e nu, and the two-body lepton line is what peak searches look for.
There the PMNS non-unitarity fits (``unitarity``) and the effective M -> l nu Z' rate (``meson_decays``) do not hold;
they are switched off below m_K (:mod:`likelihoods._psi`) and this likelihood takes over. The limits are decay-mode
independent: they need Psi to escape unseen. Here Psi -> nu Z' (M_Psi > M_Zp in the support), and Z' -> nu nubar is
invisible; a Z' that decays to e+e- inside the detector (B-L, L; U(1)_B above the pi0 gamma threshold) would be
vetoed. Option ``invisible``: ``"br_invisible"`` (default, conservative) compares |kappa_alpha|^2 Br(Z' -> invisible)
with the limit (only the invisible fraction counts as signal); ``"all"`` compares |kappa_alpha|^2 itself (every
Psi decay treated as escaping, the compilation's invisible-N assumption).

**Data** (90 % CL upper limits on |U_alpha4|^2 vs m_N, ``likelihoods/data/hnl_*.csv``, each with its provenance
header). Copied from the Heavy-Neutrino-Limits compilation (M. Hostert et al., github.com/mhostert/Heavy-Neutrino-Limits
@ 8bcc041, 2025-09-17), which flags every curve below except NA62 2025 ``is_invisible = 1`` (valid for an invisible
or any-decay N) and type PS (peak search / kinematic); where the compilation holds the HEPData table, that table is
used. The papers (cite these):

| curve (option value) | process | paper | m_N [MeV] | default |
| --- | --- | --- | --- | --- |
| ``pienu2017`` | pi+ -> e+ N | PIENU, arXiv:1712.03275 (PRD 97 072012), HEPData 10.17182/hepdata.91133.v1/t1 | 62-135 | on |
| ``triumf1992`` | pi+ -> e+ N | Britton et al., PRD 46 R885 (1992), digitised by the compilation | 49-131 | on |
| ``na62_2020`` | K+ -> e+ N | NA62, arXiv:2005.09575 (PLB 807 135599), HEPData 10.17182/hepdata.95927.v1/t1 | 144-462 | on |
| ``bryman_shrock_pi`` | R_pi universality | Bryman & Shrock, arXiv:1909.11198 (PRD 100 073011) | 0.4-139 | on |
| ``bryman_shrock_K`` | R_K universality | Bryman & Shrock, arXiv:1909.11198 | 0.4-490 | on |
| ``bryman_shrock_beta`` | superallowed beta decays | Bryman & Shrock, arXiv:1909.11198 | 1-9.4 | on |
| ``f20_kink`` | 20F beta-spectrum kink | Deutsch, Lebrun, Prieels, NPA 518 149 (1990) | 0.37-2.6 | on |
| ``pienu2017_compilation`` | pi+ -> e+ N, as plotted by the compilation | PIENU, arXiv:1712.03275 (below 62 MeV: origin not stated) | 1.2-135 | off |
| ``na62_2025`` | pi+ -> e+ N | NA62, arXiv:2507.07345, digitised by the compilation; CL and invisibility NOT VERIFIED | 95-126 | off |
| ``psi1987`` | pi+ -> mu+ N | Daum et al., PRD 36 2624 (1987) | 1-19.5 | on |
| ``pienu2019_high_tmu`` | pi+ -> mu+ N, T_mu > 1.2 MeV | PIENU, arXiv:1904.03269 (PLB 798 134980), HEPData 10.17182/hepdata.91134.v1/t2 | 15.7-29.0 | on |
| ``pienu2019_low_tmu`` | pi+ -> mu+ N, T_mu < 1.2 MeV | PIENU, arXiv:1904.03269, HEPData 10.17182/hepdata.91134.v1/t1 | 28.2-33.8 | on |
| ``kek`` | K+ -> mu+ N (KEK) | as compiled in Bryman & Shrock, arXiv:1909.11198 (the KEK paper is not named there) | 45-307 | on |
| ``e949`` | K+ -> mu+ nu_H | E949, arXiv:1411.3963 (PRD 91 052001) | 178-299 | on |
| ``na62_2021`` | K+ -> mu+ N (N invisible) | NA62, arXiv:2101.12304 (PLB 816 136259) | 200-384 | on |

Status: VERIFIED as copies of the compilation files. PIENU 2017, NA62 2020 and PIENU 2019 are the HEPData tables
(primary numbers); the other curves (TRIUMF, PSI, KEK, E949, NA62 2021, Bryman-Shrock, 20F, the PIENU compilation
curve, NA62 2025) are the compilation's own files, digitised or supplied (origin not stated): **SECONDARY [S]**, not
checked against the papers.
Which assume an invisible N: NA62 2021 (K+ -> mu+ + invisible) and E949 (K+ -> mu+ nu_H, nu_H unseen) search for an
invisible N by construction; the other peak searches (PIENU, TRIUMF, NA62 2020, PSI, KEK) and the universality and
beta-decay bounds use only the charged lepton's spectrum or rate and hold for any N whose decay products are not
seen, which is how the compilation flags them (is_invisible = 1; NA62 2025 not in its database snapshot). In this
model Psi -> nu Z' -> 3 nu is invisible, so all apply (within the Br(Z' -> inv) caveat above).
Gaps (no limit, |kappa|^2 free): mu flavour 34-45 MeV and 384 MeV-m_K; tau flavour at every mass (no peak search
constrains |U_tau4|^2 with an invisible N in this range).

**Construction.** Per flavour, on a grid in ln m_N (3000 uniform points and every curve's own nodes), each curve i gives a strength s_i = T_i / L_i^2
with L_i its limit (linear interpolation of ln L in ln m in its mass range) and T_i a taper: the smootherstep of
(distance to the nearer end of the range in ln m) / ``edge_width`` (default 0.05), zero outside the range. The
envelope s = max_i s_i keeps at each mass the strongest curve (curves sharing data, e.g. PIENU's peak search and
the R_pi universality bound, are not added), and the taper makes it continuous where a curve ends (a hard end would
be a step of up to ~50 in -2 ln L, a divergence for NUTS). A point within ``edge_width`` of the end of a curve's
mass range is therefore constrained less than the published limit says. ln(s + 1e-6) is tabulated and interpolated
linearly in ln M_Psi (1e-6 means a limit of 1e3, i.e. nothing, where no curve applies).

**Likelihood** (:mod:`likelihoods.stats`, one-sided 90 % CL limits): -2 Delta ln L = chi2_1(0.9) sum_{a=e,mu}
x_a^2 s_a(M_Psi), x_a = |kappa_a|^2 [Br(Z' -> inv)], i.e. :func:`likelihoods.stats.upper_limit` with L = s^{-1/2}.
**A point at a quoted limit (away from the curves' ends) gets 2.71.** 0 at kappa = 0. The signal grows as
|kappa|^4 ~ y^8: while sampling, beyond -2 Delta ln L = 25 the exclusion edge has bounded curvature
(:func:`likelihoods.stats.exclusion_edge`, applied by the fit problem to every likelihood).
"""

from __future__ import annotations

import functools
import math
from pathlib import Path
from typing import ClassVar, Literal

import jax.numpy as jnp
import numpy as np
from pydantic import Field, field_validator

from globalfit.physics.interp import interp_sorted
from globalfit.physics.numerics import abs2

from . import register
from .base import Likelihood, Options
from .stats import delta_chi2

DATA = Path(__file__).parent / "data"
CL = 0.9
N_GRID = 3000
S_FLOOR = 1e-6  # strength where no curve applies: a limit of 1e3 on |kappa|^2 (nothing)

# curve: (flavour index, file, paper)
CURVES: dict[str, tuple[int, str, str]] = {
    "pienu2017": (0, "hnl_Ue4_PIENU2017_HEPData.csv", "PIENU arXiv:1712.03275"),
    "triumf1992": (0, "hnl_Ue4_TRIUMF1992_pi_enu.csv", "Britton et al. PRD 46 R885"),
    "na62_2020": (0, "hnl_Ue4_NA62_2020_K_eN_HEPData.csv", "NA62 arXiv:2005.09575"),
    "bryman_shrock_pi": (0, "hnl_Ue4_BrymanShrock2019_pi_universality.csv", "Bryman & Shrock arXiv:1909.11198 (R_pi)"),
    "bryman_shrock_K": (0, "hnl_Ue4_BrymanShrock2019_K_universality.csv", "Bryman & Shrock arXiv:1909.11198 (R_K)"),
    "bryman_shrock_beta": (0, "hnl_Ue4_BrymanShrock2019_superallowed_beta.csv", "Bryman & Shrock arXiv:1909.11198 (beta)"),
    "f20_kink": (0, "hnl_Ue4_F20_beta_kink.csv", "Deutsch et al. NPA 518 149"),
    "pienu2017_compilation": (0, "hnl_Ue4_PIENU2017_compilation.csv", "PIENU arXiv:1712.03275 (compilation's curve)"),
    "na62_2025": (0, "hnl_Ue4_NA62_2025_pi_eN_digitised.csv", "NA62 arXiv:2507.07345 (CL not verified)"),
    "psi1987": (1, "hnl_Umu4_PSI1987_pi_muN.csv", "Daum et al. PRD 36 2624"),
    "pienu2019_high_tmu": (1, "hnl_Umu4_PIENU2019_highTmu_HEPData.csv", "PIENU arXiv:1904.03269 (T_mu > 1.2 MeV)"),
    "pienu2019_low_tmu": (1, "hnl_Umu4_PIENU2019_lowTmu_HEPData.csv", "PIENU arXiv:1904.03269 (T_mu < 1.2 MeV)"),
    "kek": (1, "hnl_Umu4_KEK_via_BrymanShrock.csv", "KEK via Bryman & Shrock arXiv:1909.11198"),
    "e949": (1, "hnl_Umu4_E949_2014_K_muN.csv", "E949 arXiv:1411.3963"),
    "na62_2021": (1, "hnl_Umu4_NA62_2021_K_muN.csv", "NA62 arXiv:2101.12304"),
}
CurveName = Literal[
    "pienu2017", "triumf1992", "na62_2020", "bryman_shrock_pi", "bryman_shrock_K", "bryman_shrock_beta", "f20_kink",
    "pienu2017_compilation", "na62_2025", "psi1987", "pienu2019_high_tmu", "pienu2019_low_tmu", "kek", "e949", "na62_2021",
]
OFF_BY_DEFAULT = ("pienu2017_compilation", "na62_2025")
DEFAULT_CURVES = tuple(c for c in CURVES if c not in OFF_BY_DEFAULT)
FLAVOURS = ("e", "mu")


@functools.lru_cache(maxsize=None)
def read_curve(name: str) -> tuple[np.ndarray, np.ndarray]:
    """(m_N [GeV], 90 % CL limit on |U|^2) of a curve, sorted by mass, exact duplicate masses dropped."""
    path = DATA / CURVES[name][1]
    rows = [ln for ln in path.read_text().splitlines() if ln.strip() and not ln.startswith("#")][1:]  # skip column names
    a = np.array([[float(x) for x in ln.split(",")[:2]] for ln in rows])
    m, idx = np.unique(a[:, 0], return_index=True)
    return m * 1e-3, a[idx, 1]


def smootherstep_np(t: np.ndarray) -> np.ndarray:
    t = np.clip(t, 0.0, 1.0)
    return t**3 * (10.0 - 15.0 * t + 6.0 * t**2)


def curve_strength(name: str, lnm: np.ndarray, edge_width: float) -> np.ndarray:
    """s_i = T_i / L_i^2 on the grid ln m [GeV] (module doc): 0 outside the curve's mass range, tapered at its ends."""
    m, lim = read_curve(name)
    lo, hi = math.log(m[0]), math.log(m[-1])
    inside = (lnm >= lo) & (lnm <= hi)
    lnL = np.interp(lnm, np.log(m), np.log(lim))
    taper = smootherstep_np(np.minimum(lnm - lo, hi - lnm) / edge_width)
    return np.where(inside, taper * np.exp(-2.0 * lnL), 0.0)


def envelope(names: tuple[str, ...], lnm: np.ndarray, edge_width: float) -> np.ndarray:
    """max_i s_i over the named curves (0 where none applies)."""
    s = np.zeros_like(lnm)
    for n in names:
        s = np.maximum(s, curve_strength(n, lnm, edge_width))
    return s


@register
class PsiPeakSearches(Likelihood):
    name = "psi_peak_searches"
    label = r"$\pi, K \to \ell \Psi$ peak searches"
    constrains = "|kappa_e|^2, |kappa_mu|^2 vs M_Psi below m_K (pi, K -> l Psi peak searches, universality; Psi invisible)"
    reference = ("PIENU arXiv:1712.03275, arXiv:1904.03269; NA62 arXiv:2005.09575, arXiv:2101.12304; E949 arXiv:1411.3963; "
                 "Bryman & Shrock arXiv:1909.11198; TRIUMF PRD 46 R885; PSI PRD 36 2624; Deutsch et al. NPA 518 149")
    data_edition = ("Heavy-Neutrino-Limits @8bcc041: HEPData tables (PIENU 2017/2019, NA62 2020) and the compilation's "
                    "curves [S] (TRIUMF, PSI, KEK, E949, NA62 2021, Bryman-Shrock, 20F), 90% CL")
    requires: ClassVar[tuple[str, ...]] = ("kappa", "M_Psi", "br_Zp_invisible")

    class Options(Options):
        curves: tuple[CurveName, ...] = DEFAULT_CURVES
        """Curves used (module doc); each constrains the flavour it was measured in."""
        invisible: Literal["br_invisible", "all"] = "br_invisible"
        """Signal fraction: Br(Z' -> invisible) (conservative) or every Psi decay escaping (module doc)."""
        edge_width: float = Field(0.05, gt=0, le=0.5)
        """Width in ln m of the taper at the ends of each curve's mass range (a modelling choice; module doc)."""

        @field_validator("curves")
        @classmethod
        def _nonempty(cls, v):
            if not v:
                raise ValueError(f"expected a non-empty list of curves from {list(CURVES)}")
            return tuple(dict.fromkeys(v))

    def setup(self):
        names = self.options.curves
        lo = min(read_curve(n)[0][0] for n in names)
        hi = max(read_curve(n)[0][-1] for n in names)
        nodes = np.concatenate([np.log(read_curve(n)[0]) for n in names])  # every curve is exact at its own nodes
        self.lnm = np.unique(np.concatenate([np.linspace(math.log(lo), math.log(hi), N_GRID), nodes]))
        self.strength = {}  # flavour -> s on the grid
        for i, f in enumerate(FLAVOURS):
            mine = tuple(n for n in names if CURVES[n][0] == i)
            self.strength[f] = envelope(mine, self.lnm, self.options.edge_width)
        self._lnm = jnp.asarray(self.lnm)
        self._lns = {f: jnp.asarray(np.log(s + S_FLOOR)) for f, s in self.strength.items()}
        self.z2 = delta_chi2(CL)

    def limit(self, flavour: str, M_Psi):
        """The effective 90 % CL limit on |kappa_flavour|^2 at M_Psi [GeV] (s^{-1/2}; ~1e3 where no curve applies)."""
        lns = interp_sorted(jnp.log(M_Psi), self._lnm, self._lns[flavour], left=math.log(S_FLOOR), right=math.log(S_FLOOR))
        return jnp.exp(-0.5 * lns)

    def loglike(self, obs):
        k2 = abs2(obs["kappa"])
        frac = obs["br_Zp_invisible"] if self.options.invisible == "br_invisible" else 1.0
        lnM = jnp.log(obs["M_Psi"])
        total = 0.0
        for i, f in enumerate(FLAVOURS):
            lns = interp_sorted(lnM, self._lnm, self._lns[f], left=math.log(S_FLOOR), right=math.log(S_FLOOR))
            total = total - 0.5 * self.z2 * (k2[i] * frac) ** 2 * jnp.exp(lns)
        return total
