"""Oscillation bounds on propagation NSI eps_ab (docs/physics.md §4; arXiv:1607.07616 Eqs. 2-5 and Sec. 3).

**Data records** (all 90 % CL, as quoted by the paper, read from its OCR and checked for consistency in
the paper's OCR text — the source table, Coloma arXiv:1511.06357 [JHEP 03 (2016) 016], was not read):

* ``osc_lma`` — current, LMA solution, "conservative values" of arXiv:1511.06357 (paper Eqs. 2-3):
  |eps_emu| < 0.12, |eps_etau| < 0.18, |eps_mutau| < 0.018,
  -0.11 < eps_ee - eps_tautau < 0.60, -0.04 < eps_mumu - eps_tautau < 0.037.
  **UNVERIFIED sign:** the OCR prints "0.11" without a sign; -0.11 is the default (the paper's Sec. 3 says the
  standard-LMA range contains 0), option ``ee_lower_sign=+1`` gives +0.11 (the literal OCR).
* ``osc_dune_t2hk`` — DUNE+T2HK projection (paper Eqs. 4-5): |eps_emu| < 0.024, |eps_etau| < 0.08,
  |eps_mutau| < 0.012, 0.017 < eps_ee - eps_tautau < 0.43, -0.027 < eps_mumu - eps_tautau < 0.025 (the lower
  0.017 read as printed, equally UNVERIFIED; the paper notes a best fit away from zero for this projection).
* ``osc_lma_dark`` — the LMA-Dark solution (paper Sec. 3: theta_12 > 45 deg with eps^q_ee - eps^q_mumu ~ -1 for NSI
  with q = u or d quarks). In Earth matter with Y_n = 1, eps^Earth = eps^e + 3 eps^u + 3 eps^d (Fig. 5 caption), so
  the quark statement reads eps^Earth_ee - eps^Earth_mumu ~ -3 (and eps^u+eps^d ~ -1 in the "u+d" reading). No
  numerical LMA-D range could be sourced (Gonzalez-Garcia & Maltoni arXiv:1307.3092, Esteban et al.
  arXiv:1805.04530 and Coloma et al. arXiv:2305.07698 were searched for and not read): **APPROXIMATION, constructed here, not data**: a 90 % CL interval -3 +- ``lmad_halfwidth`` (default 0.3,
  i.e. 10 %) on eps_ee - eps_mumu in Earth units (divided by 3 for ``combination="u+d"``). The off-diagonal and
  eps_mumu - eps_tautau bounds of ``osc_lma`` are kept (their LMA-D counterparts were not sourced either).
* ``osc_icecube_mutau`` — IceCube eps_mutau, [P]: DeepCore 3 yr,
  arXiv:1709.07079 (PRD 97, 072009): -0.0067 < eps_mutau < 0.0081 (90 % CL, best fit -0.0005); IceCube 8 yr
  TeV-scale, arXiv:2201.03566 (PRL 129, 011804): -0.0041 <= eps_mutau <= 0.0031 (90 % CL, real axis, "similar
  strength in the complex plane"). **UNVERIFIED normalisation:** which density these eps are defined against was
  not read. Default ``density="d"`` (eps relative to the d-quark density, eps^(d) = eps^Earth n_e/n_d with
  n_d/n_e = 1 + 2 Y_n = 3 for Y_n = 1, option ``n_d_over_n_e``); ``density="e"`` compares eps^Earth directly
  (3x stronger). ``imaginary="same"`` also bounds Im(eps_mutau) by an interval of the same width centred at 0,
  +-(hi - lo)/2 (the 2022 paper's "similar strength in the complex plane"; an approximation), ``"ignore"`` bounds
  only the real part.

**Which combination is constrained** (option ``combination``, docs/physics.md §4): the OCR writes Eqs. 2-5 on
eps^u + eps^d, the caption of the paper's Fig. 5 says its plotted limits are on eps^Earth ~ eps^e + 3eps^u + 3eps^d.
``"earth"`` (default): the model's ``obs["eps_earth"]`` (Eq. 32 with the model's Y_n; for Y_n = 1 and eps^e = 0
this is 3 (eps^u + eps^d), the stronger reading). ``"u+d"``: ``obs["eps_u"] + obs["eps_d"]``. The ambiguity is
unresolved (the paper's OCR text, arXiv:1607.07616).

**Likelihood** (:mod:`likelihoods.stats`): off-diagonals as one-sided limits on the modulus |eps_ab| of the
complex entry, evaluated as -2 Delta ln L = z(0.9)^2 |eps_ab|^2 / L^2 with |eps|^2 = Re^2 + Im^2 (identical to
``upper_limit(|eps|)`` but gradient-safe at eps = 0); **a point at |eps_ab| = L gets 2.71** (the convention of :mod:`likelihoods.stats`). Diagonal differences
(real parts) as two-sided intervals (``interval``): **a point at either end gets 2.71**. Where the range contains
eps = 0, the best fit is taken at eps = 0 (the paper, Sec. 3: apart from LMA-Dark no solution with preferred non-zero
eps exists) and the interval is a bifurcated Gaussian peaked there, so the SM point is the maximum; otherwise (the
+0.11 switch, the DUNE+T2HK eps_ee - eps_tautau range with its best fit away from zero) the Gaussian is centred at
the middle. The terms are added as if independent (the source ranges are one-at-a-time projections; correlations
are not available).
"""

from __future__ import annotations

from typing import ClassVar, Literal

import jax.numpy as jnp
from pydantic import Field

from globalfit.physics.numerics import abs2

from . import register
from .base import Likelihood, Options, PositiveNumber
from .stats import delta_chi2, interval

CL = 0.9

# Paper Eqs. (2)-(3), from Coloma arXiv:1511.06357, 90 % CL (sign of the 0.11 UNVERIFIED, see module doc)
LMA_CURRENT = {"emu": 0.12, "etau": 0.18, "mutau": 0.018, "ee_tt": (0.11, 0.60), "mm_tt": (-0.04, 0.037)}
# Paper Eqs. (4)-(5), DUNE+T2HK projection, 90 % CL
DUNE_T2HK = {"emu": 0.024, "etau": 0.08, "mutau": 0.012, "ee_tt": (0.017, 0.43), "mm_tt": (-0.027, 0.025)}
# LMA-Dark centre in Earth units (Y_n = 1): eps^q_ee - eps^q_mumu = -1 times 3 (paper Sec. 3); constructed interval
LMAD_CENTRE_EARTH = -3.0
# IceCube eps_mutau 90 % CL intervals [P]: arXiv:1709.07079 and arXiv:2201.03566
ICECUBE = {"deepcore2018": (-0.0067, 0.0081), "icecube2022": (-0.0041, 0.0031)}
_OFF = {"emu": (0, 1), "etau": (0, 2), "mutau": (1, 2)}

Combination = Literal["earth", "u+d"]


def eps_matrix(obs, combination: str):
    """The constrained 3x3 complex eps: Earth matter (Eq. 32) or eps^u + eps^d."""
    return obs["eps_earth"] if combination == "earth" else obs["eps_u"] + obs["eps_d"]


def offdiag_upper(eps, limits: dict, cl: float = CL):
    """Sum over e-mu, e-tau, mu-tau of the one-sided limit on |eps_ab| (gradient-safe form of upper_limit)."""
    z2 = delta_chi2(cl)
    return sum(-0.5 * z2 * abs2(eps[i, j]) / limits[ab] ** 2 for ab, (i, j) in _OFF.items())


def diag_differences(eps):
    """(Re(eps_ee - eps_tautau), Re(eps_mumu - eps_tautau), Re(eps_ee - eps_mumu))."""
    d = jnp.real(jnp.diagonal(eps))
    return d[0] - d[2], d[1] - d[2], d[0] - d[1]


def sm_best_fit(lo: float, hi: float) -> float | None:
    """eps = 0 as the best fit when the range contains it (paper Sec. 3: no preferred non-zero eps besides LMA-D)."""
    return 0.0 if lo < 0.0 < hi else None


def lma_record(ee_lower_sign: int = -1) -> dict:
    """The current LMA bounds with the chosen sign of the lower end of eps_ee - eps_tautau."""
    rec = dict(LMA_CURRENT)
    rec["ee_tt"] = (ee_lower_sign * LMA_CURRENT["ee_tt"][0], LMA_CURRENT["ee_tt"][1])
    return rec


class CombinationOptions(Options):
    combination: Combination = "earth"
    """Which eps the bounds constrain: Earth matter eps^e + 3 eps^u + 3 eps^d (Y_n = 1) or eps^u + eps^d."""


class _Record(Likelihood):
    """Oscillation bounds on off-diagonal |eps| and on two diagonal differences, from a record of ranges."""

    requires: ClassVar[tuple[str, ...]] = ("eps_earth", "eps_u", "eps_d")
    record: dict

    def loglike(self, obs):
        eps = eps_matrix(obs, self.options.combination)
        d_ee, d_mm, _ = diag_differences(eps)
        (lo_ee, hi_ee), (lo_mm, hi_mm) = self.record["ee_tt"], self.record["mm_tt"]
        return (
            offdiag_upper(eps, self.record)
            + interval(d_ee, lo_ee, hi_ee, CL, sm_best_fit(lo_ee, hi_ee))
            + interval(d_mm, lo_mm, hi_mm, CL, sm_best_fit(lo_mm, hi_mm))
        )


@register
class OscLMA(_Record):
    name = "osc_lma"
    constrains = "eps_emu, eps_etau, eps_mutau, eps_ee-eps_tautau, eps_mumu-eps_tautau (Earth or u+d)"
    reference = "arXiv:1607.07616 Eqs. 2-3 quoting Coloma arXiv:1511.06357"
    data_edition = "paper2016 (90% CL, LMA)"

    class Options(CombinationOptions):
        ee_lower_sign: Literal[-1, 1] = -1
        """Sign of the lower end 0.11 of eps_ee - eps_tautau (UNVERIFIED; module doc)."""

    def setup(self):
        self.record = lma_record(self.options.ee_lower_sign)


@register
class OscDuneT2HK(_Record):
    name = "osc_dune_t2hk"
    constrains = "eps_emu, eps_etau, eps_mutau, eps_ee-eps_tautau, eps_mumu-eps_tautau (projection)"
    reference = "arXiv:1607.07616 Eqs. 4-5 (DUNE+T2HK projection)"
    data_edition = "projection (90% CL)"
    Options = CombinationOptions

    def setup(self):
        self.record = dict(DUNE_T2HK)


@register
class OscLMADark(Likelihood):
    name = "osc_lma_dark"
    constrains = "eps_ee-eps_mumu near the LMA-Dark solution, plus LMA off-diagonal and mumu-tautau bounds"
    reference = "arXiv:1607.07616 Sec. 3 (LMA-D: eps^q_ee-eps^q_mumu ~ -1); interval constructed here (approximation)"
    data_edition = "paper2016 statement + constructed 90% CL interval"
    requires = ("eps_earth", "eps_u", "eps_d")

    class Options(CombinationOptions):
        lmad_halfwidth: float = Field(0.3, gt=0, lt=3)
        """Half-width of the constructed 90 % CL interval on eps_ee - eps_mumu (Earth units)."""

    def setup(self):
        scale = 1.0 if self.options.combination == "earth" else 1.0 / 3.0
        w = self.options.lmad_halfwidth
        self.interval_ee_mumu = ((LMAD_CENTRE_EARTH - w) * scale, (LMAD_CENTRE_EARTH + w) * scale)

    def loglike(self, obs):
        eps = eps_matrix(obs, self.options.combination)
        _, d_mm, d_em = diag_differences(eps)
        lo_mm, hi_mm = LMA_CURRENT["mm_tt"]
        lo, hi = self.interval_ee_mumu
        return offdiag_upper(eps, LMA_CURRENT) + interval(d_mm, lo_mm, hi_mm, CL) + interval(d_em, lo, hi, CL)


@register
class IceCubeMuTau(Likelihood):
    name = "osc_icecube_mutau"
    constrains = "eps_mutau (Earth matter, normalisation UNVERIFIED)"
    reference = "IceCube arXiv:1709.07079 (DeepCore 3 yr), arXiv:2201.03566 (8 yr TeV)"
    data_edition = "icecube2022 | deepcore2018 (90% CL)"
    requires = ("eps_earth",)

    class Options(Options):
        dataset: Literal["icecube2022", "deepcore2018"] = "icecube2022"
        density: Literal["d", "e"] = "d"
        """eps relative to the d-quark density (default) or to the electron density (module doc)."""
        n_d_over_n_e: PositiveNumber = 3.0
        """n_d / n_e of the Earth (1 + 2 Y_n)."""
        imaginary: Literal["same", "ignore"] = "same"
        """Bound Im(eps_mutau) by an interval of the same width ("same") or not at all."""

    def setup(self):
        self.interval = ICECUBE[self.options.dataset]
        self.norm = 1.0 / self.options.n_d_over_n_e if self.options.density == "d" else 1.0

    def loglike(self, obs):
        lo, hi = self.interval
        e = obs["eps_earth"][1, 2] * self.norm
        ll = interval(jnp.real(e), lo, hi, CL)
        if self.options.imaginary == "same":
            ll = ll + interval(jnp.imag(e), -0.5 * (hi - lo), 0.5 * (hi - lo), CL)
        return ll
