"""Every Z' constraint of the package in the (M_Z', g_X) plane, drawn from the likelihood code itself (the analogue of
Fig. 1 of arXiv:1607.07616), so that the figure and the fits can never disagree.

Each likelihood that applies to the scenario is evaluated **alone** on a log grid of (M_Z', g_X) at g_Psi = 0 and no
Psi-neutrino mixing (y_alpha = 0; the other parameters at their defaults), with the model options given (kinetic
mixing). Its -2 Delta ln L is taken relative to the Standard-Model point at the same mass (g_X = 0), the convention of
:mod:`likelihoods.stats`, and the excluded region is where it exceeds chi2_1(0.9) = 2.71
(:data:`likelihoods.stats.ALLOWED_DELTA_CHI2`): for a published 90 % CL limit that is the limit itself.

Left out by name: projections and alternative solutions, which are not constraints (:data:`NOT_CONSTRAINTS`). A joint
likelihood that combines experiments sharing a flux error (e.g. ``cevns_coherent_sns``) is drawn, by default, as the
experiments it combines, each alone; named (``--only``) it is drawn as one constraint.
Likelihoods that exclude nothing on the grid are listed as such (e.g. the cosmology bound, which depends on M_Z' alone
and so vanishes relative to the SM point at the same mass; oscillation and CEvNS terms of U(1)_B, which need the
Psi-neutrino mixing). Likelihoods that declare ``optional = True`` (model-dependent or theory constraints, off in the
shipped configs: ``zp_baryonic_anomaly``, ``zp_anomaly_fermion_mass``) are drawn dashed.

``globalfit constraints SCENARIO`` computes a map, writes ``constraints_<scenario>.npz``, ``.png`` and ``.pdf`` and prints where
each constraint excludes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable

import jax
import jax.numpy as jnp
import numpy as np
from matplotlib.lines import Line2D

from globalfit.errors import InputError, OutputError
from globalfit.names import did_you_mean
from globalfit.outputs.rundir import check_dir_target
from globalfit.outputs.style import label_of, publication_style, pyplot, save_figures
from globalfit.physics.model import ModelOptions, observables
from globalfit.physics.parameters import complete
from globalfit.physics.scenarios import get_scenario
from likelihoods import build_likelihoods, plot_label, registry
from likelihoods.stats import ALLOWED_DELTA_CHI2

__all__ = ["NOT_CONSTRAINTS", "ConstraintsMap", "constraint_names", "constraints_map", "plot_constraints_map",
           "output_paths", "save_constraints_map", "load_constraints_map"]

NOT_CONSTRAINTS: dict[str, str] = {
    "osc_dune_t2hk": "a projection (DUNE + T2HK), not data",
    "osc_lma_dark": "the alternative (LMA-Dark) solution, a hypothesis rather than a constraint",
}
_CHUNK = 256


def constraint_names(scenario: str, include_optional: bool = True, joint: bool = False) -> list[str]:
    """Registered likelihoods that apply to the scenario, minus :data:`NOT_CONSTRAINTS` (and the optional ones unless
    asked for). Joint likelihoods (:attr:`likelihoods.base.Likelihood.combines`) only with ``joint``: by default the
    map draws the experiments they combine, each alone."""
    sc = get_scenario(scenario)
    return [n for n, cls in registry().items() if cls.applies(sc) and n not in NOT_CONSTRAINTS
            and (include_optional or not getattr(cls, "optional", False)) and (joint or not cls.combines)]


@dataclass
class ConstraintsMap:
    """-2 Delta ln L of each constraint on a (M_Z', g_X) grid (rows: g_X, columns: M_Z')."""

    scenario: str
    log10_M: np.ndarray
    log10_g: np.ndarray
    chi2: dict[str, np.ndarray]
    optional: tuple[str, ...] = ()
    kinetic_mixing: str = "loop"
    threshold: float = ALLOWED_DELTA_CHI2
    references: dict[str, str] = field(default_factory=dict)

    def excluded(self, name: str) -> np.ndarray:
        return self.chi2[name] > self.threshold

    def drawn(self) -> list[str]:
        """Constraints that exclude part of the grid."""
        return [n for n in self.chi2 if self.excluded(n).any()]

    def summary(self) -> list[dict]:
        """Per constraint: whether it excludes, the mass range where it does and its weakest-excluded (smallest)
        coupling with the mass there."""
        rows = []
        for n in self.chi2:
            ex = self.excluded(n)
            row = {"name": n, "optional": n in self.optional, "excludes": bool(ex.any()), "reference": self.references.get(n, "")}
            if ex.any():
                cols = np.flatnonzero(ex.any(axis=0))
                i, j = np.argwhere(ex)[np.argmin(np.argwhere(ex)[:, 0])]
                row.update(M_min=10 ** self.log10_M[cols[0]], M_max=10 ** self.log10_M[cols[-1]],
                           g_min=10 ** self.log10_g[i], M_at_g_min=10 ** self.log10_M[j])
            rows.append(row)
        return rows

    def save(self, path: Path) -> Path:
        np.savez_compressed(path, scenario=self.scenario, log10_M=self.log10_M, log10_g=self.log10_g,
                            names=np.array(list(self.chi2)), chi2=np.stack(list(self.chi2.values())),
                            optional=np.array(self.optional, dtype=str), kinetic_mixing=self.kinetic_mixing,
                            threshold=self.threshold)
        return path


def constraints_map(scenario: str, grid: tuple[int, int] = (64, 56), M_range: tuple[float, float] = (1e-3, 1.0),
                    g_range: tuple[float, float] = (1e-9, 1e-1), names: Iterable[str] | None = None,
                    options: ModelOptions = ModelOptions(), include_optional: bool = True) -> ConstraintsMap:
    """Evaluate each constraint alone on a log grid (``grid`` = (n_M, n_g)); see the module doc."""
    sc = get_scenario(scenario)
    available = constraint_names(scenario, include_optional, joint=True)
    chosen = constraint_names(scenario, include_optional) if names is None else list(names)
    for n in chosen:
        if n not in available:
            raise InputError(f"constraint {n!r}: not a constraint of scenario {scenario}{did_you_mean(n, available)}; "
                             f"expected one of {available}")
    if not chosen:
        raise InputError(f"scenario {scenario}: no constraint to draw")
    n_M, n_g = grid
    if n_M < 2 or n_g < 2:
        raise InputError(f"grid {grid}: need at least 2 points per axis")
    for lo, hi, what in ((*M_range, "M_Zp range"), (*g_range, "g_X range")):
        if not 0 < lo < hi:
            raise InputError(f"{what} ({lo}, {hi}): expected 0 < lo < hi")
    lks = build_likelihoods({n: None for n in chosen}, sc, "constraints map")
    log10_M = np.linspace(np.log10(M_range[0]), np.log10(M_range[1]), n_M)
    log10_g = np.linspace(np.log10(g_range[0]), np.log10(g_range[1]), n_g)
    base = {k: jnp.asarray(v) for k, v in complete({"g_Psi": 0.0, "y_e": 0.0, "y_mu": 0.0, "y_tau": 0.0}).items()}

    def each(M, g):
        p = dict(base, M_Zp=M, g_X=g)
        obs = observables(p, sc, options)
        return jnp.stack([lk.loglike(obs) for lk in lks])

    batched = jax.jit(jax.vmap(each))

    def run(M, g):
        out = []
        for s in range(0, len(M), _CHUNK):
            m, gg = M[s:s + _CHUNK], g[s:s + _CHUNK]
            pad = _CHUNK - len(m)
            ll = np.asarray(batched(jnp.asarray(np.pad(m, (0, pad), mode="edge")), jnp.asarray(np.pad(gg, (0, pad), mode="edge"))))
            out.append(ll[: len(m)])
        return np.concatenate(out)

    MM, GG = np.meshgrid(10**log10_M, 10**log10_g)
    ll = run(MM.ravel(), GG.ravel()).reshape(n_g, n_M, len(lks))
    ll_sm = run(10**log10_M, np.zeros(n_M))  # the SM point at each mass
    chi2 = {lk.name: np.maximum(-2.0 * (ll[:, :, k] - ll_sm[None, :, k]), 0.0) for k, lk in enumerate(lks)}
    optional = tuple(lk.name for lk in lks if getattr(type(lk), "optional", False))
    return ConstraintsMap(scenario, log10_M, log10_g, chi2, optional, options.kinetic_mixing,
                          references={lk.name: lk.reference for lk in lks})


def load_constraints_map(path: Path) -> ConstraintsMap:
    """A map written by :meth:`ConstraintsMap.save`."""
    with np.load(path) as f:
        names = [str(n) for n in f["names"]]
        return ConstraintsMap(str(f["scenario"]), f["log10_M"], f["log10_g"], dict(zip(names, f["chi2"])),
                              tuple(str(n) for n in f["optional"]), str(f["kinetic_mixing"]), float(f["threshold"]))


def plot_constraints_map(cmap: ConstraintsMap, ax=None):
    """Excluded regions (shaded, optional constraints dashed and unshaded) with their -2 Delta ln L = 2.71 contours, on
    logarithmic M_Z' and g_X axes; each constraint named by its likelihood's legend label
    (:func:`likelihoods.plot_label`)."""
    plt = pyplot()
    with publication_style():
        if ax is None:
            fig, ax = plt.subplots(figsize=(8.6, 4.8))
        else:
            fig = ax.figure
        X, Y = np.meshgrid(10.0**cmap.log10_M, 10.0**cmap.log10_g)
        colours = list(plt.get_cmap("tab10").colors)  # ten distinct colours; past ten the line style tells them apart
        styles = ("-", "-.", ":")
        handles = []
        level = np.log10(cmap.threshold)
        # largest excluded areas first, so that smaller regions are drawn on top of them
        names = sorted(cmap.drawn(), key=lambda n: -int(cmap.excluded(n).sum()))
        for k, name in enumerate(names):
            z = np.log10(np.clip(cmap.chi2[name], 1e-12, 1e30))
            c = colours[k % len(colours)]
            opt = name in cmap.optional
            ls = "--" if opt else styles[(k // len(colours)) % len(styles)]
            if not opt:
                ax.contourf(X, Y, z, levels=[level, 31.0], colors=[c], alpha=0.16)
            ax.contour(X, Y, z, levels=[level], colors=[c], linewidths=1.6, linestyles=ls)
            handles.append(Line2D([], [], color=c, lw=1.6, ls=ls, label=_optional(plot_label(name)) if opt else plot_label(name)))
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel(label_of("M_Zp"))
        ax.set_ylabel(label_of("g_X"))
        sc = get_scenario(cmap.scenario)
        mixing = {"loop": "loop-induced", "none": "none"}.get(cmap.kinetic_mixing, cmap.kinetic_mixing)
        ax.set_title(f"${sc.latex}$: each constraint alone, 90 % CL ($-2\\Delta\\ln L = {cmap.threshold:.2f}$); "
                     f"$g_\\Psi = 0$, kinetic mixing {mixing}", fontsize=9.5)
        ax.legend(handles=handles, loc="center left", bbox_to_anchor=(1.01, 0.5), fontsize=8.5, frameon=False)
        ax.set_xlim(10.0 ** cmap.log10_M[0], 10.0 ** cmap.log10_M[-1])
        ax.set_ylim(10.0 ** cmap.log10_g[0], 10.0 ** cmap.log10_g[-1])
        fig.tight_layout()
    return fig


def _optional(label: str) -> str:
    """``label`` marked optional: ``x (a)`` -> ``x (a; optional)``, ``x`` -> ``x (optional)``."""
    return label[:-1] + "; optional)" if label.endswith(")") else label + " (optional)"


def output_paths(out: Path, scenario: str, kinetic_mixing: str = "loop", force: bool = False) -> list[Path]:
    """``out/constraints_<scenario>[_km-none].{npz,png,pdf}``; OutputError if ``out`` cannot be a directory (an existing
    file, or below one) or one of the files exists and ``force`` is not given (checked before the map is computed)."""
    out = check_dir_target(Path(out), f"--out {out}")
    stem = f"constraints_{scenario}" + ("" if kinetic_mixing == "loop" else f"_km-{kinetic_mixing}")
    paths = [out / f"{stem}.npz", out / f"{stem}.png", out / f"{stem}.pdf"]
    blocked = [p for p in paths if p.exists() and not p.is_file()]
    if blocked:
        raise OutputError(f"{blocked[0]}: exists and is not a file; give another --out")
    existing = [p for p in paths if p.exists()]
    if existing and not force:
        raise OutputError(f"{existing[0]}: exists; give --force to overwrite it or another --out")
    return paths


def save_constraints_map(cmap: ConstraintsMap, out: Path, force: bool = False, dpi: int = 200) -> list[Path]:
    """Write the map (npz) and its figure (png at ``dpi``, vector pdf for a paper) into ``out`` (:func:`output_paths`);
    existing files only with ``force``."""
    paths = output_paths(out, cmap.scenario, cmap.kinetic_mixing, force)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(f"--out {out}: cannot create the directory: {exc.strerror or exc}") from None
    cmap.save(paths[0])
    fig = plot_constraints_map(cmap)
    save_figures(fig, paths[1:], dpi=dpi)
    pyplot().close(fig)
    return paths
