"""The Bayesian (M_Zp, g_X) map (globalfit.outputs.plots.posterior_plane) on synthetic draws with a known answer."""

import arviz as az
import numpy as np
import pytest

from globalfit.problem.config import RunConfig
from globalfit.errors import InputError
from globalfit.outputs.plots import posterior_column, posterior_plane

CFG = RunConfig.model_validate({
    "model": {"scenario": "B"},
    "params": {"M_Zp": {"prior": "log-uniform", "min": 1e-3, "max": 1.0},
               "g_X": {"prior": "log-uniform", "min": 1e-8, "max": 1e-2}, "y_e": 0.3},
})


def _idata(n=20000, seed=1):
    rng = np.random.default_rng(seed)
    lm, lg = rng.uniform(-3, 0, n), rng.uniform(-8, -2, n)
    u = rng.uniform(0.0, 1.0, n)
    # eps = -u g^2/M^2 x 1e6 with u ~ U(0, 1): in every cell the 95 % range is [-0.975, -0.025] x g^2/M^2 x 1e6
    eps = -u * 10.0 ** (2 * lg - 2 * lm + 6)
    post = {"M_Zp": 10.0**lm, "g_X": 10.0**lg, "eps_earth_ee": eps, "eps_earth_mumu": 0.5 * eps, "eps_earth_tautau": 0.0 * eps}
    return az.from_dict(posterior={k: v.reshape(2, -1) for k, v in post.items()})


def test_posterior_plane_quantiles_and_density():
    pp = posterior_plane(_idata(), CFG, "eps_earth_ee", bins=6, min_count=50)
    assert pp["density"].shape == (6, 6) and pp["density"].sum() == pytest.approx(1.0)
    assert np.allclose(pp["density"], 1 / 36, rtol=0.2)  # uniform draws
    assert pp["x_edges"][0] == pytest.approx(-3) and pp["y_edges"][-1] == pytest.approx(-2)
    # cell (iy, ix) spans one unit in log10 g and half a decade in log10 M: its largest |eps| comes from its
    # largest g and smallest M; the 97.5 % quantile of u sits close to 1
    iy, ix = 3, 2
    g_hi, m_lo = pp["y_edges"][iy + 1], pp["x_edges"][ix]
    bound = 10.0 ** (2 * g_hi - 2 * m_lo + 6)
    assert 0.3 * bound < pp["reach"][iy, ix] < bound
    assert np.all(pp["q_hi"][np.isfinite(pp["q_hi"])] < 0)
    # sparse cells give NaN, not a noisy quantile
    sparse = posterior_plane(_idata(n=3000), CFG, "eps_earth_ee", bins=12, min_count=21)
    assert np.isnan(sparse["reach"]).any() and np.isfinite(sparse["reach"]).any()


def test_posterior_column_differences_and_errors():
    idata = _idata(n=100)
    d = posterior_column(idata, CFG, "eps_earth_mumu-tautau")
    np.testing.assert_allclose(d, posterior_column(idata, CFG, "eps_earth_mumu"))
    np.testing.assert_allclose(posterior_column(idata, CFG, "y_e"), 0.3)
    with pytest.raises(InputError, match="unknown quantity 'eps_nope'"):
        posterior_column(idata, CFG, "eps_nope")


def test_triangle_figure_shows_the_draws_when_getdist_cannot_place_contours(monkeypatch):
    """A short run can leave GetDist unable to place a 95 % contour (DensitiesError, seen on a 4 x 20-draw full_B run):
    the figure is still drawn, with the draws in the 2-D panels and a title that says so, never a traceback."""
    from getdist import MCSamples, plots as gdplots
    from getdist.densities import DensitiesError

    from globalfit.outputs.plots import triangle_figure

    real = gdplots.GetDistPlotter.triangle_plot
    calls = []

    def contours_fail(self, *args, **kwargs):
        calls.append(kwargs.get("plot_3d_with_param"))
        if kwargs.get("filled"):
            raise DensitiesError("Contour level outside plotted ranges")
        return real(self, *args, **kwargs)

    monkeypatch.setattr(gdplots.GetDistPlotter, "triangle_plot", contours_fail)
    rng = np.random.default_rng(2)
    s = MCSamples(samples=rng.normal(size=(80, 2)), names=["a", "b"], labels=["a", "b"], settings={"ignore_rows": 0})
    fig = triangle_figure([s], ["a", "b"])
    assert calls == [None, "a"]
    assert "too few for 2-D credible regions" in fig._suptitle.get_text()


def test_diagnostic_plots_draw_at_most_eight_chains_evenly_spaced():
    """An ensemble run's 64 walkers made unreadable trace and rank plots (and a 19 MB trace PDF): they draw 8 chains,
    the first and the last among them, and say so; up to 8 chains every one is drawn."""
    from globalfit.outputs.plots import DIAGNOSTIC_CHAINS, diagnostic_chains

    rng = np.random.default_rng(1)
    idata = az.from_dict(posterior={"x": rng.standard_normal((64, 50))}, sample_stats={"lp": rng.standard_normal((64, 50))})
    shown, title = diagnostic_chains(idata)
    chains = list(shown.posterior["chain"].values)
    assert len(chains) == DIAGNOSTIC_CHAINS == 8 and chains[0] == 0 and chains[-1] == 63
    assert shown.sample_stats.sizes["chain"] == 8
    np.testing.assert_array_equal(shown.posterior["x"].values[3], idata.posterior["x"].values[chains[3]])
    assert title.startswith("chains 0, ") and "of 64" in title
    few = az.from_dict(posterior={"x": rng.standard_normal((4, 50))})
    assert diagnostic_chains(few) == (few, None)


def test_quiet_getdist_drops_its_warnings_and_load_line_but_not_its_errors(capsys, caplog):
    """GetDist's fallback-bandwidth warnings (hundreds per run) and its "Removed no burn in" line stay off the terminal
    of the CLI and of each sweep worker; its errors, and everyone else's warnings, still pass."""
    import logging

    from getdist import MCSamples

    from globalfit.outputs.chains import quiet_getdist

    quiet_getdist()
    quiet_getdist()  # idempotent: one filter
    root = logging.getLogger()
    assert sum(f.__name__ == "_not_a_getdist_warning" for f in root.filters if hasattr(f, "__name__")) == 1
    rng = np.random.default_rng(0)
    x = np.concatenate([np.zeros(990), rng.normal(0, 1e-9, 10)])  # nearly constant: GetDist's bandwidth fallback
    with caplog.at_level(logging.WARNING):
        s = MCSamples(samples=np.column_stack([rng.normal(size=1000), x]), names=["a", "b"], settings={"ignore_rows": 0})
        s.get1DDensity("b")
        logging.warning("not GetDist")
    assert "Removed no burn in" not in capsys.readouterr().out
    assert [r.getMessage() for r in caplog.records] == ["not GetDist"]
    getdist_error = logging.LogRecord("root", logging.ERROR, "/x/getdist/mcsamples.py", 1, "bad", None, None)
    assert all(f(getdist_error) for f in root.filters if callable(f))


def test_quantities_of_both_signs_spanning_decades_are_drawn_as_log10_of_the_modulus():
    """A derived quantity of both signs whose |q| spans many decades (the diagonal eps of a fit with both signs of
    g_Psi) would be a spike at 0 on a linear axis: its column is log10 |q| (label log10|eps|), the figure's title says
    which share of the draws is negative. One of one sign keeps log10_minus_; a uniform angle-like quantity of both
    signs (|q| over 1.6 decades) stays linear."""
    from globalfit.outputs.chains import mcsamples, plot_column
    from globalfit.outputs.plots import sign_shares

    rng = np.random.default_rng(3)
    n = 4000
    lm, lg = rng.uniform(-3, 0, n), rng.uniform(-8, -2, n)
    sign = np.where(np.arange(n) % 4 == 0, -1.0, 1.0)  # 25 % negative
    post = {"M_Zp": 10.0**lm, "g_X": 10.0**lg,
            "eps_earth_ee": sign * 10.0 ** rng.uniform(-12, -2, n),  # both signs, ten decades
            "eps_earth_mumu": -(10.0 ** rng.uniform(-12, -2, n)),  # one sign
            "eps_earth_tautau": rng.uniform(-1.0, 1.0, n)}  # both signs, |q| uniform: linear
    idata = az.from_dict(posterior={k: v.reshape(2, -1) for k, v in post.items()})
    s = mcsamples(idata, CFG)
    assert plot_column(s, "eps_earth_ee") == "log10_abs_eps_earth_ee"
    assert plot_column(s, "eps_earth_mumu") == "log10_minus_eps_earth_mumu"
    assert plot_column(s, "eps_earth_tautau") == "eps_earth_tautau"
    np.testing.assert_allclose(s["log10_abs_eps_earth_ee"], np.log10(np.abs(post["eps_earth_ee"].reshape(2, -1).ravel())))
    label = {p.name: p.label for p in s.paramNames.names}["log10_abs_eps_earth_ee"]
    assert label == r"\log_{10}|\epsilon^\oplus_{ee}|"
    line = sign_shares(s, ["log10_M_Zp", "log10_abs_eps_earth_ee", "log10_minus_eps_earth_mumu"], CFG)
    assert line == r"$\epsilon^\oplus_{ee} < 0$ in 25 % of the draws"
    assert sign_shares(s, ["log10_M_Zp", "eps_earth_tautau"], CFG) is None


def test_compare_titles_each_runs_share_of_negative_draws(tmp_path, monkeypatch):
    """`globalfit plot --compare` of runs where eps_ee takes both signs: the overlay draws log10|eps_ee| and its title
    gives each run's share of negative draws, in the order of the labels."""
    import yaml

    from globalfit.outputs import plots

    rng = np.random.default_rng(5)
    runs = []
    for k, every in enumerate((4, 2)):  # 25 % and 50 % negative
        n = 4000
        sign = np.where(np.arange(n) % every == 0, -1.0, 1.0)
        post = {"M_Zp": 10.0 ** rng.uniform(-3, 0, n), "g_X": 10.0 ** rng.uniform(-8, -2, n),
                "eps_earth_ee": sign * 10.0 ** rng.uniform(-12, -2, n)}
        out = tmp_path / f"run{k}"
        out.mkdir()
        (out / "config.resolved.yaml").write_text(yaml.safe_dump(CFG.model_dump(mode="json")))
        runs.append((out, az.from_dict(posterior={key: v.reshape(2, -1) for key, v in post.items()})))
    seen = {}
    real = plots.triangle_figure

    def record(samples, params, **kw):
        seen.update(params=params, title=kw.get("title"))
        return real(samples, params, **kw)

    monkeypatch.setattr(plots, "triangle_figure", record)
    plots.compare_runs(runs, tmp_path / "cmp", variables=["M_Zp", "eps_earth_ee"], labels=["A", "B"], formats=("png",))
    assert seen["params"] == ["log10_M_Zp", "log10_abs_eps_earth_ee"]
    assert seen["title"] == r"$\epsilon^\oplus_{ee} < 0$ in 25 % (A), 50 % (B) of the draws"
