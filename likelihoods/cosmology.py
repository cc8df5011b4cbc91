"""Cosmological lower bound on M_Zp from Delta N_eff (BBN + CMB), as a smooth one-sided likelihood.

**Data** (option ``dataset``):

* ``sabti2020`` (default): Sabti, Alvey, Escudero, Fairbairn, Blas, JCAP 01 (2020) 004, arXiv:1910.01649 [P, abstract]:
  BBN + Planck require m > 3.7 MeV at 2 sigma for a thermalised neutrinophilic (or electrophilic) species; the
  2021 addendum arXiv:2107.11232 leaves the neutrinophilic bound unchanged.
* ``paper2016``: the paper's own line M_Zp > 5 MeV from Delta N_eff < 0.7 (arXiv:1607.07616, Fig. 5 and its
  Refs. 72, 73). **This 5 MeV is the paper's number** (UNVERIFIED against its references); its CL is not stated,
  it is treated as the 2 sigma point like ``sabti2020``.

**Construction.** With x = ln M_Zp, x_lim = ln(limit) and a width w in ln M (option ``log_width``, default 0.25),
a one-sided Gaussian tail in ln M:
    -2 Delta ln L = ((x0 - x)/w)^2 for x < x0,  0 for x >= x0,   x0 = x_lim + 2 w,
so **a point at M_Zp = limit gets -2 Delta ln L = 4.0 (2 sigma)**, the log-likelihood is 0 for
M_Zp >= limit e^{2w} (6.1 MeV for sabti2020 at w = 0.25) and it is continuously differentiable everywhere (the
square of max(x0 - x, 0)). The width is a modelling choice, not data: the published results are a single 2 sigma
mass, not a chi^2 curve (e.g. at w = 0.25, M_Zp = 2 MeV gets 19.9).

**Approximations:** the Z' is assumed to have been in thermal equilibrium with the neutrinos (true for the
couplings that give observable NSI: inverse decays nu nubar -> Z' equilibrate when Gamma_Zp >~ H(T ~ M_Zp), i.e.
|G| >~ 1e-9 at M_Zp ~ 10 MeV; this condition is not imposed, so the bound also acts at couplings too small to
thermalise); Psi is assumed heavier than a few MeV (the paper's statement) and not counted; the bound is the one for a
vector boson coupled to neutrinos (Sabti et al. give it for a neutrinophilic species; the spin-1 case is
among theirs). Option ``limit`` overrides the mass (GeV).
"""

from __future__ import annotations

import math
from typing import ClassVar, Literal

import jax.numpy as jnp
from pydantic import Field

from . import register
from .base import Likelihood, Options, PositiveNumber

DATASETS = {"sabti2020": 3.7e-3, "paper2016": 5e-3}  # GeV: arXiv:1910.01649 (2 sigma); arXiv:1607.07616 (Delta N_eff < 0.7)
DELTA_CHI2_AT_LIMIT = 4.0  # 2 sigma


@register
class Cosmology(Likelihood):
    name = "cosmology"
    constrains = "M_Zp lower bound (Delta N_eff, thermalised neutrinophilic Z')"
    reference = "sabti2020: arXiv:1910.01649 (M > 3.7 MeV, 2 sigma); paper2016: arXiv:1607.07616 (M_Zp > 5 MeV)"
    data_edition = "sabti2020 | paper2016"
    requires: ClassVar[tuple[str, ...]] = ("M_Zp",)

    class Options(Options):
        dataset: Literal["sabti2020", "paper2016"] = "sabti2020"
        log_width: float = Field(0.25, gt=0, le=2)
        """Width in ln M_Zp of the log-Gaussian edge (a constructed shape; module doc)."""
        limit: PositiveNumber | None = None
        """Override of the 2 sigma lower mass bound (GeV)."""

    def setup(self):
        o = self.options
        self.limit = float(o.limit) if o.limit is not None else DATASETS[o.dataset]
        self.x0 = math.log(self.limit) + math.sqrt(DELTA_CHI2_AT_LIMIT) * o.log_width
        self.m_zero = math.exp(self.x0)

    def loglike(self, obs):
        d = jnp.maximum(self.x0 - jnp.log(obs["M_Zp"]), 0.0) / self.options.log_width
        return -0.5 * d**2
