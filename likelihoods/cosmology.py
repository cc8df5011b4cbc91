"""Cosmological lower bound on M_Zp from Delta N_eff (BBN + CMB), as a smooth one-sided likelihood.

**Data** (option ``dataset``):

* ``sabti2020`` (default): Sabti, Alvey, Escudero, Fairbairn, Blas, JCAP 01 (2020) 004, arXiv:1910.01649 [P, abstract]:
  BBN + Planck require m > 3.7 MeV at 2 sigma for a thermalised neutrinophilic (or electrophilic) species; the
  2021 addendum arXiv:2107.11232 leaves the neutrinophilic bound unchanged (constraints_data.md §D2).
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

import jax.numpy as jnp

from globalfit.physics.scenarios import Scenario

from . import register

DATASETS = {"sabti2020": 3.7e-3, "paper2016": 5e-3}  # GeV: arXiv:1910.01649 (2 sigma); arXiv:1607.07616 (Delta N_eff < 0.7)
DELTA_CHI2_AT_LIMIT = 4.0  # 2 sigma


@register(
    "cosmology",
    constrains="M_Zp lower bound (Delta N_eff, thermalised neutrinophilic Z')",
    reference="sabti2020: arXiv:1910.01649 (M > 3.7 MeV, 2 sigma); paper2016: arXiv:1607.07616 (M_Zp > 5 MeV)",
    data_edition="sabti2020 | paper2016",
)
def build(scenario: Scenario, dataset: str = "sabti2020", log_width: float = 0.25, limit: float | None = None):
    if dataset not in DATASETS:
        raise ValueError(f"dataset must be one of {sorted(DATASETS)}, got {dataset!r}")
    if not (isinstance(log_width, (int, float)) and 0 < log_width <= 2):
        raise ValueError(f"log_width must be a number in (0, 2] (width in ln M_Zp), got {log_width!r}")
    if limit is not None and not (isinstance(limit, (int, float)) and limit > 0):
        raise ValueError(f"limit must be a mass in GeV > 0, got {limit!r}")
    m_lim = float(limit) if limit is not None else DATASETS[dataset]
    w = float(log_width)
    x0 = math.log(m_lim) + math.sqrt(DELTA_CHI2_AT_LIMIT) * w

    def loglike(obs, p):
        d = jnp.maximum(x0 - jnp.log(p["M_Zp"]), 0.0) / w
        return -0.5 * d**2

    loglike.limit = m_lim
    loglike.m_zero = math.exp(x0)
    return loglike
