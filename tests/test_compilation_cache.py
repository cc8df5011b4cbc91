"""Compiled code kept between runs (JAX's persistent compilation cache, turned on by the CLI): a second run of the
same config loads every executable instead of compiling it, and draws exactly what the first drew. And the XLA CPU
flags that shorten compilation (globalfit._jax.CPU_COMPILE_FLAGS)."""

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import yaml

from globalfit._jax import CACHE_ENV, CPU_COMPILE_FLAGS, XLA_FLAGS_ENV, compilation_cache_dir, cpu_compile_flags

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


def test_cpu_compile_flags_only_for_tested_jaxlib_and_never_over_the_users():
    assert cpu_compile_flags("", "0.10.2") == "--xla_cpu_use_fusion_emitters=false"
    # the user's own value of the same flag wins; other flags are kept
    mine = "--xla_force_host_platform_device_count=4 --xla_cpu_use_fusion_emitters=true"
    assert cpu_compile_flags(mine, "0.10.0") == mine
    assert cpu_compile_flags("--xla_force_host_platform_device_count=4", "0.10.2") == (
        "--xla_force_host_platform_device_count=4 --xla_cpu_use_fusion_emitters=false")
    # a series never measured gets nothing (XLA aborts on a flag it does not know)
    assert "0.4" not in CPU_COMPILE_FLAGS and cpu_compile_flags("", "0.4.30") == ""
    assert cpu_compile_flags("-x", "99.1.0") == "-x"


def test_process_gets_the_flags_unless_turned_off():
    code = "import os, globalfit; print(os.environ.get('XLA_FLAGS', ''))"
    env = {k: v for k, v in os.environ.items() if k not in ("XLA_FLAGS", XLA_FLAGS_ENV)}
    from importlib.metadata import version
    expected = cpu_compile_flags("", version("jaxlib"))
    got = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True).stdout.strip()
    assert got == expected
    env[XLA_FLAGS_ENV] = "off"
    got = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True).stdout.strip()
    assert got == ""


def test_second_run_loads_every_executable_and_draws_the_same(tmp_path):
    cache = tmp_path / "cache"
    env = dict(os.environ, JAX_PLATFORMS="cpu", PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    env[CACHE_ENV] = str(cache)
    runs, entries = [], []
    for name in ("first", "second"):
        data = {**SMALL, "sampler": {**SMALL["sampler"], "warmup": 20, "draws": 40}, "plots": {"formats": ["png"]},
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
