"""Cosmology: Delta N_eff of a Z' (and a light Psi) in thermal equilibrium with the neutrinos, against measured N_eff.

**Prediction (DERIVED, public code).** A Z' that thermalises with the neutrinos before they decouple (3 degrees of
freedom, Bose) later annihilates/decays into them and heats the neutrino sector: N_eff rises above the SM value.
N_eff(M_Zp) for such a neutrinophilic vector comes from running Escudero's NUDEC_BSM (arXiv:1812.05605,
arXiv:2001.04466; github.com/MiguelEA/nudec_BSM @ 54cb3fb, ``WIMP_nu.py <M> 3 B``), 0.1-30 MeV, file
``data/cosmo_DERIVED_Neff_vector_nudecBSM.csv`` (DERIVED: a code run, not a published table; it reproduces the code's
stored 10 MeV Dirac-fermion result and, by eye, the "vector boson" neutrinophilic panel of Sabti et al.
arXiv:1910.01649); N_eff^SM = 3.04527 from the same code (``nuDec_SM.py``). Above 30 MeV the excess
Delta N = N_eff - N_eff^SM is continued as Delta N(30 MeV) exp(-(M - 30 MeV)/lambda), lambda = 5 MeV /
ln(Delta N(25)/Delta N(30)) = 4.0 MeV from the table's last two rows (a Boltzmann-like tail; DERIVED here).
**A light Psi** (Dirac, 4 dof, Fermi) in equilibrium with the neutrinos adds to it: N_eff(M_Zp, M_Psi) with both
species in the neutrino sector, from the same code with its species' energy density, pressure and d rho/dT replaced
by the sum over Z' and Psi (``tools/derive_neff_nudec.py``; DERIVED), file
``data/cosmo_DERIVED_Neff_vector_psi_nudecBSM.csv``, 1-30 MeV x 1-50 MeV (M_Psi >= M_Zp), bilinear in
(ln M_Zp, ln M_Psi), clamped at the grid's ends; the Psi excess E = N_eff(Z', Psi) - N_eff(Z') is below 1e-4 at the
grid's upper M_Psi edge, where the clamp holds it for heavier Psi. Option ``psi``: ``"include"`` (default) or ``"ignore"``. Both runs give the CMB N_eff only: BBN
(Y_p, D/H), which moves the same way for a neutrinophilic species (Sabti et al.), is not added.

**Thermalisation (the condition, stated as such: no vector-specific formula was sourced).** The standard
decay/inverse-decay criterion K = Gamma / H(T = M) >~ 1: nu nubar -> Z' equilibrates the Z' when
    K_Z = Gamma(Z' -> nu nubar) / H(T = M_Zp),  Gamma(Z' -> nu nubar) = sum_ab |G_ab|^2 M_Zp / (24 pi)
(the model's width, :func:`globalfit.physics.widths.width_to_neutrinos`); the same variable Gamma_eff = Gamma/H(T = m)
parametrises the neutrinophilic scalar of Escudero (arXiv:2001.04466 Eq. 4.4 as quoted in NUDEC_BSM's NuScalar.nb;
the paper itself was not read). Psi equilibrates through Psi <-> nu Z' when
    K_Psi = Gamma(Psi -> nu Z') / H(T = M_Psi),
    Gamma(Psi -> nu Z') = sum_a |(g_Psi - g_l) kappa_a|^2 M_Psi^3 / (32 pi M_Zp^2) (1 - r)^2 (1 + 2 r),  r = M_Zp^2/M_Psi^2
(derived here: a fermion decaying to a massless fermion and a massive vector through c V_mu nubar gamma^mu P_L Psi,
the form of Gamma(t -> b W); the coupling is the model's Psi-nu-Z' coupling of ``width_to_psi_nu``), and only if the
Z' is thermalised; Z'Z' <-> Psi Psibar (rate ~ g_Psi^4) can thermalise it where this criterion fails, so counting
Psi this way is conservative. H(T) = sqrt(8 pi^3 g_* / 90) T^2 / M_Pl (radiation domination) with g_* = 10.75
(photon 2 + 7/8 (e+- 4 + nu nubar 6), for m_e << T << m_mu, where the excess is non-negligible) and M_Pl from CODATA
(scipy "Planck mass energy equivalent in GeV"). Each excess is switched on smoothly, f = smootherstep of
ln(K / K_lo) / ln(K_hi / K_lo) (:func:`likelihoods._psi.smootherstep`), K_lo = 0.1, K_hi = 10 (option
``thermalisation_window``: a modelling choice), so
    N_eff = N_eff^SM + f_Z [Delta N_Z(M_Zp) + f_Psi E(M_Zp, M_Psi)].
Below K_lo nothing is counted (freeze-in production, which also raises N_eff (Esseili & Kribs arXiv:2308.07955), is
neglected: conservative). For NSI-sized couplings K >> 1 (K_Z = 1 at |G| ~ 4e-10 for M_Zp = 5 MeV). Option
``thermalisation: "assumed"`` sets f_Z = f_Psi = 1 (every point counted as thermalised, the paper's treatment).
Scenarios with an electron coupling (B-L, L): the Z' then also exchanges entropy with e+- and photons, which the
neutrinophilic runs do not model; the neutrinophilic curve is applied there as the available approximation.

**Data** (option ``dataset``; ``data/cosmo_Neff_measurements.csv``, read from the abstracts, 68 % CL, Gaussian):

* ``planck2018`` (default, conservative): Planck 2018 VI, arXiv:1807.06209, CMB + BAO: N_eff = 2.99 +- 0.17;
* ``act2025``: ACT DR6, arXiv:2503.14454, ACT DR6 + Planck + lensing + DESI Y1 BAO: 2.86 +- 0.13;
* ``act2025_bbn``: the same with the primordial helium and deuterium abundances: 2.89 +- 0.11;
* ``sabti2020``, ``paper2016`` (the previous edges, kept for the paper2016 configs): a lower bound on M_Zp alone,
  3.7 MeV at 2 sigma (Sabti, Alvey, Escudero, Fairbairn, Blas arXiv:1910.01649, BBN + Planck: the abstract's
  bound on "purely electrophilic and neutrinophilic BSM species", a minimum over the species it studies, not the
  vector's own bound; the spin-independent bound of the abstract is the BBN-only 0.4 MeV) or 5 MeV (the paper's line from Delta N_eff < 0.7,
  arXiv:1607.07616, CL not stated, taken as 2 sigma), with a constructed one-sided Gaussian edge in ln M_Zp of width
  ``log_width`` (default 0.25): -2 Delta ln L = ((x0 - ln M_Zp)/w)^2 below x0 = ln(limit) + 2 w, 0 above, so 4.0 at
  the limit; ``limit`` overrides the mass. Not data-shaped: the sources give one mass.

**Likelihood** (measurements): Gaussian in N_eff with the quoted error, relative to the SM point,
    -2 Delta ln L = [(N_eff - mu)^2 - (N_eff^SM - mu)^2] / sigma^2,
0 at the SM point (and wherever nothing thermalises); since every mu < N_eff^SM <= N_eff it is <= 0, the model's
maximum. With ``planck2018`` a thermalised Z' alone gets 4.0 at M_Zp = 10.4 MeV and 86 / 45 / 18 at 3.5 / 5 / 7 MeV.
"""

from __future__ import annotations

import csv
import functools
import math
from pathlib import Path
from typing import ClassVar, Literal

import jax.numpy as jnp
import numpy as np
from jax.scipy.ndimage import map_coordinates
from pydantic import Field
from scipy.constants import physical_constants

from globalfit.physics.interp import interp_sorted
from globalfit.physics.numerics import abs2
from globalfit.physics.widths import width_to_neutrinos

from . import register
from ._psi import smootherstep
from .base import Likelihood, Options, PositiveNumber, Window
from .stats import ALLOWED_DELTA_CHI2

DATA = Path(__file__).parent / "data"
EDGES = {"sabti2020": 3.7e-3, "paper2016": 5e-3}  # GeV: arXiv:1910.01649 (2 sigma); arXiv:1607.07616 (Delta N_eff < 0.7)
DATASETS = ("planck2018", "act2025", "act2025_bbn") + tuple(EDGES)
EDGE_DELTA_CHI2 = 4.0  # 2 sigma
N_EFF_SM = 3.04527  # NUDEC_BSM nuDec_SM.py, the SM run of the same code (data file header)
G_STAR = 2.0 + 7.0 / 8.0 * (4.0 + 6.0)  # 10.75: photons, e+-, three nu nubar (m_e << T << m_mu)
M_PLANCK = physical_constants["Planck mass energy equivalent in GeV"][0]
_MEASUREMENT_ROWS = {"planck2018": ("1807.06209", False), "act2025": ("2503.14454", False), "act2025_bbn": ("2503.14454", True)}


def _rows(name: str) -> list[list[str]]:
    lines = [ln for ln in (DATA / name).read_text().splitlines() if ln.strip() and not ln.startswith("#")]
    return list(csv.reader(lines))[1:]


@functools.lru_cache(maxsize=None)
def measurement(dataset: str) -> tuple[float, float, str]:
    """(N_eff, sigma_68, description) of a measured dataset (module doc)."""
    arxiv, bbn = _MEASUREMENT_ROWS[dataset]
    for name, arx, value, sigma, _url in _rows("cosmo_Neff_measurements.csv"):
        if arx == arxiv and ("BBN" in name) == bbn:
            return float(value), float(sigma), f"{name}, arXiv:{arx}"
    raise ValueError(f"data/cosmo_Neff_measurements.csv: no row for {dataset!r}")


@functools.lru_cache(maxsize=None)
def vector_table() -> tuple[np.ndarray, np.ndarray]:
    """(M_Zp [GeV], Delta N_eff) of the thermalised vector (DERIVED table)."""
    a = np.array([[float(x) for x in r] for r in _rows("cosmo_DERIVED_Neff_vector_nudecBSM.csv")])
    return a[:, 0] * 1e-3, a[:, 1] - N_EFF_SM


@functools.lru_cache(maxsize=None)
def psi_table() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(M_Zp grid [GeV], M_Psi grid [GeV], E = N_eff(Z', Psi) - N_eff(Z') on the grid): the light-Psi excess, with the
    unphysical M_Psi < M_Zp corner filled by the M_Psi = M_Zp value (outside the support)."""
    rows = np.array([[float(x) for x in r] for r in _rows("cosmo_DERIVED_Neff_vector_psi_nudecBSM.csv")])
    mz, mp = np.unique(rows[:, 0]), np.unique(rows[:, 1])
    both = np.full((mz.size, mp.size), np.nan)
    for a, b, n in rows:
        both[np.searchsorted(mz, a), np.searchsorted(mp, b)] = n
    for i in range(mz.size):
        first = np.argmax(np.isfinite(both[i]))
        both[i, :first] = both[i, first]
    m_v, dn_v = vector_table()
    alone = N_EFF_SM + np.interp(np.log(mz * 1e-3), np.log(m_v), dn_v)
    extra = np.maximum(both - alone[:, None], 0.0)
    return mz * 1e-3, mp * 1e-3, extra


def hubble(T):
    """H(T) = sqrt(8 pi^3 g_* / 90) T^2 / M_Pl [GeV], radiation domination, g_* = 10.75 (module doc)."""
    return math.sqrt(8.0 * math.pi**3 * G_STAR / 90.0) * T**2 / M_PLANCK


def width_psi_to_nu_zp(kappa, g_Psi, g_l, M_Psi, M_Zp):
    """Gamma(Psi -> nu Z') = sum_a |(g_Psi - g_l) kappa_a|^2 M_Psi^3/(32 pi M_Zp^2) (1 - r)^2 (1 + 2 r), 0 for r >= 1."""
    r = (M_Zp / M_Psi) ** 2
    open_ = r < 1.0
    r_s = jnp.where(open_, r, 0.0)
    c2 = (g_Psi - g_l) ** 2 * jnp.sum(abs2(kappa))
    return jnp.where(open_, c2 * M_Psi**3 / (32.0 * jnp.pi * M_Zp**2) * (1.0 - r_s) ** 2 * (1.0 + 2.0 * r_s), 0.0)


def thermal_fraction(rate, T, window: tuple[float, float]):
    """f = smootherstep(ln(K/K_lo)/ln(K_hi/K_lo)), K = rate / H(T): 0 below K_lo, 1 above K_hi (module doc)."""
    lo, hi = window
    K = rate / hubble(T)
    lnK = jnp.log(jnp.maximum(K, 1e-300))
    return smootherstep((lnK - math.log(lo)) / math.log(hi / lo))


@register
class Cosmology(Likelihood):
    name = "cosmology"
    label = r"$N_\mathrm{eff}$ (thermalised $Z'$)"
    constrains = "Delta N_eff of a thermalised neutrinophilic Z' (3 dof) and light Psi (4 dof) vs measured N_eff"
    reference = ("planck2018: arXiv:1807.06209; act2025(_bbn): arXiv:2503.14454; N_eff(M) DERIVED with NUDEC_BSM "
                 "(arXiv:1812.05605, arXiv:2001.04466); edges: arXiv:1910.01649 (sabti2020), arXiv:1607.07616 (paper2016)")
    data_edition = "planck2018 | act2025 | act2025_bbn (N_eff, 68% CL) with DERIVED N_eff(M) | sabti2020 | paper2016 (edges)"
    requires: ClassVar[tuple[str, ...]] = ("M_Zp", "G", "M_Psi", "kappa", "g_Psi", "g_l")

    class Options(Options):
        dataset: Literal["planck2018", "act2025", "act2025_bbn", "sabti2020", "paper2016"] = "planck2018"
        thermalisation: Literal["gated", "assumed"] = "gated"
        """Count the excess only where the Z' (and Psi) thermalise (smooth switch), or everywhere (module doc)."""
        thermalisation_window: Window = (0.1, 10.0)
        """(K_lo, K_hi) of the switch in K = Gamma / H(T = M) (a modelling choice)."""
        psi: Literal["include", "ignore"] = "include"
        """Count a thermalised light Psi (measured datasets only)."""
        log_width: float = Field(0.25, gt=0, le=2)
        """Edge datasets only: width in ln M_Zp of the constructed edge."""
        limit: PositiveNumber | None = None
        """Edge datasets only: override of the 2 sigma lower mass bound (GeV)."""

    def setup(self):
        o = self.options
        self.edge = o.dataset in EDGES
        if not self.edge and o.limit is not None:
            raise ValueError(f"limit applies to the edge datasets {sorted(EDGES)} only, not to dataset {o.dataset!r}")
        if o.thermalisation_window[0] <= 0:
            raise ValueError(f"thermalisation_window: expected 0 < K_lo < K_hi, got {tuple(o.thermalisation_window)}")
        if self.edge:
            self.limit = float(o.limit) if o.limit is not None else EDGES[o.dataset]
            self.x0 = math.log(self.limit) + math.sqrt(EDGE_DELTA_CHI2) * o.log_width
            self.m_zero = math.exp(self.x0)
            return
        self.mu, self.sigma, self.source = measurement(o.dataset)
        m, dn = vector_table()
        lam = (m[-1] - m[-2]) / math.log(dn[-2] / dn[-1])  # tail length of the excess (module doc)
        self._lnm_v, self._dn_v = jnp.asarray(np.log(m)), jnp.asarray(dn)
        self._m_last, self._dn_last, self._lam = float(m[-1]), float(dn[-1]), float(lam)
        if o.psi == "include":
            mz, mp, extra = psi_table()
            self._lnmz, self._lnmp = jnp.asarray(np.log(mz)), jnp.asarray(np.log(mp))
            self._extra = jnp.asarray(extra)

    # ------------------------------------------------------------------------------------------ prediction

    def delta_n_zp(self, M_Zp):
        """Delta N_eff of a thermalised Z' (table below 30 MeV, exponential tail above; module doc)."""
        lnM = jnp.log(M_Zp)
        table = interp_sorted(lnM, self._lnm_v, self._dn_v)
        beyond = M_Zp > self._m_last
        tail = self._dn_last * jnp.exp(-(jnp.where(beyond, M_Zp, self._m_last) - self._m_last) / self._lam)
        return jnp.where(beyond, tail, table)

    def delta_n_psi(self, M_Zp, M_Psi):
        """E(M_Zp, M_Psi): the extra Delta N_eff of a thermalised Psi beside the thermalised Z' (bilinear, clamped)."""
        iz = interp_sorted(jnp.log(M_Zp), self._lnmz, jnp.arange(self._lnmz.size, dtype=float))
        ip = interp_sorted(jnp.log(M_Psi), self._lnmp, jnp.arange(self._lnmp.size, dtype=float))
        return map_coordinates(self._extra, [iz, ip], order=1, mode="nearest")

    def fractions(self, obs):
        """(f_Z, f_Psi): thermalised fractions of the Z' and of Psi (1, 1 when thermalisation is assumed)."""
        if self.options.thermalisation == "assumed":
            return 1.0, 1.0
        w = tuple(self.options.thermalisation_window)
        M, Mp = obs["M_Zp"], obs["M_Psi"]
        f_z = thermal_fraction(width_to_neutrinos(obs["G"], M), M, w)
        f_psi = thermal_fraction(width_psi_to_nu_zp(obs["kappa"], obs["g_Psi"], obs["g_l"], Mp, M), Mp, w)
        return f_z, f_psi

    def n_eff(self, obs):
        """N_eff^SM + f_Z [Delta N_Z + f_Psi E] (measured datasets)."""
        f_z, f_psi = self.fractions(obs)
        dn = self.delta_n_zp(obs["M_Zp"])
        if self.options.psi == "include":
            dn = dn + f_psi * self.delta_n_psi(obs["M_Zp"], obs["M_Psi"])
        return N_EFF_SM + f_z * dn

    # ------------------------------------------------------------------------------------------ likelihood

    def loglike(self, obs):
        if self.edge:
            d = jnp.maximum(self.x0 - jnp.log(obs["M_Zp"]), 0.0) / self.options.log_width
            f_z = self.fractions(obs)[0]
            return -0.5 * f_z * d**2
        n = self.n_eff(obs)
        return -0.5 * ((n - self.mu) ** 2 - (N_EFF_SM - self.mu) ** 2) / self.sigma**2

    def plot_mass(self) -> float:
        """The M_Zp line the (M_Zp, g_X) plots draw [GeV]: an edge dataset's quoted mass, else the 90 % CL lower bound
        of a thermalised Z' (:meth:`lower_mass_bound`)."""
        return self.limit if self.edge else self.lower_mass_bound()

    def lower_mass_bound(self, delta_chi2: float = ALLOWED_DELTA_CHI2) -> float:
        """The M_Zp [GeV] below which a thermalised Z' (heavy Psi) gets -2 Delta ln L > ``delta_chi2`` (the line
        the (M_Zp, g_X) plots draw; 2.71 = allowed at 90 % CL)."""
        grid = np.geomspace(1e-4, 1.0, 4001)
        if self.edge:
            chi2 = (np.maximum(self.x0 - np.log(grid), 0.0) / self.options.log_width) ** 2
        else:
            n = N_EFF_SM + np.asarray(self.delta_n_zp(jnp.asarray(grid)))
            chi2 = ((n - self.mu) ** 2 - (N_EFF_SM - self.mu) ** 2) / self.sigma**2
        above = np.nonzero(chi2 > delta_chi2)[0]
        return float(grid[above[-1] + 1]) if above.size and above[-1] + 1 < grid.size else float(grid[0])
