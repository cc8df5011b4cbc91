"""Do two likelihoods that share data both act on a posterior? (review L8: Borexino in the 2013 oscillation fit and in
nu_e_borexino; DeepCore in the 2013 fit and beside IceCube's eps_mutau.) For each named likelihood of a run: the
spread of -2 (ln L - its best draw) over the posterior draws; for each pair: the share of draws where both exceed 1.

    PYTHONPATH=. python bench/double_use.py out/full_BmL [--terms osc_lma osc_icecube_mutau nu_e_borexino]
"""

from __future__ import annotations

import argparse
import itertools
from pathlib import Path

import arviz as az
import numpy as np


def spread(log_likelihood: np.ndarray) -> np.ndarray:
    """-2 (ln L - max over draws) of one likelihood, flattened over chains and draws."""
    x = np.asarray(log_likelihood).ravel()
    return 2.0 * (x.max() - x)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("run", help="output directory of a run (holds posterior.nc)")
    ap.add_argument("--terms", nargs="+", default=["osc_lma", "osc_icecube_mutau", "nu_e_borexino"])
    args = ap.parse_args()
    ll = az.from_netcdf(Path(args.run) / "posterior.nc").log_likelihood
    terms = {t: spread(ll[t].values) for t in args.terms if t in ll}
    print(f"{args.run}: {next(iter(terms.values())).size} draws")
    print("| likelihood | median | 99th percentile | max |\n| --- | --- | --- | --- |")
    for t, d in terms.items():
        print(f"| {t} | {np.median(d):.3f} | {np.percentile(d, 99):.3f} | {d.max():.2f} |")
    for (a, da), (b, db) in itertools.combinations(terms.items(), 2):
        print(f"both {a} and {b} > 1: {np.mean((da > 1) & (db > 1)):.1e} of the draws")


if __name__ == "__main__":
    main()
