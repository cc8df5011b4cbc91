"""PMNS non-unitarity: upper limits on |kappa_alpha|^2 (docs/physics.md §2; arXiv:1607.07616 Eq. 13).

In the model the light flavour neutrino nu_alpha contains kappa_alpha of the heavy Dirac state Psi (Eq. 8), so
|kappa_alpha|^2 is the heavy-neutrino mixing |U_alpha4|^2 of one heavy state; the non-unitarity parameter is
eta_alphaalpha = |U_alpha4|^2 / 2 (N = (1 - eta) U, eta = Theta Theta^dagger / 2). The bounds below are taken on
|U_alpha4|^2 and compared directly with |kappa_alpha|^2 = Re^2 + Im^2 of ``obs["kappa"]`` (gradient-safe at 0).

**Datasets** (option ``dataset``):

* ``paper2016`` — the paper's Eq. (13), 2 sigma: |kappa_e|^2 < 2.5e-3, |kappa_mu|^2 < 4.4e-4, |kappa_tau|^2 < 5.6e-3,
  from Fernandez-Martinez, Hernandez-Garcia, Lopez-Pavon arXiv:1605.08774 as quoted by the paper (OCR reading,
  checked against the paper's Eq. 14 by Cauchy-Schwarz; the source table was not read). "2 sigma" of a chi^2 fit
  means Delta chi^2 = 4 at the bound, i.e. in the convention of :mod:`likelihoods.stats` CL = 0.9545
  (:func:`likelihoods.stats.cl_of_sigma`).
* ``blennow2023`` — [S] 90 % CL lines |U_alpha4|^2 < 2.601e-3 (e), 1.69e-4 (mu), 1.849e-3 (tau) for
  1.777 GeV < m4 < 91.3 GeV (option ``mass_range="below_MZ"``, default) and 2.5e-3, 1.69e-4, 1.225e-3 above M_Z
  (``"above_MZ"``), from github.com/mhostert/Heavy-Neutrino-Limits @ 8bcc0419,
  src/HNLimits/include/data/PMNS_unitarity/PMNS_NU_U{e,m,t}42_90_last.dat.
  **Inference, not read in the paper:** these "_last" files are attributed to Blennow et al. arXiv:2306.01040
  (JHEP 08 (2023) 030) through the compilation's figure captions; the paper's own correlated eta table is not used.
  Equivalent eta bounds (conversion): eta_ee < 1.30e-3, eta_mumu < 8.5e-5, eta_tautau < 9.2e-4.

**Where it holds: M_Psi above m_K.** The fits assume the heavy state is not produced in the decays that enter them;
for M_Psi < m_K it is produced in pi and K decays, where ``psi_peak_searches`` constrains |kappa_e|^2 and
|kappa_mu|^2 instead (review H2). The log-likelihood is multiplied by the gate h(M_Psi) of :mod:`likelihoods._psi`
with threshold m_K (PDG, K+): 0 for M_Psi <= m_K, 1 for M_Psi >= m_K e^w (w = ``psi_switch_width``, default 0.2:
0.60 GeV), smootherstep in ln M_Psi between. ``heavy_psi_only: false`` applies it at every M_Psi (the paper's 2016
treatment; the paper2016 configs). Approximations of the switch: one threshold for the three rows (K -> mu Psi closes
at m_K - m_mu already; tau and D decays can still produce Psi between m_K and m_tau,
where blennow2023 does not claim its below-M_Z line, quoted for m4 > 1.777 GeV); below m_K |kappa_tau|^2 is left
unconstrained (no invisible-N peak search bounds it there).

Approximations: flavours are independent one-sided limits (no correlations). Any limit can be overridden
(``limit_e``, ``limit_mu``, ``limit_tau``, with ``cl``).

**Likelihood:** h(M_Psi) times the sum over flavours of :func:`likelihoods.stats.upper_limit` on |kappa_alpha|^2.
**A point at a quoted limit (M_Psi >= 0.60 GeV) gets -2 Delta ln L = chi2_1(CL): 4.00 at 2 sigma (paper2016), 2.71 at
90 % CL (blennow2023).**
"""

from __future__ import annotations

from typing import ClassVar, Literal


from globalfit.physics.constants import constants
from globalfit.physics.numerics import abs2

from . import register
from ._psi import PsiGateOptions, heavy_psi_gate
from .base import Fraction, Likelihood, PositiveNumber
from .stats import cl_of_sigma, upper_limit

TWO_SIGMA = cl_of_sigma(2.0)  # 0.9545: the CL of a 2 sigma result (Delta chi^2 = 4)
FLAVOURS = ("e", "mu", "tau")
PAPER_2016 = {"e": 2.5e-3, "mu": 4.4e-4, "tau": 5.6e-3}  # arXiv:1607.07616 Eq. 13 (from arXiv:1605.08774), 2 sigma
BLENNOW_2023 = {  # [S] Heavy-Neutrino-Limits PMNS_NU_U*42_90_last.dat, attributed to arXiv:2306.01040, 90 % CL
    "below_MZ": {"e": 2.601e-3, "mu": 1.69e-4, "tau": 1.849e-3},
    "above_MZ": {"e": 2.500e-3, "mu": 1.69e-4, "tau": 1.225e-3},
}


@register
class Unitarity(Likelihood):
    name = "unitarity"
    label = "PMNS unitarity"
    constrains = "|kappa_e|^2, |kappa_mu|^2, |kappa_tau|^2 (PMNS non-unitarity), for M_Psi above m_K"
    reference = "paper2016: arXiv:1607.07616 Eq. 13 / arXiv:1605.08774; blennow2023: arXiv:2306.01040 via Heavy-Neutrino-Limits [S]"
    data_edition = "paper2016 (2 sigma) | blennow2023 (90% CL)"
    requires: ClassVar[tuple[str, ...]] = ("kappa", "M_Psi")

    class Options(PsiGateOptions):
        dataset: Literal["paper2016", "blennow2023"] = "paper2016"
        mass_range: Literal["below_MZ", "above_MZ"] = "below_MZ"
        """blennow2023 only: the bounds for a heavy state below or above M_Z."""
        limit_e: PositiveNumber | None = None
        limit_mu: PositiveNumber | None = None
        limit_tau: PositiveNumber | None = None
        cl: Fraction | None = None
        """CL of the limits (default: the dataset's: 2 sigma one-sided for paper2016, 90 % for blennow2023)."""

    def setup(self):
        o = self.options
        if o.dataset == "paper2016":
            limits, cl = dict(PAPER_2016), TWO_SIGMA
        else:
            limits, cl = dict(BLENNOW_2023[o.mass_range]), 0.9
        for f in FLAVOURS:
            v = getattr(o, f"limit_{f}")
            if v is not None:
                limits[f] = float(v)
        self.limits, self.cl = limits, (o.cl if o.cl is not None else cl)
        self.m_threshold = constants().m_K

    def gate(self, M_Psi):
        """h(M_Psi) of :mod:`likelihoods._psi` (1 with ``heavy_psi_only: false``)."""
        if not self.options.heavy_psi_only:
            return 1.0
        return heavy_psi_gate(M_Psi, self.m_threshold, self.options.psi_switch_width)

    def loglike(self, obs):
        k2 = abs2(obs["kappa"])
        return self.gate(obs["M_Psi"]) * sum(upper_limit(k2[i], self.limits[f], self.cl) for i, f in enumerate(FLAVOURS))
