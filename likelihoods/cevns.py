"""Coherent elastic neutrino-nucleus scattering (CEvNS) with a light Z': COHERENT CsI and LAr, solar 8B in XENONnT
and PandaX-4T; the shared construction of every CEvNS likelihood (the germanium ones are in
:mod:`likelihoods.cevns_germanium`).

**Prediction.** Every rate is computed from the CEvNS cross section of :mod:`globalfit.physics.scattering`
(docs/physics.md §7, Helm form factor) with the q^2-dependent eps^q_ab(q^2) = G_ab g_q / (sqrt2 G_F (q^2 + M_Zp^2)),
q^2 = 2 m_N T, g_u = g_d = g_X b/3 (``g_quark`` of the model), folded with the source spectrum and the **detector
response** eps(T) over the recoil energy T. The likelihoods use the ratio r = R_model/R_SM of flux- and
response-averaged rates (spectral shape within the window is not used, except by the binned Dresden-II likelihood and
the ``analysis: binned`` options of COHERENT LAr and XENONnT, which use the collaborations' binned releases),
times an SM normalisation (the experiment's own, or our absolute prediction where stated). For a light Z' the
response fixes the typical q^2 (tens of MeV squared), so LMA-Dark-size eps(q^2 = 0) is suppressed by
M_Zp^2/(q^2 + M_Zp^2) when M_Zp is small. The response is a constant of the build, so log L stays smooth in the
parameters. **Applies** where the Z' couples to quarks (B, B-L, B-3Ltau).

**SM couplings** (option ``weak_couplings``, review L1). Default ``radiative``: Q_SM(alpha) = Z (g_V^p + delta_alpha) +
N g_V^n with g_V^n = -0.5117, g_V^p = 0.01836 and the neutrino charge-radius corrections delta_e = 0.0196964,
delta_mu = 0.0114381, delta_tau = 0.00706633 (Erler-Su / PDG 2015 values as coded in DukeCEvNS, type 1; [S],
``data/cevns_nucleon_weak_couplings.csv``; g_V^p + delta_mu = 0.0298), the same for antineutrinos. The SM coupling
is flavour dependent, which matters for the interference of an eps_ee with nu_e (reactor nubar_e, delayed SNS nu_e).
``tree``: g_V^p = 1/2 - 2 s_W^2, g_V^n = -1/2 with s_W^2 from ``sin2w_scheme`` (which applies to ``tree`` only).

**Detector responses** (option ``response``; review M1). ``efficiency`` (default) uses the collaborations' released
efficiency curves; ``sharp`` is the former construction (a sharp recoil window, efficiency 1), kept for comparison.

[cevns_coherent_csi] COHERENT CsI[Na] full data set (Akimov et al., PRL 129, 081801 (2022), arXiv:2110.07730):
306 +- 20 CEvNS events observed, SM 341 +- 11 +- 42 [S]. Prediction N = 341 r; Gaussian with variance
20^2 + ((11^2 + 42^2)/341^2) N^2 (the SM uncertainties scale with the prediction). SNS pi-DAR flux (prompt nu_mu,
delayed nu_e and nubar_mu); Cs and I targets in equal numbers. Response: E_ee(T) from the released quenching
polynomial E_ee = 0.0554628 x + 4.30681 x^2 - 111.707 x^3 + 840.384 x^4 (x = T in MeV) [release copy]; the PE signal
is Gamma-distributed with mean 13.35 PE/keVee x E_ee and shape 1 + 9.56 E_ee/keVee [S, Newtrinos coherent_csi.jl];
the released energy efficiency eff_E(PE) = 1.32045/(1 + exp(-0.285979 (PE - 10.8646))) - 0.333322 (clipped at 0)
[release copy] is averaged over the PE window (option ``pe_window``, 5-60 PE); the timing efficiency
eff_T(t) = 1 for t < 0.52 us, exp(-0.0494/us (t - 0.52 us)) after [S, repository unidentified], averaged over the arrival
times of prompt (pi decay) and delayed (mu decay, PDG lifetimes) neutrinos for a Gaussian beam pulse 440 +- 150 ns
(the SNS timing of the LAr release, an approximation for CsI) within 0-6 us [S], weights the prompt and delayed flux.
The timing efficiency and the 6 us window are SECONDARY. ``sharp``: the 5-60 PE window turned into a recoil window
(5.0-45 keVnr), efficiency 1. Our absolute SM count from the release copy and [S] inputs (13.99 GWh, 1 GeV protons,
0.0848 nu/flavour/POT, 19.3 m, 14.6 kg): ``python -m likelihoods.cevns`` (docs/validation.md).

[cevns_coherent_lar] COHERENT CENNS-10 LAr (Akimov et al., PRL 126, 012002 (2021), arXiv:2003.10630): ``analysis:
count`` (default): 159 +- 43 fitted vs SM 128 +- 17 [release copy]. Same construction (N = 128 r, variance 43^2 +
(17/128)^2 N^2). Response: the released Analysis A efficiency vs reconstructed keVee (0-40 keVee, held at its last
value above; the CEvNS template has 0.1 of 128 events there), folded with the released resolution sigma/E =
0.58/sqrt(E/keVee) at E_ee = QF T, QF = 0.246 + 0.00078 T/keVnr [release copy], and the release's time window
(-0.1 to 4.9 us: its time bins are 0.5 us wide around 0.15 ... 4.65 us) with the released beam timing (Gaussian, 440
and 150 ns) for prompt and delayed neutrinos. ``sharp``: the former 20 keVnr threshold (option ``threshold_keVnr``).

``analysis: binned``: the release's own 3D likelihood (data release arXiv:2006.12659; ``cevns_lar2020_templates.csv``,
copied by ``tools/import_lar2020_templates.py``): 3752 observed events in 12 reconstructed-energy x 8 F90 x 10 time
bins against the CEvNS, prompt and delayed beam-related-neutron (BRN) and steady-state templates, Poisson per bin, with
the release's nuisances profiled (:mod:`likelihoods.templates`): the normalisations (CEvNS 17/128, prompt BRN 160/497,
delayed BRN 33/33, steady state 25/3154, the release's prediction errors) and the shape variations (CEvNS F90 +-1 sigma
and timing mean; BRN energy +-1 sigma, timing mean +-1 sigma, timing width). The model scales the CEvNS template bin
by bin: in energy bin i and time bin t the factor is sum_g p_g(i, t) r_g(i) over the timing groups g = prompt (nu_mu)
and delayed (nu_e, nubar_mu), with r_g(i) the model-over-SM rate of group g in energy bin i (our response restricted
to the bin, :class:`LArBinResponse`) and p_g(i, t) the group's share of the SM events there: our SM rate per bin
and group times the group's fraction of arrivals in time bin t (:func:`sns_window_fractions`, the released beam
pulse). The release has no per-flavour templates; this share is our model's, and it reproduces the release's CEvNS
template: its energy spectrum (ours 80.9 / 35.3 / 9.1 / 2.3 events in 0-40 keVee against 78.7 / 37.0 / 9.9 / 2.4) and
its time profile (fractions per 0.5 us bin within 0.005) with the time axis offset by 0.021 us (fitted,
:func:`lar_time_offset`). Flavour-dependent NSI therefore change the spectrum and the prompt/delayed ratio, not only
the count. Energy bins above 60 keVee carry no
CEvNS (the factor is 1 there). Reproduction of the release's fit (free CEvNS scale): 160.4 events, 1 sigma
114.5-212.6, against the published 159 +- 43; background yields 514 prompt BRN (published 553 +- 34; 552 without the
shape nuisances), 10.3 delayed BRN (10 +- 11), 3138 steady state (3131 +- 23); zero CEvNS is disfavoured by
-2 Delta ln L = 14.5 and the SM (128) sits at 0.48. ln L is relative to the best free ratios (every r_g(i) in
[0, 50]), 5.0 below the best uniform scale in -2 ln L. Cost (2 Newton steps, option ``newton_steps``): ~0.3 ms
for value and gradient at one point, ~0.37 ms per point batched, where the rest of full_B costs ~0.01 ms per point
batched (docs/performance.md, "The binned CEvNS likelihoods"); an option, not the default of the full configs.

[cevns_coherent_sns] CsI and LAr together (review L8), the default of the full configs: both counts come from the
same SNS neutrino flux, whose yield per proton each analysis takes with a 10 % error (LAr: 0.09 +- 0.009 nu/flavour/
proton, release copy; CsI: 0.0848 with the prior Normal(0.0848, 0.00848) [S, Newtrinos]; read from the data files).
That error is part of each SM error above (CsI 42 of 341, LAr 17 of 128: 12-13 %, so the rest of each stays
independent); here it is shared: the two Gaussian counts with one flux scale (the exponent of its marginal, i.e. covariance
C_ii = the variance of the single likelihood, C_12 = rho f_1 f_2 N_1 N_2, without its ln det C term, as the single forms;
:func:`likelihoods.stats.shared_scale_gaussian`), with
rho = ``flux_correlation`` (1 by default; 0 gives the two single likelihoods). A config may not list the joint beside
either. ``lar_analysis: binned`` takes LAr's binned release instead of its count: the flux error becomes a nuisance x
of the LAr profile (the CEvNS normalisation (1 + sqrt(rho) 0.10 x + s_own theta), s_own^2 = (17/128)^2 - rho 0.10^2),
and CsI's count enters it as the Gaussian term (d - sqrt(rho) a x)^2 / (W + (1 - rho) a^2), with d, W, a as above. Not correlated: COHERENT Ge (its 10 % systematic is not split into flux and the rest in the abstract).

[cevns_solar_8b] XENONnT and PandaX-4T together (review L8), the default of the full configs: the same SNO NC 8B flux
error (3.8 %, above) normalises the XENONnT signal and both PandaX-4T channels; each count keeps its variance
mu + sigma_b^2 + (0.038 s)^2 (XENONnT's also its yield error, below) and the flux part is shared between the three (rho = ``flux_correlation``). This also
replaces the per-channel flux nuisance of PandaX-4T alone. The effect is small (3.8 % against errors of about half
the fitted signals: 10.6 +- 6.2 and 81 +- 37 events from the counts and backgrounds above).

[cevns_xenonnt_8b] XENONnT solar 8B (Aprile et al., PRL 133, 191002 (2024), arXiv:2408.02877 [P]; official data release
XENONnT/cevns_data_release): ``efficiency`` (default): the rate ratio r (NSI over SM) is folded with the released
detection efficiency vs nuclear-recoil energy per science run (sums of the monoenergetic templates, 0.5-5 keVnr; zero
below 0.5 keVnr, where it is < 1e-4 and falling) and exposures (1.174 and 2.343 t yr). The SM signal s_SM is
XENONnT's own expectation (``normalisation: release``, the default since 2026-12-06): 11.92 events at the SNO flux in
SR0+SR1, the 8B templates of the collaboration's light-dark-matter release, which analyses the same data with the same
selection (Table 1 of arXiv:2409.17868; ``cevns_xenonnt_b8_expectation.csv``, whose header has the provenance and the
flux inference); the 8B paper's abstract agrees: 37 - 26.4 = 10.6 events for its fitted 4.7e6 cm^-2 s^-1 are 11.84
at Phi_SNO. Our absolute folding, s_SM = sum over science runs of exposure x N_Xe/t x Phi_SNO x <sigma eff_sr>
(``normalisation: efficiency``, the default before), gives 9.47: 21 % lower, from the detector response (the release's
own recoil spectrum, 335.6 events per t yr above 0.45 keVnr against our 345.0, folded with the same efficiencies gives
the same deficit). Phi_SNO = 5.25 +- 0.16 +0.11 -0.13 e6 cm^-2 s^-1 (SNO NC, arXiv:1109.0763 [P]; 3.8 %,
symmetrised). Count likelihood (n - mu)^2/(mu + sigma_b^2 + (0.038^2 + f_y^2) s^2), mu = b + s_SM r, with n = 37
and b = 26.4 +- 1.35 (SR0+SR1, abstract). f_y = 0.289 (0.290 with SR2) is the signal's error from the light- and
charge-yield nuisances that XENONnT's fit profiles: the release's templates at tly = +-1 and tqy = +-1
(``cevns_xenonnt_efficiency_yields.csv``, read as standard deviations: the README does not say so) move the expected
SM signal by +25/-22 % and +17/-16 %, symmetrised and added in quadrature (:func:`xenonnt_yield_error`; a physics
audit found it missing on 2026-12-06: the 90 % CL upper bound on r of XENONnT alone moved from 2.37 to ~3.1). Not
correlated with PandaX-4T, whose yield error is not in its abstract (not included there). Like every scaled-variance
term this flattens -2 Delta ln L at ~1/f_y^2 = 12 for r -> infinity (a linear nuisance profiled to signal zero); the
release's templates support the linear form (the signal at tly = -3..3 is 0.39, 0.57, 0.78, 1, 1.25, 1.50, 1.75 of
nominal: linear within ~10 %), which reaches zero signal only beyond the templates' -3 sigma. ``yield_error: false``
restores the flux error alone. Option ``dataset: sr0-sr2`` adds SR2 (arXiv:2604.06002; release: 25 events,
nominal background templates 15.56 events; the SR2 background uncertainty is not released: taken at the SR0+SR1
relative error, an assumption). ``sharp``: the former construction (0.5 keVnr threshold, efficiency 1, s_SM calibrated
as (37 - 26.4) Phi_SNO/4.7e6).

``analysis: binned`` (cevns_xenonnt_8b alone; not inside cevns_solar_8b): XENONnT's own extended binned likelihood of
SR0+SR1 (the cevns data release, ``cevns_xenonnt_b8_binned.csv``, copied by ``tools/import_xenonnt_b8_binned.py``):
37 events in 3 x 3 x 3 x 3 bins per science run (cS2, S2-shadow quantile, S1 and S2 BDT scores) against the
accidental-coincidence, ER, neutron and 8B templates times the livetimes (26.50 background and 11.92 8B events at the
SNO flux), Poisson per bin with the nuisances of the collaboration's statistical model for this data set
(``cevns_xenonnt_b8_nuisances.csv``, from the light-dark-matter release's statistical_model_base.yaml: 8B signal
efficiency 25 % and SNO flux 3.81 % in quadrature, AC 9.04 % / 5.76 % per run, ER 100 % and neutrons 58 % shared by
the runs, and the light and charge yields as shape nuisances of the 8B and neutron templates, +-1 sigma templates)
profiled (:mod:`likelihoods.templates`). The model reweights the 8B template bin by bin through the release's
monoenergetic nuclear-recoil templates (0.5-5.0 keVnr, 0.1 keVnr apart): each is a channel whose rate is our 8B recoil
rate weighted by its linear-interpolation hat in T (:func:`xenon_hat`), and a bin's factor is sum_c p_c r_c with p_c
its SM share w_c mono_c / sum w mono (our SM template reproduces the release's 8B template's bin fractions within
0.009). A light Z' thus changes the 8B signal's distribution over the bins, not only its size. Reproduction of the
paper's fit (free 8B scale): flux 4.62 +3.72 -2.25 e6 cm^-2 s^-1 against 4.7 +3.6 -2.3 e6; background-only rejected at
2.63 sigma (sqrt Delta chi^2) against the paper's 2.73 sigma. ln L is relative to the best free channel ratios (2.5
below the best uniform scale in -2 ln L). One Newton step of the profile by default (option ``newton_steps``): from
the tabulated predictor it is within 4e-7 of two steps in -2 ln L and 1.4e-4 in its gradient on ratio vectors up to
10x the SM (LAr, with more events and shape nuisances, keeps two); cost ~0.03–0.04 ms per point batched more than the count
(docs/performance.md, "The shared basis of the rate stack" and "One Newton step for the binned XENONnT").

[cevns_pandax_8b] PandaX-4T solar 8B (Bo et al., PRL 133, 191001 (2024), arXiv:2407.10892 [P]): paired (threshold
1.1 keVnr) 3 observed vs background 2.8 +- 0.5, best-fit signal 3.5; US2 (0.33 keVnr) 332 vs 251 +- 32, best-fit signal 75;
best-fit flux 8.4e6 [P]. s_SM per channel = best-fit signal x Phi_SNO/8.4e6 (conversion), same count likelihood per channel,
channels added (independent data; the common flux nuisance is treated per channel, an approximation that
cevns_solar_8b removes). Only the
abstract is available (no efficiency curve): the **thresholds stay sharp** (efficiency 1 above them).

The 8B spectrum is the Bahcall et al. (PRC 54, 411 (1996)) best-estimate table [S, two-copy check,
``data/solar_b8_spectrum_bahcall1996.csv``; mean 6.735 MeV]. At Earth the 8B neutrinos are the mass eigenstates
nu_1, nu_2, nu_3 with the adiabatic-MSW probabilities P_i(E) (:func:`globalfit.physics.scattering.solar_mass_fractions`,
PDG mixing and delta_CP, 8B production density 100 N_A cm^-3: approximate solar-core value, **UNVERIFIED**), each a
coherent flavour state U[:, i], so that flavour-changing NSI interfere within it (not a flavour mixture P_ee : ...;
docs/review_status.md R6). The fractions are the Standard-Model ones: the model's NSI in the Sun and the LMA-Dark octant
are left out of the propagation (small at the LMA-Dark target, where the rate depends on P_ee alone, which LMA-Dark
reproduces; :mod:`globalfit.physics.scattering`).

[cevns_cdmslite] is **not provided**: no CDMSlite number could be sourced (UNVERIFIED).

Not used (left out): the binned PE x time likelihood of the CsI release (needs the beam-on/AC window-length ratio,
not in the copy).

For every Gaussian-type term a prediction one combined sigma from the observed value gets -2 Delta ln L = 1.
"""

from __future__ import annotations

import copy
import csv
import dataclasses
import functools
import math
import re
from abc import ABC, abstractmethod
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, ClassVar, Literal

import jax.numpy as jnp
import numpy as np
from pydantic import Field, ValidationError, field_validator, model_validator
from scipy.constants import electron_volt
from scipy.optimize import brentq, minimize_scalar
from scipy.signal import fftconvolve
from scipy.stats import gamma as gamma_dist

from globalfit.physics.constants import constants
from globalfit.physics.numerics import gauss_legendre
from globalfit.physics.rates import cevns_rate_sm
from globalfit.physics.scattering import (
    AMU_GEV,
    GEV2_TO_CM2,
    NUCLEI,
    Component,
    Nucleus,
    grid,
    reactor_component,
    sin2w,
    sns_components,
    solar_components,
    solar_mass_fractions,
)

from . import register
from .base import CountRate, RateOptions, RateTarget, Window
from .stats import poisson_gaussian, shared_scale_gaussian
from .templates import Template, TemplateFit, Variation

DATA = Path(__file__).parent / "data"

CSI = {"observed": (306.0, 20.0), "sm": (341.0, math.hypot(11.0, 42.0))}  # [S] arXiv:2110.07730
LAR = {"observed": (159.0, 43.0), "sm": (128.0, 17.0)}  # [S] arXiv:2003.10630 data release
PHI_SNO, PHI_SNO_REL = 5.25e6, math.hypot(0.16, 0.12) / 5.25  # [P] arXiv:1109.0763
XENONNT = {"n": 37.0, "b": 26.4, "sigma_b": 1.35, "phi_fit": 4.7e6}  # [P] arXiv:2408.02877
XENONNT_WINDOW, XENONNT_N_T = (0.45e-6, 6e-6), 32  # recoil range [GeV] and nodes of the efficiency response
PANDAX = {  # [P] arXiv:2407.10892
    "paired": {"n": 3.0, "b": 2.8, "sigma_b": 0.5, "s_fit": 3.5, "threshold_keVnr": 1.1},
    "US2": {"n": 332.0, "b": 251.0, "sigma_b": 32.0, "s_fit": 75.0, "threshold_keVnr": 0.33},
}
PANDAX_PHI_FIT = 8.4e6
N_E_B8_PRODUCTION = 100.0  # N_A cm^-3, approximate (module doc)
N_AVOGADRO = 6.02214076e23  # SI (exact)
SECONDS_PER_YEAR = 365.25 * 86400.0  # Julian year (exposures in t yr)

# ------------------------------------------------------------------------------------------------------- data files


@functools.lru_cache(maxsize=None)
def read_rows(filename: str) -> tuple[dict[str, str], ...]:
    """The rows of ``data/<filename>`` (leading ``#`` provenance lines skipped; quoted fields allowed)."""
    lines = [ln for ln in (DATA / filename).read_text().splitlines() if not ln.startswith("#")]
    return tuple(csv.DictReader(lines))


def column(filename: str, name: str) -> np.ndarray:
    """A numeric column of a data file."""
    return np.array([float(r[name]) for r in read_rows(filename)])


def lookup(filename: str, key_column: str, key: str, value_column: str = "value") -> str:
    """The value of the row whose ``key_column`` is ``key``."""
    for r in read_rows(filename):
        if r[key_column] == key:
            return r[value_column]
    raise KeyError(f"{filename}: no row with {key_column} = {key!r}")


def _first_number(text: str) -> float:
    return float(text.split()[0].split(";")[0])


# ---------------------------------------------------------------------------------------------------- SM couplings

WEAK_COUPLINGS = ("radiative", "tree")


@functools.lru_cache(maxsize=None)
def nucleon_couplings(kind: str) -> tuple[tuple[float, float], ...] | None:
    """(g_V^p + delta_alpha, g_V^n) for alpha = e, mu, tau (``radiative``, module doc), or None (``tree``)."""
    if kind == "tree":
        return None
    if kind != "radiative":
        raise ValueError(f"weak_couplings must be one of {WEAK_COUPLINGS}, got {kind!r}")
    f = "cevns_nucleon_weak_couplings.csv"
    rows = read_rows(f)
    g_p = next(float(r["value"]) for r in rows if r["quantity"] == "gVp" and r["applies_to"].startswith("2014"))
    g_n = next(float(r["value"]) for r in rows if r["quantity"] == "gVn" and r["applies_to"].startswith("2014"))
    delta = [next(float(r["value"]) for r in rows if r["quantity"] == "delta_gVp" and r["applies_to"] == f"type 1 (Erler) nu_{fl}")
             for fl in ("e", "mu", "tau")]
    return tuple((g_p + d, g_n) for d in delta)


class CevnsOptions(RateOptions):
    """Options every CEvNS likelihood has: the SM couplings."""

    weak_couplings: Literal["radiative", "tree"] = "radiative"
    """SM nucleon couplings: radiatively corrected, flavour dependent (default), or tree level with sin2w_scheme."""

    @model_validator(mode="after")
    def _scheme_needs_tree(self):
        if self.weak_couplings == "radiative" and "sin2w_scheme" in self.model_fields_set:
            raise ValueError("sin2w_scheme applies only with weak_couplings: tree (the radiative couplings fix g_V^p and g_V^n)")
        return self


# ------------------------------------------------------------------------------------------------ detector responses


@dataclass(frozen=True)
class Response(ABC):
    """A detector response: efficiency eps(T) over the nuclear-recoil energy T [GeV] and weights of the source
    components (timing acceptance; 1 by default). Subclasses are frozen (hashable) so targets can be cached."""

    @abstractmethod
    def __call__(self, T):
        """eps(T), numpy, T in GeV."""

    def component_weights(self, n: int) -> tuple[float, ...]:
        """Weights of the n source components (timing acceptance); 1 unless a subclass says otherwise."""
        return (1.0,) * n


@functools.lru_cache(maxsize=None)
def _tabulate(response: "Response", T_lo: float, T_hi: float, n: int = 600) -> tuple[np.ndarray, np.ndarray]:
    """A response computed once on a log grid of n recoil energies [GeV] (interpolated by :func:`_interp`)."""
    T = np.geomspace(T_lo, T_hi, n)
    return T, response.exact(T)


def _interp(response: "Response", T, T_lo: float, T_hi: float):
    Tg, eff = _tabulate(response, T_lo, T_hi)
    return np.interp(np.asarray(T), Tg, eff, left=0.0, right=eff[-1])


@dataclass(frozen=True)
class TabulatedEfficiency(Response):
    """Efficiency tabulated vs nuclear-recoil energy [keVnr], linear interpolation, 0 below the table, held above."""

    T_keVnr: tuple[float, ...]
    eff: tuple[float, ...]

    def __call__(self, T):
        return np.interp(np.asarray(T) * 1e6, self.T_keVnr, self.eff, left=0.0, right=self.eff[-1])


@functools.lru_cache(maxsize=None)
def sns_arrival_densities(pulse_mean_us: float, pulse_sigma_us: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(t [us], prompt, delayed): arrival-time densities (per 2 ns step, unnormalised) of SNS neutrinos, arrival
    t = t_p + t_pi (+ t_mu), t_p Gaussian (beam pulse), t_pi and t_mu exponential with the PDG lifetimes (pi decay:
    prompt; mu decay: delayed)."""
    c = constants()
    tau_pi, tau_mu = c.tau_pi * 1e6, c.tau_mu * 1e6  # us
    dt = 0.002
    t = np.arange(-3.0, 40.0, dt)
    pulse = np.exp(-0.5 * ((t - pulse_mean_us) / pulse_sigma_us) ** 2)
    pulse /= pulse.sum()
    s = np.arange(0.0, 40.0, dt)

    def convolve(p, tau):
        k = np.exp(-s / tau)
        return fftconvolve(p, k / k.sum())[: t.size]

    prompt = convolve(pulse, tau_pi)
    return t, prompt, convolve(prompt, tau_mu)


def sns_timing_acceptance(eff_t: Callable[[np.ndarray], np.ndarray], window_us: tuple[float, float],
                          pulse_mean_us: float, pulse_sigma_us: float) -> tuple[float, float]:
    """Mean timing efficiency of prompt (pi decay) and delayed (mu decay) SNS neutrinos
    (:func:`sns_arrival_densities`), eff_t(t) inside the window [us]."""
    t, prompt, delayed = sns_arrival_densities(pulse_mean_us, pulse_sigma_us)
    inside = (t >= window_us[0]) & (t < window_us[1])
    acc = np.where(inside, eff_t(t), 0.0)
    return float(np.sum(prompt * acc) / prompt.sum()), float(np.sum(delayed * acc) / delayed.sum())


def sns_window_fractions(edges_us: np.ndarray, pulse_mean_us: float, pulse_sigma_us: float,
                         offset_us: float = 0.0) -> np.ndarray:
    """Fractions (bins x 2: prompt, delayed) of SNS neutrinos arriving in time bins with ``edges_us`` on a time axis
    that starts ``offset_us`` before the arrival model's (t_axis = t_arrival + offset): the cumulative distributions of
    :func:`sns_arrival_densities` interpolated at the edges, smooth in the offset."""
    t, prompt, delayed = sns_arrival_densities(pulse_mean_us, pulse_sigma_us)
    x = np.asarray(edges_us, dtype=float) - offset_us
    return np.stack([np.diff(np.interp(x, t, np.cumsum(p) / p.sum())) for p in (prompt, delayed)], axis=1)


def _csi_inputs() -> dict[str, float]:
    f = "cevns_csi2021_inputs_secondary.csv"
    return {q: _first_number(lookup(f, "quantity", q)) for q in
            ("light_yield", "resolution_a", "resolution_b", "timing_eff_a", "timing_eff_b", "distance", "exposure", "sns_nu_per_POT")}


def csi_quenching(row: int = 0) -> tuple[float, float, float, float]:
    """Released CsI quenching polynomial coefficients (E_ee [MeV] in T [MeV], x^1..x^4); row 0 = nominal."""
    r = read_rows("cevns_csi2021_quenching.csv")[row]
    return tuple(float(r[k]) for k in "abcd")


def csi_efficiency_coefficients(row: int = 0) -> tuple[float, float, float, float]:
    r = read_rows("cevns_csi2021_energy_efficiency.csv")[row]
    return tuple(float(r[k]) for k in ("a", "b_per_PE", "c_PE", "d"))


def csi_e_ee_keV(T_GeV):
    """CsI electron-equivalent energy [keVee] of a nuclear recoil T [GeV] (released quenching polynomial)."""
    x = np.asarray(T_GeV) * 1e3
    return sum(c * x ** (k + 1) for k, c in enumerate(csi_quenching())) * 1e3


CSI_TIME_WINDOW_US = (0.0, 6.0)  # [S] (module doc)
SNS_PULSE_US = (0.440, 0.150)  # LAr release: snsPOTTraceTiming mean, width


@dataclass(frozen=True)
class CsIResponse(Response):
    """COHERENT CsI 2021 response (module doc): Gamma PE smearing x released eff_E(PE), PE window; timing weights."""

    pe_window: tuple[float, float] = (5.0, 60.0)

    def __call__(self, T):
        return _interp(self, T, 1e-7, 2e-4)

    def exact(self, T):
        inp = _csi_inputs()
        a, b, c, d = csi_efficiency_coefficients()
        pe = np.arange(self.pe_window[0], self.pe_window[1] + 1e-9, 0.05)
        w = np.full(pe.size, 0.05)
        w[0] = w[-1] = 0.025
        eff_pe = np.clip(a / (1.0 + np.exp(-b * (pe - c))) + d, 0.0, None)
        e_ee = np.maximum(csi_e_ee_keV(np.asarray(T, dtype=float)), 1e-6)
        shape = 1.0 + inp["resolution_b"] * e_ee
        mean = e_ee / inp["resolution_a"]
        dens = gamma_dist.pdf(pe[None, :], shape[:, None], scale=(mean / shape)[:, None])
        return np.sum(dens * eff_pe * w, axis=1).reshape(np.shape(T))

    def component_weights(self, n: int) -> tuple[float, ...]:
        inp = _csi_inputs()
        t0, b = inp["timing_eff_a"], inp["timing_eff_b"]
        prompt, delayed = sns_timing_acceptance(lambda t: np.where(t < t0, 1.0, np.exp(-b * (t - t0))), CSI_TIME_WINDOW_US, *SNS_PULSE_US)
        return (prompt, delayed, delayed)


def _lar_row(name: str, column: str = "value") -> str:
    return lookup("cevns_lar2020_parameters.csv", "parameter", name, column)


def _lar_parameter(name: str) -> float:
    return float(_lar_row(name))



def lar_reconstructed_efficiency(T, lo_keVee: float, hi_keVee: float, n: int) -> np.ndarray:
    """Probability that a recoil T [GeV] is reconstructed in [lo, hi] keVee and accepted: the released efficiency
    vs reconstructed keVee (held at its last value above 40 keVee) times the Gaussian resolution
    sigma = 0.58 sqrt(E/keVee) keVee at E_ee = QF(T) T, QF = 0.246 + 0.00078 T/keVnr (release; module doc),
    integrated over n points (trapezoid)."""
    e_tab = column("cevns_lar2020_efficiency.csv", "E_ee_keVee_bin_centre")
    eff_tab = column("cevns_lar2020_efficiency.csv", "efficiency")
    T_keV = np.asarray(T, dtype=float) * 1e6
    e_true = (_lar_parameter("larQF.a") + _lar_parameter("larQF.b") * T_keV) * T_keV
    sigma = _lar_parameter("energyResolution.a") * np.sqrt(np.maximum(e_true, 1e-6))
    e_rec = np.linspace(lo_keVee, hi_keVee, n)
    eff = np.interp(e_rec, e_tab, eff_tab, left=0.0, right=eff_tab[-1])
    dens = np.exp(-0.5 * ((e_rec[None, :] - e_true[:, None]) / sigma[:, None]) ** 2) / (np.sqrt(2 * np.pi) * sigma[:, None])
    return np.trapezoid(dens * eff, e_rec, axis=1).reshape(np.shape(T))


def lar_pulse_us() -> tuple[float, float]:
    """The SNS beam pulse of the LAr release (snsPOTTraceTiming: Gaussian mean and width) [us]."""
    return _lar_parameter("snsPOTTraceTiming.a") * 1e-3, _lar_parameter("snsPOTTraceTiming.b") * 1e-3


@dataclass(frozen=True)
class LArResponse(Response):
    """COHERENT CENNS-10 Analysis A response (module doc): released efficiency vs reconstructed keVee, Gaussian
    resolution, released QF; prompt/delayed acceptance of the release's time window (-0.1 to 4.9 us)."""

    def __call__(self, T):
        return _interp(self, T, 1e-7, 3e-4)

    def exact(self, T):
        return lar_reconstructed_efficiency(T, 0.0, 150.0, 3001)

    def component_weights(self, n: int) -> tuple[float, ...]:
        t_edges = lar_release_edges()[1]
        prompt, delayed = sns_timing_acceptance(lambda t: np.ones_like(t), (t_edges[0], t_edges[-1]), *lar_pulse_us())
        return (prompt, delayed, delayed)


@dataclass(frozen=True)
class LArBinResponse(Response):
    """The Analysis A response in one reconstructed-energy bin [lo, hi) keVee, for the prompt (pi decay: nu_mu) or
    the delayed (mu decay: nu_e, nubar_mu) neutrinos only (the binned likelihood; module doc)."""

    lo_keVee: float
    hi_keVee: float
    delayed: bool

    def __call__(self, T):
        return _interp(self, T, 1e-7, 3e-4)

    def exact(self, T):
        return lar_reconstructed_efficiency(T, self.lo_keVee, self.hi_keVee, 201)

    def component_weights(self, n: int) -> tuple[float, ...]:
        return (0.0, 1.0, 1.0) if self.delayed else (1.0, 0.0, 0.0)


XENONNT_YIELD_VARIANTS = (("tly_p1", "tly_m1"), ("tqy_p1", "tqy_m1"))  # light yield, charge yield: +1 and -1 sigma


def xenonnt_efficiency(runs: tuple[str, ...], variant: str | None = None) -> TabulatedEfficiency:
    """Exposure-weighted XENONnT detection efficiency vs E_nr of the science runs (release; module doc), at nominal
    light and charge yields or at one of :data:`XENONNT_YIELD_VARIANTS` (``cevns_xenonnt_efficiency_yields.csv``)."""
    f, suffix = ("cevns_xenonnt_efficiency.csv", "") if variant is None else ("cevns_xenonnt_efficiency_yields.csv",
                                                                              f"_{variant}")
    expo = {r["science_run"]: float(r["exposure_t_yr"]) for r in read_rows("cevns_xenonnt_sr_summary.csv")}
    total = sum(expo[r] for r in runs)
    eff = sum(expo[r] * column(f, f"eff_{r}{suffix}") for r in runs) / total
    return TabulatedEfficiency(tuple(column(f, "E_nr_keV")), tuple(eff))


@functools.lru_cache(maxsize=None)
def xenonnt_yield_error(runs: tuple[str, ...], scheme: str, couplings: str = "radiative") -> float:
    """Relative error of the expected XENONnT 8B signal from the light- and charge-yield nuisances (release
    templates at +-1 sigma): sqrt(sum_k ((S_k+ - S_k-) / (2 S_0))^2) over k = light, charge yield, S the SM signal
    with each efficiency (symmetrised; module doc)."""
    def signal(variant):
        return cevns_rate_sm(_grids("b8", ("Xe",), *XENONNT_WINDOW, xenonnt_efficiency(runs, variant), XENONNT_N_T),
                             sin2w(scheme), g_v=nucleon_couplings(couplings))

    s0 = signal(None)
    return math.sqrt(sum(((signal(up) - signal(down)) / (2 * s0)) ** 2 for up, down in XENONNT_YIELD_VARIANTS))


# ---------------------------------------------------------------------------------------------------- rate targets


@functools.lru_cache(maxsize=None)
def b8_table() -> tuple[np.ndarray, np.ndarray]:
    """Bahcall 1996 8B spectrum: E [GeV], pdf [1/GeV] (best estimate)."""
    f = "solar_b8_spectrum_bahcall1996.csv"
    return column(f, "E_nu_MeV") * 1e-3, column(f, "pdf_per_MeV") * 1e3


def b8_pdf_table(E):
    E_tab, pdf = b8_table()
    return np.interp(np.asarray(E), E_tab, pdf, left=0.0, right=0.0)


def _b8_components():
    """8B flux at Earth as the mass eigenstates nu_1, nu_2, nu_3 (module doc): pdf x P_i(E), weights = flux fractions."""
    E_hi = float(b8_table()[0][-1])
    xs, ws = gauss_legendre(400)
    E = 0.5 * E_hi * (xs + 1)
    f = b8_pdf_table(E)
    norm = np.sum(ws * f)
    P = solar_mass_fractions(E, N_E_B8_PRODUCTION)
    parts = []
    for i in range(3):
        pdf = lambda E, i=i: b8_pdf_table(E) * solar_mass_fractions(E, N_E_B8_PRODUCTION)[i]  # noqa: E731
        parts.append((float(np.sum(ws * f * P[i]) / norm), pdf))
    return solar_components(parts, E_lo=0.0, E_hi=E_hi)


def source_components(source: str) -> tuple[Component, ...]:
    """The source components: ``sns`` (pi-DAR), ``b8`` (solar: the mass eigenstates at Earth), ``reactor`` (nubar_e)."""
    if source == "sns":
        return sns_components()
    if source == "b8":
        return _b8_components()
    if source == "reactor":
        return (reactor_component(),)
    raise ValueError(f"unknown source {source!r}")


_N_E = {"sns": 40, "b8": 48, "reactor": 48}


def _grids(source: str, nuclei: tuple[str, ...], T_lo: float, T_hi: float, response: Response | None = None,
           n_T: int = 24) -> tuple[tuple[Nucleus, tuple], ...]:
    """((nucleus, quadrature grids of the source's components), ...) over the recoil window [T_lo, T_hi] (GeV)."""
    comps = source_components(source)
    if response is not None:
        w = response.component_weights(len(comps))
        comps = tuple(dataclasses.replace(c, weight=c.weight * wi) for c, wi in zip(comps, w))
    return tuple((NUCLEI[name], tuple(grid(c, NUCLEI[name].mass, T_lo, T_hi, n_E=_N_E[source], n_T=n_T,
                                           efficiency=response, A_form_factor=NUCLEI[name].A) for c in comps))
                 for name in nuclei)


@functools.lru_cache(maxsize=None)
def _targets(source: str, nuclei: tuple[str, ...], T_lo: float, T_hi: float, scheme: str, couplings: str = "radiative",
             response: Response | None = None, n_T: int = 24) -> tuple[RateTarget, ...]:
    """Rate targets of a source on nuclei over the recoil window [T_lo, T_hi] (GeV), with a detector response."""
    return tuple(RateTarget(grids, sin2w(scheme), nuc, g_v=nucleon_couplings(couplings))
                 for nuc, grids in _grids(source, nuclei, T_lo, T_hi, response, n_T))


def csi_recoil_window(pe_window=(5.0, 60.0)) -> tuple[float, float]:
    """Nuclear-recoil window [GeV] of a CsI PE window (light yield and quenching polynomial, no smearing)."""
    ly = _csi_inputs()["light_yield"]
    return tuple(brentq(lambda x: csi_e_ee_keV(x) * ly - n, 1e-8, 5e-5) for n in pe_window)


def csi_response_window(pe_window=(5.0, 60.0)) -> tuple[float, float]:
    """Recoil range [GeV] where the smeared CsI response can be non-zero (Gamma tails included)."""
    lo, hi = csi_recoil_window(pe_window)
    return 0.3 * lo, min(2.0 * hi, 1.5e-4)


def targets_per_kg(nucleus: str, molar_mass_g: float | None = None, atoms_per_molecule: int = 1) -> float:
    """Number of target nuclei per kg (molar mass of the compound; the nucleus's A by default)."""
    m = NUCLEI[nucleus].A if molar_mass_g is None else molar_mass_g
    return atoms_per_molecule * 1e3 / m * N_AVOGADRO


def gauss_count(N, observed: tuple[float, float], sm: tuple[float, float], extra_var=0.0):
    """-0.5 (n_obs - N)^2 / (sigma_obs^2 + (sigma_SM/N_SM)^2 N^2 + extra): the SM uncertainties scale with the prediction."""
    n, s_obs = observed
    n_sm, s_sm = sm
    var = s_obs**2 + (s_sm / n_sm * N) ** 2 + extra_var
    return -0.5 * (n - N) ** 2 / var


def solar_count(n: float, b: float, sigma_b: float, s, signal_rel: float = 0.0):
    """(n - mu)^2 / (mu + sigma_b^2 + (rel_Phi^2 + signal_rel^2) s^2), mu = b + s, in the poisson_gaussian form
    (signal_rel: the experiment's own relative signal error, e.g. XENONnT's yields)."""
    mu = b + s
    rel = jnp.sqrt(sigma_b**2 + (PHI_SNO_REL**2 + signal_rel**2) * s**2) / jnp.maximum(mu, 1e-12)
    return poisson_gaussian(n, mu, rel)


def solar_count_terms(n: float, b: float, sigma_b: float, s, flux_rel: float, signal_rel: float = 0.0):
    """(n - mu, the variance of :func:`solar_count` less the flux part, the flux part f s), mu = b + s floored as
    there."""
    mu = jnp.maximum(b + s, 1e-12)
    return n - mu, mu + sigma_b**2 + (PHI_SNO_REL**2 - flux_rel**2 + signal_rel**2) * s**2, flux_rel * s


# ------------------------------------------------------------------------------------------------------ likelihoods


class Cevns(CountRate):
    """CEvNS on nuclei: the Z' couples to u and d alike (g_quark)."""

    Options: ClassVar[type[CevnsOptions]] = CevnsOptions
    needs: ClassVar[tuple[str, ...]] = ("quarks",)
    requires: ClassVar[tuple[str, ...]] = ("G", "g_quark", "M_Zp")
    coupling: ClassVar[str] = "g_quark"


class _Coherent(Cevns):
    """A COHERENT count at the SNS: N = N_SM r against the observed count (:func:`gauss_count`)."""

    record: ClassVar[dict]

    def loglike_ratio(self, r, channel):
        return gauss_count(self.record["sm"][0] * r, self.record["observed"], self.record["sm"])

    def count_terms(self, r, channel, flux_rel: float):
        """(n_obs - N, the variance of :func:`gauss_count` less the flux part, the flux part f N) at rate ratio r."""
        N = self.record["sm"][0] * r
        n, s_obs = self.record["observed"]
        return n - N, s_obs**2 + ((self.record["sm"][1] / self.record["sm"][0]) ** 2 - flux_rel**2) * N**2, flux_rel * N


class ResponseOptions(CevnsOptions):
    response: Literal["efficiency", "sharp"] = "efficiency"
    """Detector response: the released efficiency curves (default) or a sharp recoil window with efficiency 1."""


def _only_with_sharp(opts, name: str):
    if opts.response != "sharp" and name in opts.model_fields_set:
        raise ValueError(f"{name} applies only with response: sharp")
    return opts


@register
class CoherentCsI(_Coherent):
    name = "cevns_coherent_csi"
    label = "COHERENT CsI (CEvNS)"
    constrains = "CEvNS rate on CsI at the SNS (COHERENT 2021), light-Z' q^2 dependence"
    reference = "COHERENT, PRL 129 (2022) 081801, arXiv:2110.07730"
    data_edition = "COHERENT CsI full data set (2021); release efficiency and quenching (copy), timing efficiency [S]"
    record = CSI

    class Options(ResponseOptions):
        pe_window: Window = (5.0, 60.0)
        """Analysis window in photoelectrons (1 <= lo < hi <= 200)."""

        @field_validator("pe_window")
        @classmethod
        def _in_range(cls, w):
            if not (1.0 <= w[0] and w[1] <= 200.0):
                raise ValueError(f"expected 1 <= lo < hi <= 200 photoelectrons, got {tuple(w)}")
            return w

    def setup(self):
        o = self.options
        if o.response == "sharp":
            self.recoil_window = csi_recoil_window(o.pe_window)
            self.single(_targets("sns", ("Cs", "I"), *self.recoil_window, o.sin2w_scheme, o.weak_couplings))
        else:
            self.recoil_window = csi_response_window(o.pe_window)
            self.single(_targets("sns", ("Cs", "I"), *self.recoil_window, o.sin2w_scheme, o.weak_couplings,
                                 CsIResponse(tuple(o.pe_window)), n_T=32))

    def sm_count(self) -> float:
        """Our absolute SM count (module doc): N_CsI x POT x nu/POT/flavour / (4 pi L^2) x <sigma eff>."""
        inp = _csi_inputs()
        pot = inp["exposure"] * 3.6e12 / (1.0 * 1e9 * electron_volt)  # GWh / (1 GeV per proton)
        flux = pot * inp["sns_nu_per_POT"] / (4 * math.pi * (inp["distance"] * 100.0) ** 2)
        n_mol = 14.6 * 1e3 / (NUCLEI["Cs"].A + NUCLEI["I"].A) * N_AVOGADRO  # CsI molecules in 14.6 kg
        return n_mol * flux * self.rate_sm() * GEV2_TO_CM2


# ------------------------------------------------------------------------------------ LAr: the binned release

LAR_TEMPLATES = "cevns_lar2020_templates.csv"
# Newton steps of the profile over the nuisances: one leaves the LAr chi2 0.02-0.08 off, two do not (docs/performance.md,
# "One Newton step for the binned XENONnT"); XENONnT's one step is within 4e-7 of converged
LAR_NEWTON_STEPS = 2
MIN_CHANNEL_SHARE = 1e-6  # a channel of a binned likelihood with a smaller share of the SM events is left out


def kept_channels(found: dict) -> tuple[list, dict]:
    """(the keys of the channels kept, their SM rates) of a binned likelihood's {channel: rate targets}: those with
    at least MIN_CHANNEL_SHARE of the SM rate."""
    sm = {key: sum(t.sm for t in ts) for key, ts in found.items()}
    return [key for key in found if sm[key] >= MIN_CHANNEL_SHARE * sum(sm.values())], sm
LAR_GROUPS = ("prompt", "delayed")  # timing groups of the SNS neutrinos: pi decay (nu_mu), mu decay (nu_e, nubar_mu)


@functools.lru_cache(maxsize=None)
def lar_release() -> dict[str, np.ndarray]:
    """The columns of the LAr Analysis A release (``cevns_lar2020_templates.csv``), one entry per bin."""
    return {k: column(LAR_TEMPLATES, k) for k in read_rows(LAR_TEMPLATES)[0]}


def _edges(centres: np.ndarray) -> np.ndarray:
    c = np.unique(centres)
    h = c[1] - c[0]
    return np.append(c - 0.5 * h, c[-1] + 0.5 * h)


def lar_release_edges() -> tuple[np.ndarray, np.ndarray]:
    """Edges of the release's reconstructed-energy bins [keVee] and time bins [us] (from the bin centres)."""
    rel = lar_release()
    return _edges(rel["E_keVee"]), _edges(rel["t_us"])


def lar_index(name: str) -> np.ndarray:
    """Index of each bin's energy (``E_keVee``) or time (``t_us``) bin."""
    return np.searchsorted(np.unique(lar_release()[name]), lar_release()[name])


def lar_templates(signal_norm_error: float) -> tuple[Template, ...]:
    """The release's templates with their normalisation errors (prediction normalisations of the release: CEvNS
    128 +- 17 (``signal_norm_error``: the part not carried by a shared ``flux`` nuisance), prompt BRN 497 +- 160,
    delayed BRN 33 +- 33, steady state 3154 +- 25) and shape variations (CEvNS: F90 +-1 sigma, timing mean; prompt
    BRN: energy +-1 sigma, timing mean +-1 sigma, timing width)."""
    rel, rel_error = lar_release(), lar_prediction_error
    return (
        Template("cevns", rel["cevns"], signal_norm_error, True,
                 (Variation("f90", rel["cevns_f90_p1"], rel["cevns_f90_m1"]), Variation("timing_mean", rel["cevns_timing_mean"]))),
        Template("brn", rel["brn"], rel_error("promptBeamRelatedNeutron"), False,
                 (Variation("energy", rel["brn_energy_p1"], rel["brn_energy_m1"]),
                  Variation("timing_mean", rel["brn_timing_mean_p1"], rel["brn_timing_mean_m1"]),
                  Variation("timing_width", rel["brn_timing_width"]))),
        Template("delayed_brn", rel["delayed_brn"], rel_error("delayedBeamRelatedNeutron")),
        Template("steady_state", rel["steady_state"], rel_error("ssBackground")),
    )


def lar_prediction_error(name: str = "cevns") -> float:
    """Relative error of one of the release's prediction normalisations: ``cevns`` 17/128, ``promptBeamRelatedNeutron``
    160/497, ``delayedBeamRelatedNeutron`` 33/33, ``ssBackground`` 25/3154."""
    row = f"{name}PredictionNormalization"
    return float(_lar_row(row, "uncertainty")) / float(_lar_row(row))


def lar_time_offset(sm_rates: np.ndarray) -> float:
    """Offset [us] of the release's time axis against our arrival-time model (:func:`sns_window_fractions`), fitted
    to the release's CEvNS template summed over F90: the SM rates per energy bin and timing group (``sm_rates``,
    energy bins x 2) times the groups' time-bin fractions, normalised to the template, least squares weighted by
    1/max(template, 0.01) over the energy bins with signal."""
    rel = lar_release()
    E_edges, t_edges = lar_release_edges()
    tmpl = np.zeros((E_edges.size - 1, t_edges.size - 1))
    np.add.at(tmpl, (lar_index("E_keVee"), lar_index("t_us")), rel["cevns"])
    rows = sm_rates.sum(axis=1) > 0

    def misfit(offset):
        m = sm_rates[rows] @ sns_window_fractions(t_edges, *lar_pulse_us(), offset).T
        m *= tmpl[rows].sum() / m.sum()
        return float(np.sum((m - tmpl[rows]) ** 2 / np.maximum(tmpl[rows], 0.01)))

    return float(minimize_scalar(misfit, bounds=(-0.5, 0.5), method="bounded", options={"xatol": 1e-6}).x)


def lar_factor_map(sm_rates: np.ndarray, channels: list[tuple[int, int]], offset_us: float) -> np.ndarray:
    """P (bins x channels): the share of a bin's SM CEvNS events that each channel (energy bin i, timing group g)
    gives, R_ig a_g(t) / sum_g' R_ig' a_g'(t), with a_g the time-bin fractions at the fitted offset; 0 where the
    energy bin has no channel."""
    _, t_edges = lar_release_edges()
    a = sns_window_fractions(t_edges, *lar_pulse_us(), offset_us)  # (t bins, 2)
    iE, it = lar_index("E_keVee"), lar_index("t_us")
    share = sm_rates[iE] * a[it]  # (bins, 2)
    total = share.sum(axis=1, keepdims=True)
    share = np.divide(share, total, out=np.zeros_like(share), where=total > 0)
    P = np.zeros((iE.size, len(channels)))
    for c, (i, g) in enumerate(channels):
        P[:, c] = np.where(iE == i, share[:, g], 0.0)
    return P


class LArBinned:
    """The binned LAr likelihood of the module doc: channels (energy bin, timing group) with their rate targets,
    the fitted time offset and the :class:`likelihoods.templates.TemplateFit`; ``flux``: the relative SNS flux error
    carried by a shared nuisance ``flux`` (the joint with CsI), None for the single likelihood."""

    def __init__(self, scheme: str, couplings: str, flux: float | None = None, newton_steps: int = LAR_NEWTON_STEPS):
        E_edges, _ = lar_release_edges()
        found = {}  # (energy bin, group) -> targets, for every group whose recoils reach an energy bin with signal
        for i in np.unique(lar_index("E_keVee")[lar_release()["cevns"] > 0]):
            for g in range(len(LAR_GROUPS)):
                try:
                    found[int(i), g] = _targets("sns", ("Ar",), 1.0e-6, np.inf, scheme, couplings,
                                                LArBinResponse(float(E_edges[i]), float(E_edges[i + 1]), g == 1), n_T=48)
                except ValueError:  # no node of the quadrature has weight
                    continue
        channels, sm = kept_channels(found)
        self.targets: dict[str, tuple[RateTarget, ...]] = {
            f"E{E_edges[i]:g}-{E_edges[i + 1]:g}keVee:{LAR_GROUPS[g]}": found[i, g] for i, g in channels}
        self.sm_rates = np.zeros((E_edges.size - 1, len(LAR_GROUPS)))
        for key in channels:
            self.sm_rates[key] = sm[key]
        self.time_offset_us = lar_time_offset(self.sm_rates)
        total = lar_prediction_error()
        shared = None if flux is None else {"flux": {"cevns": flux}}
        own = total if flux is None else math.sqrt(total**2 - flux**2)
        self.fit = TemplateFit(lar_release()["data"], lar_templates(own),
                               lar_factor_map(self.sm_rates, channels, self.time_offset_us), shared, newton_steps)
        self.fit.calibrate(5.0)

    def sm_template(self) -> tuple[np.ndarray, np.ndarray]:
        """(the release's CEvNS template, ours) summed over F90, energy x time bins: ours is our SM rate per energy
        bin and group times the groups' time-bin fractions at the fitted offset, normalised to the release's total."""
        E_edges, t_edges = lar_release_edges()
        tmpl = np.zeros((E_edges.size - 1, t_edges.size - 1))
        np.add.at(tmpl, (lar_index("E_keVee"), lar_index("t_us")), lar_release()["cevns"])
        ours = self.sm_rates @ sns_window_fractions(t_edges, *lar_pulse_us(), self.time_offset_us).T
        return tmpl, ours * tmpl.sum() / ours.sum()


def lar_binned(scheme: str, couplings: str, flux: float | None = None,
               newton_steps: int = LAR_NEWTON_STEPS) -> LArBinned:
    """The :class:`LArBinned` of these choices, built once per process (whichever arguments are left at their
    defaults); another number of Newton steps shares the default's tables and calibration."""
    return _with_newton_steps(_lar_binned(scheme, couplings, flux), newton_steps)


@functools.lru_cache(maxsize=None)
def _lar_binned(scheme: str, couplings: str, flux: float | None) -> LArBinned:
    return LArBinned(scheme, couplings, flux)


def _with_newton_steps(binned, newton_steps: int):
    """A binned likelihood (:class:`LArBinned`, :class:`XenonBinned`) whose profile takes ``newton_steps`` Newton
    steps, its tables and calibration shared with ``binned``."""
    if newton_steps == binned.fit.newton_steps:
        return binned
    other = copy.copy(binned)
    other.fit = binned.fit.with_newton_steps(newton_steps)
    return other


@register
class CoherentLAr(_Coherent):
    name = "cevns_coherent_lar"
    label = "COHERENT LAr (CEvNS)"
    constrains = "CEvNS rate on argon at the SNS (COHERENT CENNS-10), light-Z' q^2 dependence"
    reference = "COHERENT, PRL 126 (2021) 012002, arXiv:2003.10630"
    data_edition = "COHERENT LAr 2020 (Analysis A); release efficiency, QF, resolution, timing, binned data and templates (copy)"
    record = LAR

    class Options(ResponseOptions):
        threshold_keVnr: float = 20.0
        """Nuclear-recoil threshold (keV) of the sharp response, in (0, 100)."""
        analysis: Literal["count", "binned"] = "count"
        """``count``: the fitted CEvNS count against N = 128 r; ``binned``: the release's energy x F90 x time data and
        templates, Poisson, the release's nuisances profiled (module doc)."""
        newton_steps: int = Field(LAR_NEWTON_STEPS, ge=1, le=10)
        """Newton steps of the binned likelihood's profile over the nuisances (``analysis: binned`` only)."""

        @field_validator("threshold_keVnr")
        @classmethod
        def _in_range(cls, v):
            if not 0 < v < 100:
                raise ValueError(f"expected a threshold in (0, 100) keVnr, got {v}")
            return v

        @model_validator(mode="after")
        def _sharp_only(self):
            if self.analysis != "binned" and "newton_steps" in self.model_fields_set:
                raise ValueError("newton_steps applies only with analysis: binned")
            if self.analysis == "binned" and self.response == "sharp":
                raise ValueError("analysis: binned needs response: efficiency (the release's templates are binned in "
                                 "reconstructed energy)")
            return _only_with_sharp(self, "threshold_keVnr")

    def setup(self):
        o = self.options
        self.binned = None
        if o.analysis == "binned":
            self.binned = lar_binned(o.sin2w_scheme, o.weak_couplings, None, o.newton_steps)
            self.channels = dict(self.binned.targets)
        elif o.response == "sharp":
            self.single(_targets("sns", ("Ar",), o.threshold_keVnr * 1e-6, np.inf, o.sin2w_scheme, o.weak_couplings))
        else:
            self.single(_targets("sns", ("Ar",), 1.0e-6, np.inf, o.sin2w_scheme, o.weak_couplings, LArResponse(), n_T=32))

    def ratios(self, obs) -> jnp.ndarray:
        """The rate ratios of every channel (binned: energy bin x timing group), in channel order."""
        return jnp.stack([self.ratio(obs, c) for c in self.channels])

    def loglike(self, obs):
        if self.binned is None:
            return super().loglike(obs)
        return self.binned.fit.loglike(self.ratios(obs))

    def loglike_ratio(self, r, channel):
        if self.binned is not None:
            raise ValueError("cevns_coherent_lar: the binned analysis has no likelihood per channel (the bins share "
                             "nuisances)")
        return super().loglike_ratio(r, channel)

    def count_terms(self, r, channel, flux_rel: float):
        if self.binned is not None:
            raise ValueError("cevns_coherent_lar: the binned analysis is no single count")
        return super().count_terms(r, channel, flux_rel)

    def sm_count(self) -> float:
        """Our absolute SM count from the release parameters (exposure, distance, mass, nu/POT/flavour); binned: the
        sum over the channels (the energy bins with signal)."""
        flux = _lar_parameter("beamExposure") * 1e22 * _lar_parameter("neutrinosPerProton") / (
            4 * math.pi * (_lar_parameter("distanceToTarget") * 100.0) ** 2)
        rate = sum(self.rate_sm(c) for c in self.channels)
        return _lar_parameter("fiducialMass") * targets_per_kg("Ar") * flux * rate * GEV2_TO_CM2


def sns_flux_uncertainties() -> dict[str, float]:
    """Relative 1-sigma uncertainty of the SNS neutrino yield (nu per flavour per proton) in each COHERENT analysis:
    LAr 0.09 +- 0.009 (release YAML copy), CsI 0.0848 with the prior Normal(0.0848, 0.00848) of Newtrinos [S]."""
    lar = read_rows("cevns_lar2020_parameters.csv")
    lar_row = next(r for r in lar if r["parameter"] == "neutrinosPerProton")
    source = lookup("cevns_csi2021_inputs_secondary.csv", "quantity", "sns_nu_per_POT", "source")
    mean, sd = (float(x) for x in re.search(r"Normal\(([0-9.eE+-]+), ([0-9.eE+-]+)\)", source).groups())
    return {"cevns_coherent_csi": sd / mean, "cevns_coherent_lar": float(lar_row["uncertainty"]) / float(lar_row["value"])}


XENONNT_DATASETS = {"sr0-sr1": ("sr0", "sr1"), "sr0-sr2": ("sr0", "sr1", "sr2")}


def xenonnt_counts(dataset: str) -> tuple[float, float, float]:
    """(n, b, sigma_b): SR0+SR1 from the abstract; with SR2, its release count and nominal background added and the
    SR0+SR1 relative background error applied to the total (module doc)."""
    runs = XENONNT_DATASETS[dataset]
    n, b, sb = XENONNT["n"], XENONNT["b"], XENONNT["sigma_b"]
    for r in read_rows("cevns_xenonnt_sr_summary.csv"):
        if r["science_run"] in runs and r["science_run"] not in ("sr0", "sr1"):
            n += float(r["n_events"])
            b += sum(float(r[k]) for k in ("bkg_ac_events", "bkg_er_events", "bkg_neutron_events"))
    return n, b, b * sb / XENONNT["b"]


def xenonnt_expected_sm(runs: tuple[str, ...]) -> float:
    """XENONnT's own expected SM 8B CEvNS events over the science runs at the SNO flux (the collaboration's templates;
    ``cevns_xenonnt_b8_expectation.csv``, SR0 and SR1 only)."""
    expected = {r["science_run"]: float(r["expected_events"]) for r in read_rows("cevns_xenonnt_b8_expectation.csv")}
    return sum(expected[r] for r in runs)


# ------------------------------------------------------------------------- XENONnT 8B: the binned release

XENON_BINNED = "cevns_xenonnt_b8_binned.csv"
XENON_NUISANCES = "cevns_xenonnt_b8_nuisances.csv"
XENON_RUNS = ("sr0", "sr1")
XENON_NEWTON_STEPS = 1
XENON_YIELDS = ("tly", "tqy")  # light and charge yield: shape nuisances of the 8B and neutron templates


@functools.lru_cache(maxsize=None)
def xenon_release() -> dict[str, np.ndarray]:
    """The columns of ``cevns_xenonnt_b8_binned.csv`` (SR0 then SR1, 81 bins each); ``science_run`` as strings."""
    rows = read_rows(XENON_BINNED)
    return {k: (np.array([r[k] for r in rows]) if k == "science_run" else np.array([float(r[k]) for r in rows]))
            for k in rows[0]}


def xenon_mono_kevnr() -> np.ndarray:
    """Energies [keVnr] of the release's monoenergetic nuclear-recoil templates."""
    return np.array([float(k.removeprefix("mono_")) for k in xenon_release() if k.startswith("mono_")])


def xenon_nuisance(parameter: str, column: str = "uncertainty") -> float:
    return float(lookup(XENON_NUISANCES, "parameter", parameter, column))


def xenon_templates() -> tuple[Template, ...]:
    """The release's templates times the livetimes, per science run, with the statistical model's nuisances (module
    doc): 8B (its normalisation error: signal efficiency and SNO flux in quadrature, shared by the runs), AC per run,
    ER and neutron (shared), the light and charge yields (shape, shared by the 8B and neutron templates)."""
    rel = xenon_release()
    out = []
    for run in XENON_RUNS:
        w = np.where(rel["science_run"] == run, xenon_nuisance(f"livetime_{run}", "value"), 0.0)

        def yields(name):
            return tuple(Variation(y, w * rel[f"{name}_{y}_p1"], w * rel[f"{name}_{y}_m1"], nuisance=y) for y in XENON_YIELDS)

        out += [Template(f"b8_{run}", w * rel["b8"], 0.0, True, yields("b8")),
                Template(f"ac_{run}", w * rel["ac"], xenon_nuisance(f"ac_{run}_rate_multiplier")),
                Template(f"er_{run}", w * rel["er"]),
                Template(f"nr_{run}", w * rel["nr"], 0.0, False, yields("nr"))]
    return tuple(out)


def xenon_shared() -> dict[str, dict[str, float]]:
    """The normalisation nuisances that the science runs share: 8B (signal efficiency and SNO flux in quadrature), ER,
    neutrons."""
    b8 = math.hypot(xenon_nuisance("signal_efficiency"), xenon_nuisance("b8_rate_multiplier"))
    return {"b8": {f"b8_{r}": b8 for r in XENON_RUNS}, "er": {f"er_{r}": xenon_nuisance("er_rate_multiplier") for r in XENON_RUNS},
            "nr": {f"nr_{r}": xenon_nuisance("nr_rate_multiplier") for r in XENON_RUNS}}


def xenon_factor_map(sm_rates: np.ndarray, channels: list[int]) -> np.ndarray:
    """P (bins x channels): the share of a bin's SM 8B events from each monoenergetic template (channel c at energy
    E_c, our SM rate w_c of the recoils it represents), w_c mono_c,k / sum_c' w_c' mono_c',k; 0 where the sum is 0."""
    rel = xenon_release()
    mono = np.stack([rel[f"mono_{E:.3f}"] for E in xenon_mono_kevnr()], axis=1)  # (bins, energies)
    share = mono[:, channels] * sm_rates[channels][None, :]
    total = share.sum(axis=1, keepdims=True)
    return np.divide(share, total, out=np.zeros_like(share), where=total > 0)


def xenon_hat(E: np.ndarray, c: int) -> TabulatedEfficiency:
    """The weight of monoenergetic template c at recoil energy T: linear interpolation between the templates' energies
    E (1 at E_c, 0 at its neighbours; 0 below the first energy, as the efficiency response, and held at 1 above the
    last)."""
    T, w = [E[c]], [1.0]
    if c > 0:
        T, w = [E[c - 1], *T], [0.0, *w]
    if c + 1 < E.size:
        T, w = [*T, E[c + 1]], [*w, 0.0]
    return TabulatedEfficiency(tuple(float(x) for x in T), tuple(w))


class XenonBinned:
    """The binned XENONnT 8B likelihood of the module doc: one channel per monoenergetic template (a recoil-energy
    hat function around its energy), their rate targets, the factor map and the :class:`TemplateFit`."""

    def __init__(self, scheme: str, couplings: str, newton_steps: int = XENON_NEWTON_STEPS):
        E = xenon_mono_kevnr()
        found = {}
        for c in range(E.size):
            T_lo = E[c - 1] if c > 0 else E[c]
            T_hi = E[c + 1] if c + 1 < E.size else XENONNT_WINDOW[1] * 1e6
            try:
                found[c] = _targets("b8", ("Xe",), T_lo * 1e-6, T_hi * 1e-6, scheme, couplings, xenon_hat(E, c), n_T=16)
            except ValueError:  # no 8B recoil reaches this energy
                continue
        channels, sm = kept_channels(found)
        self.targets = {f"{E[c]:.1f}keVnr": found[c] for c in channels}
        self.sm_rates = np.zeros(E.size)
        for c in channels:
            self.sm_rates[c] = sm[c]
        self.fit = TemplateFit(xenon_release()["data"], xenon_templates(), xenon_factor_map(self.sm_rates, channels),
                               xenon_shared(), newton_steps)
        self.fit.calibrate(10.0)

    def sm_template(self) -> dict[str, tuple[np.ndarray, np.ndarray]]:
        """Per science run, (the release's 8B template, ours) as fractions of the run's events per bin: ours is the
        monoenergetic templates weighted by our SM recoil rates."""
        rel = xenon_release()
        ours = np.stack([rel[f"mono_{E:.3f}"] for E in xenon_mono_kevnr()], axis=1) @ self.sm_rates
        out = {}
        for run in XENON_RUNS:
            k = rel["science_run"] == run
            out[run] = rel["b8"][k] / rel["b8"][k].sum(), ours[k] / ours[k].sum()
        return out


def xenon_binned(scheme: str, couplings: str, newton_steps: int = XENON_NEWTON_STEPS) -> XenonBinned:
    """The :class:`XenonBinned` of these choices, built once per process (whichever arguments are left at their
    defaults); another number of Newton steps shares the default's tables and calibration."""
    return _with_newton_steps(_xenon_binned(scheme, couplings), newton_steps)


@functools.lru_cache(maxsize=None)
def _xenon_binned(scheme: str, couplings: str) -> XenonBinned:
    return XenonBinned(scheme, couplings)


@register
class XenonNT8B(Cevns):
    name = "cevns_xenonnt_8b"
    label = "XENONnT $^8$B (CEvNS)"
    constrains = "solar 8B CEvNS on xenon (XENONnT), light-Z' q^2 dependence"
    reference = "XENONnT, PRL 133 (2024) 191002, arXiv:2408.02877; data release XENONnT/cevns_data_release; SNO arXiv:1109.0763"
    data_edition = "XENONnT 2024 (3.51 t yr), official release efficiency"

    class Options(ResponseOptions):
        threshold_keVnr: float = 0.5
        """Nuclear-recoil threshold (keV) of the sharp response, in (0, 5)."""
        dataset: Literal["sr0-sr1", "sr0-sr2"] = "sr0-sr1"
        """Science runs: SR0+SR1 (PRL 133, 191002) or with SR2 (release; SR2 background error assumed, module doc)."""
        yield_error: bool = True
        """Include the signal error from the light- and charge-yield nuisances (release templates at +-1 sigma; ~29 %,
        module doc); false: the SNO flux error alone, as before 2026-12-06. Only with ``response: efficiency``."""
        normalisation: Literal["release", "efficiency"] = "release"
        """SM signal of the efficiency response: XENONnT's own SR0+SR1 expectation (``release``: 11.92 events at the SNO
        flux, from the collaboration's 8B templates, module doc) times our rate ratio, or our absolute folding of the
        released efficiencies (``efficiency``: 9.47 events, as before 2026-12-06). ``dataset: sr0-sr2`` needs
        ``efficiency`` (no released expectation for SR2)."""

        @field_validator("threshold_keVnr")
        @classmethod
        def _in_range(cls, v):
            if not 0 < v < 5:
                raise ValueError(f"expected a threshold in (0, 5) keVnr, got {v}")
            return v

        analysis: Literal["count", "binned"] = "count"
        """``count``: the event count against the background (module doc); ``binned``: the release's 4D binned
        likelihood of SR0+SR1 (data, templates, the statistical model's nuisances profiled; module doc)."""
        newton_steps: int = Field(XENON_NEWTON_STEPS, ge=1, le=10)
        """Newton steps of the binned likelihood's profile over the nuisances (``analysis: binned`` only; one is within
        4e-7 of two in -2 ln L, module doc)."""

        @model_validator(mode="after")
        def _sharp_only(self):
            if self.analysis != "binned" and "newton_steps" in self.model_fields_set:
                raise ValueError("newton_steps applies only with analysis: binned")
            if self.analysis == "binned":
                for key in ("response", "dataset", "yield_error", "normalisation", "threshold_keVnr"):
                    if key in self.model_fields_set:
                        raise ValueError(f"{key} does not apply with analysis: binned (the release's SR0+SR1 templates "
                                         "and statistical model)")
            if self.response == "sharp" and self.dataset != "sr0-sr1":
                raise ValueError("dataset sr0-sr2 needs response: efficiency")
            for key in ("yield_error", "normalisation"):
                if self.response == "sharp" and key in self.model_fields_set:
                    raise ValueError(f"{key} needs response: efficiency")
            if self.dataset == "sr0-sr2" and self.normalisation == "release":
                raise ValueError("dataset sr0-sr2 needs normalisation: efficiency (XENONnT's released 8B expectation "
                                 "covers SR0+SR1 only)")
            return _only_with_sharp(self, "threshold_keVnr")

    def setup(self):
        o = self.options
        self.counts = xenonnt_counts(o.dataset)
        self.signal_rel = 0.0
        self.binned = None
        if o.analysis == "binned":
            self.binned = xenon_binned(o.sin2w_scheme, o.weak_couplings, o.newton_steps)
            self.channels = dict(self.binned.targets)
        elif o.response == "sharp":
            self.single(_targets("b8", ("Xe",), o.threshold_keVnr * 1e-6, np.inf, o.sin2w_scheme, o.weak_couplings))
            d = XENONNT
            self.s_sm = (d["n"] - d["b"]) * PHI_SNO / d["phi_fit"]
        else:
            runs = XENONNT_DATASETS[o.dataset]
            self.single(_targets("b8", ("Xe",), *XENONNT_WINDOW, o.sin2w_scheme, o.weak_couplings, xenonnt_efficiency(runs),
                                 n_T=XENONNT_N_T))
            self.s_sm = self.signal_per_flux() * PHI_SNO if o.normalisation == "efficiency" else xenonnt_expected_sm(runs)
            if o.yield_error:
                self.signal_rel = xenonnt_yield_error(runs, o.sin2w_scheme, o.weak_couplings)

    def signal_per_flux(self) -> float:
        """SM signal events per unit 8B flux (cm^-2 s^-1) over the science runs (efficiency response)."""
        expo = sum(float(r["exposure_t_yr"]) for r in read_rows("cevns_xenonnt_sr_summary.csv")
                   if r["science_run"] in XENONNT_DATASETS[self.options.dataset])
        return expo * 1e3 * targets_per_kg("Xe") * SECONDS_PER_YEAR * self.rate_sm() * GEV2_TO_CM2

    def loglike(self, obs):
        if self.binned is None:
            return super().loglike(obs)
        return self.binned.fit.loglike(jnp.stack([self.ratio(obs, c) for c in self.channels]))

    def loglike_ratio(self, r, channel):
        if self.binned is not None:
            raise ValueError("cevns_xenonnt_8b: the binned analysis has no likelihood per channel (the bins share "
                             "nuisances)")
        n, b, sb = self.counts
        return solar_count(n, b, sb, self.s_sm * r, self.signal_rel)

    def count_terms(self, r, channel, flux_rel: float):
        if self.binned is not None:
            raise ValueError("cevns_xenonnt_8b: the binned analysis is no single count (not in cevns_solar_8b)")
        return solar_count_terms(*self.counts, self.s_sm * r, flux_rel, self.signal_rel)


@register
class PandaX8B(Cevns):
    name = "cevns_pandax_8b"
    label = "PandaX-4T $^8$B (CEvNS)"
    constrains = "solar 8B CEvNS on xenon (PandaX-4T paired + US2), light-Z' q^2 dependence"
    reference = "PandaX-4T, PRL 133 (2024) 191001, arXiv:2407.10892; SNO arXiv:1109.0763"
    data_edition = "PandaX-4T 2024 (abstract: sharp thresholds)"

    class Options(CevnsOptions):
        channels: tuple[Literal["paired", "US2"], ...] = ("paired", "US2")
        """Analysis channels used (a non-empty subset of paired and US2)."""

        @field_validator("channels")
        @classmethod
        def _subset(cls, v):
            if not v or len(set(v)) != len(v):
                raise ValueError(f"expected a non-empty list of distinct channels from {sorted(PANDAX)}, got {list(v)}")
            return v

    def setup(self):
        o = self.options
        self.channels = {
            c: _targets("b8", ("Xe",), PANDAX[c]["threshold_keVnr"] * 1e-6, np.inf, o.sin2w_scheme, o.weak_couplings)
            for c in o.channels
        }
        self.s_sm = {c: PANDAX[c]["s_fit"] * PHI_SNO / PANDAX_PHI_FIT for c in o.channels}

    def loglike_ratio(self, r, channel):
        d = PANDAX[channel]
        return solar_count(d["n"], d["b"], d["sigma_b"], self.s_sm[channel] * r)

    def count_terms(self, r, channel, flux_rel: float):
        d = PANDAX[channel]
        return solar_count_terms(d["n"], d["b"], d["sigma_b"], self.s_sm[channel] * r, flux_rel)


class _SharedFlux(Cevns):
    """Several CEvNS experiments fed by one neutrino flux, in one likelihood: their counts' Gaussian forms with the
    flux error correlated between them (:func:`likelihoods.stats.shared_scale_gaussian`). A subclass builds
    ``self.members`` (the single likelihoods, each with ``count_terms``) and ``self.flux_rel`` (member name ->
    relative flux error) in ``setup``; ``flux_correlation: 0`` gives the sum of the members."""

    members: tuple
    flux_rel: dict[str, float]

    def adopt(self, members: tuple, flux_rel: dict[str, float]) -> None:
        self.members, self.flux_rel = members, flux_rel
        self.channel_of = {f"{m.name}:{c}": (m, c) for m in members for c in m.channels}
        self.channels = {key: m.channels[c] for key, (m, c) in self.channel_of.items()}

    def loglike_ratio(self, r, channel):
        """The channel alone, as its single likelihood has it (:meth:`loglike` correlates the channels)."""
        member, c = self.channel_of[channel]
        return member.loglike_ratio(r, c)

    def loglike(self, obs):
        terms = [m.count_terms(self.ratio(obs, key), c, self.flux_rel[m.name]) for key, (m, c) in self.channel_of.items()]
        return shared_scale_gaussian(*zip(*terms), rho=self.options.flux_correlation)


class SharedFluxOptions(ResponseOptions):
    flux_correlation: float = Field(1.0, ge=0.0, le=1.0)
    """Correlation of the experiments' flux errors: 1 (default) for one flux, 0 for the experiments taken apart."""


def _member(cls: type[Cevns], scenario, options: dict) -> Cevns:
    """A single likelihood inside a joint one; its option errors become the joint's (one line)."""
    try:
        return cls(scenario, cls.Options(**options))
    except ValidationError as e:
        raise ValueError(e.errors()[0]["msg"].removeprefix("Value error, ")) from None


def _passed_on(o, names: set[str]) -> dict:
    """The options of a joint likelihood that a member takes (the ones set, and the shared CEvNS choices)."""
    keep = {"exact", "weak_couplings"} | ({"sin2w_scheme"} & o.model_fields_set) | (names & o.model_fields_set)
    return o.model_dump(include=keep)


@register
class CoherentSNS(_SharedFlux):
    """cevns_coherent_csi and cevns_coherent_lar in one likelihood, with their common SNS flux error (review L8)."""

    name = "cevns_coherent_sns"
    label = "COHERENT CsI + LAr (CEvNS)"
    constrains = ("CEvNS rates on CsI and argon at the SNS (COHERENT 2021 and CENNS-10) with their shared neutrino-flux "
                  "uncertainty, light-Z' q^2 dependence")
    reference = "COHERENT, PRL 129 (2022) 081801, arXiv:2110.07730; PRL 126 (2021) 012002, arXiv:2003.10630"
    data_edition = ("as cevns_coherent_csi and cevns_coherent_lar; SNS nu/proton uncertainties 10 % (LAr release copy; "
                    "CsI [S, Newtrinos]) correlated")
    combines: ClassVar[tuple[str, ...]] = ("cevns_coherent_csi", "cevns_coherent_lar")

    class Options(SharedFluxOptions):
        pe_window: Window = (5.0, 60.0)
        """CsI analysis window in photoelectrons (as cevns_coherent_csi)."""
        threshold_keVnr: float = 20.0
        """LAr threshold of the sharp response (as cevns_coherent_lar)."""
        lar_analysis: Literal["count", "binned"] = "count"
        """The LAr part: its count or its binned release (cevns_coherent_lar's ``analysis``); binned profiles the flux
        nuisance with the release's nuisances, CsI's count included (module doc)."""
        newton_steps: int = Field(LAR_NEWTON_STEPS, ge=1, le=10)
        """Newton steps of the binned LAr profile (``lar_analysis: binned`` only)."""

    def setup(self):
        o = self.options
        csi = _member(CoherentCsI, self.scenario, _passed_on(o, {"response", "pe_window"}))
        lar_options = _passed_on(o, {"response", "threshold_keVnr", "newton_steps"}) | {"analysis": o.lar_analysis}
        lar = _member(CoherentLAr, self.scenario, lar_options)
        flux = sns_flux_uncertainties()
        for m in (csi, lar):
            if flux[m.name] > m.record["sm"][1] / m.record["sm"][0]:
                raise ValueError(f"{m.name}: the SNS flux error {flux[m.name]:.3f} exceeds the whole SM error")
        self.adopt((csi, lar), flux)
        self.csi, self.lar = csi, lar
        self.lar_binned = None
        if lar.binned is not None and o.flux_correlation > 0:
            self.lar_binned = lar_binned(lar.options.sin2w_scheme, lar.options.weak_couplings,
                                         math.sqrt(o.flux_correlation) * flux[lar.name], o.newton_steps)

    def loglike(self, obs):
        """The counts' shared-flux form; with the binned LAr, the LAr profile over its nuisances and the flux
        nuisance x, CsI's count entering as the Gaussian term (d - sqrt(rho) a x)^2 / (W + (1 - rho) a^2); at
        rho = 0 the binned LAr and the CsI count apart."""
        if self.lar.binned is not None and self.lar_binned is None:
            return self.csi.loglike(obs) + self.lar.loglike(obs)
        if self.lar_binned is None:
            return super().loglike(obs)
        rho = self.options.flux_correlation
        (c,) = self.csi.channels
        d, W, a = self.csi.count_terms(self.ratio(obs, f"{self.csi.name}:{c}"), c, self.flux_rel[self.csi.name])
        fit = self.lar_binned.fit
        A = jnp.zeros((1, len(fit.nuisances))).at[0, fit.index("flux")].set(math.sqrt(rho) * a)
        r = jnp.stack([self.ratio(obs, f"{self.lar.name}:{k}") for k in self.lar.channels])
        return self.lar_binned.fit.loglike(r, (jnp.reshape(d, (1,)), A, jnp.reshape(W + (1.0 - rho) * a**2, (1,))))


@register
class Solar8B(_SharedFlux):
    """cevns_xenonnt_8b and cevns_pandax_8b in one likelihood, with their common 8B flux error (review L8)."""

    name = "cevns_solar_8b"
    label = "XENONnT + PandaX-4T $^8$B (CEvNS)"
    constrains = ("solar 8B CEvNS on xenon (XENONnT; PandaX-4T paired + US2) with their shared SNO flux uncertainty, "
                  "light-Z' q^2 dependence")
    reference = ("XENONnT, PRL 133 (2024) 191002, arXiv:2408.02877; PandaX-4T, PRL 133 (2024) 191001, arXiv:2407.10892; "
                 "SNO arXiv:1109.0763")
    data_edition = "as cevns_xenonnt_8b and cevns_pandax_8b; SNO NC 8B flux error 3.8 % correlated"
    combines: ClassVar[tuple[str, ...]] = ("cevns_xenonnt_8b", "cevns_pandax_8b")

    class Options(SharedFluxOptions):
        threshold_keVnr: float = 0.5
        """XENONnT threshold of the sharp response (as cevns_xenonnt_8b)."""
        dataset: Literal["sr0-sr1", "sr0-sr2"] = "sr0-sr1"
        """XENONnT science runs (as cevns_xenonnt_8b)."""
        yield_error: bool = True
        """XENONnT's light- and charge-yield signal error (as cevns_xenonnt_8b)."""
        normalisation: Literal["release", "efficiency"] = "release"
        """XENONnT's SM signal: the collaboration's expectation or our folding (as cevns_xenonnt_8b)."""
        channels: tuple[Literal["paired", "US2"], ...] = ("paired", "US2")
        """PandaX-4T channels (as cevns_pandax_8b)."""

    def setup(self):
        o = self.options
        xe = _member(XenonNT8B, self.scenario, _passed_on(o, {"response", "threshold_keVnr", "dataset", "yield_error", "normalisation"}))
        pandax = _member(PandaX8B, self.scenario, _passed_on(o, {"channels"}))
        self.adopt((xe, pandax), {xe.name: PHI_SNO_REL, pandax.name: PHI_SNO_REL})


__all__ = [
    "Cevns", "CevnsOptions", "Response", "TabulatedEfficiency", "CsIResponse", "LArResponse",
    "nucleon_couplings", "gauss_count", "solar_count", "read_rows", "column", "lookup", "targets_per_kg",
    "csi_recoil_window", "xenonnt_efficiency", "b8_pdf_table", "AMU_GEV",
]
