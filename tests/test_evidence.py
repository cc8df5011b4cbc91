"""Bayesian evidence (globalfit.inference.evidence): nested sampling against brute-force quadrature on a 2-d problem,
the support normalisation, the same-data rule for Bayes factors, prior overrides and the CLI."""

import json
import logging
import math
from contextlib import contextmanager
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import yaml

from globalfit.cli import main
from globalfit.problem.config import load_config
from globalfit.errors import ConfigError, InputError
from globalfit.inference.evidence import (
    apply_prior_overrides,
    log_factor_fn,
    same_data_constants,
    sm_loglike,
    evidence_result,
    log_evidence_parts,
    support_probability,
    support_volume,
)
from globalfit.problem import load_problem

# U(1)_B with (M_Zp, g_X) sampled and the rest fixed as in runs/quickstart.yaml; cosmology makes a sharp
# low-mass edge, osc_lma a diagonal cut at large g_X / small M_Zp: a curved allowed region of ~1/2 the prior.
TWO_D = {
    "model": {"scenario": "B"},
    "params": {
        "M_Zp": {"prior": "log-uniform", "min": 1.0e-3, "max": 1.0e-1},
        "g_X": {"prior": "log-uniform", "min": 1.0e-7, "max": 1.0e-3},
        "g_Psi": -1.0, "M_Psi": 5.0, "M_H": 400.0, "r_H": 0.75, "y_e": 0.3, "y_mu": 0.0, "y_tau": 0.0,
    },
    "likelihoods": {"osc_lma": None, "cosmology": None},
    "evidence": {"live_points": 100, "support_draws": 2000},
}


def _write(tmp_path: Path, name: str, data: dict) -> Path:
    p = tmp_path / name
    p.write_text(yaml.safe_dump(data))
    return p


def _problem(tmp_path, data=TWO_D, name="two_d.yaml"):
    return load_problem(_write(tmp_path, name, data))


def test_support_probability():
    """Fixed Psi sector far from every support wall: P_s = 1; the full B prior loses part of its box to
    M_Psi > M_Zp and |kappa| < 1 (0 < P_s < 1)."""
    quick = load_problem(Path(__file__).resolve().parent.parent / "runs" / "quickstart.yaml")
    assert support_probability(quick, draws=2000) == (0.0, 0.0)
    full = load_problem(Path(__file__).resolve().parent.parent / "runs" / "full_B.yaml")
    lp, err = support_probability(full, draws=4000)
    assert -2.0 < lp < -0.05 and 0 < err < 0.05


def test_prior_alone_has_evidence_one():
    """With no likelihood Z = 1 (the prior is normalised on the physical support), also where a large part of the box
    lies outside it: the full U(1)_B prior keeps V_s ~ 0.85 of the unit cube of its sites and P_s ~ 0.6 of the prior.
    Nested sampling leaves out the volume where ln L = -inf, so ln Z = ln Z_raw + ln V_s - ln P_s (without ln V_s this
    came out +0.16)."""
    full = load_problem(Path(__file__).resolve().parent.parent / "runs" / "full_B.yaml").with_likelihoods([])
    lvs, _ = support_volume(full, draws=4000)
    assert math.log(0.80) < lvs < math.log(0.90)
    with _counting_compilations() as compiled:
        parts = log_evidence_parts(full, live_points=60, seed=1)
    res = evidence_result(full, parts, 0.0, [])
    assert abs(res.log_Z) < 3 * res.log_Z_err + 0.03, (res.log_Z, res.log_Z_err, parts["log_Z_raw"])
    # the nested sampler is one compiled program (run eagerly through numpyro's wrapper it compiled ~780 single
    # operations for full_B; docs/performance.md, "Nested sampling")
    assert 0 < len(compiled) <= 40, len(compiled)
    # another seed on the same problem object reuses the compiled programs (FitProblem.compiled): it only samples
    with _counting_compilations() as again:
        parts2 = log_evidence_parts(full, live_points=60, seed=2)
    assert len(again) <= 3 and parts2["log_Z_raw"] != parts["log_Z_raw"], (again, parts2["log_Z_raw"])


@contextmanager
def _counting_compilations():
    """The XLA compilations JAX makes inside the block, one list entry each."""
    done: list[str] = []

    class Count(logging.Handler):
        def emit(self, record):
            if "Finished XLA compilation" in record.getMessage():
                done.append(record.getMessage())

    handler, logger = Count(), logging.getLogger("jax")
    logger.addHandler(handler)
    jax.config.update("jax_log_compiles", True)
    try:
        yield done
    finally:
        jax.config.update("jax_log_compiles", False)
        logger.removeHandler(handler)


def test_sm_constants_and_same_data_rule(tmp_path):
    """A likelihood another config uses is added as its SM constant where it cannot apply (nu-e scattering in
    U(1)_B), and refused where it applies but is missing."""
    b = load_config(_write(tmp_path, "b.yaml", TWO_D))
    bl_data = dict(TWO_D, model={"scenario": "B-L"}, likelihoods={"osc_lma": None, "cosmology": None, "nu_e_texono": None})
    bl = load_config(_write(tmp_path, "bl.yaml", bl_data))
    (c_b, added_b), (c_bl, added_bl) = same_data_constants([("b.yaml", b), ("bl.yaml", bl)])
    assert added_b == ["nu_e_texono"] and added_bl == []
    assert c_b == pytest.approx(sm_loglike("nu_e_texono", None)) and c_b <= 0.0 and c_bl == 0.0
    # CEvNS applies to B-L: a B-L config without it cannot be compared with a B config that has it
    b2 = load_config(_write(tmp_path, "b2.yaml", dict(TWO_D, likelihoods={"osc_lma": None, "cosmology": None, "cevns_coherent_csi": None})))
    with pytest.raises(ConfigError, match="bl.yaml: likelihoods: lacks 'cevns_coherent_csi'"):
        same_data_constants([("b2.yaml", b2), ("bl.yaml", bl)])
    # the same likelihood with different options is different data
    b3 = load_config(_write(tmp_path, "b3.yaml", dict(TWO_D, likelihoods={"osc_lma": None, "cosmology": {"dataset": "paper2016"}})))
    with pytest.raises(ConfigError, match="likelihoods.cosmology: options"):
        same_data_constants([("b.yaml", b), ("b3.yaml", b3)])


def test_prior_overrides(tmp_path):
    cfg = load_config(_write(tmp_path, "b.yaml", TWO_D))
    wide = apply_prior_overrides(cfg, ["g_X.min=1e-9"], "b.yaml")
    assert wide.sampled()["g_X"].min == 1e-9 and cfg.sampled()["g_X"].min == 1e-7
    for bad, msg in [("g_X=1", "expected NAME.FIELD=VALUE"), ("y_e.min=0.1", "not a sampled parameter"),
                     ("g_X.ref=1", "field 'ref'"), ("g_X.min=abc", "not a number"), ("g_X.min=1", "min=1.0 must be < max")]:
        with pytest.raises(InputError, match=msg):
            apply_prior_overrides(cfg, [bad], "b.yaml")


def _quadrature_log_z(problem, n=400):
    """ln of the midpoint-rule integral of exp(f) over the unit square (n x n nodes)."""
    sites, f = log_factor_fn(problem)
    assert sites == ["log10_M_Zp", "log10_g_X"]
    c = (np.arange(n) + 0.5) / n
    U = jnp.asarray(np.stack(np.meshgrid(c, c, indexing="ij"), -1).reshape(-1, 2))
    logf = np.asarray(jax.jit(jax.vmap(f))(U))
    assert np.all(np.isfinite(logf) | (logf == -np.inf))
    return float(np.log(np.mean(np.exp(logf))))


def test_cli_evidence_matches_quadrature(tmp_path, capsys):
    """`globalfit evidence A --out F`: ln Z of jaxns agrees with a 400 x 400 quadrature of the same integrand within
    3 sigma (+0.05); the nested-sampling posterior respects the cosmology bound; an existing --out file is never
    overwritten, and is refused before any sampling."""
    a = _write(tmp_path, "a.yaml", TWO_D)
    out = tmp_path / "ev.json"
    assert main(["evidence", str(a), "--out", str(out)]) == 0
    assert "ln B vs first" in capsys.readouterr().out
    (res,) = json.loads(out.read_text())["results"]
    assert res["config"] == str(a) and res["converged"] and math.isfinite(res["log_Z"]) and res["log_Z_err"] > 0
    assert res["log_P_support"] == 0.0 and res["sm_constant"] == 0.0
    log_z_quad = _quadrature_log_z(_problem(tmp_path))
    assert -3.0 < log_z_quad < -0.1  # a real cut, not the whole prior and not nothing
    assert abs(res["log_Z"] - log_z_quad) < 3 * res["log_Z_err"] + 0.05, (res, log_z_quad)
    q = res["posterior_quantiles"]
    assert set(q) >= {"M_Zp", "g_X", "eps_earth_ee"} and q["M_Zp"][0] <= q["M_Zp"][1] <= q["M_Zp"][2]
    assert q["M_Zp"][0] > 3.0e-3  # the posterior respects the cosmology bound (3.7 MeV, 2 sigma)
    assert main(["evidence", str(a), "--out", str(out)]) == 2
    out_, err = capsys.readouterr()
    assert "exists" in err and "ln Z" not in out_  # refused before the nested sampling, not after it


def test_cli_evidence_over_seeds(tmp_path, capsys):
    """`--seed 0 1`: one run per seed on the same problem (compiled once), each result with its seed, and the mean and
    standard deviation over the seeds printed and written (``seed_scatter``); a repeated seed is refused at once."""
    a = _write(tmp_path, "a.yaml", TWO_D)
    out = tmp_path / "seeds.json"
    assert main(["evidence", str(a), "--seed", "0", "1", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    doc = json.loads(out.read_text())
    assert doc["seeds"] == [0, 1] and [r["seed"] for r in doc["results"]] == [0, 1]
    z = [r["log_Z"] for r in doc["results"]]
    assert z[0] != z[1] and doc["seed_scatter"]["log_Z_mean"] == pytest.approx([sum(z) / 2])
    assert doc["seed_scatter"]["log_Z_std"] == pytest.approx([abs(z[0] - z[1]) / math.sqrt(2)])
    assert "seed 1:" in printed and f"over 2 seeds (mean +- standard deviation): a ln Z {sum(z) / 2:.3f}" in printed
    assert main(["evidence", str(a), "--seed", "3", "3"]) == 2
    assert "--seed 3 3: a seed given twice" in capsys.readouterr().err


def test_exclude_likelihoods(tmp_path):
    problem = _problem(tmp_path)
    kept = problem.without(["osc_*"])
    assert kept.likelihood_names == ["cosmology"] and list(kept.cfg.likelihoods) == ["cosmology"]
    assert sorted(problem.likelihood_names) == ["cosmology", "osc_lma"]  # the original is unchanged
    with pytest.raises(InputError, match="--exclude 'nu_e_\\*': matches no likelihood of .*two_d.yaml"):
        problem.without(["nu_e_*"])


def test_jaxns_is_imported_only_for_nested_sampling_and_leaves_logging_alone():
    """The CLI's process does not import jaxns (~1 s: TensorFlow Probability, pylab) until nested sampling needs it,
    and jaxns's ``logging.basicConfig`` on import then leaves the root logger as it was (a fresh process: jaxns
    configures logging only the first time it is imported)."""
    import subprocess
    import sys

    code = ("import logging, sys; import globalfit.cli; assert 'jaxns' not in sys.modules, 'jaxns imported'; "
            "from globalfit.inference.evidence import _jaxns; root = logging.getLogger(); before = (list(root.handlers), root.level); "
            "_jaxns(); assert 'jaxns' in sys.modules; print((list(root.handlers), root.level) == before)")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=Path(__file__).resolve().parent.parent)
    assert r.returncode == 0 and r.stdout.strip() == "True", r.stderr[-2000:]
