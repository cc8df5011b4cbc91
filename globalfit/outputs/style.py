"""Figure style shared by every plot: the non-interactive matplotlib backend, the publication style (serif STIX
fonts, sizes for a two-column paper, the colour-blind-safe Okabe-Ito palette) and the LaTeX labels, with units,
of every quantity."""

from __future__ import annotations

import math

import contextlib
from pathlib import Path
from typing import Iterator

from globalfit.outputs.rundir import atomic_path
from globalfit.physics.model import DERIVED_INFO
from globalfit.physics.parameters import PARAMETERS

__all__ = ["pyplot", "label_of", "tex_label", "symbol_and_unit", "publication_style", "save_figure", "PALETTE", "RUN_COLOURS",
           "FILL_68", "FILL_95", "LINE_COLOUR"]

# Okabe & Ito, "Color Universal Design" (2008): distinguishable under every common colour-vision deficiency
PALETTE = {
    "black": "#000000",
    "orange": "#E69F00",
    "sky_blue": "#56B4E9",
    "green": "#009E73",
    "yellow": "#F0E442",
    "blue": "#0072B2",
    "vermillion": "#D55E00",
    "purple": "#CC79A7",
}
# one colour per run in overlays, in this order
RUN_COLOURS = (PALETTE["blue"], PALETTE["vermillion"], PALETTE["green"], PALETTE["purple"], PALETTE["orange"],
               PALETTE["sky_blue"], PALETTE["black"])
# the filled 68 / 95 % credible regions of a single run
FILL_68 = "#3a87c4"
FILL_95 = "#a9cde8"
LINE_COLOUR = PALETTE["blue"]

_RC = {
    "font.family": "serif",
    "font.serif": ["STIXGeneral", "DejaVu Serif"],
    "mathtext.fontset": "stix",
    "font.size": 9.0,
    "axes.labelsize": 10.0,
    "axes.titlesize": 9.5,
    "xtick.labelsize": 8.0,
    "ytick.labelsize": 8.0,
    "legend.fontsize": 8.0,
    "legend.frameon": False,
    "axes.linewidth": 0.7,
    "xtick.direction": "in",
    "ytick.direction": "in",
    "xtick.top": True,
    "ytick.right": True,
    "xtick.minor.visible": True,
    "ytick.minor.visible": True,
    "lines.linewidth": 1.2,
    "savefig.dpi": 200,
    "pdf.fonttype": 42,  # TrueType in the PDF: text stays text for journals
}


def pyplot():
    """matplotlib.pyplot on the Agg backend (files only, no screen)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


@contextlib.contextmanager
def publication_style() -> Iterator[None]:
    """matplotlib settings of every globalfit figure (restored on exit)."""
    import matplotlib as mpl
    from cycler import cycler

    pyplot()
    rc = dict(_RC)
    rc["axes.prop_cycle"] = cycler(color=list(RUN_COLOURS))
    with mpl.rc_context(rc):
        yield


def tight_bbox(fig):
    """The figure's tight bounding box in inches, padded by ``savefig.pad_inches``: what ``savefig(bbox_inches="tight")``
    lays out the whole figure again to find at every save. Computed once for a figure saved several times
    (:func:`save_figures`); ``None`` where the canvas has no renderer of its own (non-Agg backends: each save then
    finds it)."""
    import matplotlib as mpl

    renderer = getattr(fig.canvas, "get_renderer", None)
    if renderer is None:
        return None
    with publication_style():
        fig.draw_without_rendering()
        return fig.get_tightbbox(renderer()).padded(mpl.rcParams["savefig.pad_inches"])


def save_figure(fig, target, fmt: str | None = None, dpi: int = 200, bbox=None) -> None:
    """Save a figure (a path, or a file object with ``fmt``) in the publication style: fonts are resolved when the
    figure is drawn, so the style must be in force then too. PNG at ``dpi``; PDF as vector graphics. Cropped to
    ``bbox`` (inches, :func:`tight_bbox`), else to the tight box found at this save. A path is written atomically
    (complete or absent after a kill)."""
    box = "tight" if bbox is None else bbox
    with publication_style():
        if isinstance(target, (str, Path)):
            target = Path(target)
            with atomic_path(target) as tmp:
                fig.savefig(tmp, format=fmt or target.suffix.lstrip("."), dpi=dpi, bbox_inches=box)
        else:
            fig.savefig(target, format=fmt, dpi=dpi, bbox_inches=box)


def save_figures(fig, targets, dpi: int = 200) -> list[Path]:
    """Save ``fig`` to every path of ``targets`` (format from the suffix; :func:`save_figure`), the tight box laid out
    once for all of them; returns the paths. (Each ``bbox_inches="tight"`` save lays the figure out twice; the box of
    one layout differs from a format's own by at most a pixel: text extents differ slightly between renderers.)"""
    targets = [Path(t) for t in targets]
    bbox = tight_bbox(fig) if len(targets) > 1 else None
    for t in targets:
        save_figure(fig, t, dpi=dpi, bbox=bbox)
    return targets


def symbol_and_unit(name: str, cfg=None) -> tuple[str, str]:
    """(LaTeX symbol, LaTeX unit or '') of a parameter or derived quantity, without ``$``; ``cfg``: a run config
    whose ``params.<name>.latex`` replaces the symbol."""
    spec = cfg.param_specs().get(name) if cfg is not None else None
    if spec is not None and spec.latex:
        tex = spec.latex
    elif name in PARAMETERS:
        tex = PARAMETERS[name].latex
    elif name in DERIVED_INFO:
        tex = DERIVED_INFO[name][0]
    else:
        return name.replace("_", r"\_"), ""
    unit = ""
    for suffix in (r"\,[\mathrm{GeV}]", r"\,[\mathrm{rad}]"):
        if tex.endswith(suffix):
            tex, unit = tex[: -len(suffix)], suffix[3:-1]
    if not unit and name in PARAMETERS and PARAMETERS[name].unit:
        unit = rf"\mathrm{{{PARAMETERS[name].unit}}}"
    return tex, unit


def _known(name: str, cfg=None) -> bool:
    """Whether ``name`` is a parameter or a derived quantity with a symbol."""
    return name in PARAMETERS or name in DERIVED_INFO or (cfg is not None and name in cfg.param_specs())


def tex_label(name: str, cfg=None) -> str:
    """Axis label (LaTeX, no ``$``) of a quantity with its unit: ``M_{Z'}\\;[\\mathrm{GeV}]``; a ``log10_`` name as
    ``\\log_{10}(M_{Z'}/\\mathrm{GeV})``, ``ln_`` likewise, ``log10_abs_<q>`` as log10 |q|, ``u_M_Psi`` (the M_Psi > M_Zp site) as it is, an
    ``unwrapped_`` phase with a tilde."""
    if name.startswith("log10_abs_") and _known(name[len("log10_abs_"):], cfg) and not _known(name[len("log10_"):], cfg):
        sym, unit = symbol_and_unit(name[len("log10_abs_"):], cfg)  # log10 |q| of a quantity of both signs
        return rf"\log_{{10}}(|{sym}|/{unit})" if unit else rf"\log_{{10}}|{sym}|"
    for prefix, fn in (("log10_", r"\log_{10}"), ("ln_", r"\ln")):
        if name.startswith(prefix):
            sym, unit = symbol_and_unit(name[len(prefix):], cfg)
            return rf"{fn}({sym}/{unit})" if unit else rf"{fn} {sym}"
    if name.startswith("slog10_"):  # the signed log scale of a ``signed: true`` parameter: sign(x) log10(|x|/min)
        base = name[len("slog10_"):]
        sym, _ = symbol_and_unit(base, cfg)
        spec = cfg.param_specs().get(base) if cfg is not None else None
        lo = getattr(spec, "min", None)
        ref = rf"10^{{{round(math.log10(lo))}}}" if lo and math.isclose(math.log10(lo), round(math.log10(lo))) else rf"\min|{sym}|"
        return rf"\pm\log_{{10}}(|{sym}|/{ref})"
    if name == "u_M_Psi":
        return r"u_{M_\Psi}"
    if name.startswith("unwrapped_"):  # a phase on the circle before wrapping (``prior: circular``)
        sym, unit = symbol_and_unit(name[len("unwrapped_"):], cfg)
        return rf"\tilde{{{sym}}}\;[{unit}]" if unit else rf"\tilde{{{sym}}}"
    if name.startswith("chi2__"):
        return r"\chi^2_{\mathrm{" + name[6:].replace("_", r"\_") + "}}"
    sym, unit = symbol_and_unit(name, cfg)
    return rf"{sym}\;[{unit}]" if unit else sym


def label_of(name: str) -> str:
    """LaTeX label of a parameter, a sampling site or a derived quantity (in ``$``)."""
    return f"${tex_label(name)}$"
