"""Numerical sweeps of a fit problem's log-density over its prior box: no NaN or inf where there must be none.

Points (site space, :attr:`globalfit.problem.FitProblem.site_names`) come in four kinds, a quarter each:

* interior: uniform in the box;
* corners: every coordinate on one end of its range;
* edges: one coordinate on an end, the others uniform;
* table edges: ``M_Zp`` on a mass where a likelihood changes form -- every mass listed in a digitised table
  (``likelihoods/data/*.csv``, first column ``mass_GeV``) and every kinematic threshold of the Z' searches
  (2 m_e, 2 m_mu, m_pi0, m_eta, m_tau - m_mu, ...; PDG masses from :func:`globalfit.physics.constants.constants`),
  exactly and a relative 1e-9 either side; the other coordinates uniform, or on a corner for one point in four.

The box of a site is its prior support; an untruncated normal site ends at loc +- :data:`globalfit.problem.config.Z_TAIL`
scale, where its prior mass underflows float64. :func:`sweep` evaluates value and gradient of
:meth:`~globalfit.problem.FitProblem.log_density` and sorts the points: a value of -inf is expected exactly where the
point leaves the physical support (:meth:`~globalfit.problem.FitProblem.log_support`); anything else non-finite is a defect.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np

import likelihoods
from globalfit import _jax  # noqa: F401
from globalfit.physics.constants import constants
from globalfit.physics.parameters import G_X_MIN, M_MIN, M_PLANCK, M_ZP_MIN, PERTURBATIVE
from globalfit.physics.scenarios import get_scenario
from globalfit.problem.config import Z_TAIL, RunConfig
from globalfit.problem.fitproblem import FitProblem, problem_from_config
from globalfit.problem.parametrisation import site_bounds
from globalfit.problem.support import M_H_CMS

__all__ = ["TABLE_DIR", "table_masses", "widest_problem", "site_box", "sweep_points", "SweepResult", "sweep_kernel", "sweep"]

TABLE_DIR = Path(likelihoods.__file__).resolve().parent / "data"
_SIDE = 1e-9  # relative offset either side of a table mass


def table_masses() -> np.ndarray:
    """Z' masses (GeV) where a likelihood changes form: the masses of every digitised table and the kinematic
    thresholds of the Z' production and decay channels (module docstring), sorted, unique."""
    masses: list[float] = []
    for f in sorted(TABLE_DIR.glob("*.csv")):
        rows = [line for line in f.read_text().splitlines() if line.strip() and not line.startswith("#")]
        if rows and rows[0].split(",")[0].strip() == "mass_GeV":
            masses += [float(r.split(",")[0]) for r in rows[1:]]
    c = constants()
    masses += [2 * c.m_e, 2 * c.m_mu, c.m_pi0, c.m_pi, c.m_eta, c.m_K, c.m_K - c.m_pi, c.m_mu - c.m_e, c.m_tau - c.m_mu,
               c.m_tau - c.m_e, c.m_omega]
    return np.unique(np.asarray(masses, dtype=np.float64))


def widest_problem(scenario: str, likelihoods: dict) -> FitProblem:
    """The fit problem whose prior box is everything a config may allow (each parameter over its whole physical range,
    :data:`globalfit.physics.parameters.PARAMETERS`; M_H above the CMS bound, since the Yukawas reach non-zero values;
    g_X log-uniform from its smallest non-zero value), with the given likelihoods: the box the numerical ranges are
    verified on."""
    sc = get_scenario(scenario)
    yukawa = {"prior": "uniform", "min": 0.0, "max": PERTURBATIVE}
    mixes = [f for f, l in zip(("e", "mu", "tau"), sc.l) if l == sc.l[0]]  # Psi mixes only with flavours of equal charge
    params = {
        "M_Zp": {"prior": "log-uniform", "min": M_ZP_MIN, "max": M_PLANCK},
        "g_X": {"prior": "log-uniform", "min": G_X_MIN, "max": PERTURBATIVE},
        "g_Psi": {"prior": "uniform", "min": -PERTURBATIVE, "max": PERTURBATIVE},
        "M_Psi": {"prior": "log-uniform", "min": M_MIN, "max": M_PLANCK},
        "M_H": {"prior": "log-uniform", "min": M_H_CMS, "max": M_PLANCK},
        "r_H": {"prior": "uniform", "min": 0.0, "max": 1.0},
        "phi_mu": {"prior": "uniform", "min": -math.pi, "max": math.pi},
        "phi_tau": {"prior": "uniform", "min": -math.pi, "max": math.pi},
        **{f"y_{f}": (yukawa if f in mixes else 0.0) for f in ("e", "mu", "tau")},
    }
    model = {"scenario": scenario, "psi_flavours": mixes}
    cfg = RunConfig.model_validate({"model": model, "params": params, "likelihoods": likelihoods})
    return problem_from_config(cfg, f"widest box of {scenario}")


def site_box(problem: FitProblem) -> tuple[np.ndarray, np.ndarray]:
    """(lower, upper) of every sample site, in the order of ``site_names`` (finite; see the module docstring)."""
    specs = problem.cfg.sampled()
    lo, hi = [], []
    for name in problem._site_order:
        info = problem.sites[name]
        a, b = site_bounds(info)
        if not (math.isfinite(a) and math.isfinite(b)):
            loc, scale = specs[name].normal_site()
            a, b = max(a, loc - Z_TAIL * scale), min(b, loc + Z_TAIL * scale)
        lo.append(a)
        hi.append(b)
    return np.asarray(lo, dtype=np.float64), np.asarray(hi, dtype=np.float64)


def sweep_points(problem: FitProblem, n: int, seed: int = 0) -> np.ndarray:
    """n points of the prior box, ``(n, n_sites)``: interior, corners, edges and table edges (module docstring)."""
    rng = np.random.default_rng(seed)
    lo, hi = site_box(problem)
    d = len(lo)
    u = rng.uniform(size=(n, d))
    k = n // 4
    u[k:2 * k] = rng.integers(0, 2, size=(k, d))  # corners
    rows = np.arange(2 * k, 3 * k)
    u[rows, rng.integers(0, d, size=k)] = rng.integers(0, 2, size=k)  # edges
    z = lo + u * (hi - lo)
    names = problem.site_names
    zp = problem.sites.get("M_Zp")
    if zp is not None and zp.site in names:
        j = names.index(zp.site)
        masses = table_masses()
        masses = np.concatenate([masses, masses * (1 - _SIDE), masses * (1 + _SIDE)])
        site = np.array([zp.to_site(m) if m > 0 else -np.inf for m in masses])
        site = site[(site >= lo[j]) & (site <= hi[j])]
        if site.size:
            rows = np.arange(3 * k, n)
            z[rows, j] = site[rng.integers(0, site.size, size=rows.size)]
            corner = rows[rng.uniform(size=rows.size) < 0.25]
            others = [i for i in range(d) if i != j]
            if others:
                z[np.ix_(corner, others)] = np.where(rng.integers(0, 2, size=(corner.size, len(others))) == 1, hi[others], lo[others])
    return z


@dataclass
class SweepResult:
    """Counts of a sweep; ``defects`` holds up to 10 offending points (site -> value) with what went wrong."""

    points: int
    outside_support: int  # value -inf where the point leaves the physical support (expected)
    nan_value: int
    inf_value_inside: int  # +inf anywhere, or -inf inside the support
    bad_gradient: int  # NaN or inf in the gradient where the value is finite
    seconds: float
    defects: list[dict] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.nan_value == self.inf_value_inside == self.bad_gradient == 0


def sweep_kernel(problem: FitProblem):
    """``jit(vmap(z -> (log-density, its gradient, inside the support)))``; build once, reuse across :func:`sweep` calls."""

    def one(z):
        value, grad = jax.value_and_grad(problem.log_density)(z)
        zs = problem.as_sites(z)
        inside = problem.inside_support(problem.point(zs)) & jnp.isfinite(problem.log_prior(zs))
        return value, grad, inside

    return jax.jit(jax.vmap(one))


def sweep(problem: FitProblem, z: np.ndarray, batch: int = 4096, kernel=None) -> SweepResult:
    """Value and gradient of the log-density at every row of ``z`` (in batches of one compiled shape), sorted as in the
    module docstring; ``kernel``: a :func:`sweep_kernel` of ``problem`` already compiled."""
    f = sweep_kernel(problem) if kernel is None else kernel
    t0 = time.perf_counter()
    counts = dict(outside_support=0, nan_value=0, inf_value_inside=0, bad_gradient=0)
    defects: list[dict] = []
    names = problem.site_names
    n = len(z)
    for start in range(0, n, batch):
        chunk = np.asarray(z[start:start + batch])
        pad = batch - len(chunk) if n > batch else 0  # one compiled shape for every batch
        if pad:
            chunk = np.concatenate([chunk, np.repeat(chunk[-1:], pad, axis=0)])
        value, grad, inside = (np.asarray(a) for a in f(jnp.asarray(chunk)))
        m = len(chunk) - pad
        value, grad, inside, chunk = value[:m], grad[:m], inside[:m], chunk[:m]
        nan = np.isnan(value)
        out = np.isneginf(value) & ~inside
        inf_in = (np.isposinf(value)) | (np.isneginf(value) & inside)
        bad_g = np.isfinite(value) & ~np.all(np.isfinite(grad), axis=-1)
        counts["outside_support"] += int(out.sum())
        counts["nan_value"] += int(nan.sum())
        counts["inf_value_inside"] += int(inf_in.sum())
        counts["bad_gradient"] += int(bad_g.sum())
        for kind, mask in (("NaN value", nan), ("inf value inside the support", inf_in), ("non-finite gradient", bad_g)):
            for i in np.flatnonzero(mask)[: max(0, 10 - len(defects))]:
                defects.append({"defect": kind, **{s: float(v) for s, v in zip(names, chunk[i])}})
    jax.block_until_ready(value)
    return SweepResult(points=n, seconds=time.perf_counter() - t0, defects=defects, **counts)
