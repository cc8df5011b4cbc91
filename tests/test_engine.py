"""End to end: a reduced quickstart run writes every output, converges, and its NetCDF reopens with ArviZ."""

import warnings
from pathlib import Path

import numpy as np
import pytest
import yaml

from globalfit.cli import main
from globalfit.physics.model import DERIVED_NAMES

ROOT = Path(__file__).resolve().parent.parent


def tiny_config(outdir: Path, **sampler) -> dict:
    """runs/quickstart.yaml with two sampled parameters and few draws (a test-only override)."""
    cfg = yaml.safe_load((ROOT / "runs" / "quickstart.yaml").read_text())
    cfg["params"]["M_Zp"] = 0.01
    cfg["params"]["y_e"] = {"prior": "uniform", "min": 0.0, "max": 3.5, "ref": 1.0}
    cfg["likelihoods"] = {"unitarity": None, "osc_lma": None}
    cfg["sampler"] = {"chains": 2, "warmup": 150, "draws": 200, "chunk_size": 100, "seed": 3, **sampler}
    cfg["output"] = {"dir": str(outdir)}
    cfg["plots"] = {"corner": ["g_X", "y_e", "eps_u_ee"], "plane_eps": "eps_u_ee", "formats": ["pdf", "png"]}
    return cfg


@pytest.fixture(scope="module")
def finished_run(tmp_path_factory):
    base = tmp_path_factory.mktemp("engine")
    outdir = base / "out"
    path = base / "tiny.yaml"
    path.write_text(yaml.safe_dump(tiny_config(outdir)))
    assert main(["run", str(path)]) == 0
    return path, outdir


def test_every_output_file(finished_run):
    _, outdir = finished_run
    for f in ["posterior.nc", "summary.csv", "report.txt", "config.input.yaml", "config.resolved.yaml", "progress.json", "state.pkl"]:
        assert (outdir / f).is_file(), f
    for stem in ["corner", "trace", "rank", "plane"]:
        for fmt in ["pdf", "png"]:
            assert (outdir / "plots" / f"{stem}.{fmt}").stat().st_size > 1000
    assert sorted(p.name for p in (outdir / "chunks").iterdir()) == ["chunk_0000.npz", "chunk_0001.npz"]
    assert not (outdir / "plots" / "corner_eps.png").exists()  # only eps_ee varies here (y_mu = y_tau = 0)


def test_figures_drawn_in_a_second_process_are_the_same_figures(finished_run, monkeypatch, tmp_path, capfd):
    """A long run draws its trace, rank and corner_eps plots in a second process beside its other outputs
    (plots.figures_beside, from BACKGROUND_DRAWS draws on, reading posterior.nc): the same PNGs as drawn in the run's
    own process, and GetDist kept as quiet there as in the CLI's process (its bandwidth warnings reached the terminal
    before 2026-12-06). (The tiny run has one varying eps entry; a second one is made to vary for corner_eps.)"""
    import shutil

    from globalfit.outputs import plots
    from globalfit.outputs.report import build_idata, write_posterior

    _, outdir = finished_run
    copy, ref = tmp_path / "run", tmp_path / "ref"
    shutil.copytree(outdir, copy)
    for stem in ("trace", "rank"):
        for f in (copy / "plots").glob(f"{stem}.*"):
            f.unlink()
    idata = build_idata(copy)
    ee = idata.posterior["eps_earth_ee"]
    idata.posterior["eps_earth_mumu"] = 0.5 * ee + 1e-3 * float(ee.std()) * np.random.default_rng(0).normal(size=ee.shape)
    write_posterior(copy, idata)
    shutil.copytree(copy, ref)
    assert [f.name for f in plots.eps_corner_plots(ref, idata)] == ["corner_eps.pdf", "corner_eps.png"]
    monkeypatch.setattr(plots, "BACKGROUND_DRAWS", 1)
    pools = []

    class Pool(plots.ProcessPoolExecutor):
        def __init__(self, *args, **kwargs):
            pools.append(kwargs)
            super().__init__(*args, **kwargs)

    monkeypatch.setattr(plots, "ProcessPoolExecutor", Pool)
    capfd.readouterr()
    with plots.figures_beside(copy, idata):
        pass
    assert [p.get("initializer") for p in pools] == [plots.quiet_getdist]
    assert "WARNING:root" not in capfd.readouterr().err  # GetDist warns on the root logger
    for stem in ("trace", "rank"):
        assert (copy / "plots" / f"{stem}.pdf").stat().st_size > 1000
        assert (copy / "plots" / f"{stem}.png").read_bytes() == (outdir / "plots" / f"{stem}.png").read_bytes()
    assert (copy / "plots" / "corner_eps.png").read_bytes() == (ref / "plots" / "corner_eps.png").read_bytes()


def test_netcdf_contents_and_convergence(finished_run):
    import pandas as pd

    _, outdir = finished_run
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        import arviz as az
    idata = az.from_netcdf(str(outdir / "posterior.nc"))
    post = idata.posterior
    assert post.sizes["chain"] == 2 and post.sizes["draw"] == 200
    for name in DERIVED_NAMES + ("g_X", "log10_g_X", "y_e", "cos_beta"):
        assert name in post, name
        assert np.all(np.isfinite(np.asarray(post[name])))
    for name in ("diverging", "tree_depth", "energy", "lp", "step_size"):
        assert name in idata.sample_stats
    assert sorted(idata.log_likelihood.data_vars) == ["osc_lma", "unitarity"]
    assert all(np.all(np.asarray(idata.log_likelihood[k]) <= 0.0) for k in ("osc_lma", "unitarity"))
    attrs = idata.posterior.attrs
    assert attrs["seed"] == 3 and len(attrs["config_hash"]) == 16 and attrs["pdg_edition"]
    assert "scenario: B" in attrs["config_yaml"] and "numpyro" in attrs["package_versions"]
    summary = pd.read_csv(outdir / "summary.csv", index_col=0)
    assert summary.loc[["log10_g_X", "y_e"], "r_hat"].max() <= 1.05
    # Eq. (9): cos_beta derived from the fixed r_H = 0.75 at M_Zp = 10 MeV, g_Psi = -1
    assert np.allclose(np.asarray(post["r_H"]), 0.75)


def test_summary_and_plot_commands(finished_run, capsys):
    _, outdir = finished_run
    assert main(["summary", str(outdir)]) == 0
    out = capsys.readouterr().out
    assert "r_hat" in out and "divergences:" in out
    assert sum(("WARNING" in line) or ("diagnostics ok" in line) for line in out.splitlines()) == 1
    assert main(["plot", str(outdir), "--vars", "g_X", "y_e"]) == 0
    assert main(["plot", str(outdir), "--vars", "nope"]) == 2
    assert "unknown quantity 'nope'" in capsys.readouterr().err


def test_existing_output_needs_force(finished_run, capsys):
    path, outdir = finished_run
    assert main(["run", str(path)]) == 2
    assert "output directory exists; use --resume" in capsys.readouterr().err
    assert main(["summary", str(outdir / "missing")]) == 2


def test_support_parametrisation():
    """r_H parametrisation reproduces Eq. (9) and the support flags each violated constraint."""
    import jax.numpy as jnp

    from globalfit.physics.model import ModelOptions, observables
    from globalfit.physics.parameters import complete
    from globalfit.problem.support import constraint_values, cos_beta_from_r_H, in_support

    cb = cos_beta_from_r_H(0.5, 0.02, -0.3, 0.0)
    p = complete({"M_Zp": 0.02, "g_Psi": -0.3, "cos_beta": cb, "y_e": 0.5, "M_H": 400.0, "M_Psi": 1.0})
    assert float(observables(p, "B")["r_H"]) == pytest.approx(0.5, rel=1e-12)
    assert bool(in_support(p, "B"))
    bad = {
        "r_H (Eq. 9)": {"cos_beta": 4 * cb},
        "M_H (LEP / CMS 1405.7570)": {"M_H": 200.0},
        "M_Psi > M_Zp": {"M_Psi": 0.01},
        "|kappa_e|": {"y_e": 3.5, "M_Psi": 0.021, "cos_beta": cb},
    }
    for name, change in bad.items():
        q = complete({**{k: float(v) for k, v in p.items()}, **change})
        vals = constraint_values(q, "B", ModelOptions())
        assert not bool(vals[name].holds), name
        assert not bool(in_support(q, "B"))
    # without y_e, y_mu the LEP bound (90 GeV) applies
    q = complete({**{k: float(v) for k, v in p.items()}, "y_e": 0.0, "y_tau": 0.2, "M_H": 200.0})
    assert bool(in_support(q, "B"))
    assert bool(jnp.isfinite(cb))
