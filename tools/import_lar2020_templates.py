"""Write ``likelihoods/data/cevns_lar2020_templates.csv``: the binned data and the signal and background templates of
COHERENT's CENNS-10 liquid-argon "Analysis A" release (energy x F90 x time, 12 x 8 x 10 bins), one column per file,
the numbers copied as text (never re-formatted). The release is read with git from a copy that ships it:

    git clone https://github.com/philippeller/Newtrinos.jl R && git -C R checkout 653141b
    python tools/import_lar2020_templates.py R/.git [OUTDIR]      # OUTDIR default likelihoods/data
"""

from __future__ import annotations

import csv
import sys
from pathlib import Path
from _git import git  # tools/_git.py (the tools run as scripts)

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "likelihoods" / "data"
COMMIT = "653141ba6e05dd920fd0a795eb82e3de626076ce"
DIR = "src/experiments/coherent/coherent_2020/lAr"
NAME = "cevns_lar2020_templates.csv"
COLUMNS = {  # CSV column -> release file
    "data": "datanobkgsub.txt",
    "cevns": "cevnspdf.txt",
    "cevns_f90_p1": "cevnspdf+1sigF90.txt",
    "cevns_f90_m1": "cevnspdf-1sigF90.txt",
    "cevns_timing_mean": "cevnspdfCEvNSTimingMeanSyst.txt",
    "brn": "brnpdf.txt",
    "brn_energy_p1": "brnpdf+1sigEnergy.txt",
    "brn_energy_m1": "brnpdf-1sigEnergy.txt",
    "brn_timing_mean_p1": "brnpdf+1sigBRNTimingMean.txt",
    "brn_timing_mean_m1": "brnpdf-1sigBRNTimingMean.txt",
    "brn_timing_width": "brnpdfBRNTimingWidthSyst.txt",
    "delayed_brn": "delbrnpdf.txt",
    "steady_state": "bkgpdf.txt",
}


def show(gitdir: str, name: str) -> str:
    return git(gitdir, "show", f"{COMMIT}:{DIR}/{name}")


def blob(gitdir: str, name: str) -> str:
    return git(gitdir, "rev-parse", f"{COMMIT}:{DIR}/{name}").strip()


def rows(text: str) -> list[list[str]]:
    return [ln.split() for ln in text.splitlines() if ln.strip()]


HEADER = """
# What: COHERENT CENNS-10 liquid argon, "Analysis A" data release: observed counts (beam-on, no background subtracted) and the templates of the 3D likelihood fit,
#   in 12 reconstructed-energy bins (centres 5..115 keVee, 10 keVee wide) x 8 F90 bins (centres 0.525..0.875, 0.05 wide) x 10 time bins (centres 0.15..4.65 us, 0.5 us wide);
#   E_keVee, F90, t_us are the bin centres as the release writes them. One column per release file (column: file):
#   {columns}
#   Template sums (the release's prediction normalisations, LArParametersAnlA.yaml): CEvNS 128.0 (cevnsPredictionNormalization 128 +- 17), prompt BRN 497.0 (497 +- 160),
#   delayed BRN 33.0 (33 +- 33), steady state 3152.0 (ssBackgroundPredictionNormalization 3154 +- 25); the shape variants keep their nominal sums. Data: 3752 events.
#   The YAML's best fit: CEvNS 159 +- 43, prompt BRN 553 +- 34, delayed BRN 10 +- 11, steady state 3131 +- 23.
# CL: not applicable (counts and templates); the variants are the release's +-1 sigma (or single) systematic shape variations.
# Paper: COHERENT, D. Akimov et al., PRL 126, 012002 (2021), arXiv:2003.10630; data release arXiv:2006.12659, doi:10.5281/zenodo.3903810.
# Read from: philippeller/Newtrinos.jl@{commit}:{dir}/ (git blobs: {blobs});
#   written by tools/import_lar2020_templates.py. Official-release copy read through a third party: a third-party script lists the Zenodo record's MD5 sums, which these files match
#   (session 50's source search); not checked against the Zenodo original here.
# Values copied verbatim (as text).
"""


def main(gitdir: str, out: Path = OUT) -> None:
    tables = {col: rows(show(gitdir, f)) for col, f in COLUMNS.items()}
    coords = [r[:3] for r in tables["cevns"]]
    for col, t in tables.items():
        if [r[:3] for r in t] != coords or any(len(r) != 4 for r in t):
            raise ValueError(f"{COLUMNS[col]}: its bins differ from cevnspdf.txt's")
    header = HEADER.format(columns="; ".join(f"{c}: {f}" for c, f in COLUMNS.items()), commit=COMMIT, dir=DIR,
                           blobs="; ".join(f"{f} {blob(gitdir, f)}" for f in COLUMNS.values()))
    with open(out / NAME, "w", newline="") as fh:
        fh.write(header.lstrip("\n"))
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(["E_keVee", "F90", "t_us", *COLUMNS])
        for i, c in enumerate(coords):
            w.writerow([*c, *(tables[col][i][3] for col in COLUMNS)])


if __name__ == "__main__":
    main(sys.argv[1], Path(sys.argv[2]) if len(sys.argv) > 2 else OUT)
