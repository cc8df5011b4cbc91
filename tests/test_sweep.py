"""Sweeps on Dask (globalfit.inference.sweep): a real cluster (`dask scheduler` and two `dask worker` processes on
127.0.0.1), a worker killed mid-sweep, resume after an interrupted sweep, retries and failures reported by name, and
the assembled profile map identical to the in-process one; sweep-file validation."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import yaml

from globalfit.cli import main
from globalfit.errors import ConfigError
from globalfit.inference.profile import profile_map
from globalfit.inference.sweep import SweepJob, Task, make_job, run_sweep
from globalfit.outputs.profile_result import load_profile
from globalfit.outputs.sweepdir import EVENTS, load_result, log_event, read_events, result_path
from globalfit.problem import load_problem
from globalfit.problem.sweep_config import JobSpec, load_sweep, sweep_jobs
from tests.helpers import TINY_CONFIG as TINY

MAP = {"grid": [4, 4], "starts": 1, "steps": 30, "polish": 1}  # 4 row blocks x (stage 1, profile pass, stage 2, reach pass)


def _files(tmp_path: Path, out: str = "out") -> Path:
    (tmp_path / "tiny.yaml").write_text(yaml.safe_dump(TINY))
    sweep = {"output": {"dir": str(tmp_path / out)}, "profile": [dict(config="tiny.yaml", **MAP)]}
    (tmp_path / "sweep.yaml").write_text(yaml.safe_dump(sweep))
    return tmp_path / "sweep.yaml"


_SERIAL: dict = {}


def _serial(tmp_path: Path):
    """The map of the in-process path (profile_map in this process, no Dask, no task files)."""
    if "r" not in _SERIAL:
        (tmp_path / "serial.yaml").write_text(yaml.safe_dump(TINY))
        _SERIAL["r"] = profile_map(load_problem(tmp_path / "serial.yaml"), **MAP)
    return _SERIAL["r"]


def _same(a, b):
    assert a.lnL_ref == b.lnL_ref and a.quantities == b.quantities and a.settings == b.settings
    for k in ("log10_M", "log10_g", "lnL", "q_max", "q_min"):
        np.testing.assert_array_equal(getattr(a, k), getattr(b, k), err_msg=k)
    for d in ("best", "at_max", "at_min"):
        for k in getattr(a, d):
            np.testing.assert_array_equal(getattr(a, d)[k], getattr(b, d)[k], err_msg=f"{d}:{k}")


@pytest.fixture(scope="module")
def dask_cluster(tmp_path_factory):
    """`dask scheduler` and two `dask worker` processes (one thread each, with nannies) on 127.0.0.1."""
    d = tmp_path_factory.mktemp("cluster")
    sched_file = d / "scheduler.json"
    env = dict(os.environ, PYTHONPATH=str(Path(__file__).resolve().parent.parent), JAX_PLATFORMS="cpu")
    dask = [sys.executable, "-m", "distributed.cli.dask_scheduler"]
    procs = [subprocess.Popen(dask + ["--host", "127.0.0.1", "--port", "0", "--no-dashboard", "--scheduler-file", str(sched_file)],
                              env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)]
    try:
        deadline = time.time() + 300
        while not sched_file.exists() and time.time() < deadline:
            time.sleep(0.1)
        address = json.loads(sched_file.read_text())["address"]
        for i in range(2):
            procs.append(subprocess.Popen([sys.executable, "-m", "distributed.cli.dask_worker", address, "--nthreads", "1", "--nworkers", "1",
                                           "--host", "127.0.0.1", "--no-dashboard", "--name", f"w{i}"],
                                          env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        from distributed import Client

        client = Client(address, timeout="300s")
        client.wait_for_workers(2, timeout=300)
        yield client
        client.close()
    finally:
        for p in procs[::-1]:
            p.send_signal(signal.SIGTERM)
        for p in procs:
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                p.kill()


def test_dask_sweep_survives_a_killed_worker_and_equals_serial(tmp_path, dask_cluster):
    """Two workers; one is killed (SIGKILL) when the first result arrives: every task still completes exactly once,
    nothing fails, and the assembled map equals the in-process map number for number."""
    path = _files(tmp_path)
    serial = _serial(tmp_path)
    client = dask_cluster
    pids = client.run(os.getpid)
    killed = []

    def kill_busy_worker(done, total):  # at the first result: SIGKILL a worker that is running a task
        if done == 1 and not killed:
            busy = [w for w, tasks in client.processing().items() if tasks]  # empty if the other worker has not started one yet
            killed.append(pids[(busy or sorted(pids))[0]])
            os.kill(killed[0], signal.SIGKILL)

    sweep, specs = sweep_jobs(path)
    jobs = [make_job(s) for s in specs]
    report = run_sweep(jobs, Path(sweep.output.dir), client=client, retries=sweep.retries, source=path, progress=kill_busy_worker)
    assert killed and not report.failed and report.computed == report.total == 16 and report.workers >= 1
    events = read_events(report.outdir)
    done = [e["task"] for e in events if e["status"] == "done"]
    assert sorted(done) == sorted(jobs[0].task_names())  # each task once
    assert all(not e["worker"].endswith(f":{killed[0]}") for e in events[1:])  # what it ran was redone elsewhere
    _same(load_profile(report.outdir / "profile" / "tiny" / "profile.npz"), serial)

    # an interrupted sweep (three task results and the map missing) resumes through the CLI on the same cluster
    address = client.scheduler.address
    names = jobs[0].task_names()
    for n in (names[1], names[5], names[7]):
        result_path(report.outdir, n).unlink()
    (report.outdir / "profile" / "tiny" / "profile.npz").unlink()
    assert main(["sweep", str(path), "--scheduler", address]) == 2  # exists: --resume or --force
    assert main(["sweep", str(path), "--scheduler", address, "--resume"]) == 0
    again = [e["task"] for e in read_events(report.outdir) if e["status"] == "done"][len(done):]
    assert sorted(again) == sorted([names[1], names[5], names[7]])
    _same(load_profile(report.outdir / "profile" / "tiny" / "profile.npz"), serial)


def test_killed_sweep_resumes(tmp_path):
    """`globalfit sweep --serial` killed (SIGKILL) after its first task result: `--resume` computes only the rest and
    the map equals the in-process one."""
    path = _files(tmp_path, out="killed")
    serial = _serial(tmp_path)
    out = tmp_path / "killed"
    env = dict(os.environ, PYTHONPATH=str(Path(__file__).resolve().parent.parent), JAX_PLATFORMS="cpu")
    proc = subprocess.Popen([sys.executable, "-m", "globalfit", "sweep", str(path), "--serial"], cwd=tmp_path, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    first = result_path(out, "profile/tiny/stage1_rows0000-0000")
    try:
        deadline = time.time() + 900  # generous: a loaded machine may take minutes to import and compile
        while not first.exists():
            assert proc.poll() is None, proc.stderr.read().decode()
            assert time.time() < deadline, "no task result within 900 s"
            time.sleep(0.01)
        proc.send_signal(signal.SIGKILL)
    finally:
        proc.wait()
    # finished before the kill = a result on disk (what --resume reads); the "done" event is logged just after the
    # result is written, so the kill can fall between the two and the log may lack the last finished task
    names = set(make_job(sweep_jobs(path)[1][0]).task_names())
    finished = {n for n in names if load_result(out, n) is not None}
    logged = [e["task"] for e in read_events(out) if e["status"] == "done"]
    assert 1 <= len(finished) <= 16 and len(set(logged)) == len(logged) and set(logged) <= finished
    assert main(["sweep", str(path), "--serial", "--resume"]) == 0
    after = [e["task"] for e in read_events(out) if e["status"] == "done"]
    assert after[: len(logged)] == logged
    rerun = after[len(logged):]
    assert len(set(rerun)) == len(rerun) and set(rerun) == names - finished  # nothing that finished before the kill ran again
    _same(load_profile(out / "profile" / "tiny" / "profile.npz"), serial)


# --- the engine's retries and failure report, on a job of its own ------------------------------------------------
_CALLS: dict[str, int] = {}


def _flaky(name: str, fails: int) -> dict:
    _CALLS[name] = _CALLS.get(name, 0) + 1
    if _CALLS[name] <= fails:
        raise RuntimeError(f"{name}: attempt {_CALLS[name]} fails")
    return {"value": np.arange(3.0) * _CALLS[name]}


class _Job(SweepJob):
    def __init__(self, name: str, fails: int):
        super().__init__(JobSpec(kind="run", name=name, configs=()))
        self.fails = fails

    total = 1

    def task_names(self):
        return [f"{self.spec.name}/t"]

    def ready(self, done):
        n = self.task_names()[0]
        return [] if n in done else [Task(n, _flaky, (n, self.fails))]

    def finish(self, done, outdir):
        return [], f"{self.spec.name}: {done[self.task_names()[0]]['value'].tolist()}"


def test_event_log_survives_a_line_torn_by_a_kill(tmp_path):
    """A sweep killed while it appends to events.jsonl leaves a torn last line: the resumed sweep's events go on
    lines of their own and reading the log skips only the torn one."""
    log_event(tmp_path, {"task": "a", "status": "done"})
    with open(tmp_path / EVENTS, "a") as fh:
        fh.write('{"task": "b", "sta')  # the kill
    log_event(tmp_path, {"task": "b", "status": "done"})
    log_event(tmp_path, {"task": "c", "status": "failed"})
    assert read_events(tmp_path) == [{"task": "a", "status": "done"}, {"task": "b", "status": "done"},
                                     {"task": "c", "status": "failed"}]
    assert read_events(tmp_path / "absent") == []


def test_retries_then_failure_reported_by_name(tmp_path):
    lines = []
    jobs = [_Job("ok", 0), _Job("flaky", 2), _Job("broken", 9)]
    report = run_sweep(jobs, tmp_path / "s", retries=2, log=lines.append)
    assert report.failed == {"broken/t": "RuntimeError: broken/t: attempt 3 fails"}
    assert report.unfinished == ["broken"] and set(report.lines) == {"ok", "flaky"}
    assert report.lines["flaky"] == "flaky: [0.0, 3.0, 6.0]"  # the third attempt's result
    assert json.loads((tmp_path / "s" / "failed.json").read_text()) == report.failed
    assert any("flaky/t: attempt 1 failed" in ln for ln in lines) and any("broken/t failed after 3 attempts" in ln for ln in lines)
    # resuming runs only what failed
    _CALLS.clear()
    again = run_sweep([_Job("ok", 0), _Job("flaky", 0), _Job("broken", 0)], tmp_path / "s", resume=True)
    assert (again.loaded, again.computed, again.failed) == (2, 1, {}) and _CALLS == {"broken/t": 1}


# --- sweep files ---------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("data, needle", [
    ({"profile": [{"config": "tiny.yaml"}]}, "sweep.yaml: output: required key is missing"),
    ({"output": {"dir": "o"}}, "sweep.yaml: no job"),
    ({"output": {"dir": "o"}, "profil": []}, "sweep.yaml: profil: unknown key (did you mean 'profile'?)"),
    ({"output": {"dir": "o"}, "profile": [{"config": "tiny.yaml", "grd": 4}]}, "profile.0.grd: unknown key (did you mean 'grid'?)"),
    ({"output": {"dir": "o"}, "profile": [{"config": "tiny.yaml", "grid": 1}]}, "profile.0.grid: grid: expected N or [N_M, N_g]"),
    ({"output": {"dir": "o"}, "profile": [{"config": "nope.yaml"}]}, "profile.0.config: nope.yaml: run config not found"),
    ({"output": {"dir": "o"}, "run": [{"config": "tiny.yaml", "seeds": [1, 1]}]}, "run.0.seeds: seeds: a non-empty list of distinct"),
    ({"output": {"dir": "o"}, "run": [{"config": "tiny.yaml", "overrides": {"sampler.chanis": 2}}]},
     "sweep.yaml: run.0.overrides): sampler.chanis: unknown key (did you mean 'chains'?)"),
    ({"output": {"dir": "o"}, "run": [{"config": "tiny.yaml", "overrides": {"params.g_Psi.min": 1}}]},
     "run.0.overrides: params.g_Psi.min: params.g_Psi is -1.0, not a mapping"),
    ({"output": {"dir": "o"}, "evidence": [{"configs": ["tiny.yaml"], "variants": {"a b": {}}}]}, "name 'a b': use letters"),
    ({"output": {"dir": "o"}, "run": [{"config": "tiny.yaml"}, {"config": "tiny.yaml"}]}, "two jobs named 'run/tiny'"),
])
def test_sweep_file_errors(tmp_path, capsys, data, needle):
    (tmp_path / "tiny.yaml").write_text(yaml.safe_dump(TINY))
    path = tmp_path / "sweep.yaml"
    path.write_text(yaml.safe_dump(data))
    with pytest.raises(ConfigError) as err:
        sweep_jobs(path)
    assert needle in str(err.value) and "\n" not in str(err.value)
    assert main(["sweep", str(path), "--dry-run"]) == 2
    assert needle in capsys.readouterr().err


@pytest.mark.parametrize("path", sorted((Path(__file__).resolve().parent.parent / "sweeps").glob("*.yaml")), ids=lambda p: p.name)
def test_shipped_sweep_files_validate(path):
    sweep, jobs = sweep_jobs(path)
    assert jobs and all(c.where.startswith("runs/") or "/runs/" in c.where for j in jobs for c in j.configs)


def test_sweep_file_expansion(tmp_path, capsys):
    """Variants x seeds x configs become named jobs; seeds and the run folder go into the resolved configs."""
    (tmp_path / "tiny.yaml").write_text(yaml.safe_dump(TINY))
    (tmp_path / "sweep.yaml").write_text(yaml.safe_dump({
        "output": {"dir": str(tmp_path / "o")},
        "evidence": [{"configs": ["tiny.yaml", "tiny.yaml"], "name": "pair", "seeds": [3, 4],
                      "variants": {"base": {}, "wide": {"params.g_X.min": 1e-9}}}],
        "run": [{"config": "tiny.yaml", "seeds": [7], "overrides": {"sampler.draws": 10}}],
    }))
    sweep, jobs = sweep_jobs(tmp_path / "sweep.yaml")
    assert [j.name for j in jobs] == ["evidence/pair/base/seed3", "evidence/pair/base/seed4", "evidence/pair/wide/seed3",
                                      "evidence/pair/wide/seed4", "run/tiny/seed7"]
    assert jobs[3].configs[0].config.evidence.seed == 4 and jobs[3].configs[1].config.sampled()["g_X"].min == 1e-9
    run = jobs[4].configs[0].config
    assert run.sampler.seed == 7 and run.sampler.draws == 10 and run.output.dir == str(tmp_path / "o" / "run" / "tiny" / "seed7")
    assert len({j.digest() for j in jobs}) == 5 and load_sweep(tmp_path / "sweep.yaml").retries == 2
    assert main(["sweep", str(tmp_path / "sweep.yaml"), "--dry-run"]) == 0
    assert "5 jobs, 9 tasks" in capsys.readouterr().out


def test_jobqueue_slurm_job_script():
    """--jobqueue slurm: a dask-jobqueue cluster whose worker jobs run one single-threaded worker with this Python."""
    pytest.importorskip("dask_jobqueue")
    from globalfit.inference.sweep import jobqueue_cluster

    cluster = jobqueue_cluster("slurm", 0, cores=1, memory="1GB", scheduler_options={"host": "127.0.0.1", "dashboard_address": ":0"})
    try:
        script = cluster.job_script()
    finally:
        cluster.close()
    assert "#SBATCH" in script and f"{sys.executable} -m distributed.cli.dask_worker tcp://127.0.0.1:" in script and "--nthreads 1" in script


def test_progress_bar_on_a_terminal_only(capsys):
    from globalfit.cli import _progress

    quiet = _progress(False)
    quiet(0, 3), quiet(3, 3)
    assert capsys.readouterr().err == ""
    bar = _progress(True)
    for done in (1, 2, 3):
        bar(done, 3)
    err = capsys.readouterr().err
    assert "3/3" in err and "task" in err


@pytest.mark.parametrize("extra, needle", [(["--serial", "--scheduler", "tcp://127.0.0.1:1"], "--serial and --scheduler: give one of them"),
                                           (["--jobqueue", "slurm"], "--jobqueue slurm: give --workers N")])
def test_engine_option_errors(tmp_path, capsys, extra, needle):
    assert main(["sweep", str(_files(tmp_path))] + extra) == 2
    assert needle in capsys.readouterr().err


def test_evidence_and_run_jobs_assemble(tmp_path, monkeypatch):
    """Evidence and run jobs through the engine (serial): each evidence task's parts become ln Z = ln Z_raw + ln V_s -
    ln P_s + SM constant per config, one evidence.json per variant and seed, and the seed scatter of ln Z and ln B; a run
    job calls the run with its own seed and folder. The samplers themselves are replaced by stand-ins here (nested
    sampling: tests/test_evidence.py; NUTS runs: tests/test_engine.py)."""
    import globalfit.inference.sweep as sweep_mod

    def fake_parts(problem, live_points=None, seed=None):
        s = seed  # every seed of a config gets the same problem (its compiled programs reused), the seed as argument
        raw = -1.0 - 0.1 * s - (0.5 if problem.cfg.sampled()["g_X"].min < 1e-7 else 0.0)
        return {"log_Z_raw": raw, "log_Z_raw_err": 0.1, "n_dim": 3, "live_points": live_points or 75, "n_likelihood_evals": 10,
                "n_samples": 5, "ess": 4.0, "information_H": 1.0, "seconds": 0.0, "converged": True,
                "posterior_quantiles": {"g_X": [1e-7, 1e-6, 1e-5]}, "log_P_support": -0.25, "log_P_support_err": 0.01,
                "log_V_support": -0.1, "log_V_support_err": 0.01}

    runs = []

    def fake_run(problem, source, resume=False, force=False):
        runs.append((problem.cfg.sampler.seed, problem.cfg.output.dir, resume, "resolved by the sweep" in source))
        return "report"

    monkeypatch.setattr(sweep_mod, "log_evidence_parts", fake_parts)
    monkeypatch.setattr(sweep_mod, "run_problem", fake_run)
    (tmp_path / "tiny.yaml").write_text(yaml.safe_dump(TINY))
    (tmp_path / "s.yaml").write_text(yaml.safe_dump({
        "output": {"dir": str(tmp_path / "o")},
        "evidence": [{"configs": ["tiny.yaml"], "name": "ev", "seeds": [0, 1, 2], "variants": {"base": {}, "wide": {"params.g_X.min": 1e-9}}}],
        "run": [{"config": "tiny.yaml", "seeds": [5]}],
    }))
    sweep, specs = sweep_jobs(tmp_path / "s.yaml")
    report = run_sweep([make_job(s) for s in specs], tmp_path / "o")
    assert not report.failed and report.total == 7
    ev = json.loads((tmp_path / "o" / "evidence" / "ev" / "wide" / "seed2" / "evidence.json").read_text())["results"][0]
    assert ev["log_Z"] == pytest.approx(-1.0 - 0.2 - 0.5 + 0.25 - 0.1) and ev["log_P_support"] == -0.25 and ev["sm_constant"] == 0.0
    scatter = json.loads((tmp_path / "o" / "evidence" / "ev" / "base" / "seed_scatter.json").read_text())
    assert scatter["seeds"] == [0, 1, 2] and scatter["log_Z_mean"] == pytest.approx([-0.95]) and scatter["log_Z_std"] == pytest.approx([0.1])
    assert "evidence/ev/wide over 3 seeds: tiny ln Z -1.450 +- 0.100" in report.lines["evidence/ev/wide/seeds"]
    assert runs == [(5, str(tmp_path / "o" / "run" / "tiny" / "seed5"), False, True)]


def test_output_refused_before_a_cluster_starts(tmp_path, capsys, monkeypatch):
    """An existing sweep directory without --resume or --force (or --resume of nothing) is refused at once, before the
    command starts a local cluster (which takes seconds to a minute) for nothing."""
    import globalfit.cli as cli

    def no_cluster(*args, **kwargs):
        raise AssertionError("a cluster was started")

    monkeypatch.setattr(cli, "dask_client", no_cluster)
    path = _files(tmp_path)
    out = tmp_path / "out"
    assert main(["sweep", str(path), "--workers", "2", "--resume"]) == 2
    assert "nothing to resume" in capsys.readouterr().err
    out.mkdir()
    (out / "mine.txt").write_text("a user's file")
    assert main(["sweep", str(path), "--workers", "2"]) == 2
    assert "output directory exists" in capsys.readouterr().err
    assert main(["sweep", str(path), "--workers", "2", "--force"]) == 2  # not a sweep directory: never deleted
    assert "not a sweep directory" in capsys.readouterr().err and (out / "mine.txt").read_text() == "a user's file"
