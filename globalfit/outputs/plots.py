"""Plots of a run (PDF and PNG in ``OUTDIR/plots``): corner plot with 68/95 % credible contours, trace and
rank plots, and the paper-style plane (M_Zp horizontal, g_X vertical, both log) with the posterior density
and the NSI coefficient ``plots.plane_eps`` reachable in each cell (95 % credible range of its draws) against the
oscillation bounds, like Figs. 5/6 of Farzan & Heeck, arXiv:1607.07616; with ``--profile`` also that plane beside
the profile-likelihood map of ``globalfit profile``.

Credible regions are highest-density regions of a lightly smoothed 2-D histogram. A quantity whose
posterior is positive and spans more than two decades is drawn as log10.
"""

from __future__ import annotations

import math
import warnings
from pathlib import Path

import numpy as np
from matplotlib.patches import Patch

from globalfit import _jax  # noqa: F401
from globalfit.errors import InputError
from globalfit.physics.model import DIFFERENCES
from globalfit.physics.parameters import DEFAULTS
from globalfit.outputs.plane import abs_label, draw_reach_contours, draw_reference_lines, profile_plot, quantity_label
from globalfit.outputs.profile_result import ProfileResult
from globalfit.outputs.report import _az, load_run_config
from globalfit.outputs.rundir import atomic_path
from globalfit.physics.scenarios import get_scenario
from globalfit.outputs.style import label_of, pyplot

__all__ = ["make_plots", "compare_plots", "corner_plot", "plane_plot", "posterior_plane", "posterior_column", "compare_plot", "label_of"]


EPS_EARTH = ("eps_earth_ee", "eps_earth_mumu", "eps_earth_tautau", "abs_eps_earth_emu", "abs_eps_earth_etau", "abs_eps_earth_mutau")


def _values(idata, name: str, cfg=None) -> tuple[np.ndarray, str]:
    x = np.asarray(idata.posterior[name]).ravel()
    label = label_of(name)
    spec = cfg.sampled().get(name) if cfg is not None else None
    if spec is not None:  # sampled: the scale of its prior
        use_log = spec.prior in ("log-uniform", "log-normal") and not spec.negative
    else:
        use_log = bool(np.all(x > 0) and x.max() / x.min() > 100.0)
    if use_log:
        return np.log10(x), rf"$\log_{{10}} {label.strip('$')}$"
    return x, label


def _hpd_levels(h: np.ndarray, probs=(0.95, 0.68)) -> list[float]:
    flat = np.sort(h.ravel())[::-1]
    cum = np.cumsum(flat)
    cum /= cum[-1]
    levels = [flat[min(np.searchsorted(cum, p), flat.size - 1)] for p in probs]
    out = []
    for lv in levels:  # strictly increasing for contour()
        out.append(lv if not out or lv > out[-1] else np.nextafter(out[-1], np.inf))
    return out


def _density2d(x, y, bins=40):
    from scipy.ndimage import gaussian_filter

    h, xe, ye = np.histogram2d(x, y, bins=bins)
    h = gaussian_filter(h, 1.5)  # light smoothing: 68/95 % contours from a finite sample
    xc, yc = 0.5 * (xe[1:] + xe[:-1]), 0.5 * (ye[1:] + ye[:-1])
    return h.T, xc, yc


def _save(fig, outdir: Path, stem: str, formats) -> list[Path]:
    (outdir / "plots").mkdir(exist_ok=True)
    paths = []
    for fmt in formats:
        p = outdir / "plots" / f"{stem}.{fmt}"
        with atomic_path(p) as tmp:  # complete or absent after a kill
            fig.savefig(tmp, format=fmt, dpi=120 if fmt == "png" else None, bbox_inches="tight")
        paths.append(p)
    return paths


def corner_plot(idata, variables: list[str], cfg=None):
    """Corner plot: 1-D histograms on the diagonal, 68/95 % HPD contours below it (sampled parameters on
    the scale of their prior, derived ones in log10 when positive over > 2 decades)."""
    plt = pyplot()
    n = len(variables)
    data = [_values(idata, v, cfg) for v in variables]
    fig, axes = plt.subplots(n, n, figsize=(2.2 * n + 1, 2.2 * n + 1), squeeze=False)
    for i in range(n):
        for j in range(n):
            ax = axes[i, j]
            if j > i:
                ax.axis("off")
                continue
            xi, li = data[i]
            xj, lj = data[j]
            if i == j:
                ax.hist(xi, bins=40, histtype="stepfilled", color="C0", alpha=0.6)
                ax.set_yticks([])
            elif np.ptp(xi) > 0 and np.ptp(xj) > 0:
                h, xc, yc = _density2d(xj, xi)
                ax.contourf(xc, yc, h, levels=_hpd_levels(h) + [h.max() * 1.0001], colors=["#9ecae1", "#3182bd"])
                ax.contour(xc, yc, h, levels=_hpd_levels(h), colors="k", linewidths=0.7)
            if i == n - 1:
                ax.set_xlabel(lj)
            else:
                ax.set_xticklabels([])
            if j == 0 and i > 0:
                ax.set_ylabel(li)
            elif j > 0:
                ax.set_yticklabels([])
    fig.suptitle("posterior: 68 % and 95 % credible regions")
    fig.tight_layout()
    return fig


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


def plane_plot(idata, cfg, eps_name: str, bins: int = 16, ax=None):
    """Paper-style (M_Zp, g_X) plane (Figs. 5/6 of arXiv:1607.07616) from posterior draws: density and 68/95 %
    credible regions (blue), dashed red contours of the largest |q| inside the 95 % central credible range of each
    cell (:func:`posterior_plane`), black lines where that range touches the current (solid) and DUNE+T2HK
    (dash-dotted) oscillation bounds on q, dotted: the cosmology bound."""
    plt = pyplot()
    if ax is None:
        fig, ax = plt.subplots(figsize=(6.4, 5.0))
    else:
        fig = ax.figure
    pp = posterior_plane(idata, cfg, eps_name, bins=bins)
    X, Y = np.meshgrid(10.0 ** pp["x"], 10.0 ** pp["y"])
    handles = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if np.ptp(pp["lm"]) > 0 and np.ptp(pp["lg"]) > 0:
            h, xc, yc = _density2d(pp["lm"], pp["lg"], bins=40)
            ax.pcolormesh(10.0**xc, 10.0**yc, h, cmap="Blues", shading="auto")
            ax.contour(10.0**xc, 10.0**yc, h, levels=_hpd_levels(h), colors=["#08519c", "#08306b"], linewidths=1.2)
            handles.append(Patch(color="#6baed6", label="posterior density, 68/95 % HPD"))
        else:
            ax.plot(10.0 ** pp["lm"], 10.0 ** pp["lg"], ".", ms=2)
        qlabel = quantity_label(eps_name)
        # four decades below the largest value: cell quantiles are noisy, more levels only draw noise
        handles += draw_reach_contours(ax, X, Y, np.ma.masked_invalid(pp["reach"]), decades=4,
                                       label=f"largest {abs_label(eps_name)} in the 95 % range of a cell")
        handles += draw_reference_lines(ax, X, Y, pp["q_lo"], pp["q_hi"], eps_name, cfg, cfg.model.scenario,
                                        10.0 ** pp["x_edges"][0], 10.0 ** pp["x_edges"][-1])
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlim(10.0 ** pp["x_edges"][0], 10.0 ** pp["x_edges"][-1])
    ax.set_ylim(10.0 ** pp["y_edges"][0], 10.0 ** pp["y_edges"][-1])
    ax.set_xlabel(r"$M_{Z'}$ [GeV]")
    ax.set_ylabel(r"$|g_X|$")
    sc = get_scenario(cfg.model.scenario)
    ax.set_title(f"{sc.name}: posterior ({pp['n']} draws) and reachable {qlabel}", fontsize=10)
    ax.legend(handles=handles, fontsize=7, loc="upper left", framealpha=0.85)
    fig.tight_layout()
    return fig


def compare_plot(idata, cfg, profile, quantity: str, bins: int = 16):
    """The Bayesian map (:func:`plane_plot`) beside the profile-likelihood map (:func:`globalfit.inference.profile.profile_plot`)
    of the same quantity, on the same axes ranges."""
    plt = pyplot()
    fig, (a0, a1) = plt.subplots(1, 2, figsize=(12.0, 5.0), sharey=False)
    plane_plot(idata, cfg, quantity, bins=bins, ax=a0)
    profile_plot(profile, cfg, quantity, ax=a1)
    for a in (a0, a1):
        a.set_xlim(min(a0.get_xlim()[0], a1.get_xlim()[0]), max(a0.get_xlim()[1], a1.get_xlim()[1]))
        a.set_ylim(min(a0.get_ylim()[0], a1.get_ylim()[0]), max(a0.get_ylim()[1], a1.get_ylim()[1]))
    fig.tight_layout()
    return fig


def default_corner(cfg) -> list[str]:
    return list(cfg.plots.corner) if cfg.plots.corner else list(cfg.sampled())


def make_plots(outdir: Path, idata, variables: list[str] | None = None) -> list[Path]:
    """Write corner, trace, rank, (when M_Zp or g_X is sampled) plane and (when at least two vary) corner_eps
    (the Earth-matter eps entries) plots; return the files."""
    plt = pyplot()
    az = _az()
    cfg = load_run_config(outdir)
    fmts = cfg.plots.formats
    variables = list(variables) if variables else default_corner(cfg)
    missing = [v for v in variables if v not in idata.posterior]
    if missing:
        raise InputError(f"unknown quantity {missing[0]!r} for the corner plot; available: {sorted(idata.posterior.data_vars)}")
    files = []
    fig = corner_plot(idata, variables, cfg)
    files += _save(fig, outdir, "corner", fmts)
    plt.close(fig)
    sampled = list(cfg.sampled())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        axes = az.plot_trace(idata, var_names=sampled, compact=False, show=False)
        fig = np.asarray(axes).ravel()[0].figure
        fig.tight_layout()
        files += _save(fig, outdir, "trace", fmts)
        plt.close(fig)
        axes = az.plot_rank(idata, var_names=sampled, show=False)
        fig = np.asarray(axes).ravel()[0].figure
        files += _save(fig, outdir, "rank", fmts)
        plt.close(fig)
    if "M_Zp" in idata.posterior or "g_X" in idata.posterior:
        fig = plane_plot(idata, cfg, cfg.plots.plane_eps or "eps_earth_ee")
        files += _save(fig, outdir, "plane", fmts)
        plt.close(fig)
    eps = [e for e in EPS_EARTH if e in idata.posterior and np.ptp(np.asarray(idata.posterior[e])) > 0]
    if len(eps) >= 2:
        fig = corner_plot(idata, eps, cfg)
        fig.suptitle(r"posterior of the Earth-matter NSI $\varepsilon^\oplus$: 68 % and 95 % credible regions")
        files += _save(fig, outdir, "corner_eps", fmts)
        plt.close(fig)
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
