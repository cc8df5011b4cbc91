"""Direct Z' searches of the paper's Fig. 1 (arXiv:1607.07616; docs/physics.md §8).

**Data.** Digitised limits on the coupling g vs M_Z' in ``likelihoods/data/zprime_*.csv``, each file headed by
its experiment, paper and digitisation source. All curves are DarkCast (Ilten et al.; arXiv:1801.04847) recasts of
the published dark-photon limits, tag [D] (derived by running public code on published digitised data; not
published numbers):

* U(1)_B (``zprime_b_*.csv``): DarkCast's ``B_boson`` recasts at full resolution, every row of
  ``recast/limits/B_boson/<name>.lmt`` (github.com/micha-a-schmidt/darkcast at db9a0f6, copied from the project's
  shared ``darkcast_B_boson`` set). Prompt: NA48/2 (pi0 -> gamma Z', arXiv:1504.00607) 402 rows at 9-119 MeV, BaBar
  (arXiv:1406.2980) 5653 rows at 0.02-10.3 GeV, KLOE phi -> eta Z' (arXiv:1210.3927) 455 rows, KLOE e+e- -> gamma Z',
  Z' -> e+e- (arXiv:1509.00740) 250 rows, LHCb prompt mu+mu- (arXiv:1910.06926) 2103 rows. Beam dumps (bands): CHARM
  (PLB 157B 458) 100 rows at 2-466 MeV, nu-Cal I (pi0 production, Z. Phys. C51 341) 150 rows at 1.06-143 MeV, NOMAD
  (hep-ex/0101041), PS191 (Bernardi et al. PLB 166 (1986) 479), E137 (arXiv:1209.6083), E141 (PRL 59 755), E774
  (PRL 67 2942), KEK (PRL 57 659), Orsay (Davier & Nguyen Ngoc, PLB 229 150) and NA64 visible (arXiv:1912.11389,
  which includes the 2017 data of arXiv:1803.07748). Where DarkCast holds two analyses of the same data (E137:
  Bjorken 2009 and Andreas 2012; CHARM and nu-Cal: the 2019 recasts of Tsai et al.; nu-Cal: proton bremsstrahlung
  besides pi0 production; NA64: 2018 and 2019) one is used, so that no data set is counted twice. (Until 2026-12-04
  these files held 4-5 masses sampled from the same recasts, from 10 MeV up; until 2026-12-05 only NA48/2, BaBar,
  CHARM and nu-Cal were used; the other eleven were opt-in for some hours, because they made the full_B
  log-density 3x slower: every interpolation search of the package had fallen back to comparing with all nodes,
  docs/performance.md, "The added U(1)_B searches".) **Default: all fifteen**; the option ``experiments`` picks a
  subset (e.g. ``zp_baryonic_visible: {experiments: [NA48/2, BaBar, CHARM, nuCal]}``, the searches of the fits until
  2026-12-05). Beyond those four, KLOE's phi -> eta Z' (6-456 MeV) and LHCb (above the dimuon threshold) exclude
  g_B above ~1.5e-3 and NOMAD g_B = 0.9-6e-6 at 2-93 MeV, below nu-Cal's band. The electron-beam searches (E137, E141, E774, KEK, Orsay, NA64, KLOE e+e-, BaBar)
  produce a U(1)_B boson through the loop lepton coupling only, so they constrain only with ``kinetic_mixing: loop``,
  like every visible-decay search here.
* U(1)_{B-L} and L (``zprime_bl_*.csv``): DarkCast's ``B-L_boson`` recasts at full resolution, every row of
  ``recast/limits/B-L_boson/<name>.lmt`` of the same repository and commit (written by ``tools/import_darkcast_bl.py``):
  BaBar visible 5,653 rows at 0.02-10.3 GeV, BaBar invisible 167 at 1 MeV-8 GeV, NA64 invisible 89 at 1 MeV-1 GeV,
  E137 154 (of 166; the last 12 lie beyond the band's tip: :func:`curve_rows`) at 1-270 MeV, nu-Cal I 279 at
  1-623 MeV (p bremsstrahlung), CHARM 85 (of 100) at 2-336 MeV. That DarkCast gives each neutrino flavour the
  colour factor 1/2 (``pars.py``): left-handed neutrinos only, Gamma(Z' -> nu nubar) = g^2 M/(24 pi) per flavour, as
  this package's widths. Until 2026-12-05 these files held 4-9 masses sampled (research memo §D1) from the recasts
  of another DarkCast copy (github.com/Noah-Everett/DS-Decay-Scripts at 2a86698), whose colour factor 1 makes the
  neutrinos Dirac (twice the invisible width); the reference below carried that Dirac width so that the recast moved
  them to the model's, and reproduced these files within 5 %. The NA64 file's header named the wrong DarkCast limit
  (NA64_Banerjee2019hmi, the visible X17 search); its numbers were those of NA64_NA642019imj, the invisible search
  it cites (arXiv:1906.00176), which it now holds.

Each curve is treated as a 90 % CL limit (option ``cl``). Between tabulated masses ln g is interpolated linearly in
ln M.

**Recast to the Farzan–Heeck model.** A search counts S = (production) x Br(Z' -> observed channel) x
(decay probability). Production is by electrons (BaBar, NA64, E137: ∝ (g_X l_e)^2) or by hadrons (nu-Cal,
CHARM, NA48/2 pi0 -> gamma Z': ∝ (g_X b)^2; the reference models have |l_e| = b = 1). A recast maps the source
model's branching ratios and lifetime onto this model's: a curve's g_lim(M) is where DarkCast's reference boson,
**with DarkCast's own widths**, gives the excluded signal, and the model enters with **its own** widths. The
reference (:func:`reference_widths`, at g = 1) is therefore DarkCast's model as DarkCast computes it (model.py
``Model.width`` at micha-a-schmidt/darkcast@db9a0f6; equal to DarkCast's total width within 1e-4, 1e-3 next to the
lepton thresholds, tests/test_zprime_recast_reference.py):

* B-L reference: leptons with charge -1, three left-handed nu nubar (Gamma = 3 g^2 M/(24 pi),
  :func:`globalfit.physics.widths.width_to_neutrinos`), hadrons of quark charge 1/3;
* B reference: quark charge 1/3, charged leptons through the loop kinetic mixing of DarkCast's ``B_boson``,
  x_l = -e^2/(16 pi^2) per unit g (github.com/micha-a-schmidt/darkcast, models/B_boson.py), no neutrinos.
  The model's own charged-lepton width of a U(1)_B Z' follows ``model.kinetic_mixing``
  (:data:`globalfit.physics.model.KINETIC_MIXING`): "loop" adds the same coupling, x_l g_X b; "none" (the paper's
  assumption) leaves the Z' no charged-lepton decay, and ``zp_baryonic_visible`` (which rests entirely on that
  coupling) then constrains nothing.
* Both: lepton (and neutrino) widths are this package's, the same formula as DarkCast's; the **hadronic width is
  DarkCast's, its Z' -> pi0 gamma included** (:func:`globalfit.physics.hadrons.darkcast_hadronic_width`), with its
  perturbative c cbar and b bbar above 3 and 9.6 GeV (pars.py quark masses 1.5, 4.8 GeV).

**What cancels and what does not.** The model's hadronic width is not the reference's: it keeps the anomaly + omega VMD
Z' -> pi0 gamma of :mod:`globalfit.physics.hadrons` (14.4, 4.1, 2.4, 1.7 x DarkCast's at 0.15, 0.2, 0.3, 0.4 GeV; the
whole hadronic width within 4 % of DarkCast's above 0.6 GeV) and has no c cbar, b bbar. Production ratios, the loop
lepton coupling and the lepton and neutrino widths cancel at g_Psi = 0; the hadronic widths do not. A U(1)_B Z' with the
loop coupling and g_Psi = 0 therefore reproduces DarkCast's rows exactly only where neither has a hadronic width (below
m_pi0: NA48/2, the beam dumps' lower masses), nearly on the beam-dump bands' lower edges (S ∝ g^4 Gamma_ll in the
long-lived limit: within 1.5 % up to 0.4 GeV) and above ~0.6 GeV (Br within 4 %); between, its Br(ee + mu mu) is 1.39,
3.54, 2.34, 1.72, 1.26 x smaller than the reference's (0.15, 0.2, 0.3, 0.4, 0.5 GeV) and its lifetime as much shorter.
Its lowest excluded g_B at g_Psi = 0 (envelope of the prompt curves) moves from 1.30e-3 to 1.32e-3 at 0.15 GeV, 1.93e-3
to 3.64e-3 at 0.2 GeV (KLOE phi -> eta), 1.62e-3 to 1.65e-3 at 0.3 GeV (LHCb, whose window makes it long-lived: S ∝ g^4
Gamma_ll) and 3.28e-3 to 4.06e-3 at 0.4 GeV (LHCb); CHARM's upper edge from 3.98e-4 to 1.98e-4 at 0.2 GeV (1.33e-3 to
1.11e-3 at 0.15, 8.1e-5 to 4.9e-5 at 0.3 GeV). (Before the fix of audit 47, Z1, the reference used this model's pi0
gamma, so the difference cancelled and the rows were reproduced: every U(1)_B visible limit carried DarkCast's Br and
lifetime, not the model's.) For B-L the lepton and neutrino widths dominate: the reference's width changes by less than
0.5 % below 3 GeV except at the omega peak (1.7 % at 0.78 GeV). Above 3 GeV (outside every prior) the reference has
DarkCast's c cbar (b bbar from 9.6 GeV) and the model none, so there BaBar's and LHCb's limits on the model are stronger
than DarkCast's rows: by 6-18 % in g at 3.1-10.3 GeV and 23 % at 30-70 GeV (LHCb) for U(1)_B, 1-4 % for B-L (BaBar, up
to 10.3 GeV).

The invisible searches' limit holds for Br(Z' -> invisible) = 1 (below): a B-L boson with g_Psi = 0 decays invisibly
(to neutrinos) with Br 0.60 below 2 m_mu, 0.28-0.44 at 0.3-5 GeV and 0.04 at the omega, so it meets them at
g = g_lim / sqrt(Br).

* **Prompt searches** (invisible: BaBar 1702.03327, NA64 1906.00176; visible ee+mumu: BaBar 1406.2980 (B-L and B),
  and for U(1)_B NA48/2 1504.00607, KLOE 1210.3927 and 1509.00740, LHCb 1910.06926). The rate is production x Br x
  the decay probability inside DarkCast's proper-lifetime window [0, t1(M)] of the limit:

      R = P g_X^2 Br(Z' -> D) eff(Gamma) / (g_lim(M)^2 Br_ref(Z' -> D) eff(Gamma_ref g_lim^2)),   P = l_e^2 or b^2,

  eff(Gamma) = 1 - exp(-t1 Gamma/hbar) (DarkCast efficiency.py, ``Efficiency.ratio``, its Eq. 2.23 with t0 = 0;
  written -expm1(-x), smooth and finite), Gamma the model's total width at g_X, Gamma_ref g_lim^2 the reference's at
  the curve (:meth:`CurveSet.efficiency_ratios`). t1(M) exactly as DarkCast's limit files at db9a0f6 write it, boosts
  included: NA48/2 1/(50/m c) (limits/NA48_Batley2015lha.py), KLOE phi -> eta 0.08/(gamma c) (8 cm) with gamma =
  (m_phi^2 + m^2 - m_eta^2)/(2 m_phi m) (KLOE_Babusci2012cr.py), KLOE e+e- gamma = (m_phi^2 + m^2)/(2 m_phi m)
  (KLOE_Anastasi2015qla.py), LHCb (0.004/(m - 2 m_mu) + 0.1) ps (LHCb_Aaij2019bvg_prompt.py), with DarkCast's c, hbar
  and masses (pars.py); BaBar and the invisible searches t1 = infinity (eff = 1). Where the model and the reference
  are both long-lived in the window (eff << 1) S ∝ g^4 Gamma_ll (the hadronic width cancels: NA48/2, LHCb at
  0.21-0.3 GeV); where the model's extra invisible width makes it prompt (eff = 1), the limit is g_lim sqrt(rho
  eff_ref) for Gamma = rho Gamma_ref, not g_lim sqrt(rho): up to 1/sqrt(eff_ref) stronger than a rate without the window
  (eff_ref at the rows: NA48/2 0.002-0.27, KLOE phi -> eta 0.09-0.3 below 0.15 GeV and 1 from 0.2 GeV,
  KLOE e+e- 1, LHCb 0.03-0.3 at 0.21-0.3 GeV and 1 from 0.5 GeV). Checked against DarkCast's own recast
  (Limit.recast of the dark-photon limits to a B boson with (rho - 1) x visible invisible width, rho = 1, 10, 1000;
  at 38 row masses of the four curves the coupling agrees within 1e-4). (Before the fix of audit 47, Z2, no window
  was applied.) D = invisible (nu nubar, Psi nu, Psi Psibar: ``br_Zp_invisible``) or charged leptons (ee + mumu;
  DarkCast's NA48/2 and KLOE count e e, LHCb mu mu: the same ratio, the model's lepton couplings being universal
  like the reference's). For the visible searches Br_ref is the reference model's own (DarkCast
  ``examples/visible.py``: the B-L boson with its neutrino width). For the invisible ones **Br_ref = 1**: the
  experiments quote their limit for A' -> invisible with Br = 1, and
  DarkCast's invisible recasts (``examples/invisible.py`` at db9a0f6) give every model, the dark photon of the search
  and the B-L boson alike, the same invisible width, 99 x its visible one, so that the file's g_lim is the published
  e eps times the production ratio alone (checked: BaBar and NA64 rows are e eps_lim, e = 0.3028) and not a limit on a
  B-L boson decaying to neutrinos only. (Until 2026-12-05 Br_ref was that neutrino-only Br, 0.3-0.8 below 1 GeV, which
  made these two limits stronger than published by a factor 1.29 in g below 2 m_mu, 1.5-1.9 at 0.3-5 GeV and 5 at the
  omega, for a B-L or L boson; a physics review found it.) Invisible searches ignore visible decays outside the detector (conservative).
* **Beam dumps** (E137, nu-Cal I, CHARM: excluded bands g_lo..g_hi). Single-energy decay-in-volume model:
  S ∝ P g^2 Br(Z' -> ee+mumu) Pdec(Gamma_tot a), Pdec(u) = exp(-u) (1 - exp(-r u)), with r = (decay-region
  length)/(distance to it) of the experiment and a(M) [1/GeV] an effective boost x distance. At each mass,
  a and the normalisation are solved so that the reference model has R = S/S_thr = 1 exactly at both band
  edges (the lower edge is the long-lived regime S ∝ g^4, the upper the exponential lifetime cut). The model's
  own total width (extra invisible channels) and Br then move both edges. Approximation: one effective boost
  per mass instead of the experiment's spectrum, so only the edges are data; the band interior and the
  response to a changed lifetime are modelled. Geometry ratios r = (decay-volume length)/(shielding length) as
  DarkCast's own limits use them (``efficiency = Efficiency(lratio = ...)`` in ``limits/<name>.py`` at db9a0f6):
  E137 204/179, nu-Cal I 23/64, CHARM 10/480 (35/480 until 2026-12-05, a recalled number); for the other U(1)_B
  dumps NOMAD 7.5/835, PS191 7/128, E141 35/0.12, E774 2/0.3, KEK 2.2/2.4, Orsay 2/1, NA64 4/1; they only shape the
  interior and the response to a changed lifetime.

**Likelihood.** -2 Delta ln L = z(CL)^2 R^2 (:func:`likelihoods.stats.upper_limit` on R with limit 1) times a taper
w(M): w = 1 inside the tabulated mass range, smoothstep to exactly 0 over the outermost ``taper`` (default 0.1) in
ln M, and 0 outside (no constraint). **A point on a curve at an interior tabulated mass gets -2 Delta ln L = 2.71**
(90 % CL); inside a beam-dump band more. Where w = 1 the term is exact (also in evidence runs); only inside the taper
it follows the bounded-curvature exclusion edge (:func:`likelihoods.stats.exclusion_edge`) beyond -2 Delta ln L =
25/(1 - w) (:func:`windowed_limit`), so that the product with w
never becomes an arbitrarily steep wall at the outer end of the taper.

**U(1)_B: pi0 -> gamma Z', Z' escaping** [zp_baryonic_pi0]. Br(pi0 -> gamma Z') = 2 (g_B^2/e^2) (1 - M^2/m_pi0^2)^3
|F_omega(M^2)|^2 Br(pi0 -> gamma gamma), g_B = g_X b. Derivation: the anomaly vertex is
∝ N_c Tr[tau_3 {Q_1, Q_2}]; N_c Tr[tau_3 Q Q_B] = N_c Tr[tau_3 Q^2] = 1, so, with the anticommutator giving
both vertices the same factor 2 (e^2 2 Tr[tau_3 Q^2] against e g_B 2 Tr[tau_3 Q Q_B]), the gamma Z' amplitude is g_B/e
times the gamma gamma one, and the identical-photon factor 1/2 of the gamma gamma rate is absent: ratio 2 (g_B/e)^2. It is the crossing of
:mod:`globalfit.physics.hadrons` (Gamma(Z' -> pi0 gamma) = (2/3)(alpha_B/alpha)(M/m_pi0)^3(1 - m_pi0^2/M^2)^3 Gamma_gg,
the 1/3 from averaging the Z' spin) and reproduces Br(pi0 -> gamma A') = 2 eps^2 (1 - M^2/m^2)^3 Br_gg of a dark
photon, i.e. g_B = e eps. Two datasets:

* ``na62_2019`` (default): the mass-dependent NA62 limit on pi0 -> gamma A' (A' invisible; arXiv:1903.08767, 90 % CL),
  as DarkCast's B-boson recast (data/zprime_b_na62_pi0_invisible.csv, [D]: g_B = e eps row by row, 0.035-0.12 GeV;
  DarkCast takes both bosons as invisible). R = (g_B/g_lim(M))^2 x f_esc, no constraint outside 35-120 MeV.
  Its Br limit is 1.5-4e-7 at 50-112 MeV and rises to 3e-6 at 35-43 MeV.
* ``pdg_gamma_nunubar``: the former default, PDG S009.15 Br(pi0 -> gamma nu nubar) < 1.9e-7 (PDG quotes the same NA62
  paper) applied at every M < m_pi0: too strong below 50 MeV and near m_pi0, and applied below 35 MeV, where NA62
  has no limit.

f_esc = 1 - Br(tree-level e e, mu mu, tau tau, hadrons) (:func:`escaping_fraction`): decays through the loop-induced
kinetic mixing count as escaping. Their width, (5.8e-4 g_B)^2 M/(12 pi) to e+e-, gives a Z' of 10-30 GeV at the
coupling of the limit a decay length of 2-7 km at 50 MeV (g_B = 1.9e-4), 0.8-2.4 km at 80 MeV and 0.2-0.6 km at 100 MeV,
beyond the NA62 detector; but the curve rises steeply at its upper end (g_B = 6e-4 at 110 MeV, 2.1e-3 at 120 MeV), where
the decay length falls to 50-150 m and 3-10 m, so that some of those decays happen inside the detector and would be
seen: there, mostly inside the taper of the outermost 0.1 in ln M (above 109 MeV), this likelihood overstates the
limit. NA62's geometry and Z' energy spectrum were not sourced, so no decay probability is applied. (Visible decays
of tree-level couplings are not counted as escaping, which is conservative.)

**Neutron-lead scattering** [zp_neutron_lead]: the n-Pb curve as drawn in arXiv:2205.12414 (COHERENT's leptophobic
dark-matter paper), alpha_B = g_B^2/(4 pi) vs M at 2.0-7.4 MeV (five digitised points, third-party digitisation,
data/zprime_b_neutron_lead.csv; CL not stated, read as 90 %). It follows alpha_B ~ 3e-11 (M/MeV)^4 (2.9-3.3e-11 at
the five points). Its range is that of the figure's window (the curve leaves it at alpha_B = 1e-7); the M^4 law is not
extrapolated. Below it (option ``below_2MeV: cong2025``, the default) the compiled neutron-scattering limit of Cong et
al., Rev. Mod. Phys. 97, 025005 (2025), Fig. 17, on the Yukawa potential g^2/(4 pi) exp(-M r)/r between nucleons, at
0.80-1.80 MeV (data/zprime_b_neutron_scattering_cong2025.csv; CL not stated, read as 90 %) carries the limit down past
the prior's 1 MeV edge, where no other likelihood bounds a Z' lighter than 2 m_e (docs/review_status.md, A8). The two
tables form one curve, interpolated in ln g - ln M across the seam 1.80-2.0 MeV (at 2.0 MeV they agree within 20 % in
alpha_B; above it they differ by up to 2.2x, so the compiled rows above 1.8 MeV are not used). The original n-Pb
analyses (Barbieri & Ericson 1975, Leeb & Schmiedmayer 1992) were not read.

The η, η' -> gamma Z' decays, the anomaly-enhanced K -> pi Z', B -> K Z', Z -> gamma Z' and the paper's Eq. (30) are
in :mod:`likelihoods.zprime_baryonic`, which also says why J/psi, Upsilon -> gamma + invisible do not apply to a
vector Z'.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import jax.numpy as jnp
import numpy as np
from scipy.optimize import brentq

from typing import ClassVar, Literal

from pydantic import Field, field_validator

from globalfit.physics.constants import constants
from globalfit.physics.interp import interp_sorted
from globalfit.physics.numerics import on_grid
from globalfit.physics.scattering import HBARC_GEV_FM
from globalfit.physics.hadrons import darkcast_hadronic_width, omega_form_factor_sq
from globalfit.physics.scenarios import Scenario
from globalfit.physics.widths import width_to_leptons, width_to_neutrinos, width_vector_to_fermions

from . import register
from ._pdg import limit_from_options
from .base import Fraction, Likelihood, Options, PositiveNumber
from .stats import EDGE_CHI2, exclusion_edge, upper_limit

DATA = Path(__file__).parent / "data"


# DarkCast's constants (pars.py of micha-a-schmidt/darkcast@db9a0f6): the efficiencies of its limits are written with
# them, and its reference models' widths use its heavy-quark masses
DARKCAST_C = 2.99792458e8  # speed of light [m/s] (pars.c)
DARKCAST_HBAR = 6.58211951e-25  # hbar [GeV s] (pars.hbar; Model.tau = hbar / width)
DARKCAST_MASS = {"mu": 0.10566, "c": 1.5, "b": 4.8, "phi": 1.01946, "eta": 0.54785}  # [GeV] (pars.mfs, pars.mms)


def t1_na48(M):
    """NA48/2 (pi0 -> gamma Z'): t1 = 1/(50/m c) [s], flight distance < 1 m at gamma = 50/m (DarkCast
    limits/NA48_Batley2015lha.py at db9a0f6: ``t1 = lambda m: 1.0/(50.0/m * darkcast.pars.c)``)."""
    return 1.0 / (50.0 / M * DARKCAST_C)


def t1_kloe_phi_eta(M):
    """KLOE phi -> eta Z': t1 = 0.08/(gamma c) [s], 8 cm at gamma = (m_phi^2 + m^2 - m_eta^2)/(2 m_phi m) (DarkCast
    limits/KLOE_Babusci2012cr.py at db9a0f6)."""
    m_phi, m_eta = DARKCAST_MASS["phi"], DARKCAST_MASS["eta"]
    return 0.08 / ((m_phi**2 + M**2 - m_eta**2) / (2 * m_phi * M) * DARKCAST_C)


def t1_kloe_ee(M):
    """KLOE e+e- -> gamma Z': t1 = 0.08/(gamma c) [s], 8 cm at gamma = (m_phi^2 + m^2)/(2 m_phi m) (DarkCast
    limits/KLOE_Anastasi2015qla.py at db9a0f6)."""
    m_phi = DARKCAST_MASS["phi"]
    return 0.08 / ((m_phi**2 + M**2) / (2 * m_phi * M) * DARKCAST_C)


def t1_lhcb_prompt(M):
    """LHCb prompt mu+mu-: t1 = (0.004/(m - 2 m_mu) + 0.1) ps [s] (DarkCast limits/LHCb_Aaij2019bvg_prompt.py at
    db9a0f6, its code; the notes there say 0.04, the code that made the recast 0.004). Only above 2 m_mu, where the
    curve has rows."""
    return (0.004 / (M - 2 * DARKCAST_MASS["mu"]) + 0.1) * 1e-12


@dataclass(frozen=True)
class Curve:
    """One digitised curve: file key, production ('electron' | 'hadron'), channel ('invisible' | 'leptons'),
    geometry ratio r for beam dumps (None: prompt one-sided limit); for a prompt limit the upper end t1(M) [s] of
    DarkCast's proper-lifetime window [0, t1] (None: t1 = infinity, efficiency 1; module doc)."""

    key: str
    label: str
    production: str
    channel: str
    r: float | None = None
    t1: Callable | None = None


LEPTONIC = {
    "babar_invisible": Curve("bl_babar_invisible", "BaBar invisible", "electron", "invisible"),
    "na64_invisible": Curve("bl_na64_invisible", "NA64 invisible", "electron", "invisible"),
    "babar_visible": Curve("bl_babar_visible", "BaBar visible", "electron", "leptons"),
    "E137": Curve("bl_e137", "E137", "electron", "leptons", 204.0 / 179.0),
    "nuCal": Curve("bl_nucal", "nu-Cal I", "hadron", "leptons", 23.0 / 64.0),
    "CHARM": Curve("bl_charm", "CHARM", "hadron", "leptons", 10.0 / 480.0),
}
# U(1)_B: every production is ∝ g_B^2 = (g_X b)^2, by hadrons or by the loop lepton coupling x_l g_B ("hadron" here)
BARYONIC = {
    "NA48/2": Curve("b_na48_visible", "NA48/2", "hadron", "leptons", t1=t1_na48),
    "BaBar": Curve("b_babar_visible", "BaBar visible", "hadron", "leptons"),  # DarkCast: t1 = infinity
    "KLOE phi->eta": Curve("b_kloe_phi_eta", "KLOE phi -> eta Z'", "hadron", "leptons", t1=t1_kloe_phi_eta),
    "KLOE": Curve("b_kloe_visible", "KLOE e+e- -> gamma Z'", "hadron", "leptons", t1=t1_kloe_ee),
    "LHCb": Curve("b_lhcb_prompt", "LHCb prompt", "hadron", "leptons", t1=t1_lhcb_prompt),
    "CHARM": Curve("b_charm", "CHARM", "hadron", "leptons", 10.0 / 480.0),
    "nuCal": Curve("b_nucal", "nu-Cal I", "hadron", "leptons", 23.0 / 64.0),
    "NOMAD": Curve("b_nomad", "NOMAD", "hadron", "leptons", 7.5 / 835.0),
    "PS191": Curve("b_ps191", "PS191", "hadron", "leptons", 7.0 / 128.0),
    "E137": Curve("b_e137", "E137", "hadron", "leptons", 204.0 / 179.0),
    "E141": Curve("b_e141", "E141", "hadron", "leptons", 35.0 / 0.12),
    "E774": Curve("b_e774", "E774", "hadron", "leptons", 2.0 / 0.3),
    "KEK": Curve("b_kek", "KEK", "hadron", "leptons", 2.2 / 2.4),
    "Orsay": Curve("b_orsay", "Orsay", "hadron", "leptons", 2.0 / 1.0),
    "NA64 visible": Curve("b_na64_visible", "NA64 visible", "hadron", "leptons", 4.0 / 1.0),
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
    """(Gamma_invisible, Gamma_ee+mumu, Gamma_total) of DarkCast's reference model at g = 1 [GeV], as DarkCast computes
    it (``Model.width``, model.py of micha-a-schmidt/darkcast@db9a0f6; module doc): charged leptons (and for B-L three
    left-handed neutrinos) with this package's f fbar widths, the same formula (DarkCast's Eq. 2.13); **hadrons from
    DarkCast's grids, its Z' -> pi0 gamma included** (:func:`globalfit.physics.hadrons.darkcast_hadronic_width`, not
    this model's anomaly width); c cbar and b bbar as DarkCast's perturbative quarks of charge 1/3 (masses 1.5 and
    4.8 GeV, pars.py: from 3 and 9.6 GeV). DarkCast's Z' -> 3 gamma (below 2 m_e only, where no curve has rows) is
    left out. Equal to DarkCast's own total width within 1e-4 away from the lepton thresholds and 1e-3 at every row of
    the curves (9e-4 just above 2 m_tau: DarkCast's 4-5 digit lepton masses; tests/test_zprime_recast_reference.py)."""
    if model == "B-L":
        lep = width_to_leptons(1.0, (-1.0, -1.0, -1.0), M)
        inv = width_to_neutrinos(jnp.eye(3), M)  # three left-handed neutrinos of charge -1 (|G|^2 = 1), as DarkCast's B-L_boson
    else:
        x = loop_lepton_coupling()
        lep = width_to_leptons(x, (1.0, 1.0, 1.0), M)
        inv = jnp.zeros_like(M)
    had = darkcast_hadronic_width(1.0, M) + sum(width_vector_to_fermions(1.0 / 3.0, M, DARKCAST_MASS[q], n_c=3.0)
                                               for q in ("c", "b"))
    return inv, lep[0] + lep[1], inv + jnp.sum(lep, axis=0) + had


def _reference_widths_at(M, model: str):
    """:func:`reference_widths` with the masses first (for :func:`on_grid`)."""
    return reference_widths(model, M)


def _smoothstep(t):
    t = jnp.clip(t, 0.0, 1.0)
    return t * t * (3.0 - 2.0 * t)


def mass_window(M, m_lo: float, m_hi: float, taper: float):
    """1 inside [m_lo, m_hi] away from its ends, C^1 smoothstep to exactly 0 at the ends over `taper` in ln M."""
    x = jnp.log(M)
    return _smoothstep((x - np.log(m_lo)) / taper) * _smoothstep((np.log(m_hi) - x) / taper)


def windowed_limit(R, M, m_lo: float, m_hi: float, taper: float, cl: float):
    """w(M) x ln L of a signal strength R against its limit 1 (:func:`likelihoods.stats.upper_limit`), w the mass
    window of :func:`mass_window`. Exact where w = 1 (the tabulated range away from its ends); inside the taper the
    term follows the exclusion edge (:func:`likelihoods.stats.exclusion_edge`) above -2 Delta ln L = EDGE_CHI2 / (1 - w), so that
    as w -> 0 it never meets a huge -2 ln L (whose product with w would put an arbitrarily steep wall at the outer
    end of the taper), while the softening threshold goes to infinity as w -> 1."""
    w = mass_window(M, m_lo, m_hi, taper)
    chi2_max = EDGE_CHI2 / jnp.maximum(1.0 - w, 1e-12)
    return w * exclusion_edge(upper_limit(R, 1.0, cl), chi2_max)


def coupling_limit(mass: np.ndarray, g_lim: np.ndarray, cl: float, taper: float):
    """ln L(M, R_scale, g) of a one-sided limit curve g < g_lim(M) on a coupling (ln g_lim linear in ln M between the
    tabulated masses, no constraint outside them): R = R_scale (g/g_lim(M))^2, a point on the curve with R_scale = 1
    at an interior mass gets -2 Delta ln L = chi2_1(cl) (:func:`windowed_limit`)."""
    m_lo, m_hi = float(mass[0]), float(mass[-1])
    lnm, lng = np.log(mass), np.log(g_lim)

    def loglike_at(M, R_scale, g):
        inside = (M > m_lo) & (M < m_hi)
        Ms = jnp.where(inside, M, np.sqrt(m_lo * m_hi))
        R = R_scale * (g / jnp.exp(interp_sorted(jnp.log(Ms), lnm, lng))) ** 2
        return windowed_limit(jnp.where(inside, R, 0.0), M, m_lo, m_hi, taper, cl)

    loglike_at.mass_range = (m_lo, m_hi)
    return loglike_at


def read_table(path: Path) -> tuple[dict[str, np.ndarray], str]:
    """Columns by name and the provenance header of a data file (``#`` header lines, one line of column names)."""
    lines = path.read_text().splitlines()
    header = "\n".join(ln[2:] for ln in lines if ln.startswith("#"))
    body = [ln for ln in lines if ln.strip() and not ln.startswith("#")]
    names = [n.strip() for n in body[0].split(",")]
    arr = np.array([[float(x) for x in ln.split(",")] for ln in body[1:]], ndmin=2)
    return {n: arr[:, i] for i, n in enumerate(names)}, header


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


NO_LIMIT = 1e4  # DarkCast writes g = 1e5 where the original limit excludes nothing at that mass


def curve_rows(key: str) -> tuple[np.ndarray, np.ndarray, np.ndarray | None, str]:
    """:func:`read_curve` without the rows at the ends of a beam-dump band where DarkCast marks that nothing is
    excluded (both edges 1e5: masses beyond the band's tip); the taper then closes the band at its last real row
    instead of an interpolation towards g = 1e5. (In a prompt limit such rows stay: there they are gaps, vetoed
    resonances, where the interpolated limit rises steeply and excludes nothing.)"""
    mass, lo, hi, header = read_curve(key)
    if hi is None:
        return mass, lo, hi, header
    real = np.flatnonzero(lo < NO_LIMIT)
    keep = slice(real[0], real[-1] + 1)
    if np.any(lo[keep] >= NO_LIMIT):
        raise ValueError(f"zprime_{key}.csv: a beam-dump band with a gap inside its mass range")
    return mass[keep], lo[keep], hi[keep], header


def reference_at(model: str, M, m_lo: float, m_hi: float):
    """:func:`reference_widths` at M inside (m_lo, m_hi), at their geometric mean outside (where the widths of the
    B reference, which has no channel below 2 m_e, could vanish)."""
    inside = (M > m_lo) & (M < m_hi)
    return reference_widths(model, jnp.where(inside, M, np.sqrt(m_lo * m_hi)))


def union_table(grids: list[np.ndarray], values: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Piecewise-linear functions (grid_i, values_i) as columns of one table on the union of their nodes. A linear
    interpolant is unchanged by extra nodes, so reading the table gives each function's own interpolation (up to
    rounding) with one search for all; outside a function's own grid its column holds the end value."""
    union = np.unique(np.concatenate(grids))
    return union, np.stack([np.interp(union, g, v) for g, v in zip(grids, values)], axis=1)


def beam_dump_table(curve: Curve, reference: str, n_grid: int = 200) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(ln M grid, ln a, ln C) of a beam-dump band (module doc): at each grid mass (the file's rows plus ``n_grid``
    uniform in ln M) a and C such that the reference model has R = 1 at both edges."""
    mass, lo, hi, _ = curve_rows(curve.key)
    lnm = np.log(mass)
    grid = np.unique(np.concatenate([lnm, np.linspace(lnm[0], lnm[-1], n_grid)]))
    glo = np.exp(np.interp(grid, lnm, np.log(lo)))
    ghi = np.exp(np.interp(grid, lnm, np.log(hi)))
    _, w_lep, w_tot = on_grid(_reference_widths_at, np.exp(grid), reference)
    ln_a, ln_c = _solve_band(grid, glo, ghi, w_lep / w_tot, w_tot, curve.r)
    return grid, ln_a, ln_c


class CurveSet:
    """Search curves recast to the model, evaluated together: R_i(M, P_i, g_X^2, Br_i, Gamma) of every curve and
    their ln L_i (:func:`windowed_limit`; module doc). The prompt limits g_lim,i(M) share one table and one search
    (:func:`union_table`), so do the beam dumps' ln a_i, ln C_i, and the prompt curves share one evaluation of the
    reference widths; the same values as each curve read alone, in a program that grows little with the number of
    curves."""

    def __init__(self, curves: list[Curve], reference: str, cl: float, taper: float):
        self.reference, self.cl, self.taper = reference, cl, taper
        prompt = [c for c in curves if c.r is None]
        dumps = [c for c in curves if c.r is not None]
        self.order = prompt + dumps  # curves in the order of the vectors below
        rows = [curve_rows(c.key) for c in self.order]
        self.headers = [r[3] for r in rows]
        self.m_lo = np.array([r[0][0] for r in rows], dtype=float)
        self.m_hi = np.array([r[0][-1] for r in rows], dtype=float)
        self.n_prompt = len(prompt)
        if prompt:
            self.prompt_grid, self.prompt_ln_g = union_table([np.log(r[0]) for r in rows[: len(prompt)]],
                                                             [np.log(r[1]) for r in rows[: len(prompt)]])
            self.prompt_channel = np.array([c.channel == "invisible" for c in prompt])
            self.prompt_range = (float(self.m_lo[: len(prompt)].min()), float(self.m_hi[: len(prompt)].max()))
            self.prompt_t1 = [c.t1 for c in prompt]  # DarkCast's lifetime windows [0, t1(M)] (None: t1 = infinity)
            self.prompt_mid = np.sqrt(self.m_lo[: len(prompt)] * self.m_hi[: len(prompt)])
        if dumps:
            tables = [beam_dump_table(c, reference) for c in dumps]
            self.dump_grid, tab = union_table([t[0] for t in tables] * 2, [t[1] for t in tables] + [t[2] for t in tables])
            self.dump_ln_a, self.dump_ln_c = tab[:, : len(dumps)], tab[:, len(dumps):]
            self.dump_r = np.array([c.r for c in dumps])

    def efficiency_ratios(self, M, width_model, width_ref):
        """eff(Gamma_model)/eff(Gamma_ref) per prompt curve (vector in ``order[:n_prompt]``): DarkCast's efficiency
        ratio (efficiency.py ``Efficiency.ratio``, its Eq. 2.23, at db9a0f6) with t0 = 0, eff(Gamma) =
        1 - exp(-t1(M) Gamma/hbar), written with expm1 (smooth, finite, exact for t1 Gamma/hbar -> 0); 1 for a curve
        without a window (t1 = infinity). width_model: the model's total width [GeV] at its coupling; width_ref: the
        reference's at the curve's g_lim (per curve). t1 is evaluated at M inside a curve's range and at the middle of
        the range outside it (where R is 0), so that no window formula meets a mass it is not defined at."""
        inside = (M > self.m_lo[: self.n_prompt]) & (M < self.m_hi[: self.n_prompt])
        parts = []
        for i, t1 in enumerate(self.prompt_t1):
            if t1 is None:
                parts.append(jnp.ones_like(M))
                continue
            t1_over_hbar = t1(jnp.where(inside[..., i], M, self.prompt_mid[i])) / DARKCAST_HBAR
            eff_model = -jnp.expm1(-t1_over_hbar * width_model)
            eff_ref = jnp.maximum(-jnp.expm1(-t1_over_hbar * width_ref[..., i]), np.finfo(float).tiny)
            parts.append(eff_model / eff_ref)
        return jnp.stack(parts, axis=-1)

    def ratios(self, M, production, g2, br_model, width_model):
        """R_i per curve (vector in ``order``; 0 outside the curve's mass range). production, br_model: per curve
        (vectors in ``order``) or common scalars; width_model: the model's total Z' width [GeV]."""
        parts = []
        lM = jnp.log(M)
        if self.n_prompt:
            _, lep, tot = reference_at(self.reference, M, *self.prompt_range)
            inside = (M > self.m_lo[: self.n_prompt]) & (M < self.m_hi[: self.n_prompt])
            # invisible searches: Br_ref = 1, the experiments' (and DarkCast's, for every model alike) assumption (module doc)
            br_ref = jnp.where(inside & ~self.prompt_channel, lep / tot, 1.0)
            g_lim2 = jnp.exp(2.0 * interp_sorted(lM, self.prompt_grid, self.prompt_ln_g))
            if any(t1 is not None for t1 in self.prompt_t1):
                # DarkCast's lifetime window: R ∝ Br eff(Gamma), the reference's at its own g_lim (module doc)
                eff = self.efficiency_ratios(M, width_model, tot[..., None] * g_lim2)
                parts.append(eff / (g_lim2 * br_ref))
            else:
                parts.append(1.0 / (g_lim2 * br_ref))
        if len(self.order) > self.n_prompt:
            u = width_model * jnp.exp(interp_sorted(lM, self.dump_grid, self.dump_ln_a))
            pdec = jnp.exp(-u) * (-jnp.expm1(-self.dump_r * u))
            parts.append(pdec / jnp.exp(interp_sorted(lM, self.dump_grid, self.dump_ln_c)))
        R = production * g2 * br_model * jnp.concatenate(parts, axis=-1)
        return jnp.where((M > self.m_lo) & (M < self.m_hi), R, 0.0)

    def loglikes(self, M, production, g2, br_model, width_model):
        """ln L_i per curve (:func:`windowed_limit` of :meth:`ratios`)."""
        return windowed_limit(self.ratios(M, production, g2, br_model, width_model), M, self.m_lo, self.m_hi,
                              self.taper, self.cl)


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
        table = {n: self.curve_table[n] for n in self.experiments()}
        self.curve_set = CurveSet(list(table.values()), self.reference_model, self.options.cl, self.options.taper)
        names = {c: n for n, c in table.items()}
        self.curve_names = [names[c] for c in self.curve_set.order]
        self.curves = dict(zip(self.curve_names, self.curve_set.headers))  # name -> provenance header
        self.production = np.array([_production(c, self.scenario) for c in self.curve_set.order])

    def loglikes(self, obs, br_model):
        """ln L of every curve (vector in ``curve_names`` order) at the model point ``obs``."""
        return self.curve_set.loglikes(obs["M_Zp"], self.production, obs["g_X"] ** 2, br_model, obs["width_Zp"])


class _Leptonic(_Curves):
    """Searches with an electron-produced or hadron-produced Z' recast from DarkCast's B-L model."""

    needs: ClassVar[tuple[str, ...]] = ("electrons",)
    reference_model: ClassVar[str] = "B-L"
    Options = CurveOptions

    def loglike(self, obs):
        br = {"invisible": obs["br_Zp_invisible"], "leptons": obs["br_Zp_ee"] + obs["br_Zp_mumu"]}
        return jnp.sum(self.loglikes(obs, jnp.stack([br[c.channel] for c in self.curve_set.order])))


_LEP_REF = "DarkCast recast [D] of "


@register
class ZpBabarInvisible(_Leptonic):
    name = "zp_babar_invisible"
    label = r"BaBar $\gamma$ + invisible"
    constrains = "g_X Br(Z'->inv)^(1/2) vs M_Zp (e+e- -> gamma + invisible)"
    reference = _LEP_REF + "BaBar arXiv:1702.03327"
    data_edition = "DarkCast B-L recast [D], data/zprime_bl_babar_invisible.csv"
    curve_table = {"babar_invisible": LEPTONIC["babar_invisible"]}


@register
class ZpNa64Invisible(_Leptonic):
    name = "zp_na64_invisible"
    label = "NA64 invisible"
    constrains = "g_X Br(Z'->inv)^(1/2) vs M_Zp (e- N -> e- N + invisible)"
    reference = _LEP_REF + "NA64 arXiv:1906.00176"
    data_edition = "DarkCast B-L recast [D], data/zprime_bl_na64_invisible.csv"
    curve_table = {"na64_invisible": LEPTONIC["na64_invisible"]}


@register
class ZpBabarVisible(_Leptonic):
    name = "zp_babar_visible"
    label = r"BaBar $\gamma \ell^+\ell^-$"
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
    label = r"beam dumps (E137, $\nu$-Cal I, CHARM)"
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
    label = "visible $Z'$ decays (searches, beam dumps)"
    constrains = ("g_B vs M_Zp from Z' -> e+e-, mu+mu- (NA48/2, BaBar, KLOE, LHCb) and beam dumps (CHARM, nu-Cal I, NOMAD, PS191, "
                  "E137, E141, E774, KEK, Orsay, NA64)")
    reference = ("DarkCast recast [D] (arXiv:1801.04847) of NA48/2 arXiv:1504.00607, BaBar arXiv:1406.2980, KLOE arXiv:1210.3927 "
                 "and arXiv:1509.00740, LHCb arXiv:1910.06926, CHARM Phys. Lett. 157B 458 (1985), nu-Cal I Z. Phys. C51 341 (1991), "
                 "NOMAD hep-ex/0101041, PS191, E137 arXiv:1209.6083, E141, E774, KEK, Orsay, NA64 arXiv:1912.11389 (module doc)")
    data_edition = "DarkCast B_boson recasts [D] at full resolution (micha-a-schmidt/darkcast@db9a0f6), data/zprime_b_*.csv"
    # the recast rests on the lepton coupling a Z' without tree-level lepton charge has only through kinetic mixing,
    # which the model adds under model.kinetic_mixing: loop (the default) and omits under none (module doc)
    needs: ClassVar[tuple[str, ...]] = ("quarks", "no_charged_leptons")
    curve_table = BARYONIC
    reference_model = "B"

    class Options(CurveOptions):
        experiments: tuple[Literal["NA48/2", "BaBar", "KLOE phi->eta", "KLOE", "LHCb", "CHARM", "nuCal", "NOMAD", "PS191", "E137",
                                   "E141", "E774", "KEK", "Orsay", "NA64 visible"], ...] | None = None
        """Searches used (default: all fifteen, module doc)."""
        _check = field_validator("experiments")(classmethod(lambda cls, v: _nonempty(v)))

    def experiments(self):
        return _pick(self.options.experiments, list(BARYONIC), self.scenario)

    def loglike(self, obs):
        return jnp.sum(self.loglikes(obs, obs["br_Zp_ee"] + obs["br_Zp_mumu"]))


def br_pi0_gamma_zp(g_B, M):
    """Br(pi0 -> gamma Z') = 2 (g_B^2/e^2)(1 - M^2/m_pi0^2)^3 |F_omega(M^2)|^2 Br(pi0 -> gamma gamma); 0 above m_pi0."""
    c = constants()
    x = (M / c.m_pi0) ** 2
    open_ = x < 1.0
    xs = jnp.where(open_, x, 0.0)
    br = 2.0 * g_B**2 / c.e_charge**2 * (1.0 - xs) ** 3 * omega_form_factor_sq(jnp.where(open_, M, 0.0) ** 2) * c.br_pi0_gg
    return jnp.where(open_, br, 0.0)


def escaping_fraction(obs):
    """Fraction of Z' decays a missing-energy search sees as invisible: 1 - Br(tree-level e e, mu mu, tau tau, hadrons).
    Decays through the loop-induced kinetic mixing are counted as escaping: their width, (5.8e-4 g_B)^2 M/(12 pi), gives
    a decay length far beyond the detectors at the couplings these searches probe (module doc)."""
    visible = obs["br_Zp_ee"] + obs["br_Zp_mumu"] + obs["br_Zp_tautau"] + obs["br_Zp_hadrons"] - obs["br_Zp_leptons_kinetic"]
    return jnp.clip(1.0 - visible, 0.0, 1.0)


PI0_DATASETS = {
    "na62_2019": "NA62 arXiv:1903.08767 (JHEP 05 (2019) 182), mass-dependent, DarkCast B-boson recast [D] "
                 "(data/zprime_b_na62_pi0_invisible.csv)",
    "pdg_gamma_nunubar": "PDG S009.15, Br(pi0 -> gamma nu nubar) < 1.9e-7 (the same NA62 paper), at every mass below m_pi0",
}


@register
class ZpBaryonicPi0(Likelihood):
    name = "zp_baryonic_pi0"
    label = r"$\pi^0 \to \gamma Z'$ (NA62)"
    constrains = "Br(pi0 -> gamma Z') x Br(Z' escapes) vs M_Zp (NA62 pi0 -> gamma + invisible)"
    reference = "NA62 arXiv:1903.08767 via DarkCast B-boson recast [D]; pdg_gamma_nunubar: PDG S009.15; rate: chiral anomaly"
    data_edition = "na62_2019: DarkCast B recast [D] of NA62 2019 (0.035-0.12 GeV); pdg_gamma_nunubar: PDG 2026"
    needs: ClassVar[tuple[str, ...]] = ("quarks",)
    requires: ClassVar[tuple[str, ...]] = ("g_nucleon", "M_Zp", "br_Zp_ee", "br_Zp_mumu", "br_Zp_tautau", "br_Zp_hadrons",
                                           "br_Zp_leptons_kinetic")

    class Options(CurveOptions):
        dataset: Literal["na62_2019", "pdg_gamma_nunubar"] = "na62_2019"
        """na62_2019: the mass-dependent two-body limit; pdg_gamma_nunubar: the single PDG number (the former default)."""
        limit: PositiveNumber | None = None
        """Override of the PDG limit on Br(pi0 -> gamma nu nubar) (dataset pdg_gamma_nunubar only)."""
        cl: Fraction | None = None
        """CL of the limit (default: 90 %, the PDG value's and NA62's)."""

    def setup(self):
        o = self.options
        if o.dataset == "na62_2019":
            if o.limit is not None:
                raise ValueError("limit applies to dataset pdg_gamma_nunubar only (na62_2019 is a curve)")
            mass, g_lim, _, self.header = read_curve("b_na62_pi0_invisible")
            self.curve = coupling_limit(mass, g_lim, 0.9 if o.cl is None else o.cl, o.taper)
        else:
            self.limit = limit_from_options("S009.15", o.limit, o.cl)

    def loglike(self, obs):
        escape = escaping_fraction(obs)
        if self.options.dataset == "na62_2019":
            # the limit holds for an invisible boson (Br = 1; DarkCast gives the B boson the dark photon's invisible width)
            return self.curve(obs["M_Zp"], escape, obs["g_nucleon"])
        return upper_limit(br_pi0_gamma_zp(obs["g_nucleon"], obs["M_Zp"]) * escape, self.limit.value, self.limit.cl)


def neutron_scattering_curve(below_2MeV: str) -> tuple[np.ndarray, np.ndarray]:
    """(M [GeV], g_B limit) of zp_neutron_lead: the n-Pb rows of arXiv:2205.12414 (alpha_B = g^2/4pi), preceded for
    ``below_2MeV='cong2025'`` by the compiled rows of Rev. Mod. Phys. 97, 025005 (2025) (g^2 vs lambda; M = hbar c /
    lambda, hbar c from CODATA), in increasing mass."""
    cols, _ = read_table(DATA / "zprime_b_neutron_lead.csv")
    mass, g_lim = cols["m_Aprime_MeV"] * 1e-3, np.sqrt(4 * np.pi * cols["alpha_B"])
    if below_2MeV == "cong2025":
        low, _ = read_table(DATA / "zprime_b_neutron_scattering_cong2025.csv")
        low_mass = HBARC_GEV_FM * 1e-15 / low["lambda_m"]  # GeV (hbar c in GeV m)
        order = np.argsort(low_mass)
        mass = np.concatenate([low_mass[order], mass])
        g_lim = np.concatenate([np.sqrt(low["g2"])[order], g_lim])
    return mass, g_lim


@register
class ZpNeutronLead(Likelihood):
    name = "zp_neutron_lead"
    label = "neutron scattering (n–Pb)"
    constrains = ("alpha_B = g_B^2/4pi vs M_Zp, 2-7.4 MeV (neutron-lead scattering, curve as drawn in arXiv:2205.12414); "
                  "0.8-1.8 MeV (neutron scattering, Cong et al. RMP 97 025005 (2025) Fig. 17)")
    reference = ("arXiv:2205.12414 (COHERENT, PRD 106 052004), its n-Pb comparison curve; original n-Pb data: Barbieri & "
                 "Ericson PLB 57 (1975) 270, Leeb & Schmiedmayer PRL 68 (1992) 1472 (not read); below 2 MeV: Cong et al., "
                 "Rev. Mod. Phys. 97, 025005 (2025), Fig. 17")
    data_edition = ("third-party digitisation (noctildon/lightDM@2e2f904) of the arXiv:2205.12414 figure, 5 points, "
                    "CL not stated (read as 90 %), data/zprime_b_neutron_lead.csv; below 2 MeV the review's compiled curve "
                    "(Lei-Cong/Spin-Dependent-5th-Force-Limits@acaab39), CL not stated (read as 90 %), "
                    "data/zprime_b_neutron_scattering_cong2025.csv")
    needs: ClassVar[tuple[str, ...]] = ("quarks",)
    requires: ClassVar[tuple[str, ...]] = ("g_nucleon", "M_Zp")

    class Options(CurveOptions):
        below_2MeV: Literal["cong2025", "none"] = "cong2025"
        """The limit below the n-Pb curve's 2.0 MeV: 'cong2025' joins the compiled neutron-scattering curve of Rev. Mod.
        Phys. 97, 025005 (2025) at 0.80-1.80 MeV (module doc); 'none' leaves M < 2 MeV unconstrained (before
        2026-12-07)."""

    def setup(self):
        mass, g_lim = neutron_scattering_curve(self.options.below_2MeV)
        self.curve = coupling_limit(mass, g_lim, self.options.cl, self.options.taper)

    def loglike(self, obs):
        return self.curve(obs["M_Zp"], 1.0, obs["g_nucleon"])
