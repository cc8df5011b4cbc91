"""Write ``likelihoods/data/zprime_bl_*.csv`` from DarkCast's own ``B-L_boson`` recasts, every row, every digit.

The files are read with git from a local copy of github.com/micha-a-schmidt/darkcast (the fork that holds the recast
files; the same commit the U(1)_B curves were copied from, ``shared/data/darkcast_B_boson``):

    git clone https://github.com/micha-a-schmidt/darkcast DIR && git -C DIR checkout db9a0f6
    python tools/import_darkcast_bl.py DIR/.git [OUTDIR]     # OUTDIR default likelihoods/data

Each output file keeps the .lmt numbers as text and is headed by its provenance: the original limit's paper and
notes (``limits/<name>.py``), the blob read, and what the B-L reference model is (``models/B-L_boson.py``).
"""

from __future__ import annotations

import re
import sys
from pathlib import Path
from _git import git  # tools/_git.py (the tools run as scripts)

COMMIT = "db9a0f66ec99946930dc263a042ec531c9576068"
ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "likelihoods" / "data"

# output key -> (DarkCast limit name, what the experiment is)
FILES = {
    "bl_babar_invisible": ("BaBar_Lees2017lec", "BaBar e+e- -> gamma + invisible, Lees et al. PRL 119 (2017) 131804, arXiv:1702.03327"),
    "bl_na64_invisible": ("NA64_NA642019imj", "NA64 e- N -> e- N + invisible, Banerjee et al. (NA64) PRL 123 (2019) 121801, arXiv:1906.00176"),
    "bl_babar_visible": ("BaBar_Lees2014xha", "BaBar e+e- -> gamma Z', Z' -> e+e-, mu+mu-, Lees et al. PRL 113 (2014) 201801, arXiv:1406.2980"),
    "bl_e137": ("E137_Andreas2012mt", "SLAC E137 electron beam dump, Andreas, Niebuhr, Ringwald PRD 86 (2012) 095019, arXiv:1209.6083"),
    "bl_nucal": ("NuCAL_Blumlein1991xh", "nu-Cal I proton bremsstrahlung, Bluemlein & Brunner PLB 731 (2014) 320, arXiv:1311.3870"),
    "bl_charm": ("CHARM_Bergsma1985qz", "CHARM beam dump, Bergsma et al. PLB 157 (1985) 458, via Bluemlein & Brunner arXiv:1311.3870"),
}

MODEL = """\
# What: DarkCast recast, to its B-L boson (model 'B-L_boson'), of the dark-photon limit '{name}'. Global coupling g_B-L vs boson mass.
# Coupling convention (DarkCast models/B-L_boson.py at this commit): the boson couples to fermion f with g x_f, x_q = 1/3 for every quark,
#   x_l = -1 for e, mu, tau and each neutrino flavour. DarkCast's pars.py at this commit gives each neutrino the colour factor 1/2 (left-handed
#   neutrinos only: Gamma(Z' -> nu nubar) = g^2 M/(24 pi) per flavour), as globalfit.physics.widths does; so the reference widths of
#   likelihoods/zprime_searches.py are this model's. (The 4-9 masses these files held until 2026-12-05 had been made with a DarkCast copy that
#   gives the colour factor 1, a Dirac neutrino: github.com/Noah-Everett/DS-Decay-Scripts@2a86698, darkcast/pars.py.)
# Columns: mass_GeV = boson mass [GeV]; g_lower = lower edge of the excluded coupling range; g_upper (beam dumps) = upper edge (g_lower < g < g_upper
#   excluded). Values copied verbatim as text from the .lmt file (header '{lmt_header}'); a g_lower of 1.0000e+05 marks a mass where the
#   original limit excludes nothing.
# CL: not recorded in DarkCast; the recast inherits the CL of the original experimental limit; treated as 90 % CL (option cl).
"""


def limit_notes(gitdir: str, name: str) -> tuple[str, str]:
    """(notes, production/decay/efficiency lines) of DarkCast's limits/<name>.py."""
    src = git(gitdir, "show", f"{COMMIT}:limits/{name}.py")
    notes = re.search(r'notes = """\n(.*?)"""', src, re.S).group(1).rstrip()
    setup = [ln.strip() for ln in src.splitlines() if ln.startswith(("model =", "production =", "decay =", "efficiency ="))]
    return notes, "; ".join(setup)


def header(gitdir: str, key: str, name: str, what: str, lmt_header: str) -> str:
    path = f"recast/limits/B-L_boson/{name}.lmt"
    blob = git(gitdir, "rev-parse", f"{COMMIT}:{path}").strip()
    last = git(gitdir, "log", "-1", "--format=%H %ad %s", "--date=short", COMMIT, "--", path).strip()
    notes, setup = limit_notes(gitdir, name)
    lines = [f"# experiment: {what} (DarkCast limit {name})",
             "# digitisation [D]: DarkCast (Ilten, Soreq, Williams, Xue; arXiv:1801.04847) recast of the published dark-photon limit; derived by",
             "#   running public code on digitised published data, not a published number.",
             "# tag: [D]",
             MODEL.format(name=name, lmt_header=lmt_header).rstrip(),
             f"# Read from: micha-a-schmidt/darkcast@{COMMIT}:{path} (git blob {blob}; last changed in commit {last}).",
             f"# Original limit: limits/{name}.py: {setup}. Its notes say:"]
    lines += [f"#   {ln}".rstrip() for ln in notes.splitlines()]
    lines.append("# Repository: a fork of DarkCast whose only own commit (db9a0f6, 'adapted darkcast for FASER scan') changes model.py only, so the recast")
    lines.append("#   files are upstream's. Upstream has moved to gitlab.com/darkcast/releases, which may hold newer recasts.")
    return "\n".join(lines)


def convert(gitdir: str, key: str, outdir: Path = OUT) -> Path:
    name, what = FILES[key]
    text = git(gitdir, "show", f"{COMMIT}:recast/limits/B-L_boson/{name}.lmt").splitlines()
    lmt_header, rows = text[0].strip(), [ln.split() for ln in text[1:] if ln.strip()]
    ncol = len(rows[0])
    if any(len(r) != ncol for r in rows):
        raise SystemExit(f"{name}: rows of different lengths")
    cols = ["mass_GeV", "g_lower", "g_upper"][:ncol]
    out = outdir / f"zprime_{key}.csv"
    out.write_text(header(gitdir, key, name, what, lmt_header) + "\n" + ",".join(cols) + "\n" + "\n".join(",".join(r) for r in rows) + "\n")
    return out


if __name__ == "__main__":
    if len(sys.argv) not in (2, 3):
        raise SystemExit(__doc__)
    for k in FILES:
        print(convert(sys.argv[1], k, Path(sys.argv[2]) if len(sys.argv) == 3 else OUT))
