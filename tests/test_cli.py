"""The command-line interface: JSON schema, human output, bad-input messages (no traceback)."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from globalfit.cli import main
from globalfit.physics.model import DERIVED_NAMES

ROOT = Path(__file__).resolve().parent.parent


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


REQUIRED = (
    ["kappa_e", "kappa_mu", "kappa_tau"]
    + [f"eps_{f}_{ab}" for f in "ude" for ab in ("ee", "mumu", "tautau")]
    + [f"eps_earth_{ab}" for ab in ("ee", "mumu", "tautau")]
    + ["abs_eps_earth_emu", "abs_eps_earth_etau", "abs_eps_earth_mutau"]
    + ["br_mu_e_gamma", "br_tau_e_gamma", "br_tau_mu_gamma", "br_mu_e_Zp", "br_tau_e_Zp", "br_tau_mu_Zp", "width_Zp"]
)


def test_json_schema(capsys):
    code, out, _ = run(capsys, "evaluate", "--scenario", "B", "--set", "y_e=0.5", "--set", "y_tau=0.2", "--json")
    assert code == 0
    obj = json.loads(out)
    assert set(obj) == {"scenario", "parameters", "derived", "loglike", "total", "total_sm", "delta_chi2_vs_sm"}
    assert obj["scenario"] == "B"
    assert obj["parameters"]["y_e"] == 0.5 and obj["parameters"]["phi_mu"] == 0.0
    for name in REQUIRED:
        assert name in obj["derived"] and isinstance(obj["derived"][name], float)
    assert set(obj["derived"]) == set(DERIVED_NAMES)
    assert isinstance(obj["loglike"], dict)
    assert obj["total"] == pytest.approx(sum(obj["loglike"].values()))
    assert obj["delta_chi2_vs_sm"] == pytest.approx(-2 * (obj["total"] - obj["total_sm"]))


def test_config_file_and_override(capsys):
    code, out, _ = run(capsys, "evaluate", str(ROOT / "runs" / "benchmark_B.yaml"), "--set", "M_Zp=0.02", "--json")
    assert code == 0
    obj = json.loads(out)
    assert obj["parameters"]["M_Zp"] == 0.02 and obj["parameters"]["y_e"] == 0.3
    assert obj["derived"]["eps_u_ee"] < 0  # g_Psi g_B < 0


def test_human_output(capsys):
    code, out, _ = run(capsys, "evaluate", "--scenario", "B-L", "--set", "y_tau=1")
    assert code == 0
    assert "scenario: B-L" in out and "eps_earth_tautau" in out and "total" in out


@pytest.mark.parametrize(
    "argv,needle",
    [
        (["--scenario", "Q", "--set", "M_Zp=0.1"], "unknown scenario"),
        (["--scenario", "B", "--set", "M_zp=0.1"], "unknown parameter 'M_zp' (did you mean 'M_Zp'?)"),
        (["--scenario", "B", "--set", "M_Zp=abc"], "'abc' of M_Zp is not a number"),
        (["--scenario", "B", "--set", "M_Zp=-0.1"], "M_Zp=-0.1 must be > 0"),
        (["--scenario", "B", "--set", "M_Psi=0"], "M_Psi=0 must be > 0"),
        (["--scenario", "B", "--set", "M_Zp"], "expected NAME=VALUE"),
        (["--scenario", "B", "--set", "cos_beta=2"], "cos_beta=2 outside"),
        (["--scenario", "B-3Ltau", "--set", "y_e=1", "--set", "y_tau=1"], "different U(1)' charge"),
        ([], "no scenario"),
        (["/nonexistent/file.yaml"], "file not found"),
    ],
)
def test_bad_input(capsys, argv, needle):
    code, out, err = run(capsys, "evaluate", *argv)
    assert code != 0
    assert needle in err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1


def test_console_script_and_module_entry_point(tmp_path):
    """``python -m globalfit``: a U(1)_L config with one cheap likelihood (every likelihood of each scenario is
    evaluated in-process elsewhere: test_shipped_configs.py, test_likelihoods_generic.py)."""
    config = tmp_path / "L.yaml"
    config.write_text("model: {scenario: L}\nlikelihoods: {unitarity: null}\n")
    r = subprocess.run([sys.executable, "-m", "globalfit", "evaluate", str(config), "--json"], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert out["scenario"] == "L" and set(out["loglike"]) == {"unitarity"}
    r = subprocess.run([sys.executable, "-m", "globalfit", "evaluate", "--scenario", "L", "--set", "g_X=x"], capture_output=True, text=True)
    assert r.returncode == 2 and "Traceback" not in r.stderr and "not a number" in r.stderr
