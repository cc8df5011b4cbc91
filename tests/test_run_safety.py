"""Runs are safe under crashes and concurrency (globalfit.outputs.rundir): each window of the write sequence a kill
can hit is reconciled on resume (the real `kill -9` end to end: tests/test_resume.py); every file is complete or
absent; two runs on one directory cannot interleave, and a crashed run never leaves the directory locked."""

import os
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import yaml

from globalfit.cli import main
from globalfit.errors import OutputError
from globalfit.outputs import rundir
from globalfit.outputs.rundir import CHUNKS, LOCK, chunk_indices, load_chunks, prepare_run_dir, read_progress, run_lock
from globalfit.problem import load_problem

from test_resume import SMALL

ROOT = Path(__file__).resolve().parent.parent


def _config(tmp_path: Path, name: str) -> Path:
    data = {**SMALL, "output": {"dir": str(tmp_path / name)}}
    path = tmp_path / f"{name}.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


def _run_dir(tmp_path: Path, chunks: int, draws: int = 20, state_after: int | None = None, extra_chunks: int = 0) -> tuple[Path, Path]:
    """A run directory as a run that drew ``chunks`` chunks (of ``draws`` draws, 2 chains) leaves it; the state file
    follows chunk ``state_after`` (default: the last), ``extra_chunks`` more chunk files lie beyond progress.json."""
    path = _config(tmp_path, "run")
    cfg = load_problem(path).cfg
    outdir, prog = prepare_run_dir(cfg, path, resume=False, force=False)
    for i in range(chunks + extra_chunks):
        rundir.save_chunk(outdir, i, {"x": np.full((2, draws), float(i))}, {"diverging": np.zeros((2, draws), bool)})
    n = chunks if state_after is None else state_after
    rundir.save_state(outdir, {"position": np.arange(3.0) + n}, chunks=n, draws_done=n * draws)
    prog.update(warmup_done=True, chunks=chunks, draws_done=chunks * draws)
    rundir.write_progress(outdir, prog)
    return path, outdir


def test_window_chunk_written_state_not(tmp_path):
    """Killed between a chunk file and its state: the chunk is not counted and is removed (it is drawn again, the same
    draws, from the saved state)."""
    path, outdir = _run_dir(tmp_path, chunks=3, extra_chunks=1)
    notes = []
    _, prog = prepare_run_dir(load_problem(path).cfg, path, resume=True, force=False, notes=notes)
    assert prog["chunks"] == 3 and prog["draws_done"] == 60 and chunk_indices(outdir) == [0, 1, 2]
    assert notes == ["chunk 3 had no saved state after it; it is drawn again"]


def test_window_state_written_progress_not(tmp_path):
    """Killed between a chunk's state and progress.json: the chunk is complete and adopted, not drawn again."""
    path, outdir = _run_dir(tmp_path, chunks=3, extra_chunks=1, state_after=4)
    _, prog = prepare_run_dir(load_problem(path).cfg, path, resume=True, force=False)
    assert prog["chunks"] == 4 and prog["draws_done"] == 80 and chunk_indices(outdir) == [0, 1, 2, 3]
    assert read_progress(outdir)["chunks"] == 4  # written back
    assert rundir.load_state(outdir)["position"].tolist() == [4.0, 5.0, 6.0]


def test_window_warmup_state_written_progress_not(tmp_path):
    path, outdir = _run_dir(tmp_path, chunks=0)
    prog = read_progress(outdir)
    prog["warmup_done"] = False
    rundir.write_progress(outdir, prog)
    _, prog = prepare_run_dir(load_problem(path).cfg, path, resume=True, force=False)
    assert prog["warmup_done"] and prog["chunks"] == 0


def test_window_half_written_files_are_removed(tmp_path):
    """A kill inside a write leaves only a temporary file (writes go through a temporary name and a rename)."""
    path, outdir = _run_dir(tmp_path, chunks=2)
    (outdir / CHUNKS / ".chunk_0002.npz.123.tmp").write_bytes(b"PK partial")
    (outdir / ".state.pkl.123.tmp").write_bytes(b"partial")
    (outdir / "config.resolved.yaml").unlink()  # a kill while the new run wrote its configs
    notes = []
    prepare_run_dir(load_problem(path).cfg, path, resume=True, force=False, notes=notes)
    assert sorted(p.name for p in (outdir / CHUNKS).iterdir()) == ["chunk_0000.npz", "chunk_0001.npz"]
    assert not list(outdir.glob("*.tmp")) and (outdir / "config.resolved.yaml").exists()
    assert sum("removed the unfinished file" in n for n in notes) == 2


def test_atomic_write_leaves_old_file_on_failure(tmp_path):
    target = tmp_path / "summary.csv"
    rundir.atomic_write(target, b"complete")

    class Boom(Exception):
        pass

    with pytest.raises(Boom):
        with rundir.atomic_path(target) as tmp:
            tmp.write_bytes(b"half")
            raise Boom
    assert target.read_bytes() == b"complete" and [p.name for p in tmp_path.iterdir()] == ["summary.csv"]


def test_inconsistent_directory_is_refused(tmp_path):
    path, outdir = _run_dir(tmp_path, chunks=2, state_after=5)
    with pytest.raises(OutputError, match="follows chunk 5 but progress.json counts 2"):
        prepare_run_dir(load_problem(path).cfg, path, resume=True, force=False)


def test_force_clears_a_run_directory_but_keeps_its_lock(tmp_path):
    path, outdir = _run_dir(tmp_path, chunks=2)
    with run_lock(outdir):
        prepare_run_dir(load_problem(path).cfg, path, resume=False, force=True)
        assert (outdir / LOCK).exists() and chunk_indices(outdir) == [] and read_progress(outdir)["chunks"] == 0


def test_second_run_on_the_same_directory_is_refused(tmp_path, capsys):
    path = _config(tmp_path, "busy")
    outdir = tmp_path / "busy"
    with run_lock(outdir, command="run other.yaml"):
        assert main(["run", str(path)]) == 2
        err = capsys.readouterr().err
        assert "another globalfit run other.yaml (pid" in err and "is writing to this output directory" in err
        assert len(err.strip().splitlines()) == 1
        assert main(["run", str(path), "--force"]) == 2  # --force does not break the lock
    assert not outdir.exists()  # the lock created it; the refused runs wrote nothing; the holder left nothing behind


def test_a_killed_lock_holder_leaves_no_stale_lock(tmp_path):
    outdir = tmp_path / "stale"
    code = f"import sys, time; from globalfit.outputs.rundir import run_lock\nwith run_lock({str(outdir)!r}):\n print('locked', flush=True); time.sleep(600)"
    env = dict(os.environ, JAX_PLATFORMS="cpu", PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, env=env)
    try:
        assert proc.stdout.readline().strip() == b"locked"
        with pytest.raises(OutputError, match=r"pid \d+ on"):
            with run_lock(outdir):
                pass
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        with run_lock(outdir):  # taken at once: the kernel released the dead process's lock
            assert (outdir / LOCK).exists()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_chunk_files_beyond_9999_and_damaged_files(tmp_path):
    """Chunk indices are parsed, not globbed by width (chunk 10000 is read in order); a damaged chunk, progress or
    state file is one OutputError naming it."""
    out = tmp_path / "run"
    (out / CHUNKS).mkdir(parents=True)
    for i in (0, 1, 10000):
        rundir.save_chunk(out, i, {"x": np.full((1, 2), float(i))}, {"diverging": np.zeros((1, 2), bool)})
    assert chunk_indices(out) == [0, 1, 10000]
    post, _ = load_chunks(out)
    assert post["x"].tolist() == [[0, 0, 1, 1, 10000, 10000]]
    with pytest.raises(OutputError, match="chunk_0002.npz is missing"):
        load_chunks(out, 3)
    (out / CHUNKS / "chunk_0001.npz").write_bytes(b"not a zip")
    with pytest.raises(OutputError, match="chunk_0001.npz: unreadable chunk"):
        load_chunks(out)
    (out / "progress.json").write_text("{")
    with pytest.raises(OutputError, match="progress.json: unreadable"):
        read_progress(out)
    (out / "state.pkl").write_bytes(b"\x80\x04garbage")
    with pytest.raises(OutputError, match="state.pkl: unreadable chain state"):
        rundir.load_state(out)
