"""Command-line interface: ``globalfit evaluate|likelihoods|run|profile|evidence|summary|plot``.

User errors (bad config, bad value, unknown name) print one line ``globalfit: error: ...`` and exit 2;
no traceback.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from .errors import GlobalfitError, InputError

__all__ = ["main"]


def _parse_set(items: list[str]) -> dict[str, float]:
    from .parameters import PARAMETERS

    out: dict[str, float] = {}
    for item in items:
        if "=" not in item:
            raise InputError(f"--set {item!r}: expected NAME=VALUE")
        name, _, raw = item.partition("=")
        name = name.strip()
        if name not in PARAMETERS:
            import difflib

            hint = difflib.get_close_matches(name, list(PARAMETERS), n=1)
            extra = f" (did you mean {hint[0]!r}?)" if hint else ""
            raise InputError(f"--set {item!r}: unknown parameter {name!r}{extra}; expected one of {list(PARAMETERS)}")
        try:
            out[name] = float(raw)
        except ValueError:
            raise InputError(f"--set {item!r}: value {raw!r} of {name} is not a number") from None
    return out


def _cmd_evaluate(args) -> int:
    from .config import load_config
    from .evaluate import evaluate_point, format_table
    from .model import ModelOptions
    from .scenarios import SCENARIOS

    values: dict[str, float] = {}
    options = ModelOptions()
    scenario = args.scenario
    likelihood_cfg = None
    if args.config:
        cfg = load_config(args.config)
        values.update(cfg.start_values())
        options = ModelOptions(Y_n=cfg.model.Y_n, eps_convention=cfg.model.eps_convention, psi_flavours=cfg.model.psi_flavour_mask())
        scenario = scenario or cfg.model.scenario
        likelihood_cfg = cfg.likelihoods
    if scenario is None:
        raise InputError("no scenario: give --scenario {" + ",".join(SCENARIOS) + "} or a CONFIG with model.scenario")
    if scenario not in SCENARIOS:
        raise InputError(f"--scenario {scenario!r}: unknown scenario; expected one of {list(SCENARIOS)}")
    values.update(_parse_set(args.set or []))
    lks = _build_likelihoods(likelihood_cfg, scenario, args.config or "--likelihoods")
    try:
        result = evaluate_point(values, scenario, options, lks)
    except (KeyError, ValueError) as exc:
        raise InputError(str(exc).strip("'\"")) from None
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        print(format_table(result))
    return 0


def _build_likelihoods(likelihood_cfg, scenario: str, where: str):
    """Configured likelihoods; without a config's ``likelihoods`` block, every likelihood that applies to
    the scenario with its default options."""
    from likelihoods import build_likelihoods, registry

    if likelihood_cfg is None or not likelihood_cfg:
        likelihood_cfg = {n: None for n, i in registry().items() if i.scenarios is None or scenario in i.scenarios}
        where = "default likelihoods"
    return build_likelihoods(likelihood_cfg, scenario=scenario, where=str(where))


def _cmd_likelihoods(args) -> int:
    try:
        from likelihoods import describe_all
    except ImportError:
        raise InputError("the likelihood library (package 'likelihoods') is not installed") from None
    rows = describe_all()
    if args.json:
        print(json.dumps(rows, indent=2))
    else:
        for r in rows:
            print(f"{r['name']:<24s} {r['constrains']}")
            print(f"{'':<24s} ref: {r['reference']}   data: {r['data_edition']}")
    return 0


def _cmd_run(args) -> int:
    from .engine import run_from_config

    return run_from_config(Path(args.config), dry_run=args.dry_run, resume=args.resume, force=args.force)


def _cmd_profile(args) -> int:
    from .profile import profile_command

    return profile_command(Path(args.config), Path(args.out) if args.out else None, grid=args.grid, quantity=args.quantity,
                           exclude=args.exclude, starts=args.starts, steps=args.steps)


def _cmd_evidence(args) -> int:
    from .evidence import evidence_command

    return evidence_command([Path(c) for c in args.configs], out=Path(args.out) if args.out else None, prior=args.prior,
                            live_points=args.live, seed=args.seed, exclude=args.exclude)


def _cmd_summary(args) -> int:
    from .report import summary_command

    return summary_command(Path(args.outdir))


def _cmd_plot(args) -> int:
    from .plots import plot_command

    return plot_command(Path(args.outdir), variables=args.vars, profile=Path(args.profile) if args.profile else None,
                        quantities=args.quantity)


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
    en.add_argument("configs", nargs="+", help="run configs (same data: see `globalfit.evidence`)")
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
