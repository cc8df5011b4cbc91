"""Benchmark of the tabulated scattering rates (globalfit.physics.rates) against the direct quadrature, per
source/target combination of the CEvNS and nu-e likelihoods (the list of tests/test_rates.py): value + gradient
w.r.t. (M_Zp, g_f, Re G, Im G), jit, at one point and vmapped over 1024 points of the prior box; compile times
(lower + compile; wall and CPU time); run times are the minimum over repetitions (the least disturbed by other jobs);
table build time from the grids (uncached) and with the disk cache; the largest differences seen at those points;
then the sum of all the targets' rate ratios in one function (as in a full log-density), exact, one table each, and
all tables stacked (rates.stack_rate_tables).

    PYTHONPATH=. /work/venv/bin/python bench/bench_rates.py [--targets sns_csi,b8_xe_0.5] [--repeat 200]

Not part of the test suite. Results: docs/performance.md ("Tabulated scattering rates").
"""

from __future__ import annotations

import argparse
import functools
import os
import re
import tempfile
import time

import jax
import jax.numpy as jnp
import numpy as np

import globalfit  # noqa: F401  (float64)
from globalfit.physics import rates
from tests.test_rates import G_MAX, TARGETS


def _points(n: int, seed: int = 0):
    """n points of the prior box: M log-uniform in [1e-4, 1] GeV, g_f in [1e-10, 1e-2], |G_ab| <= G_MAX."""
    rng = np.random.default_rng(seed)
    M = 10.0 ** rng.uniform(-4, 0, n)
    g = 10.0 ** rng.uniform(-10, -2, n)
    mod, phase = G_MAX * rng.random((n, 3, 3)), rng.uniform(-np.pi, np.pi, (n, 3, 3))
    return M, g, mod * np.cos(phase), mod * np.sin(phase)


def _vg(fn):
    def f(M, g, re, im):
        return fn(re + 1j * im, g, M)

    return jax.value_and_grad(f, argnums=(0, 1, 2, 3))


def _compile(fn, args):
    """Compiled fn and its compile time (lower + compile) as (wall s, CPU s of this process): JAX caches compiled
    code, so a repetition would measure the cache; the CPU time is the less disturbed by other jobs."""
    t, c = time.perf_counter(), time.process_time()
    compiled = jax.jit(fn).lower(*args).compile()
    return compiled, (time.perf_counter() - t, time.process_time() - c)


def _per_call(compiled, args, repeat: int) -> float:
    """Shortest wall time of one call (after a warm-up call)."""
    jax.block_until_ready(compiled(*args))
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        jax.block_until_ready(compiled(*args))
        times.append(time.perf_counter() - t)
    return float(np.min(times))


@functools.lru_cache(maxsize=None)
def _table(name: str) -> rates.RateTable:
    return TARGETS[name]()


def _fmt(t: tuple[float, float]) -> str:
    return f"{t[0]:.2f} s ({t[1]:.2f} s CPU)"


def bench_target(name: str, repeat: int, batch: int) -> dict:
    table = _table(name)
    out: dict[str, float] = {}
    def rebuild(cache: bool):
        if table.kind == "cevns":
            return rates.cevns_rate_table(table.parts, table.s2w, cache=cache)
        return rates.nue_rate_table(table.parts[0][1], table.s2w, cache=cache)

    t = time.perf_counter()
    rebuild(cache=False)
    out["build_s"] = time.perf_counter() - t
    with tempfile.TemporaryDirectory() as d:
        os.environ["GLOBALFIT_CACHE"] = d
        rebuild(cache=True)
        t = time.perf_counter()
        rebuild(cache=True)
        out["load_s"] = time.perf_counter() - t
    M, g, re, im = _points(batch)
    one = (M[0], g[0], re[0], im[0])
    results = {}
    for path, fn in (("exact", table.rate_exact), ("tab", table.rate)):
        c1, out[f"{path}_compile_s"] = _compile(_vg(fn), one)
        out[f"{path}_one_us"] = 1e6 * _per_call(c1, one, repeat)
        cb, out[f"{path}_vmap_compile_s"] = _compile(jax.vmap(_vg(fn)), (M, g, re, im))
        out[f"{path}_vmap_per_s"] = batch / _per_call(cb, (M, g, re, im), max(3, repeat // 50))
        results[path] = cb(M, g, re, im)
    (r_t, d_t), (r_e, d_e) = results["tab"], results["exact"]
    out["max_rel_rate"] = float(np.max(np.abs(np.asarray(r_t) / np.asarray(r_e) - 1)))
    # d ln R / d ln M: the relative error of dR/dM itself is meaningless where the C1' and C2' terms cancel
    out["max_dlnR_dlnM"] = float(np.max(np.abs(np.asarray(d_t[0]) - np.asarray(d_e[0])) * M / np.asarray(r_e)))
    out["nodes"] = float(sum(g.w.size for _, grids in table.parts for g in grids))
    out["rows"] = float(table.cubic.shape[0] + 1)
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--targets", default=",".join(TARGETS))
    ap.add_argument("--repeat", type=int, default=200)
    ap.add_argument("--batch", type=int, default=1024)
    args = ap.parse_args()
    print(f"device {jax.devices()[0]}; {os.cpu_count()} CPU cores visible; load average {os.getloadavg()}")
    print("| target | nodes | table rows | build (uncached) / cache load | compile exact / tab (1 point), wall (CPU) | "
          "value+grad exact / tab (1 point) | vmap 1024: exact / tab [eval/s] | compile vmap exact / tab, wall (CPU) | "
          "max rel. diff in R, max abs. diff in d ln R/d ln M |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    for name in args.targets.split(","):
        r = bench_target(name, args.repeat, args.batch)
        print(f"| {name} | {r['nodes']:.0f} | {r['rows']:.0f} | {r['build_s']:.2f} s / {1e3 * r['load_s']:.1f} ms | "
              f"{_fmt(r['exact_compile_s'])} / {_fmt(r['tab_compile_s'])} | "
              f"{r['exact_one_us']:.0f} us / {r['tab_one_us']:.1f} us (x{r['exact_one_us'] / r['tab_one_us']:.0f}) | "
              f"{r['exact_vmap_per_s']:,.0f} / {r['tab_vmap_per_s']:,.0f} (x{r['tab_vmap_per_s'] / r['exact_vmap_per_s']:.0f}) | "
              f"{_fmt(r['exact_vmap_compile_s'])} / {_fmt(r['tab_vmap_compile_s'])} | "
              f"{r['max_rel_rate']:.1e}, {r['max_dlnR_dlnM']:.1e} |", flush=True)
    # all targets in one function, as in a full log-density: the marginal compile and run cost of the rates
    tables = [_table(name) for name in args.targets.split(",")]
    M, g, g_re, g_im = _points(args.batch, seed=1)
    one = (M[0], g[0], g_re[0], g_im[0])
    print("\n| all targets in one function | compile (1 point), wall (CPU) | fusions in the compiled HLO | value+grad (1 point) | "
          "compile vmap 1024, wall (CPU) | vmap 1024 [eval/s] |")
    print("| --- | --- | --- | --- | --- | --- |")
    stack = rates.stack_rate_tables(tables)
    totals = {
        "exact": lambda G, g_f, M_Zp: sum(t.rate_exact(G, g_f, M_Zp) / t.sm for t in tables),
        "tab (one RateTable each)": lambda G, g_f, M_Zp: sum(t.rate(G, g_f, M_Zp) / t.sm for t in tables),
        "tab (RateTableStack)": lambda G, g_f, M_Zp: jnp.sum(stack.rates(G, g_f, M_Zp) / stack.sm),
    }
    for path, total in totals.items():
        c1, t1 = _compile(_vg(total), one)
        fusions = len(re.findall(r"\bfusion\(", c1.as_text()))
        cb, tb = _compile(jax.vmap(_vg(total)), (M, g, g_re, g_im))
        print(f"| {path} | {_fmt(t1)} | {fusions} | {1e6 * _per_call(c1, one, args.repeat):.0f} us | {_fmt(tb)} | "
              f"{args.batch / _per_call(cb, (M, g, g_re, g_im), max(3, args.repeat // 50)):,.0f} |", flush=True)
    print(f"load average after: {os.getloadavg()}")


if __name__ == "__main__":
    main()
