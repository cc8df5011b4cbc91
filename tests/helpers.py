"""Shared helpers for the tests."""

import functools
import importlib.util
import sys
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np

from globalfit.physics.model import observables
from globalfit.physics.parameters import complete
from likelihoods import build_likelihood, build_likelihoods


def point(**kw):
    """A complete parameter point (defaults for the rest) as float64 arrays."""
    return complete(kw)


def asfloat(x):
    return float(jnp.asarray(x))


BOX = {  # the project's prior box; a quarter of the points on its corners
    "M_Zp": (1e-4, 5.0, "log"),
    "g_X": (1e-9, 1.0, "log"),
    "g_Psi": (-3.5, 3.5, "lin"),
    "M_Psi": (1e-3, 100.0, "log"),
    "M_H": (100.0, 5000.0, "log"),
    "cos_beta": (1e-8, 0.5, "log"),
    "y_e": (0.0, 3.5, "lin"),
    "y_mu": (0.0, 3.5, "lin"),
    "y_tau": (0.0, 3.5, "lin"),
    "phi_mu": (-np.pi, np.pi, "lin"),
    "phi_tau": (-np.pi, np.pi, "lin"),
}


def box_points(rng, n, scenario):
    """n points of the prior box BOX, a quarter of them on its corners (y_tau = 0 in B-3Ltau)."""
    pts = {}
    for k, (lo, hi, kind) in BOX.items():
        u = rng.uniform(size=n)
        u[: n // 4] = rng.integers(0, 2, size=n // 4)
        pts[k] = 10 ** (np.log10(lo) + u * (np.log10(hi) - np.log10(lo))) if kind == "log" else lo + u * (hi - lo)
    if scenario == "B-3Ltau":
        pts["y_tau"] = np.zeros(n)
    return {k: jnp.asarray(v) for k, v in pts.items()}


@functools.lru_cache(maxsize=None)
def values_and_gradient(config: tuple, scenario: str):
    """jit(vmap(p -> ({name: log L}, d(sum of log L)/dp))) of the likelihoods of ``config`` ((name, options) pairs):
    the values and the gradient in one compiled program (compiling the values apart costs a third more)."""
    # one by one: the set may hold a joint likelihood beside the ones it combines (each is checked on its own)
    lks = [build_likelihood(name, scenario, dict(opts)) for name, opts in config]

    def total(p):
        obs = observables(p, scenario)
        each = {lk.name: lk.loglike(obs) for lk in lks}
        return sum(each.values()), each

    grad = jax.vmap(jax.grad(total, has_aux=True))
    return jax.jit(lambda p: grad(p)[::-1])


def _where(p, i) -> dict:
    return {k: float(x[i]) for k, x in p.items()}


def check_finite(config: tuple, scenario: str, rng, n=96, at_most=1e-12):
    """Finite value (<= ``at_most``: log L relative to its maximum) and gradient of the likelihoods of ``config`` at n
    points of the prior box; a failure names the first point where it fails."""
    p = box_points(rng, n, scenario)
    values, grad = values_and_gradient(config, scenario)(p)
    for name, v in values.items():
        v = np.asarray(v)
        bad = np.flatnonzero(~np.isfinite(v))
        assert not bad.size, f"{name} not finite at {_where(p, bad[0])}"
        high = np.flatnonzero(v > at_most)
        assert not high.size, f"{name} = {v[high[0]]} > 0 at {_where(p, high[0])}: log L must be relative to its maximum"
    for k, g in grad.items():
        bad = np.flatnonzero(~np.isfinite(np.asarray(g)))
        assert not bad.size, f"d logL / d {k} not finite at {_where(p, bad[0])}"


@functools.lru_cache(maxsize=None)
def jitted_likelihoods(names: tuple, scenario: str):
    """(likelihoods, jit(each)) for the named likelihoods, default options; ``each(p)`` stacks their log L in the order
    of ``names``."""
    lks = build_likelihoods({n: None for n in names}, scenario)

    def each(p):
        obs = observables(p, scenario)
        return jnp.stack([lk.loglike(obs) for lk in lks])

    return lks, jax.jit(each)


def m2ll(names: tuple, scenario: str, **kw):
    """-2 ln L of each named likelihood at the point ``kw`` (defaults for the rest)."""
    return -2 * np.asarray(jitted_likelihoods(names, scenario)[1](point(**kw)))


# The paper's 2016 inputs (arXiv:1607.07616): the `paper2016` dataset wherever a likelihood has one, and the Z'
# searches that existed in 2016, per scenario (tests/test_paper_claims.py, tests/test_posterior_claims.py).
# The paper applied unitarity and the meson-decay rate at every M_Psi and the cosmology line at every coupling.
PAPER2016 = {
    "lfv_radiative": {"dataset": "paper2016"},
    "lfv_two_body": {"dataset": "paper2016"},
    "unitarity": {"dataset": "paper2016", "heavy_psi_only": False},
    "cosmology": {"dataset": "paper2016", "thermalisation": "assumed"},
    "meson_decays": {"heavy_psi_only": False},
}
# the paper's reading of its oscillation ranges: bounds on eps^Earth (its Fig. 5 caption)
OSC_LMA_2016 = {"combination": "earth"}
SEARCHES_2016 = {
    # the paper neglects kinetic mixing (runs/paper2016_B.yaml: model.kinetic_mixing none), so the visible B searches
    # see nothing; they are not part of its inputs
    "B": {"zp_baryonic_pi0": None, "zp_baryonic_eta": None, "zp_neutron_lead": None},
    "B-L": {"zp_babar_visible": None, "zp_beam_dump": None, "tau_three_body": None},
}


def load_bench(name: str):
    """The module of bench/<name>.py (the benchmark scripts are not a package; bench/ goes on sys.path, as when a script
    of it runs, for the module they share, ``benchio``)."""
    bench = Path(__file__).resolve().parent.parent / "bench"
    if str(bench) not in sys.path:
        sys.path.insert(0, str(bench))
    spec = importlib.util.spec_from_file_location(name, bench / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# Dirac matrices (Dirac representation), metric (+, -, -, -): the explicit spinor algebra of the LFV tests
_I2, _Z2 = np.eye(2), np.zeros((2, 2))
_PAULI = [np.array([[0, 1], [1, 0]]), np.array([[0, -1j], [1j, 0]]), np.array([[1, 0], [0, -1]])]
GAMMA = [np.block([[_I2, _Z2], [_Z2, -_I2]]).astype(complex)] + [np.block([[_Z2, s], [-s, _Z2]]).astype(complex) for s in _PAULI]
G5 = 1j * GAMMA[0] @ GAMMA[1] @ GAMMA[2] @ GAMMA[3]
PL, PR = (np.eye(4) - G5) / 2, (np.eye(4) + G5) / 2
METRIC = np.diag([1.0, -1.0, -1.0, -1.0])


def slash(p):
    """p-slash = gamma^mu p_mu."""
    pl = METRIC @ p
    return sum(GAMMA[m] * pl[m] for m in range(4))


def sigma(m, n):
    """sigma^{mu nu} = (i/2)[gamma^mu, gamma^nu]."""
    return 0.5j * (GAMMA[m] @ GAMMA[n] - GAMMA[n] @ GAMMA[m])


# U(1)_B with one nuisance parameter (y_e) and three cheap likelihoods: a profile map compiles in seconds (the sweep tests)
TINY_CONFIG = {
    "model": {"scenario": "B"},
    "params": {
        "M_Zp": {"prior": "log-uniform", "min": 1.0e-3, "max": 1.0e-1},
        "g_X": {"prior": "log-uniform", "min": 1.0e-7, "max": 1.0e-3},
        "y_e": {"prior": "uniform", "min": 0.0, "max": 3.5, "ref": 0.3},
        "g_Psi": -1.0, "M_Psi": 5.0, "M_H": 400.0, "r_H": 0.75, "y_mu": 0.0, "y_tau": 0.0,
    },
    "likelihoods": {"osc_lma": None, "cosmology": None, "unitarity": None},
}
