"""Run-config validation: each broken config gives one clear line and exit code 2, never a traceback."""

from pathlib import Path

import pytest
import yaml

from globalfit.cli import main
from globalfit.inference.nuts import nuts_kernel
from globalfit.problem import load_problem
from globalfit.problem.config import config_hash, load_config

ROOT = Path(__file__).resolve().parent.parent

GOOD = {
    "model": {"scenario": "B"},
    "params": {"g_X": {"prior": "log-uniform", "min": 1e-8, "max": 1e-2, "ref": 1e-5}, "M_Zp": 0.01, "r_H": 0.5, "g_Psi": -0.5},
    "likelihoods": {"zp_baryonic_pi0": None},
    "sampler": {"chains": 1, "warmup": 10, "draws": 10},
    "output": {"dir": "out/x"},
}


def _with(path, value):
    cfg = yaml.safe_load(yaml.safe_dump(GOOD))
    node = cfg
    for k in path[:-1]:
        node = node[k]
    if value is _DELETE:
        del node[path[-1]]
    else:
        node[path[-1]] = value
    return cfg


_DELETE = object()

BROKEN = [
    ("missing block", _with(("model",), _DELETE), "model: required key is missing"),
    ("unknown key", _with(("sampler", "chians"), 2), "sampler.chians: unknown key (did you mean 'chains'?)"),
    ("wrong type", _with(("sampler", "chains"), "four"), "sampler.chains"),
    ("dense_mass not a flag", _with(("sampler", "dense_mass"), [1]), "sampler.dense_mass"),
    ("bounds reversed", _with(("params", "g_X"), {"prior": "log-uniform", "min": 1e-2, "max": 1e-8}), "prior bounds reversed"),
    ("unknown likelihood", _with(("likelihoods",), {"zp_baryonic_pio": None}), "likelihoods.zp_baryonic_pio: unknown likelihood (did you mean 'zp_baryonic_pi0'?)"),
    ("unknown scenario", _with(("model", "scenario"), "B-L_tau"), "unknown scenario 'B-L_tau'"),
    ("unknown parameter", _with(("params", "gX"), 1e-5), "unknown parameter 'gX' (did you mean 'g_X'?)"),
    ("unknown prior", _with(("params", "g_X"), {"prior": "flat", "min": 0, "max": 1}), "params.g_X.prior"),
    ("cos_beta sampled", _with(("params", "cos_beta"), {"prior": "uniform", "min": 0, "max": 1e-3}), "give a prior to r_H"),
    ("r_H out of range", _with(("params", "r_H"), {"prior": "uniform", "min": 0.0, "max": 2.0}), "params.r_H: must lie in (0, 1]"),
    # M_H below 275 GeV is excluded only when y_e or y_mu != 0 (CMS arXiv:1405.7570)
    ("M_H below CMS", _with(("params",), {**GOOD["params"], "y_e": 0.3, "M_H": {"prior": "uniform", "min": 100.0, "max": 1e3}}), "below 275 GeV, the CMS bound"),
    ("non-perturbative", _with(("params", "g_Psi"), {"prior": "uniform", "min": -5.0, "max": 1.0}), "perturbative region"),
    ("unknown plane eps", _with(("plots",), {"plane_eps": "eps_uee"}), "plots.plane_eps: unknown NSI quantity"),
    ("not a mapping", "just a string", "expected a mapping of blocks"),
    # the quark reading's n_q/n_e = 3 holds for Y_n = 1 only: another Y_n needs it set (not silently inconsistent)
    ("Y_n without n_q/n_e", _with(("model",), {"scenario": "B", "Y_n": 1.05}) | {"likelihoods": {"osc_lma": None}},
     "likelihoods.osc_lma.n_q_over_n_e: model.Y_n is 1.05"),
    ("Y_n without n_d/n_e", _with(("model",), {"scenario": "B", "Y_n": 1.05}) | {"likelihoods": {"osc_icecube_mutau": None}},
     "likelihoods.osc_icecube_mutau.n_d_over_n_e: model.Y_n is 1.05"),
]


@pytest.mark.parametrize("label,cfg,fragment", BROKEN, ids=[b[0] for b in BROKEN])
def test_broken_config_one_clear_line(tmp_path, capsys, label, cfg, fragment):
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(cfg) if not isinstance(cfg, str) else cfg + "\n")
    code = main(["run", str(path), "--dry-run"])
    out, err = capsys.readouterr()
    assert code == 2
    assert "Traceback" not in err + out
    first = err.strip().splitlines()[0]
    assert first.startswith("globalfit: error: ") and str(path) in first
    assert fragment in err, err


def test_good_config_dry_run(tmp_path, capsys):
    path = tmp_path / "good.yaml"
    path.write_text(yaml.safe_dump(GOOD))
    assert main(["run", str(path), "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "zp_baryonic_pi0" in out and "log L at the start point" in out and "cos_beta" in out


def test_hash_ignores_draws_and_output(tmp_path):
    a = tmp_path / "a.yaml"
    a.write_text(yaml.safe_dump(GOOD))
    b = tmp_path / "b.yaml"
    b.write_text(yaml.safe_dump(_with(("sampler", "draws"), 99) | {"output": {"dir": "elsewhere"}}))
    c = tmp_path / "c.yaml"
    c.write_text(yaml.safe_dump(_with(("sampler", "seed"), 7)))
    assert config_hash(load_config(a)) == config_hash(load_config(b)) != config_hash(load_config(c))
    # sampler.metropolis_adapt counts only where sampler.metropolis names sites
    d = tmp_path / "d.yaml"
    d.write_text(yaml.safe_dump(_with(("sampler", "metropolis_adapt"), False)))
    assert config_hash(load_config(d)) == config_hash(load_config(a))
    e, f = tmp_path / "e.yaml", tmp_path / "f.yaml"
    with_sites = _with(("sampler", "metropolis"), ["M_Zp"])
    e.write_text(yaml.safe_dump(with_sites))
    f.write_text(yaml.safe_dump(with_sites | {"sampler": with_sites["sampler"] | {"metropolis_adapt": False}}))
    assert config_hash(load_config(e)) != config_hash(load_config(f))
    # sampler.metropolis_independence likewise, and its default 0 leaves the hash of earlier runs as it was
    g, h = tmp_path / "g.yaml", tmp_path / "h.yaml"
    g.write_text(yaml.safe_dump(_with(("sampler", "metropolis_independence"), 0.5)))
    assert config_hash(load_config(g)) == config_hash(load_config(a))
    h.write_text(yaml.safe_dump(with_sites | {"sampler": with_sites["sampler"] | {"metropolis_independence": 0.5}}))
    assert config_hash(load_config(h)) != config_hash(load_config(e))
    h.write_text(yaml.safe_dump(with_sites | {"sampler": with_sites["sampler"] | {"metropolis_independence": 0.0}}))
    assert config_hash(load_config(h)) == config_hash(load_config(e))


def test_sampler_keys_reach_the_kernel(tmp_path):
    """`sampler.max_tree_depth` and `sampler.dense_mass` configure the NUTS kernel (diagonal mass matrix by default)."""
    path = tmp_path / "s.yaml"
    path.write_text(yaml.safe_dump(GOOD))
    kernel = nuts_kernel(load_problem(path))
    assert kernel._dense_mass == [] and kernel._max_tree_depth == 10  # no dense block: diagonal
    path.write_text(yaml.safe_dump(_with(("sampler",), {**GOOD["sampler"], "dense_mass": True, "max_tree_depth": 7})))
    problem = load_problem(path)
    kernel = nuts_kernel(problem)
    assert kernel._dense_mass == [tuple(sorted(problem.site_names))] and kernel._max_tree_depth == 7  # one dense block


@pytest.mark.parametrize("name", sorted(str(p.relative_to(ROOT / "runs")) for p in (ROOT / "runs").rglob("*.yaml")))
def test_shipped_runs_validate(name, capsys):
    """Every shipped run config (with its prior set) passes validation and the support checks."""
    from globalfit.problem.support import check_config, check_plots

    cfg = load_config(ROOT / "runs" / name)
    check_config(cfg, name)
    check_plots(cfg, name)


def test_base_config_merge(tmp_path, capsys):
    """`base:` inherits another config: params/likelihoods entry by entry (`NAME: false` drops a likelihood), other
    blocks key by key; cycles and missing bases are one-line errors naming the file."""
    (tmp_path / "parent.yaml").write_text(yaml.safe_dump(_with(("likelihoods", "osc_lma"), None)))
    child = {"base": "parent.yaml", "likelihoods": {"osc_lma": False, "unitarity": {"dataset": "paper2016"}},
             "sampler": {"draws": 7}, "params": {"y_e": 0.5}}
    (tmp_path / "child.yaml").write_text(yaml.safe_dump(child))
    parent, cfg = load_config(tmp_path / "parent.yaml"), load_config(tmp_path / "child.yaml")
    assert "osc_lma" in parent.likelihoods and "osc_lma" not in cfg.likelihoods
    assert cfg.likelihoods["unitarity"] == {"dataset": "paper2016"}
    assert set(cfg.likelihoods) == set(parent.likelihoods) - {"osc_lma"} | {"unitarity"}
    assert cfg.sampler.draws == 7 and cfg.sampler.seed == parent.sampler.seed
    assert cfg.params["y_e"].value == 0.5 and cfg.params["g_X"] == parent.params["g_X"]
    assert cfg.model == parent.model
    (tmp_path / "loop_a.yaml").write_text(yaml.safe_dump({"base": "loop_b.yaml"}))
    (tmp_path / "loop_b.yaml").write_text(yaml.safe_dump({"base": "loop_a.yaml"}))
    for name, fragment in (("loop_a.yaml", "includes itself"), ("orphan.yaml", "file not found")):
        if name == "orphan.yaml":
            (tmp_path / name).write_text(yaml.safe_dump({"base": "nowhere.yaml"}))
        assert main(["run", str(tmp_path / name), "--dry-run"]) == 2
        err = capsys.readouterr().err
        assert fragment in err and "Traceback" not in err
