"""The GPU benchmark script (bench/gpu_nuts.py) runs on CPU with small settings and reports sane figures."""

import importlib.util
import json
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_gpu_script_runs_small_on_cpu(tmp_path):
    spec = importlib.util.spec_from_file_location("gpu_nuts", ROOT / "bench" / "gpu_nuts.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    out = tmp_path / "gpu.json"
    res = mod.main(["--config", str(ROOT / "runs" / "quickstart.yaml"), "--chains", "3", "--warmup", "15", "--draws", "15",
                    "--device", "cpu", "--json", str(out)])
    assert res["platform"] == "cpu" and res["chains"] == 3 and res["sampled"] >= 1
    assert res["min_ess_bulk"] > 0 and res["ess_per_s"] > 0 and res["steps_per_draw"] >= 1
    assert json.loads(out.read_text())["draws"] == 15
