"""``globalfit run CONFIG``: fit problem -> NUTS -> chunked draws on disk -> ArviZ outputs, report, plots.

The stages live in their layers: the problem (:mod:`globalfit.problem.fitproblem`), the sampler (:mod:`globalfit.inference.nuts`),
the run directory (:mod:`globalfit.outputs.rundir`: layout, resume, atomic writes), the outputs (:mod:`globalfit.outputs.report`,
:mod:`globalfit.outputs.plots`, the page ``report.html`` of :mod:`globalfit.outputs.htmlreport`). This module strings them together and returns text; the CLI prints it.

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
from globalfit.errors import ConfigError
from globalfit.problem.config import config_hash
from globalfit.problem import FitProblem, load_problem
from globalfit.outputs.rundir import resolved_yaml
from globalfit.inference.nuts import check_resources, estimate_run, run_problem, select_device
from globalfit.problem.evaluate import SM_OVERRIDES
from globalfit.problem.support import constraint_values

__all__ = ["run_fit", "dry_run_text", "run_checks", "check_output"]


def check_output(problem: FitProblem, path: Path | str) -> None:
    """Refuse (ConfigError) a config without ``output``: ``globalfit run`` has nowhere to write (its dry run says so
    too, with the same message)."""
    if problem.cfg.output is None:
        raise ConfigError(f"{path}: output: required key is missing (output: {{dir: <directory>}})")


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
        lines.append(f"  {lk.name:<24s} {lk.constrains}")
        lines.append(f"  {'':<24s} ref: {lk.reference}   data: {lk.data_edition}")
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
    for name, c in constraint_values(p, problem.scenario, problem.options).items():
        ok = bool(c.holds)
        inside &= ok or not problem.constrained
        lines.append(f"  {name:<30s} {float(c.value):>12.4g}  bound {float(c.bound):>10.4g}  {'ok' if ok else 'VIOLATED'}")
    terms = problem.loglike_terms(p)
    lines += ["", "log L at the start point:"]
    lines += [f"  {name:<24s} {float(v):>13.6g}" for name, v in terms.items()]
    total = sum(float(v) for v in terms.values())
    total_sm = sum(float(v) for v in problem.loglike_terms(problem.physical({**start, **SM_OVERRIDES})).values())
    lines.append(f"  {'total':<24s} {total:>13.6g}")
    lines.append(f"  {'-2 Delta ln L vs SM':<24s} {2.0 * (total_sm - total):>13.6g}   (SM: g_X = 0, y_alpha = 0)")
    return "\n".join(lines), inside


def run_fit(path: Path, resume: bool = False, force: bool = False, log: Callable[[str], None] = lambda line: None,
            progress_bar: bool = False) -> str:
    """Run (or resume) the fit of a config file; returns the diagnostics report. ``log`` receives progress lines and
    warnings."""
    path = Path(path)
    problem = load_problem(path)
    check_output(problem, path)
    for warning in run_checks(problem):
        log(f"warning: {warning}")
    return run_problem(problem, path.read_text(), resume=resume, force=force, log=log, progress_bar=progress_bar)
