"""Command-line interface: ``globalfit evaluate|likelihoods|run|profile|sweep|evidence|summary|plot|report|export|cobaya|constraints``.

User errors (bad config, bad value, unknown name) print one line ``globalfit: error: ...`` and exit 2;
no traceback.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import math
import os
import sys
import time
from pathlib import Path

import numpy as np

from globalfit._jax import enable_compilation_cache
from globalfit.engine import check_output, dry_run_text, run_checks, run_fit
from globalfit.errors import GlobalfitError, InputError
from globalfit.problem.evaluate import check_values, evaluate_point, format_table, violated_constraints
from globalfit.inference.evidence import (check_new_output, evidence, format_evidence, format_seed_scatter, seed_scatter,
                                          write_evidence)
from globalfit.inference.profile import ProfileSettings
from globalfit.physics.model import ModelOptions
from globalfit.names import did_you_mean
from globalfit.physics.parameters import PARAMETERS, check_log_range, check_point
from globalfit.outputs.chains import export_getdist, export_target, quiet_getdist
from globalfit.outputs.htmlreport import write_html_report
from globalfit.outputs.plots import compare_outputs, compare_plots, compare_runs, make_plots
from globalfit.outputs.rundir import check_file_target, write_new_file
from globalfit.inference.cobaya_interop import cobaya_yaml
from globalfit.outputs.constraints_map import constraints_map, output_paths, save_constraints_map
from globalfit.problem import FitProblem, load_problem
from globalfit.inference.sweep import JOBQUEUE, check_sweep_outputs, dask_client, dask_scheduler_address, local_workers, make_job, run_sweep
from globalfit.outputs.profile_result import load_profile
from globalfit.problem.config import SEED_MAX, load_config
from globalfit.problem.sweep_config import ConfigRef, JobSpec, sweep_jobs
from globalfit.outputs.report import build_idata, load_run_config, summary_report
from globalfit.physics.scenarios import SCENARIOS, get_scenario
from likelihoods import build_likelihoods, default_likelihoods, describe_all

__all__ = ["main"]

SET_NAMES = tuple(PARAMETERS) + ("r_H",)


def _err(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def _path_option(option: str, value: str | None) -> Path | None:
    """The path given to ``option`` (None when not given); an empty one is refused rather than read as the current
    directory or as the default."""
    if value is None:
        return None
    if not value.strip():
        raise InputError(f"{option} {value!r}: empty; give a path (or leave the option out for its default)")
    return Path(value)


def _parse_set(items: list[str]) -> dict[str, float]:
    out: dict[str, float] = {}
    for item in items:
        if "=" not in item:
            raise InputError(f"--set {item!r}: expected NAME=VALUE")
        name, _, raw = item.partition("=")
        name = name.strip()
        if name not in SET_NAMES:
            raise InputError(f"--set {item!r}: unknown parameter {name!r}{did_you_mean(name, SET_NAMES)}; expected one of {list(SET_NAMES)}")
        if name in out:
            raise InputError(f"--set {item!r}: {name} is set twice")
        try:
            value = float(raw)
        except ValueError:
            raise InputError(f"--set {item!r}: value {raw!r} of {name} is not a number") from None
        if not math.isfinite(value):
            raise InputError(f"--set {item!r}: value of {name} must be a finite number")
        out[name] = value
    if "r_H" in out and "cos_beta" in out:
        raise InputError("--set r_H and --set cos_beta: give one of them (cos_beta = r_H M_Zp/(|g_Psi - g_l| v), Eq. 9)")
    return out


def _check_set(values: dict[str, float], items: list[str]) -> None:
    """Each ``--set`` value alone in its physical range (r_H in (0, 1]); the error names the ``--set`` item, not the
    config the other values come from."""
    given = {item.partition("=")[0].strip(): item for item in items}
    for name, value in values.items():
        try:
            if name == "r_H":
                if not 0.0 < value <= 1.0:
                    raise ValueError(f"parameter r_H={value:g} must lie in (0, 1] (Eq. 9)")
            else:
                check_point({name: value})
        except ValueError as exc:
            raise InputError(f"--set {given.get(name, name)}: {exc}") from None


def _cmd_evaluate(args) -> int:
    overrides = _parse_set(args.set or [])
    _check_set(overrides, args.set or [])
    if args.config:
        problem = load_problem(args.config)
        if args.scenario and args.scenario != problem.scenario.name:
            raise InputError(f"--scenario {args.scenario!r}: differs from model.scenario {problem.scenario.name!r} of {args.config}")
        if not problem.likelihoods:
            problem = problem.with_likelihoods(build_likelihoods(default_likelihoods(problem.scenario.name), problem.scenario, "default likelihoods"))
        values = problem.start()
        if "cos_beta" in overrides:
            values.pop("r_H", None)  # an explicit cos_beta replaces the config's r_H parametrisation
        if "r_H" in overrides:
            values.pop("cos_beta", None)
        values.update(overrides)
        try:
            result = problem.evaluate(values)
        except (KeyError, ValueError) as exc:
            where = f"{args.config} with --set {' '.join(args.set)}" if overrides else args.config
            raise InputError(f"{where}: {str(exc).strip(chr(39) + chr(34))}") from None
    else:
        if args.scenario is None:
            raise InputError("no scenario: give --scenario {" + ",".join(SCENARIOS) + "} or a CONFIG with model.scenario")
        if args.scenario not in SCENARIOS:
            raise InputError(f"--scenario {args.scenario!r}: unknown scenario{did_you_mean(args.scenario, SCENARIOS)}; expected one of {list(SCENARIOS)}")
        try:
            check_values(overrides, args.scenario)  # refuse bad values before the likelihoods are built
        except (KeyError, ValueError) as exc:
            raise InputError(str(exc).strip("'\"")) from None
        lks = build_likelihoods(default_likelihoods(args.scenario), get_scenario(args.scenario), "default likelihoods")
        try:
            result = evaluate_point(overrides, args.scenario, ModelOptions(), lks)
        except (KeyError, ValueError) as exc:
            raise InputError(str(exc).strip("'\"")) from None
    violated = violated_constraints(result, problem.options if args.config else ModelOptions())
    if violated:
        _err(f"warning: the point lies outside the model's physical support (violates {', '.join(violated)}); its log L has no physical meaning")
    print(json.dumps(result, indent=2) if args.json else format_table(result))
    return 0


def _cmd_likelihoods(args) -> int:
    rows = describe_all()
    if args.json:
        print(json.dumps(rows, indent=2))
    else:
        for r in rows:
            print(f"{r['name']:<24s} {r['constrains']}")
            print(f"{'':<24s} ref: {r['reference']}   data: {r['data_edition']}")
            opts = ", ".join(f"{k}={v!r}" for k, v in r["options"].items())
            print(f"{'':<24s} scenarios: {', '.join(r['scenarios'])}   options: {opts or '(none)'}")
    return 0


def _cmd_run(args) -> int:
    if args.dry_run:
        problem = load_problem(args.config)
        check_output(problem, args.config)  # what `globalfit run` refuses, the dry run refuses too
        for warning in run_checks(problem):  # an absent device or a run too large for this machine is an error here too
            _err(f"warning: {warning}")
        text, inside = dry_run_text(problem)
        print(text)
        if not inside:
            _err("warning: the start point lies outside the physical support; set ref values inside it")
        return 0
    report = run_fit(Path(args.config), resume=args.resume, force=args.force, log=_err, progress_bar=sys.stderr.isatty())
    print(report)
    return 0


def _progress(enabled: bool):
    """A ``progress(done, total)`` callback drawing a tqdm bar (tasks done / total, rate, ETA) on a terminal, and
    nothing when ``enabled`` is False (not a terminal, or CI)."""
    state: dict = {}

    def tick(done: int, total: int) -> None:
        if not enabled:
            return
        if "bar" not in state:
            from tqdm.auto import tqdm  # noqa: PLC0415  (third-party, only on a terminal)

            state["bar"] = tqdm(total=total, initial=done, unit="task", file=sys.stderr, dynamic_ncols=True)
        bar = state["bar"]
        bar.update(done - bar.n)
        if done >= total:
            bar.close()

    return tick


def _check_workers(args) -> None:
    """``--workers N``: at least 1 (``--serial`` is the way to run in this process)."""
    if args.workers is not None and args.workers < 1:
        raise InputError(f"--workers {args.workers}: expected at least 1 (worker processes, or batch jobs with --jobqueue); "
                         "--serial runs every task in this process")


def _on_engine(jobs, out: Path, args, retries: int = 2, source: Path | None = None):
    """Run sweep jobs on Dask (``--scheduler``, else a LocalCluster sized to the machine and to the work) or, with
    ``--serial`` or when one worker is all there is, in this process."""
    tasks = sum(j.total for j in jobs)
    _check_workers(args)
    chosen = [o for o, v in (("--serial", args.serial), ("--scheduler", args.scheduler), ("--jobqueue", args.jobqueue)) if v]
    if len(chosen) > 1:
        raise InputError(f"{' and '.join(chosen)}: give one of them (where the tasks run)")
    if args.jobqueue and args.workers is None:
        raise InputError(f"--jobqueue {args.jobqueue}: give --workers N, the number of batch jobs to submit (this sweep has {tasks} tasks)")
    check_sweep_outputs(jobs, out, resume=args.resume, force=args.force)  # before a cluster is started for nothing
    address = args.scheduler or (None if args.jobqueue else dask_scheduler_address())
    n = args.workers if args.workers is not None else min(local_workers(), tasks)
    serial = args.serial or (address is None and not args.jobqueue and n <= 1)
    bar = _progress(sys.stderr.isatty() and not os.environ.get("CI"))
    ctx = contextlib.nullcontext(None) if serial else dask_client(address, n, args.jobqueue)
    with ctx as client:
        if client is not None:
            where = address or (f"{n} {args.jobqueue} jobs" if args.jobqueue else f"a local cluster of {n} worker processes")
            _err(f"sweep: {tasks} tasks on {where}")
        return run_sweep(jobs, out, client=client, retries=retries, resume=args.resume, force=args.force, source=source, progress=bar, log=_err)


def _report_sweep(report) -> int:
    """Print what a sweep did; 1 when a task failed (named), else 0."""
    print(f"{report.outdir}: {report.total} tasks ({report.loaded} from disk, {report.computed} computed"
          f"{', ' + str(len(report.failed)) + ' failed' if report.failed else ''}) in {report.wall_seconds:.1f} s on "
          f"{report.workers or 'no'} Dask worker{'s' if report.workers != 1 else ''}; {report.task_seconds:.1f} s inside tasks")
    for line in report.lines.values():
        print(f"  {line}")
    if report.failed:
        for name, err in report.failed.items():
            _err(f"  failed: {name}: {err}")
        _err(f"globalfit: error: {len(report.failed)} task(s) failed (listed above and in {report.outdir}/failed.json); "
             f"unfinished jobs: {', '.join(report.unfinished)}. Fix the cause, then rerun with --resume")
        return 1
    return 0


def _check_seeds(seeds: list[int]) -> None:
    """``--seed``: each an integer JAX can seed with (int64, >= 0)."""
    for seed in seeds:
        if not 0 <= seed <= SEED_MAX:
            raise InputError(f"--seed {seed}: expected an integer in [0, 2^63 - 1] (JAX seeds are int64)")


def _cmd_profile(args) -> int:
    _check_seeds([args.seed])
    _check_workers(args)
    given_out = _path_option("--out", args.out)
    path = Path(args.config)
    cfg = load_config(path)
    out = given_out if given_out is not None else (Path(cfg.output.dir) / "profile" if cfg.output is not None else Path("out") / f"profile_{path.stem}")
    if len(args.grid) > 2:
        raise InputError(f"--grid {' '.join(map(str, args.grid))}: give N (N x N) or N_M N_g")
    grid = int(args.grid[0]) if len(args.grid) == 1 else [int(args.grid[0]), int(args.grid[1])]
    quantities = list(args.quantity)
    spec = JobSpec(kind="profile", name=f"profile/{path.stem}", configs=(ConfigRef(str(path), cfg),), seed=args.seed,
                   settings={"grid": grid, "quantity": quantities, "exclude": args.exclude, "starts": args.starts, "steps": args.steps,
                             "M_range": None, "g_range": None, "rows_per_task": args.rows_per_task, "polish": args.polish,
                             "profile_rungs": args.profile_rungs, "warm_steps": args.warm_steps, "warm_lr": args.warm_lr})
    job = make_job(spec, folder="")
    report = _on_engine([job], out, args)
    if report.failed:
        return _report_sweep(report)
    res = load_profile(out / "profile.npz")
    print(f"profile of {path} ({res.scenario}): grid {res.settings['grid']}, {res.settings['starts']} starts, {res.settings['steps']} Adam steps per rung, "
          f"{res.settings['profile_rungs']} rungs per profile chain, {res.settings['warm_steps']} steps from learning rate {res.settings['warm_lr']:g} per warm-started rung, "
          f"{res.settings['polish']} neighbour passes; "
          f"{report.wall_seconds:.1f} s ({res.seconds:.1f} s optimising in {report.total} tasks, compilation included; "
          f"{report.loaded} tasks from disk; {report.workers or 'no'} Dask workers)")
    print(f"  included: {', '.join(res.included)}")
    print(f"  excluded: {', '.join(res.excluded) or '(none)'}")
    print(f"  lnL_ref = {res.lnL_ref:.4g} (the best cell); share of the grid allowed: " + ", ".join(f"{float(np.mean(res.allowed(t))):.2f} at {t:.3g}" for t in res.thresholds))
    if res.lnL_sm is not None:
        print(f"  against the SM point (g_X = 0, y = 0; lnL_SM = {res.lnL_sm:.4g}): the best cell at -2 Delta ln L = {res.best_vs_sm:.3g}; "
              "share of the grid at or below: " + ", ".join(f"{float(np.mean(res.chi2_vs_sm() <= t)):.2f} at {t:.3g}" for t in res.thresholds))
    for q in quantities:
        r = res.reach(q)
        if np.isfinite(r).any():
            i, j = np.unravel_index(np.nanargmax(r), r.shape)
            print(f"  largest reachable |{q}| (chi2 <= {res.thresholds[0]:.3g}) = {r[i, j]:.3g} at M_Zp = {10**res.log10_M[j]:.3g} GeV, "
                  f"g_X = {10**res.log10_g[i]:.3g}")
    for f in report.outputs[job.spec.name]:
        print(f)
    return 0


def _cmd_sweep(args) -> int:
    _check_workers(args)
    path = Path(args.sweep)
    sweep, specs = sweep_jobs(path)
    jobs = [make_job(s) for s in specs]
    if args.dry_run:
        print(f"{path}: {len(jobs)} jobs, {sum(j.total for j in jobs)} tasks; outputs in {sweep.output.dir}")
        for j in jobs:
            print(f"  {j.spec.name:<48s} {j.total:>5d} tasks  digest {j.spec.digest()}  " + ", ".join(c.where for c in j.spec.configs))
        return 0
    report = _on_engine(jobs, Path(sweep.output.dir), args, retries=sweep.retries, source=path)
    return _report_sweep(report)


def _add_engine_options(p: argparse.ArgumentParser) -> None:
    """The options of commands that run on the sweep engine (globalfit.inference.sweep)."""
    p.add_argument("--scheduler", metavar="ADDRESS", help="join a running Dask cluster (tcp://host:8786; default: Dask's "
                   "scheduler-address config, else a local cluster started and stopped here)")
    p.add_argument("--workers", type=int, help="worker processes of the local cluster (default: one per core, at most one per task), "
                   "or the number of batch jobs with --jobqueue")
    p.add_argument("--jobqueue", choices=JOBQUEUE, help="start workers as batch jobs with dask-jobqueue (settings: "
                   "~/.config/dask/jobqueue.yaml; docs/cluster.md)")
    p.add_argument("--serial", action="store_true", help="run every task in this process, without Dask")
    p.add_argument("--resume", action="store_true", help="continue an interrupted run: only the tasks without a result on disk run")
    p.add_argument("--force", action="store_true", help="overwrite an existing output directory")


def _cmd_evidence(args) -> int:
    if args.live is not None and args.live < 10:
        raise InputError(f"--live {args.live}: need at least 10 live points (evidence.live_points has the same floor)")
    _check_seeds(args.seed or [])
    if args.seed and len(set(args.seed)) < len(args.seed):
        raise InputError(f"--seed {' '.join(map(str, args.seed))}: a seed given twice would repeat the same run")
    if _path_option("--out", args.out) is not None:
        check_new_output(args.out)
    problems: list[FitProblem] = []
    for c in args.configs:
        p = load_problem(c)
        problems.append(p.without(args.exclude) if args.exclude else p)
    runs = evidence(problems, prior=args.prior, live_points=args.live, seeds=args.seed or [None], log=print)
    for results in runs:
        print((f"seed {results[0].seed}:\n" if len(runs) > 1 else "") + format_evidence(results))
    if len(runs) > 1:
        scatter = seed_scatter(np.array([[r.log_Z for r in rs] for rs in runs]))
        print(f"over {len(runs)} seeds (mean +- standard deviation): "
              + format_seed_scatter(scatter, [Path(r.config).stem for r in runs[0]]))
    if args.out is not None:
        print(write_evidence(Path(args.out), runs, args.prior, args.exclude))
    return 0


def _cmd_summary(args) -> int:
    print(summary_report(Path(args.outdir)))
    return 0


def _cmd_plot(args) -> int:
    outdirs = [Path(o) for o in args.outdir]
    for outdir in outdirs:
        if not outdir.is_dir():
            raise InputError(f"{outdir}: no such run directory")
    if args.quantity and not args.profile:
        raise InputError(f"--quantity {' '.join(args.quantity)}: applies to the side-by-side plot of --profile PROFILE.npz; give --profile too")
    if args.compare:
        if args.profile:
            raise InputError("--profile applies to one run, not with --compare")
        dest = _path_option("--out", args.out) or Path("compare_" + "_".join(o.resolve().name for o in outdirs))
        compare_outputs(dest, force=args.force)  # before the runs are read: nothing earlier is overwritten unasked
        runs = [(o, build_idata(o)) for o in outdirs]
        files = compare_runs(runs, dest, args.vars, args.labels, force=args.force)
    else:
        if len(outdirs) > 1:
            raise InputError(f"{len(outdirs)} run directories given: add --compare to overlay them")
        if args.out is not None or args.labels:
            raise InputError("--out and --labels apply with --compare")
        if args.force:
            raise InputError("--force applies with --compare (the plots of a run directory are always redrawn)")
        profile = load_profile(Path(args.profile)) if args.profile else None  # a bad file is refused before the run is read
        idata = build_idata(outdirs[0])
        files = make_plots(outdirs[0], idata, args.vars)
        if profile is not None:
            files += compare_plots(outdirs[0], idata, profile, args.quantity)
    for f in files:
        print(f)
    return 0


def _cmd_report(args) -> int:
    outdir = Path(args.outdir)
    if not outdir.is_dir():
        raise InputError(f"{outdir}: no such run directory")
    print(write_html_report(outdir, build_idata(outdir), dominance=not args.no_dominance))
    return 0


def _cmd_export(args) -> int:
    outdir = Path(args.outdir)
    if not outdir.is_dir():
        raise InputError(f"{outdir}: no such run directory")
    dest, root = export_target(outdir, _path_option("--to", args.to), args.root)  # before the run is read
    idata = build_idata(outdir)
    files = export_getdist(outdir, idata, load_run_config(outdir), dest, root, force=args.force)
    for f in files:
        print(f)
    root = files[-1].with_suffix("")
    print(f"load with: from getdist import loadMCSamples; s = loadMCSamples({str(root)!r}, settings={{'ignore_rows': 0}})")
    return 0


def _cmd_cobaya(args) -> int:
    if _path_option("--out", args.out) is not None:
        check_file_target(Path(args.out), f"--out {args.out}", force=args.force)  # before the config is read
    problem = load_problem(args.config)
    output = args.chains if args.chains else (str(Path(problem.cfg.output.dir) / "cobaya" / "chain") if problem.cfg.output else None)
    text = cobaya_yaml(problem, args.config, output=output)
    if args.out is not None:
        out = write_new_file(Path(args.out), text.encode(), f"--out {args.out}", force=args.force)
        print(f"{out}: Cobaya input; run: cobaya-run {out}")
    else:
        print(text, end="")
    return 0


def _physical_range(option: str, values: list[float], name: str) -> tuple[float, float]:
    """``MIN MAX`` of a log axis of parameter ``name``, checked as run configs are
    (:func:`globalfit.physics.parameters.check_log_range`)."""
    lo, hi = (float(v) for v in values)
    try:
        check_log_range(name, lo, hi)
    except ValueError as exc:
        raise InputError(f"{option} {lo:g} {hi:g}: {exc}") from None
    return lo, hi


def _cmd_constraints(args) -> int:
    if args.scenario not in SCENARIOS:
        raise InputError(f"scenario {args.scenario!r}: unknown{did_you_mean(args.scenario, SCENARIOS)}; expected one of {list(SCENARIOS)}")
    if len(args.grid) > 2 or min(args.grid) < 2:
        raise InputError(f"--grid {' '.join(map(str, args.grid))}: give N (N x N) or N_M N_g, each at least 2")
    grid = (int(args.grid[0]), int(args.grid[-1]))
    _path_option("--out", args.out)
    M_range = _physical_range("--mass-range", args.mass_range, "M_Zp")
    g_range = _physical_range("--coupling-range", args.coupling_range, "g_X")
    output_paths(Path(args.out), args.scenario, args.kinetic_mixing, args.force)  # fail before computing
    t0 = time.time()
    cmap = constraints_map(args.scenario, grid=grid, M_range=M_range, g_range=g_range,
                           names=args.only, options=ModelOptions(kinetic_mixing=args.kinetic_mixing),
                           include_optional=not args.no_optional)
    files = save_constraints_map(cmap, Path(args.out), force=args.force)
    print(f"constraints of {args.scenario} (g_Psi = 0, no mixing, kinetic mixing: {args.kinetic_mixing}), each alone, "
          f"excluded where -2 Delta ln L > {cmap.threshold:.2f}; grid {grid[0]} x {grid[1]}, {time.time() - t0:.1f} s")
    for r in cmap.summary():
        tag = " (optional)" if r["optional"] else ""
        if r["excludes"]:
            print(f"  {r['name']:<26s}{tag} M_Zp {r['M_min']:.3g}-{r['M_max']:.3g} GeV, down to g_X = {r['g_min']:.2g} "
                  f"(at {r['M_at_g_min']:.3g} GeV)")
        else:
            print(f"  {r['name']:<26s}{tag} excludes nothing on the grid")
    for f in files:
        print(f)
    return 0


def build_parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="globalfit", description="Global fit of light-Z' neutrino NSI models (Farzan & Heeck, arXiv:1607.07616)")
    sub = ap.add_subparsers(dest="command", required=True)

    ev = sub.add_parser("evaluate", help="evaluate one parameter point: derived observables and log L")
    ev.add_argument("config", nargs="?", help="optional run config (YAML): scenario, fixed values and ref points, likelihoods")
    ev.add_argument("--scenario", help="U(1)' scenario: B, B-L, L or B-3Ltau")
    ev.add_argument("--set", action="append", metavar="NAME=VALUE", help="set a parameter (repeatable)")
    ev.add_argument("--json", action="store_true", help="print one JSON object")
    ev.set_defaults(func=_cmd_evaluate)

    li = sub.add_parser("likelihoods", help="list the available likelihoods")
    li.add_argument("--json", action="store_true")
    li.set_defaults(func=_cmd_likelihoods)

    run = sub.add_parser("run", help="run a fit described by a YAML config")
    run.add_argument("config")
    run.add_argument("--dry-run", action="store_true", help="validate, print the resolved config and log L at the start point")
    run.add_argument("--resume", action="store_true", help="continue an interrupted run with an unchanged config")
    run.add_argument("--force", action="store_true", help="overwrite an existing output directory")
    run.set_defaults(func=_cmd_run)

    pr = sub.add_parser("profile", help="profile-likelihood map in (M_Zp, g_X) with the reachable NSI (paper Figs. 5/6)")
    pr.add_argument("config")
    pr.add_argument("--out", help="output directory (default <output.dir>/profile)")
    pr.add_argument("--grid", type=int, nargs="+", default=[12], help="points per axis: N or N_M N_g")
    pr.add_argument("--quantity", nargs="+", default=["eps_earth_ee"], help="derived quantities or differences, e.g. eps_earth_tautau-mumu")
    pr.add_argument("--exclude", nargs="*", default=None, help="likelihoods (fnmatch patterns) left out; default osc_*")
    pr.add_argument("--starts", type=int, help=f"starts per grid point (default {ProfileSettings.starts})")
    pr.add_argument("--steps", type=int, help=f"Adam steps per rung (default {ProfileSettings.steps})")
    pr.add_argument("--seed", type=int, default=0, help="seed of the random starts")
    pr.add_argument("--rows-per-task", type=int, default=1, help="g_X rows of the grid per task")
    pr.add_argument("--polish", type=int, help="neighbour passes after stage 2: each cell's reach is re-optimised from the best "
                    f"optima of its 8 neighbours (default {ProfileSettings.polish})")
    pr.add_argument("--profile-rungs", type=int, help="rungs (restarts of the Adam schedule) of each lambda = 0 chain of stage 1 and the "
                    f"profile passes (default {ProfileSettings.profile_rungs})")
    pr.add_argument("--warm-steps", type=int, help="Adam steps per warm-started rung: every rung of the tilt ladders and of the "
                    "neighbour passes (default: --steps)")
    pr.add_argument("--warm-lr", type=float, help=f"first Adam learning rate of a warm-started rung (default {ProfileSettings.warm_lr}; "
                    "dense maps: 0.05 with --warm-steps half of --steps, docs/performance.md)")
    _add_engine_options(pr)
    pr.set_defaults(func=_cmd_profile)

    sw = sub.add_parser("sweep", help="run the profile maps, evidence comparisons and fits of a sweep file on Dask")
    sw.add_argument("sweep", help="sweep file (YAML: output, profile, evidence, run; see globalfit.problem.sweep_config)")
    sw.add_argument("--dry-run", action="store_true", help="validate the sweep and list its jobs and tasks")
    _add_engine_options(sw)
    sw.set_defaults(func=_cmd_sweep)

    en = sub.add_parser("evidence", help="Bayesian evidence by nested sampling; Bayes factors against the first config")
    en.add_argument("configs", nargs="+", help="run configs (same data: see `globalfit.inference.evidence`)")
    en.add_argument("--out", help="write the results as JSON to this new file")
    en.add_argument("--prior", action="append", metavar="NAME.FIELD=VALUE", help="prior override for every config, e.g. g_X.min=1e-10 (repeatable)")
    en.add_argument("--exclude", nargs="+", metavar="PATTERN", help="leave out likelihoods (names or fnmatch patterns, e.g. 'osc_*')")
    en.add_argument("--live", type=int, help="live points (default: evidence.live_points of each config)")
    en.add_argument("--seed", type=int, nargs="+", help="seed, or several: one run per seed, then each ln Z's mean and "
                    "standard deviation over the seeds (default: evidence.seed of each config)")
    en.set_defaults(func=_cmd_evidence)

    sm = sub.add_parser("summary", help="diagnostics report of a finished or partial run")
    sm.add_argument("outdir")
    sm.set_defaults(func=_cmd_summary)

    pl = sub.add_parser("plot", help="plots of a finished or partial run; with --compare an overlay of several runs")
    pl.add_argument("outdir", nargs="+", help="run directory (several with --compare)")
    pl.add_argument("--vars", nargs="+", help="quantities for the corner (triangle) plot")
    pl.add_argument("--profile", help="profile.npz of `globalfit profile` (same scenario): also plot posterior beside profile")
    pl.add_argument("--quantity", nargs="+", help="quantities of the side-by-side plot (default: those of the profile map)")
    pl.add_argument("--compare", action="store_true", help="overlay the runs: one triangle plot and one (M_Zp, g_X) plane")
    pl.add_argument("--labels", nargs="+", help="legend labels of the runs with --compare (default: directory and scenario)")
    pl.add_argument("--out", help="with --compare: output directory (default ./compare_<run>_<run>...)")
    pl.add_argument("--force", action="store_true", help="with --compare: overwrite the figures of an earlier comparison in the output directory")
    pl.set_defaults(func=_cmd_plot)

    rp = sub.add_parser("report", help="write OUTDIR/report.html: diagnostics, figures, posterior summary, where each likelihood bites")
    rp.add_argument("outdir")
    rp.add_argument("--no-dominance", action="store_true", help="skip the dominant-constraint map (it evaluates every likelihood on a grid)")
    rp.set_defaults(func=_cmd_report)

    ex = sub.add_parser("export", help="write the chains of a run in another format (GetDist)")
    ex.add_argument("outdir")
    ex.add_argument("--format", choices=["getdist"], default="getdist", help="chain format (GetDist: .txt chains, .paramnames, .ranges)")
    ex.add_argument("--to", help="destination directory (default OUTDIR/getdist)")
    ex.add_argument("--root", help="file root (default: the run directory's name)")
    ex.add_argument("--force", action="store_true", help="overwrite existing chain files of the same root")
    ex.set_defaults(func=_cmd_export)

    cb = sub.add_parser("cobaya", help="Cobaya input YAML for a run config (the same posterior as `globalfit run`)")
    cb.add_argument("config")
    cb.add_argument("--out", "-o", help="write the YAML to this file (default: print it)")
    cb.add_argument("--chains", help="Cobaya output prefix (default <output.dir>/cobaya/chain)")
    cb.add_argument("--force", action="store_true", help="overwrite --out")
    cb.set_defaults(func=_cmd_cobaya)

    co = sub.add_parser("constraints", help="every Z' constraint alone in the (M_Zp, g_X) plane, from the likelihood code (paper Fig. 1)")
    co.add_argument("scenario", help="U(1)' scenario: B, B-L, L or B-3Ltau")
    co.add_argument("--out", default="out/constraints", help="output directory (default out/constraints)")
    co.add_argument("--grid", type=int, nargs="+", default=[64, 56], help="points per axis: N or N_M N_g")
    co.add_argument("--mass-range", type=float, nargs=2, default=[1e-3, 1.0], metavar=("MIN", "MAX"), help="M_Zp range [GeV]")
    co.add_argument("--coupling-range", type=float, nargs=2, default=[1e-9, 1e-1], metavar=("MIN", "MAX"), help="g_X range")
    co.add_argument("--kinetic-mixing", choices=["loop", "none"], default="loop", help="model.kinetic_mixing (default loop)")
    co.add_argument("--only", nargs="+", metavar="NAME", help="draw only these likelihoods")
    co.add_argument("--no-optional", action="store_true", help="leave out the optional (model-dependent, theory) constraints")
    co.add_argument("--force", action="store_true", help="overwrite existing files")
    co.set_defaults(func=_cmd_constraints)
    return ap


def main(argv: list[str] | None = None) -> int:
    # The CLI owns the terminal: warnings and errors only. Dask and JAX set their own loggers to INFO, whose records
    # reach the root handler whatever the root's level, so the root handler is ours, with level WARNING (jaxns'
    # basicConfig on import is undone in globalfit.inference.evidence; a later one changes nothing)
    root = logging.getLogger()
    if not root.handlers:
        handler = logging.StreamHandler()
        handler.setLevel(logging.WARNING)
        handler.setFormatter(logging.Formatter(logging.BASIC_FORMAT))
        root.addHandler(handler)
    root.setLevel(logging.WARNING)
    quiet_getdist()
    args = build_parser().parse_args(argv)
    enable_compilation_cache()  # compiled code kept between runs ($GLOBALFIT_JAX_CACHE; "off" turns it off)
    try:
        return int(args.func(args) or 0)
    except GlobalfitError as exc:
        print(f"globalfit: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("globalfit: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
