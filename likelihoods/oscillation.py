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
  0.017 read as printed, equally UNVERIFIED; the paper notes a best fit away from zero for this projection; option
  ``centre``, below).
* ``osc_lma_dark`` — the LMA-Dark solution (paper Sec. 3: theta_12 > 45 deg with eps^q_ee - eps^q_mumu ~ -1 for NSI
  with q = u or d quarks). In quark units the target is eps^q_ee - eps^q_mumu = -1, in Earth units (Y_n = 1)
  -3. No numerical LMA-D range could be sourced (Gonzalez-Garcia & Maltoni arXiv:1307.3092, Esteban et al.
  arXiv:1805.04530 and Coloma et al. arXiv:2305.07698 were searched for and not read; a further short search in
  2026-12 found only abstracts): **APPROXIMATION, constructed here, not data**: a 90 % CL interval -3 +-
  ``lmad_halfwidth`` (default 0.3, i.e. 10 %) on eps_ee - eps_mumu in Earth units (divided by n_q_over_n_e for
  ``combination="quark"``). The off-diagonal and eps_mumu - eps_tautau bounds of ``osc_lma`` are kept (their LMA-D
  counterparts were not sourced either).
* ``osc_icecube_mutau`` — IceCube eps_mutau, [P]: DeepCore 3 yr,
  arXiv:1709.07079 (PRD 97, 072009): -0.0067 < eps_mutau < 0.0081 (90 % CL, best fit -0.0005); IceCube 8 yr
  TeV-scale, arXiv:2201.03566 (PRL 129, 011804): -0.0041 <= eps_mutau <= 0.0031 (90 % CL, real axis, "similar
  strength in the complex plane"). **UNVERIFIED normalisation:** which density these eps are defined against was
  not read. Default ``density="d"`` (eps relative to the d-quark density, eps^(d) = eps^Earth n_e/n_d with
  n_d/n_e = 1 + 2 Y_n = 3 for Y_n = 1, option ``n_d_over_n_e``); ``density="e"`` compares eps^Earth directly
  (3x stronger). ``imaginary="same"`` also bounds Im(eps_mutau) by an interval of the same width centred at 0,
  +-(hi - lo)/2 (the 2022 paper's "similar strength in the complex plane"; an approximation), ``"ignore"`` bounds
  only the real part.

**Which combination is constrained: the factor-3 question** (option ``combination``, docs/physics.md §4; review H3).
Matter NSI enter oscillations through the potential sqrt(2) G_F sum_f n_f eps^f; in the Earth (Y_n = n_n/n_e ~ 1)
that is sqrt(2) G_F n_e eps^Earth with eps^Earth = eps^e + (2 + Y_n) eps^u + (1 + 2 Y_n) eps^d (Eq. 32, the model's
``obs["eps_earth"]``). Two readings of the ranges of Eqs. 2-5 are offered:

* ``"quark"`` (**default**): the ranges bound a quark-level eps^q (NSI with u or d quarks only, as global fits quote
  them); the model is compared through the quark-equivalent eps^Earth n_e/n_q, i.e. ``obs["eps_earth"] /
  n_q_over_n_e`` with n_q/n_e = 2 + Y_n (u) = 1 + 2 Y_n (d) = 3 for Y_n = 1 (option ``n_q_over_n_e``). In U(1)_B
  (eps^e = 0, eps^u = eps^d) this is eps^u + eps^d, the combination on which the paper's OCR writes Eqs. 2-5; in
  U(1)_{B-L} it is the neutron NSI over 3 (the electron NSI cancels the proton part in neutral matter, which
  eps^u + eps^d alone would miss).
* ``"earth"``: the ranges bound eps^Earth itself (normalised to electrons), the reading of the caption of the paper's
  Fig. 5 ("eps^Earth ~ eps^e + 3 eps^u + 3 eps^d"): 3x stronger. The paper2016 configs use it, to reproduce Fig. 5.

Why ``"quark"`` is the default: the paper's own text writes Eqs. 2-5 on eps^u + eps^d, and the magnitudes
(|eps_mutau| < 0.018, |eps_etau| < 0.18) look like the quark-level ranges of the global fits of the Gonzalez-Garcia -
Maltoni type (the physics review's H3 reading; the source table of arXiv:1511.06357 was not read, so this stays
UNVERIFIED, and every U(1)_B reach contour scales by 3 with this choice). Caveat (review M9): ranges driven by solar
data depend on the Sun's composition (Y_n ~ 0.5 in the core): the Earth's n_q/n_e = 3 is used throughout.

**Where the ranges apply** (``needs``): the ranges come from fits with quark NSI, so osc_lma, osc_dune_t2hk and
osc_lma_dark need a Z' coupling to quarks (U(1)_B, B-L, B-3L_tau). In U(1)_L the NSI are electron NSI, which also
change nu-e elastic detection at SK, SNO and Borexino (not modelled by quark-NSI fits, review M9); no electron-NSI
oscillation range was sourced (memo item 7). ``osc_lma_electron`` offers the paper's own treatment there (its
Eqs. 2-3 applied to eps^Earth = eps^e, Sec. 4), for the paper2016 configs only; it is off in the full U(1)_L config.
``osc_icecube_mutau`` (atmospheric neutrinos through the Earth, detected through CC/NC on nucleons) sees only the
Earth-matter potential and applies everywhere.

**DUNE+T2HK centring** (option ``centre`` of osc_dune_t2hk, review M3): ``"source"`` (default) centres each range
where the projection's source puts it (its eps_ee - eps_tautau range 0.017-0.43 excludes 0: the paper says the
projection includes a prior of current constraints with a best fit away from zero, so the Gaussian sits at the
middle and the SM point gets -2 Delta ln L = 3.17); ``"sm"`` keeps the projected widths but centres every range at
eps = 0 (a sensitivity projection with the SM as the assumed truth): sigma = (hi - lo)/(2 z), z = sqrt(chi2_1(0.9)) = 1.645, mean 0.

**Likelihood** (:mod:`likelihoods.stats`): off-diagonals as one-sided limits on the modulus |eps_ab| of the
complex entry, evaluated as -2 Delta ln L = chi2_1(0.9) |eps_ab|^2 / L^2 with |eps|^2 = Re^2 + Im^2 (identical to
``upper_limit(|eps|)`` but gradient-safe at eps = 0); **a point at |eps_ab| = L gets 2.71** (the convention of :mod:`likelihoods.stats`). Diagonal differences
(real parts) as two-sided intervals (``interval``): **a point at either end gets 2.71**. Where the range contains
eps = 0, the best fit is taken at eps = 0 (the paper, Sec. 3: apart from LMA-Dark no solution with preferred non-zero
eps exists) and the interval is a bifurcated Gaussian peaked there, so the SM point is the maximum; otherwise (the
+0.11 switch, the DUNE+T2HK eps_ee - eps_tautau range with its best fit away from zero) the Gaussian is centred at
the middle (``centre: "sm"`` of osc_dune_t2hk: every range centred at 0). The terms are added as if independent (the source ranges are one-at-a-time projections; correlations
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

Combination = Literal["quark", "earth"]


def eps_matrix(obs, combination: str, n_q_over_n_e: float = 3.0):
    """The constrained 3x3 complex eps: Earth matter eps^Earth (Eq. 32) or its quark-level equivalent eps^Earth/(n_q/n_e)."""
    return obs["eps_earth"] if combination == "earth" else obs["eps_earth"] / n_q_over_n_e


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


def sm_centred(x, lo: float, hi: float, cl: float = CL):
    """The width of the range [lo, hi] centred at eps = 0: Gaussian, sigma = (hi - lo)/(2 z), z = sqrt(chi2_1(cl))."""
    z = delta_chi2(cl) ** 0.5
    return -0.5 * (x * 2.0 * z / (hi - lo)) ** 2


def lma_record(ee_lower_sign: int = -1) -> dict:
    """The current LMA bounds with the chosen sign of the lower end of eps_ee - eps_tautau."""
    rec = dict(LMA_CURRENT)
    rec["ee_tt"] = (ee_lower_sign * LMA_CURRENT["ee_tt"][0], LMA_CURRENT["ee_tt"][1])
    return rec


def config_options(likelihoods: dict) -> dict[str, dict]:
    """{name: options} of the oscillation likelihoods (``osc_*``) among a run config's ``likelihoods``: the reading
    (``combination``, ``n_q_over_n_e``) and intervals the (M_Zp, g_X) figures draw their bounds in."""
    return {name: dict(opts or {}) for name, opts in likelihoods.items() if name.startswith("osc_")}


def scaled_record(record: dict, factor: float) -> dict:
    """Every bound of a record times ``factor`` (quark-level ranges in Earth units: factor n_q/n_e)."""
    return {k: (tuple(factor * x for x in v) if isinstance(v, tuple) else factor * v) for k, v in record.items()}


class CombinationOptions(Options):
    combination: Combination = "quark"
    """Which eps the ranges bound: the quark-level equivalent eps^Earth/(n_q/n_e) (default) or eps^Earth (module doc)."""
    n_q_over_n_e: PositiveNumber = 3.0
    """n_q/n_e of the Earth for the quark reading (2 + Y_n = 1 + 2 Y_n = 3 at Y_n = 1)."""


class _Record(Likelihood):
    """Oscillation bounds on off-diagonal |eps| and on two diagonal differences, from a record of ranges."""

    requires: ClassVar[tuple[str, ...]] = ("eps_earth",)
    needs: ClassVar[tuple[str, ...]] = ("quarks",)
    record: dict
    centre_at_sm: bool = False

    def eps(self, obs):
        return eps_matrix(obs, self.options.combination, self.options.n_q_over_n_e)

    def earth_record(self) -> dict:
        """The record in Earth units (eps^Earth), whatever the reading: what the (M_Zp, g_X) plots compare with."""
        return dict(self.record) if self.options.combination == "earth" else scaled_record(self.record, self.options.n_q_over_n_e)

    def loglike(self, obs):
        eps = self.eps(obs)
        d_ee, d_mm, _ = diag_differences(eps)
        (lo_ee, hi_ee), (lo_mm, hi_mm) = self.record["ee_tt"], self.record["mm_tt"]
        if self.centre_at_sm:
            diag = sm_centred(d_ee, lo_ee, hi_ee) + sm_centred(d_mm, lo_mm, hi_mm)
        else:
            diag = interval(d_ee, lo_ee, hi_ee, CL, sm_best_fit(lo_ee, hi_ee)) + interval(d_mm, lo_mm, hi_mm, CL, sm_best_fit(lo_mm, hi_mm))
        return offdiag_upper(eps, self.record) + diag


@register
class OscLMA(_Record):
    name = "osc_lma"
    label = "oscillations (LMA)"
    constrains = "eps_emu, eps_etau, eps_mutau, eps_ee-eps_tautau, eps_mumu-eps_tautau (quark-level eps^Earth/3 by default, or Earth)"
    reference = "arXiv:1607.07616 Eqs. 2-3 quoting Coloma arXiv:1511.06357"
    data_edition = "paper2016 (90% CL, LMA)"

    class Options(CombinationOptions):
        ee_lower_sign: Literal[-1, 1] = -1
        """Sign of the lower end 0.11 of eps_ee - eps_tautau (UNVERIFIED; module doc)."""

    def setup(self):
        self.record = lma_record(self.options.ee_lower_sign)


@register
class OscLMAElectron(_Record):
    name = "osc_lma_electron"
    label = "oscillations (LMA, electron NSI)"
    constrains = "the paper's LMA ranges applied to electron NSI (U(1)_L, as the paper did; not an electron-NSI fit)"
    reference = "arXiv:1607.07616 Eqs. 2-3 and Sec. 4 quoting Coloma arXiv:1511.06357 (quark-NSI ranges)"
    data_edition = "paper2016 (90% CL, LMA), as the paper applied it to U(1)_L"
    needs: ClassVar[tuple[str, ...]] = ("electrons", "no_quarks")

    class Options(CombinationOptions):
        ee_lower_sign: Literal[-1, 1] = -1
        """Sign of the lower end 0.11 of eps_ee - eps_tautau (UNVERIFIED; module doc)."""

    def setup(self):
        self.record = lma_record(self.options.ee_lower_sign)


@register
class OscDuneT2HK(_Record):
    name = "osc_dune_t2hk"
    label = "DUNE + T2HK (projection)"
    constrains = "eps_emu, eps_etau, eps_mutau, eps_ee-eps_tautau, eps_mumu-eps_tautau (projection; centred as its source or at the SM)"
    reference = "arXiv:1607.07616 Eqs. 4-5 (DUNE+T2HK projection)"
    data_edition = "projection (90% CL)"

    class Options(CombinationOptions):
        centre: Literal["source", "sm"] = "source"
        """Centre the ranges where the projection's source does, or at the SM point eps = 0 (module doc)."""

    def setup(self):
        self.record = dict(DUNE_T2HK)
        self.centre_at_sm = self.options.centre == "sm"


@register
class OscLMADark(Likelihood):
    name = "osc_lma_dark"
    label = "oscillations (LMA-Dark)"
    constrains = "eps_ee-eps_mumu near the LMA-Dark solution, plus LMA off-diagonal and mumu-tautau bounds"
    reference = "arXiv:1607.07616 Sec. 3 (LMA-D: eps^q_ee-eps^q_mumu ~ -1); interval constructed here (approximation)"
    data_edition = "paper2016 statement + constructed 90% CL interval"
    requires = ("eps_earth",)
    needs = ("quarks",)

    class Options(CombinationOptions):
        lmad_halfwidth: float = Field(0.3, gt=0, lt=3)
        """Half-width of the constructed 90 % CL interval on eps_ee - eps_mumu (Earth units)."""

    def setup(self):
        o = self.options
        scale = 1.0 if o.combination == "earth" else 1.0 / o.n_q_over_n_e
        w = o.lmad_halfwidth
        self.interval_ee_mumu = ((LMAD_CENTRE_EARTH - w) * scale, (LMAD_CENTRE_EARTH + w) * scale)

    def earth_record(self) -> dict:
        """The LMA-Dark interval on eps_ee - eps_mumu in Earth units (``ee_mm``), whatever the reading: what the
        (M_Zp, g_X) plots compare with."""
        w = self.options.lmad_halfwidth
        return {"ee_mm": (LMAD_CENTRE_EARTH - w, LMAD_CENTRE_EARTH + w)}

    def loglike(self, obs):
        eps = eps_matrix(obs, self.options.combination, self.options.n_q_over_n_e)
        _, d_mm, d_em = diag_differences(eps)
        lo_mm, hi_mm = LMA_CURRENT["mm_tt"]
        lo, hi = self.interval_ee_mumu
        return offdiag_upper(eps, LMA_CURRENT) + interval(d_mm, lo_mm, hi_mm, CL) + interval(d_em, lo, hi, CL)


@register
class IceCubeMuTau(Likelihood):
    name = "osc_icecube_mutau"
    label = r"IceCube $\varepsilon_{\mu\tau}$"
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
