"""``globalfit run CONFIG``: fit problem -> NUTS -> chunked draws on disk -> ArviZ outputs, report, plots.

The stages live in their layers: the problem (:mod:`globalfit.problem.fitproblem`), the sampler (:mod:`globalfit.inference.nuts`),
the run directory (:mod:`globalfit.outputs.rundir`: layout, resume, atomic writes), the outputs (:mod:`globalfit.outputs.report`,
:mod:`globalfit.outputs.plots`, the page ``report.html`` of :mod:`globalfit.outputs.htmlreport`). This module strings them together and returns text; the CLI prints it.

``--resume`` reloads the chain state and continues, only if :func:`globalfit.problem.config.config_hash` is unchanged
(``sampler.draws`` may grow); an existing directory is never overwritten without ``--force``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable

from globalfit import _jax  # noqa: F401
from globalfit.problem.config import config_hash
from globalfit.outputs.chains import mcsamples
from globalfit.outputs.htmlreport import write_html_report
from globalfit.outputs.plots import make_plots
from globalfit.problem import FitProblem, load_problem
from globalfit.outputs.report import build_idata, write_outputs
from globalfit.outputs.rundir import prepare_run_dir, resolved_yaml, write_progress
from globalfit.inference.nuts import sample_run
from globalfit.problem.support import constraint_values

__all__ = ["run_fit", "dry_run_text"]


def dry_run_text(problem: FitProblem) -> tuple[str, bool]:
    """(text, inside): the resolved config, the likelihoods with references, the start point, the constraints and
    ln L there; ``inside`` says whether the start point lies in the physical support."""
    cfg = problem.cfg
    lines = [f"# resolved config ({problem.where}; hash {config_hash(cfg)})", resolved_yaml(cfg).rstrip(), "", "likelihoods:"]
    if not problem.likelihoods:
        lines.append("  (none: the run samples the prior)")
    for lk in problem.likelihoods:
        lines.append(f"  {lk.name:<24s} {lk.info.constrains}")
        lines.append(f"  {'':<24s} ref: {lk.info.reference}   data: {lk.info.data_edition}")
    start = problem.start()
    p = problem.physical(start)
    lines += ["", "start point (fixed values, ref, else prior centre):"]
    for k, v in p.items():
        mark = "sampled" if k in cfg.sampled() else ("derived (r_H)" if k == "cos_beta" and "r_H" in start else "fixed")
        lines.append(f"  {k:<10s} {float(v):>13.6g}   {mark}")
    if "r_H" in start:
        lines.append(f"  {'r_H':<10s} {start['r_H']:>13.6g}   {'sampled' if 'r_H' in cfg.sampled() else 'fixed'}")
    lines += ["", "constraints at the start point:"]
    inside = True
    for name, (val, bound, holds) in constraint_values(p, problem.scenario, problem.options).items():
        ok = bool(holds)
        inside &= ok or not problem.constrained
        lines.append(f"  {name:<30s} {float(val):>12.4g}  bound {float(bound):>10.4g}  {'ok' if ok else 'VIOLATED'}")
    terms = problem.loglike_terms(p)
    lines += ["", "log L at the start point:"]
    lines += [f"  {name:<24s} {float(v):>13.6g}" for name, v in terms.items()]
    lines.append(f"  {'total':<24s} {sum(float(v) for v in terms.values()):>13.6g}")
    return "\n".join(lines), inside


def run_fit(path: Path, resume: bool = False, force: bool = False, log: Callable[[str], None] = lambda line: None,
            progress_bar: bool = False) -> str:
    """Run (or resume) the fit of a config file; returns the diagnostics report. ``log`` receives progress lines."""
    path = Path(path)
    problem = load_problem(path)
    outdir, prog = prepare_run_dir(problem.cfg, path, resume, force)
    if prog.get("finished") and prog["draws_done"] >= prog["draws_target"]:
        log(f"{outdir}: run already complete ({prog['draws_done']} draws per chain); rebuilding the outputs")
    sample_run(problem, outdir, prog, log=log, progress_bar=progress_bar)
    prog["finished"] = True
    write_progress(outdir, prog)
    idata = build_idata(outdir)
    report = write_outputs(outdir, idata)
    samples = mcsamples(idata, problem.cfg)
    make_plots(outdir, idata, samples=samples)
    write_html_report(outdir, idata, samples=samples, problem=problem.exact(), reuse_plots=True)
    return report
