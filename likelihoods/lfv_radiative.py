"""Radiative charged-LFV decays mu -> e gamma, tau -> e gamma, tau -> mu gamma.

Prediction: Br(l_a -> l_b gamma) from the H^- and W loops (arXiv:1607.07616, Eqs. 16-19;
:mod:`globalfit.physics.lfv`). Data: the PDG 90 % CL upper limits read from the `pdg` database at build time
(PDG S004.4 mu -> e gamma [MEG II], S035.32 tau -> e gamma, S035.31 tau -> mu gamma). The dataset
``paper2016`` uses the limits the paper used: MEG Br(mu->e gamma) < 4.2e-13 (arXiv:1605.05081),
BaBar Br(tau->e gamma) < 3.3e-8 and Br(tau->mu gamma) < 4.4e-8 (arXiv:0908.2381), all 90 % CL.
Any limit can be overridden from the config (``limit_mu_e``, ...).

Likelihood: one-sided upper limits (:func:`likelihoods.stats.upper_limit`); the three are independent
measurements, so their log L add. A point at a quoted limit gets -2 Delta ln L = 2.71 from that decay.
"""

from __future__ import annotations

from typing import ClassVar, Literal

from . import register
from ._pdg import limit_from_options
from .base import Options, PositiveNumber, UpperLimits

PDG_IDS = {"mu_e": "S004.4", "tau_e": "S035.32", "tau_mu": "S035.31"}
PAPER_2016 = {"mu_e": 4.2e-13, "tau_e": 3.3e-8, "tau_mu": 4.4e-8}  # arXiv:1605.05081, arXiv:0908.2381 (90 % CL)


@register
class LfvRadiative(UpperLimits):
    name = "lfv_radiative"
    label = r"$\ell_\alpha \to \ell_\beta \gamma$"
    constrains = "Br(mu->e gamma), Br(tau->e gamma), Br(tau->mu gamma)"
    reference = "PDG 2026 (MEG II, BaBar, Belle); paper2016: arXiv:1605.05081, arXiv:0908.2381"
    data_edition = "PDG 2026 | paper2016"
    requires: ClassVar[tuple[str, ...]] = tuple(f"br_{ch}_gamma" for ch in PDG_IDS)

    class Options(Options):
        dataset: Literal["pdg", "paper2016"] = "pdg"
        limit_mu_e: PositiveNumber | None = None
        limit_tau_e: PositiveNumber | None = None
        limit_tau_mu: PositiveNumber | None = None

    def setup(self):
        self.limits = {}
        for ch, pid in PDG_IDS.items():
            value = getattr(self.options, f"limit_{ch}")
            if value is None and self.options.dataset == "paper2016":
                value = PAPER_2016[ch]
            self.limits[ch] = limit_from_options(pid, value, None)

    def predictions(self, obs):
        return {ch: obs[f"br_{ch}_gamma"] for ch in self.limits}
