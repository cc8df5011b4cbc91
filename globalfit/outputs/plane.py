"""Figures of the (M_Zp, g_X) plane shared by the posterior and the profile-likelihood maps (paper Figs. 5/6 of
arXiv:1607.07616): the reachable-NSI contours, the oscillation and cosmology reference lines, and the profile map."""

from __future__ import annotations

import math
import warnings

import numpy as np
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from likelihoods import build_likelihoods
from likelihoods.cosmology import DATASETS

from globalfit.physics.model import DIFFERENCES
from globalfit.outputs.profile_result import THRESHOLDS, ProfileResult
from globalfit.outputs.rundir import atomic_path
from globalfit.physics.scenarios import get_scenario
from globalfit.outputs.style import label_of, pyplot

__all__ = ["oscillation_bounds", "quantity_label", "abs_label", "draw_reach_contours", "draw_reference_lines", "profile_plot", "save_profile_figures"]


def oscillation_bounds(quantity: str, record: dict) -> tuple[float | None, float | None] | None:
    """(lo, hi) on ``quantity`` from an oscillation record (:mod:`likelihoods.oscillation`): the differences
    eps_ee - eps_tautau and eps_mumu - eps_tautau directly (eps_tautau - eps_mumu with the sign flipped), |eps_ab| its
    upper limit, and a single diagonal entry when it alone is non-zero: eps_ee <- eps_ee - eps_tautau,
    eps_mumu <- eps_mumu - eps_tautau, eps_tautau <- minus eps_mumu - eps_tautau (the stronger of the two, as in the
    paper's Fig. 6). None when the record says nothing about ``quantity``."""
    lo_mm, hi_mm = record["mm_tt"]
    table = {
        "eps_earth_ee": tuple(record["ee_tt"]),
        "eps_earth_ee-tautau": tuple(record["ee_tt"]),
        "eps_earth_mumu": (lo_mm, hi_mm),
        "eps_earth_mumu-tautau": (lo_mm, hi_mm),
        "eps_earth_tautau": (-hi_mm, -lo_mm),
        "eps_earth_tautau-mumu": (-hi_mm, -lo_mm),
    }
    if quantity in table:
        return table[quantity]
    if quantity.startswith("abs_eps_earth_"):
        return (None, record[quantity.removeprefix("abs_eps_earth_")])
    return None


def quantity_label(quantity: str) -> str:
    if quantity in DIFFERENCES:
        a, b = DIFFERENCES[quantity]
        return "$" + label_of(a).strip("$") + " - " + label_of(b).strip("$") + "$"
    return label_of(quantity)


def abs_label(quantity: str) -> str:
    """|q| as a label (q's own label when it is already a modulus, abs_*)."""
    q = quantity_label(quantity)
    return q if quantity.startswith("abs_") else f"|{q}|"


def _osc_records(cfg) -> dict[str, dict]:
    """Records of the current (osc_lma, with the config's options) and projected (osc_dune_t2hk) oscillation bounds."""
    opts = dict(cfg.likelihoods.get("osc_lma") or {})
    comb = opts.get("combination", "earth")
    lks = build_likelihoods({"osc_lma": opts, "osc_dune_t2hk": {"combination": comb}}, cfg.model.scenario, where="profile")
    if comb != "earth":
        return {}
    return {lk.name: lk.loglike.record for lk in lks}


def _cosmology_bound(cfg) -> float | None:
    if "cosmology" not in cfg.likelihoods:
        return None
    o = dict(cfg.likelihoods.get("cosmology") or {})
    return float(o["limit"]) if o.get("limit") is not None else DATASETS[o.get("dataset", "sabti2020")]


def draw_reach_contours(ax, X, Y, R, decades: int, label: str) -> list:
    """Dashed red contours of a positive map R (masked where undefined) at whole decades, at most ``decades`` below
    its largest value; returns the legend handle (none when R has no positive value)."""
    pos = np.ma.masked_invalid(R).compressed()
    pos = pos[pos > 0]
    if not pos.size:
        return []
    lo, hi = math.floor(math.log10(pos.min())), math.ceil(math.log10(pos.max()))
    levels = [10.0**k for k in range(max(lo, hi - decades), hi + 1)]
    cs = ax.contour(X, Y, R, levels=levels, colors="C3", linewidths=0.8, linestyles="--")
    ax.clabel(cs, fmt=lambda v: f"{v:.0e}", fontsize=7)
    return [Line2D([], [], color="C3", ls="--", lw=0.8, label=label)]


def draw_reference_lines(ax, X, Y, q_min, q_max, quantity: str, cfg, scenario: str, m_lo: float, m_hi: float) -> list:
    """Draw, on a (M_Zp, g_X) map, where the reachable ``q_max`` / ``q_min`` equal the current (osc_lma, solid) and
    DUNE+T2HK (osc_dune_t2hk, dash-dotted) oscillation bounds on ``quantity``, and the cosmology bound on M_Zp
    (dotted); return the legend handles. ``cfg`` supplies the records (none drawn without it)."""
    handles = []
    qlabel = quantity_label(quantity)
    records = _osc_records(cfg) if cfg is not None else {}
    if quantity in ("eps_earth_ee", "eps_earth_mumu", "eps_earth_tautau") and any(get_scenario(scenario).l):
        records = {}  # g_X l adds a flavour-universal part that oscillations do not see: plot a difference instead
        handles.append(Line2D([], [], color="none", label="osc. bounds: see eps_earth_X-Y (universal part unobservable)"))
    for name, ls in (("osc_lma", "-"), ("osc_dune_t2hk", "-.")):
        b = oscillation_bounds(quantity, records[name]) if name in records else None
        if b is None:
            continue
        lo_b, hi_b = b
        drawn = False
        for bound, Z, applies in ((hi_b, q_max, hi_b is not None and hi_b > 0), (lo_b, q_min, lo_b is not None and lo_b < 0)):
            Zm = np.ma.masked_invalid(Z)
            if not applies or Zm.count() == 0 or not (Zm.min() < bound < Zm.max()):
                continue
            ax.contour(X, Y, Zm, levels=[bound], colors="k", linestyles=ls, linewidths=1.4)
            drawn = True
        if drawn:
            label = "current (osc_lma)" if name == "osc_lma" else "DUNE+T2HK (osc_dune_t2hk)"
            rng = f"$\\leq$ {hi_b:g}" if lo_b is None else f"in [{lo_b:g}, {hi_b:g}]"
            handles.append(Line2D([], [], color="k", ls=ls, lw=1.4, label=f"{label}: {qlabel} {rng}"))
    m_cos = _cosmology_bound(cfg) if cfg is not None else None
    if m_cos is not None and m_lo <= m_cos <= m_hi:
        ax.axvline(m_cos, color="k", ls=":", lw=1.2)
        handles.append(Line2D([], [], color="k", ls=":", lw=1.2, label=f"cosmology: $M_{{Z'}}$ = {m_cos * 1e3:g} MeV"))
    return handles


def profile_plot(result: ProfileResult, cfg=None, quantity: str | None = None, threshold: float = THRESHOLDS[0], ax=None):
    """Paper-style figure (Figs. 5/6 of arXiv:1607.07616): M_Zp horizontal, g_X vertical, both log. Shaded: the
    region allowed by the included likelihoods (chi2 <= threshold; lighter up to the next threshold); thin dashed:
    contours of the largest reachable |q| (decades); solid / dash-dotted black: where the reachable q equals the
    current (osc_lma) / DUNE+T2HK (osc_dune_t2hk) bound on q (beyond the line, towards larger |q|, the allowed Z'
    gives NSI that those oscillation data see); dotted vertical: the cosmology bound on M_Zp. ``cfg`` (the run
    config) supplies the oscillation records and the cosmology bound; without it those lines are omitted."""
    plt = pyplot()
    quantity = quantity or result.quantities[0]
    qlabel = quantity_label(quantity)
    M = 10.0**result.log10_M
    G = 10.0**result.log10_g
    X, Y = np.meshgrid(M, G)
    chi2 = np.where(np.isfinite(result.chi2), result.chi2, 1e30)
    q_min, q_max = result.extremes(quantity, threshold)
    if ax is None:
        fig, ax = plt.subplots(figsize=(6.4, 5.0))
    else:
        fig = ax.figure
    handles = []
    looser = [t for t in result.thresholds if t > threshold]
    what = " (non-osc.)" if result.excluded else ""
    if looser:
        ax.contourf(X, Y, chi2, levels=[-1e9, looser[0]], colors=["#deebf7"])
    ax.contourf(X, Y, chi2, levels=[-1e9, threshold], colors=["#9ecae1"])
    handles.append(Patch(color="#9ecae1", label=rf"allowed{what}: $-2\Delta\ln L \leq {threshold:g}$"))
    if looser:
        handles.append(Patch(color="#deebf7", label=rf"$-2\Delta\ln L \leq {looser[0]:g}$"))
    R = np.ma.masked_invalid(result.reach(quantity, threshold))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        handles += draw_reach_contours(ax, X, Y, R, decades=8, label=f"largest reachable {abs_label(quantity)}")
        handles += draw_reference_lines(ax, X, Y, q_min, q_max, quantity, cfg, result.scenario, M[0], M[-1])
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlim(M[0], M[-1])
    ax.set_ylim(G[0], G[-1])
    ax.set_xlabel(r"$M_{Z'}$ [GeV]")
    ax.set_ylabel(r"$g_X$")
    ax.set_title(f"{result.scenario}: profile likelihood and reachable {qlabel}", fontsize=10)
    ax.legend(handles=handles, fontsize=7, loc="upper left", framealpha=0.85)
    fig.tight_layout()
    return fig


def save_profile_figures(result: ProfileResult, cfg, out, quantities: list[str], formats=("pdf", "png")) -> list:
    """``profile_<quantity>.{pdf,png}`` in ``out`` for each quantity (:func:`profile_plot`); returns the files."""
    plt = pyplot()
    files = []
    for q in quantities:
        fig = profile_plot(result, cfg, q)
        for fmt in formats:
            f = out / f"profile_{q}.{fmt}"
            with atomic_path(f) as tmp:  # complete or absent after a kill
                fig.savefig(tmp, format=fmt, dpi=130 if fmt == "png" else None, bbox_inches="tight")
            files.append(f)
        plt.close(fig)
    return files
