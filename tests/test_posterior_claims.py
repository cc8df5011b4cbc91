"""The paper's conclusions on posterior draws (reduced runs: short chains, few sampled parameters; the full runs are
the commands of docs/validation.md and docs/gallery.md).

* |eps_ab|^2 = eps_aa eps_bb on every posterior draw of the minimal model (one Psi: the NSI matrix has rank one,
  arXiv:1607.07616 Sec. 4) -- U(1)_B, Yukawas, phases, g_Psi and the Z' sampled under the smooth 2016 likelihoods.
* LMA-Dark (eps^Earth_ee - eps^Earth_mumu ~ -3, i.e. eps^q_ee - eps^q_mumu ~ -1) is reachable in U(1)_B with
  g_Psi g_B < 0: with osc_lma_dark and every 2016 non-oscillation constraint, the posterior sits in the LMA-Dark
  window with every likelihood satisfied. (Its exclusion in B-L is a profile statement:
  tests/test_profile.py, tests/test_paper_claims.py.)
"""

from pathlib import Path

import numpy as np
import pytest
import yaml

from globalfit.cli import main
from tests import helpers

PAPER2016 = {**helpers.PAPER2016, **helpers.SEARCHES_2016["B"]}
LOG = lambda lo, hi, ref, **kw: {"prior": "log-uniform", "min": lo, "max": hi, "ref": ref, **kw}  # noqa: E731


def _run(tmp_path: Path, name: str, params: dict, likelihoods: dict, seed: int):
    import arviz as az

    out = tmp_path / name
    cfg = {"model": {"scenario": "B"}, "params": params, "likelihoods": likelihoods,
           "sampler": {"chains": 2, "warmup": 150, "draws": 100, "chunk_size": 100, "seed": seed, "target_accept": 0.9,
                       "progress_bar": False},
           "output": {"dir": str(out)}, "plots": {"formats": ["png"], "corner": ["g_X"]}}
    path = tmp_path / f"{name}.yaml"
    path.write_text(yaml.safe_dump(cfg))
    assert main(["run", str(path)]) == 0
    return az.from_netcdf(str(out / "posterior.nc"))


def _col(idata, name):
    return np.asarray(idata.posterior[name]).ravel()


@pytest.mark.slow
def test_rank_one_on_every_posterior_draw(tmp_path):
    params = {
        "M_Zp": LOG(3e-3, 0.1, 0.01), "g_X": LOG(1e-7, 1e-4, 1e-6), "g_Psi": LOG(1e-3, 3.5, 0.1),
        "y_e": LOG(1e-4, 3.5, 0.1), "y_mu": LOG(1e-4, 3.5, 0.01), "y_tau": LOG(1e-4, 3.5, 0.01),
        "phi_mu": {"prior": "uniform", "min": -3.14159, "max": 3.14159, "ref": 0.3},
        "phi_tau": {"prior": "uniform", "min": -3.14159, "max": 3.14159, "ref": -0.7},
        "M_Psi": 1.0, "M_H": 400.0, "r_H": 0.75,
    }
    # smooth likelihoods only (the relation is algebraic; the data just decide where the draws go)
    lks = {"osc_lma": None, "unitarity": {"dataset": "paper2016"}, "lfv_radiative": {"dataset": "paper2016"}, "cosmology": {"dataset": "paper2016"}}
    idata = _run(tmp_path, "rank1", params, lks, seed=11)
    e = {f: _col(idata, f"eps_earth_{f}") for f in ("ee", "mumu", "tautau")}
    a = {f: _col(idata, f"abs_eps_earth_{f}") for f in ("emu", "etau", "mutau")}
    assert e["ee"].size == 200 and np.ptp(np.log10(np.abs(e["ee"]) + 1e-300)) > 1.0  # draws spread over decades
    for off, (x, y) in {"emu": ("ee", "mumu"), "etau": ("ee", "tautau"), "mutau": ("mumu", "tautau")}.items():
        np.testing.assert_allclose(a[off] ** 2, e[x] * e[y], rtol=1e-9, atol=1e-300)
    assert np.all(e["ee"] * e["mumu"] >= 0)  # every diagonal entry carries the sign of g_Psi g_B
    assert (tmp_path / "rank1" / "plots" / "corner_eps.png").stat().st_size > 10_000  # all six entries vary


@pytest.mark.slow
def test_lma_dark_reachable_in_b_on_posterior(tmp_path):
    params = {
        "M_Zp": 0.01, "g_X": LOG(1e-6, 1e-4, 1e-5), "g_Psi": LOG(1e-2, 3.5, -0.1, negative=True),
        "y_e": LOG(1e-2, 3.5, 0.5), "y_mu": 1e-4, "y_tau": 1e-4, "M_Psi": 1.0, "M_H": 400.0, "r_H": 0.75,
    }
    idata = _run(tmp_path, "lmad", params, {**PAPER2016, "osc_lma_dark": None}, seed=5)
    d = _col(idata, "eps_earth_ee") - _col(idata, "eps_earth_mumu")
    inside = (d > -3.5) & (d < -2.5)
    assert inside.mean() > 0.9, np.quantile(d, [0.05, 0.5, 0.95])
    assert np.all(_col(idata, "g_Psi") * _col(idata, "g_X") < 0)
    lnl = {k: np.asarray(idata.log_likelihood[k]).ravel() for k in idata.log_likelihood.data_vars}
    assert set(lnl) == set(PAPER2016) | {"osc_lma_dark"}
    # a typical LMA-Dark draw satisfies every constraint at 90 % CL
    med = {k: float(np.median(-2 * v[inside])) for k, v in lnl.items()}
    assert all(v < 2.71 for v in med.values()), med
