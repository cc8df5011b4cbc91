"""``globalfit run CONFIG``: fit problem -> NUTS -> chunked draws on disk -> ArviZ outputs, report, plots.

The stages live in their layers: the problem (:mod:`globalfit.problem.fitproblem`), the sampler (:mod:`globalfit.inference.nuts`),
the run directory (:mod:`globalfit.outputs.rundir`: layout, resume, atomic writes), the outputs (:mod:`globalfit.outputs.report`,
:mod:`globalfit.outputs.plots`). This module strings them together and returns text; the CLI prints it.

``--resume`` reloads the chain state and continues, only if :func:`globalfit.problem.config.config_hash` is unchanged
(``sampler.draws`` may grow); an existing directory is never overwritten without ``--force``.

Before anything is compiled :func:`run_checks` refuses what cannot run (an absent device, more memory, disk or time
than there is) and warns about large runs; a run holds the output directory's lock
(:func:`globalfit.outputs.rundir.run_lock`) from the first file it writes to the last, so two runs on one directory
never interleave.
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable

from globalfit import _jax  # noqa: F401
from globalfit.errors import ConfigError, OutputError
from globalfit.problem.config import config_hash
from globalfit.outputs.plots import make_plots
from globalfit.problem import FitProblem, load_problem
from globalfit.outputs.report import build_idata, write_outputs
from globalfit.outputs.rundir import prepare_run_dir, resolved_yaml, run_lock, write_progress
from globalfit.inference.nuts import check_resources, estimate_run, sample_run, select_device
from globalfit.problem.support import constraint_values

__all__ = ["run_fit", "dry_run_text", "run_checks"]


def run_checks(problem: FitProblem) -> list[str]:
    """Refuse (ConfigError) a run whose device is absent or whose resources exceed this machine
    (:func:`globalfit.inference.nuts.check_resources`); returns warnings about large runs."""
    devices = select_device(problem)
    outdir = Path(problem.cfg.output.dir) if problem.cfg.output is not None else None
    warnings = check_resources(problem, outdir)
    s = problem.cfg.sampler
    if s.chain_method == "parallel" and s.chains > len(devices):
        warnings.append(f"{problem.where}: sampler.chain_method: parallel needs one {s.device} device per chain ({s.chains} chains, "
                        f"{len(devices)} device{'s' if len(devices) > 1 else ''}); the chains run vectorized on one device")
    return warnings


def dry_run_text(problem: FitProblem) -> tuple[str, bool]:
    """(text, inside): the resolved config, the likelihoods with references, the start point, the constraints and
    ln L there; ``inside`` says whether the start point lies in the physical support."""
    cfg = problem.cfg
    lines = [f"# resolved config ({problem.where}; hash {config_hash(cfg)})", resolved_yaml(cfg).rstrip(), "", "resources:"]
    lines += [f"  {line}" for line in estimate_run(problem).lines()]
    lines += ["", "likelihoods:"]
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
    """Run (or resume) the fit of a config file; returns the diagnostics report. ``log`` receives progress lines and
    warnings."""
    path = Path(path)
    problem = load_problem(path)
    if problem.cfg.output is None:
        raise ConfigError(f"{path}: output: required key is missing (output: {{dir: <directory>}})")
    for warning in run_checks(problem):
        log(f"warning: {warning}")
    outdir = Path(problem.cfg.output.dir)
    with run_lock(outdir, command=f"run {path}"):
        try:
            notes: list[str] = []
            outdir, prog = prepare_run_dir(problem.cfg, path, resume, force, notes)
            for note in notes:
                log(f"{outdir}: {note}")
            if prog.get("finished") and prog["draws_done"] >= prog["draws_target"]:
                log(f"{outdir}: run already complete ({prog['draws_done']} draws per chain); rebuilding the outputs")
            sample_run(problem, outdir, prog, log=log, progress_bar=progress_bar)
            prog["finished"] = True
            write_progress(outdir, prog)
            idata = build_idata(outdir)
            report = write_outputs(outdir, idata)
            make_plots(outdir, idata)
        except OSError as exc:  # disk full, permissions, ...: every file on disk is complete (atomic writes)
            raise OutputError(f"{outdir}: {exc.strerror or exc} writing {exc.filename or 'the run'}; what is on disk is complete: "
                              "fix the cause and continue with --resume") from None
    return report
