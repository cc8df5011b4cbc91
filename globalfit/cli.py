"""Command-line interface: ``globalfit evaluate|likelihoods|run|profile|evidence|summary|plot|constraints``.

User errors (bad config, bad value, unknown name) print one line ``globalfit: error: ...`` and exit 2;
no traceback.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from pathlib import Path

import numpy as np

from globalfit import _jax  # noqa: F401
from globalfit.engine import dry_run_text, run_fit
from globalfit.errors import GlobalfitError, InputError
from globalfit.problem.evaluate import evaluate_point, format_table
from globalfit.inference.evidence import evidence, format_evidence, write_evidence
from globalfit.physics.model import ModelOptions
from globalfit.names import did_you_mean
from globalfit.physics.parameters import PARAMETERS
from globalfit.outputs.constraints_map import constraints_map, output_paths, save_constraints_map
from globalfit.outputs.plane import save_profile_figures
from globalfit.outputs.plots import compare_plots, make_plots
from globalfit.problem import FitProblem, load_problem
from globalfit.inference.profile import profile_map
from globalfit.outputs.profile_result import load_profile
from globalfit.outputs.report import build_idata, summary_report
from globalfit.physics.scenarios import SCENARIOS, get_scenario
from likelihoods import build_likelihoods, describe_all, registry

__all__ = ["main"]

SET_NAMES = tuple(PARAMETERS) + ("r_H",)


def _err(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


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
    return out


def _default_likelihoods(scenario: str) -> dict:
    """Every likelihood that applies to the scenario, with its default options (``evaluate`` without a config)."""
    return {n: None for n, cls in registry().items() if cls.applies(get_scenario(scenario))}


def _cmd_evaluate(args) -> int:
    overrides = _parse_set(args.set or [])
    if args.config:
        problem = load_problem(args.config)
        if args.scenario and args.scenario != problem.scenario.name:
            raise InputError(f"--scenario {args.scenario!r}: differs from model.scenario {problem.scenario.name!r} of {args.config}")
        if not problem.likelihoods:
            problem = problem.with_likelihoods(build_likelihoods(_default_likelihoods(problem.scenario.name), problem.scenario, "default likelihoods"))
        values = problem.start()
        if "cos_beta" in overrides:
            values.pop("r_H", None)  # an explicit cos_beta replaces the config's r_H parametrisation
        if "r_H" in overrides:
            values.pop("cos_beta", None)
        values.update(overrides)
        try:
            result = problem.evaluate(values)
        except (KeyError, ValueError) as exc:
            raise InputError(f"{args.config}: {str(exc).strip(chr(39) + chr(34))}") from None
    else:
        if args.scenario is None:
            raise InputError("no scenario: give --scenario {" + ",".join(SCENARIOS) + "} or a CONFIG with model.scenario")
        if args.scenario not in SCENARIOS:
            raise InputError(f"--scenario {args.scenario!r}: unknown scenario{did_you_mean(args.scenario, SCENARIOS)}; expected one of {list(SCENARIOS)}")
        lks = build_likelihoods(_default_likelihoods(args.scenario), get_scenario(args.scenario), "default likelihoods")
        try:
            result = evaluate_point(overrides, args.scenario, ModelOptions(), lks)
        except (KeyError, ValueError) as exc:
            raise InputError(str(exc).strip("'\"")) from None
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
        text, inside = dry_run_text(load_problem(args.config))
        print(text)
        if not inside:
            _err("warning: the start point lies outside the physical support; set ref values inside it")
        return 0
    report = run_fit(Path(args.config), resume=args.resume, force=args.force, log=_err, progress_bar=sys.stderr.isatty())
    print(report)
    return 0


def _cmd_profile(args) -> int:
    path = Path(args.config)
    problem = load_problem(path)
    cfg = problem.cfg
    out = Path(args.out) if args.out else (Path(cfg.output.dir) / "profile" if cfg.output is not None else Path("out") / f"profile_{path.stem}")
    grid = int(args.grid[0]) if len(args.grid) == 1 else (int(args.grid[0]), int(args.grid[1]))
    quantities = list(args.quantity)
    t0 = time.time()
    res = profile_map(problem, grid=grid, quantity=quantities, exclude=args.exclude, starts=args.starts, steps=args.steps)
    total = time.time() - t0
    out.mkdir(parents=True, exist_ok=True)
    files = [res.save(out / "profile.npz")] + save_profile_figures(res, cfg, out, quantities)
    print(f"profile of {path} ({res.scenario}): grid {res.settings['grid']}, {args.starts} starts, {args.steps} Adam steps per rung; "
          f"{total:.1f} s ({res.seconds:.1f} s optimising, compilation included on the first call)")
    print(f"  included: {', '.join(res.included)}")
    print(f"  excluded: {', '.join(res.excluded) or '(none)'}")
    print(f"  lnL_ref = {res.lnL_ref:.4g}; share of the grid allowed: " + ", ".join(f"{float(np.mean(res.allowed(t))):.2f} at {t:g}" for t in res.thresholds))
    for q in quantities:
        r = res.reach(q)
        if np.isfinite(r).any():
            i, j = np.unravel_index(np.nanargmax(r), r.shape)
            print(f"  largest reachable |{q}| (chi2 <= {res.thresholds[0]:g}) = {r[i, j]:.3g} at M_Zp = {10**res.log10_M[j]:.3g} GeV, "
                  f"g_X = {10**res.log10_g[i]:.3g}")
    for f in files:
        print(f)
    return 0


def _cmd_evidence(args) -> int:
    problems: list[FitProblem] = []
    for c in args.configs:
        p = load_problem(c)
        problems.append(p.without(args.exclude) if args.exclude else p)
    results = evidence(problems, prior=args.prior, live_points=args.live, seed=args.seed, log=print)
    print(format_evidence(results))
    if args.out is not None:
        print(write_evidence(Path(args.out), results, args.prior, args.exclude))
    return 0


def _cmd_summary(args) -> int:
    print(summary_report(Path(args.outdir)))
    return 0


def _cmd_plot(args) -> int:
    outdir = Path(args.outdir)
    if not outdir.is_dir():
        raise InputError(f"{outdir}: no such run directory")
    idata = build_idata(outdir)
    files = make_plots(outdir, idata, args.vars)
    if args.profile:
        files += compare_plots(outdir, idata, load_profile(Path(args.profile)), args.quantity)
    for f in files:
        print(f)
    return 0


def _cmd_constraints(args) -> int:
    if args.scenario not in SCENARIOS:
        raise InputError(f"scenario {args.scenario!r}: unknown{did_you_mean(args.scenario, SCENARIOS)}; expected one of {list(SCENARIOS)}")
    grid = (int(args.grid[0]), int(args.grid[-1]))
    output_paths(Path(args.out), args.scenario, args.kinetic_mixing, args.force)  # fail before computing
    t0 = time.time()
    cmap = constraints_map(args.scenario, grid=grid, M_range=tuple(args.mass_range), g_range=tuple(args.coupling_range),
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
    pr.add_argument("--starts", type=int, default=4)
    pr.add_argument("--steps", type=int, default=200, help="Adam steps per optimisation stage")
    pr.set_defaults(func=_cmd_profile)

    en = sub.add_parser("evidence", help="Bayesian evidence by nested sampling; Bayes factors against the first config")
    en.add_argument("configs", nargs="+", help="run configs (same data: see `globalfit.inference.evidence`)")
    en.add_argument("--out", help="write the results as JSON to this new file")
    en.add_argument("--prior", action="append", metavar="NAME.FIELD=VALUE", help="prior override for every config, e.g. g_X.min=1e-10 (repeatable)")
    en.add_argument("--exclude", nargs="+", metavar="PATTERN", help="leave out likelihoods (names or fnmatch patterns, e.g. 'osc_*')")
    en.add_argument("--live", type=int, help="live points (default: evidence.live_points of each config)")
    en.add_argument("--seed", type=int, help="seed (default: evidence.seed of each config)")
    en.set_defaults(func=_cmd_evidence)

    sm = sub.add_parser("summary", help="diagnostics report of a finished or partial run")
    sm.add_argument("outdir")
    sm.set_defaults(func=_cmd_summary)

    pl = sub.add_parser("plot", help="plots of a finished or partial run")
    pl.add_argument("outdir")
    pl.add_argument("--vars", nargs="+", help="quantities for the corner plot")
    pl.add_argument("--profile", help="profile.npz of `globalfit profile` (same scenario): also plot posterior beside profile")
    pl.add_argument("--quantity", nargs="+", help="quantities of the side-by-side plot (default: those of the profile map)")
    pl.set_defaults(func=_cmd_plot)

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
    args = build_parser().parse_args(argv)
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
