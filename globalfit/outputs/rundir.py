"""The run directory: what ``globalfit run`` writes and every output command reads.

Layout (``output.dir``): ``config.input.yaml`` (as given), ``config.resolved.yaml`` (every default filled),
``progress.json`` (config hash, seed, warm-up done, chunks and draws on disk, finished flag), ``state.pkl`` (the NUTS
chain state after warm-up and after every chunk), ``chunks/chunk_NNNN.npz`` (the draws of each chunk), then
``posterior.nc``, ``summary.csv``, ``report.txt`` and ``plots/``. Every file is written atomically (a temporary file
renamed into place), each chunk before the state that follows it, so a kill at any moment loses at most the chunk
in flight.
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

import jax
import numpy as np
import yaml

from globalfit.problem.config import RunConfig, config_hash
from globalfit.errors import ConfigError, OutputError

__all__ = ["PROGRESS", "STATE", "CHUNKS", "read_progress", "write_progress", "versions", "resolved_yaml", "save_state", "load_state",
           "save_chunk", "load_chunks", "atomic_write", "prepare_run_dir"]

PROGRESS = "progress.json"
STATE = "state.pkl"
CHUNKS = "chunks"


def atomic_write(path: Path, data: bytes) -> None:
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


def write_progress(outdir: Path, progress: dict) -> None:
    atomic_write(outdir / PROGRESS, json.dumps(progress, indent=2).encode())


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


def save_state(outdir: Path, state) -> None:
    atomic_write(outdir / STATE, pickle.dumps(jax.device_get(state)))


def load_state(outdir: Path):
    f = outdir / STATE
    if not f.exists():
        raise OutputError(f"{outdir}: no chain state ({STATE}) to resume from; rerun with --force")
    with open(f, "rb") as fh:
        return pickle.load(fh)


def save_chunk(outdir: Path, index: int, samples: dict, extra: dict) -> None:
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


def prepare_run_dir(cfg: RunConfig, path: Path, resume: bool, force: bool, source: str | None = None) -> tuple[Path, dict]:
    """(output directory, progress) of a new run (directory created, configs written: ``source``, else the text of
    ``path``, as ``config.input.yaml``) or of one to resume (checked against the config hash); an existing directory
    is never overwritten without ``force``."""
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
    (outdir / "config.input.yaml").write_text(path.read_text() if source is None else source)
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
    write_progress(outdir, prog)
    return outdir, prog
