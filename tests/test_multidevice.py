"""NUTS chains spread over devices and processes (globalfit.inference.nuts): 4 chains on 4 CPU devices
(XLA_FLAGS=--xla_force_host_platform_device_count=4), and on two local processes joined by JAX's multi-process runtime
(GLOBALFIT_DISTRIBUTED=1, 2 devices each), give the draws of the same 4 chains vectorized on one device: the same chains, equal to rounding (a vmap over 4 and a
pmap of 4 x 1 compile to differently vectorized kernels whose transcendental functions may differ in the last bit, and
the leapfrog integrator carries that through the transitions: measured <= 1e-5 relative after 70 transitions)."""

import os
import socket
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import yaml

from globalfit.inference.nuts import sample_run, spread_layout
from globalfit.outputs.rundir import prepare_run_dir
from globalfit.problem import load_problem

from test_engine import tiny_config

ROOT = Path(__file__).resolve().parent.parent
SAMPLER = {"chains": 4, "warmup": 40, "draws": 30, "chunk_size": 15, "max_tree_depth": 6}


def _config(tmp_path: Path, name: str) -> Path:
    cfg = tiny_config(tmp_path / name, **SAMPLER)
    cfg["plots"] = {"corner": ["g_X", "y_e"], "formats": ["png"]}
    path = tmp_path / f"{name}.yaml"
    path.write_text(yaml.safe_dump(cfg))
    return path


RTOL = 1e-4


def _same_draws(got: dict, want: dict) -> None:
    assert got.keys() == want.keys()
    for k in got:
        if k.endswith(("diverging", "num_steps")):
            np.testing.assert_array_equal(got[k], want[k], err_msg=k)
        else:
            np.testing.assert_allclose(got[k], want[k], rtol=RTOL, atol=1e-300, err_msg=k)


def _draws(outdir: Path) -> dict:
    out = {}
    for i in range(2):
        with np.load(outdir / "chunks" / f"chunk_{i:04d}.npz") as z:
            out.update({f"{i}:{k}": z[k] for k in z.files})
    return out


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def one_device(tmp_path_factory):
    """The 4 chains vectorized on the one CPU device of this process."""
    tmp = tmp_path_factory.mktemp("one")
    problem = load_problem(_config(tmp, "one"))
    outdir, prog = prepare_run_dir(problem.cfg, Path(problem.where), False, False)
    sample_run(problem, outdir, prog)
    return _draws(outdir)


def _env(**extra) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("JAX_", "GLOBALFIT_DISTRIBUTED", "XLA_FLAGS"))}
    return dict(env, PYTHONPATH=str(ROOT), JAX_PLATFORMS="cpu", **extra)


def test_spread_layout():
    import jax

    (cpu,) = jax.devices()
    assert spread_layout(4, [cpu]) == (4, [cpu])


SAMPLE_ONLY = """
import sys
from pathlib import Path
from globalfit.inference.nuts import sample_run
from globalfit.outputs.rundir import prepare_run_dir
from globalfit.problem import load_problem
problem = load_problem(sys.argv[1])
outdir, prog = prepare_run_dir(problem.cfg, Path(problem.where), False, False)
sample_run(problem, outdir, prog, log=lambda line: print(line, file=sys.stderr))
"""


@pytest.mark.slow
def test_chains_on_four_devices_equal_one_device(tmp_path, one_device):
    path = _config(tmp_path, "four")
    r = subprocess.run([sys.executable, "-c", SAMPLE_ONLY, str(path)], env=_env(XLA_FLAGS="--xla_force_host_platform_device_count=4"),
                       capture_output=True, text=True, timeout=900)
    assert r.returncode == 0, r.stderr[-2000:]
    assert "4 chains over 1 process x 4 cpu devices" in r.stderr
    _same_draws(_draws(tmp_path / "four"), one_device)


@pytest.mark.slow
def test_chains_on_two_processes_equal_one_device(tmp_path, one_device):
    path = _config(tmp_path, "two")
    port = _free_port()
    procs = [subprocess.Popen([sys.executable, "-m", "globalfit", "run", str(path)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                              env=_env(XLA_FLAGS="--xla_force_host_platform_device_count=2", GLOBALFIT_DISTRIBUTED="1",
                                       JAX_COORDINATOR_ADDRESS=f"127.0.0.1:{port}", JAX_NUM_PROCESSES="2", JAX_PROCESS_ID=str(i)))
             for i in range(2)]
    outs = []
    try:
        for p in procs:
            outs.append(p.communicate(timeout=900))
    finally:
        for p in procs:
            p.kill()
    for p, (_out, err) in zip(procs, outs):
        assert p.returncode == 0, err[-2000:]
    assert "4 chains over 2 processes x 2 cpu devices" in outs[0][1]
    assert "process 1 of 2: chains done" in outs[1][0]
    _same_draws(_draws(tmp_path / "two"), one_device)
    assert (tmp_path / "two" / "posterior.nc").is_file()


@pytest.mark.slow
def test_resume_on_four_devices_equals_one_device(tmp_path, one_device):
    """A spread run stopped after its first chunk (draws: 15) and resumed with draws: 30 gives the uninterrupted
    chains: the saved state records the chunk it follows, as on one device (rundir.reconcile)."""
    path = _config(tmp_path, "four")
    cfg = yaml.safe_load(path.read_text())
    env = _env(XLA_FLAGS="--xla_force_host_platform_device_count=4")
    for draws, extra in ((15, []), (30, ["--resume"])):
        cfg["sampler"]["draws"] = draws
        path.write_text(yaml.safe_dump(cfg))
        r = subprocess.run([sys.executable, "-m", "globalfit", "run", str(path), *extra], env=env, capture_output=True, text=True,
                           timeout=900)
        assert r.returncode == 0, r.stderr[-2000:]
    assert "4 chains over 1 process x 4 cpu devices" in r.stderr
    _same_draws(_draws(tmp_path / "four"), one_device)
