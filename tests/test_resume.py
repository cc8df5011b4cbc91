"""An interrupted run resumes from its last chunk: the final draws equal what was asked, none lost;
a changed config refuses to resume."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import yaml

from globalfit.cli import main

from test_engine import tiny_config

ROOT = Path(__file__).resolve().parent.parent


def test_kill_after_first_chunk_then_resume(tmp_path, capsys):
    outdir = tmp_path / "out"
    cfg = tiny_config(outdir, warmup=100, draws=3000, chunk_size=300)
    path = tmp_path / "run.yaml"
    path.write_text(yaml.safe_dump(cfg))
    env = dict(os.environ, JAX_PLATFORMS="cpu")
    proc = subprocess.Popen([sys.executable, "-m", "globalfit", "run", str(path)], cwd=tmp_path, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    progress = outdir / "progress.json"
    deadline = time.time() + 120
    try:
        while time.time() < deadline:
            if progress.exists():
                try:
                    if json.loads(progress.read_text())["chunks"] >= 1:
                        break
                except (json.JSONDecodeError, KeyError):
                    pass
            assert proc.poll() is None, proc.stderr.read().decode()
            time.sleep(0.02)
        proc.send_signal(signal.SIGKILL)
    finally:
        proc.wait()
    before = json.loads(progress.read_text())
    assert 1 <= before["chunks"] < 10 and not before["finished"]
    with np.load(outdir / "chunks" / "chunk_0000.npz") as z:
        first = {k: z[k].copy() for k in z.files}

    # the partial run already has a summary and plots
    assert main(["summary", str(outdir)]) == 0
    assert "partial" in capsys.readouterr().out

    # a changed config refuses to resume
    changed = tmp_path / "changed.yaml"
    changed.write_text(yaml.safe_dump({**cfg, "sampler": {**cfg["sampler"], "seed": 99}}))
    assert main(["run", str(changed), "--resume"]) == 2
    assert "cannot resume: the config changed" in capsys.readouterr().err

    assert main(["run", str(path), "--resume"]) == 0
    after = json.loads(progress.read_text())
    assert after["finished"] and after["draws_done"] == 3000 and after["chunks"] == 10
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        import arviz as az
    idata = az.from_netcdf(str(outdir / "posterior.nc"))
    assert idata.posterior.sizes["draw"] == 3000 and idata.posterior.sizes["chain"] == 2
    # the draws written before the kill are the first 50 of the final posterior
    np.testing.assert_array_equal(np.asarray(idata.posterior["y_e"])[:, :300], first["post:y_e"])
    # no duplicated stretch: consecutive chunks continue the chain, not restart it
    y = np.asarray(idata.posterior["y_e"])
    assert not np.array_equal(y[:, :300], y[:, 300:600])
