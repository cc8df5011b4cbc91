"""Write ``likelihoods/data/cevns_xenonnt_efficiency_yields.csv``: the XENONnT detection efficiency vs nuclear-recoil
energy at the light- and charge-yield nuisances tly = +-1, tqy = +-1 (the other at 0), per science run, from the
official XENONnT 8B / light-DM data release (the same sums of the monoenergetic templates as the nominal file
``cevns_xenonnt_efficiency.csv``, which this tool reproduces to the last digit as a check).

h5py reads the templates (``pip install h5py``; only this tool needs it). The release is read with git:

    git clone https://github.com/XENONnT/cevns_data_release R && git -C R checkout 60d230d
    python tools/import_xenonnt_yields.py R/.git [OUTDIR]      # OUTDIR default likelihoods/data
"""

from __future__ import annotations

import csv
import io
import sys
from pathlib import Path

import numpy as np
from _git import git_bytes  # tools/_git.py (the tools run as scripts)

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "likelihoods" / "data"
COMMIT = "60d230dd7a5646fd4aa2368c5fdfba575ee0cb88"
RUNS = ("sr0", "sr1", "sr2")
VARIANTS = {"tly_p1": (1.0, 0.0), "tly_m1": (-1.0, 0.0), "tqy_p1": (0.0, 1.0), "tqy_m1": (0.0, -1.0)}
NAME = "cevns_xenonnt_efficiency_yields.csv"


def template_sum(gitdir: str, run: str, E_keV: float, tly: float, tqy: float) -> float:
    """Sum over the analysis bins of one monoenergetic template (dataset templates/template)."""
    import h5py  # a tool-only dependency

    path = f"templates/{run}/mono/template_XENONnT_{run}_mono_{E_keV:.3f}_cevns_tly_{tly:.1f}_tqy_{tqy:.1f}.h5"
    blob = git_bytes(gitdir, "show", f"{COMMIT}:{path}")
    with h5py.File(io.BytesIO(blob), "r") as f:
        return float(np.sum(f["templates/template"][()]))


def nominal_rows() -> list[dict[str, str]]:
    with open(OUT / "cevns_xenonnt_efficiency.csv", newline="") as fh:
        return list(csv.DictReader(line for line in fh if not line.startswith("#")))


HEADER = f"""# What: XENONnT detection efficiency for monoenergetic nuclear recoils, per science run, at the light-yield and
#   charge-yield nuisances tly = +1, -1 (tqy = 0) and tqy = +1, -1 (tly = 0), from the official XENONnT 8B/light-DM data
#   release. README: "tly_* and tqy_* correspond to the nuisance parameters modeling the light yield and charge yield
#   uncertainties"; the release holds them at -3..3 (read here as standard deviations of those nuisances: the README
#   does not say so). Each value = sum over the analysis bins of
#   templates/<sr>/mono/template_XENONnT_<sr>_mono_<E>_cevns_tly_<a>_tqy_<b>.h5 (dataset templates/template), the
#   same sum as cevns_xenonnt_efficiency.csv holds at tly = tqy = 0 (reproduced exactly by the tool). Python repr.
# CL: not applicable.
# Papers: as cevns_xenonnt_efficiency.csv (PRL 133, 191002 (2024), arXiv:2408.02877; arXiv:2604.06002 with SR2).
# Read from: XENONnT/cevns_data_release@{COMMIT}:templates/sr*/mono/*_tly_*_tqy_*.h5
#   by tools/import_xenonnt_yields.py. Licence CC-BY-4.0 (repository LICENSE).
# Use: the relative change of the expected 8B signal per unit nuisance (likelihoods/cevns.py, xenonnt_yield_error).
"""


def main(gitdir: str, out: Path = OUT) -> None:
    rows = nominal_rows()
    energies = [float(r["E_nr_keV"]) for r in rows]
    for run in RUNS:  # the nominal file is reproduced: the same sums
        for r, E in zip(rows, energies):
            if repr(template_sum(gitdir, run, E, 0.0, 0.0)) != r[f"eff_{run}"]:
                raise SystemExit(f"{run} at {E} keV: the nominal sum differs from cevns_xenonnt_efficiency.csv")
    columns = [f"eff_{run}_{v}" for v in VARIANTS for run in RUNS]
    with open(out / NAME, "w", newline="") as fh:
        fh.write(HEADER)
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(["E_nr_keV", *columns])
        for r, E in zip(rows, energies):
            w.writerow([r["E_nr_keV"], *(repr(template_sum(gitdir, run, E, *VARIANTS[v])) for v in VARIANTS for run in RUNS)])


if __name__ == "__main__":
    main(sys.argv[1], Path(sys.argv[2]) if len(sys.argv) > 2 else OUT)
