"""Write ``likelihoods/data/cevns_xenonnt_b8_expectation.csv``: XENONnT's own expected solar 8B CEvNS events in SR0 and
SR1 (tly = tqy = 0), the 8B templates of the collaboration's light-dark-matter data release summed over the analysis
bins, times the livetimes of the release's statistical model (the CSV's header says where each number comes from).

h5py reads the templates (``pip install h5py``; only this tool needs it). The release is read with git:

    git clone https://github.com/XENONnT/light_wimp_data_release R && git -C R checkout a09cd8f
    python tools/import_xenonnt_b8_expectation.py R/.git [OUTDIR]      # OUTDIR default likelihoods/data
"""

from __future__ import annotations

import csv
import io
import sys
from pathlib import Path

import numpy as np
import yaml
from _git import git_bytes  # tools/_git.py (the tools run as scripts)

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "likelihoods" / "data"
COMMIT = "a09cd8fd77570dc2095f65f094fbcc114b634dfc"
DATA = "light_wimp_data_release/data"
RUNS = ("sr0", "sr1")
NAME = "cevns_xenonnt_b8_expectation.csv"


def show(gitdir: str, path: str) -> bytes:
    return git_bytes(gitdir, "show", f"{COMMIT}:{DATA}/{path}")


def b8_per_t_yr(gitdir: str, run: str) -> float:
    """Sum over the analysis bins of the nominal 8B template (dataset templates/template), events per tonne-year."""
    import h5py  # a tool-only dependency

    blob = show(gitdir, f"b8/template_XENONnT_{run}_b8_cevns_tly_0.0_tqy_0.0.h5")
    with h5py.File(io.BytesIO(blob), "r") as f:
        return float(np.sum(f["templates/template"][()]))


def livetimes(gitdir: str) -> dict[str, float]:
    model = yaml.safe_load(show(gitdir, "statistical_model_base.yaml"))["parameter_definition"]
    return {run: float(model[f"livetime_{run}"]["nominal_value"]) for run in RUNS}


HEADER = r"""
# What: XENONnT's own expected number of solar 8B CEvNS events in SR0 and SR1 at nominal light and charge yields (tly = tqy = 0), from the collaboration's light-dark-matter data release,
#   which analyses the same SR0+SR1 data with the same selection as the 8B CEvNS paper arXiv:2408.02877: its accidental-coincidence templates are the numbers of XENONnT/cevns_data_release
#   (cevns_xenonnt_sr_summary.csv), and its AC + ER + neutron templates times the livetimes sum to 26.40 events, the paper's "(26.4+1.4-1.3) events expected from backgrounds".
#   b8_per_t_yr = sum over the 3x3x3x3 analysis bins of light_wimp_data_release/data/b8/template_XENONnT_<sr>_b8_cevns_tly_0.0_tqy_0.0.h5 (dataset templates/template), events per tonne-year;
#   livetime_t_yr = livetime_sr0 / livetime_sr1 of light_wimp_data_release/data/statistical_model_base.yaml (which cites XENONnT/nton's b8_discovery statistical model for them);
#   expected_events = b8_per_t_yr x livetime_t_yr (computed here, Python repr); SR0 + SR1 = 11.916 events.
#   Notebook "1. Templates.ipynb": "For all the backgrounds, the rates are set to the expectation in [TABLE 1 of the paper](https://arxiv.org/pdf/2409.17868)".
#   Flux: statistical_model_base.yaml gives the 8B rate the error "uncertainty: 0.0381  # Flux uncertainty only. https://doi.org/10.1103/PhysRevC.88.025501 is 0.0381 from SNO.",
#   so the templates are read as being at the SNO flux, 5.25e6 cm^-2 s^-1 (an inference; it agrees with arXiv:2408.02877's abstract: 37 - 26.4 = 10.6 events for its measured flux
#   4.7e6 cm^-2 s^-1 are 11.84 events at 5.25e6, 0.7 % from the sum here).
# CL: not applicable (expectation).
# Paper: XENON, PRL 134, 111802 (2025), arXiv:2409.17868, Table 1; SR0+SR1 data of XENON, PRL 133, 191002 (2024), arXiv:2408.02877.
# Read from: XENONnT/light_wimp_data_release@a09cd8fd77570dc2095f65f094fbcc114b634dfc (Zenodo doi:10.5281/zenodo.14522706): b8 templates blobs f11807f33d96614038b544772bd180ddadc11d9f (sr0),
#   5168a0667c1a6cd969add48aea9206d26ed272c1 (sr1); statistical_model_base.yaml blob f4620c65fd64f4425d48d7ce1ff2991559bb65c3; notebook blob 071e099db9e74f25f29710bd632a7c5fd1fd5cec;
#   written by tools/import_xenonnt_b8_expectation.py.
# Caveat: our folding of the 8B release's monoenergetic efficiencies (cevns_xenonnt_efficiency.csv) with our 8B recoil spectrum gives 2.83 and 2.62 per t yr, 22 % and 20 % below these
#   templates; the release's own recoil spectrum (light_wimp_data_release/data/signal/cevns_spectrum.json: 335.6 events per t yr above 0.45 keVnr, against our 345.0 at the SNO flux)
#   folded with the same efficiencies gives 2.75 and 2.54: the difference is in the detector response, not in the recoil spectrum.
"""


def main(gitdir: str, out: Path = OUT) -> None:
    lt = livetimes(gitdir)
    with open(out / NAME, "w", newline="") as fh:
        fh.write(HEADER.lstrip("\n"))
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(["science_run", "b8_per_t_yr", "livetime_t_yr", "expected_events"])
        for run in RUNS:
            rate = b8_per_t_yr(gitdir, run)
            w.writerow([run, repr(rate), repr(lt[run]), repr(rate * lt[run])])


if __name__ == "__main__":
    main(sys.argv[1], Path(sys.argv[2]) if len(sys.argv) > 2 else OUT)
