"""Do two runs of the same posterior agree? For every sample site of both runs: mean and sd in each, the difference of
the means in units of its Monte Carlo standard error (sqrt(var_a / ESS_a + var_b / ESS_b), ArviZ bulk ESS), and the
5/50/95 % quantiles. Used to check one sampler against another (e.g. NUTS with Metropolis moves against the ensemble).

    PYTHONPATH=. python bench/compare_posteriors.py out/gallery/full_B out/full_B

Not part of the test suite. Results: docs/performance.md.
"""

from __future__ import annotations

import argparse
import warnings
from pathlib import Path

import numpy as np

from globalfit.problem.config import load_config
from globalfit.problem.parametrisation import sites_for


def _sites(run: Path) -> list[str]:
    cfg = run / "config.resolved.yaml"
    return [info.diagnosed for info in sites_for(load_config(cfg)).values()] if cfg.exists() else []


def compare(a: Path, b: Path) -> list[dict]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import arviz as az

        da, db = az.from_netcdf(str(a / "posterior.nc")), az.from_netcdf(str(b / "posterior.nc"))
        names = [n for n in _sites(a) if n in da.posterior and n in db.posterior] or sorted(set(da.posterior) & set(db.posterior))
        rows = []
        for n in names:
            x, y = np.asarray(da.posterior[n]).ravel(), np.asarray(db.posterior[n]).ravel()
            ea, eb = float(az.ess(da, var_names=[n])[n]), float(az.ess(db, var_names=[n])[n])
            se = float(np.sqrt(x.var() / ea + y.var() / eb))
            rows.append({"site": n, "mean_a": float(x.mean()), "sd_a": float(x.std()), "mean_b": float(y.mean()), "sd_b": float(y.std()),
                         "z": float((x.mean() - y.mean()) / se) if se > 0 else 0.0,
                         "q_a": np.percentile(x, [5, 50, 95]).tolist(), "q_b": np.percentile(y, [5, 50, 95]).tolist()})
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("run_a")
    ap.add_argument("run_b")
    args = ap.parse_args()
    rows = compare(Path(args.run_a), Path(args.run_b))
    print(f"a = {args.run_a}, b = {args.run_b}")
    print(f"{'site':14s} {'mean a':>9s} {'sd a':>7s} {'mean b':>9s} {'sd b':>7s} {'z':>6s}   q5/50/95 a  |  b")
    for r in rows:
        qa = " ".join(f"{v:.2f}" for v in r["q_a"])
        qb = " ".join(f"{v:.2f}" for v in r["q_b"])
        print(f"{r['site']:14s} {r['mean_a']:9.3f} {r['sd_a']:7.3f} {r['mean_b']:9.3f} {r['sd_b']:7.3f} {r['z']:6.2f}   {qa}  |  {qb}")
    print("largest |z|: %.2f" % max(abs(r["z"]) for r in rows))


if __name__ == "__main__":
    main()
