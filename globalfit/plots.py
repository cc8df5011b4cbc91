"""Plots of a run (PDF and PNG in ``OUTDIR/plots``): corner plot with 68/95 % credible contours, trace and
rank plots, and the paper-style plane (M_Zp horizontal, g_X vertical, both log) with the posterior density
and contours of one NSI coefficient (``plots.plane_eps``) at the posterior medians of the other parameters,
like Figs. 5/6 of Farzan & Heeck, arXiv:1607.07616.

Credible regions are highest-density regions of a lightly smoothed 2-D histogram. A quantity whose
posterior is positive and spans more than two decades is drawn as log10.
"""

from __future__ import annotations

import math
import warnings
from pathlib import Path

import numpy as np

from . import _jax  # noqa: F401
from .errors import InputError, OutputError

__all__ = ["make_plots", "plot_command", "corner_plot", "plane_plot", "label_of"]


def _mpl():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def label_of(name: str) -> str:
    """LaTeX label of a parameter, a sampling site or a derived quantity."""
    from .model import DERIVED_INFO
    from .parameters import PARAMETERS

    for prefix, tex in (("log10_", r"\log_{10}"), ("ln_", r"\ln")):
        if name.startswith(prefix):
            return rf"${tex} {label_of(name[len(prefix):]).strip('$')}$"
    if name in PARAMETERS:
        return f"${PARAMETERS[name].latex}$"
    if name in DERIVED_INFO:
        return f"${DERIVED_INFO[name][0]}$"
    return name.replace("_", r"\_")


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
        fig.savefig(p, dpi=120 if fmt == "png" else None, bbox_inches="tight")
        paths.append(p)
    return paths


def corner_plot(idata, variables: list[str], cfg=None):
    """Corner plot: 1-D histograms on the diagonal, 68/95 % HPD contours below it (sampled parameters on
    the scale of their prior, derived ones in log10 when positive over > 2 decades)."""
    plt = _mpl()
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


def plane_plot(idata, cfg, eps_name: str, n_grid: int = 60):
    """M_Zp (x, log) vs g_X (y, log): posterior density and 68/95 % regions, contours of ``eps_name``.
    A fixed M_Zp or g_X shows as a line of draws; the grid spans the prior range (else +-0.5 decades)."""
    import jax
    import jax.numpy as jnp

    from .model import derived
    from .parameters import complete
    from .sampling import complete_with_rh
    from .scenarios import get_scenario
    from .support import model_options, physical_point

    plt = _mpl()
    sc = get_scenario(cfg.model.scenario)
    opts = model_options(cfg)
    n = idata.posterior.sizes["chain"] * idata.posterior.sizes["draw"]
    fixed = cfg.fixed_values()

    def column(name):
        if name in idata.posterior:
            return np.asarray(idata.posterior[name]).ravel()
        from .parameters import DEFAULTS

        return np.full(n, fixed.get(name, DEFAULTS[name]))

    m, g = column("M_Zp"), column("g_X")
    xlo, xhi = _bounds(cfg, "M_Zp", m)
    ylo, yhi = _bounds(cfg, "g_X", g)
    base = dict(cfg.fixed_values())
    for k in cfg.sampled():
        if k not in ("M_Zp", "g_X"):
            base[k] = float(np.median(np.asarray(idata.posterior[k])))
    X, Y = np.meshgrid(np.linspace(xlo, xhi, n_grid), np.linspace(ylo, yhi, n_grid))

    def eps_at(lm, lg):
        v = dict(base, M_Zp=10.0**lm, g_X=10.0**lg)
        p = complete(physical_point(complete_with_rh(v), sc, opts))
        return derived(p, sc, opts)[eps_name]

    E = np.asarray(jax.jit(jax.vmap(eps_at))(jnp.asarray(X.ravel()), jnp.asarray(Y.ravel()))).reshape(X.shape)
    fig, ax = plt.subplots(figsize=(6.4, 5.0))
    lm, lg = np.log10(m), np.log10(g)
    if np.ptp(lm) > 0 and np.ptp(lg) > 0:
        h, xc, yc = _density2d(lm, lg, bins=50)
        ax.pcolormesh(xc, yc, h, cmap="Blues", shading="auto")
        ax.contour(xc, yc, h, levels=_hpd_levels(h), colors=["#08519c", "#08306b"], linewidths=1.2)
    else:
        ax.plot(lm, lg, ".", ms=2)
    A = np.abs(E)
    finite = A[np.isfinite(A) & (A > 0)]
    if finite.size:
        lo, hi = math.floor(math.log10(finite.min())), math.ceil(math.log10(finite.max()))
        levels = [10.0**k for k in range(max(lo, hi - 8), hi + 1)]
        if len(levels) >= 1:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                cs = ax.contour(X, Y, np.where(A > 0, A, np.nan), levels=levels, colors="C3", linewidths=0.8, linestyles="--")
            ax.clabel(cs, fmt=lambda v: f"{v:.0e}", fontsize=7)
    ax.set_xlabel(r"$\log_{10} M_{Z'}\,[\mathrm{GeV}]$")
    ax.set_ylabel(r"$\log_{10} g_X$")
    ax.set_xlim(xlo, xhi)
    ax.set_ylim(ylo, yhi)
    ax.set_title(f"{sc.latex and '$' + sc.latex + '$'}: posterior (68/95 %), dashed: |{label_of(eps_name)}| at medians", fontsize=9)
    return fig


def default_corner(cfg) -> list[str]:
    return list(cfg.plots.corner) if cfg.plots.corner else list(cfg.sampled())


def make_plots(outdir: Path, idata, variables: list[str] | None = None) -> list[Path]:
    """Write corner, trace, rank and (when M_Zp and g_X are sampled) plane plots; return the files."""
    from .report import _az, load_run_config

    plt = _mpl()
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
    return files


def plot_command(outdir: Path, variables: list[str] | None = None) -> int:
    """``globalfit plot OUTDIR [--vars ...]`` on a finished or partial run."""
    from .report import build_idata

    outdir = Path(outdir)
    if not outdir.is_dir():
        raise OutputError(f"{outdir}: no such run directory")
    idata = build_idata(outdir)
    for f in make_plots(outdir, idata, variables):
        print(f)
    return 0
