"""Building a fit problem: wall time of ``load_problem`` (reading the config, building every likelihood and its tables)
and the XLA compilations it makes, each config in a fresh process (docs/performance.md, "Building the likelihoods").

Without ``--cache`` every compilation is real (``GLOBALFIT_JAX_CACHE=off``, as a first run on a machine); with it the
persistent compilation cache is on, as ``globalfit run`` turns it on, and warmed by a first build that is not
reported. To compare two trees, run the script with ``PYTHONPATH`` set to each, alternating (the
children import the package from ``PYTHONPATH``, else the installed one; the configs are this tree's).

    PYTHONPATH=. python bench/build_time.py [runs/full_B.yaml ...] [--cache] [--repeat 2]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CONFIGS = ["runs/full_B.yaml", "runs/full_BmL.yaml", "runs/full_L.yaml", "runs/full_B3Ltau.yaml", "runs/lma_dark_B.yaml",
           "runs/quickstart.yaml"]

# run in the child: time load_problem, count JAX's "Finished XLA compilation" log records
CHILD = """
import json, logging, sys, time
import jax
from globalfit._jax import enable_compilation_cache
if sys.argv[2] == "cache":
    enable_compilation_cache()
n = []
class Count(logging.Handler):
    def emit(self, record):
        if "Finished XLA compilation" in record.getMessage():
            n.append(1)
logging.getLogger("jax").addHandler(Count())
jax.config.update("jax_log_compiles", True)
from globalfit.problem import load_problem
t = time.perf_counter()
load_problem(sys.argv[1])
print(json.dumps({"wall": time.perf_counter() - t, "compilations": len(n)}))
"""


def build(config: str, cache: bool) -> dict:
    """One fresh process building ``config``: {"wall": s, "compilations": n}."""
    env = dict(os.environ) if cache else {**os.environ, "GLOBALFIT_JAX_CACHE": "off"}
    # run outside the repository: `python -c` puts the working directory first on sys.path, before PYTHONPATH
    out = subprocess.run([sys.executable, "-c", CHILD, str(ROOT / config), "cache" if cache else "off"], env=env,
                         cwd=tempfile.gettempdir(), capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("configs", nargs="*", default=CONFIGS)
    ap.add_argument("--cache", action="store_true", help="the persistent compilation cache on (warmed first)")
    ap.add_argument("--repeat", type=int, default=1)
    a = ap.parse_args()
    print(f"# load_problem, a fresh process per line; persistent compilation cache {'on' if a.cache else 'off'}")
    for config in a.configs:
        if a.cache:
            build(config, True)  # fills the cache
        for _ in range(a.repeat):
            r = build(config, a.cache)
            print(f"{config}: {r['wall']:.2f} s, {r['compilations']} compilations", flush=True)


if __name__ == "__main__":
    main()
