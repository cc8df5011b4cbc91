"""tau -> l_b l_d lbar_d through an on-shell Z' (arXiv:1607.07616 Eqs. 27-28, docs/physics.md §5).

**Prediction** (narrow width, prompt decay): Br(tau -> l_b l_d lbar_d) = Br(tau -> l_b Z') Br(Z' -> l_d lbar_d),
with ``obs["br_tau_{e,mu}_Zp"]`` (Eqs. 23-26) and ``obs["br_Zp_{ee,mumu}"]`` (docs/physics.md §6, all Z' channels in
the width, including nu nubar, Psi and hadrons). Channels: tau -> e e e (l_b = e, l_d = e), tau -> e mu mu,
tau -> mu e e, tau -> mu mu mu. Only scenarios with a tree-level charged-lepton charge apply (B-L, L); in B-3L_tau
the Z' reaches e+e- and mu+mu- only through the tau loop, and in B the final states are l pi0 gamma, l pi pi (pi0).

**Kinematic window** 2 m_d < M_Zp < m_tau - m_b: both factors vanish continuously at its edges (the Z' width has
the threshold factor (1 + 2 m^2/M^2) sqrt(1 - 4 m^2/M^2), the two-body tau width the final-state momentum lambda^(1/2)(m_tau^2, m_b^2, M^2), :mod:`globalfit.physics.lfv`),
so the window is built into the prediction: outside it the log-likelihood is exactly 0 and smooth at the edges,
and no extra gate is applied.

**Data** (option ``dataset``): ``pdg`` (default): PDG 2026 90 % CL limits read at build time, S035.38
(tau- -> e- e+ e-), S035.36 (e- mu+ mu-), S035.37 (mu- e+ e-), S035.35 (mu- mu+ mu-). ``belle2010``: the limits
available to the paper ("O(1e-8)", its Ref. 66), Belle, Hayasaka et al., PLB 687 (2010) 139, arXiv:1001.3221,
90 % CL: 2.7e-8, 2.7e-8, 1.8e-8, 2.1e-8 (read from the PDG 2026 listings S035R58/R56/R57/R55; that Ref. 66 is
this paper is an assumption). Overrides ``limit_eee``, ``limit_emumu``, ``limit_muee``, ``limit_mumumu``.

**Approximations:** prompt Z' decay (the paper calls this "extremely conservative": a long-lived Z' escapes the
displaced-vertex-blind tau -> 3l selection, the rate should then be reduced by the decay probability inside the
detector, not done here); no interference with other tau -> 3l amplitudes; the experimental efficiency for a
resonant l_d lbar_d pair is taken equal to that for the phase-space signal of the search.

**Likelihood:** :func:`likelihoods.stats.upper_limit` per channel, summed. **A point at a quoted limit gets
-2 Delta ln L = 2.71 (90 % CL).**
"""

from __future__ import annotations

from typing import ClassVar, Literal

from . import register
from ._pdg import limit_from_options
from .base import Limit, Options, PositiveNumber, UpperLimits

# channel: (tau decay product l_b, Z' decay pair l_d, PDG id)
CHANNELS = {
    "eee": ("tau_e", "ee", "S035.38"),
    "emumu": ("tau_e", "mumu", "S035.36"),
    "muee": ("tau_mu", "ee", "S035.37"),
    "mumumu": ("tau_mu", "mumu", "S035.35"),
}
BELLE_2010 = {"eee": 2.7e-8, "emumu": 2.7e-8, "muee": 1.8e-8, "mumumu": 2.1e-8}  # PLB 687 (2010) 139, 90 % CL


@register
class TauThreeBody(UpperLimits):
    name = "tau_three_body"
    label = r"$\tau \to 3\ell$"
    constrains = "Br(tau->l_b Z') Br(Z'->l_d l_d) vs tau->3l"
    reference = "arXiv:1607.07616 Eqs. 27-28; PDG 2026 S035.35-38; belle2010: Hayasaka et al. PLB 687 139 (arXiv:1001.3221)"
    data_edition = "PDG 2026 | belle2010"
    needs: ClassVar[tuple[str, ...]] = ("e_or_mu",)
    requires: ClassVar[tuple[str, ...]] = ("br_tau_e_Zp", "br_tau_mu_Zp", "br_Zp_ee", "br_Zp_mumu")

    class Options(Options):
        dataset: Literal["pdg", "belle2010"] = "pdg"
        limit_eee: PositiveNumber | None = None
        limit_emumu: PositiveNumber | None = None
        limit_muee: PositiveNumber | None = None
        limit_mumumu: PositiveNumber | None = None

    def setup(self):
        self.limits = {}
        for ch, (_, _, pid) in CHANNELS.items():
            value = getattr(self.options, f"limit_{ch}")
            if value is None and self.options.dataset == "belle2010":
                self.limits[ch] = Limit(BELLE_2010[ch], 0.9, f"Belle PLB 687 139 (2010), 90% CL, tau- --> {ch}")
            else:
                self.limits[ch] = limit_from_options(pid, value, None)

    def predictions(self, obs):
        return {ch: obs[f"br_{prod}_Zp"] * obs[f"br_Zp_{pair}"] for ch, (prod, pair, _) in CHANNELS.items()}
