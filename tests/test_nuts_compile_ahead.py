"""The chunk function of a NUTS run is compiled ahead, in a thread, while the start's value and gradient compile
(globalfit.inference.nuts.compile_ahead): the placeholder start has the real start's layout, so the later calls,
shorter chunks included, compile nothing, and the chains are those of a run without it."""

from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from globalfit.inference.nuts import (_chunk_runner, _init_chains, _init_shapes, _recorder, compile_ahead, draws_shaped,
                                      nuts_kernel, nuts_start, start_shaped)
from globalfit.problem import load_problem

ROOT = Path(__file__).resolve().parent.parent
BACKEND_COMPILE = "/jax/core/compile/backend_compile_duration"


def _layout(tree):
    return jax.tree.structure(tree), [(jnp.shape(a), jnp.asarray(a).dtype) for a in jax.tree.leaves(tree)]


@pytest.mark.parametrize("chains", [1, 3])
def test_placeholder_start_has_the_layout_of_the_real_one(chains):
    problem = load_problem(ROOT / "runs" / "quickstart.yaml")
    density = problem.unconstrained()
    assert _layout(start_shaped(density, chains)) == _layout(nuts_start(problem, density, chains, batched=chains > 1))


def test_chunk_compiled_ahead_is_not_compiled_again_and_draws_the_same():
    problem = load_problem(ROOT / "runs" / "quickstart.yaml")
    density = problem.unconstrained()
    keys = jax.random.split(jax.random.PRNGKey(3), 2)
    start = nuts_start(problem, density, 2)

    def compiles_during(fn):
        seen = []
        listener = lambda event, duration, **kw: seen.append(duration) if event == BACKEND_COMPILE else None  # noqa: E731
        jax.monitoring.register_event_duration_secs_listener(listener)
        try:
            out = jax.block_until_ready(fn())
        finally:
            jax.monitoring.unregister_event_duration_listener(listener)
        return out, seen

    def first_chunks(ahead: bool):
        kernel = nuts_kernel(problem, density)
        runner = _chunk_runner(kernel, 2, "vectorized", 5)
        if ahead:  # as sample_run does: the runner's kernel set up by the placeholder's traced init (its shapes only),
            # the state from a fresh kernel
            shapes = _init_shapes(kernel, keys, 10, start_shaped(density, 2), True)
            assert all(isinstance(a, jax.ShapeDtypeStruct) for a in jax.tree.leaves(shapes))
            compile_ahead((runner.compiled, (shapes, 5))).join()
            state = _init_chains(nuts_kernel(problem, density), keys, 10, start, True)
        else:
            state = _init_chains(kernel, keys, 10, start, True)
        out = compiles_during(lambda: runner(state, 5))
        # a shorter chunk (the warm-up's last chunk, the draws' last chunk) runs the same compiled function
        return out, compiles_during(lambda: runner(out[0][0], 3))

    # the listener sees a compilation (a function no test has compiled)
    assert len(compiles_during(lambda: jax.jit(lambda x: jnp.sin(x) * 0.731)(jnp.ones(41)))[1]) >= 1
    ((_, samples, _), compiles), ((last, more, stats), compiles_short) = first_chunks(ahead=True)
    assert compiles == [] and compiles_short == []
    assert all(np.shape(a)[:2] == (2, 3) for a in jax.tree.leaves((more, stats)))
    ((_, samples_plain, _), _), ((last_plain, more_plain, _), _) = first_chunks(ahead=False)
    for a, b in zip(jax.tree.leaves((samples, more, last)), jax.tree.leaves((samples_plain, more_plain, last_plain))):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
    # the last state is the third draw's, not the fifth step's
    for a, b in zip(jax.tree.leaves(last.z), jax.tree.leaves(more)):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b)[:, -1])


def test_recorder_pads_to_one_compiled_shape_and_records_each_draw():
    """The recorded quantities of a chunk are computed outside the NUTS scan (nuts._recorder), padded to the chunk size:
    chunks of any length up to it give each draw's own values and compile once."""
    problem = load_problem(ROOT / "runs" / "quickstart.yaml")
    density = problem.unconstrained()
    start = nuts_start(problem, density, 3)
    rng = np.random.default_rng(0)
    zs = jax.tree.map(lambda a: np.asarray(a)[:, None] + 0.1 * rng.standard_normal((3, 7)), start.z)  # (chain, draw)
    record = _recorder(density.postprocess, 7)
    full = record(zs)
    for c, d in [(0, 0), (2, 6), (1, 3)]:
        one = density.postprocess(jax.tree.map(lambda a: a[c, d], zs))
        for k, v in one.items():
            np.testing.assert_allclose(full[k][c, d], np.asarray(v), rtol=1e-12, atol=1e-300)
    first = record(jax.tree.map(lambda a: a[:, :4], zs))
    assert all(first[k].shape[:2] == (3, 4) for k in first)
    for k in first:
        np.testing.assert_array_equal(first[k], full[k][:, :4])
    assert record.compiled._cache_size() == 1
    shaped = draws_shaped(start_shaped(density, 3), 3, 7)
    assert _layout(shaped) == _layout(jax.tree.map(jnp.asarray, zs))


def test_sequential_chains_draw_what_vectorized_ones_draw_through_short_chunks(tmp_path):
    """``chain_method: sequential`` (lax.map over the chains, the same compiled chunk) draws what the vectorized chains
    draw, with a warm-up (25) and draws (30) that are not multiples of the chunk size (20)."""
    import yaml

    from globalfit.inference.nuts import sample_run
    from globalfit.outputs.rundir import load_chunks, prepare_run_dir

    from test_resume import SMALL

    draws = {}
    for method in ("sequential", "vectorized"):
        sampler = {**SMALL["sampler"], "chains": 2, "warmup": 25, "draws": 30, "chunk_size": 20, "chain_method": method}
        path = tmp_path / f"{method}.yaml"
        path.write_text(yaml.safe_dump({**SMALL, "sampler": sampler, "output": {"dir": str(tmp_path / method)}}))
        problem = load_problem(path)
        outdir, prog = prepare_run_dir(problem.cfg, path, resume=False, force=False)
        sample_run(problem, outdir, prog)
        draws[method] = load_chunks(outdir)[0]
    assert draws["sequential"].keys() == draws["vectorized"].keys()
    for k, v in draws["vectorized"].items():
        assert v.shape == (2, 30), k
        np.testing.assert_allclose(draws["sequential"][k], v, rtol=1e-10, err_msg=k)
    assert np.unique(draws["vectorized"]["g_X"]).size > 10
