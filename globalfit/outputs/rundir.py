"""The run directory: what ``globalfit run`` writes and every output command reads.

Layout (``output.dir``): ``progress.json`` (config hash, seed, warm-up done, chunks and draws on disk, finished flag),
``config.input.yaml`` (as given), ``config.resolved.yaml`` (every default filled), ``state.pkl`` (the NUTS chain
state after warm-up and after every chunk, with the number of chunks it follows), ``chunks/chunk_NNNN.npz`` (the
draws of each chunk), then ``posterior.nc``, ``summary.csv``, ``report.txt`` and ``plots/``; ``.globalfit.lock``
while a run writes.

Crash safety. Every file is written atomically (a temporary file, flushed to disk, renamed into place, the directory
entry synced), so a kill at any moment leaves each file either complete or absent. The steps of a chunk are ordered:
chunk file, then the state (which records the chunk count it follows), then ``progress.json``. A resume reconciles
the three (:func:`reconcile`): a chunk whose state was saved but whose progress was not is adopted, one whose state
was not is drawn again from the saved state (the same draws: the random key is part of the state), leftover
temporary files are removed. So ``kill -9`` at any moment, then ``--resume``, loses no completed chunk and gives the
chains an uninterrupted run with the same seed gives.

Concurrency. :func:`run_lock` holds an exclusive lock on the directory for as long as a run writes it (``flock`` on
``.globalfit.lock``, released by the kernel when the process ends, so a crashed run never leaves it stuck); a second
run on the same directory refuses with a message naming the holder.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import pickle
import re
import shutil
import socket
import sys
import time
import zipfile
from importlib import metadata
from pathlib import Path
from typing import Iterator

import jax
import numpy as np
import yaml

from globalfit.problem.config import RunConfig, config_hash
from globalfit.errors import ConfigError, OutputError

try:
    import fcntl
except ImportError:  # not POSIX: the O_EXCL lock of _exclusive_file below
    fcntl = None  # type: ignore[assignment]

__all__ = ["PROGRESS", "STATE", "CHUNKS", "LOCK", "read_progress", "write_progress", "versions", "resolved_yaml", "save_state",
           "commit_warmup", "commit_chunk",
           "load_state", "state_record", "save_chunk", "load_chunks", "chunk_indices", "atomic_write", "atomic_path",
           "prepare_run_dir", "reconcile", "run_lock", "check_dir_target", "check_file_target", "write_new_file"]

PROGRESS = "progress.json"
STATE = "state.pkl"
CHUNKS = "chunks"
LOCK = ".globalfit.lock"
_TMP = ".tmp"
_CHUNK = re.compile(r"^chunk_(\d+)\.npz$")


# --- atomic writes ---------------------------------------------------------------------------------------------
def _fsync_dir(path: Path) -> None:
    """Make a rename in ``path`` durable (POSIX; a no-op where directories cannot be opened)."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _tmp_name(path: Path) -> Path:
    return path.with_name(f".{path.name}.{os.getpid()}{_TMP}")


@contextlib.contextmanager
def atomic_path(path: Path) -> Iterator[Path]:
    """A temporary path to write ``path`` through: on success it is synced and renamed into place, on failure removed.
    Writers that pick a format from the file name must be told the format (the temporary name ends in ``.tmp``)."""
    path = Path(path)
    tmp = _tmp_name(path)
    try:
        yield tmp
        with open(tmp, "rb+") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, path)
        _fsync_dir(path.parent)
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()


def atomic_write(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically (complete or absent after a kill at any moment)."""
    with atomic_path(path) as tmp:
        with open(tmp, "wb") as fh:
            fh.write(data)


def _remove_temporaries(outdir: Path) -> list[Path]:
    """Delete the temporary files a killed writer left (``.<name>.<pid>.tmp``, and ``*.tmp*`` of older versions)."""
    gone = []
    for d in (outdir, outdir / CHUNKS, outdir / "plots"):
        if d.is_dir():
            for f in d.iterdir():
                if f.is_file() and (f.name.endswith(_TMP) or ".tmp." in f.name):
                    f.unlink()
                    gone.append(f)
    return gone


# --- progress, state, chunks ---------------------------------------------------------------------------------
def read_progress(outdir: Path) -> dict:
    f = Path(outdir) / PROGRESS
    if not f.exists():
        raise OutputError(f"{outdir}: not a globalfit run directory (no {PROGRESS})")
    try:
        prog = json.loads(f.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise OutputError(f"{f}: unreadable ({exc}); this file is written atomically by globalfit, so it was edited or damaged outside it") from None
    needed = ("config_hash", "chunks", "draws_done", "draws_target", "warmup_done")
    if not isinstance(prog, dict) or any(k not in prog for k in needed):
        raise OutputError(f"{f}: not a globalfit progress file (needs {', '.join(needed)})")
    return prog


def write_progress(outdir: Path, progress: dict) -> None:
    atomic_write(Path(outdir) / PROGRESS, json.dumps(progress, indent=2).encode())


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


def save_state(outdir: Path, state, chunks: int = 0, draws_done: int = 0) -> None:
    """The chain state after warm-up (``chunks = 0``) or after chunk ``chunks - 1``, with the counts it follows."""
    record = {"chunks": int(chunks), "draws_done": int(draws_done), "state": jax.device_get(state)}
    atomic_write(Path(outdir) / STATE, pickle.dumps(record))


def state_record(outdir: Path) -> dict | None:
    """``{"chunks", "draws_done", "state"}`` of the saved chain state (None when there is none)."""
    f = Path(outdir) / STATE
    if not f.exists():
        return None
    try:
        with open(f, "rb") as fh:
            record = pickle.load(fh)
    except (OSError, EOFError, pickle.UnpicklingError, AttributeError, ImportError, ValueError, TypeError) as exc:
        raise OutputError(f"{f}: unreadable chain state ({type(exc).__name__}); rerun with --force to start afresh") from None
    if not (isinstance(record, dict) and {"chunks", "draws_done", "state"} <= set(record)):
        record = {"chunks": None, "draws_done": None, "state": record}  # written before the state carried its counts
    return record


def load_state(outdir: Path):
    record = state_record(outdir)
    if record is None:
        raise OutputError(f"{outdir}: no chain state ({STATE}) to resume from; rerun with --force")
    return record["state"]


def save_chunk(outdir: Path, index: int, samples: dict, extra: dict) -> None:
    arrays = {f"post:{k}": np.asarray(v) for k, v in samples.items()}
    arrays.update({f"stat:{k}": np.asarray(v) for k, v in extra.items()})
    with atomic_path(Path(outdir) / CHUNKS / f"chunk_{index:04d}.npz") as tmp:
        with open(tmp, "wb") as fh:
            np.savez(fh, **arrays)


def commit_warmup(outdir: Path, prog: dict, state, seconds: float) -> None:
    """Record a finished warm-up (or burn-in): its chain state first, then the progress (the order :func:`reconcile`
    relies on after a kill at any moment)."""
    save_state(outdir, state, chunks=0, draws_done=0)
    prog["warmup_done"] = True
    prog["warmup_seconds"] = round(seconds, 2)
    write_progress(outdir, prog)


def commit_chunk(outdir: Path, prog: dict, samples: dict, stats: dict, state, n: int, seconds: float) -> None:
    """Record a chunk of ``n`` draws per chain: the chunk, the chain state after it, then the progress (in this order,
    :func:`reconcile`)."""
    save_chunk(outdir, prog["chunks"], samples, stats)
    save_state(outdir, state, chunks=prog["chunks"] + 1, draws_done=prog["draws_done"] + n)
    prog["chunks"] += 1
    prog["draws_done"] += n
    prog["sampling_seconds"] = round(prog.get("sampling_seconds", 0.0) + seconds, 2)
    write_progress(outdir, prog)


def chunk_indices(outdir: Path) -> list[int]:
    """Indices of the chunk files on disk, ascending (``chunk_0000.npz``, ..., ``chunk_12345.npz``)."""
    d = Path(outdir) / CHUNKS
    if not d.is_dir():
        return []
    return sorted(int(m.group(1)) for f in d.iterdir() if (m := _CHUNK.match(f.name)))


def _chunk_file(outdir: Path, index: int) -> Path:
    return Path(outdir) / CHUNKS / f"chunk_{index:04d}.npz"


def _read_chunk(f: Path) -> dict[str, np.ndarray]:
    try:
        with np.load(f, allow_pickle=False) as z:
            return {k: z[k] for k in z.files}
    except (OSError, EOFError, ValueError, zipfile.BadZipFile) as exc:
        raise OutputError(f"{f}: unreadable chunk ({type(exc).__name__}); chunks are written atomically by globalfit, so it was "
                          "damaged outside it; rerun with --force") from None


def load_chunks(outdir: Path, n_chunks: int | None = None) -> tuple[dict, dict]:
    """Concatenate the chunk files (draw axis 1): ``(posterior arrays, sample-stat arrays)``. ``n_chunks``: the first
    n (those ``progress.json`` counts; all of them must be there), else every chunk on disk."""
    indices = chunk_indices(outdir)
    if n_chunks is not None:
        missing = sorted(set(range(n_chunks)) - set(indices))
        if missing:
            raise OutputError(f"{outdir}: chunk {_chunk_file(outdir, missing[0]).name} is missing ({n_chunks} recorded in {PROGRESS})")
        indices = [i for i in indices if i < n_chunks]
    if not indices:
        raise OutputError(f"{outdir}: no draws on disk yet (chunks/ is empty)")
    post: dict[str, list] = {}
    stat: dict[str, list] = {}
    for i in indices:
        for k, v in _read_chunk(_chunk_file(outdir, i)).items():
            kind, _, name = k.partition(":")
            (post if kind == "post" else stat).setdefault(name, []).append(v)
    try:
        return {k: np.concatenate(v, axis=1) for k, v in post.items()}, {k: np.concatenate(v, axis=1) for k, v in stat.items()}
    except ValueError as exc:
        raise OutputError(f"{outdir}: chunks of different shapes cannot be joined ({exc}); rerun with --force") from None


def reconcile(outdir: Path, prog: dict) -> tuple[dict, list[str]]:
    """Bring ``progress.json`` in line with the files a killed run left (see the module docstring); returns the
    progress to resume from and one line per repair."""
    notes = [f"removed the unfinished file {f.name}" for f in _remove_temporaries(outdir)]
    record = state_record(outdir)
    done = int(prog["chunks"])
    if record is not None and record["chunks"] is not None:
        if not prog["warmup_done"]:
            prog["warmup_done"] = True
            notes.append("warm-up had finished (its state was saved); not repeated")
        if record["chunks"] == done + 1 and _chunk_file(outdir, done).exists():
            n = int(next(v for k, v in _read_chunk(_chunk_file(outdir, done)).items() if k.startswith("stat:")).shape[1])
            prog["chunks"], prog["draws_done"] = done + 1, int(prog["draws_done"]) + n
            notes.append(f"chunk {done} was complete (state saved) when the run stopped; adopted")
            done += 1
        elif record["chunks"] != done:
            raise OutputError(f"{outdir}: {STATE} follows chunk {record['chunks']} but {PROGRESS} counts {done}: the directory was changed "
                              "outside globalfit; rerun with --force")
    for i in chunk_indices(outdir):
        if i >= done:  # drawn, but its state was not saved: it is drawn again, identically, from the saved state
            _chunk_file(outdir, i).unlink()
            notes.append(f"chunk {i} had no saved state after it; it is drawn again")
    if prog["warmup_done"] and record is None:
        prog.update(warmup_done=False, chunks=0, draws_done=0)
        notes.append(f"no chain state on disk ({STATE}); starting from warm-up")
    return prog, notes


# --- the directory lock --------------------------------------------------------------------------------------
def _holder(lock: Path) -> str:
    try:
        info = json.loads(lock.read_text() or "{}")
    except (OSError, ValueError):
        info = {}
    if not info:
        return "run"
    return f"{info.get('command', 'run')} (pid {info.get('pid')} on {info.get('host')}, started {info.get('started')})"


def _exclusive_file(lock: Path) -> int:
    """Fallback where ``flock`` is not available (some network file systems, non-POSIX systems): the lock is the
    file's existence (O_EXCL); one left by a dead process on this host is removed, one from another host is named."""
    for _ in range(2):
        try:
            return os.open(lock, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o644)
        except FileExistsError:
            try:
                info = json.loads(lock.read_text() or "{}")
            except (OSError, ValueError):
                info = {}
            pid, host = info.get("pid"), info.get("host")
            alive = True
            if host == socket.gethostname() and isinstance(pid, int):
                try:
                    os.kill(pid, 0)
                except ProcessLookupError:
                    alive = False
                except PermissionError:
                    alive = True
            if alive:
                raise OutputError(f"{lock.parent}: another globalfit {_holder(lock)} is writing to this output directory; wait for it or "
                                  f"give another output.dir (if that process is gone, delete {lock})") from None
            lock.unlink(missing_ok=True)
    raise OutputError(f"{lock.parent}: could not take the lock {lock}")


@contextlib.contextmanager
def run_lock(outdir: Path, command: str = "run") -> Iterator[Path]:
    """Hold an exclusive lock on the output directory (created if missing) while the block runs.

    A second holder is refused at once with OutputError naming the first (pid, host, start time). The lock is a
    ``flock`` on ``outdir/.globalfit.lock``: the kernel releases it when the holding process ends in any way (kill -9
    included), so a crashed run never leaves the directory locked. A directory this call created and the block left
    empty is removed again.
    """
    outdir = Path(outdir)
    created = not outdir.exists()
    lock = outdir / LOCK
    lock_created = not lock.exists()  # a lock file this call creates goes again when the block fails (a refused folder keeps no trace)
    fd, exclusive_file = -1, fcntl is None
    while fd < 0:
        try:
            outdir.mkdir(parents=True, exist_ok=True)
        except FileExistsError:
            raise OutputError(f"{outdir}: exists and is not a directory; give another output.dir") from None
        except OSError as exc:
            raise OutputError(f"{outdir}: cannot create the output directory: {exc.strerror or exc}") from None
        if exclusive_file:
            fd = _exclusive_file(lock)
            break
        try:
            fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:
            raise OutputError(f"{outdir}: cannot create the lock file {LOCK}: {exc.strerror or exc}") from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            os.close(fd)
            fd = -1
            if exc.errno in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
                raise OutputError(f"{outdir}: another globalfit {_holder(lock)} is writing to this output directory; wait for it to "
                                  "finish or give another output.dir (the lock goes when that process ends, crashed or not)") from None
            with contextlib.suppress(OSError):
                if lock.stat().st_size == 0:  # the empty file this attempt created
                    lock.unlink()
            exclusive_file = True  # a file system without flock
            continue
        try:  # the file may have been replaced between open and flock: lock the one that is there now
            same = os.fstat(fd).st_ino == os.stat(lock).st_ino
        except FileNotFoundError:
            same = False
        if not same:
            os.close(fd)
            fd = -1
    os.ftruncate(fd, 0)
    os.write(fd, json.dumps({"command": command, "pid": os.getpid(), "host": socket.gethostname(),
                             "started": time.strftime("%Y-%m-%dT%H:%M:%S")}).encode())
    failed = True
    try:
        yield outdir
        failed = False
    finally:
        with contextlib.suppress(OSError):
            if created and [p.name for p in outdir.iterdir()] == [LOCK]:
                lock.unlink()
                outdir.rmdir()
            elif exclusive_file or (failed and lock_created):
                lock.unlink()  # the O_EXCL lock is the file itself; a refused or failed block leaves no lock file it made
        os.close(fd)


# --- output locations ----------------------------------------------------------------------------------------
def check_dir_target(path: Path, what: str) -> Path:
    """``path`` can be used as an output directory: it is one, or it is absent and the nearest existing folder above
    it is a directory (created later with its parents); else OutputError naming ``what`` (e.g. ``--to out/x``)."""
    path = Path(path)
    if path.exists():
        if not path.is_dir():
            raise OutputError(f"{what}: exists and is not a directory; give a directory (new or existing)")
        return path
    _check_parents(path, what, "directory")
    return path


def check_file_target(path: Path, what: str, force: bool = False) -> Path:
    """``path`` can be written as a file: not a directory, not an existing file unless ``force``, and no existing
    non-directory above it; else OutputError naming ``what`` (e.g. ``--out cobaya.yaml``)."""
    path = Path(path)
    if path.is_dir():
        raise OutputError(f"{what}: is a directory; give a file name")
    if path.exists() and not force:
        raise OutputError(f"{what}: exists; use --force to overwrite it")
    if path.exists() and not path.is_file():
        raise OutputError(f"{what}: exists and is not a regular file; give another file name")
    _check_parents(path, what, "file")
    return path


def _check_parents(path: Path, what: str, kind: str) -> None:
    """The nearest existing folder above ``path`` is a directory (missing ones are created later); else OutputError."""
    for parent in path.parents:
        if parent.exists():
            if not parent.is_dir():
                raise OutputError(f"{what}: {parent} is not a directory, so no {kind} can be created below it")
            return


def write_new_file(path: Path, data: bytes, what: str, force: bool = False) -> Path:
    """Write ``data`` to ``path`` atomically (:func:`check_file_target` first; missing parent folders created); every
    failure is one OutputError line naming ``what``."""
    path = check_file_target(path, what, force)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write(path, data)
    except OSError as exc:
        raise OutputError(f"{what}: cannot write {path}: {exc.strerror or exc}") from None
    return path


# --- a new or resumed run ------------------------------------------------------------------------------------
def _entries(outdir: Path) -> list[str]:
    """What a directory holds, apart from the lock and temporary files."""
    return [p.name for p in outdir.iterdir() if p.name != LOCK and not p.name.endswith(_TMP)] if outdir.is_dir() else []


def _clear(outdir: Path) -> None:
    """Empty a run directory, keeping the lock file (held by this process)."""
    for p in outdir.iterdir():
        if p.name == LOCK:
            continue
        if p.is_dir() and not p.is_symlink():
            shutil.rmtree(p)
        else:
            p.unlink()


def _write_configs(outdir: Path, cfg: RunConfig, path: Path, source: str | None = None) -> None:
    atomic_write(outdir / "config.input.yaml", path.read_bytes() if source is None else source.encode())
    atomic_write(outdir / "config.resolved.yaml", resolved_yaml(cfg).encode())


def prepare_run_dir(cfg: RunConfig, path: Path, resume: bool, force: bool, notes: list[str] | None = None,
                    source: str | None = None) -> tuple[Path, dict]:
    """(output directory, progress) of a new run (directory created, configs written: ``source``, else the text of
    ``path``, as ``config.input.yaml``) or of one to resume (checked
    against the config hash and reconciled with what a killed run left: one line per repair is appended to
    ``notes``); an existing directory is never overwritten without ``force``. Call it inside :func:`run_lock` of the
    same directory."""
    notes = [] if notes is None else notes
    if cfg.output is None:
        raise ConfigError(f"{path}: output: required key is missing (output: {{dir: <directory>}})")
    outdir = Path(cfg.output.dir)
    h = config_hash(cfg)
    if outdir.exists() and not outdir.is_dir():
        raise OutputError(f"{outdir}: exists and is not a directory; give another output.dir")
    exists = bool(_entries(outdir))
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
        prog, repairs = reconcile(outdir, prog)
        notes.extend(repairs)
        if prog["draws_done"] > cfg.sampler.draws:
            notes.append(f"{prog['draws_done']} draws per chain are on disk, more than sampler.draws = {cfg.sampler.draws}; all are kept")
        prog["draws_target"] = max(cfg.sampler.draws, prog["draws_done"])
        if prog["draws_done"] < prog["draws_target"]:
            prog["finished"] = False
        (outdir / CHUNKS).mkdir(exist_ok=True)
        if not (outdir / "config.resolved.yaml").exists():
            _write_configs(outdir, cfg, path, source)
        write_progress(outdir, prog)
        return outdir, prog
    if exists:
        if not (outdir / PROGRESS).exists():
            raise OutputError(f"{outdir}: output directory exists and is not a globalfit run directory (no {PROGRESS}); give another "
                              "output.dir (a folder of yours is never deleted, not even with --force)")
        if not force:
            raise OutputError(f"{outdir}: output directory exists; use --resume to continue it or --force to overwrite it")
        _clear(outdir)
    outdir.mkdir(parents=True, exist_ok=True)
    _remove_temporaries(outdir)
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
    write_progress(outdir, prog)  # first: from now on the directory is recognisably a run directory
    (outdir / CHUNKS).mkdir(exist_ok=True)
    _write_configs(outdir, cfg, path, source)
    return outdir, prog
