"""The affine-invariant ensemble sampler (emcee) on a :class:`~globalfit.problem.FitProblem`: ``sampler.method: ensemble``.

**Why a second sampler.** The full models' posteriors are the prior box with holes cut by *mass* edges: ends of
published search curves, kinematic thresholds, beam-dump bands, thermalisation switches (docs/performance.md, "NUTS
geometry"). Those edges are physics, and NUTS's step size is set by their curvature, so its trajectories run long and
diverge. An ensemble of walkers moving by Goodman & Weare's stretch move (Commun. Appl. Math. Comput. Sci. 5, 65
(2010); emcee, Foreman-Mackey et al., arXiv:1202.3665) needs no gradient and does not feel curvature: on runs/full_B.yaml
it reached a given effective sample size ~275-300x sooner than plain NUTS (docs/performance.md, measured side by side).
The full configs move the walkers by differential evolution (``moves: {de: 0.8, de_snooker: 0.2}``), which halves the
stretch move's sampling time for the same posterior (docs/performance.md, "The full configs on differential-evolution
moves").

**The density** is NUTS's: numpyro's potential of :meth:`~globalfit.problem.FitProblem.numpyro_model` in its
unconstrained coordinates (prior, Jacobians, support, softened likelihoods;
:meth:`~globalfit.problem.FitProblem.unconstrained`), vmapped over the half-ensemble that each move updates;
every kept state is passed through its ``postprocess``, so a run records the same quantities (parameters, derived
quantities, exact ln L per likelihood) as a NUTS run, and every output (NetCDF, GetDist chains, plots, report) reads it
the same way, with ``chain`` = walker.

**Settings** (``sampler`` block): ``chains`` walkers (even, at least twice the sampled parameters); ``moves``
(default ``{stretch: 1}``; :func:`ensemble_moves`); ``warmup`` kept
states discarded as burn-in and ``draws`` kept, each ``thin`` ensemble steps apart, so a walker makes
(warmup + draws) x thin steps; ``seed``; ``chunk_size`` kept states per chunk on disk; ``restart_strays`` (off by
default): walkers stuck far below the others at the end of burn-in restart at their positions (:func:`restart_strays`).
The walkers start at random
inside the prior (uniform in (-2, 2) of the unconstrained coordinates, as numpyro's ``init_to_uniform``; redrawn until
the density is finite). A chunk is written with the
ensemble state after it (coordinates, ln p, the generator's state), so ``--resume`` continues the identical chain.

**Convergence** (:func:`globalfit.outputs.report.diagnostics_line`): split R-hat and ESS over the walkers (ArviZ,
as for chains) and the integrated autocorrelation time tau of the ensemble (emcee's estimator): the kept chain should
be at least 50 tau long for tau itself to be trusted (emcee's documentation).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import emcee
import jax
import jax.numpy as jnp
import numpy as np

from globalfit import _jax  # noqa: F401
from globalfit.errors import ConfigError
from globalfit.outputs.rundir import commit_chunk, commit_warmup, load_state
from globalfit.problem import FitProblem
from globalfit.inference.starts import uniform_starts

__all__ = ["ENSEMBLE_STATS", "MOVES", "EnsembleDensity", "SnookerMove", "ensemble_density", "ensemble_moves", "check_walkers",
           "initial_walkers", "restart_strays", "sample_ensemble", "snooker_proposal"]

ENSEMBLE_STATS = ("lp", "moved")  # per walker and kept state: ln p (unconstrained), moved since the previous kept state


@dataclass(frozen=True)
class EnsembleDensity:
    """The problem's numpyro potential as emcee needs it: numpy arrays of walkers in, numpy arrays out."""

    ndim: int
    log_prob: Callable[[np.ndarray], np.ndarray]  # (walkers, ndim) -> (walkers,), -inf outside the support
    record: Callable[[np.ndarray], dict]  # (states, walkers, ndim) -> {quantity: (walkers, states, ...)}
    unravel: Callable


def ensemble_density(problem: FitProblem) -> EnsembleDensity:
    """Log-density and recorder of ``problem`` in numpyro's unconstrained coordinates (module doc)."""
    u = problem.unconstrained()
    batched = jax.jit(jax.vmap(lambda x: -u.potential(u.unravel(x))))
    recorded = jax.jit(jax.vmap(jax.vmap(lambda x: u.postprocess(u.unravel(x)))))

    def log_prob(x: np.ndarray) -> np.ndarray:
        v = np.asarray(batched(jnp.asarray(x, dtype=jnp.float64)))
        return np.where(np.isfinite(v), v, -np.inf)

    def record(chain: np.ndarray) -> dict:
        out = recorded(jnp.asarray(np.swapaxes(chain, 0, 1)))  # (walkers, states, ndim)
        return {k: np.asarray(v) for k, v in out.items()}

    return EnsembleDensity(ndim=u.ndim, log_prob=log_prob, record=record, unravel=u.unravel)


def check_walkers(problem: FitProblem, ndim: int) -> None:
    """ConfigError unless ``sampler.chains`` is an even number of walkers >= 2 ndim (the stretch move's requirement)."""
    n = problem.cfg.sampler.chains
    if n < 2 * ndim or n % 2:
        raise ConfigError(f"{problem.where}: sampler.chains: {n} walkers; the ensemble sampler needs an even number of at least "
                          f"2 x {ndim} sampled parameters = {2 * ndim}")
    if jax.process_count() > 1:
        raise ConfigError(f"{problem.where}: sampler.method: ensemble runs in one process (its walkers are vectorised on one "
                          f"device); this runtime has {jax.process_count()}: use method nuts to spread chains")


def initial_walkers(problem: FitProblem, density: EnsembleDensity, radius: float = 2.0, tries: int = 100) -> np.ndarray:
    """(walkers, ndim) start points drawn uniformly in (-radius, radius) of the unconstrained coordinates (numpyro's
    ``init_to_uniform``), each redrawn until its density is finite; ConfigError when ``tries`` rounds leave any."""
    s = problem.cfg.sampler
    x = uniform_starts(s.chains, density.ndim, np.random.default_rng(s.seed), lambda x: np.isfinite(density.log_prob(x)),
                       radius=radius, tries=tries)
    if x is None:
        raise ConfigError(f"{problem.where}: no start points of finite density for the walkers in {tries} rounds of prior draws: "
                          "is the physical support empty? (`globalfit run --dry-run`)")
    return x


class SnookerMove(emcee.moves.RedBlueMove):
    """The differential-evolution snooker update of ter Braak & Vrugt, Stat. Comput. 18, 435 (2008),
    doi:10.1007/s11222-008-9104-9: for walker x and three other walkers z, z1, z2 (:func:`snooker_proposal`),
    proposal x' = x + gamma [e . (z1 - z2)] e with e = (x - z)/|x - z| (gamma = 1.7, the paper's mean), accepted with
    min(1, p(x') |x' - z|^(d-1) / (p(x) |x - z|^(d-1))).

    As emcee's other red-blue moves, the ensemble is split in two halves, each updated given the other; each walker
    takes three distinct walkers of the other half, in random order, as (z, z1, z2), all walkers at once. (emcee 3.1.6's
    ``DESnookerMove`` splits it in four, one walker from each other quarter, walker by walker in Python, twice the
    density calls per step; and its proposal is not the published one: the direction (x - z)/sqrt|x - z| is not a unit
    vector and the Jacobian exponent is (d - 1)/2, so its stationary distribution is not the target: on an
    11-dimensional standard normal it samples a variance of 0.60 per coordinate, and the mixture
    {de: 0.8, de_snooker: 0.2} 0.87; docs/performance.md, "emcee's snooker move".) ``tests/test_ensemble.py`` samples
    known distributions with every move.
    """

    def __init__(self, gammas: float = 1.7, **kwargs):
        self.gammas = gammas
        super().__init__(**kwargs)

    def get_proposal(self, s, c, random):
        pool = np.concatenate(c)
        pick = np.argsort(random.random_sample((len(s), len(pool))), axis=1)[:, :3]  # three distinct, random order
        z, z1, z2 = np.moveaxis(pool[pick], 1, 0)
        return snooker_proposal(s, z, z1, z2, self.gammas)


def snooker_proposal(x: np.ndarray, z: np.ndarray, z1: np.ndarray, z2: np.ndarray,
                     gamma: float) -> tuple[np.ndarray, np.ndarray]:
    """ter Braak & Vrugt (2008) for walkers ``x`` (n, d) with their (z, z1, z2): the proposals
    x' = x + gamma [e . (z1 - z2)] e, e = (x - z)/|x - z|, and the log of the acceptance factor
    (d - 1) ln(|x' - z| / |x - z|)."""
    r = np.linalg.norm(x - z, axis=1)
    e = (x - z) / r[:, None]
    q = x + gamma * np.einsum("nd,nd->n", e, z1 - z2)[:, None] * e
    return q, (x.shape[1] - 1.0) * (np.log(np.linalg.norm(q - z, axis=1)) - np.log(r))


MOVES = {"stretch": emcee.moves.StretchMove, "de": emcee.moves.DEMove, "de_snooker": SnookerMove,
         "walk": emcee.moves.WalkMove}  # sampler.moves names -> the moves, with emcee's default settings


def ensemble_moves(weights: dict[str, float]) -> list[tuple[emcee.moves.Move, float]]:
    """emcee's ``moves`` argument from ``sampler.moves`` (name -> weight; emcee draws one move per step with these
    probabilities): stretch (Goodman & Weare 2010), de (differential evolution, ter Braak 2006; Nelson et al.,
    arXiv:1311.5229), de_snooker (ter Braak & Vrugt 2008), walk (Goodman & Weare's walk move)."""
    total = sum(weights.values())
    return [(MOVES[name](), w / total) for name, w in weights.items()]


def restart_strays(state: emcee.State, density: EnsembleDensity, gap: float, rng: np.random.Generator) -> tuple[emcee.State, list[int]]:
    """(the burn-in's last state with its strays restarted, their indices). A stray is a walker whose ln p lies more
    than ``gap`` below the walkers' median: stuck where the density is far lower than where the others are (in d
    dimensions the typical set spans ~sqrt(d/2) in ln p). Each restarts at the position of a random non-stray walker,
    moved by 1e-6 of the walkers' spread per coordinate so that no two coincide. Only the start of the kept chain
    changes, so what follows is the same exact MCMC; ``sampler.restart_strays`` (off by default)."""
    x, lp = np.array(state.coords), np.array(state.log_prob)
    stray = np.flatnonzero(lp < np.median(lp) - gap)
    if stray.size == 0:
        return state, []
    good = np.setdiff1d(np.arange(len(lp)), stray)
    x[stray] = x[rng.choice(good, stray.size)] + 1e-6 * x[good].std(0) * rng.standard_normal((stray.size, x.shape[1]))
    lp[stray] = density.log_prob(x)[stray]  # the whole ensemble: the shape the start search compiled
    return emcee.State(x, log_prob=lp, random_state=state.random_state), stray.tolist()


def _sampler(problem: FitProblem, density: EnsembleDensity) -> emcee.EnsembleSampler:
    s = problem.cfg.sampler
    return emcee.EnsembleSampler(s.chains, density.ndim, density.log_prob, moves=ensemble_moves(s.moves), vectorize=True)


def sample_ensemble(problem: FitProblem, outdir: Path, prog: dict, log: Callable[[str], None] = lambda line: None,
                    density: EnsembleDensity | None = None) -> None:
    """Burn in (unless ``prog`` says it is done) and draw chunks until ``prog["draws_target"]`` kept states per walker
    are on disk; the same run-directory protocol as NUTS (:func:`globalfit.inference.nuts.sample_run`). ``density``:
    one already built for ``problem`` (it is compiled once per build)."""
    s = problem.cfg.sampler
    density = ensemble_density(problem) if density is None else density
    check_walkers(problem, density.ndim)
    if not prog["warmup_done"]:
        t0 = time.time()
        log(f"burn-in: {s.warmup} x {s.thin} ensemble steps of {s.chains} walkers (emcee moves: {s.moves_label()})")
        start = emcee.State(initial_walkers(problem, density), random_state=np.random.RandomState(s.seed % 2**32).get_state())
        state = _sampler(problem, density).run_mcmc(start, s.warmup, thin_by=s.thin, store=False, progress=False)
        if s.restart_strays is not None:
            state, moved = restart_strays(state, density, s.restart_strays, np.random.default_rng(s.seed))
            if moved:
                log(f"burn-in: {len(moved)} walker(s) more than {s.restart_strays:g} below the median ln p restarted at others: {moved}")
        commit_warmup(outdir, prog, state, time.time() - t0)
    else:
        state = load_state(outdir)
    while prog["draws_done"] < prog["draws_target"]:
        n = min(s.chunk_size, prog["draws_target"] - prog["draws_done"])
        t0 = time.time()
        sampler = _sampler(problem, density)
        before = np.asarray(state.coords)
        state = sampler.run_mcmc(state, n, thin_by=s.thin, progress=False)
        chain = sampler.get_chain()  # (n, walkers, ndim)
        moved = np.any(np.diff(np.concatenate([before[None], chain]), axis=0) != 0.0, axis=-1)
        stats = {"lp": sampler.get_log_prob().T, "moved": moved.T}
        commit_chunk(outdir, prog, density.record(chain), stats, state, n, time.time() - t0)
        log(f"chunk {prog['chunks']}: {prog['draws_done']}/{prog['draws_target']} states per walker on disk ({time.time() - t0:.1f} s)")
