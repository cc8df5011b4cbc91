"""Every kind of bad run config a user can write is one line naming the file, the key path and what was expected
(issue 14): unreadable files, malformed YAML, wrong block shapes, non-finite or unphysical numbers, priors that
cannot be normalised, supports that are provably empty, resources this machine does not have."""

import math
from pathlib import Path

import jax
import pytest
import yaml

from globalfit.cli import main
from globalfit.errors import InputError
from globalfit.inference.evidence import apply_prior_overrides
from globalfit.inference.nuts import check_resources
from globalfit.problem import load_problem
from globalfit.problem.config import load_config

BASE = {
    "model": {"scenario": "B"},
    "params": {
        "M_Zp": {"prior": "log-uniform", "min": 1.0e-3, "max": 1.0, "ref": 0.01},
        "g_X": {"prior": "log-uniform", "min": 1.0e-8, "max": 1.0e-2},
        "y_e": {"prior": "uniform", "min": 0.0, "max": 3.5, "ref": 0.3},
        "g_Psi": -1.0, "M_Psi": 5.0, "M_H": 400.0, "r_H": 0.75, "y_mu": 0.0, "y_tau": 0.0,
    },
    "sampler": {"chains": 2, "warmup": 10, "draws": 10},
    "output": {"dir": "out/hardening"},
}


def cfg(**changes):
    """BASE with dotted-path changes, e.g. cfg(**{"params.M_Psi": 0}); None deletes."""
    d = yaml.safe_load(yaml.safe_dump(BASE))
    for key, value in changes.items():
        node, *path = key.split(".")
        parent, last = d, node
        for k in path:
            parent = parent.setdefault(last, {})
            last = k
        if value is None:
            parent.pop(last, None)
        else:
            parent[last] = value
    return yaml.safe_dump(d)


GOOD_TEXT = cfg()
BOMB = "a: &a [1,2,3,4,5,6,7,8,9,10]\n" + "".join(
    f"{n}: &{n} [{', '.join([f'*{p}'] * 10)}]\n" for p, n in zip("abcde", "bcdef")) + "model: {scenario: B}\n"

# (label, file content: str (YAML text) or bytes, fragment of the one-line error)
CASES = [
    ("latin-1 byte", GOOD_TEXT.replace("scenario: B", "scenario: B # caf\xe9").encode("latin-1"), "not valid UTF-8: byte 0xe9 at line 2"),
    ("random bytes", bytes(range(256)), "not valid UTF-8"),
    ("NUL character", GOOD_TEXT + "\x00\n", "is not allowed in a YAML file"),
    ("duplicated key", GOOD_TEXT.replace("  M_H: 400.0\n", "  M_H: 400.0\n  M_H: 500.0\n"), "duplicated key 'M_H' (first given at line"),
    ("nested too deep", "model: " + "[" * 40 + "]" * 40 + "\n", "nested more than 32 levels deep"),
    ("nested beyond the parser", "model: " + "[" * 1000 + "]" * 1000 + "\n", "nested too deeply"),
    ("alias bomb", BOMB, "more than 100000 values"),
    ("base empty", cfg(base=""), "base: expected the file name of another run config"),
    ("base is a directory", cfg(base="."), "base: .: is a directory"),
    ("params a string", cfg(params="abc", priors="B"), "params: expected a mapping (indented key: value lines), got str"),
    ("params a list", cfg(params=[1, 2], priors="B"), "params: expected a mapping"),
    ("params an integer", cfg(params=3), "params: expected a mapping"),
    ("sampler a string", cfg(sampler="fast"), "sampler: expected a mapping"),
    ("prior set path", cfg(priors="../secret"), "priors: expected the name of a prior set"),
    ("min 1e400", GOOD_TEXT.replace("min: 1.0e-08", "min: 1e400"), "params.g_X.min: expected a finite number, got '1e400'"),
    ("max inf", cfg(**{"params.y_e.max": float("inf")}), "params.y_e.max: expected a finite number, got inf"),
    ("value nan", cfg(**{"params.M_H": float("nan")}), "params.M_H.value: expected a finite number, got nan"),
    ("loc nan", cfg(**{"params.M_Psi": {"prior": "normal", "loc": float("nan"), "scale": 1.0, "min": 2.0, "max": 9.0}}), "params.M_Psi.loc: expected a finite number"),
    ("scale inf", cfg(**{"params.M_Psi": {"prior": "normal", "loc": 5.0, "scale": float("inf"), "min": 2.0, "max": 9.0}}), "params.M_Psi.scale: expected a finite number"),
    ("ref -inf", cfg(**{"params.y_e.ref": float("-inf")}), "params.y_e.ref: expected a finite number"),
    ("Y_n inf", cfg(**{"model.Y_n": float("inf")}), "model.Y_n: expected a finite number, got inf"),
    ("soften_chi2 nan", cfg(**{"sampler.soften_chi2": float("nan")}), "sampler.soften_chi2: expected a finite number"),
    ("boolean as a count", cfg(**{"sampler.chains": True}), "sampler.chains: expected a number, got true"),
    ("boolean as a value", cfg(**{"params.g_Psi": True}), "params.g_Psi: expected a number (fixed) or a mapping"),
    ("log-normal loc overflows", cfg(**{"params.M_Psi": {"prior": "log-normal", "loc": 1000.0, "scale": 1.0}}), "exp(loc) overflows float64"),
    ("M_Psi zero", cfg(**{"params.M_Psi": 0}), "params.M_Psi: 0 GeV is outside the physical range of the Psi mass"),
    ("M_Psi below every M_Zp", cfg(**{"params.M_Psi": 1e-6}), "every M_Psi (at most 1e-06 GeV) lies below every M_Zp"),
    ("M_Zp negative range", cfg(**{"params.M_Zp": {"prior": "uniform", "min": -1.0, "max": 1.0}}), "reaches M_Zp = -1 GeV, outside the physical range"),
    ("M_Zp normal tail", cfg(**{"params.M_Zp": {"prior": "normal", "loc": 0.01, "scale": 0.001}}), "an untruncated normal tail reaches loc +- 37.5 scale"),
    ("M_Zp above Planck", cfg(**{"params.M_Zp": 1e30}), "to the Planck mass 1.221e+19 GeV (CODATA)"),
    ("M_Zp below the verified domain", cfg(**{"params.M_Zp": 1e-13}), "from 1e-12 GeV (the domain where every likelihood"),
    ("g_X above perturbativity", cfg(**{"params.g_X": {"prior": "log-uniform", "min": 1e-3, "max": 10.0}}), "sqrt(4 pi) = 3.5449 (the perturbative region)"),
    ("y negative", cfg(**{"params.y_mu": -0.1}), "0 <= |y| <= sqrt(4 pi)"),
    ("g_X below its smallest non-zero value", cfg(**{"params.g_X.min": 1e-60}), "a non-zero g_X at least 1e-50"),
    ("g_Psi = g_l with r_H", cfg(**{"params.g_Psi": 0}), "H' then carries no U(1)' charge"),
    ("cos beta above 1 everywhere", cfg(**{"params.g_Psi": -1e-6, "params.r_H": 1.0, "params.M_Zp": 1.0}), "cos(beta) = r_H M_Zp/(|g_Psi - g_l| v) exceeds 1 everywhere"),
    ("kappa above 1 everywhere", cfg(**{"params.g_Psi": -1e-3, "params.M_Psi": 0.02, "params.M_Zp": 0.01, "params.r_H": 1.0, "params.y_e": 3.0}), "|kappa_e| = |y_e| v cos(beta)/(sqrt2 M_Psi) >= 1 everywhere"),
    ("r_H above 1 everywhere (cut)", cfg(**{"model.constraints": "cut", "params.r_H": None, "params.cos_beta": {"prior": "uniform", "min": 0.5, "max": 1.0}}), "r_H = |g_Psi - g_l| v cos(beta)/M_Zp exceeds 1 everywhere"),
    ("fixed value with bounds", cfg(**{"params.g_Psi": {"value": -1.0, "min": -2.0}}), "a fixed parameter takes only 'value'"),
    ("loc on a uniform prior", cfg(**{"params.y_e.loc": 1.0}), "'loc' does not apply to a uniform prior"),
    ("loc on a half-normal prior", cfg(**{"params.y_e": {"prior": "half-normal", "scale": 1.0, "loc": 1.0, "max": 3.0}}), "'loc' does not apply to a half-normal prior"),
    ("truncation far in the tail", cfg(**{"params.M_Psi": {"prior": "normal", "loc": 2.0, "scale": 0.1, "min": 5.0, "max": 9.0}}), "cannot be normalised accurately"),
    ("flavour twice", cfg(**{"model.psi_flavours": ["e", "e"]}), "model.psi_flavours: flavour listed twice"),
    ("seed beyond int64", cfg(**{"sampler.seed": 2**70}), "sampler.seed: Input should be less than or equal to 9223372036854775807"),
    ("draws as text", cfg(**{"sampler.draws": "many"}), "sampler.draws: Input should be a valid integer"),
    ("output dir empty", cfg(**{"output.dir": " "}), "output.dir: empty"),
    ("unknown device", cfg(**{"sampler.device": "gpuu"}), "sampler.device: Input should be 'cpu' or 'gpu', got 'gpuu' (did you mean 'gpu'?)"),
    ("two problems", cfg(**{"sampler.chains": 0, "sampler.draws": 0}), "sampler.chains: Input should be greater than or equal to 1, got 0 (and 1 more problem in this file)"),
    ("1e9 chains", cfg(**{"sampler.chains": 10**9}), "more than this machine's"),
    ("1e30 draws", cfg(**{"sampler.draws": 10**30}), "more than this machine's"),
    ("draws 1e30 as YAML text", GOOD_TEXT.replace("draws: 10", "draws: 1.0e+30"), "more than this machine's"),
    ("warm-up of ages", cfg(**{"sampler.warmup": 10**14}), "years even at 1000 times the 1073 gradient evaluations/s"),
]


@pytest.mark.parametrize("label,content,fragment", CASES, ids=[c[0] for c in CASES])
def test_rejected_with_one_line(tmp_path, capsys, label, content, fragment):
    path = tmp_path / "bad.yaml"
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content)
    assert main(["run", str(path), "--dry-run"]) == 2
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"globalfit: error: {path}"), err
    assert fragment in err, err


def test_a_directory_instead_of_a_file(tmp_path, capsys):
    d = tmp_path / "run.yaml"
    d.mkdir()
    assert main(["run", str(d), "--dry-run"]) == 2
    assert f"globalfit: error: {d}: is a directory; expected a YAML run config file" in capsys.readouterr().err


def test_not_a_small_regular_file(tmp_path, capsys):
    big = tmp_path / "big.yaml"
    big.write_text("# padding\n" * 120_000)
    assert main(["run", str(big), "--dry-run"]) == 2
    assert "MiB; a run config is a small text file (at most 1 MiB)" in capsys.readouterr().err
    if Path("/dev/zero").exists():
        assert main(["run", "/dev/zero", "--dry-run"]) == 2
        assert "/dev/zero: not a regular file" in capsys.readouterr().err


def test_base_must_name_a_readable_file(tmp_path, capsys):
    (tmp_path / "sub").mkdir()
    for base, fragment in (("sub", "base: sub: is a directory"), ("nowhere.yaml", "base: nowhere.yaml: file not found")):
        (tmp_path / "child.yaml").write_text(yaml.safe_dump({"base": base}))
        assert main(["run", str(tmp_path / "child.yaml"), "--dry-run"]) == 2
        assert fragment in capsys.readouterr().err


@pytest.mark.skipif(any(d.platform == "gpu" for d in jax.devices()), reason="a GPU is present")
def test_an_absent_device_is_an_error_not_a_fallback(tmp_path, capsys):
    path = tmp_path / "gpu.yaml"
    path.write_text(cfg(**{"sampler.device": "gpu"}))
    assert main(["run", str(path), "--dry-run"]) == 2
    assert "sampler.device: 'gpu' requested but JAX sees no such device (cpu only)" in capsys.readouterr().err


def test_large_runs_are_warned_with_the_estimate(tmp_path):
    path = tmp_path / "long.yaml"
    path.write_text(cfg(**{"sampler.warmup": 10**8}))
    warnings = check_resources(load_problem(path), tmp_path)
    assert len(warnings) == 1 and "transitions per chain: at least 1.08 days at the 1073 gradient evaluations/s" in warnings[0]


def test_accepted_config_is_finite_and_physical(tmp_path):
    path = tmp_path / "good.yaml"
    path.write_text(GOOD_TEXT.replace("draws: 10", "draws: 1e4"))  # PyYAML reads 1e4 as text: still a count
    c = load_config(path)
    assert c.sampler.draws == 10_000
    assert all(math.isfinite(v) for s in c.param_specs().values() for v in s.model_dump().values() if isinstance(v, float))


def test_prior_overrides_are_validated_like_the_file(tmp_path):
    path = tmp_path / "good.yaml"
    path.write_text(GOOD_TEXT)
    c = load_config(path)
    for item, fragment in (("g_X.min=inf", "finite"), ("g_X.max=10", "perturbative region"), ("M_Zp.min=-1", "log-uniform prior needs min > 0")):
        with pytest.raises(InputError, match=fragment):
            apply_prior_overrides(c, [item], str(path))
    assert apply_prior_overrides(c, ["g_X.min=1e-9"], str(path)).params["g_X"].min == 1e-9
