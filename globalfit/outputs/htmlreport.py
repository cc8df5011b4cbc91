"""The run report: one self-contained HTML page per run (``OUTDIR/report.html``, figures embedded as PNG data), written
by ``globalfit run`` and ``globalfit report OUTDIR``.

Also saved as figures: ``plots/likelihoods`` and ``plots/dominance`` (in ``plots.formats``, as every figure).

Sections: the run (scenario, chains, state, config hash, versions); diagnostics (R-hat, ESS, divergences, the
convergence rule of :mod:`globalfit.outputs.report`); the triangle plot and the (M_Zp, g_X) plane
(:mod:`globalfit.outputs.plots`); the posterior summary (median, 68 % and 95 % equal-tailed intervals); where each
likelihood bites:

* its -2 Delta ln L_i over the posterior, Delta relative to the largest ln L_i among the draws
  (:func:`likelihood_impact`): a likelihood whose distribution sits at 0 does not constrain the posterior;
* which likelihood dominates each region of the (M_Zp, g_X) plane (:func:`dominance_map`): on a grid over the prior
  box, each likelihood's -2 Delta ln L_i averaged over the posterior draws nearest to the cell in (log M_Zp, log g_X),
  with M_Zp, g_X set to the cell's values (inside the posterior the other parameters keep their local values, outside
  those of the nearest allowed points: the map names what stops the posterior from going further); the largest of
  them names the cell; cells where none reaches :data:`BITES` are left white.
"""

from __future__ import annotations

import base64
import html
import io
import json
import math
import time
import warnings
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
from scipy.spatial import cKDTree

from globalfit import _jax  # noqa: F401
from globalfit.problem import FitProblem, problem_from_config
from globalfit.problem.parametrisation import sites_for
from globalfit.physics.scenarios import get_scenario
from globalfit.outputs.chains import mcsamples
from globalfit.outputs.plots import _bounds, corner_plot, default_corner, plane_density, plane_plot
from globalfit.outputs.report import HDI_PROB, diagnostics_line, load_run_config, sampler_line, summarise
from globalfit.outputs.rundir import read_progress
from globalfit.outputs.plane import place_legend
from globalfit.outputs.style import FILL_68, LINE_COLOUR, PALETTE, RUN_COLOURS, publication_style, pyplot, save_figure, tight_bbox
from likelihoods import plot_label

__all__ = ["BITES", "likelihood_impact", "dominance_map", "impact_figure", "dominance_figure", "html_report", "write_html_report"]

BITES = 4.0  # -2 Delta ln L at which a likelihood is said to bite (2 sigma for one parameter)
REPORT = "report.html"
_FIG_DPI = 110


def likelihood_impact(idata) -> dict[str, np.ndarray]:
    """-2 (ln L_i - max over the draws of ln L_i) of every likelihood at every draw (flattened)."""
    ll = getattr(idata, "log_likelihood", None)
    if ll is None:
        return {}
    out = {}
    for name in ll.data_vars:
        a = np.asarray(ll[name], dtype=float).ravel()
        out[name] = -2.0 * (a - a.max())
    return out


def _grid_function(problem: FitProblem):
    """Jitted ``(z, M_Zp, g_X) -> (ln L_i stacked, inside support)`` for batches of site points with M_Zp, g_X replaced."""

    def one(z, m, g):
        values, _ = problem.values(z, override={"M_Zp": m, "g_X": g})
        p = problem.physical(values)
        terms = problem.loglike_terms(p)
        return jnp.stack([terms[n] for n in problem.likelihood_names]), problem.inside_support(p)

    return jax.jit(jax.vmap(one))


def dominance_map(problem: FitProblem, idata, grid: int = 20, nuisance: int = 32, batch: int = 2048) -> dict | None:
    """Which likelihood dominates each cell of the (log10 M_Zp, log10 g_X) plane over the prior box (module docstring):
    ``chi2[i, iy, ix]`` (mean -2 Delta ln L_i over the ``nuisance`` posterior draws nearest to the cell), ``dominant[iy, ix]`` (index into
    ``names``; -1 where none reaches :data:`BITES`, -2 where every nuisance draw leaves the physical support).
    None unless both M_Zp and g_X are sampled."""
    cfg = problem.cfg
    if not {"M_Zp", "g_X"} <= set(cfg.sampled()) or not problem.likelihoods:
        return None
    post = idata.posterior
    names = problem.likelihood_names
    m_draws = np.abs(np.asarray(post["M_Zp"]).ravel())
    g_draws = np.abs(np.asarray(post["g_X"]).ravel())
    xlo, xhi = _bounds(cfg, "M_Zp", m_draws)
    ylo, yhi = _bounds(cfg, "g_X", g_draws)
    xe, ye = np.linspace(xlo, xhi, grid + 1), np.linspace(ylo, yhi, grid + 1)
    xc, yc = 0.5 * (xe[1:] + xe[:-1]), 0.5 * (ye[1:] + ye[:-1])
    z_all = np.stack([np.asarray(post[s], dtype=float).ravel() for s in problem.site_names], axis=-1)
    k = min(nuisance, z_all.shape[0])
    # the k draws nearest to each cell centre in (log10 M_Zp, log10 g_X), both scaled to the prior box: inside the
    # posterior the other parameters take their local values, outside those of the nearest allowed points
    pts = np.column_stack([(np.log10(m_draws) - xlo) / (xhi - xlo), (np.log10(g_draws) - ylo) / (yhi - ylo)])
    cy, cx = np.meshgrid((yc - ylo) / (yhi - ylo), (xc - xlo) / (xhi - xlo), indexing="ij")
    _, near = cKDTree(pts).query(np.column_stack([cx.ravel(), cy.ravel()]), k=k)
    near = np.asarray(near).reshape(grid * grid, k)
    Z = z_all[near.ravel()]
    gy, gx = np.divmod(np.repeat(np.arange(grid * grid), k), grid)
    M = 10.0 ** xc[gx]
    G = 10.0 ** yc[gy]
    fn = _grid_function(problem)
    n = Z.shape[0]
    lnl = np.empty((n, len(names)))
    inside = np.empty(n, dtype=bool)
    for start in range(0, n, batch):
        sl = slice(start, min(start + batch, n))
        pad = batch - (sl.stop - sl.start)
        zz, mm, gg = (np.concatenate([a[sl], np.repeat(a[sl][-1:], pad, axis=0)]) for a in (Z, M, G))
        a, b = jax.device_get(fn(jnp.asarray(zz), jnp.asarray(mm), jnp.asarray(gg)))
        lnl[sl], inside[sl] = np.asarray(a)[: sl.stop - sl.start], np.asarray(b)[: sl.stop - sl.start]
    ref = np.array([np.asarray(idata.log_likelihood[nm], dtype=float).max() for nm in names])
    chi2 = np.clip(-2.0 * (lnl - ref), 0.0, None)
    chi2 = np.where(inside[:, None], chi2, np.nan).reshape(grid, grid, k, len(names))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        mean = np.nanmean(chi2, axis=2)  # (iy, ix, likelihood)
    dominant = np.full((grid, grid), -1, dtype=int)
    valid = np.isfinite(mean).all(axis=-1)
    best = np.argmax(np.where(np.isfinite(mean), mean, -np.inf), axis=-1)
    bites = np.take_along_axis(np.nan_to_num(mean, nan=-1.0), best[..., None], axis=-1)[..., 0] >= BITES
    dominant[valid & bites] = best[valid & bites]
    dominant[~valid] = -2
    return dict(names=names, x_edges=xe, y_edges=ye, chi2=np.moveaxis(mean, -1, 0), dominant=dominant, nuisance=k)


def impact_figure(impact: dict[str, np.ndarray]):
    """Small multiples: the distribution of -2 Delta ln L_i over the posterior for each likelihood."""
    plt = pyplot()
    names = list(impact)
    ncol = min(4, len(names))
    nrow = math.ceil(len(names) / ncol)
    with publication_style():
        fig, axes = plt.subplots(nrow, ncol, figsize=(1.9 * ncol + 0.4, 1.45 * nrow + 0.5), squeeze=False)
        for ax, name in zip(axes.ravel(), names):
            x = impact[name]
            top = min(max(float(x.max()), BITES * 2.0), 100.0)
            ax.hist(np.clip(x, 0, top), bins=40, range=(0, top), color=FILL_68, edgecolor=LINE_COLOUR, linewidth=0.4)
            ax.set_yscale("log")  # the tail, where the likelihood bites, holds few draws
            ax.axvline(BITES, color=PALETTE["vermillion"], ls="--", lw=0.8)
            ax.set_title(plot_label(name), fontsize=8)
            ax.text(0.97, 0.9, f"{100 * float(np.mean(x >= BITES)):.1f} % $\\geq {BITES:g}$", transform=ax.transAxes, ha="right", va="top", fontsize=7)
            ax.tick_params(labelsize=7)
            ax.set_yticks([])
            ax.minorticks_off()
        for ax in axes.ravel()[len(names):]:
            ax.axis("off")
        fig.supxlabel(r"$-2\Delta\ln L_i$ over the posterior draws (counts on a log scale; dashed: $-2\Delta\ln L_i = 4$)", fontsize=8.5)
        fig.tight_layout()
    return fig


def dominance_figure(dm: dict, cfg, samples=None):
    """The (M_Zp, g_X) plane coloured by the likelihood with the largest mean -2 Delta ln L_i (white: none reaches
    :data:`BITES`; grey: outside the physical support), with the posterior's 68/95 % contours."""
    from matplotlib.colors import ListedColormap
    from matplotlib.patches import Patch

    plt = pyplot()
    names = dm["names"]
    present = sorted({int(i) for i in np.unique(dm["dominant"]) if i >= 0})
    colours = list(RUN_COLOURS[:-1]) + ["#999933", "#882255", "#44AA99", "#DDCC77", "#117733", "#332288", "#AA4499", "#88CCEE"]
    with publication_style():
        fig, ax = plt.subplots(figsize=(4.2, 3.5))
        X, Y = 10.0 ** dm["x_edges"], 10.0 ** dm["y_edges"]
        code = np.full(dm["dominant"].shape, np.nan)
        handles = []
        cmap_colours = []
        for k, i in enumerate(present):
            code[dm["dominant"] == i] = k
            c = colours[k % len(colours)]
            cmap_colours.append(c)
            handles.append(Patch(facecolor=c, alpha=0.75, label=plot_label(names[i])))
        if present:
            ax.pcolormesh(X, Y, np.ma.masked_invalid(code), cmap=ListedColormap(cmap_colours), vmin=-0.5, vmax=len(present) - 0.5,
                          alpha=0.75, shading="flat")
        outside = np.where(dm["dominant"] == -2, 1.0, np.nan)
        if np.isfinite(outside).any():
            ax.pcolormesh(X, Y, np.ma.masked_invalid(outside), cmap=ListedColormap(["0.6"]), shading="flat")
            handles.append(Patch(facecolor="0.6", label="outside the physical support"))
        handles.append(Patch(facecolor="white", edgecolor="0.5", lw=0.5, label=rf"no likelihood reaches $-2\Delta\ln L = {BITES:g}$"))
        if samples is not None:
            dens = plane_density(samples)
            if dens is not None:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    ax.contour(dens["X"], dens["Y"], dens["P"], levels=dens["levels"], colors="k", linewidths=[0.8, 1.2], linestyles=["--", "-"])
                handles.append(plt.Line2D([], [], color="k", lw=1.2, label="posterior 68 % (solid), 95 % (dashed)"))
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlim(X[0], X[-1])
        ax.set_ylim(Y[0], Y[-1])
        ax.set_xlabel(r"$M_{Z'}\;[\mathrm{GeV}]$")
        ax.set_ylabel(r"$g_X$")
        ax.set_title(rf"dominant constraint: largest mean $-2\Delta\ln L_i$ ({dm['nuisance']} nearest draws)", fontsize=8.5)
        place_legend(ax, handles, ncol=2)
    return fig


def _png(fig, keep: Path | None = None, formats=("pdf", "png")) -> str:
    """The figure as base64 PNG for the page; with ``keep`` (a path without suffix) also saved there as files, in
    ``formats``."""
    bbox = tight_bbox(fig)  # one layout for the files and the page
    if keep is not None:
        keep.parent.mkdir(parents=True, exist_ok=True)
        for fmt in formats:
            save_figure(fig, keep.with_suffix("." + fmt), bbox=bbox)
    buf = io.BytesIO()
    save_figure(fig, buf, fmt="png", dpi=_FIG_DPI, bbox=bbox)
    pyplot().close(fig)
    return base64.b64encode(buf.getvalue()).decode("ascii")


def _img(b64: str, alt: str, width: str = "100%") -> str:
    return f'<img alt="{html.escape(alt)}" style="max-width:{width}" src="data:image/png;base64,{b64}">'


def _fmt(x: float) -> str:
    if not math.isfinite(x):
        return str(x)
    return f"{x:.4g}"


_CSS = """
body{font-family:Georgia,'Times New Roman',serif;max-width:1100px;margin:2em auto;padding:0 1em;color:#222;line-height:1.45}
h1{font-size:1.6em;margin-bottom:.2em} h2{font-size:1.25em;border-bottom:1px solid #ccc;padding-bottom:.2em;margin-top:1.8em}
table{border-collapse:collapse;font-size:.9em;margin:.6em 0} th,td{padding:.25em .7em;text-align:right;border-bottom:1px solid #e4e4e4}
th{background:#f3f3f3} td:first-child,th:first-child{text-align:left}
.ok{color:#006d2c;font-weight:bold} .warn{color:#b30000;font-weight:bold} .bad{background:#fde0dd}
.meta{color:#555;font-size:.9em} figure{margin:1em 0} figcaption{font-size:.88em;color:#444;max-width:900px}
code{font-size:.92em}
"""


def _figure_b64(outdir: Path, stem: str, reuse: bool, make) -> str:
    """A figure of the page: ``plots/<stem>.png`` as written by the same run when ``reuse`` (``globalfit run`` has just
    drawn it), else drawn afresh by ``make()``."""
    f = outdir / "plots" / f"{stem}.png"
    if reuse and f.is_file():
        return base64.b64encode(f.read_bytes()).decode("ascii")
    return _png(make())


def html_report(outdir: Path, idata, samples=None, problem: FitProblem | None = None, dominance: bool = True,
                reuse_plots: bool = False, summary=None) -> str:
    """The report page of a run (module docstring) as one HTML string; ``reuse_plots``: embed the corner and plane
    PNGs already in ``plots/`` (right after :func:`globalfit.outputs.plots.make_plots` of the same draws);
    ``summary``: :func:`~globalfit.outputs.report.summarise` of these draws when the caller has it."""
    outdir = Path(outdir)
    cfg = load_run_config(outdir)
    prog = read_progress(outdir)
    post = idata.posterior
    chains, draws = post.sizes["chain"], post.sizes["draw"]
    samples = samples if samples is not None else mcsamples(idata, cfg)
    summary = summarise(idata, cfg) if summary is None else summary
    line, ok = diagnostics_line(summary, idata, cfg)
    finished = bool(prog.get("finished")) and prog["draws_done"] >= prog["draws_target"]
    state = "finished" if finished else f"partial ({prog['draws_done']}/{prog['draws_target']} draws per chain on disk)"
    sc = get_scenario(cfg.model.scenario)
    versions = json.loads(post.attrs.get("package_versions", "{}"))
    parts = [f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>globalfit run {html.escape(outdir.name)}</title>",
             f"<style>{_CSS}</style></head><body>",
             f"<h1>Run <code>{html.escape(outdir.name)}</code>: U(1)<sub>{html.escape(sc.name)}</sub></h1>",
             f"<p class='meta'>{chains} chains &times; {draws} draws, {state}; seed {cfg.sampler.seed}; config hash "
             f"<code>{html.escape(str(post.attrs.get('config_hash', '')))}</code>; PDG {html.escape(str(post.attrs.get('pdg_edition', '')))}; "
             + ", ".join(f"{html.escape(k)} {html.escape(v)}" for k, v in versions.items())
             + f"; written {time.strftime('%Y-%m-%d %H:%M')}. Directory: <code>{html.escape(str(outdir.resolve()))}</code></p>"]
    # diagnostics
    parts.append("<h2>Diagnostics</h2>")
    parts.append(f"<p class='{'ok' if ok else 'warn'}'>{html.escape(line)}</p>")
    parts.append(f"<p>{html.escape(sampler_line(idata, cfg))} ({chains * draws} draws).</p>")
    rows = [info.diagnosed for info in sites_for(cfg).values()]
    parts.append("<table><tr><th>sample site</th><th>mean</th><th>sd</th><th>ESS bulk</th><th>ESS tail</th><th>R-hat</th></tr>")
    for r in rows:
        if r not in summary.index:
            continue
        q = summary.loc[r]
        bad = float(q["r_hat"]) > 1.01 or min(float(q["ess_bulk"]), float(q["ess_tail"])) < 400
        parts.append(f"<tr class='{'bad' if bad else ''}'><td><code>{html.escape(r)}</code></td><td>{_fmt(float(q['mean']))}</td>"
                     f"<td>{_fmt(float(q['sd']))}</td><td>{float(q['ess_bulk']):.0f}</td><td>{float(q['ess_tail']):.0f}</td>"
                     f"<td>{float(q['r_hat']):.3f}</td></tr>")
    parts.append("</table>")
    # figures
    parts.append("<h2>Posterior</h2>")
    variables = default_corner(cfg)
    corner = _figure_b64(outdir, "corner", reuse_plots, lambda: corner_plot(idata, variables, cfg, samples=samples))
    parts.append(f"<figure>{_img(corner, 'triangle plot', '900px')}<figcaption>Marginal posteriors (GetDist kernel densities, "
                 "boundary-corrected at the prior edges) with 68 % and 95 % credible regions; above each 1-D panel its 68 % "
                 "interval. Sampled parameters on the scale of their prior.</figcaption></figure>")
    if "M_Zp" in post or "g_X" in post:
        plane = _figure_b64(outdir, "plane", reuse_plots, lambda: plane_plot(idata, cfg, cfg.plots.plane_eps or "eps_earth_ee", samples=samples))
        parts.append(f"<figure>{_img(plane, '(M_Zp, g_X) plane', '620px')}<figcaption>The (M<sub>Z&prime;</sub>, g<sub>X</sub>) "
                     "plane: 68/95 % credible regions, the largest NSI reachable in each cell and the oscillation and cosmology "
                     "bounds (Figs. 5/6 of arXiv:1607.07616).</figcaption></figure>")
    # summary table
    parts.append("<h2>Posterior summary</h2><table><tr><th>quantity</th><th>median</th><th>68 % interval</th>"
                 f"<th>{100 * HDI_PROB:g} % interval</th><th>mean</th><th>sd</th></tr>")
    shown = list(cfg.sampled()) + [v for v in variables if v not in cfg.sampled()]
    if cfg.plots.plane_eps and cfg.plots.plane_eps in post and cfg.plots.plane_eps not in shown:
        shown.append(cfg.plots.plane_eps)
    for name in shown:
        if name not in post:
            continue
        x = np.asarray(post[name], dtype=float).ravel()
        q = np.quantile(x, [0.025, 0.16, 0.5, 0.84, 0.975])
        parts.append(f"<tr><td><code>{html.escape(name)}</code></td><td>{_fmt(q[2])}</td><td>[{_fmt(q[1])}, {_fmt(q[3])}]</td>"
                     f"<td>[{_fmt(q[0])}, {_fmt(q[4])}]</td><td>{_fmt(float(x.mean()))}</td><td>{_fmt(float(x.std()))}</td></tr>")
    parts.append("</table><p class='meta'>Equal-tailed intervals of the marginal posterior. Full table: <code>summary.csv</code>; "
                 "chains for GetDist: <code>globalfit export OUT --format getdist</code>.</p>")
    # likelihoods
    impact = likelihood_impact(idata)
    if impact:
        parts.append("<h2>Where each likelihood bites</h2>")
        parts.append("<table><tr><th>likelihood</th><th>median &minus;2&Delta;lnL</th><th>95 % quantile</th>"
                     f"<th>share of draws with &minus;2&Delta;lnL &ge; {BITES:g}</th></tr>")
        for name, x in impact.items():
            parts.append(f"<tr><td><code>{html.escape(name)}</code></td><td>{_fmt(float(np.median(x)))}</td>"
                         f"<td>{_fmt(float(np.quantile(x, 0.95)))}</td><td>{float(np.mean(x >= BITES)):.2f}</td></tr>")
        parts.append("</table>")
        parts.append(f"<figure>{_img(_png(impact_figure(impact), outdir / 'plots' / 'likelihoods', cfg.plots.formats), 'likelihood impact', '900px')}<figcaption>&minus;2&Delta;ln L<sub>i</sub> "
                     "of each likelihood over the posterior draws, &Delta; relative to the largest ln L<sub>i</sub> among them. "
                     "Mass near 0 only: the likelihood hardly constrains this posterior; a long tail: it cuts into the prior."
                     "</figcaption></figure>")
        dm = None
        if dominance:
            problem = problem if problem is not None else problem_from_config(cfg, str(outdir / "config.resolved.yaml"))
            problem = problem.with_likelihoods([lk for lk in problem.likelihoods if lk.name in impact])
            dm = dominance_map(problem, idata)
        if dm is not None:
            parts.append(f"<figure>{_img(_png(dominance_figure(dm, cfg, samples), outdir / 'plots' / 'dominance', cfg.plots.formats), 'dominant constraint map', '620px')}<figcaption>"
                         "Which likelihood dominates each region of the (M<sub>Z&prime;</sub>, g<sub>X</sub>) plane: in each cell, "
                         f"each likelihood's &minus;2&Delta;ln L<sub>i</sub> averaged over the {dm['nuisance']} posterior draws nearest to "
                         "the cell, with M<sub>Z&prime;</sub>, g<sub>X</sub> set to the cell's values (the other parameters keep their "
                         "local values; outside the posterior, those of the nearest allowed points); the colour names the largest. "
                         f"White: none reaches {BITES:g}.</figcaption></figure>")
        elif dominance:
            parts.append("<p class='meta'>No dominance map: M<sub>Z&prime;</sub> and g<sub>X</sub> are not both sampled.</p>")
    parts.append("<h2>Files</h2><ul>")
    for f in ["posterior.nc", "summary.csv", "report.txt", "config.input.yaml", "config.resolved.yaml"]:
        if (outdir / f).exists():
            parts.append(f"<li><a href='{f}'>{f}</a></li>")
    for f in sorted((outdir / "plots").glob("*.pdf")) if (outdir / "plots").is_dir() else []:
        parts.append(f"<li><a href='plots/{f.name}'>plots/{f.name}</a> (vector)</li>")
    parts.append("</ul></body></html>")
    return "\n".join(parts)


def write_html_report(outdir: Path, idata, samples=None, problem: FitProblem | None = None, dominance: bool = True,
                      reuse_plots: bool = False, summary=None) -> Path:
    """Write ``OUTDIR/report.html`` (:func:`html_report`); returns its path."""
    outdir = Path(outdir)
    text = html_report(outdir, idata, samples=samples, problem=problem, dominance=dominance, reuse_plots=reuse_plots,
                       summary=summary)
    tmp = outdir / (REPORT + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(outdir / REPORT)
    return outdir / REPORT
