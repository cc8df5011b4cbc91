"""Figures and the field's formats end to end on one short 3-parameter quickstart run: GetDist chains
(``globalfit export``), the GetDist triangle plot and the overlay of runs (``globalfit plot --compare``), the run
report in a real headless browser, and Cobaya's MCMC on the same posterior against globalfit's NUTS."""

from __future__ import annotations

import math
import re
import shutil
import subprocess
import warnings
from pathlib import Path

import numpy as np
import pytest
import yaml

from globalfit.cli import main
from globalfit.inference.cobaya_interop import cobaya_info, site_prior
from globalfit.outputs.style import tex_label
from globalfit.problem import load_problem
from globalfit.problem.parametrisation import site_of

ROOT = Path(__file__).resolve().parent.parent
LIKELIHOODS = {"osc_lma": None, "unitarity": None, "cosmology": None}  # the quickstart's cheap likelihoods


def quick_config(outdir: Path) -> dict:
    """runs/quickstart.yaml (M_Zp, g_X, y_e sampled) without its CEvNS likelihood and with short chains."""
    cfg = yaml.safe_load((ROOT / "runs" / "quickstart.yaml").read_text())
    cfg["likelihoods"] = dict(LIKELIHOODS)
    cfg["sampler"] = {"chains": 2, "warmup": 200, "draws": 500, "chunk_size": 250, "seed": 7, "target_accept": 0.9}
    cfg["output"] = {"dir": str(outdir)}
    cfg["plots"] = {"corner": ["M_Zp", "g_X", "y_e", "eps_earth_ee"], "plane_eps": "eps_earth_ee", "formats": ["pdf", "png"]}
    return cfg


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    base = tmp_path_factory.mktemp("figures")
    path = base / "quick.yaml"
    path.write_text(yaml.safe_dump(quick_config(base / "out")))
    assert main(["run", str(path)]) == 0
    return path, base / "out"


def _idata(outdir: Path):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        import arviz as az
    return az.from_netcdf(str(outdir / "posterior.nc"))


# --- GetDist -----------------------------------------------------------------------------------------------------

def test_getdist_export_loads_with_ranges_labels_and_posterior(run, capsys):
    from getdist import loadMCSamples

    path, outdir = run
    assert main(["export", str(outdir), "--format", "getdist"]) == 0
    root = outdir / "getdist" / "out"
    for f in ["out_1.txt", "out_2.txt", "out.paramnames", "out.ranges"]:
        assert (outdir / "getdist" / f).is_file(), f
    s = loadMCSamples(str(root), settings={"ignore_rows": 0})
    names = {p.name: p for p in s.paramNames.names}
    # running parameters: the sample sites; derived: physical values, derived quantities, chi2 per likelihood
    # (minuslogprior is constant here: uniform priors on the sites, so it is left out like every constant)
    assert [p.name for p in s.paramNames.names if not p.isDerived] == ["log10_M_Zp", "log10_g_X", "y_e"]
    for d in ["M_Zp", "g_X", "eps_earth_ee", "log10_minus_eps_earth_ee", "chi2", "chi2__osc_lma", "chi2__cosmology"]:
        assert d in names and names[d].isDerived, d
    assert names["log10_M_Zp"].label == r"\log_{10}(M_{Z'}/\mathrm{GeV})"
    # .ranges: the prior box (GetDist corrects densities at these hard edges)
    assert s.ranges.getLower("log10_M_Zp") == pytest.approx(-3.0) and s.ranges.getUpper("log10_M_Zp") == pytest.approx(0.0)
    assert s.ranges.getLower("y_e") == 0.0 and s.ranges.getUpper("y_e") == pytest.approx(3.5)
    assert s.ranges.getLower("M_Zp") == pytest.approx(1e-3)
    # the same draws as posterior.nc; weights 1; second column -ln posterior = -ln prior - ln L (exact)
    idata = _idata(outdir)
    post, ll = idata.posterior, idata.log_likelihood
    assert s.numrows == post.sizes["chain"] * post.sizes["draw"]
    np.testing.assert_allclose(s.weights, 1.0)
    np.testing.assert_allclose(s.mean("y_e"), float(post["y_e"].mean()), rtol=1e-8)
    lnl = sum(np.asarray(ll[n]) for n in ll.data_vars).ravel()
    np.testing.assert_allclose(s["chi2"], -2.0 * lnl, rtol=1e-8, atol=1e-8)
    problem = load_problem(path).exact()
    z = np.column_stack([np.asarray(post[k]).ravel() for k in problem.site_names])[:5]
    np.testing.assert_allclose(s.loglikes[:5], -np.asarray(problem.log_density(z)), rtol=1e-8, atol=1e-8)
    # nothing is overwritten without being asked
    capsys.readouterr()
    assert main(["export", str(outdir), "--format", "getdist"]) == 2
    assert "use --force" in capsys.readouterr().err
    assert main(["export", str(outdir), "--format", "getdist", "--force"]) == 0


def test_triangle_and_plane_figures(run):
    from PIL import Image

    _, outdir = run
    for stem in ["corner", "plane", "trace", "rank"]:
        assert (outdir / "plots" / f"{stem}.pdf").stat().st_size > 2000, stem
        with Image.open(outdir / "plots" / f"{stem}.png") as im:
            assert min(im.size) > 400, stem
    # vector PDF with embedded TrueType text (pdf.fonttype 42), not a raster
    pdf = (outdir / "plots" / "corner.pdf").read_bytes()
    assert b"/FontFile2" in pdf and b"/Subtype /Image" not in pdf


def test_compare_overlays_runs(run, tmp_path, capsys):
    _, outdir = run
    dest = tmp_path / "cmp"
    assert main(["plot", str(outdir), str(outdir), "--compare", "--labels", "run A", "run B", "--out", str(dest)]) == 0
    for f in ["triangle.pdf", "triangle.png", "plane.pdf", "plane.png"]:
        assert (dest / f).stat().st_size > 2000, f
    capsys.readouterr()
    assert main(["plot", str(outdir), str(outdir)]) == 2
    assert "--compare" in capsys.readouterr().err
    assert main(["plot", str(outdir), str(outdir), "--compare", "--vars", "M_Psi"]) == 2
    assert "M_Psi" in capsys.readouterr().err


def test_labels_carry_units():
    assert tex_label("log10_M_Zp") == r"\log_{10}(M_{Z'}/\mathrm{GeV})"
    assert tex_label("M_H") == r"M_{H^-}\;[\mathrm{GeV}]"
    assert tex_label("log10_g_X") == r"\log_{10} g_X"
    assert tex_label("chi2__osc_lma") == r"\chi^2_{\mathrm{osc\_lma}}"


def test_every_site_label_is_valid_mathtext():
    """Each sample site's axis label renders (a signed site once produced a double subscript and crashed the plots)."""
    from matplotlib.mathtext import MathTextParser

    parser = MathTextParser("path")
    for config in ("full_B", "full_BmL", "full_L", "lma_dark_B", "quickstart"):
        problem = load_problem(ROOT / "runs" / f"{config}.yaml")
        for site in problem.site_names:
            parser.parse(f"${tex_label(site, problem.cfg)}$")
            parser.parse(f"${tex_label(site)}$")  # without the config (no prior range at hand)


# --- the report in a headless browser ----------------------------------------------------------------------------

def _browser() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable"):
        if shutil.which(name):
            return shutil.which(name)
    return None


CHROME_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", "--hide-scrollbars"]

# appended to a copy of the page: after load, write how many images failed to decode into the DOM
_PROBE = """<script>window.addEventListener('load', function () {
  var imgs = Array.prototype.slice.call(document.images);
  var broken = imgs.filter(function (i) { return !(i.complete && i.naturalWidth > 0); }).length;
  var p = document.createElement('p'); p.id = 'probe'; p.textContent = 'IMAGES ' + imgs.length + ' BROKEN ' + broken;
  document.body.appendChild(p);
});</script>"""


def test_report_renders_in_headless_chromium(run, tmp_path):
    from PIL import Image

    _, outdir = run
    page = outdir / "report.html"
    text = page.read_text()
    assert "Diagnostics" in text and "Where each likelihood bites" in text and "dominant constraint" in text
    assert 'src="data:image/png;base64,' in text and "src=\"http" not in text  # self-contained
    for stem in ["dominance", "likelihoods"]:  # the report's own figures, also kept as files
        assert (outdir / "plots" / f"{stem}.pdf").is_file() and (outdir / "plots" / f"{stem}.png").is_file(), stem
    browser = _browser()
    if browser is None:
        pytest.skip("no headless browser (chromium) on this machine; .ci/run installs Debian's chromium")
    profile = tmp_path / "profile"
    probe = tmp_path / "probe.html"
    probe.write_text(text.replace("</body>", _PROBE + "</body>"))
    dom = subprocess.run([browser, *CHROME_FLAGS, f"--user-data-dir={profile}", "--virtual-time-budget=10000", "--dump-dom",
                          probe.as_uri()], capture_output=True, text=True, timeout=120)
    found = re.search(r'id="probe">IMAGES (\d+) BROKEN (\d+)<', dom.stdout)
    assert found, dom.stderr[-2000:]
    n_images, n_broken = int(found.group(1)), int(found.group(2))
    assert n_images >= 4 and n_broken == 0, found.group(0)
    shot = tmp_path / "shot.png"
    subprocess.run([browser, *CHROME_FLAGS, f"--user-data-dir={profile}", "--window-size=1200,2400", f"--screenshot={shot}",
                    page.as_uri()], capture_output=True, text=True, timeout=120)
    with Image.open(shot) as im:
        rgb = np.asarray(im.convert("RGB"), dtype=float)
    assert rgb.shape[0] >= 2000 and rgb.shape[1] >= 1100
    # rendered, not blank: text and figures give many colours and dark pixels
    assert len(np.unique(rgb.reshape(-1, 3)[::37], axis=0)) > 50
    assert (rgb.mean(axis=-1) < 100).mean() > 0.002


def test_report_figures_follow_plots_formats(run, tmp_path, capsys):
    """`globalfit report` of a run whose plots.formats is [png] keeps its own two figures as PNG only, as every figure."""
    import shutil

    _, outdir = run
    copy = tmp_path / "png_only"
    shutil.copytree(outdir, copy)
    shutil.rmtree(copy / "plots")
    resolved = yaml.safe_load((copy / "config.resolved.yaml").read_text())
    resolved["plots"]["formats"] = ["png"]
    (copy / "config.resolved.yaml").write_text(yaml.safe_dump(resolved))
    assert main(["report", str(copy)]) == 0
    assert sorted(f.name for f in (copy / "plots").iterdir()) == ["dominance.png", "likelihoods.png"]
    capsys.readouterr()


# --- Cobaya --------------------------------------------------------------------------------------------------------

def test_site_priors_for_cobaya():
    from globalfit.problem.config import ParamSpec

    lu = site_of("g_X", ParamSpec(prior="log-uniform", min=1e-8, max=1e-2))
    assert site_prior(lu) == {"min": pytest.approx(-8.0), "max": pytest.approx(-2.0)}
    hn = site_of("y_e", ParamSpec(prior="half-normal", scale=0.5, max=2.0))
    p = site_prior(hn)
    assert p["dist"] == "truncnorm" and p["a"] == 0.0 and p["b"] == pytest.approx(4.0) and p["scale"] == 0.5
    n = site_of("phi_mu", ParamSpec(prior="normal", loc=0.0, scale=1.0))
    assert site_prior(n) == {"dist": "norm", "loc": 0.0, "scale": 1.0}


def test_cobaya_yaml_of_a_config(tmp_path, capsys):
    out = tmp_path / "qs.cobaya.yaml"
    assert main(["cobaya", str(ROOT / "runs" / "quickstart.yaml"), "-o", str(out)]) == 0
    info = yaml.safe_load(out.read_text())
    assert set(info["likelihood"]) == {"osc_lma", "unitarity", "cevns_coherent_csi", "cosmology"}
    assert info["params"]["log10_M_Zp"]["prior"] == {"min": pytest.approx(-3.0), "max": pytest.approx(0.0)}
    assert info["params"]["M_Zp"]["derived"] is True and "eps_earth_ee" in info["params"]
    assert info["theory"]["globalfit"]["config"] == str((ROOT / "runs" / "quickstart.yaml").resolve())
    capsys.readouterr()
    assert main(["cobaya", str(ROOT / "runs" / "quickstart.yaml"), "-o", str(out)]) == 2


def _mcse(x: np.ndarray, what: str, prob: float | None = None) -> float:
    """Monte Carlo standard error (ArviZ, Vehtari et al. 2021) of a mean or a quantile of chains ``x`` (chain, draw)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import arviz as az

        return float(az.mcse(x, method=what, prob=prob)) if prob is not None else float(az.mcse(x, method=what))


def test_cobaya_mcmc_agrees_with_nuts(run):
    """Cobaya's Metropolis sampler on the run's posterior (sample sites, the same priors and exact likelihoods)
    reproduces NUTS's mean and 68 % interval of every sampled parameter within 4 combined Monte Carlo errors."""
    pytest.importorskip("cobaya")
    from cobaya import run as cobaya_run

    path, outdir = run
    problem = load_problem(path)
    info = cobaya_info(problem, path, sampler={"mcmc": {"Rminus1_stop": 0.01, "max_samples": 6000, "seed": 11, "burn_in": 0}})
    info["stop_at_error"] = True
    _, sampler = cobaya_run(info)
    table = sampler.products()["sample"]
    w = np.asarray(table["weight"], dtype=int)
    post = _idata(outdir).posterior
    for site in problem.site_names:
        nuts = np.asarray(post[site], dtype=float)
        cob = np.repeat(np.asarray(table[site], dtype=float), w)[None, :]  # the Markov chain, repeats restored
        for stat, prob in (("mean", None), ("quantile", 0.16), ("quantile", 0.84)):
            a = nuts.mean() if prob is None else np.quantile(nuts, prob)
            b = cob.mean() if prob is None else np.quantile(cob, prob)
            err = math.hypot(_mcse(nuts, stat, prob), _mcse(cob, stat, prob))
            assert abs(a - b) < 4.0 * err, (site, stat, prob, a, b, err)
