"""Plots of a run (PDF and PNG in ``OUTDIR/plots``), in the publication style of :mod:`globalfit.outputs.style`:

* ``corner``: GetDist triangle plot (Lewis, arXiv:1910.13970) of ``plots.corner`` -- kernel-smoothed 1-D and 2-D
  marginals with boundary correction at the prior edges (:mod:`globalfit.outputs.chains` gives GetDist the ranges),
  filled 68/95 % credible regions, the 68 % interval above each 1-D panel, LaTeX labels with units;
* ``trace`` and ``rank`` (ArviZ): at most :data:`DIAGNOSTIC_CHAINS` chains, evenly spaced, when a run has more (the
  ensemble sampler's 64 walkers drew 64 overlaid traces, a 19 MB PDF, and 64 rank rows per panel; R-hat and ESS in
  the summary use every chain); ``globalfit run`` draws them in a second process beside the other figures for a long
  run (:func:`figures_beside`, with corner_eps);
* ``plane``: the paper-style (M_Zp, g_X) plane (both log) with the smoothed 68/95 % credible regions and the NSI
  coefficient ``plots.plane_eps`` reachable in each cell (95 % credible range of its draws) against the oscillation
  bounds, like Figs. 5/6 of Farzan & Heeck, arXiv:1607.07616; with ``--profile`` also that plane beside the
  profile-likelihood map of ``globalfit profile``;
* ``corner_eps``: the Earth-matter NSI entries that vary.

``globalfit plot OUT1 OUT2 ... --compare`` overlays several runs (:func:`compare_runs`): one triangle plot and one
(M_Zp, g_X) plane, one colour per run (Okabe-Ito, colour-blind safe).

A quantity whose posterior has one sign and spans more than two decades is drawn as log10 (sampled parameters: on
the scale of their prior, i.e. their sample site).
"""

from __future__ import annotations

import math
import multiprocessing
import warnings
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from pathlib import Path

import matplotlib as mpl
import numpy as np
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from globalfit import _jax  # noqa: F401
from globalfit.errors import InputError, OutputError
from globalfit.physics.model import DIFFERENCES, EPS_EARTH_NAMES
from globalfit.physics.parameters import DEFAULTS
from globalfit.outputs.chains import mcsamples, plot_column, quiet_getdist
from globalfit.outputs.plane import abs_label, draw_reach_contours, draw_reference_lines, place_legend, profile_plot, quantity_label
from globalfit.outputs.profile_result import ProfileResult
from globalfit.outputs.report import _az, load_run_config
from globalfit.outputs.rundir import check_dir_target
from globalfit.physics.scenarios import get_scenario
from globalfit.outputs.style import (FILL_68, FILL_95, LINE_COLOUR, RUN_COLOURS, label_of, publication_style, pyplot, save_figures,
                                     symbol_and_unit)

__all__ = ["make_plots", "compare_plots", "compare_runs", "compare_outputs", "corner_plot", "triangle_figure", "plane_plot", "plane_overlay",
           "posterior_plane", "posterior_column", "compare_plot", "label_of", "plane_density", "smooth_log_map"]


PNG_DPI = 200
DIAGNOSTIC_CHAINS = 8  # trace and rank plots draw at most this many chains (module docstring)
EPS_SMOOTHING = {"smooth_scale_2D": 0.3, "smooth_scale_1D": 0.3}  # GetDist: kernel width in units of each parameter's sd


def _save(fig, outdir: Path, stem: str, formats, folder: str | None = "plots") -> list[Path]:
    where = outdir / folder if folder else outdir
    where.mkdir(parents=True, exist_ok=True)
    return save_figures(fig, [where / f"{stem}.{fmt}" for fmt in formats], dpi=PNG_DPI)


def _columns(samples, names: list[str]) -> list[str]:
    """The GetDist columns of ``names`` that vary in ``samples`` (:func:`globalfit.outputs.chains.plot_column`)."""
    cols = [plot_column(samples, n) for n in names]
    return [c for c in cols if c is not None]


def triangle_figure(samples_list: list, params: list[str], legend_labels: list[str] | None = None, title: str | None = None,
                    width_inch: float | None = None):
    """GetDist triangle plot of one or several runs (filled 68/95 % regions; with one run the 68 % interval of each
    parameter above its 1-D panel; with several a legend in the empty upper triangle)."""
    from getdist import plots as gdplots
    from getdist.densities import DensitiesError

    n = len(params)
    single = len(samples_list) == 1
    width = width_inch or min(7.0, 1.25 * n + 1.4)
    quiet_ticks = {"xtick.minor.visible": False, "ytick.minor.visible": False, "xtick.top": False, "ytick.right": False}
    with warnings.catch_warnings(), publication_style(), mpl.rc_context(quiet_ticks):
        warnings.simplefilter("ignore")
        g = gdplots.get_subplot_plotter(width_inch=width)
        s = g.settings
        s.scaling = False
        s.axes_fontsize, s.axes_labelsize, s.legend_fontsize, s.fontsize = 7.5, 9.5, 9, 9
        s.title_limit_fontsize = 7.5
        s.figure_legend_frame = False
        s.alpha_filled_add = 0.8
        s.linewidth_contour = 1.0
        s.linewidth = 1.2
        s.num_plot_contours = 2
        s.solid_colors = list(RUN_COLOURS)
        s.line_styles = [c for c in RUN_COLOURS]
        colours = [LINE_COLOUR] if single else list(RUN_COLOURS[: len(samples_list)])
        kwargs = dict(contour_colors=colours, legend_labels=legend_labels if not single else None,
                      title_limit=1 if single and n <= 8 else None, legend_loc="upper right",
                      diag1d_kwargs={"colors": colours}, line_args=[{"color": c, "lw": 1.2} for c in colours])
        try:
            g.triangle_plot(samples_list, params, filled=True, **kwargs)
        except DensitiesError:
            # too few (or too concentrated) draws for GetDist to place a 95 % contour, e.g. a short test run: show the
            # draws themselves in the 2-D panels (coloured by the first parameter) and say so in the title
            g = gdplots.get_subplot_plotter(width_inch=width, settings=s)
            g.triangle_plot(samples_list, params, filled=False, plot_3d_with_param=params[0], **kwargs)
            title = (title + "\n" if title else "") + "draws shown: too few for 2-D credible regions"
        if title:
            top = g.subplots[0, 0].get_position().y1
            g.fig.suptitle(title, fontsize=9.5, y=min(top + 0.06, 1.0), va="bottom")
    return g.fig


def corner_plot(idata, variables: list[str], cfg, samples=None, title: str | None = None):
    """Triangle plot (:func:`triangle_figure`) of ``variables`` of one run; those that do not vary are left out. A
    quantity of both signs spanning decades is drawn as log10 of its modulus, with its share of negative draws in the
    title (:func:`sign_shares`)."""
    samples = samples if samples is not None else mcsamples(idata, cfg)
    params = _columns(samples, variables)
    if not params:
        raise InputError(f"corner plot: none of {variables} varies in the posterior")
    shares = sign_shares(samples, params, cfg)
    if shares:
        title = (title + "\n" if title else "") + shares
    return triangle_figure([samples], params, title=title)


def negative_shares(samples, params: list[str], cfg=None) -> list[tuple[str, float]]:
    """(LaTeX symbol, share of the draws with q < 0) for each column ``log10_abs_<q>`` among ``params`` (a quantity of
    both signs, drawn as log10 |q|)."""
    have = {n.name for n in samples.paramNames.names}
    out = []
    for p in params:
        q = p[len("log10_abs_"):] if p.startswith("log10_abs_") else None
        if q in have:
            out.append((symbol_and_unit(q, cfg)[0], float(np.average(np.asarray(samples[q]) < 0.0, weights=samples.weights))))
    return out


def sign_shares(samples, params: list[str], cfg=None) -> str | None:
    """One line for the columns of :func:`negative_shares`, e.g. ``ε_ee < 0 in 49 % of the draws``; None when there
    are none."""
    parts = [f"${sym} < 0$ in {100.0 * share:.0f} %" for sym, share in negative_shares(samples, params, cfg)]
    return ", ".join(parts) + " of the draws" if parts else None


def _bounds(cfg, name: str, x: np.ndarray) -> tuple[float, float]:
    spec = cfg.sampled().get(name)
    if spec is not None and spec.prior in ("log-uniform", "uniform") and spec.min > 0:
        return math.log10(spec.min), math.log10(spec.max)
    lx = np.log10(x)
    return float(lx.min()) - 0.5, float(lx.max()) + 0.5


def posterior_column(idata, cfg, name: str) -> np.ndarray:
    """Flattened draws of a posterior quantity: a recorded one, a difference of :data:`globalfit.physics.model.DIFFERENCES`,
    or a fixed parameter (repeated); sign kept."""
    post = idata.posterior
    n = post.sizes["chain"] * post.sizes["draw"]
    if name in post:
        return np.asarray(post[name]).ravel()
    if name in DIFFERENCES:
        a, b = DIFFERENCES[name]
        return posterior_column(idata, cfg, a) - posterior_column(idata, cfg, b)
    fixed = cfg.fixed_values()
    if name in fixed or name in DEFAULTS:
        return np.full(n, fixed.get(name, DEFAULTS.get(name)))
    raise InputError(f"unknown quantity {name!r}; available: {sorted(post.data_vars)} and {sorted(DIFFERENCES)}")


def posterior_plane(idata, cfg, quantity: str, bins: int = 24, min_count: int = 10, prob: float = 0.95) -> dict:
    """Binned posterior in (log10 M_Zp, log10 |g_X|) over the prior box: cell edges, the posterior density, and per
    cell the central ``prob`` credible range [q_lo, q_hi] of ``quantity`` (NaN in cells with fewer than ``min_count``
    draws). ``reach`` = max(|q_lo|, |q_hi|): the Bayesian counterpart of the profile's largest reachable |q|."""
    m = np.abs(posterior_column(idata, cfg, "M_Zp"))
    g = np.abs(posterior_column(idata, cfg, "g_X"))
    q = posterior_column(idata, cfg, quantity)
    xlo, xhi = _bounds(cfg, "M_Zp", m)
    ylo, yhi = _bounds(cfg, "g_X", g)
    xe, ye = np.linspace(xlo, xhi, bins + 1), np.linspace(ylo, yhi, bins + 1)
    lm, lg = np.log10(m), np.log10(g)
    ix = np.clip(np.digitize(lm, xe) - 1, 0, bins - 1)
    iy = np.clip(np.digitize(lg, ye) - 1, 0, bins - 1)
    count = np.zeros((bins, bins))
    q_lo = np.full((bins, bins), np.nan)
    q_hi = np.full((bins, bins), np.nan)
    np.add.at(count, (iy, ix), 1.0)
    cell = iy * bins + ix
    order = np.argsort(cell, kind="stable")
    starts = np.searchsorted(cell[order], np.arange(bins * bins + 1))
    tail = 0.5 * (1.0 - prob)
    for k in np.flatnonzero(np.diff(starts) >= min_count):
        vals = q[order[starts[k]:starts[k + 1]]]
        q_lo.flat[k], q_hi.flat[k] = np.quantile(vals, [tail, 1.0 - tail])
    with np.errstate(invalid="ignore"):
        reach = np.fmax(np.abs(q_lo), np.abs(q_hi))
    return dict(x_edges=xe, y_edges=ye, x=0.5 * (xe[1:] + xe[:-1]), y=0.5 * (ye[1:] + ye[:-1]), density=count / count.sum(),
                count=count, q_lo=q_lo, q_hi=q_hi, reach=reach, lm=lm, lg=lg, n=int(m.size))


def smooth_log_map(R: np.ndarray, sigma: float = 0.8) -> np.ndarray:
    """A positive map (NaN where undefined) smoothed in log10 by a Gaussian of ``sigma`` cells, NaN cells left out
    (normalised convolution): the cell quantiles of a finite sample are noisy, their decades are not."""
    from scipy.ndimage import gaussian_filter

    with np.errstate(invalid="ignore", divide="ignore"):
        logr = np.log10(np.where(R > 0, R, np.nan))
    ok = np.isfinite(logr)
    num = gaussian_filter(np.where(ok, logr, 0.0), sigma, mode="nearest")
    den = gaussian_filter(ok.astype(float), sigma, mode="nearest")
    with np.errstate(invalid="ignore", divide="ignore"):
        out = 10.0 ** (num / den)
    return np.where(ok, out, np.nan)


def plane_density(samples, eps: float = 0.0) -> dict | None:
    """Smoothed 2-D posterior of (M_Zp, g_X) from GetDist (boundary-corrected at the prior edges): grid ``X``, ``Y``
    (physical values), density ``P`` and the 95 %, 68 % levels; None when M_Zp or g_X does not vary."""
    xcol, ycol = plot_column(samples, "M_Zp"), plot_column(samples, "g_X")
    if xcol is None or ycol is None:
        return None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        d = samples.get2DDensityGridData(xcol, ycol, num_plot_contours=2)
    x = 10.0 ** np.asarray(d.x) if xcol.startswith("log10_") else np.asarray(d.x)
    y = 10.0 ** np.asarray(d.y) if ycol.startswith("log10_") else np.asarray(d.y)
    levels = sorted(float(c) for c in d.contours)  # [95 %, 68 %]
    return dict(X=x, Y=y, P=np.asarray(d.P), levels=levels)


def _fill_regions(ax, dens: dict, colours=(FILL_95, FILL_68), line=LINE_COLOUR) -> None:
    top = max(float(dens["P"].max()) * 1.01, dens["levels"][-1] * 1.0001)
    ax.contourf(dens["X"], dens["Y"], dens["P"], levels=[*dens["levels"], top], colors=list(colours))
    ax.contour(dens["X"], dens["Y"], dens["P"], levels=dens["levels"], colors=line, linewidths=0.8)


def _scenario_tex(name: str) -> str:
    return "$U(1)_{" + name.replace("3Ltau", r"3L_\tau") + "}$"


def plane_plot(idata, cfg, eps_name: str, bins: int = 16, ax=None, samples=None, osc_options: dict | None = None):
    """Paper-style (M_Zp, g_X) plane (Figs. 5/6 of arXiv:1607.07616) from posterior draws: the smoothed 68/95 % credible
    regions (filled blue; :func:`plane_density`), dashed vermillion contours (decades) of the largest |q| inside the
    95 % central credible range of each cell (:func:`posterior_plane`, smoothed in log10 by :func:`smooth_log_map`), black lines where that range touches the
    current (solid) and DUNE+T2HK (dash-dotted) oscillation bounds on q (in the reading of ``osc_options``, default
    the config's: :func:`~globalfit.outputs.plane.draw_reference_lines`), dotted: the cosmology bound. The legend
    sits below the axes, off the data."""
    plt = pyplot()
    with publication_style():
        if ax is None:
            fig, ax = plt.subplots(figsize=(4.2, 3.5))
        else:
            fig = ax.figure
        samples = samples if samples is not None else mcsamples(idata, cfg)
        pp = posterior_plane(idata, cfg, eps_name, bins=bins)
        X, Y = np.meshgrid(10.0 ** pp["x"], 10.0 ** pp["y"])
        handles = []
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            dens = plane_density(samples)
            if dens is not None:
                _fill_regions(ax, dens)
                handles += [Patch(facecolor=FILL_68, edgecolor=LINE_COLOUR, lw=0.8, label="posterior, 68 % credible"),
                            Patch(facecolor=FILL_95, edgecolor=LINE_COLOUR, lw=0.8, label="posterior, 95 % credible")]
            else:
                ax.plot(10.0 ** pp["lm"], 10.0 ** pp["lg"], ".", ms=2, color=LINE_COLOUR)
                handles.append(Line2D([], [], ls="", marker=".", color=LINE_COLOUR, label="posterior draws"))
            qlabel = quantity_label(eps_name)
            # four decades below the largest value: cell quantiles are noisy, more levels only draw noise
            handles += draw_reach_contours(ax, X, Y, np.ma.masked_invalid(smooth_log_map(pp["reach"])), decades=4,
                                           label=f"largest {abs_label(eps_name)} in the 95 % range of a cell")
            handles += draw_reference_lines(ax, X, Y, pp["q_lo"], pp["q_hi"], eps_name, cfg, cfg.model.scenario,
                                            10.0 ** pp["x_edges"][0], 10.0 ** pp["x_edges"][-1], osc_options)
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlim(10.0 ** pp["x_edges"][0], 10.0 ** pp["x_edges"][-1])
        ax.set_ylim(10.0 ** pp["y_edges"][0], 10.0 ** pp["y_edges"][-1])
        ax.set_xlabel(r"$M_{Z'}\;[\mathrm{GeV}]$")
        ax.set_ylabel(r"$g_X$")
        sc = get_scenario(cfg.model.scenario)
        ax.set_title(f"{_scenario_tex(sc.name)}: posterior and reachable {qlabel}")
        place_legend(ax, handles)
    return fig


def plane_overlay(samples_list: list, labels: list[str], title: str | None = None):
    """The 68/95 % credible regions in the (M_Zp, g_X) plane of several runs (68 %: solid, 95 %: dashed; one
    colour per run), legend below the axes."""
    plt = pyplot()
    with publication_style():
        fig, ax = plt.subplots(figsize=(4.2, 3.5))
        handles = []
        xr, yr = [], []
        for s, lab, colour in zip(samples_list, labels, RUN_COLOURS):
            dens = plane_density(s)
            if dens is None:
                continue
            xr += [float(dens["X"].min()), float(dens["X"].max())]
            yr += [float(dens["Y"].min()), float(dens["Y"].max())]
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                ax.contourf(dens["X"], dens["Y"], dens["P"], levels=[dens["levels"][1], max(float(dens["P"].max()) * 1.01, dens["levels"][1] * 1.0001)],
                            colors=[colour], alpha=0.25)
                ax.contour(dens["X"], dens["Y"], dens["P"], levels=dens["levels"], colors=colour, linestyles=["--", "-"], linewidths=1.2)
            handles.append(Line2D([], [], color=colour, lw=1.2, label=lab))
        if not handles:
            raise InputError("--compare: M_Zp and g_X vary in none of the runs; no (M_Zp, g_X) plane to draw")
        handles += [Line2D([], [], color="0.3", ls="-", lw=1.2, label="68 % credible"), Line2D([], [], color="0.3", ls="--", lw=1.2, label="95 % credible")]
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlim(min(xr), max(xr))
        ax.set_ylim(min(yr), max(yr))
        ax.set_xlabel(r"$M_{Z'}\;[\mathrm{GeV}]$")
        ax.set_ylabel(r"$g_X$")
        if title:
            ax.set_title(title)
        place_legend(ax, handles, ncol=2)
    return fig


def compare_plot(idata, cfg, profile, quantity: str, bins: int = 16):
    """The Bayesian map (:func:`plane_plot`) beside the profile-likelihood map (:func:`globalfit.outputs.plane.profile_plot`)
    of the same quantity, on the same axes ranges, both with the oscillation bounds in the reading of the profile's
    config (a posterior run without oscillation likelihoods has none of its own)."""
    plt = pyplot()
    with publication_style():
        fig, (a0, a1) = plt.subplots(1, 2, figsize=(8.4, 3.6))
        plane_plot(idata, cfg, quantity, bins=bins, ax=a0, osc_options=profile.settings.get("oscillation_options"))
        profile_plot(profile, cfg, quantity, ax=a1)
        for a in (a0, a1):
            a.set_xlim(min(a0.get_xlim()[0], a1.get_xlim()[0]), max(a0.get_xlim()[1], a1.get_xlim()[1]))
            a.set_ylim(min(a0.get_ylim()[0], a1.get_ylim()[0]), max(a0.get_ylim()[1], a1.get_ylim()[1]))
    return fig


def diagnostic_chains(idata, most: int = DIAGNOSTIC_CHAINS):
    """(``idata`` with at most ``most`` of its chains, evenly spaced from the first to the last; a title naming them, or
    None when every chain is kept): what the trace and rank plots draw."""
    n = idata.posterior.sizes["chain"]
    if n <= most:
        return idata, None
    keep = np.unique(np.linspace(0, n - 1, most).round().astype(int))
    chains = idata.posterior["chain"].values[keep]
    return idata.isel(chain=keep), f"chains {', '.join(str(c) for c in chains)} of {n} (R-hat and ESS use all {n})"


def _tight_with_title(fig, title: str | None) -> None:
    """``tight_layout``, leaving room above the panels for ``title`` (one line, 0.45 inch) when there is one."""
    if not title:
        fig.tight_layout()
        return
    top = 1.0 - 0.45 / fig.get_figheight()
    fig.tight_layout(rect=(0.0, 0.0, 1.0, top))
    fig.suptitle(title, y=1.0 - 0.08 / fig.get_figheight(), va="top")


def default_corner(cfg) -> list[str]:
    return list(cfg.plots.corner) if cfg.plots.corner else list(cfg.sampled())


def diagnostic_plots(outdir: Path, idata) -> list[Path]:
    """Write the trace and rank plots of the sampled parameters (at most :data:`DIAGNOSTIC_CHAINS` chains); return the
    files."""
    plt = pyplot()
    az = _az()
    outdir = Path(outdir)
    cfg = load_run_config(outdir)
    sampled = list(cfg.sampled())
    shown, title = diagnostic_chains(idata)
    files = []
    with warnings.catch_warnings(), publication_style():
        warnings.simplefilter("ignore")
        axes = az.plot_trace(shown, var_names=sampled, compact=False, show=False)
        fig = np.asarray(axes).ravel()[0].figure
        _tight_with_title(fig, title)
        files += _save(fig, outdir, "trace", cfg.plots.formats)
        plt.close(fig)
        axes = az.plot_rank(shown, var_names=sampled, show=False)
        fig = np.asarray(axes).ravel()[0].figure
        if title:
            _tight_with_title(fig, title)
        files += _save(fig, outdir, "rank", cfg.plots.formats)
        plt.close(fig)
    return files


def eps_corner_plots(outdir: Path, idata) -> list[Path]:
    """Write ``corner_eps`` (the Earth-matter eps entries that vary, when at least two do); return the files."""
    plt = pyplot()
    outdir = Path(outdir)
    cfg = load_run_config(outdir)
    eps = [e for e in EPS_EARTH_NAMES if e in idata.posterior and np.ptp(np.asarray(idata.posterior[e])) > 0]
    if len(eps) < 2:
        return []
    # the diagonal entries often lie on a ridge (the flavour-universal part g_X l) with a diffuse cloud beside it;
    # GetDist's automatic bandwidth then resolves the ridge into islands: smooth at 0.3 sigma instead
    eps_samples = mcsamples(idata, cfg, settings=EPS_SMOOTHING)
    fig = corner_plot(idata, eps, cfg, samples=eps_samples, title=r"Earth-matter NSI $\varepsilon^\oplus$: 68 % and 95 % credible regions")
    files = _save(fig, outdir, "corner_eps", cfg.plots.formats)
    plt.close(fig)
    return files


def beside_plots(outdir: Path, idata=None) -> list[Path]:
    """The figures that need only ``posterior.nc`` and the run's config: trace and rank (:func:`diagnostic_plots`) and
    corner_eps (:func:`eps_corner_plots`); what :func:`figures_beside` draws in a second process. ``idata`` defaults to
    the run's ``posterior.nc`` (how that process calls it). Returns the files."""
    if idata is None:
        idata = _az().from_netcdf(str(Path(outdir) / "posterior.nc"))
    return diagnostic_plots(outdir, idata) + eps_corner_plots(outdir, idata)


BACKGROUND_DRAWS = 50_000  # figures_beside: draw beside_plots in a second process from this many draws on


@contextmanager
def figures_beside(outdir: Path, idata):
    """Around the rest of a run's outputs (``posterior.nc`` already written): its trace, rank and corner_eps plots
    (:func:`beside_plots`), drawn in a second process from ``posterior.nc`` when the run has at least
    :data:`BACKGROUND_DRAWS` draws (64 walkers x 3000: ~17 s of matplotlib and GetDist that would otherwise follow the
    other outputs; docs/performance.md, "Trace and rank plots beside the other figures"), else in this process on
    leaving. On leaving, waits for that process; its error is raised here. Where no process can be started, draws them
    here."""
    draws = idata.posterior.sizes["chain"] * idata.posterior.sizes["draw"]
    pool = future = None
    if draws >= BACKGROUND_DRAWS:
        try:
            # the second process writes to the same terminal: GetDist kept quiet there as in the CLI's process
            pool = ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn"), initializer=quiet_getdist)
            future = pool.submit(beside_plots, Path(outdir))
        except (OSError, RuntimeError):  # no second process here: draw them in this one
            pool = future = None
    try:
        yield
    finally:
        if pool is not None:
            pool.shutdown(wait=True)  # the files are written atomically: complete or absent if we stopped early
    if future is None:
        beside_plots(outdir, idata)
        return
    try:
        future.result()
    except BrokenProcessPool:  # the second process died (killed, out of memory): draw them here
        beside_plots(outdir, idata)


def make_plots(outdir: Path, idata, variables: list[str] | None = None, samples=None, beside: bool = True) -> list[Path]:
    """Write corner, (when M_Zp or g_X is sampled) plane and, unless ``beside`` is False (:func:`figures_beside` draws
    them), trace, rank and corner_eps (:func:`beside_plots`); return the files."""
    plt = pyplot()
    cfg = load_run_config(outdir)
    fmts = cfg.plots.formats
    variables = list(variables) if variables else default_corner(cfg)
    missing = [v for v in variables if v not in idata.posterior]
    if missing:
        raise InputError(f"unknown quantity {missing[0]!r} for the corner plot; available: {sorted(idata.posterior.data_vars)}")
    samples = samples if samples is not None else mcsamples(idata, cfg)
    files = []
    fig = corner_plot(idata, variables, cfg, samples=samples)
    files += _save(fig, outdir, "corner", fmts)
    plt.close(fig)
    if "M_Zp" in idata.posterior or "g_X" in idata.posterior:
        fig = plane_plot(idata, cfg, cfg.plots.plane_eps or "eps_earth_ee", samples=samples)
        files += _save(fig, outdir, "plane", fmts)
        plt.close(fig)
    if beside:
        files += beside_plots(outdir, idata)
    return files


def compare_plots(outdir: Path, idata, profile: ProfileResult, quantities: list[str] | None = None) -> list[Path]:
    """``plots/compare_<quantity>`` (the run's posterior plane beside the profile map) for each quantity of the map."""
    cfg = load_run_config(outdir)
    if profile.scenario != cfg.model.scenario:
        raise InputError(f"--profile: scenario {profile.scenario} differs from the run's {cfg.model.scenario}")
    plt = pyplot()
    files: list[Path] = []
    for q in quantities or profile.quantities:
        if q not in profile.quantities:
            raise InputError(f"--quantity {q!r}: not in the profile map (it has {profile.quantities})")
        posterior_column(idata, cfg, q)  # clear error if the run lacks it
        fig = compare_plot(idata, cfg, profile, q)
        files += _save(fig, outdir, f"compare_{q}", cfg.plots.formats)
        plt.close(fig)
    return files


def run_label(outdir: Path, cfg) -> str:
    """Legend label of a run: its directory name and scenario."""
    return f"{Path(outdir).resolve().name} ({_scenario_tex(cfg.model.scenario)})"


COMPARE_STEMS = ("triangle", "plane")


def compare_outputs(dest: Path, formats=("pdf", "png"), force: bool = False) -> list[Path]:
    """The files :func:`compare_runs` may write in ``dest`` (``triangle`` and ``plane`` in each format), checked before
    anything is drawn: ``dest`` a directory or absent, and none of these files there unless ``force``
    (OutputError naming the folder, the files and ``--force``)."""
    dest = check_dir_target(Path(dest), f"--out {dest}")
    files = [dest / f"{stem}.{fmt}" for stem in COMPARE_STEMS for fmt in formats]
    blocked = [f for f in files if f.exists() and not f.is_file()]
    if blocked:
        raise OutputError(f"{blocked[0]}: exists and is not a file, where --compare writes a figure; give another --out")
    existing = [f.name for f in files if f.exists()]
    if existing and not force:
        raise OutputError(f"{dest}: {', '.join(existing)} exist{'s' if len(existing) == 1 else ''} (figures of an earlier "
                          "--compare); use --force to overwrite them, or another --out")
    return files


def compare_runs(runs: list[tuple[Path, object]], dest: Path, variables: list[str] | None = None, labels: list[str] | None = None,
                 formats=("pdf", "png"), force: bool = False) -> list[Path]:
    """Overlay several runs ``[(outdir, idata), ...]``: ``<dest>/triangle`` (GetDist triangle plot of ``variables``,
    default: the first run's ``plots.corner`` that vary in every run) and ``<dest>/plane`` (their (M_Zp, g_X) credible
    regions). Returns the files. Figures of an earlier comparison in ``dest`` are overwritten only with ``force``
    (:func:`compare_outputs`)."""
    if len(runs) < 2:
        raise InputError("--compare needs at least two run directories")
    compare_outputs(dest, formats, force)
    cfgs = [load_run_config(Path(o)) for o, _ in runs]
    labels = list(labels) if labels else [run_label(o, c) for (o, _), c in zip(runs, cfgs)]
    if len(labels) != len(runs):
        raise InputError(f"--labels: {len(labels)} labels for {len(runs)} runs")
    samples = [mcsamples(idata, cfg, label=lab) for (_, idata), cfg, lab in zip(runs, cfgs, labels)]
    explicit = bool(variables)
    variables = list(variables) if variables else default_corner(cfgs[0])
    params = []
    for v in variables:
        cols = [plot_column(s, v) for s in samples]
        if None in cols or len(set(cols)) != 1:
            if explicit:
                bad = runs[cols.index(None)][0] if None in cols else runs[0][0]
                why = "does not vary (or is not recorded) in" if None in cols else "is on different scales (linear / log10) in the runs, e.g."
                raise InputError(f"--vars {v}: {why} {bad}")
            continue
        params.append(cols[0])
    if not params:
        raise InputError(f"--compare: none of {variables} varies, on the same scale, in every run")
    plt = pyplot()
    files: list[Path] = []
    # quantities of both signs drawn as log10 |q|: each run's share of negative draws in the title
    shares = [negative_shares(s, params, cfg) for s, cfg in zip(samples, cfgs)]
    same = shares[0] and all(len(sh) == len(shares[0]) for sh in shares)
    title = "; ".join(f"${sym} < 0$ in " + ", ".join(f"{100.0 * sh[i][1]:.0f} % ({lab})" for sh, lab in zip(shares, labels))
                      for i, (sym, _) in enumerate(shares[0])) + " of the draws" if same else None
    fig = triangle_figure(samples, params, legend_labels=labels, title=title)
    files += _save(fig, Path(dest), "triangle", formats, folder=None)
    plt.close(fig)
    if all("M_Zp" in idata.posterior or "g_X" in idata.posterior for _, idata in runs):
        fig = plane_overlay(samples, labels)
        files += _save(fig, Path(dest), "plane", formats, folder=None)
        plt.close(fig)
    return files
