"""Physical constants, read once from their sources and cached.

* Particle masses, lifetimes and widths come from the PDG database shipped by the `pdg`
  package (its edition is recorded in :data:`Constants.pdg_edition`); nothing that the
  database holds is typed in here.
* G_F, alpha(0) and sin^2(theta_W) come from CODATA via ``scipy.constants.physical_constants``.
  CODATA's weak mixing angle is the **on-shell** one, sin^2 theta_W = 1 - M_W^2/M_Z^2 (= 0.22305
  in CODATA 2018); the low-energy cross sections use it only with ``sin2w_scheme: on-shell``. Their default is the
  MS-bar value in the Thomson limit, 0.23868 (arXiv:1712.09146; :data:`globalfit.physics.scattering.SIN2W_MSBAR0`).
* Derived: v = (sqrt(2) G_F)^(-1/2) ~ 246.2 GeV, the SU(2) coupling g = 2 M_W / v, and
  hbar in GeV s to turn lifetimes into widths (Gamma = hbar / tau).

Units: GeV, seconds.
"""

from __future__ import annotations

import functools
import math
import warnings
from dataclasses import asdict, dataclass

__all__ = ["Constants", "constants", "pdg_api", "pdg_value"]


@dataclass(frozen=True)
class Constants:
    """Numbers the physics core needs, all in GeV (lifetimes in s)."""

    pdg_edition: str
    G_F: float
    alpha: float
    sin2_theta_W: float
    hbar_GeV_s: float
    m_e: float
    m_mu: float
    m_tau: float
    M_W: float
    M_Z: float
    m_pi0: float
    m_pi: float
    m_K: float
    m_eta: float
    m_p: float
    m_n: float
    tau_mu: float
    tau_tau: float
    tau_pi: float
    tau_K: float
    width_pi0: float
    br_pi0_gg: float
    m_omega: float
    width_omega: float
    m_eta_prime: float
    m_phi: float
    width_phi: float

    @property
    def vev(self) -> float:
        """Electroweak vev v = (sqrt 2 G_F)^(-1/2)."""
        return (math.sqrt(2.0) * self.G_F) ** -0.5

    @property
    def g_weak(self) -> float:
        """SU(2) gauge coupling g = 2 M_W / v."""
        return 2.0 * self.M_W / self.vev

    @property
    def e_charge(self) -> float:
        """Electromagnetic coupling e = sqrt(4 pi alpha)."""
        return math.sqrt(4.0 * math.pi * self.alpha)

    @property
    def lepton_masses(self) -> tuple[float, float, float]:
        return (self.m_e, self.m_mu, self.m_tau)

    def width(self, lifetime_s: float) -> float:
        """Total width in GeV from a lifetime in seconds, Gamma = hbar / tau."""
        return self.hbar_GeV_s / lifetime_s

    @property
    def f_pi(self) -> float:
        """Pion decay constant (~92 MeV normalisation) from the measured pi0 -> gamma gamma width,
        Gamma = alpha^2 m_pi0^3 / (64 pi^3 f_pi^2) (chiral anomaly)."""
        gamma_gg = self.width_pi0 * self.br_pi0_gg
        return math.sqrt(self.alpha**2 * self.m_pi0**3 / (64 * math.pi**3 * gamma_gg))

    @property
    def width_mu(self) -> float:
        return self.width(self.tau_mu)

    @property
    def width_tau(self) -> float:
        return self.width(self.tau_tau)

    def as_dict(self) -> dict[str, float | str]:
        return asdict(self)


@functools.lru_cache(maxsize=1)
def pdg_api():
    """A connection to the offline PDG database of the `pdg` package (opened once)."""
    import pdg

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return pdg.connect()


@functools.lru_cache(maxsize=None)
def pdg_value(pdgid: str) -> float:
    """The best summary value of a PDG quantity (e.g. 'S009.1', Br(pi0 -> gamma gamma)); the one PDG accessor for
    single numbers (limits with their CL: :func:`likelihoods._pdg.pdg_limit`)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return float(pdg_api().get(pdgid).best_summary().value)


def _particle(api, name: str):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return api.get_particle_by_name(name)


def _quiet(particle, attr: str) -> float:
    """particle.<attr> as a float, silencing the SQLAlchemy warnings the pdg package emits."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return float(getattr(particle, attr))


@functools.lru_cache(maxsize=1)
def constants() -> Constants:
    """Read every constant once (PDG database + CODATA) and cache the result."""
    from scipy.constants import physical_constants as codata

    api = pdg_api()

    def q(name: str, attr: str = "mass") -> float:
        return _quiet(_particle(api, name), attr)

    hbar_eV_s = codata["reduced Planck constant in eV s"][0]
    return Constants(
        pdg_edition=str(api.edition),
        G_F=float(codata["Fermi coupling constant"][0]),
        alpha=float(codata["fine-structure constant"][0]),
        sin2_theta_W=float(codata["weak mixing angle"][0]),
        hbar_GeV_s=float(hbar_eV_s) * 1e-9,
        m_e=q("e-"),
        m_mu=q("mu-"),
        m_tau=q("tau-"),
        M_W=q("W+"),
        M_Z=q("Z0"),
        m_pi0=q("pi0"),
        m_pi=q("pi+"),
        m_K=q("K+"),
        m_eta=q("eta"),
        m_p=q("p"),
        m_n=q("n"),
        tau_mu=q("mu-", "lifetime"),
        tau_tau=q("tau-", "lifetime"),
        tau_pi=q("pi+", "lifetime"),
        tau_K=q("K+", "lifetime"),
        width_pi0=q("pi0", "width"),
        br_pi0_gg=pdg_value("S009.1"),
        m_omega=q("omega(782)"),
        width_omega=q("omega(782)", "width"),
        m_eta_prime=q("eta^'(958)"),
        m_phi=q("phi(1020)"),
        width_phi=q("phi(1020)", "width"),
    )
