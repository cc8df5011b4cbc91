"""The GPU benchmark script (bench/gpu_nuts.py) runs on CPU with small settings and reports sane figures."""

import json

import pytest
import yaml

from test_engine import tiny_config
from tests.helpers import load_bench


@pytest.mark.slow  # two NUTS compilations (warm-up, draws): ~55 CPU s
def test_gpu_script_runs_small_on_cpu(tmp_path):
    mod = load_bench("gpu_nuts")
    out = tmp_path / "gpu.json"
    config = tmp_path / "tiny.yaml"  # two sampled parameters, two likelihoods: the script's path at the least compile cost
    cfg = tiny_config(tmp_path / "out")
    cfg["sampler"]["metropolis"] = ["g_X"]  # NUTS with Metropolis moves, as the gallery configs (its state once broke the script)
    config.write_text(yaml.safe_dump(cfg))
    res = mod.main(["--config", str(config), "--chains", "3", "--warmup", "15", "--draws", "15",
                    "--device", "cpu", "--json", str(out)])
    assert res["platform"] == "cpu" and res["chains"] == 3 and res["sampled"] >= 1
    assert res["min_ess_bulk"] > 0 and res["ess_per_s"] > 0 and res["steps_per_draw"] >= 1
    assert res["max_steps_per_transition"] >= res["steps_per_draw"]  # the three chains wait for the longest trajectory
    assert json.loads(out.read_text())["draws"] == 15
