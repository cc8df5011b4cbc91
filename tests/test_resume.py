"""An interrupted run resumes from what is on disk (globalfit.outputs.rundir): `kill -9` of `globalfit run` at a random
moment of its draws, then `--resume`, loses no completed draw and gives, bit for bit, the chains of an uninterrupted run
with the same seed; the partial run already has a summary; a changed config refuses to resume. The windows of the
write sequence one by one: tests/test_run_safety.py."""

import json
import os
import signal
import subprocess
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pytest
import yaml

from globalfit.cli import main
from globalfit.outputs.rundir import CHUNKS, load_chunks, read_progress

ROOT = Path(__file__).resolve().parent.parent

# U(1)_B with two sampled parameters and no likelihood (the prior): resuming does not depend on the density, and
# this compiles fastest.
SMALL = {
    "model": {"scenario": "B"},
    "params": {
        "M_Zp": {"prior": "log-uniform", "min": 1.0e-3, "max": 1.0e-1, "ref": 1.0e-2},
        "g_X": {"prior": "log-uniform", "min": 1.0e-7, "max": 1.0e-3, "ref": 1.0e-5},
        "g_Psi": -1.0, "M_Psi": 5.0, "M_H": 400.0, "r_H": 0.75, "y_e": 0.3, "y_mu": 0.0, "y_tau": 0.0,
    },
    "sampler": {"chains": 2, "warmup": 60, "draws": 2000, "chunk_size": 20, "seed": 5, "progress_bar": False},
    "plots": {"formats": ["png"]},
}


def small_config(tmp_path: Path, name: str, **sampler) -> Path:
    data = {**SMALL, "sampler": {**SMALL["sampler"], **sampler}, "output": {"dir": str(tmp_path / name)}}
    path = tmp_path / f"{name}.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


def chains(outdir: Path) -> dict:
    post, stat = load_chunks(outdir, read_progress(outdir)["chunks"])
    return {**post, **{f"stat:{k}": v for k, v in stat.items()}}


REFERENCE = """
import sys
from pathlib import Path
from globalfit.inference import nuts
from globalfit.outputs.rundir import prepare_run_dir, run_lock
from globalfit.problem import load_problem
path = Path(sys.argv[1])
problem = load_problem(path)
with run_lock(Path(problem.cfg.output.dir)):
    outdir, prog = prepare_run_dir(problem.cfg, path, resume=False, force=False)
    nuts.sample_run(problem, outdir, prog)
"""


def _env() -> dict:
    return dict(os.environ, JAX_PLATFORMS="cpu", PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))


@pytest.mark.slow
def test_kill_at_a_random_moment_then_resume(tmp_path, capsys):
    """The uninterrupted reference (sampler only) runs in a second process beside the one that is killed."""
    ref_path = small_config(tmp_path, "reference")
    reference_run = subprocess.Popen([sys.executable, "-c", REFERENCE, str(ref_path)], cwd=tmp_path, env=_env(),
                                     stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    path = small_config(tmp_path, "killed")
    outdir = tmp_path / "killed"
    proc = subprocess.Popen([sys.executable, "-m", "globalfit", "run", str(path)], cwd=tmp_path, env=_env(),
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.time() + 1200  # generous: a loaded machine is slow, not wrong
    try:
        while proc.poll() is None:
            assert time.time() < deadline, "the run drew no 2 chunks in 20 minutes"
            try:
                if json.loads((outdir / "progress.json").read_text())["chunks"] >= 2:
                    break
            except (OSError, ValueError, KeyError):
                pass
            time.sleep(0.01)
        time.sleep(float(np.random.default_rng().uniform(0.0, 0.05)))  # anywhere in the next chunks' writes
        proc.send_signal(signal.SIGKILL)
    finally:
        proc.wait()
    before = read_progress(outdir)
    assert 2 <= before["chunks"] < 100 and not before["finished"], proc.stderr.read().decode()
    first = np.load(outdir / CHUNKS / "chunk_0000.npz")["post:g_X"].copy()

    # the partial run already has a summary
    assert main(["summary", str(outdir)]) == 0
    assert "partial" in capsys.readouterr().out

    # a changed config refuses to resume
    changed = tmp_path / "changed.yaml"
    data = yaml.safe_load(path.read_text())
    changed.write_text(yaml.safe_dump({**data, "sampler": {**data["sampler"], "seed": 99}}))
    assert main(["run", str(changed), "--resume"]) == 2
    assert "cannot resume: the config changed" in capsys.readouterr().err

    assert main(["run", str(path), "--resume"]) == 0
    assert reference_run.wait(timeout=600) == 0, reference_run.stderr.read().decode()
    reference = chains(tmp_path / "reference")
    after = read_progress(outdir)
    assert after["finished"] and after["draws_done"] == 2000 and after["chunks"] == 100
    final = chains(outdir)
    np.testing.assert_array_equal(final["g_X"][:, :20], first)  # the draws written before the kill are kept
    assert final.keys() == reference.keys()
    for k in reference:  # and the chains are those of the uninterrupted run
        np.testing.assert_array_equal(final[k], reference[k], err_msg=k)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        import arviz as az
    idata = az.from_netcdf(str(outdir / "posterior.nc"))
    assert idata.posterior.sizes["draw"] == 2000 and idata.posterior.sizes["chain"] == 2
    np.testing.assert_array_equal(np.asarray(idata.posterior["g_X"]), reference["g_X"])
