"""NUTS (numpyro) on a :class:`~globalfit.problem.FitProblem`: warm-up once, then chunks of draws written to the run
directory as they come (:mod:`globalfit.outputs.rundir`).

Long runs: the chains start at :func:`nuts_start` (``kernel.init``), then every ``chunk_size`` NUTS transitions are one
call of a ``lax.scan`` over ``kernel.sample``, compiled once for the run, shorter chunks included (:func:`_transitions`;
``MCMC.run`` would recompile at every chunk): first the ``warmup`` transitions (numpyro adapts step size and mass
matrix in them, as ``MCMC.warmup`` does; running them through the same compiled function saves the separate compile of
the warm-up loop), then the draws, each chunk written as it comes. The chunk function is compiled while the start's
value and gradient compile (:func:`compile_ahead`). A resumed run reloads the saved chain state and continues.
``sampler.device`` picks the JAX platform (cpu / gpu); a requested platform that is absent is an error.

**Chains across devices and hosts.** On one device the chains are ``vectorized`` (vmap; ``sequential``: lax.map).
When JAX sees several devices (GPUs; CPU "devices" with ``XLA_FLAGS=--xla_force_host_platform_device_count=N``;
the devices of every process of a multi-process runtime, ``GLOBALFIT_DISTRIBUTED=1``, :mod:`globalfit._jax`), the
chains are spread (``vectorized`` or ``parallel``): process p of P takes chains [p k, (p+1) k), k = chains / P, and
runs them as a pmap over as many of its devices as divide k of a vmap over the rest (:func:`spread_layout`).
Warm-up is numpyro's (the first ``warmup`` transitions of ``kernel.sample`` from ``kernel.init``, adapting); chunks
are gathered to process 0 (``process_allgather``; gloo on CPU), which alone writes the run directory, so the output
directory must be one that every process sees. Each chain has the key it has on one device (``split(seed, chains)``)
and runs the same operations, so the draws do not depend on how the chains are spread, up to rounding: differently
batched kernels may differ in the last bit of a transcendental function (tested: 4 CPU devices, and two processes,
against one device, to 1e-4 relative). NUTS's trajectories can amplify such a bit until a chain takes another path:
a three-site toy did within 100 transitions, and so did the tested config with NUTS on one vector of sites
(docs/performance.md, "NUTS on one vector of sites"). Then the chains differ, the posterior does not.

Before anything is compiled, :func:`check_resources` estimates what the sampler settings imply (memory to assemble
``posterior.nc``, disk for the chunks and the NetCDF, NUTS transitions) and refuses what this machine cannot hold or
finish, warning with the estimate where a run is merely large.

The posterior is the problem's numpyro model (:meth:`~globalfit.problem.FitProblem.numpyro_model`) in unconstrained
coordinates (:meth:`~globalfit.problem.FitProblem.unconstrained`); NUTS starts at the ``ref`` values of the config
(:meth:`~globalfit.problem.FitProblem.start_sites`), the other sites at random inside the prior (uniform in (-2, 2)
unconstrained, as numpyro's ``init_to_uniform``): :func:`nuts_start`.
"""

from __future__ import annotations

import contextlib
import functools

import os
import shutil
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax
from jax.experimental import multihost_utils
from numpyro.infer import MCMC, NUTS
from numpyro.infer.util import ParamInfo

from globalfit import _jax  # noqa: F401
from globalfit.errors import ConfigError, OutputError
from globalfit.problem import FitProblem, UnconstrainedDensity
from globalfit.problem.support import SUPPORT
from globalfit.inference.starts import uniform_starts
from globalfit.inference.ensemble import sample_ensemble
from globalfit.inference.metropolis import ACCEPTED, REJECTED_OUTSIDE, MetropolisNUTS, MetropolisNUTSState
from globalfit.outputs.chains import mcsamples
from globalfit.outputs.htmlreport import write_html_report
from globalfit.outputs.plots import figures_beside, make_plots
from globalfit.outputs.report import build_idata, summarise, write_outputs, write_posterior
from globalfit.outputs.rundir import (commit_chunk, commit_warmup, load_state, prepare_run_dir, read_progress, run_lock,
                                      write_progress)

__all__ = ["EXTRA_FIELDS", "RunEstimate", "estimate_run", "recorded_quantities", "check_resources", "select_device", "nuts_kernel", "metropolis_sites", "nuts_start", "nuts_mcmc",
           "spread_layout", "sample_run", "run_problem", "MEASURED_RATE"]

EXTRA_FIELDS = ("diverging", "num_steps", "energy", "potential_energy", "accept_prob", "adapt_state.step_size")

# Value-and-gradient evaluations per second of the full U(1)_B posterior on 2 CPU cores (docs/performance.md,
# "The fit problem's log-density"); one NUTS transition takes at least one. Used only for the time estimates below.
MEASURED_RATE = 1073.0
_DAY, _YEAR = 86_400.0, 365.25 * 86_400.0
# memory to assemble posterior.nc: the chunk arrays, their concatenation and ArviZ's copy (report.build_idata)
_ASSEMBLY_COPIES = 3
_GIB = 2.0**30


@dataclass(frozen=True)
class RunEstimate:
    """What a run's sampler settings imply (bytes, float64 values)."""

    quantities: int  # values recorded per chain and draw (sites, derived quantities, ln L terms, sampler statistics)
    chunk_bytes: int  # one chunk of draws in memory
    draws_bytes: int  # every draw of every chain (the chunks on disk; posterior.nc holds as much again)
    assemble_bytes: int  # peak memory while posterior.nc is built
    disk_bytes: int  # chunks + posterior.nc
    transitions_per_chain: int  # warm-up + draws (NUTS transitions; ensemble: steps per walker, x thin)
    kind: str = "NUTS transitions per chain"

    def hours_at_measured_rate(self) -> float:
        """Lower bound on the wall time (one gradient evaluation per transition, :data:`MEASURED_RATE`), in hours."""
        return self.transitions_per_chain / MEASURED_RATE / 3600.0

    def lines(self) -> list[str]:
        return [
            f"recorded per draw: {self.quantities} values; one chunk {_fmt_bytes(self.chunk_bytes)} in memory",
            f"all draws: {_fmt_bytes(self.draws_bytes)}; disk (chunks + posterior.nc) {_fmt_bytes(self.disk_bytes)}; "
            f"memory to assemble posterior.nc ~{_fmt_bytes(self.assemble_bytes)}",
            f"{self.kind}: {_n(self.transitions_per_chain)} (>= {self.hours_at_measured_rate():.3g} h at one "
            f"evaluation each and the {MEASURED_RATE:.0f}/s measured for full_B on 2 CPU cores)",
        ]


def _n(n: int) -> str:
    """A count as a person reads it (1,500 or 1e+30)."""
    return f"{n:,}" if n < 10**12 else f"{float(n):.3g}"


def _fmt_bytes(n: float) -> str:
    return f"{n / _GIB:.3g} GiB" if n >= 0.1 * _GIB else f"{n / 2.0**20:.3g} MiB"


def recorded_quantities(problem: FitProblem) -> int:
    """Values one draw of one chain records: sample sites, parameters behind transformed sites, cos_beta (when r_H is
    sampled or fixed), derived quantities, one ln L per likelihood and the sampler statistics (:data:`EXTRA_FIELDS`)."""
    transformed = sum(1 for name, info in problem.sites.items() if info.site != name)
    return (len(problem.sites) + transformed + int(problem.r_h_parametrised) + len(problem.derived_names) + len(problem.likelihoods)
            + len(EXTRA_FIELDS) + int(bool(problem.cfg.sampler.metropolis)) + int(bool(problem.cfg.sampler.delayed_acceptance)))


def estimate_run(problem: FitProblem) -> RunEstimate:
    """The resources of the run that ``problem.cfg.sampler`` asks for (no JAX: counts and sizes only)."""
    s = problem.cfg.sampler
    q = recorded_quantities(problem)
    per_draw = s.chains * q * 8
    draws = s.draws * per_draw
    ensemble = s.method == "ensemble"
    return RunEstimate(quantities=q, chunk_bytes=min(s.chunk_size, s.draws) * per_draw, draws_bytes=draws,
                       assemble_bytes=_ASSEMBLY_COPIES * draws, disk_bytes=2 * draws,
                       transitions_per_chain=(s.warmup + s.draws) * (s.thin if ensemble else 1),
                       kind="ensemble steps per walker" if ensemble else "NUTS transitions per chain")


def _memory() -> tuple[float, float]:
    """(total, available) physical memory in bytes (Linux /proc/meminfo; sysconf elsewhere)."""
    try:
        info = {}
        with open("/proc/meminfo") as fh:
            for line in fh:
                k, _, v = line.partition(":")
                info[k] = float(v.split()[0]) * 1024.0
        return info["MemTotal"], info.get("MemAvailable", info.get("MemFree", info["MemTotal"]))
    except (OSError, KeyError, ValueError, IndexError):
        page = os.sysconf("SC_PAGE_SIZE")
        return float(page * os.sysconf("SC_PHYS_PAGES")), float(page * os.sysconf("SC_AVPHYS_PAGES"))


def _free_disk(path: Path) -> float:
    """Free bytes on the file system that holds ``path`` (its nearest existing ancestor)."""
    p = Path(os.path.abspath(path))
    while not p.exists() and p != p.parent:
        p = p.parent
    return float(shutil.disk_usage(p).free)


def check_resources(problem: FitProblem, outdir: Path | None = None) -> list[str]:
    """Refuse (ConfigError) a run this machine cannot hold or finish; return warnings (with the estimate) for large ones.

    Refused: assembling posterior.nc needs more than the physical memory, or one chunk does; chunks + posterior.nc
    exceed the free disk under ``outdir``; the transitions per chain take more than a year even at 1000 times the
    measured rate. Warned: more than half the available memory or free disk; more than a day at the measured rate.
    """
    where, s = problem.where, problem.cfg.sampler
    est = estimate_run(problem)
    total, available = _memory()
    size = f"{_n(s.chains)} chains x {_n(s.draws)} draws x {est.quantities} recorded values"
    if est.assemble_bytes > total:
        raise ConfigError(f"{where}: sampler.chains, sampler.draws: {size} need ~{_fmt_bytes(est.assemble_bytes)} of memory to assemble posterior.nc, "
                          f"more than this machine's {_fmt_bytes(total)}; lower sampler.draws or sampler.chains")
    if 2 * est.chunk_bytes > total:
        raise ConfigError(f"{where}: sampler.chunk_size: one chunk of {_n(s.chains)} chains x {_n(min(s.chunk_size, s.draws))} draws needs "
                          f"~{_fmt_bytes(2 * est.chunk_bytes)}, more than this machine's {_fmt_bytes(total)} of memory; lower it")
    seconds_optimistic = est.transitions_per_chain / (1000.0 * MEASURED_RATE)
    if seconds_optimistic > _YEAR:
        raise ConfigError(f"{where}: sampler.warmup, sampler.draws: {_n(est.transitions_per_chain)} NUTS transitions per chain: more than "
                          f"{seconds_optimistic / _YEAR:.3g} years even at 1000 times the {MEASURED_RATE:.0f} gradient evaluations/s measured "
                          "for full_B (docs/performance.md); lower them")
    warnings = []
    if outdir is not None:
        free = _free_disk(Path(outdir))
        if est.disk_bytes > free:
            raise ConfigError(f"{where}: sampler.chains, sampler.draws: {size} need ~{_fmt_bytes(est.disk_bytes)} on disk (chunks + posterior.nc), more "
                              f"than the {_fmt_bytes(free)} free under {outdir}; lower sampler.draws or sampler.chains")
        if est.disk_bytes > 0.5 * free:
            warnings.append(f"{where}: sampler.chains, sampler.draws: the run will write ~{_fmt_bytes(est.disk_bytes)}, over half the {_fmt_bytes(free)} "
                            f"free under {outdir}")
    if est.assemble_bytes > 0.5 * available:
        warnings.append(f"{where}: sampler.chains, sampler.draws: {size} need ~{_fmt_bytes(est.assemble_bytes)} of memory to assemble posterior.nc, over "
                        f"half the {_fmt_bytes(available)} available now")
    if est.transitions_per_chain / MEASURED_RATE > _DAY:
        warnings.append(f"{where}: sampler.warmup, sampler.draws: {_n(est.transitions_per_chain)} transitions per chain: at least "
                        f"{est.hours_at_measured_rate() / 24:.3g} days at the {MEASURED_RATE:.0f} gradient evaluations/s measured for full_B "
                        "on 2 CPU cores (docs/performance.md)")
    return warnings


def _quiet(_: str) -> None:
    return None


def select_device(problem: FitProblem):
    """The JAX devices of ``sampler.device``; ConfigError when JAX sees none of that platform (never a silent fallback)."""
    cfg = problem.cfg
    try:
        devs = jax.devices(cfg.sampler.device)
    except RuntimeError:
        devs = []
    if not devs:
        raise ConfigError(f"{problem.where}: sampler.device: {cfg.sampler.device!r} requested but JAX sees no such device "
                          f"({', '.join(sorted({d.platform for d in jax.devices()}))} only); set sampler.device: cpu or install a JAX "
                          "build for that device") from None
    return devs


def nuts_kernel(problem: FitProblem, density: UnconstrainedDensity | None = None) -> NUTS | MetropolisNUTS:
    """The NUTS kernel of the problem on its unconstrained density (target acceptance, tree depth and dense or diagonal
    mass matrix from ``sampler``); it starts from :func:`nuts_start`. The mass matrix is laid out by site as numpyro
    lays out a model's (one block of every site), so saved warm-up states keep their structure. With
    ``sampler.metropolis`` the named parameters move by Metropolis steps and NUTS moves the rest, and with
    ``sampler.delayed_acceptance`` NUTS's trajectories leave out the named likelihoods, which accept or reject each
    proposal (:class:`~globalfit.inference.metropolis.MetropolisNUTS`)."""
    s = problem.cfg.sampler
    density = problem.unconstrained() if density is None else density
    if s.metropolis or s.delayed_acceptance:
        sd = metropolis_sites(problem)
        support = SUPPORT in s.delayed_acceptance
        names = [n for n in s.delayed_acceptance if n != SUPPORT]
        surrogate = problem.without(names).without_support_factor() if support else problem.without(names)
        potential = surrogate.unconstrained().potential if s.delayed_acceptance else density.potential
        return MetropolisNUTS(potential, list(sd), sd, s.metropolis_steps, adapt=s.metropolis_adapt,
                              independence=s.metropolis_independence if sd else 0.0,
                              delayed=problem.likelihood_potential(names, support) if s.delayed_acceptance else None,
                              target_accept_prob=s.target_accept, max_tree_depth=s.max_tree_depth,
                              dense_mass=s.dense_mass)
    blocks = [tuple(sorted(density.transforms))] if s.dense_mass else []
    return NUTS(potential_fn=density.potential, target_accept_prob=s.target_accept, max_tree_depth=s.max_tree_depth,
                dense_mass=blocks)


def metropolis_sites(problem: FitProblem, draws: int = 20_000) -> dict[str, float]:
    """{site: prior sd in unconstrained coordinates} of the parameters ``sampler.metropolis`` names (the scale of their
    Metropolis proposals, estimated from ``draws`` prior draws)."""
    names = problem.cfg.sampler.metropolis  # checked against the sampled parameters (support.check_metropolis)
    transforms = problem.site_transforms()
    out = {}
    for k, name in enumerate(names):
        info = problem.sites[name]
        u = transforms[info.site].inv(info.distribution.sample(jax.random.PRNGKey(k), (draws,)))
        u = np.asarray(u)
        out[info.site] = float(np.std(u[np.isfinite(u)]))
    return out


def nuts_start(problem: FitProblem, density: UnconstrainedDensity, chains: int, batched: bool = True) -> ParamInfo:
    """Where the chains start (``ParamInfo``: unconstrained sites, potential energy and its gradient, leading axis
    ``chains`` when ``batched``): every chain at the ``ref`` values (:meth:`~globalfit.problem.FitProblem.start_sites`),
    the sites without a ``ref`` uniform in (-2, 2) (numpyro's ``init_to_uniform``), redrawn until value and gradient
    are finite. ConfigError when no such start is found (refs outside the physical support)."""
    order = sorted(density.transforms)
    refs = density.unconstrain(problem.start_sites(refs_only=True))
    fixed = {order.index(k): float(v) for k, v in refs.items()}
    value_and_grad = jax.jit(jax.vmap(jax.value_and_grad(density.potential)))
    found: dict = {}

    def finite(x: np.ndarray) -> np.ndarray:
        z = jax.vmap(density.unravel)(jnp.asarray(x))
        pe, grad = value_and_grad(z)
        found.update(z=z, pe=pe, grad=grad)
        ok = np.isfinite(np.asarray(pe))
        for g in jax.tree.leaves(grad):
            ok &= np.isfinite(np.asarray(g))
        return ok

    rng = np.random.default_rng(problem.cfg.sampler.seed)
    if uniform_starts(chains, density.ndim, rng, finite, fixed=fixed) is None:
        raise ConfigError(f"{problem.where}: no valid start point inside the physical support: move the ref values "
                          "(see `globalfit run --dry-run`)")
    info = ParamInfo(found["z"], found["pe"], found["grad"])
    return info if batched else jax.tree.map(lambda a: a[0], info)


def nuts_mcmc(problem: FitProblem, density: UnconstrainedDensity, warmup: int, draws: int, chains: int,
              chain_method: str = "vectorized", progress_bar: bool = False) -> MCMC:
    """numpyro's MCMC driver of the problem's NUTS kernel on ``density`` (``problem.unconstrained()``); its samples are
    what a run records (sites, parameters, derived quantities, exact ln L). Start it with
    ``init_params=nuts_start(problem, density, chains)``."""
    return MCMC(nuts_kernel(problem, density), num_warmup=warmup, num_samples=draws, num_chains=chains,
                chain_method=chain_method, progress_bar=progress_bar, postprocess_fn=density.postprocess)


def _transition_stats(st) -> dict:
    """The per-transition statistics a run records (:data:`EXTRA_FIELDS`) of a NUTS state; with Metropolis moves
    (``sampler.metropolis``) also the proposals accepted in the transition; with delayed acceptance whether NUTS's
    proposal was accepted, whether it was rejected for lying outside the physical support (D = +inf), and the potential
    energy of the whole posterior (NUTS's plus the delayed likelihoods')."""
    stats = {f: functools.reduce(getattr, f.split("."), st) for f in EXTRA_FIELDS}
    if isinstance(st, MetropolisNUTSState):
        if st.fixed:
            stats["metropolis_accepted"] = st.accepted
        if st.delayed_accepted is not None:
            stats["delayed_accepted"] = (st.delayed_accepted == ACCEPTED).astype(jnp.int32)
            stats["delayed_outside"] = (st.delayed_accepted == REJECTED_OUTSIDE).astype(jnp.int32)
            stats["potential_energy"] = st.hmc.potential_energy + st.delayed_energy
    return stats


def _chunk_runner(kernel, chains: int, chain_method: str, length: int):
    """A function ``(state, n) -> (last_state, zs, stats)`` running n <= ``length`` NUTS transitions per chain; ``zs``
    (the unconstrained sites of the draws, recorded by :func:`_recorder`) and ``stats`` are numpy arrays ``(chain, n,
    ...)``. One compiled function for every n (:func:`_transitions`; ``runner.compiled``, for :func:`compile_ahead`,
    takes the state and n and returns ``length`` steps). For ``vectorized`` chains the kernel's sample function is
    already batched over chains (numpyro vmaps it)."""
    scan = _transitions(kernel, length)
    if chains == 1:
        compiled = jax.jit(lambda state, n: _chains_first(scan(state, n), lambda x: x[None]))
    elif chain_method == "parallel":  # one unbatched kernel per device: outputs (chain, draw, ...)
        compiled = jax.pmap(scan, in_axes=(0, None))
    elif chain_method == "sequential":  # one unbatched kernel, one chain after the other
        compiled = jax.jit(lambda state, n: lax.map(lambda st: scan(st, n), state))
    else:  # a batched kernel: outputs (draw, chain, ...)
        compiled = jax.jit(lambda state, n: _chains_first(scan(state, n)))

    def run(state, n: int):
        last, zs, stats = compiled(state, n)
        return last, _first_draws(zs, n), _first_draws(stats, n)

    run.compiled = compiled
    return run


def _transitions(kernel, length: int) -> Callable:
    """``scan(state, n) -> (last state, zs, stats)``: a ``lax.scan`` of ``length`` steps (zs and stats ``(draw,
    ...)``) whose step i runs a NUTS transition only while i < n, a number the chains share, so the steps after n cost
    nothing and repeat the last state. n is an argument, not a constant of the compiled code: the warm-up's chunks and
    the draws' chunks, whatever their lengths up to ``length``, run one compiled function (one compilation per run;
    ``MCMC.run`` would recompile at every chunk)."""

    def scan(state, n):
        def body(st, i):
            st = lax.cond(i < n, lambda s: kernel.sample(s, (), {}), lambda s: s, st)
            return st, (st.z, _transition_stats(st))

        last, (zs, stats) = lax.scan(body, state, jnp.arange(length))
        return last, zs, stats

    return scan


def _chains_first(chunk: tuple, to_chains: Callable = lambda x: jnp.swapaxes(x, 0, 1)) -> tuple:
    """(last state, zs, stats) of :func:`_transitions` with zs and stats laid out ``(chain, draw, ...)``: by default
    from a batched kernel's ``(draw, chain, ...)``."""
    last, zs, stats = chunk
    return last, jax.tree.map(to_chains, zs), jax.tree.map(to_chains, stats)


def _first_draws(tree, n: int):
    """The first n draws of arrays ``(chain, draw, ...)``, as numpy."""
    return jax.tree.map(lambda x: np.asarray(x)[:, :n], tree)


def _recorder(post: Callable, draws: int) -> Callable:
    """``record(zs) -> samples``: the recorded quantities of draws ``zs`` (unconstrained sites, arrays ``(chain, draw,
    ...)``, at most ``draws`` per chain) as numpy arrays ``(chain, draw, ...)``; ``post`` maps one draw's sites to the
    recorded quantities (parameters, derived quantities, exact ln L). One compiled function for every chunk: the draws
    are padded to ``draws`` (the chunk size) with copies of the last and cut back after. ``record.compiled`` is that
    function (for :func:`compile_ahead`). Kept out of the chunks' NUTS scan, which then compiles faster and does not
    compute the recorded quantities of warm-up transitions (docs/performance.md, "Tracing the NUTS chunk")."""
    compiled = jax.jit(jax.vmap(jax.vmap(post)))

    def pad(a: np.ndarray) -> np.ndarray:
        return np.concatenate([a, np.repeat(a[:, -1:], draws - a.shape[1], axis=1)], axis=1)

    def record(zs) -> dict:
        zs = jax.device_get(zs)
        n = jax.tree.leaves(zs)[0].shape[1]
        out = compiled(jax.tree.map(pad, zs))
        return {k: np.asarray(v)[:, :n] for k, v in out.items()}

    record.compiled = compiled
    return record


def draws_shaped(start: ParamInfo, chains: int, draws: int) -> dict:
    """Zeros laid out as ``draws`` draws of ``chains`` chains (``(chain, draw, ...)``) of the sites of ``start`` (a
    :func:`start_shaped` or :func:`nuts_start`, batched when ``chains`` > 1): what :func:`_recorder` takes."""
    one = start.z if chains == 1 else jax.tree.map(lambda a: a[0], start.z)
    return jax.tree.map(lambda a: jnp.zeros((chains, draws, *jnp.shape(a)), jnp.asarray(a).dtype), one)


def spread_layout(chains: int, devices: list, where: str = "the config") -> tuple[int, list]:
    """(k, local devices used): this process's k = chains / processes chains and the devices it runs them on, as many
    of its devices as divide k (each runs k / n of them, vectorized)."""
    n_proc, me = jax.process_count(), jax.process_index()
    if chains % n_proc:
        raise ConfigError(f"{where}: sampler.chains: {chains} chains cannot be split evenly over {n_proc} processes")
    k = chains // n_proc
    local = [d for d in devices if d.process_index == me] or devices[:1]
    n = max(d for d in range(1, min(len(local), k) + 1) if k % d == 0)
    return k, local[:n]


def _barrier(name: str) -> None:
    if jax.process_count() > 1:
        multihost_utils.sync_global_devices(name)


def _gather(tree):
    """Arrays with this process's chains first -> every chain (on every process), as numpy."""
    if jax.process_count() == 1:
        return jax.device_get(tree)
    return jax.device_get(multihost_utils.process_allgather(tree, tiled=True))


def _spread_runner(kernel, devices: list, length: int):
    """``(run, place, join)``: ``run(state, n) -> (last state, zs, stats)``, a pmap over ``devices`` of n <= ``length``
    vectorized NUTS transitions of k / len(devices) chains each (:func:`_transitions`: one compiled function for every
    n), zs and stats ``(chain, length, ...)`` of which the first n draws are the chunk's. ``run`` takes and returns the
    state as laid out on the devices: ``place`` lays out the batched state of this process's chains (leading axis k) as
    pmap lays out its outputs, so that the first chunk and every later one see the same input layout and compile once;
    ``join`` gives back the batched state."""
    nd = len(devices)
    scan = _transitions(kernel, length)
    mapped = jax.pmap(lambda state, n: _chains_first(scan(state, n)), in_axes=(0, None), devices=devices)
    identity = jax.pmap(lambda t: t, devices=devices)
    split = lambda t: jax.tree.map(lambda x: x.reshape((nd, -1) + x.shape[1:]), t)  # noqa: E731
    join = lambda t: jax.tree.map(lambda x: x.reshape((-1,) + x.shape[2:]), t)  # noqa: E731

    def run(state, n):
        last, zs, stats = mapped(state, n)
        return last, join(zs), join(stats)

    return run, lambda t: identity(split(t)), join


def _sample_spread(problem: FitProblem, devs: list, outdir: Path, prog: dict, log: Callable[[str], None]) -> None:
    """:func:`sample_run` with the chains spread over devices and processes (module docstring)."""
    s = problem.cfg.sampler
    k, local = spread_layout(s.chains, devs, problem.where)
    me, n_proc = jax.process_index(), jax.process_count()
    writer = me == 0
    density = problem.unconstrained()
    kernel = nuts_kernel(problem, density)
    keys = jax.random.split(jax.random.PRNGKey(s.seed), s.chains)[me * k:(me + 1) * k]
    mine = lambda t: jax.tree.map(lambda x: jnp.asarray(x[me * k:(me + 1) * k]), t)  # noqa: E731  (this process's chains)
    with jax.default_device(local[0]):
        if not prog["warmup_done"]:
            start = own_start(kernel, mine(nuts_start(problem, density, s.chains)))
            state = kernel.init(keys, s.warmup, start, model_args=(), model_kwargs={})
        else:  # the saved state is kept; init sets up the kernel
            state = mine(load_state(outdir))
            _init_shapes(kernel, keys, s.warmup, ParamInfo(state.z, state.potential_energy, state.z_grad), True)
        run, place, join = _spread_runner(kernel, local, s.chunk_size)
        record = _recorder(density.postprocess, s.chunk_size)
        state = place(state)
        layout = f"{s.chains} chains over {n_proc} process{'es' if n_proc > 1 else ''} x {len(local)} {local[0].platform} devices"
        if not prog["warmup_done"]:
            t0 = time.time()
            log(f"warm-up: {s.warmup} steps x {layout}")
            state = _warm_up(lambda st, n: run(st, n)[0], state, s.warmup, s.chunk_size)
            full = _gather(join(state))
            if writer:  # the same commits as one device: the saved state records the chunk it follows (rundir.reconcile)
                commit_warmup(outdir, prog, full, time.time() - t0)
            prog["warmup_done"] = True
        while prog["draws_done"] < prog["draws_target"]:
            n = min(s.chunk_size, prog["draws_target"] - prog["draws_done"])
            t0 = time.time()
            state, zs, stats = run(state, n)
            zs, stats, full = _first_draws(_gather(zs), n), _first_draws(_gather(stats), n), _gather(join(state))
            if writer:
                commit_chunk(outdir, prog, record(zs), stats, full, n, time.time() - t0)
            else:
                prog["chunks"] += 1
                prog["draws_done"] += n
            log(f"chunk {prog['chunks']}: {prog['draws_done']}/{prog['draws_target']} draws per chain on disk ({time.time() - t0:.1f} s; {layout})")
    _barrier("chains done")


def sample_run(problem: FitProblem, outdir: Path, prog: dict, log: Callable[[str], None] = _quiet, progress_bar: bool = False) -> None:
    """Warm up (unless ``prog`` says it is done: the saved state is reloaded) and draw chunks until
    ``prog["draws_target"]`` draws per chain are on disk; ``prog`` is updated and written after every step.
    ``log`` receives one line per stage (the CLI prints them)."""
    devs = select_device(problem)
    s = problem.cfg.sampler
    if s.chain_method != "sequential" and s.chains > 1 and len(devs) > 1:
        return _sample_spread(problem, devs, outdir, prog, log)
    chain_method = "vectorized" if s.chain_method == "parallel" else s.chain_method  # one device here
    density = problem.unconstrained()
    kernel = nuts_kernel(problem, density)
    batched = s.chains > 1 and chain_method == "vectorized"
    runner = _chunk_runner(kernel, s.chains, chain_method, s.chunk_size)
    record = _recorder(density.postprocess, s.chunk_size)
    bar = _warmup_bar(s.warmup, bool(s.progress_bar and progress_bar))
    with jax.default_device(devs[0]):
        key = jax.random.PRNGKey(s.seed)
        keys = jax.random.split(key, s.chains) if s.chains > 1 else key
        if not prog["warmup_done"]:
            t0 = time.time()
            log(f"warm-up: {s.warmup} steps x {s.chains} chains ({chain_method}, {devs[0].platform})")
            shaped = start_shaped(density, s.chains)
            compiling = compile_ahead((runner.compiled, (_init_shapes(kernel, keys, s.warmup, shaped, batched), s.chunk_size)),
                                      (record.compiled, (draws_shaped(shaped, s.chains, s.chunk_size),)))
            start = nuts_start(problem, density, s.chains, batched=s.chains > 1)  # compiles while the chunk compiles
            # the chains' state from a fresh kernel (a second init of `kernel` would vmap its sample function again), also
            # while the chunk compiles
            state = _init_chains(nuts_kernel(problem, density), keys, s.warmup, own_start(kernel, start), batched)
            compiling.join()
            state = _warm_up(lambda st, n: runner(st, n)[0], state, s.warmup, s.chunk_size, bar)
            commit_warmup(outdir, prog, state, time.time() - t0)
        else:
            state = load_state(outdir)
            saved = ParamInfo(state.z, state.potential_energy, state.z_grad)
            _init_shapes(kernel, keys, s.warmup, saved, batched)  # sets up the kernel; the saved state is kept
        bar.close()
        while prog["draws_done"] < prog["draws_target"]:
            n = min(s.chunk_size, prog["draws_target"] - prog["draws_done"])
            t0 = time.time()
            state, zs, stats = runner(state, n)
            commit_chunk(outdir, prog, record(zs), stats, state, n, time.time() - t0)
            log(f"chunk {prog['chunks']}: {prog['draws_done']}/{prog['draws_target']} draws per chain on disk ({time.time() - t0:.1f} s)")


def start_shaped(density: UnconstrainedDensity, chains: int) -> ParamInfo:
    """A start of the right shapes and types, all zeros (``chains`` > 1: leading axis ``chains``): what
    :func:`compile_ahead` needs to lay out the chain state before the real start (:func:`nuts_start`) is known."""
    z = density.unravel(jnp.zeros(density.ndim))
    info = ParamInfo(z, jnp.zeros(()), jax.tree.map(jnp.zeros_like, z))
    return info if chains == 1 else jax.tree.map(lambda a: jnp.broadcast_to(a, (chains, *jnp.shape(a))), info)


def compile_ahead(*calls: tuple[Callable, tuple]) -> threading.Thread:
    """Trace each jitted ``fn`` of ``calls`` (``(fn, args)``) here for arguments shaped as ``args``, then let XLA
    compile them in a thread (XLA releases the interpreter while it compiles), overlapping the compilation of the
    start's value and gradient (:func:`nuts_start`); the later calls ``fn(*args)`` with arguments of those shapes find
    them compiled. Join the thread before those calls.

    For the chunk runner, ``args`` = (the shapes of the runner's kernel's init at :func:`start_shaped`, :func:`_init_shapes`,
    n). The real state must then come from a fresh kernel's init: numpyro's init vmaps the kernel's sample function each
    time it is called.
    Only XLA's part runs in the thread: numpyro's effect handlers are one global stack, so two threads must not trace a
    model at once. Any error is left to the real call (which compiles again and raises it); a function that cannot be
    lowered (the runner of one chain) is compiled at its first call as before. docs/performance.md, "Two compilations
    at once"."""
    lowered = []
    for fn, args in calls:
        with contextlib.suppress(Exception):  # the real call raises it with its context
            lowered.append(fn.lower(*args))

    def compile_quietly() -> None:
        for low in lowered:
            with contextlib.suppress(Exception):
                low.compile()

    thread = threading.Thread(target=compile_quietly, daemon=True)
    thread.start()
    return thread


def _warm_up(advance: Callable, state, warmup: int, chunk: int, bar=None):
    """``warmup`` NUTS transitions as calls ``advance(state, n)`` of at most ``chunk`` each: the compiled function of the
    draws' chunks, so that the warm-up compiles nothing of its own (module docstring)."""
    done = 0
    while done < warmup:
        n = min(chunk, warmup - done)
        state = advance(state, n)
        done += n
        if bar is not None:
            bar.update(n)
    return state


def _warmup_bar(total: int, enabled: bool):
    """numpyro's warm-up progress bar, which MCMC.warmup drew, now advanced per warm-up chunk (``update``/``close``);
    a no-op object when disabled (not a terminal, ``sampler.progress_bar: false``)."""
    if enabled:
        from tqdm.auto import tqdm  # noqa: PLC0415  (numpyro's dependency; only on a terminal)

        return tqdm(total=total, desc="warm-up", unit="step")
    return type("NoBar", (), {"update": lambda self, n: None, "close": lambda self: None})()


def _init_chains(kernel: NUTS, keys, warmup: int, start: ParamInfo, batched: bool):
    """The kernel's initial states (numpyro's ``kernel.init``) of the chains starting at ``start``: one batched call for
    vectorized chains (which also batches the kernel's sample function), one call per chain for sequential ones
    (stacked), one call for a single chain."""
    if batched or jnp.ndim(keys) == 1:
        return kernel.init(keys, warmup, start, model_args=(), model_kwargs={})
    states = [kernel.init(k, warmup, jax.tree.map(lambda a, i=i: a[i], start), model_args=(), model_kwargs={})
              for i, k in enumerate(keys)]
    return jax.tree.map(lambda *a: jnp.stack(a), *states)


def own_start(kernel: NUTS | MetropolisNUTS, start: ParamInfo) -> ParamInfo:
    """The posterior's start (:func:`nuts_start`) as ``kernel.init`` takes it (:meth:`MetropolisNUTS.own_start`)."""
    return kernel.own_start(start) if isinstance(kernel, MetropolisNUTS) else start


def _init_shapes(kernel: NUTS | MetropolisNUTS, keys, warmup: int, start: ParamInfo, batched: bool):
    """Set up ``kernel`` as :func:`_init_chains` does (numpyro's ``init`` builds its sample function, vmapped for batched
    chains) and return the shapes of the chains' initial state (``jax.ShapeDtypeStruct``), evaluating nothing: ``init``
    is traced, not run. What :func:`compile_ahead` lays the chunk out for, and all a resumed run needs (its state is the
    saved one). ``start`` carries a potential energy and gradient (:func:`start_shaped`'s zeros, the saved state's U), so
    the trace differentiates no potential: ~0.5 s for a full config with delayed acceptance, where init run eagerly at a
    start without them took ~5 s (docs/performance.md, "The kernel's init traced, not run")."""
    return jax.eval_shape(lambda k, st: _init_chains(kernel, k, warmup, st, batched), keys, start)


def run_problem(problem: FitProblem, source: str, resume: bool = False, force: bool = False, log: Callable[[str], None] = _quiet,
                progress_bar: bool = False) -> str:
    """A whole run: the run directory of ``output.dir`` (new, or resumed: :func:`globalfit.outputs.rundir.prepare_run_dir`;
    ``source``: the config text kept as ``config.input.yaml``), NUTS draws (:func:`sample_run`) or ensemble states
    (``sampler.method: ensemble``, :func:`globalfit.inference.ensemble.sample_ensemble`), then the ArviZ outputs,
    report and plots; returns the diagnostics report. ``globalfit run`` and the run jobs of a sweep call it."""
    writer = jax.process_index() == 0  # in a multi-process runtime only process 0 writes
    outdir = Path(problem.cfg.output.dir)
    lock = run_lock(outdir, command=f"run {problem.where}") if writer else contextlib.nullcontext(outdir)
    with lock:
        try:
            if writer:
                notes: list[str] = []
                outdir, prog = prepare_run_dir(problem.cfg, Path(problem.where), resume, force, notes, source=source)
                for note in notes:
                    log(f"{outdir}: {note}")
            _barrier("run directory prepared")
            if not writer:
                prog = read_progress(outdir)
                prog["draws_target"] = problem.cfg.sampler.draws
            if prog.get("finished") and prog["draws_done"] >= prog["draws_target"]:
                log(f"{outdir}: run already complete ({prog['draws_done']} draws per chain); rebuilding the outputs")
            if problem.cfg.sampler.method == "ensemble":
                sample_ensemble(problem, outdir, prog, log=log)
            else:
                sample_run(problem, outdir, prog, log=log, progress_bar=progress_bar)
            prog["finished"] = True
            if not writer:
                return f"process {jax.process_index()} of {jax.process_count()}: chains done; process 0 writes {outdir}"
            write_progress(outdir, prog)
            idata = build_idata(outdir)
            write_posterior(outdir, idata)
            with figures_beside(outdir, idata):  # trace, rank and corner_eps in a second process for a long run
                summary = summarise(idata, problem.cfg)
                report = write_outputs(outdir, idata, netcdf=False, summary=summary)
                samples = mcsamples(idata, problem.cfg)
                make_plots(outdir, idata, samples=samples, beside=False)
                write_html_report(outdir, idata, samples=samples, problem=problem.exact(), reuse_plots=True, summary=summary)
        except OSError as exc:  # disk full, permissions, ...: every file on disk is complete (atomic writes)
            raise OutputError(f"{outdir}: {exc.strerror or exc} writing {exc.filename or 'the run'}; what is on disk is complete: "
                              "fix the cause and continue with --resume") from None
    return report
