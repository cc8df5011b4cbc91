"""The likelihood contract, in the manner of Cobaya's likelihood classes.

A likelihood is a class registered by name (:func:`register`) that declares

* ``name``, ``constrains``, ``reference`` (an arXiv id, DOI or PDG identifier), ``data_edition``;
* ``Options``: a pydantic model of the options a run config may set under ``likelihoods.<name>`` (typed, with
  defaults; validated once, by :func:`likelihoods.build_likelihoods`; unknown keys and non-finite numbers are errors);
* ``requires``: the model observables (:func:`globalfit.physics.model.observables`) its ``loglike`` reads, checked
  against the model when a fit problem is built;
* ``needs``: the Z' couplings the scenario must have for the likelihood to apply (:data:`COUPLINGS`; e.g. CEvNS needs
  ``quarks``), so applicability follows from the scenario's charges, not from lists of scenario names;

and implements ``setup()`` (read data, precompute: build time, once) and ``loglike(obs)`` (pure JAX in the
observables, ln L - ln L_max of the measurement, so 0 at the data's best point). Statistical conventions:
:mod:`likelihoods.stats`.

Data records have one shape: :class:`Limit` (an upper limit at a CL, with its source) and :class:`Measurement`
(a value with, possibly asymmetric, errors, with its source).

Families share the construction of a kind of experiment:

* :class:`UpperLimits` -- branching-ratio style upper limits, one per channel (LFV, tau -> 3l, meson decays): a
  subclass resolves ``self.limits`` (PDG, a dataset, config overrides) and predicts each channel;
* :class:`CountRate` -- scattering-rate experiments (CEvNS, nu-e, reactor): a subclass builds its rate targets
  (source x cross section x recoil window) and compares the rate ratio r = R_model / R_SM with its data.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Annotated, Any, Callable, ClassVar, Literal, Mapping

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

import jax.numpy as jnp

from globalfit.physics.numerics import one_blas_thread
from globalfit.physics.rates import RateTable, cevns_rate_table, nue_rate_table, stack_rate_tables
from globalfit.physics.scenarios import Scenario

from .stats import upper_limit

__all__ = [
    "COUPLINGS",
    "at_least_one",
    "Options",
    "Likelihood",
    "Limit",
    "Measurement",
    "UpperLimits",
    "RateTarget",
    "CountRate",
    "RateOptions",
    "RateProvider",
    "rate_provider",
    "Window",
    "Fraction",
    "PositiveNumber",
]

Obs = Mapping[str, Any]

# Z' couplings a likelihood may need, as functions of the scenario's charges X = b B + sum_a l_a L_a (docs/physics.md §1)
COUPLINGS: dict[str, tuple[str, Callable[[Scenario], bool]]] = {
    "quarks": ("a coupling to quarks (b != 0)", lambda s: s.b != 0.0),
    "electrons": ("a coupling to electrons (l_e != 0)", lambda s: s.l[0] != 0.0),
    "e_or_mu": ("a coupling to electrons or muons", lambda s: s.l[0] != 0.0 or s.l[1] != 0.0),
    "no_charged_leptons": ("no tree-level coupling to charged leptons", lambda s: not s.has_charged_lepton_charge),
    "no_quarks": ("no coupling to quarks (b = 0)", lambda s: s.b == 0.0),
}


def _ordered(w: tuple[float, float]) -> tuple[float, float]:
    if not w[0] < w[1]:
        raise ValueError(f"expected a window (lo, hi) with lo < hi, got {tuple(w)}")
    return w


Window = Annotated[tuple[Annotated[float, Field(ge=0)], Annotated[float, Field(gt=0)]], AfterValidator(_ordered)]
"""A (lo, hi) window of non-negative numbers with lo < hi."""
def at_least_one(v: tuple) -> tuple:
    """A selection option (channels, curves) must name at least one entry."""
    if not v:
        raise ValueError("expected at least one entry")
    return v


Fraction = Annotated[float, Field(gt=0, lt=1)]
"""A number in (0, 1): a confidence level, a probability."""
PositiveNumber = Annotated[float, Field(gt=0)]


class Options(BaseModel):
    """Typed options of a likelihood (the keys a run config may set under ``likelihoods.<name>``).

    Unknown keys and non-finite numbers are errors; every field has a default."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


@dataclass(frozen=True)
class Limit:
    """An upper limit: ``value`` at confidence level ``cl`` (a fraction), and where it came from."""

    value: float
    cl: float
    source: str


@dataclass(frozen=True)
class Measurement:
    """A measured value with errors above and below (equal for a symmetric error), and where it came from."""

    value: float
    sigma_plus: float
    sigma_minus: float
    source: str

    @property
    def sigma(self) -> float:
        """The symmetrised error (mean of the two)."""
        return 0.5 * (self.sigma_plus + self.sigma_minus)


class Likelihood(ABC):
    """A configured likelihood: data and options bound, ``loglike(obs)`` pure JAX (see the module docstring)."""

    name: ClassVar[str]
    label: ClassVar[str] = ""
    """What a figure's legend calls it (matplotlib mathtext allowed), e.g. ``$\\pi^0 \\to \\gamma Z'$ (NA62)``; empty:
    the name. :func:`plot_label`."""
    constrains: ClassVar[str]
    reference: ClassVar[str]
    data_edition: ClassVar[str]
    Options: ClassVar[type[Options]] = Options
    requires: ClassVar[tuple[str, ...]] = ()
    needs: ClassVar[tuple[str, ...]] = ()
    combines: ClassVar[tuple[str, ...]] = ()
    """Likelihoods whose data this one already contains (a joint likelihood with correlated errors): a config may not
    name both."""

    def __init__(self, scenario: Scenario, options: Options | None = None):
        self.scenario = scenario
        self.options = self.Options() if options is None else options
        with one_blas_thread():  # the same tables in every process (a Dask worker's BLAS has one thread)
            self.setup()

    def setup(self) -> None:
        """Read data and precompute (called once, at build time). Raise ValueError for inconsistent options."""

    @abstractmethod
    def loglike(self, obs: Obs):
        """ln L - ln L_max at the model observables ``obs`` (pure JAX, a scalar)."""

    @classmethod
    def applies(cls, scenario: Scenario) -> bool:
        """Whether the scenario's Z' has every coupling in ``needs``."""
        return all(COUPLINGS[n][1](scenario) for n in cls.needs)

    @classmethod
    def needs_text(cls) -> str:
        return " and ".join(COUPLINGS[n][0] for n in cls.needs) or "nothing"

    def __repr__(self) -> str:
        return f"<likelihood {self.name} ({self.scenario.name}) {self.options.model_dump()}>"


# --------------------------------------------------------------------------------------------------- upper limits


class UpperLimits(Likelihood):
    """Sum over channels of one-sided upper limits (:func:`likelihoods.stats.upper_limit`) on predicted quantities.

    A subclass sets ``self.limits`` (channel -> :class:`Limit`) in ``setup`` and implements ``predictions``."""

    limits: dict[str, Limit]

    @abstractmethod
    def predictions(self, obs: Obs) -> dict[str, Any]:
        """The predicted quantity of each channel of ``self.limits``."""

    def loglike(self, obs: Obs):
        pred = self.predictions(obs)
        return sum(upper_limit(pred[ch], lim.value, lim.cl) for ch, lim in self.limits.items())


# ---------------------------------------------------------------------------------------------------- count rates


class RateOptions(Options):
    """Options every rate experiment has."""

    exact: bool = False
    """Sum the rates over the quadrature nodes at every evaluation instead of reading their tables (the reference;
    :mod:`globalfit.physics.rates`)."""
    sin2w_scheme: Literal["msbar0", "on-shell"] = "msbar0"
    """sin^2 theta_W scheme of the SM couplings (:func:`globalfit.physics.scattering.sin2w`)."""


@dataclass(frozen=True, eq=False)
class RateTarget:
    """A flux- and response-integrated rate on one target: quadrature grids of the source components
    (:func:`globalfit.physics.scattering.grid`) with the nucleus (CEvNS; ``g_v``: the SM nucleon couplings per
    flavour, None for tree level) or None (nu-e elastic). The rate is read from its coefficient table
    (:mod:`globalfit.physics.rates`: built once, cached on disk), or summed over the quadrature nodes (``exact``)."""

    grids: tuple
    s2w: float
    nucleus: Any = None
    g_v: tuple | None = None
    table: RateTable = field(init=False, repr=False)

    def __post_init__(self):
        if self.nucleus is None:
            table = nue_rate_table(self.grids, self.s2w)
        else:
            table = cevns_rate_table(((self.nucleus, self.grids),), self.s2w, g_v=self.g_v)
        object.__setattr__(self, "table", table)

    @property
    def sm(self) -> float:
        """The Standard-Model rate [GeV^-2]."""
        return self.table.sm

    def rate(self, G, g_f, M_Zp, exact: bool = False):
        """sum_i w_i dsigma/dT(E_i, T_i) with the q^2-dependent eps: tabulated, or the direct sum (``exact``)."""
        return self.table.rate_exact(G, g_f, M_Zp) if exact else self.table.rate(G, g_f, M_Zp)


class CountRate(Likelihood):
    """A scattering-rate experiment: in each analysis channel c the model's rate relative to the SM,
    r_c = sum_t R_t(model) / sum_t R_t(SM) over the channel's targets t, is compared with the channel's data by
    :meth:`loglike_ratio`; independent channels add.

    ``coupling`` names the effective Z' coupling of the target fermions in the observables (``g_quark`` for CEvNS,
    with g_u = g_d; ``g_electron`` for nu-e). A subclass builds ``self.channels`` (name -> targets) in ``setup``;
    an experiment with one analysis channel uses :meth:`single`."""

    Options: ClassVar[type[Options]] = RateOptions
    coupling: ClassVar[str]
    channels: dict[str, tuple[RateTarget, ...]]

    def single(self, targets: tuple[RateTarget, ...]) -> None:
        self.channels = {self.name: tuple(targets)}

    def rate(self, obs: Obs, channel: str | None = None):
        """The model's rate summed over the channel's targets (``None``: the only channel); a rate the fit problem
        already computed for every target at once (:class:`RateProvider`, ``obs["rates"]``) is read from there."""
        ts = self.channels[channel] if channel is not None else _only(self.channels)
        provided = obs.get("rates", {}) if not self.options.exact else {}
        return sum(provided[id(t)] if id(t) in provided else t.rate(obs["G"], obs[self.coupling], obs["M_Zp"],
                                                                    exact=self.options.exact) for t in ts)

    def rate_targets(self) -> tuple[RateTarget, ...]:
        """Every target of every channel whose tabulated rate this likelihood reads (none with ``exact``)."""
        return () if self.options.exact else tuple(t for ts in self.channels.values() for t in ts)

    def rate_sm(self, channel: str | None = None) -> float:
        ts = self.channels[channel] if channel is not None else _only(self.channels)
        return sum(t.sm for t in ts)

    def ratio(self, obs: Obs, channel: str | None = None):
        """r = R(model) / R(SM) in a channel (``None``: the only channel)."""
        return self.rate(obs, channel) / self.rate_sm(channel)

    @abstractmethod
    def loglike_ratio(self, r, channel: str):
        """ln L of the channel's data at rate ratio r."""

    def loglike(self, obs: Obs):
        return sum(self.loglike_ratio(self.ratio(obs, c), c) for c in self.channels)


def _only(channels: dict):
    if len(channels) != 1:
        raise ValueError(f"several channels {sorted(channels)}: name one")
    return next(iter(channels.values()))


class RateProvider:
    """Every tabulated scattering rate that a set of likelihoods reads, computed together: their tables form one
    :class:`globalfit.physics.rates.RateTableStack` (one gather, whatever their number), and :meth:`provide` adds the
    rates to the observables as ``obs["rates"]`` (target id -> rate), where :meth:`CountRate.rate` finds them. The
    fit problem builds one (:func:`rate_provider`); a likelihood evaluated alone computes its own."""

    def __init__(self, targets: list[tuple[RateTarget, str]]):
        self.keys = [id(t) for t, _ in targets]
        self.couplings = [c for _, c in targets]
        self.stack = stack_rate_tables([t.table for t, _ in targets])

    def provide(self, obs: Obs) -> dict:
        g = jnp.stack([jnp.asarray(obs[c], dtype=jnp.float64) for c in self.couplings])
        r = self.stack.rates(obs["G"], g, obs["M_Zp"])
        return {**obs, "rates": {k: r[i] for i, k in enumerate(self.keys)}}


def rate_provider(likelihoods) -> RateProvider | None:
    """The :class:`RateProvider` of every rate target the likelihoods read, or None if they read none."""
    seen: dict[int, tuple[RateTarget, str]] = {}
    for lk in likelihoods:
        if isinstance(lk, CountRate):
            for t in lk.rate_targets():
                seen.setdefault(id(t), (t, lk.coupling))
    return RateProvider(list(seen.values())) if seen else None
