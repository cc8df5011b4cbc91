"""The posterior of a run as GetDist samples (Lewis, arXiv:1910.13970), in memory and as GetDist chain files.

Columns, per draw of each NUTS chain (weight 1):

* the sample sites (``log10_M_Zp``, ``y_e``, ``u_M_Psi``, ...): GetDist's *running* parameters;
* derived (``*`` in ``.paramnames``): the physical value of each parameter drawn on another site (``M_Zp``), cos(beta)
  where r_H replaces it, every derived quantity that varies, ``log10_<q>`` (``log10_minus_<q>`` for a negative one) of
  each quantity of one sign spanning more than two decades, ``log10_abs_<q>`` (log10 |q|) of each derived quantity of
  both signs whose central 95 % of |q| spans more than two decades (what the figures plot), ``chi2 = -2 ln L`` and
  ``chi2__<likelihood>`` (exact), ``minuslogprior`` (as Cobaya names them).

The second column of a chain file is GetDist's ``-ln(posterior)`` on the sample sites, up to a constant:
``-ln prior(z) - ln L(z)`` with exact likelihoods. ``.ranges`` carries the hard bounds -- the prior box of every
site and sampled parameter, [0, 1] for cos(beta), branching ratios and (with physical constraints) |kappa|, >= 0 for
moduli and widths -- so that GetDist's kernel densities are boundary-corrected at prior edges.

Files (:func:`export_getdist`): ``<dest>/<root>_<chain>.txt``, ``<root>.paramnames``, ``<root>.ranges``, readable
by ``getdist.loadMCSamples('<dest>/<root>')``.
"""

from __future__ import annotations

import logging
import math
import os
import re
import warnings
from dataclasses import dataclass
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np

from globalfit import _jax  # noqa: F401
from globalfit.errors import InputError, OutputError
from globalfit.physics.model import DERIVED_NAMES
from globalfit.problem import FitProblem, problem_from_config
from globalfit.problem.parametrisation import site_bounds
from globalfit.outputs.rundir import check_dir_target
from globalfit.outputs.style import tex_label

__all__ = ["ChainTable", "chain_table", "mcsamples", "quiet_getdist", "export_getdist", "plot_column", "GETDIST_SETTINGS", "DECADES_FOR_LOG",
           "export_target", "export_files"]

DECADES_FOR_LOG = 2.0  # a positive quantity spanning more than this many decades is plotted as log10
# GetDist analysis settings: automatic (ESS-based) kernel widths, linear boundary correction, 68/95 % contours
GETDIST_SETTINGS = {"ignore_rows": 0, "smooth_scale_1D": -1, "smooth_scale_2D": -1, "boundary_correction_order": 1,
                    "mult_bias_correction_order": 1, "contours": "0.68 0.95", "fine_bins_2D": 256,
                    # densities (not GetDist's scatter fallback) also for nearly degenerate pairs, e.g. eps_ee vs eps_mumu
                    "max_corr_2D": 0.995}


@dataclass
class ChainTable:
    """Columns of the GetDist chains of a run: ``chains[c]`` is ``(draws, columns)``; ``minuslogpost[c]`` per draw."""

    names: list[str]
    labels: list[str]
    derived: list[bool]
    ranges: dict[str, tuple[float | None, float | None]]
    chains: list[np.ndarray]
    minuslogpost: list[np.ndarray]
    label: str = ""
    complete: bool = True  # every sample site recorded (False: draws not from `globalfit run`; no prior column)


def _problem(cfg) -> FitProblem:
    return problem_from_config(cfg, "config.resolved.yaml", likelihoods=())


def _bound(x: float) -> float | None:
    return float(x) if math.isfinite(x) else None


def _derived_range(name: str, constrained: bool) -> tuple[float | None, float | None] | None:
    if name == "cos_beta" or name.startswith("br_"):
        return 0.0, 1.0
    if name.startswith("kappa_"):
        return 0.0, (1.0 if constrained else None)
    if name == "r_H":
        return 0.0, (1.0 if constrained else None)
    if name.startswith("abs_") or name == "width_Zp":
        return 0.0, None
    return None


def _spans_decades(x: np.ndarray) -> int:
    """+1 (-1) when x is positive (negative) everywhere and spans more than :data:`DECADES_FOR_LOG` decades; else 0."""
    if x.size == 0:
        return 0
    for sign in (1, -1):
        a = sign * x
        if np.all(a > 0) and math.log10(a.max() / a.min()) > DECADES_FOR_LOG:
            return sign
    return 0


def _both_signs_over_decades(x: np.ndarray) -> bool:
    """True when x takes both signs, is never 0, and the central 95 % of |x| spans more than :data:`DECADES_FOR_LOG`
    decades (a linear axis would show a spike at 0; a uniform angle's |x| spans 1.6 decades and stays linear)."""
    a = np.abs(x)
    if x.size == 0 or not (x.min() < 0.0 < x.max()) or not np.all(a > 0.0):
        return False
    lo, hi = np.quantile(a, [0.025, 0.975])
    return bool(math.log10(hi / lo) > DECADES_FOR_LOG)


def _varies(x: np.ndarray) -> bool:
    return bool(np.ptp(x) > 1e-12 * max(float(np.abs(x).mean()), 1e-300))


def chain_table(idata, cfg, label: str = "") -> ChainTable:
    """The GetDist columns of a run's posterior (module docstring)."""
    post = idata.posterior
    problem = _problem(cfg)
    nc, nd = post.sizes["chain"], post.sizes["draw"]
    cols: dict[str, np.ndarray] = {}
    labels: dict[str, str] = {}
    derived: dict[str, bool] = {}
    ranges: dict[str, tuple] = {}

    def add(name, values, tex, is_derived, rng=None):
        if name in cols or not _varies(values):
            return
        cols[name], labels[name], derived[name] = values.reshape(nc, nd), tex, is_derived
        if rng is not None and (rng[0] is not None or rng[1] is not None):
            ranges[name] = rng

    specs = cfg.sampled()
    by_site = {info.site: (pname, info) for pname, info in problem.sites.items()}
    site_values: dict[str, np.ndarray] = {}
    for site in problem.site_names:
        pname, info = by_site[site]
        if info.site in post:
            zs = np.asarray(post[info.site], dtype=float)
        elif pname in post and info.site != "u_M_Psi":  # draws recorded by value only: back to the site
            zs = np.vectorize(info.to_site)(np.asarray(post[pname], dtype=float))
        else:  # not a draw of `globalfit run` (e.g. synthetic): no column, no prior
            continue
        tex = tex_label(info.site, cfg)
        if info.sign < 0 and info.site != pname:  # a negative parameter drawn as log10|x|
            tex = tex.replace("(", "(-", 1) if "(" in tex else "-" + tex
        lo, hi = site_bounds(info)
        site_values[info.site] = zs
        add(info.site, zs, tex, False, (_bound(lo), _bound(hi)))
    for pname, info in problem.sites.items():
        if info.site == pname or pname not in post:
            continue
        lo, hi = specs[pname].signed_bounds()
        if info.site == "u_M_Psi":
            lo = max(lo, 0.0)
        add(pname, np.asarray(post[pname]), tex_label(pname, cfg), True, (_bound(lo), _bound(hi)))
    constrained = cfg.model.constraints != "none"
    for name in ["cos_beta", *DERIVED_NAMES]:
        if name in post and name not in cols:
            add(name, np.asarray(post[name]), tex_label(name, cfg), True, _derived_range(name, constrained))
    for name in list(cols):
        if name in problem.site_names:
            continue
        sign = _spans_decades(cols[name])
        if sign:
            key = f"log10_{name}" if sign > 0 else f"log10_minus_{name}"
            tex = tex_label(f"log10_{name}", cfg)
            if sign < 0:
                tex = tex.replace("(", "(-", 1) if "(" in tex else tex.replace(r"\log_{10} ", r"\log_{10}(-") + ")"
            add(key, np.log10(sign * cols[name]).ravel(), tex, True)
        elif name not in problem.sites and _both_signs_over_decades(cols[name]):
            add(f"log10_abs_{name}", np.log10(np.abs(cols[name])).ravel(), tex_label(f"log10_abs_{name}", cfg), True)
    ll = getattr(idata, "log_likelihood", None)
    lnl_total = np.zeros((nc, nd))
    if ll is not None:
        for name in ll.data_vars:
            a = np.asarray(ll[name], dtype=float)
            lnl_total = lnl_total + a
            add(f"chi2__{name}", -2.0 * a, tex_label(f"chi2__{name}"), True)
        if len(ll.data_vars):
            add("chi2", -2.0 * lnl_total, r"\chi^2", True)
    complete = all(s in site_values for s in problem.site_names)
    if complete:
        z = np.stack([site_values[s] for s in problem.site_names], axis=-1)
        log_prior = _log_prior(problem, z.reshape(-1, z.shape[-1])).reshape(nc, nd)
        add("minuslogprior", -log_prior, r"-\ln\pi", True)
    else:
        log_prior = np.zeros((nc, nd))
    names = list(cols)
    chains = [np.column_stack([cols[n][c] for n in names]) for c in range(nc)]
    mlp = [-(log_prior[c] + lnl_total[c]) for c in range(nc)]
    return ChainTable(names, [labels[n] for n in names], [derived[n] for n in names], ranges, chains, mlp, label, complete)


def _log_prior(problem: FitProblem, z: np.ndarray) -> np.ndarray:
    """ln prior(z) on site space (with the M_Psi > M_Zp factor) for each row of ``z``."""
    fn = jax.jit(jax.vmap(problem.log_prior))
    return np.asarray(fn(jnp.asarray(z)))


def _not_a_getdist_warning(record: logging.LogRecord) -> bool:
    return record.levelno >= logging.ERROR or f"{os.sep}getdist{os.sep}" not in record.pathname


def quiet_getdist() -> None:
    """Keep GetDist off the terminal in this process: it warns on the root logger about every heavy-tailed quantity
    whose kernel bandwidth it had to fall back on (hundreds of lines per run for the derived branching ratios; the
    figures are right) and prints a line when it loads samples. Its errors still pass. Called by the CLI and by each
    sweep worker; idempotent."""
    from getdist import chains as gd_chains

    gd_chains.print_load_details = False
    root = logging.getLogger()
    if _not_a_getdist_warning not in root.filters:
        root.addFilter(_not_a_getdist_warning)


def mcsamples(idata, cfg, label: str = "", settings: dict | None = None):
    """``getdist.MCSamples`` of a run (every chain, :data:`GETDIST_SETTINGS`)."""
    from getdist import MCSamples

    t = chain_table(idata, cfg, label)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return MCSamples(samples=t.chains, loglikes=t.minuslogpost, names=[n + ("*" if d else "") for n, d in zip(t.names, t.derived)],
                         labels=t.labels, ranges={k: list(v) for k, v in t.ranges.items()}, label=label or None,
                         settings={**GETDIST_SETTINGS, **(settings or {})}, sampler="mcmc")


def plot_column(samples, name: str) -> str | None:
    """The GetDist column a figure shows for quantity ``name``: the site of a parameter sampled on a log scale
    (``log10_M_Zp``; ``slog10_g_Psi`` for a ``signed`` one, both signs on one axis), ``log10_<q>`` /
    ``log10_minus_<q>`` of a quantity of one sign spanning decades, ``log10_abs_<q>`` of one of both signs, else
    ``name``; None when the run has no such varying column."""
    have = {p.name for p in samples.paramNames.names}
    for key in (f"slog10_{name}", f"log10_{name}", f"ln_{name}", f"log10_minus_{name}", f"log10_abs_{name}", name):
        if key in have:
            return key
    if name == "M_Psi" and "u_M_Psi" in have:
        return None
    return None


_ROOT_FORBIDDEN = re.compile(r"[/\\*?\[\]\x00]")


def export_target(outdir: Path, dest: Path | None = None, root: str | None = None) -> tuple[Path, str]:
    """``(dest, root)`` of :func:`export_getdist`, checked before anything is computed: ``root`` (default: the run
    directory's name) a plain file-name stem -- non-empty, no path separator, no glob character (GetDist finds the
    chains as ``<root>_*.txt``) -- and ``dest`` (default ``OUTDIR/getdist``) a directory or absent; InputError /
    OutputError naming ``--root`` / ``--to``."""
    outdir = Path(outdir)
    given = root is not None
    root = root if given else outdir.resolve().name
    what = f"--root {root!r}" if given else f"the run directory's name {root!r} (the default --root)"
    if not root.strip():
        raise InputError(f"{what}: empty; expected a file-name stem such as full_B (GetDist reads <root>_1.txt, <root>.paramnames)")
    if _ROOT_FORBIDDEN.search(root) or root in (".", "..") or root != root.strip():
        raise InputError(f"{what}: expected a plain file-name stem (no path separator, no * ? [ ], no surrounding space); "
                         "the folder is chosen with --to")
    dest = Path(dest) if dest is not None else outdir / "getdist"
    check_dir_target(dest, f"--to {dest}")
    return dest, root


def export_files(dest: Path, root: str, n_chains: int) -> tuple[list[Path], list[Path]]:
    """(the files an export of ``n_chains`` chains writes: ``<root>_<n>.txt``, ``<root>.paramnames``, ``<root>.ranges``;
    the existing files of an earlier export of ``root`` in ``dest`` -- those and any further numbered chain
    ``<root>_<n>.txt``, matched exactly: nothing else in ``dest`` is ever touched)."""
    files = [dest / f"{root}_{c + 1}.txt" for c in range(n_chains)] + [dest / f"{root}.paramnames", dest / f"{root}.ranges"]
    numbered = re.compile(re.escape(root) + r"_[1-9][0-9]*\.txt")
    names = {f.name for f in files}
    existing = []
    if dest.is_dir():
        existing = sorted((f for f in dest.iterdir() if (f.name in names or numbered.fullmatch(f.name)) and not f.is_dir()),
                          key=lambda f: f.name)
    return files, existing


def export_getdist(outdir: Path, idata, cfg, dest: Path | None = None, root: str | None = None, force: bool = False) -> list[Path]:
    """Write the GetDist chains of a run (``<dest>/<root>_<n>.txt``, ``.paramnames``, ``.ranges``; default
    ``dest = OUTDIR/getdist``, ``root`` = the run directory's name; :func:`export_target`); the files of an earlier
    export of the same root (:func:`export_files`) are replaced only with ``force``, nothing else in ``dest`` is touched."""
    outdir = Path(outdir)
    dest, root = export_target(outdir, dest, root)
    t = chain_table(idata, cfg)
    if not t.complete:
        raise OutputError(f"{outdir}: the posterior lacks sample sites of the config; not a complete globalfit run")
    files, clash = export_files(dest, root, len(t.chains))
    blocked = [f for f in files if f.is_dir() or (f.exists() and not f.is_file())]
    if blocked:
        raise OutputError(f"{blocked[0]}: exists and is not a file, where the export writes a chain file; give another --to or --root")
    if clash and not force:
        names = ", ".join(f.name for f in clash[:4]) + (f" and {len(clash) - 4} more" if len(clash) > 4 else "")
        raise OutputError(f"{dest}: {names} exist{'s' if len(clash) == 1 else ''} (GetDist chains of {root!r}); use --force to "
                          "overwrite them, or another --to or --root")
    try:
        dest.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(f"--to {dest}: cannot create the directory: {exc.strerror or exc}") from None
    for f in clash:
        f.unlink()
    for c, arr in enumerate(t.chains):
        data = np.column_stack([np.ones(arr.shape[0]), t.minuslogpost[c], arr])
        np.savetxt(files[c], data, fmt="%.10e")
    lines = [f"{n}{'*' if d else ''}\t{lab}" for n, lab, d in zip(t.names, t.labels, t.derived)]
    files[-2].write_text("\n".join(lines) + "\n")
    rng = []
    for n, (lo, hi) in t.ranges.items():
        rng.append(f"{n}\t{'N' if lo is None else repr(lo)}\t{'N' if hi is None else repr(hi)}")
    files[-1].write_text("\n".join(rng) + "\n")
    return files
