"""The U(1)_B constraints of likelihoods/zprime_searches.py and likelihoods/zprime_baryonic.py at the LMA-Dark window
(M_Zp = 3.5-7 MeV, g_B = 3e-6 .. 9e-5; docs/results.md §3): -2 Delta ln L of each, relative to the SM point, at LMA-Dark
points (Psi mixing with nu_e only, g_Psi g_B < 0, kappa_e scaled so that eps^Earth_ee - eps^Earth_mumu = -3, Eq. 9 at
3/4 of its maximum, M_Psi = 1 GeV, M_H = 1 TeV), for both kinetic-mixing choices, and for context the total of the
non-oscillation likelihoods of runs/lma_dark_B.yaml (cosmology, CEvNS, unitarity, LFV, meson decays, Z' searches) at
the same points.

    /work/venv/bin/python bench/lma_dark_window.py [--g-psi -0.18]

Prints Markdown tables (docs/results.md, "U(1)_B constraints at the LMA-Dark window").
"""

from __future__ import annotations

import argparse
import math
from pathlib import Path

import globalfit  # noqa: F401  (float64)
import jax
import numpy as np

from globalfit.physics.constants import constants
from globalfit.physics.model import ModelOptions, observables
from globalfit.physics.parameters import complete
from globalfit.problem import load_problem
from likelihoods import build_likelihoods

ROOT = Path(__file__).resolve().parent.parent
MINE = ["zp_baryonic_visible", "zp_baryonic_pi0", "zp_baryonic_eta", "zp_neutron_lead", "zp_baryonic_anomaly",
        "zp_anomaly_fermion_mass"]
OPTIONAL = {"zp_baryonic_anomaly", "zp_anomaly_fermion_mass"}
MASSES = (3.5e-3, 5e-3, 7e-3)
COUPLINGS = (3e-6, 1e-5, 3e-5, 9e-5)


# H- above the 13 TeV slepton-like search (lhc_charged_scalar: 0.01 at 1 TeV with Br(H- -> e Psi) = 1, 43 at 400 GeV); with
# y_e alone no other likelihood depends on M_H, and the NSI do not
M_H_WINDOW = 1000.0


def lma_dark_point(M, g, g_psi, options):
    """kappa_e only, scaled to eps^Earth_ee - eps^Earth_mumu = -3 (linear in |kappa_e|^2)."""
    c = constants()
    cb = 0.75 * M / (abs(g_psi) * c.vev)
    y = lambda k2: math.sqrt(k2) * math.sqrt(2) / (c.vev * cb)  # Eq. (8) inverted, M_Psi = 1 GeV  # noqa: E731
    p = complete(dict(M_Zp=M, g_X=g, g_Psi=g_psi, cos_beta=cb, y_e=y(1e-4), M_Psi=1.0, M_H=M_H_WINDOW))
    o = observables(p, "B", options)
    d = float(o["eps_earth_ee"] - o["eps_earth_mumu"])
    return complete(dict(M_Zp=M, g_X=g, g_Psi=g_psi, cos_beta=cb, y_e=y(1e-4 * (-3.0 / d)), M_Psi=1.0, M_H=M_H_WINDOW))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--g-psi", type=float, default=-0.18, help="g_Psi (negative: LMA-Dark in U(1)_B)")
    args = ap.parse_args()
    mine = build_likelihoods({n: None for n in MINE}, "B")
    full = load_problem(ROOT / "runs" / "lma_dark_B.yaml")
    for km in ("loop", "none"):
        opts = ModelOptions(kinetic_mixing=km)
        each = jax.jit(lambda p: {lk.name: lk.loglike(observables(p, "B", opts)) for lk in mine})  # noqa: B023
        config_lks = [lk for lk in full.likelihoods if not lk.name.startswith("osc_")]
        total = jax.jit(lambda p: sum(lk.loglike(observables(p, "B", opts)) for lk in config_lks))  # noqa: B023
        print(f"\n### kinetic mixing: {km}  (g_Psi = {args.g_psi})\n")
        print("| M_Zp [MeV] | g_B | " + " | ".join(MINE) + " | sum, data only | sum with optional | lma_dark_B.yaml non-oscillation total |")
        print("|" + "---|" * (len(MINE) + 5))
        for M in MASSES:
            for g in COUPLINGS:
                p = lma_dark_point(M, g, args.g_psi, opts)
                sm = dict(p, g_X=np.float64(0.0), y_e=np.float64(0.0))
                c = {k: -2.0 * float(v) for k, v in each(p).items()}
                c0 = {k: -2.0 * float(v) for k, v in each(sm).items()}
                d = {k: c[k] - c0[k] for k in MINE}
                data = sum(v for k, v in d.items() if k not in OPTIONAL)
                tot = -2.0 * (float(total(p)) - float(total(sm)))
                cells = " | ".join(f"{d[k]:.3g}" for k in MINE)
                print(f"| {M * 1e3:g} | {g:.0e} | {cells} | {data:.3g} | {sum(d.values()):.3g} | {tot:.3g} |")


if __name__ == "__main__":
    main()
