"""Figures for the light-Psi and cosmology likelihoods (issue 11; numbers quoted in docs/results.md).

1. Prior volume of a light Psi in a full config (default runs/full_B.yaml): prior draws (the config's sample sites,
   with the M_Psi > M_Zp factor and the physical support as weights) -> the share with M_Psi < m_K, and within it the
   share excluded at 90 % CL (-2 Delta ln L > 2.71) by psi_peak_searches, by the heavy-Psi unitarity bound applied
   there regardless (the former treatment), and by neither.
2. -2 Delta ln L of the cosmology likelihood (relative to the SM point) across the U(1)_B LMA-Dark window
   (M_Zp = 3.5-7 MeV) at an LMA-Dark point (eps^Earth_ee = -3, kappa_e only, g_B = 1e-5, g_Psi = -1, M_Psi = 1 GeV):
   Planck 2018 / ACT DR6 / ACT DR6 + BBN, thermalisation gated and assumed, and K_Z = Gamma/H there.

    PYTHONPATH=. /work/venv/bin/python bench/light_psi_cosmology.py [--config runs/full_B.yaml] [--draws 20000]
"""

from __future__ import annotations

import argparse
import math
from pathlib import Path

import globalfit  # noqa: F401  (float64)
import jax
import jax.numpy as jnp
import numpy as np

from globalfit.physics.constants import constants
from globalfit.physics.model import observables
from globalfit.physics.parameters import complete
from globalfit.problem import load_problem
from likelihoods import build_likelihood
from likelihoods.stats import ALLOWED_DELTA_CHI2

ROOT = Path(__file__).resolve().parent.parent


def prior_volume(config: Path, draws: int, seed: int) -> dict:
    problem = load_problem(config)
    sc = problem.scenario
    peak = build_likelihood("psi_peak_searches", sc)
    unit_gated = build_likelihood("unitarity", sc)
    unit_all = build_likelihood("unitarity", sc, {"heavy_psi_only": False})
    key = jax.random.PRNGKey(seed)
    z = {}
    for name in problem.sampled_names:
        info = problem.sites[name]
        key, sub = jax.random.split(key)
        z[info.site] = info.distribution.sample(sub, (draws,))

    def one(zi):
        vals, log_f = problem.values(zi)
        p = problem.physical(vals)
        obs = observables(p, sc, problem.options)
        w = jnp.exp(log_f + problem.log_support(p))
        return (w, p["M_Psi"], -2 * peak.loglike(obs), -2 * unit_gated.loglike(obs), -2 * unit_all.loglike(obs))

    w, m, c_peak, c_gated, c_all = (np.asarray(x) for x in jax.jit(jax.vmap(one))(z))
    w = np.where(np.isfinite(w), w, 0.0)
    light = m < constants().m_K
    wl = w * light
    frac = lambda sel: float(np.sum(wl * sel) / np.sum(wl))  # noqa: E731
    return {
        "draws": draws,
        "prior_share_light": float(np.sum(wl) / np.sum(w)),
        "light_excluded_by_peak_searches": frac(c_peak > ALLOWED_DELTA_CHI2),
        "light_excluded_by_unitarity_applied_there": frac(c_all > ALLOWED_DELTA_CHI2),
        "light_excluded_by_gated_unitarity": frac(c_gated > ALLOWED_DELTA_CHI2),
        "light_excluded_by_neither_peak_nor_old_unitarity": frac((c_peak <= ALLOWED_DELTA_CHI2) & (c_all <= ALLOWED_DELTA_CHI2)),
        "light_excluded_by_peak_not_old_unitarity": frac((c_peak > ALLOWED_DELTA_CHI2) & (c_all <= ALLOWED_DELTA_CHI2)),
    }


def lmad_point(M_Zp: float, g_B: float = 1e-5, g_Psi: float = -1.0) -> dict:
    """U(1)_B, kappa_e only, cos(beta) at 3/4 of Eq. (9), y_e set so that eps^Earth_ee = -3 (LMA-Dark)."""
    cb = 0.75 * M_Zp / (abs(g_Psi) * constants().vev)
    base = dict(M_Zp=M_Zp, g_X=g_B, g_Psi=g_Psi, cos_beta=cb, M_Psi=1.0, y_e=1.0)
    e = float(observables(complete(base), "B")["eps_earth_ee"])
    return complete(dict(base, y_e=math.sqrt(-3.0 / e)))


def cosmology_window() -> list[tuple]:
    rows = []
    for dataset in ("planck2018", "act2025", "act2025_bbn"):
        for therm in ("gated", "assumed"):
            lk = build_likelihood("cosmology", "B", {"dataset": dataset, "thermalisation": therm})
            vals = []
            for M in (3.5e-3, 5e-3, 7e-3):
                obs = observables(lmad_point(M), "B")
                vals.append(-2 * float(lk.loglike(obs)))
            rows.append((dataset, therm, *vals, lk.lower_mass_bound(4.0) * 1e3, lk.lower_mass_bound() * 1e3))
    return rows


def thermalisation_k(M_Zp: float) -> float:
    """K_Z = Gamma(Z' -> nu nu)/H(T = M_Zp) at the LMA-Dark point (eps fixed: G grows as g_B falls, so every LMA-Dark
    point thermalises)."""
    from globalfit.physics.widths import width_to_neutrinos
    from likelihoods.cosmology import hubble

    obs = observables(lmad_point(M_Zp), "B")
    return float(width_to_neutrinos(obs["G"], M_Zp)) / hubble(M_Zp)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--config", default=str(ROOT / "runs" / "full_B.yaml"))
    ap.add_argument("--draws", type=int, default=20000)
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args()
    print(f"# prior volume ({a.config}, {a.draws} prior draws, support-weighted)")
    for k, v in prior_volume(Path(a.config), a.draws, a.seed).items():
        print(f"{k:52s} {v:.4g}" if isinstance(v, float) else f"{k:52s} {v}")
    print("\n# cosmology at the U(1)_B LMA-Dark point (eps^Earth_ee = -3, g_B = 1e-5, g_Psi = -1, M_Psi = 1 GeV)")
    print(f"{'dataset':12s} {'thermal.':8s} {'3.5 MeV':>8s} {'5 MeV':>8s} {'7 MeV':>8s} {'M(4) MeV':>9s} {'M(2.71)':>8s}")
    for r in cosmology_window():
        print(f"{r[0]:12s} {r[1]:8s} {r[2]:8.1f} {r[3]:8.1f} {r[4]:8.1f} {r[5]:9.2f} {r[6]:8.2f}")
    ks = ", ".join(f"{thermalisation_k(M):.2g}" for M in (3.5e-3, 5e-3, 7e-3))
    print(f"\nK_Z = Gamma(Z' -> nu nu)/H(T = M_Zp) at those points (3.5 / 5 / 7 MeV): {ks} (gate open above 10)")


if __name__ == "__main__":
    main()
