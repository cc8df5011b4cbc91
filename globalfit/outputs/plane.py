"""Figures of the (M_Zp, g_X) plane shared by the posterior and the profile-likelihood maps (paper Figs. 5/6 of
arXiv:1607.07616): the reachable-NSI contours, the oscillation and cosmology reference lines, and the profile map."""

from __future__ import annotations

import math
import warnings

import numpy as np
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from likelihoods import build_likelihood, plot_label, registry
from likelihoods.oscillation import config_options

from globalfit.physics.model import DIFFERENCES
from globalfit.outputs.profile_result import THRESHOLDS, ProfileResult
from globalfit.physics.scenarios import get_scenario
from globalfit.outputs.style import FILL_68, FILL_95, LINE_COLOUR, PALETTE, label_of, publication_style, pyplot, save_figures

__all__ = ["oscillation_bounds", "quantity_label", "abs_label", "draw_reach_contours", "draw_reference_lines", "place_legend",
           "profile_plot", "save_profile_figures"]

REACH_COLOUR = PALETTE["vermillion"]


def oscillation_bounds(quantity: str, record: dict) -> tuple[float | None, float | None] | None:
    """(lo, hi) on ``quantity`` from an oscillation record (:mod:`likelihoods.oscillation`): the differences
    eps_ee - eps_tautau and eps_mumu - eps_tautau directly (eps_tautau - eps_mumu with the sign flipped), eps_ee - eps_mumu
    (the LMA-Dark interval, ``ee_mm``), |eps_ab| its upper limit, and a single diagonal entry when it alone is non-zero:
    eps_ee <- eps_ee - eps_tautau, eps_mumu <- eps_mumu - eps_tautau, eps_tautau <- minus eps_mumu - eps_tautau (the
    stronger of the two, as in the paper's Fig. 6). None when the record says nothing about ``quantity``."""
    table = {}
    if "ee_tt" in record:
        table.update({"eps_earth_ee": tuple(record["ee_tt"]), "eps_earth_ee-tautau": tuple(record["ee_tt"])})
    if "mm_tt" in record:
        lo_mm, hi_mm = record["mm_tt"]
        table.update({"eps_earth_mumu": (lo_mm, hi_mm), "eps_earth_mumu-tautau": (lo_mm, hi_mm),
                      "eps_earth_tautau": (-hi_mm, -lo_mm), "eps_earth_tautau-mumu": (-hi_mm, -lo_mm)})
    if "ee_mm" in record:
        table["eps_earth_ee-mumu"] = tuple(record["ee_mm"])
    if quantity in table:
        return table[quantity]
    name = quantity.removeprefix("abs_eps_earth_")
    if quantity.startswith("abs_eps_earth_") and name in record:
        return (None, record[name])
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


def _osc_records(scenario: str, options: dict[str, dict]) -> dict[str, tuple[str, dict]]:
    """{line: (likelihood, record in Earth units, eps^Earth)} of the current (line "osc_lma": osc_lma, or
    osc_lma_electron where ``options`` has it, with its options) and projected (line "osc_dune_t2hk", same reading)
    oscillation bounds that apply to ``scenario``, and the LMA-Dark interval (line "osc_lma_dark") where ``options``
    has osc_lma_dark. ``options``: a config's oscillation likelihoods (:func:`likelihoods.oscillation.config_options`)."""
    sc = get_scenario(scenario)
    current = "osc_lma_electron" if "osc_lma_electron" in options else "osc_lma"
    opts = dict(options.get(current) or {})
    reading = {k: opts[k] for k in ("combination", "n_q_over_n_e") if k in opts}
    lines = [(current, "osc_lma", opts), ("osc_dune_t2hk", "osc_dune_t2hk", reading)]
    if "osc_lma_dark" in options:
        lines.append(("osc_lma_dark", "osc_lma_dark", dict(options["osc_lma_dark"] or {})))
    out = {}
    for name, slot, o in lines:
        if registry()[name].applies(sc):
            out[slot] = (name, build_likelihood(name, sc, o, where="profile").earth_record())
    return out


def _cosmology_bound(cfg) -> float | None:
    """The M_Zp line of the config's cosmology likelihood (:meth:`likelihoods.cosmology.Cosmology.plot_mass`)."""
    if "cosmology" not in cfg.likelihoods:
        return None
    return build_likelihood("cosmology", cfg.model.scenario, cfg.likelihoods.get("cosmology"), where="profile").plot_mass()


def draw_reach_contours(ax, X, Y, R, decades: int, label: str) -> list:
    """Dashed red contours of a positive map R (masked where undefined) at whole decades, at most ``decades`` below
    its largest value; returns the legend handle (none when R has no positive value)."""
    pos = np.ma.masked_invalid(R).compressed()
    pos = pos[pos > 0]
    if not pos.size:
        return []
    lo, hi = math.floor(math.log10(pos.min())), math.ceil(math.log10(pos.max()))
    levels = [10.0**k for k in range(max(lo, hi - decades), hi + 1)]
    cs = ax.contour(X, Y, R, levels=levels, colors=REACH_COLOUR, linewidths=0.9, linestyles="--")
    ax.clabel(cs, fmt=lambda v: f"$10^{{{round(math.log10(v))}}}$", fontsize=7, inline_spacing=2)
    return [Line2D([], [], color=REACH_COLOUR, ls="--", lw=0.9, label=label)]


def place_legend(ax, handles: list, ncol: int = 1) -> None:
    """The legend below the axes (off the data), one entry per drawn element."""
    if handles:
        ax.legend(handles=handles, loc="upper center", bbox_to_anchor=(0.5, -0.17), ncol=ncol, frameon=False,
                  fontsize=7.5, handlelength=2.2, borderaxespad=0.0)


def _bound_levels(lo_b: float | None, hi_b: float, q_min, q_max, target: bool = False) -> list:
    """(level, map) pairs to contour for an oscillation range [lo_b, hi_b] on q. A bound (``target`` false: the NSI
    must stay inside it) is crossed where the reach q_max rises above hi_b > 0 or q_min falls below lo_b < 0. A target
    (the LMA-Dark interval, which the NSI must reach) becomes reachable where q_min falls below its upper end hi_b < 0,
    or q_max rises above its lower end lo_b > 0."""
    if target:
        return [(hi_b, q_min)] if hi_b < 0 else [(lo_b, q_max)]
    return [(b, Z) for b, Z, on in ((hi_b, q_max, hi_b > 0), (lo_b, q_min, lo_b is not None and lo_b < 0)) if on]


def draw_reference_lines(ax, X, Y, q_min, q_max, quantity: str, cfg, scenario: str, m_lo: float, m_hi: float,
                         osc_options: dict[str, dict] | None = None) -> list:
    """Draw, on a (M_Zp, g_X) map, where the reachable ``q_max`` / ``q_min`` meet the current (osc_lma, solid) and
    DUNE+T2HK (osc_dune_t2hk, dash-dotted) oscillation bounds on ``quantity`` and, where the config has it, the
    LMA-Dark interval (osc_lma_dark, dash-dot-dotted; beyond the line it is reachable, and the legend says so where it
    is reachable nowhere), and the cosmology bound on M_Zp (dotted); return the legend handles, the oscillation lines
    named by their likelihoods' legend labels (:func:`likelihoods.plot_label`). The oscillation records are read
    from ``osc_options`` (a profile map's, so that a posterior beside it draws the same lines) or else ``cfg``'s
    oscillation likelihoods; ``cfg`` supplies the cosmology bound (no line without it)."""
    handles = []
    qlabel = quantity_label(quantity)
    if osc_options is None and cfg is not None:
        osc_options = config_options(cfg.likelihoods)
    records = _osc_records(scenario, osc_options) if osc_options is not None else {}
    if quantity in ("eps_earth_ee", "eps_earth_mumu", "eps_earth_tautau") and any(get_scenario(scenario).l):
        records = {}  # g_X l adds a flavour-universal part that oscillations do not see: plot a difference instead
        handles.append(Line2D([], [], color="none", label=f"no oscillation bound drawn: oscillations do not see the\nflavour-universal "
                                                           f"part of {qlabel} (plot e.g. eps_earth_ee-tautau)"))
    for line, ls in (("osc_lma", "-"), ("osc_dune_t2hk", "-."), ("osc_lma_dark", (0, (6, 2, 1, 2, 1, 2)))):
        name, record = records.get(line, (None, None))
        b = oscillation_bounds(quantity, record) if record is not None else None
        if b is None:
            continue
        lo_b, hi_b = b
        drawn, beyond = False, 0
        for bound, Z in _bound_levels(lo_b, hi_b, q_min, q_max, target=line == "osc_lma_dark"):
            Zm = np.ma.masked_invalid(Z)
            with np.errstate(invalid="ignore"):  # NaN (no feasible point) counts as not beyond
                beyond += int(np.sum(np.asarray(Z) <= bound) if Z is q_min else np.sum(np.asarray(Z) >= bound))
            if Zm.count() == 0 or not (Zm.min() < bound < Zm.max()):
                continue
            ax.contour(X, Y, Zm, levels=[bound], colors="k", linestyles=[ls], linewidths=1.4)
            drawn = True
        rng = f"$\\leq$ {hi_b:g}" if lo_b is None else f"in [{lo_b:g}, {hi_b:g}]"
        if drawn:
            handles.append(Line2D([], [], color="k", ls=ls, lw=1.4, label=f"{plot_label(name)}: {qlabel} {rng}"))
        elif line == "osc_lma_dark":  # the answer of an LMA-Dark map: say where no line could be drawn
            where = "reached nowhere" if beyond == 0 else "reached in every allowed cell"
            handles.append(Line2D([], [], color="none", label=f"{plot_label(name)}: {qlabel} {rng}, {where}"))
    m_cos = _cosmology_bound(cfg) if cfg is not None else None
    if m_cos is not None and m_lo <= m_cos <= m_hi:
        ax.axvline(m_cos, color="k", ls=":", lw=1.2)
        ax.annotate("cosmology", xy=(m_cos, 0.97), xycoords=("data", "axes fraction"), xytext=(-3, 0), textcoords="offset points",
                    rotation=90, ha="right", va="top", fontsize=7)
        handles.append(Line2D([], [], color="k", ls=":", lw=1.2, label=f"cosmology: $M_{{Z'}}$ = {m_cos * 1e3:.3g} MeV"))
    return handles


def profile_plot(result: ProfileResult, cfg=None, quantity: str | None = None, threshold: float = THRESHOLDS[0], ax=None):
    """Paper-style figure (Figs. 5/6 of arXiv:1607.07616): M_Zp horizontal, g_X vertical, both log. Shaded: the
    region allowed by the included likelihoods (chi2 <= threshold; lighter up to the next threshold); thin dashed:
    contours of the largest reachable |q| (decades); solid / dash-dotted black: where the reachable q equals the
    current (osc_lma) / DUNE+T2HK (osc_dune_t2hk) bound on q (beyond the line, towards larger |q|, the allowed Z'
    gives NSI that those oscillation data see; the LMA-Dark interval where the config has it:
    :func:`draw_reference_lines`); dotted vertical: the cosmology bound on M_Zp. The legend gives the best cell's
    -2 Delta ln L against the SM point (:attr:`ProfileResult.best_vs_sm`). ``cfg`` (the run config) supplies the
    oscillation records and the cosmology bound; without it those lines are omitted."""
    plt = pyplot()
    quantity = quantity or result.quantities[0]
    qlabel = quantity_label(quantity)
    M = 10.0**result.log10_M
    G = 10.0**result.log10_g
    X, Y = np.meshgrid(M, G)
    chi2 = np.where(np.isfinite(result.chi2), result.chi2, 1e30)
    q_min, q_max = result.extremes(quantity, threshold)
    with publication_style():
        if ax is None:
            fig, ax = plt.subplots(figsize=(4.2, 3.5))
        else:
            fig = ax.figure
        handles = []
        looser = [t for t in result.thresholds if t > threshold]
        what = " (non-osc.)" if result.excluded else ""
        if looser:
            ax.contourf(X, Y, chi2, levels=[-1e9, looser[0]], colors=[FILL_95])
        ax.contourf(X, Y, chi2, levels=[-1e9, threshold], colors=[FILL_68])
        ax.contour(X, Y, chi2, levels=[threshold] + looser[:1], colors=LINE_COLOUR, linewidths=0.8)
        handles.append(Patch(facecolor=FILL_68, edgecolor=LINE_COLOUR, lw=0.8, label=rf"allowed{what}: $-2\Delta\ln L \leq {threshold:.3g}$"))
        if looser:
            handles.append(Patch(facecolor=FILL_95, edgecolor=LINE_COLOUR, lw=0.8, label=rf"$-2\Delta\ln L \leq {looser[0]:.3g}$"))
        if result.best_vs_sm is not None:
            handles.append(Patch(color="none", label=rf"($\Delta$ from the best cell, at $-2\Delta\ln L$ = {result.best_vs_sm:.2f} against the SM point)"))
        R = np.ma.masked_invalid(result.reach(quantity, threshold))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            handles += draw_reach_contours(ax, X, Y, R, decades=8, label=f"largest reachable {abs_label(quantity)}")
            handles += draw_reference_lines(ax, X, Y, q_min, q_max, quantity, cfg, result.scenario, M[0], M[-1],
                                            result.settings.get("oscillation_options"))
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlim(M[0], M[-1])
        ax.set_ylim(G[0], G[-1])
        ax.set_xlabel(r"$M_{Z'}\;[\mathrm{GeV}]$")
        ax.set_ylabel(r"$g_X$")
        ax.set_title("$U(1)_{" + result.scenario.replace("3Ltau", r"3L_\tau") + "}$: profile likelihood, reachable " + qlabel)
        place_legend(ax, handles)
    return fig


def save_profile_figures(result: ProfileResult, cfg, out, quantities: list[str], formats=("pdf", "png")) -> list:
    """``profile_<quantity>.{pdf,png}`` in ``out`` for each quantity (:func:`profile_plot`); returns the files."""
    plt = pyplot()
    files = []
    for q in quantities:
        fig = profile_plot(result, cfg, q)
        files += save_figures(fig, [out / f"profile_{q}.{fmt}" for fmt in formats])
        plt.close(fig)
    return files
