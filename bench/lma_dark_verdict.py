"""Which constraints close the U(1)_B LMA-Dark window today: -2 Delta ln L of every non-oscillation likelihood of
runs/lma_dark_B.yaml (the full B set: cosmology, CEvNS with CONUS+ and COHERENT Ge, unitarity, peak searches, LFV,
meson decays, Z' searches), relative to the SM point (g_X = 0, y = 0), at LMA-Dark points of bench/lma_dark_window.py
(Psi mixing with nu_e only, g_Psi = -0.18, kappa_e scaled to eps^Earth_ee - eps^Earth_mumu = -3, Eq. 9 at 3/4,
M_Psi = 1 GeV, M_H = 1 TeV).

    PYTHONPATH=. python bench/lma_dark_verdict.py [--config runs/lma_dark_B.yaml] [--g-psi -0.18]

Prints a Markdown table (docs/results.md, "2026 answers").
"""

from __future__ import annotations

import argparse
import importlib.util
from pathlib import Path

import globalfit  # noqa: F401  (float64)
import jax

from globalfit.physics.parameters import complete
from globalfit.problem import load_problem
from globalfit.problem.evaluate import SM_OVERRIDES

ROOT = Path(__file__).resolve().parent.parent
_spec = importlib.util.spec_from_file_location("lma_dark_window", ROOT / "bench" / "lma_dark_window.py")
_window = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_window)

MASSES = (3.5e-3, 5e-3, 7e-3, 10e-3)
COUPLINGS = (3e-6, 1e-5, 3e-5)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--config", default=str(ROOT / "runs" / "lma_dark_B.yaml"))
    ap.add_argument("--g-psi", type=float, default=-0.18)
    a = ap.parse_args()
    problem = load_problem(a.config)
    names = [n for n in problem.likelihood_names if not n.startswith("osc_")]
    terms = jax.jit(problem.loglike_terms)
    rows = []
    for M in MASSES:
        for g in COUPLINGS:
            p = _window.lma_dark_point(M, g, a.g_psi, problem.options)
            sm = complete({**{k: float(v) for k, v in p.items()}, **SM_OVERRIDES})
            lp, ls = terms(p), terms(sm)
            rows.append((M, g, {n: float(-2 * (lp[n] - ls[n])) for n in names}))
    shown = [n for n in names if any(abs(r[2][n]) > 0.05 for r in rows)]
    print(f"{a.config}: -2 Delta ln L vs the SM point at LMA-Dark points (g_Psi = {a.g_psi}); likelihoods below 0.05 everywhere: "
          + ", ".join(n for n in names if n not in shown))
    print("\n| M_Z' [MeV] | g_B | " + " | ".join(shown) + " | total |")
    print("| --- | --- | " + " | ".join("---" for _ in shown) + " | --- |")
    for M, g, d in rows:
        print(f"| {M * 1e3:g} | {g:.0e} | " + " | ".join(f"{d[n]:.3g}" for n in shown) + f" | {sum(d.values()):.3g} |")


if __name__ == "__main__":
    main()
