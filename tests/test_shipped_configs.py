"""Every shipped run config goes through `globalfit evaluate` and `globalfit run --dry-run` (the FitProblem's start
point), so that a new or edited config can never break them silently."""

import json
import math
from pathlib import Path

import pytest

from globalfit.cli import main
from globalfit.problem.config import load_config

ROOT = Path(__file__).resolve().parent.parent
CONFIGS = sorted((ROOT / "runs").rglob("*.yaml"))


@pytest.mark.parametrize("config", CONFIGS, ids=[str(c.relative_to(ROOT / "runs")) for c in CONFIGS])
def test_evaluate_and_dry_run(config, capsys):
    assert main(["evaluate", str(config), "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["loglike"] and math.isfinite(result["total"])
    assert all(math.isfinite(v) for v in result["derived"].values())
    if load_config(config).output is None:  # a point config (globalfit evaluate): run refuses it
        assert main(["run", str(config), "--dry-run"]) == 2
        assert "output: required key is missing" in capsys.readouterr().err
        return
    assert main(["run", str(config), "--dry-run"]) == 0
    out = capsys.readouterr().out
    lines = {ln.split()[0]: ln.split() for ln in out.splitlines() if ln.strip()}
    total = float(lines["total"][1])
    delta_sm = float(lines["-2"][6])  # "-2 Delta ln L vs SM <value>"
    if "(none: the run samples the prior)" in out:  # evaluate then uses every likelihood that applies
        assert total == 0.0 and delta_sm == 0.0
    else:
        assert total == pytest.approx(result["total"], rel=1e-5, abs=1e-6)  # one start point (printed to 6 digits)
        assert delta_sm == pytest.approx(result["delta_chi2_vs_sm"], rel=1e-5, abs=1e-5)


def test_evaluate_config_with_r_H_and_set(capsys):
    """The defect of issue 9: a config that samples r_H evaluates at its start, and --set overrides it."""
    cfg = str(ROOT / "runs" / "quickstart.yaml")
    assert main(["evaluate", cfg, "--set", "r_H=0.5", "--json"]) == 0
    half = json.loads(capsys.readouterr().out)
    assert main(["evaluate", cfg, "--json"]) == 0
    start = json.loads(capsys.readouterr().out)
    assert half["parameters"]["cos_beta"] == pytest.approx(start["parameters"]["cos_beta"] * 0.5 / 0.75, rel=1e-12)
    assert main(["evaluate", cfg, "--set", "r_H=1.5"]) == 2
    assert "r_H" in capsys.readouterr().err
    assert main(["evaluate", cfg, "--set", "g_X=1e-5", "--set", "g_X=2e-5"]) == 2
    assert "set twice" in capsys.readouterr().err
    assert main(["evaluate", cfg, "--set", "g_X=nan"]) == 2
    assert "finite" in capsys.readouterr().err
