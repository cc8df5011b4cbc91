"""Compiled code kept between runs (JAX's persistent compilation cache, turned on by the CLI): a second run of the
same config loads every executable instead of compiling it, and draws exactly what the first drew."""

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import yaml

from globalfit._jax import CACHE_ENV, compilation_cache_dir

from test_resume import SMALL, chains

ROOT = Path(__file__).resolve().parent.parent


def test_cache_folder_follows_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv(CACHE_ENV, "off")
    assert compilation_cache_dir() is None
    monkeypatch.setenv(CACHE_ENV, str(tmp_path / "c"))
    assert compilation_cache_dir() == tmp_path / "c"
    monkeypatch.delenv(CACHE_ENV)
    default = compilation_cache_dir()
    assert default.parent == Path.home() / ".cache" / "globalfit" and default.name.startswith("jax-")


def test_second_run_loads_every_executable_and_draws_the_same(tmp_path):
    cache = tmp_path / "cache"
    env = dict(os.environ, JAX_PLATFORMS="cpu", PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    env[CACHE_ENV] = str(cache)
    runs, entries = [], []
    for name in ("first", "second"):
        data = {**SMALL, "sampler": {**SMALL["sampler"], "warmup": 20, "draws": 40}, "plots": {"formats": []},
                "output": {"dir": str(tmp_path / name)}}
        path = tmp_path / f"{name}.yaml"
        path.write_text(yaml.safe_dump(data))
        proc = subprocess.run([sys.executable, "-m", "globalfit", "run", str(path)], cwd=tmp_path, env=env,
                              capture_output=True, text=True, timeout=900)
        assert proc.returncode == 0, proc.stderr[-2000:]
        runs.append(chains(tmp_path / name))
        entries.append(sorted(p.name for p in cache.iterdir() if p.name.endswith("-cache")))
    assert len(entries[0]) > 10  # the sampler's scan and the eager operations of building the tables
    assert entries[1] == entries[0]  # nothing compiled anew
    assert runs[0].keys() == runs[1].keys()
    for k in runs[0]:
        np.testing.assert_array_equal(runs[0][k], runs[1][k])
