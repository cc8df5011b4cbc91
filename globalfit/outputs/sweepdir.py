"""The sweep directory: what ``globalfit sweep`` and ``globalfit profile`` write, and what ``--resume`` reads back.

Layout (``output.dir`` of the sweep file, or ``--out`` of ``globalfit profile``): ``sweep.input.yaml`` (the sweep
file as given, when there is one), ``manifest.json`` (each job's name and digest: the hash of its resolved configs,
settings and seed), ``tasks/<job>/<task>.npz`` (each finished task's result, written atomically by the client as soon
as it arrives: a temporary file renamed into place), ``events.jsonl`` (one line per finished or failed task: name,
attempt, worker, start and end times), ``failed.json`` (tasks that failed after every retry) and, per job,
``<job>/`` with its assembled outputs (``profile.npz`` and figures, ``evidence.json``, or a run directory).

A killed sweep resumes from the results on disk (``--resume``); a job whose digest changed refuses to resume (its
old results would be mixed with new ones); an existing directory is never overwritten without ``--force``.
"""

from __future__ import annotations

import json
import os
import shutil
import time
import zipfile
from pathlib import Path
from typing import Any

import numpy as np

from globalfit.errors import OutputError
from globalfit.outputs.rundir import LOCK, atomic_write

__all__ = ["MANIFEST", "TASKS", "EVENTS", "FAILED", "read_manifest", "check_sweep_dir", "prepare_sweep_dir", "result_path", "save_result", "load_result", "log_event",
           "read_events", "write_failures"]

MANIFEST = "manifest.json"
TASKS = "tasks"
EVENTS = "events.jsonl"
FAILED = "failed.json"


def read_manifest(manifest: Path) -> dict[str, str]:
    """The jobs (name -> digest) of a sweep directory's ``manifest.json``; a file that cannot be read or is not a
    manifest is one OutputError line naming it (never a JSON traceback), and nothing is changed."""
    manifest = Path(manifest)
    try:
        data = json.loads(manifest.read_text(encoding="utf-8"))
        why = "no 'jobs' mapping of job name -> digest"
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        data, why = None, " ".join(f"{type(exc).__name__}: {exc}".split())
    jobs = data.get("jobs") if isinstance(data, dict) else None
    if not (isinstance(jobs, dict) and all(isinstance(k, str) and isinstance(v, str) for k, v in jobs.items())):
        raise OutputError(f"{manifest}: not a readable sweep manifest ({why}); it is written by globalfit, so it was edited or damaged "
                          f"outside it: rerun with --force to start over (this deletes the results in {manifest.parent}) or use another "
                          "output directory")
    return jobs


def check_sweep_dir(outdir: Path, jobs: dict[str, str], resume: bool, force: bool) -> dict[str, str]:
    """What :func:`prepare_sweep_dir` would refuse, without touching anything (so that the CLI can say it before it
    starts a cluster); returns the jobs of the manifest to write (those resumed and those added)."""
    outdir = Path(outdir)
    exists = outdir.is_dir() and any(p.name != LOCK for p in outdir.iterdir())
    if resume and force:
        raise OutputError("give --resume or --force, not both")
    manifest = outdir / MANIFEST
    if resume:
        if not exists:
            raise OutputError(f"{outdir}: nothing to resume (directory missing or empty); run without --resume")
        if not manifest.is_file():
            raise OutputError(f"{outdir}: not a sweep directory (no {MANIFEST}); cannot resume it")
        old = read_manifest(manifest)
        for name, digest in jobs.items():
            if name in old and old[name] != digest:
                raise OutputError(f"{outdir}: cannot resume job {name}: its configs or settings changed since it ran (digest {digest} != "
                                  f"{old[name]}); use --force to start afresh or another output directory")
        return {**old, **jobs}
    if exists:
        if not force:
            raise OutputError(f"{outdir}: output directory exists; use --resume to continue it or --force to overwrite it")
        if not manifest.is_file():
            raise OutputError(f"{outdir}: exists and is not a sweep directory; refusing to delete it even with --force")
    return dict(jobs)


def prepare_sweep_dir(outdir: Path, jobs: dict[str, str], resume: bool, force: bool, source: Path | None = None) -> Path:
    """Create (or check, to resume) the sweep directory for ``jobs`` (name -> digest); returns it.

    New: the directory must be missing or empty (``force``: an existing sweep directory is deleted first).
    ``resume``: the jobs already in the manifest must have the same digests; new jobs are added
    (:func:`check_sweep_dir`). Call it inside :func:`globalfit.outputs.rundir.run_lock` of the same directory."""
    outdir = Path(outdir)
    jobs = check_sweep_dir(outdir, jobs, resume, force)
    manifest = outdir / MANIFEST
    if force and not resume:  # a sweep directory (checked): everything but the lock this sweep holds
        for p in outdir.glob("*"):
            if p.name != LOCK:
                shutil.rmtree(p) if p.is_dir() and not p.is_symlink() else p.unlink()
    (outdir / TASKS).mkdir(parents=True, exist_ok=True)
    if source is not None:
        atomic_write(outdir / "sweep.input.yaml", Path(source).read_bytes())
    atomic_write(manifest, json.dumps({"jobs": jobs, "updated": time.strftime("%Y-%m-%dT%H:%M:%S")}, indent=2).encode())
    (outdir / FAILED).unlink(missing_ok=True)
    return outdir


def result_path(outdir: Path, task: str) -> Path:
    return Path(outdir) / TASKS / f"{task}.npz"


def save_result(outdir: Path, task: str, result: dict[str, Any]) -> Path:
    """Write a task's result atomically: numpy arrays as arrays, everything else as JSON (``meta``)."""
    path = result_path(outdir, task)
    path.parent.mkdir(parents=True, exist_ok=True)
    arrays = {k: v for k, v in result.items() if isinstance(v, (np.ndarray, np.generic))}
    meta = {k: v for k, v in result.items() if k not in arrays}
    tmp = path.with_name(path.stem + ".tmp.npz")
    with open(tmp, "wb") as fh:
        np.savez(fh, __meta__=np.asarray(json.dumps(meta)), **arrays)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)
    return path


def load_result(outdir: Path, task: str) -> dict[str, Any] | None:
    """A task's result as saved, or None when it has not finished; a damaged file (results are written atomically, so
    only an outside change damages one) is one OutputError line naming it."""
    path = result_path(outdir, task)
    if not path.is_file():
        return None
    try:
        with np.load(path, allow_pickle=False) as z:
            out: dict[str, Any] = json.loads(str(z["__meta__"]))
            out.update({k: z[k] for k in z.files if k != "__meta__"})
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile) as exc:  # not npz, truncated, no __meta__
        raise OutputError(f"{path}: not a readable task result ({type(exc).__name__}); delete it and rerun with --resume to "
                          "compute that task again") from None
    return out


def log_event(outdir: Path, event: dict[str, Any]) -> None:
    """Append one line to ``events.jsonl`` in one write; after a line torn by a killed sweep, on a line of its own."""
    fd = os.open(Path(outdir) / EVENTS, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        size = os.fstat(fd).st_size
        torn = size > 0 and os.pread(fd, 1, size - 1) != b"\n"
        os.write(fd, ("\n" if torn else "").encode() + (json.dumps(event) + "\n").encode())
    finally:
        os.close(fd)


def read_events(outdir: Path) -> list[dict]:
    """The events of ``events.jsonl`` in order; a line that is not a JSON object (torn by a killed sweep) is skipped."""
    f = Path(outdir) / EVENTS
    events = []
    for line in f.read_text().splitlines() if f.is_file() else []:
        try:
            event = json.loads(line)
        except ValueError:
            continue
        if isinstance(event, dict):
            events.append(event)
    return events


def write_failures(outdir: Path, failed: dict[str, str]) -> None:
    atomic_write(Path(outdir) / FAILED, json.dumps(failed, indent=2).encode())
