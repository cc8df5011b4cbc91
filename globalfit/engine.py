"""``globalfit run CONFIG``: config -> NUTS (numpyro) -> chunked draws on disk -> ArviZ outputs, report, plots.

Output directory (``output.dir``; a relative path resolves against the current working directory):

* ``config.input.yaml`` (as given), ``config.resolved.yaml`` (prior set merged, every default filled);
* ``progress.json``: config hash, seed, warm-up done, chunks and draws on disk, finished flag;
* ``state.pkl``: the NUTS chain state (step size, mass matrix, position, rng key) after warm-up and after
  every chunk; ``chunks/chunk_NNNN.npz``: the draws of each chunk (``sampler.chunk_size`` per chain),
  written as they come, so an interrupted run keeps every finished chunk;
* ``posterior.nc`` (ArviZ InferenceData: posterior = sampled + derived, sample_stats, log_likelihood
  per likelihood; attrs: resolved config, package versions, PDG edition, seed, config hash),
  ``summary.csv``, ``report.txt`` and ``plots/``.

Long runs: warm-up once (``mcmc.warmup``), then chunks of ``chunk_size`` NUTS transitions from
``mcmc.post_warmup_state`` (a ``lax.scan`` over ``kernel.sample``, compiled once; ``MCMC.run`` would
recompile at every chunk). ``--resume`` reloads ``state.pkl`` and continues (only if
:func:`globalfit.config.config_hash` is unchanged; ``sampler.draws`` may grow); an existing directory is
never overwritten without ``--force``. Each chunk file is written before the state that follows it,
so a kill at any moment loses at most the chunk in flight, which a resume redraws from the saved state.

Chains: ``vectorized`` (vmap on one device) by default; when JAX sees at least as many devices as chains
``vectorized`` becomes ``parallel`` (pmap). ``sampler.device`` picks the JAX platform (cpu / gpu).
"""

from __future__ import annotations

import json
import os
import pickle
import shutil
import sys
import time
from importlib import metadata
from pathlib import Path

import numpy as np
import yaml

from . import _jax  # noqa: F401
from .config import RunConfig, config_hash, load_config
from .errors import ConfigError, OutputError

__all__ = ["run_from_config", "dry_run", "load_chunks", "read_progress", "EXTRA_FIELDS"]

EXTRA_FIELDS = ("diverging", "num_steps", "energy", "potential_energy", "accept_prob", "adapt_state.step_size")
PROGRESS = "progress.json"
STATE = "state.pkl"
CHUNKS = "chunks"


def _atomic_write(path: Path, data: bytes) -> None:
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def read_progress(outdir: Path) -> dict:
    f = outdir / PROGRESS
    if not f.exists():
        raise OutputError(f"{outdir}: not a globalfit run directory (no {PROGRESS})")
    return json.loads(f.read_text())


def _write_progress(outdir: Path, progress: dict) -> None:
    _atomic_write(outdir / PROGRESS, json.dumps(progress, indent=2).encode())


def versions() -> dict[str, str]:
    out = {"python": sys.version.split()[0]}
    for pkg in ("globalfit", "jax", "jaxlib", "numpyro", "arviz", "numpy", "pdg"):
        try:
            out[pkg] = metadata.version(pkg)
        except metadata.PackageNotFoundError:
            pass
    return out


def resolved_yaml(cfg: RunConfig) -> str:
    return yaml.safe_dump(cfg.model_dump(mode="json", exclude_none=True), sort_keys=False)


def _select_device(cfg: RunConfig, where: str):
    import jax

    try:
        devs = jax.devices(cfg.sampler.device)
    except RuntimeError:
        raise ConfigError(f"{where}: sampler.device: {cfg.sampler.device!r} requested but JAX sees no such device ({jax.devices()[0].platform} only)") from None
    return devs


def _prepare(path: Path):
    from likelihoods import build_likelihoods

    from .scenarios import get_scenario
    from .support import check_config, check_plots

    cfg = load_config(path)
    check_config(cfg, str(path))
    check_plots(cfg, str(path))
    lks = build_likelihoods(cfg.likelihoods, get_scenario(cfg.model.scenario), where=str(path))
    return cfg, lks


def dry_run(path: Path, cfg: RunConfig, lks) -> int:
    """Print the resolved config, the likelihoods with references, the start point and log L there."""
    import jax.numpy as jnp

    from .model import observables
    from .parameters import complete
    from .sampling import complete_with_rh, start_point
    from .scenarios import get_scenario
    from .support import constraint_values, model_options, physical_point

    sc = get_scenario(cfg.model.scenario)
    opts = model_options(cfg)
    print(f"# resolved config ({path}; hash {config_hash(cfg)})")
    print(resolved_yaml(cfg).rstrip())
    print("\nlikelihoods:")
    if not lks:
        print("  (none: the run samples the prior)")
    for lk in lks:
        print(f"  {lk.name:<24s} {lk.info.constrains}")
        print(f"  {'':<24s} ref: {lk.info.reference}   data: {lk.info.data_edition}")
    start = start_point(cfg)
    p = complete(physical_point(complete_with_rh(start), sc, opts))
    print("\nstart point (fixed values, ref, else prior centre):")
    for k, v in p.items():
        mark = "sampled" if k in cfg.sampled() else ("derived (r_H)" if k == "cos_beta" and "r_H" in start else "fixed")
        print(f"  {k:<10s} {float(v):>13.6g}   {mark}")
    if "r_H" in start:
        print(f"  {'r_H':<10s} {start['r_H']:>13.6g}   {'sampled' if 'r_H' in cfg.sampled() else 'fixed'}")
    print("\nconstraints at the start point:")
    inside = True
    for name, (val, bound, holds) in constraint_values(p, sc, opts).items():
        ok = bool(holds)
        inside &= ok or (cfg.model.constraints == "none")
        print(f"  {name:<30s} {float(val):>12.4g}  bound {float(bound):>10.4g}  {'ok' if ok else 'VIOLATED'}")
    obs = observables(p, sc, opts)
    print("\nlog L at the start point:")
    total = 0.0
    for lk in lks:
        v = float(jnp.asarray(lk.loglike(obs, p)))
        total += v
        print(f"  {lk.name:<24s} {v:>13.6g}")
    print(f"  {'total':<24s} {total:>13.6g}")
    if not inside:
        print("warning: the start point lies outside the physical support; set ref values inside it", file=sys.stderr)
    return 0


def _prepare_outdir(cfg: RunConfig, path: Path, resume: bool, force: bool) -> tuple[Path, dict]:
    if cfg.output is None:
        raise ConfigError(f"{path}: output: required key is missing (output: {{dir: <directory>}})")
    outdir = Path(cfg.output.dir)
    h = config_hash(cfg)
    exists = outdir.exists() and any(outdir.iterdir())
    if resume and force:
        raise OutputError("give --resume or --force, not both")
    if resume:
        if not exists:
            raise OutputError(f"{outdir}: nothing to resume (directory missing or empty); run without --resume")
        prog = read_progress(outdir)
        if prog.get("config_hash") != h:
            raise OutputError(
                f"{outdir}: cannot resume: the config changed (hash {h} != {prog.get('config_hash')} of the run on disk); "
                "only sampler.draws, chunk_size, progress_bar, output and plots may change. Use --force to start afresh"
            )
        prog["draws_target"] = cfg.sampler.draws
        return outdir, prog
    if exists:
        if not force:
            raise OutputError(f"{outdir}: output directory exists; use --resume to continue it or --force to overwrite it")
        if not (outdir / PROGRESS).exists() and any(outdir.iterdir()):
            raise OutputError(f"{outdir}: exists and is not a globalfit run directory; refusing to delete it even with --force")
        shutil.rmtree(outdir)
    (outdir / CHUNKS).mkdir(parents=True, exist_ok=True)
    (outdir / "config.input.yaml").write_text(path.read_text())
    (outdir / "config.resolved.yaml").write_text(resolved_yaml(cfg))
    prog = {
        "config_hash": h,
        "seed": cfg.sampler.seed,
        "chains": cfg.sampler.chains,
        "warmup_done": False,
        "chunks": 0,
        "draws_done": 0,
        "draws_target": cfg.sampler.draws,
        "finished": False,
        "started": time.strftime("%Y-%m-%dT%H:%M:%S"),
    }
    _write_progress(outdir, prog)
    return outdir, prog


def _save_state(outdir: Path, state) -> None:
    import jax

    _atomic_write(outdir / STATE, pickle.dumps(jax.device_get(state)))


def _load_state(outdir: Path):
    f = outdir / STATE
    if not f.exists():
        raise OutputError(f"{outdir}: no chain state ({STATE}) to resume from; rerun with --force")
    with open(f, "rb") as fh:
        return pickle.load(fh)


def _save_chunk(outdir: Path, index: int, samples: dict, extra: dict) -> None:
    arrays = {f"post:{k}": np.asarray(v) for k, v in samples.items()}
    arrays.update({f"stat:{k}": np.asarray(v) for k, v in extra.items()})
    tmp = outdir / CHUNKS / f"chunk_{index:04d}.tmp.npz"
    np.savez(tmp, **arrays)
    os.replace(tmp, outdir / CHUNKS / f"chunk_{index:04d}.npz")


def load_chunks(outdir: Path, n_chunks: int | None = None) -> tuple[dict, dict]:
    """Concatenate the chunk files (draw axis 1): ``(posterior arrays, sample-stat arrays)``."""
    files = sorted((outdir / CHUNKS).glob("chunk_[0-9][0-9][0-9][0-9].npz"))
    if n_chunks is not None:
        files = files[:n_chunks]
    if not files:
        raise OutputError(f"{outdir}: no draws on disk yet (chunks/ is empty)")
    post: dict[str, list] = {}
    stat: dict[str, list] = {}
    for f in files:
        with np.load(f) as z:
            for k in z.files:
                kind, name = k.split(":", 1)
                (post if kind == "post" else stat).setdefault(name, []).append(z[k])
    return {k: np.concatenate(v, axis=1) for k, v in post.items()}, {k: np.concatenate(v, axis=1) for k, v in stat.items()}


def _chunk_runner(kernel, chains: int, chain_method: str):
    """A function ``(state, n) -> (last_state, samples, stats)`` (arrays ``(chain, draw, ...)``) running n NUTS
    transitions per chain, compiled once per n (``MCMC.run`` would recompile at every chunk). For
    ``vectorized`` chains the kernel's sample function is already batched over chains (numpyro vmaps it)."""
    import jax
    from jax import lax

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

    import jax.numpy as jnp

    return jax.jit(vectorized, static_argnums=1)


def _sample(cfg: RunConfig, lks, outdir: Path, prog: dict, where: str) -> None:
    import jax
    from numpyro.infer import MCMC, NUTS, init_to_uniform, init_to_value

    from .sampling import build_model, init_values

    devs = _select_device(cfg, where)
    spec = build_model(cfg, lks)
    s = cfg.sampler
    chain_method = s.chain_method
    if chain_method == "vectorized" and s.chains > 1 and len(devs) >= s.chains:
        chain_method = "parallel"
    if chain_method == "parallel" and len(devs) < s.chains:
        chain_method = "vectorized"
    init = init_values(spec)
    strategy = init_to_value(values=init) if init else init_to_uniform(radius=2)
    kernel = NUTS(spec.model, target_accept_prob=s.target_accept, max_tree_depth=s.max_tree_depth, init_strategy=strategy)
    progress = bool(s.progress_bar and sys.stderr.isatty())
    mcmc = MCMC(kernel, num_warmup=s.warmup, num_samples=1, num_chains=s.chains, chain_method=chain_method, progress_bar=progress)
    with jax.default_device(devs[0]):
        key = jax.random.PRNGKey(s.seed)
        if not prog["warmup_done"]:
            t0 = time.time()
            print(f"warm-up: {s.warmup} steps x {s.chains} chains ({chain_method}, {devs[0].platform})", file=sys.stderr)
            try:
                mcmc.warmup(key, collect_warmup=False)
            except RuntimeError as exc:
                if "valid initial" in str(exc) or "Cannot find" in str(exc):
                    raise ConfigError(f"{where}: no valid start point inside the physical support: move the ref values (see `globalfit run --dry-run`)") from None
                raise
            state = mcmc.post_warmup_state
            _save_state(outdir, state)
            prog["warmup_done"] = True
            prog["warmup_seconds"] = round(time.time() - t0, 2)
            _write_progress(outdir, prog)
        else:
            state = _load_state(outdir)
            keys = jax.random.split(key, s.chains) if (s.chains > 1 and chain_method == "vectorized") else key
            kernel.init(keys, s.warmup, None, model_args=(), model_kwargs={})  # sets up the kernel; the saved state is kept
        runner = _chunk_runner(kernel, s.chains, chain_method)
        while prog["draws_done"] < prog["draws_target"]:
            n = min(s.chunk_size, prog["draws_target"] - prog["draws_done"])
            t0 = time.time()
            state, samples, stats = runner(state, n)
            _save_chunk(outdir, prog["chunks"], jax.device_get(samples), jax.device_get(stats))
            _save_state(outdir, state)
            prog["chunks"] += 1
            prog["draws_done"] += n
            prog["sampling_seconds"] = round(prog.get("sampling_seconds", 0.0) + time.time() - t0, 2)
            _write_progress(outdir, prog)
            print(f"chunk {prog['chunks']}: {prog['draws_done']}/{prog['draws_target']} draws per chain on disk ({time.time() - t0:.1f} s)", file=sys.stderr)


def run_from_config(path: Path, dry_run: bool = False, resume: bool = False, force: bool = False) -> int:
    """CLI entry of ``globalfit run``; returns the exit code (user errors raise ConfigError/OutputError)."""
    path = Path(path)
    cfg, lks = _prepare(path)
    if dry_run:
        return globals()["dry_run"](path, cfg, lks)
    outdir, prog = _prepare_outdir(cfg, path, resume, force)
    if prog.get("finished") and prog["draws_done"] >= prog["draws_target"]:
        print(f"{outdir}: run already complete ({prog['draws_done']} draws per chain); rebuilding the outputs", file=sys.stderr)
    _sample(cfg, lks, outdir, prog, str(path))
    prog["finished"] = True
    _write_progress(outdir, prog)

    from .plots import make_plots
    from .report import build_idata, write_outputs

    idata = build_idata(outdir)
    write_outputs(outdir, idata)
    make_plots(outdir, idata)
    return 0
