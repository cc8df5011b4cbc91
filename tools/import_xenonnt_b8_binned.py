"""Write ``likelihoods/data/cevns_xenonnt_b8_binned.csv``: XENONnT's solar 8B CEvNS analysis of SR0 and SR1 as its
4D binned likelihood (cS2 x S2-shadow quantile x S1 BDT x S2 BDT, 3 bins each): the observed events histogrammed in
the release's bins, the accidental-coincidence (AC), electronic-recoil (ER) and neutron (NR) templates, the 8B
templates and the monoenergetic nuclear-recoil efficiency templates (0.5-5.0 keVnr), per tonne-year, at nominal light
and charge yields and, for the NR and 8B templates, at +-1 sigma of each (the other at 0).

h5py reads the templates (``pip install h5py``; only this tool needs it). Both releases are read with git:

    git clone https://github.com/XENONnT/cevns_data_release C && git -C C checkout 60d230d
    git clone https://github.com/XENONnT/light_wimp_data_release L && git -C L checkout a09cd8f
    python tools/import_xenonnt_b8_binned.py C/.git L/.git [OUTDIR]      # OUTDIR default likelihoods/data
"""

from __future__ import annotations

import csv
import io
import sys
from pathlib import Path

import numpy as np
import yaml
from _git import git, git_bytes  # tools/_git.py (the tools run as scripts)

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "likelihoods" / "data"
NAME = "cevns_xenonnt_b8_binned.csv"
NUISANCES = "cevns_xenonnt_b8_nuisances.csv"
MODEL = "light_wimp_data_release/data/statistical_model_base.yaml"
CEVNS_COMMIT = "60d230dd7a5646fd4aa2368c5fdfba575ee0cb88"
LIGHT_WIMP_COMMIT = "a09cd8fd77570dc2095f65f094fbcc114b634dfc"
RUNS = ("sr0", "sr1")
AXES = ("cs2", "s2_shadow_s2_time_shadow_quantile", "s1_bdt_score", "s2_bdt_score")
YIELDS = {"": (0.0, 0.0), "_tly_p1": (1.0, 0.0), "_tly_m1": (-1.0, 0.0), "_tqy_p1": (0.0, 1.0), "_tqy_m1": (0.0, -1.0)}
MONO_KEVNR = [round(0.5 + 0.1 * i, 3) for i in range(46)]


def show(gitdir: str, commit: str, path: str) -> bytes:
    return git_bytes(gitdir, "show", f"{commit}:{path}")


def resolve(gitdir: str, commit: str) -> str:
    return git(gitdir, "rev-parse", commit).strip()


def template(gitdir: str, commit: str, path: str) -> np.ndarray:
    """The 3x3x3x3 histogram (dataset templates/template) of a release template, flattened in C order."""
    import h5py  # a tool-only dependency

    with h5py.File(io.BytesIO(show(gitdir, commit, path)), "r") as f:
        return np.asarray(f["templates/template"][()], dtype=float).ravel()


def observed(gitdir: str, commit: str, run: str) -> tuple[np.ndarray, list[np.ndarray]]:
    """The run's events histogrammed in its bins (C order) and the bin edges."""
    edges = yaml.safe_load(show(gitdir, commit, f"binning/{run}.yaml"))
    lines = show(gitdir, commit, f"data/{run}.csv").decode().splitlines()
    head = lines[0].split(",")
    cols = [head.index(a) for a in AXES]
    events = np.array([[float(r.split(",")[c]) for c in cols] for r in lines[1:] if r.strip()])
    e = [np.asarray(edges[a], dtype=float) for a in AXES]
    counts, _ = np.histogramdd(events, bins=e)
    if counts.sum() != len(events):
        raise ValueError(f"data/{run}.csv: {len(events) - int(counts.sum())} events outside the binning")
    return counts.ravel(), e


def columns(cevns: str, cevns_commit: str, wimp: str, run: str) -> dict[str, np.ndarray]:
    data, _ = observed(cevns, cevns_commit, run)
    out = {"data": data,
           "ac": template(cevns, cevns_commit, f"templates/{run}/ac/template_XENONnT_{run}_ac_cevns.h5"),
           "er": template(cevns, cevns_commit, f"templates/{run}/er/template_XENONnT_{run}_er_cevns.h5")}
    for suffix, (ly, qy) in YIELDS.items():
        out[f"nr{suffix}"] = template(cevns, cevns_commit,
                                      f"templates/{run}/rg/template_XENONnT_{run}_rg_cevns_tly_{ly:.1f}_tqy_{qy:.1f}.h5")
    for suffix, (ly, qy) in YIELDS.items():
        out[f"b8{suffix}"] = template(wimp, LIGHT_WIMP_COMMIT,
                                      f"light_wimp_data_release/data/b8/template_XENONnT_{run}_b8_cevns_tly_{ly:.1f}_tqy_{qy:.1f}.h5")
    for E in MONO_KEVNR:
        out[f"mono_{E:.3f}"] = template(cevns, cevns_commit,
                                        f"templates/{run}/mono/template_XENONnT_{run}_mono_{E:.3f}_cevns_tly_0.0_tqy_0.0.h5")
    return out


HEADER = """
# What: XENONnT solar 8B CEvNS search, SR0 and SR1, as its extended binned likelihood: 3 x 3 x 3 x 3 bins per science run in (cS2, quantile of S2_pre/dt_pre, S1 BDT score, S2 BDT score),
#   bin indices i_cs2, i_shadow, i_s1_bdt, i_s2_bdt (C order of the release's histograms; edges in the release's binning/<sr>.yaml).
#   data: the release's post-selection events (data/<sr>.csv) counted in those bins (DERIVED here: {n_events});
#   ac, er: accidental-coincidence and electronic-recoil templates (events per tonne-year); nr: neutron (radiogenic) templates; b8: the 8B CEvNS templates of the light-dark-matter release
#   (which analyses the same SR0+SR1 data with the same selection and binning, at the SNO 8B flux; cevns_xenonnt_b8_expectation.csv); suffixes _tly_p1/_tly_m1/_tqy_p1/_tqy_m1: the light yield (tly)
#   or charge yield (tqy) nuisance at +1/-1 (the other at 0), none: both at 0; mono_<E>: the monoenergetic nuclear-recoil templates at E keVnr (dimensionless: detection efficiency per bin), yields at 0.
#   Values: the float64 contents of the releases' HDF5 histograms (dataset templates/template), written with Python repr.
# CL: not applicable (counts and templates).
# Paper: XENON, PRL 133, 191002 (2024), arXiv:2408.02877 (37 events, 26.4 +1.4 -1.3 expected from backgrounds, 2.73 sigma, flux 4.7 +3.6 -2.3 e6 cm^-2 s^-1); XENON, PRL 134, 111802 (2025), arXiv:2409.17868.
# Read from: XENONnT/cevns_data_release@{cevns_commit} (doi:10.5281/zenodo.20576156: data/, binning/, templates/<sr>/ac|er|rg|mono/) and
#   XENONnT/light_wimp_data_release@{wimp_commit} (doi:10.5281/zenodo.14522706: light_wimp_data_release/data/b8/); written by tools/import_xenonnt_b8_binned.py.
"""


NUISANCE_HEADER = """
# What: the nuisance parameters of XENONnT's SR0+SR1 binned likelihood with the 8B CEvNS source, as the light-dark-matter release's statistical model defines them
#   (statistical_model_base.yaml, parameter_definition and likelihood_config): parameter, its Gaussian uncertainty (relative for rate multipliers and the efficiency, absolute for the
#   yield morphers t_ly, t_qy), and the sources of the SR0/SR1 likelihood terms it acts on (b8, ac_sr0, ac_sr1, er, nr; the wimp source is left out); comment: the YAML's own comment.
#   livetime_sr0/livetime_sr1: the exposures in tonne-years (uncertainty empty: not fitted).
# CL: 1 sigma (Gaussian constraint terms of the statistical model).
# Paper: XENON, PRL 134, 111802 (2025), arXiv:2409.17868; the 8B analysis of the same data: PRL 133, 191002 (2024), arXiv:2408.02877.
# Read from: XENONnT/light_wimp_data_release@{wimp_commit}:{model}; written by tools/import_xenonnt_b8_binned.py.
# Caveat: this is the light-dark-matter analysis's model of the 8B source (it applies the 25 % signal_efficiency to 8B too); the 8B paper's own model (XENONnT/nton b8_discovery) is not public.
"""


def nuisances(wimp: str) -> list[list[str]]:
    """(parameter, uncertainty, sources, comment) of the statistical model, with the YAML's comments."""
    text = show(wimp, LIGHT_WIMP_COMMIT, MODEL).decode()
    model = yaml.safe_load(text)
    comments = {}
    current = None
    for line in text.splitlines():
        if line.startswith("  ") and not line.startswith("    ") and line.strip().endswith(":"):
            current = line.strip()[:-1]
        elif current and ("uncertainty:" in line or "nominal_value:" in line) and "#" in line:
            comments.setdefault(current, line.split("#", 1)[1].strip())
    sources: dict[str, list[str]] = {}
    for term in model["likelihood_config"]["likelihood_terms"]:
        for src in term["sources"]:
            if src["name"] != "wimp":
                for par in src.get("parameters", []):
                    sources.setdefault(par, [])
                    if src["name"] not in sources[par]:
                        sources[par].append(src["name"])
    rows = []
    for par, d in model["parameter_definition"].items():
        if par.startswith("livetime"):
            rows.append([par, repr(float(d["nominal_value"])), "", "", comments.get(par, "")])
        elif par in sources:
            rows.append([par, "", repr(float(d["uncertainty"])) if d.get("uncertainty") is not None else "",
                         ";".join(sources[par]), comments.get(par, "")])
    return rows


def main(cevns: str, wimp: str, out: Path = OUT) -> None:
    cevns_commit = resolve(cevns, CEVNS_COMMIT)
    per_run = {run: columns(cevns, cevns_commit, wimp, run) for run in RUNS}
    n_events = ", ".join(f"{run} {int(c['data'].sum())} events" for run, c in per_run.items())
    names = list(per_run[RUNS[0]])
    with open(out / NAME, "w", newline="") as fh:
        fh.write(HEADER.format(n_events=n_events, cevns_commit=cevns_commit, wimp_commit=LIGHT_WIMP_COMMIT).lstrip("\n"))
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(["science_run", "i_cs2", "i_shadow", "i_s1_bdt", "i_s2_bdt", *names])
        for run, cols in per_run.items():
            for k, idx in enumerate(np.ndindex(3, 3, 3, 3)):
                w.writerow([run, *idx, *(int(cols[n][k]) if n == "data" else repr(float(cols[n][k])) for n in names)])
    with open(out / NUISANCES, "w", newline="") as fh:
        fh.write(NUISANCE_HEADER.format(wimp_commit=LIGHT_WIMP_COMMIT, model=MODEL).lstrip("\n"))
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(["parameter", "value", "uncertainty", "sources", "comment"])
        w.writerows(nuisances(wimp))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], Path(sys.argv[3]) if len(sys.argv) > 3 else OUT)
