"""Time the outputs of a finished run, the steps ``globalfit run`` takes after the last chunk (docs/performance.md,
"The figures of a run"): the ArviZ data, its summary and the text report (NetCDF not rewritten), the GetDist
samples, the plots (``make_plots``; trace, rank and corner_eps beside them, ``figures_beside``) and the HTML report, as
``nuts.run_problem`` calls them.
It rewrites the run's figures and report (a copy of the run directory keeps the original).

    PYTHONPATH=. python bench/run_outputs.py OUTDIR CONFIG
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from globalfit.inference.nuts import mcsamples  # noqa: E402
from globalfit.outputs.htmlreport import write_html_report  # noqa: E402
from globalfit.outputs.plots import figures_beside, make_plots  # noqa: E402
from globalfit.outputs.report import build_idata, summarise, write_outputs  # noqa: E402
from globalfit.problem import load_problem  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("outdir", type=Path)
    ap.add_argument("config")
    a = ap.parse_args()
    problem = load_problem(a.config)
    warnings.simplefilter("ignore")
    t0 = time.perf_counter()
    idata = build_idata(a.outdir)
    with figures_beside(a.outdir, idata):  # trace, rank, corner_eps in a second process for a long run, as globalfit run
        summary = summarise(idata, problem.cfg)
        write_outputs(a.outdir, idata, netcdf=False, summary=summary)
        t1 = time.perf_counter()
        samples = mcsamples(idata, problem.cfg)
        make_plots(a.outdir, idata, samples=samples, beside=False)
        t2 = time.perf_counter()
        write_html_report(a.outdir, idata, samples=samples, problem=problem.exact(), reuse_plots=True, summary=summary)
        t3 = time.perf_counter()
    t4 = time.perf_counter()
    files = sorted((a.outdir / "plots").iterdir())
    size = sum(f.stat().st_size for f in files) / 1e6
    print(f"{a.outdir}: {idata.posterior.sizes['chain']} chains x {idata.posterior.sizes['draw']} draws")
    print(f"ArviZ data, summary and text report {t1 - t0:.1f} s; GetDist samples, corner and plane "
          f"{t2 - t1:.1f} s; HTML report {t3 - t2:.1f} s; then waiting for trace, rank and corner_eps {t4 - t3:.1f} s ({len(files)} "
          f"files, {size:.1f} MB)")


if __name__ == "__main__":
    main()
