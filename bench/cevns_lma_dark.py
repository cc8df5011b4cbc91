"""-2 Delta ln L (relative to the SM point) of every CEvNS / reactor likelihood at LMA-Dark points of U(1)_B.

    PYTHONPATH=. python bench/cevns_lma_dark.py            # default options and the variants below (slow: ~20 builds)
    PYTHONPATH=. python bench/cevns_lma_dark.py --defaults # default options only
    PYTHONPATH=. python bench/cevns_lma_dark.py --only LAr # the rows whose label contains "LAr"

The points are those of tests/test_paper_claims.py (kappa_e only, g_Psi = -1 < 0, g_B = 1e-5, Eq. 9 at 3/4), with
|kappa_e|^2 scaled so that eps^Earth_ee - eps^Earth_mumu = -3 (LMA-Dark), at M_Zp = 3.5, 5, 7, 10 MeV. CEvNS sees only
eps(q^2) = eps(0) M^2/(q^2 + M^2), so the numbers do not depend on g_B at fixed eps(0). Prints a Markdown table
(docs/validation.md, "LMA-Dark window").
"""

from __future__ import annotations

import sys

from globalfit.physics.model import observables
from globalfit.physics.parameters import complete
from likelihoods import build_likelihood
from tests.test_paper_claims import benchmark

MASSES_MEV = (3.5, 5.0, 7.0, 10.0)

DEFAULTS = {
    "COHERENT CsI": ("cevns_coherent_csi", {}),
    "COHERENT LAr": ("cevns_coherent_lar", {}),
    "XENONnT 8B": ("cevns_xenonnt_8b", {}),
    "PandaX-4T 8B": ("cevns_pandax_8b", {}),
    "CONUS+ (160-180 eVee, Lindhard k = 0.162)": ("cevns_conus_plus", {}),
    "COHERENT Ge": ("cevns_coherent_ge", {}),
    "Dresden-II (Fef; not in the default configs)": ("cevns_dresden2", {}),
}
VARIANTS = {
    "CsI, former response (sharp 5-60 PE, eff 1)": ("cevns_coherent_csi", {"response": "sharp"}),
    "CsI, former response, tree-level couplings": ("cevns_coherent_csi", {"response": "sharp", "weak_couplings": "tree"}),
    "LAr, binned release (energy x F90 x time, nuisances profiled)": ("cevns_coherent_lar", {"analysis": "binned"}),
    "CsI + LAr (shared flux), LAr count": ("cevns_coherent_sns", {}),
    "CsI + LAr (shared flux), LAr binned": ("cevns_coherent_sns", {"lar_analysis": "binned"}),
    "LAr, former response (20 keVnr, eff 1)": ("cevns_coherent_lar", {"response": "sharp"}),
    "LAr, former response, tree-level couplings": ("cevns_coherent_lar", {"response": "sharp", "weak_couplings": "tree"}),
    "XENONnT, binned release (4D, SR0+SR1, nuisances profiled)": ("cevns_xenonnt_8b", {"analysis": "binned"}),
    "XENONnT, SR0-SR2 (our folded SM signal)": ("cevns_xenonnt_8b", {"dataset": "sr0-sr2", "normalisation": "efficiency"}),
    "XENONnT, SR0+SR1, our folded SM signal": ("cevns_xenonnt_8b", {"normalisation": "efficiency"}),
    "XENONnT, former response (0.5 keVnr, eff 1)": ("cevns_xenonnt_8b", {"response": "sharp"}),
    "XENONnT, former response, tree-level couplings": ("cevns_xenonnt_8b", {"response": "sharp", "weak_couplings": "tree"}),
    "PandaX-4T, tree-level couplings": ("cevns_pandax_8b", {"weak_couplings": "tree"}),
    "CONUS+, 160 eVee": ("cevns_conus_plus", {"threshold_eVee": (160.0, 160.0)}),
    "CONUS+, 180 eVee": ("cevns_conus_plus", {"threshold_eVee": (180.0, 180.0)}),
    "CONUS+, k = 0.158": ("cevns_conus_plus", {"lindhard_k": 0.158}),
    "CONUS+, k = 0.166": ("cevns_conus_plus", {"lindhard_k": 0.166}),
    "CONUS+, Fef": ("cevns_conus_plus", {"quenching": "fef"}),
    "CONUS+, YBe": ("cevns_conus_plus", {"quenching": "ybe"}),
    "CONUS+, tree-level couplings": ("cevns_conus_plus", {"weak_couplings": "tree"}),
    "COHERENT Ge, tree-level couplings": ("cevns_coherent_ge", {"weak_couplings": "tree"}),
    "Dresden-II, YBe": ("cevns_dresden2", {"quenching": "ybe"}),
    "Dresden-II, Lindhard k = 0.162": ("cevns_dresden2", {"quenching": "lindhard"}),
}


def lma_dark_point(M_Zp: float) -> dict:
    """tests.test_paper_claims' LMA-Dark construction in U(1)_B at another M_Zp (GeV)."""
    p = benchmark("B", M_Zp, 1e-5, -1.0, 1e-4, 0.0)
    o = observables(p, "B")
    d = float(o["eps_earth_ee"] - o["eps_earth_mumu"])
    return benchmark("B", M_Zp, 1e-5, -1.0, 1e-4 * (-3.0 / d), 0.0)


def delta_chi2(configs: dict) -> dict[str, tuple[float, list[float]]]:
    """label -> (-2 ln L at the SM point, [-2 Delta ln L vs SM at each mass])."""
    sm = observables(complete({"g_X": 1e-12}), "B")
    pts = [observables(lma_dark_point(M * 1e-3), "B") for M in MASSES_MEV]
    out = {}
    for label, (name, opts) in configs.items():
        lk = build_likelihood(name, "B", opts)
        l0 = float(lk.loglike(sm))
        out[label] = (-2 * l0, [-2 * (float(lk.loglike(o)) - l0) for o in pts])
    return out


def markdown(rows: dict[str, tuple[float, list[float]]]) -> str:
    head = "| likelihood | -2 ln L at SM | " + " | ".join(f"M_Z' = {m:g} MeV" for m in MASSES_MEV) + " |"
    lines = [head, "| --- | --- |" + " --- |" * len(MASSES_MEV)]
    lines += [f"| {k} | {v[0]:.2f} | " + " | ".join(f"{x:.2f}" for x in v[1]) + " |" for k, v in rows.items()]
    return "\n".join(lines)


if __name__ == "__main__":
    configs = dict(DEFAULTS) if "--defaults" in sys.argv else {**DEFAULTS, **VARIANTS}
    if "--only" in sys.argv:  # labels containing this text
        configs = {k: v for k, v in configs.items() if sys.argv[sys.argv.index("--only") + 1] in k}
    print(markdown(delta_chi2(configs)))
