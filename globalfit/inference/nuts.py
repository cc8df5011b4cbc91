"""NUTS (numpyro) on a :class:`~globalfit.problem.FitProblem`: warm-up once, then chunks of draws written to the run
directory as they come (:mod:`globalfit.outputs.rundir`).

Long runs: warm-up once (``mcmc.warmup``), then chunks of ``chunk_size`` NUTS transitions from
``mcmc.post_warmup_state`` (a ``lax.scan`` over ``kernel.sample``, compiled once; ``MCMC.run`` would recompile at every
chunk). A resumed run reloads the saved chain state and continues. Chains: ``vectorized`` (vmap on one device) by
default; when JAX sees at least as many devices as chains ``vectorized`` becomes ``parallel`` (pmap).
``sampler.device`` picks the JAX platform (cpu / gpu); a requested platform that is absent is an error.

The posterior is the problem's numpyro model (:meth:`~globalfit.problem.FitProblem.numpyro_model`); NUTS starts at
the ``ref`` values of the config (:meth:`~globalfit.problem.FitProblem.start_sites`), the other sites at random
inside the prior (``init_to_uniform``, radius 2).
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Callable

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax
from numpyro.infer import MCMC, NUTS, init_to_uniform, init_to_value

from globalfit import _jax  # noqa: F401
from globalfit.errors import ConfigError
from globalfit.problem import FitProblem
from globalfit.outputs.plots import make_plots
from globalfit.outputs.report import build_idata, write_outputs
from globalfit.outputs.rundir import load_state, prepare_run_dir, save_chunk, save_state, write_progress

__all__ = ["EXTRA_FIELDS", "select_device", "nuts_kernel", "sample_run", "run_problem"]

EXTRA_FIELDS = ("diverging", "num_steps", "energy", "potential_energy", "accept_prob", "adapt_state.step_size")


def _quiet(_: str) -> None:
    return None


def select_device(problem: FitProblem):
    """The JAX devices of ``sampler.device``; ConfigError when JAX sees none of that platform."""
    cfg = problem.cfg
    try:
        return jax.devices(cfg.sampler.device)
    except RuntimeError:
        raise ConfigError(f"{problem.where}: sampler.device: {cfg.sampler.device!r} requested but JAX sees no such device "
                          f"({jax.devices()[0].platform} only)") from None


def nuts_kernel(problem: FitProblem) -> NUTS:
    """The NUTS kernel of the problem (target acceptance and tree depth from ``sampler``; start at the refs)."""
    s = problem.cfg.sampler
    init = {k: np.float64(v) for k, v in problem.start_sites(refs_only=True).items()}
    strategy = init_to_value(values=init) if init else init_to_uniform(radius=2)
    return NUTS(problem.numpyro_model(), target_accept_prob=s.target_accept, max_tree_depth=s.max_tree_depth, init_strategy=strategy)


def _chunk_runner(kernel, chains: int, chain_method: str):
    """A function ``(state, n) -> (last_state, samples, stats)`` (arrays ``(chain, draw, ...)``) running n NUTS
    transitions per chain, compiled once per n (``MCMC.run`` would recompile at every chunk). For
    ``vectorized`` chains the kernel's sample function is already batched over chains (numpyro vmaps it)."""
    post = kernel.postprocess_fn((), {})

    def scan(state, n):
        def body(st, _):
            st = kernel.sample(st, (), {})
            stats = {"diverging": st.diverging, "num_steps": st.num_steps, "energy": st.energy, "potential_energy": st.potential_energy, "accept_prob": st.accept_prob, "adapt_state.step_size": st.adapt_state.step_size}
            return st, (st.z, stats)

        return lax.scan(body, state, None, length=n)

    def one_chain(state, n):  # unbatched kernel: outputs (draw, ...)
        last, (zs, stats) = scan(state, n)
        return last, jax.vmap(post)(zs), stats

    add = lambda t: jax.tree.map(lambda x: x[None], t)  # noqa: E731
    if chains == 1:
        single = jax.jit(one_chain, static_argnums=1)

        def run1(state, n):
            last, samples, stats = single(state, n)
            return last, add(samples), add(stats)

        return run1
    if chain_method == "parallel":
        return jax.pmap(one_chain, in_axes=(0, None), static_broadcasted_argnums=1)
    if chain_method == "sequential":
        return jax.jit(lambda state, n: lax.map(lambda st: one_chain(st, n), state), static_argnums=1)

    def vectorized(state, n):  # batched kernel: outputs (draw, chain, ...)
        last, (zs, stats) = scan(state, n)
        samples = jax.vmap(jax.vmap(post))(zs)
        swap = lambda t: jax.tree.map(lambda x: jnp.swapaxes(x, 0, 1), t)  # noqa: E731
        return last, swap(samples), swap(stats)

    return jax.jit(vectorized, static_argnums=1)


def sample_run(problem: FitProblem, outdir: Path, prog: dict, log: Callable[[str], None] = _quiet, progress_bar: bool = False) -> None:
    """Warm up (unless ``prog`` says it is done: the saved state is reloaded) and draw chunks until
    ``prog["draws_target"]`` draws per chain are on disk; ``prog`` is updated and written after every step.
    ``log`` receives one line per stage (the CLI prints them)."""
    devs = select_device(problem)
    where = problem.where
    s = problem.cfg.sampler
    chain_method = s.chain_method
    if chain_method == "vectorized" and s.chains > 1 and len(devs) >= s.chains:
        chain_method = "parallel"
    if chain_method == "parallel" and len(devs) < s.chains:
        chain_method = "vectorized"
    kernel = nuts_kernel(problem)
    progress = bool(s.progress_bar and progress_bar)
    mcmc = MCMC(kernel, num_warmup=s.warmup, num_samples=1, num_chains=s.chains, chain_method=chain_method, progress_bar=progress)
    with jax.default_device(devs[0]):
        key = jax.random.PRNGKey(s.seed)
        if not prog["warmup_done"]:
            t0 = time.time()
            log(f"warm-up: {s.warmup} steps x {s.chains} chains ({chain_method}, {devs[0].platform})")
            try:
                mcmc.warmup(key, collect_warmup=False)
            except RuntimeError as exc:
                if "valid initial" in str(exc) or "Cannot find" in str(exc):
                    raise ConfigError(f"{where}: no valid start point inside the physical support: move the ref values (see `globalfit run --dry-run`)") from None
                raise
            state = mcmc.post_warmup_state
            save_state(outdir, state)
            prog["warmup_done"] = True
            prog["warmup_seconds"] = round(time.time() - t0, 2)
            write_progress(outdir, prog)
        else:
            state = load_state(outdir)
            keys = jax.random.split(key, s.chains) if (s.chains > 1 and chain_method == "vectorized") else key
            kernel.init(keys, s.warmup, None, model_args=(), model_kwargs={})  # sets up the kernel; the saved state is kept
        runner = _chunk_runner(kernel, s.chains, chain_method)
        while prog["draws_done"] < prog["draws_target"]:
            n = min(s.chunk_size, prog["draws_target"] - prog["draws_done"])
            t0 = time.time()
            state, samples, stats = runner(state, n)
            save_chunk(outdir, prog["chunks"], jax.device_get(samples), jax.device_get(stats))
            save_state(outdir, state)
            prog["chunks"] += 1
            prog["draws_done"] += n
            prog["sampling_seconds"] = round(prog.get("sampling_seconds", 0.0) + time.time() - t0, 2)
            write_progress(outdir, prog)
            log(f"chunk {prog['chunks']}: {prog['draws_done']}/{prog['draws_target']} draws per chain on disk ({time.time() - t0:.1f} s)")


def run_problem(problem: FitProblem, source: str, resume: bool = False, force: bool = False, log: Callable[[str], None] = _quiet,
                progress_bar: bool = False) -> str:
    """A whole run: the run directory of ``output.dir`` (new, or resumed: :func:`globalfit.outputs.rundir.prepare_run_dir`;
    ``source``: the config text kept as ``config.input.yaml``), NUTS draws (:func:`sample_run`), then the ArviZ outputs,
    report and plots; returns the diagnostics report. ``globalfit run`` and the run jobs of a sweep call it."""
    outdir, prog = prepare_run_dir(problem.cfg, Path(problem.where), resume, force, source=source)
    if prog.get("finished") and prog["draws_done"] >= prog["draws_target"]:
        log(f"{outdir}: run already complete ({prog['draws_done']} draws per chain); rebuilding the outputs")
    sample_run(problem, outdir, prog, log=log, progress_bar=progress_bar)
    prog["finished"] = True
    write_progress(outdir, prog)
    idata = build_idata(outdir)
    report = write_outputs(outdir, idata)
    make_plots(outdir, idata)
    return report
