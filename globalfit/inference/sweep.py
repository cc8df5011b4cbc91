"""Sweeps on Dask distributed: profile maps, evidence comparisons and NUTS runs as tasks on a cluster.

A sweep is a list of jobs (:class:`globalfit.problem.sweep_config.JobSpec`, from a sweep file or from
``globalfit profile``), each a small set of **tasks**, plain functions of plain data run on Dask workers:

* a profile map (:mod:`globalfit.inference.profile`): stage 1 of each block of ``rows_per_task`` g_X rows (a
  vmapped batch of every start of every point of the block), then, once every block is in, lnL_ref and stage 2 of
  each block; the map is assembled from the blocks (:func:`~globalfit.inference.profile.assemble_profile`);
* an evidence comparison: ln Z_raw and ln P_s of each config (:func:`~globalfit.inference.evidence.log_evidence_parts`),
  then the same-data constants and Bayes factors;
* a NUTS run (:func:`~globalfit.inference.nuts.run_problem`): one task writing its run directory (on a cluster the
  output directory must be on a filesystem the workers share; the other jobs need none).

A worker receives the *resolved* run config (``base:`` and prior sets merged, overrides applied) and rebuilds the fit
problem from it (cached per process, as are the compiled profile chains); no compiled function crosses a process
boundary, so workers need only the installed package. JAX's persistent compilation cache
(:func:`compilation_cache_dir`) lets every worker on a machine reuse what the first one compiled.

**Results.** The client writes each finished task's result atomically under the sweep directory
(:mod:`globalfit.outputs.sweepdir`) as it arrives; ``resume`` loads them and runs only the missing tasks. A task that
raises is retried ``retries`` times (Dask's ``retries``; a task whose worker dies is rescheduled by the scheduler),
then reported by name in :class:`SweepReport` and ``failed.json`` - never dropped; the jobs that do not depend on it
still finish. Every task computes exactly what the in-process path computes (same blocks, same inputs, same
compiled code), so the assembled result is identical on 1 worker, N workers or without Dask (``client=None``).

**Cluster.** :func:`dask_client`: an existing scheduler (``address``), else a ``LocalCluster`` of worker processes
sized to the machine, each pinned to its share of the cores (:func:`core_share`), started and stopped around the
sweep. XLA's CPU kernels use every core a process may use, so on one machine the in-process path is as fast as local
workers (docs/performance.md); workers add cores on other hosts.
"""

from __future__ import annotations

import abc

import json
import logging
import os
import socket
import time
import uuid
from contextlib import contextmanager, suppress
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator

import dask
import numpy as np
from pydantic import ValidationError

from globalfit._jax import CACHE_ENV, compilation_cache_dir, enable_compilation_cache
from globalfit.errors import ConfigError, GlobalfitError, InputError
from globalfit.inference.evidence import (evidence_line, evidence_result, format_evidence, format_seed_scatter, log_evidence_parts,
                                          same_data_constants, seed_scatter)
from globalfit.inference.nuts import run_problem
from globalfit.inference.profile import (
    ProfilePlan,
    ProfileSettings,
    assemble_profile,
    neighbours,
    profile_plan,
    profile_polish,
    profile_reference,
    profile_stage1,
    profile_stage1_polish,
    profile_stage2,
)
from globalfit.outputs.chains import quiet_getdist
from globalfit.outputs.plane import save_profile_figures
from globalfit.outputs.rundir import atomic_write, resolved_yaml, run_lock
from globalfit.outputs.sweepdir import check_sweep_dir, load_result, log_event, prepare_sweep_dir, save_result, write_failures
from globalfit.problem import FitProblem, problem_from_config
from globalfit.problem.config import RunConfig
from globalfit.problem.config import _explain as explain_validation
from globalfit.problem.sweep_config import JobSpec

__all__ = ["CACHE_ENV", "Task", "SweepJob", "SweepReport", "make_job", "run_sweep", "check_sweep_outputs", "dask_client", "dask_scheduler_address", "jobqueue_cluster", "local_workers", "local_cores", "core_share", "pin_threads",
           "compilation_cache_dir", "enable_compilation_cache", "seed_scatter_files"]

_log = logging.getLogger(__name__)


# --- per-process state of a worker ----------------------------------------------------------------------------------
_PROBLEMS: dict[str, FitProblem] = {}
_PLANS: dict[tuple, ProfilePlan] = {}
_EVIDENCE_PROBLEMS: dict[tuple, FitProblem] = {}


def _problem(where: str, data: dict) -> FitProblem:
    """The fit problem of a resolved config, built once per process."""
    key = where + json.dumps(data, sort_keys=True)
    if key not in _PROBLEMS:
        try:
            cfg = RunConfig.model_validate(data)
        except ValidationError as err:  # a resolved config is validated when the sweep is loaded; never a raw traceback here
            raise ConfigError(explain_validation(err, where)) from None
        _PROBLEMS[key] = problem_from_config(cfg, where)
    return _PROBLEMS[key]


def _evidence_problem(where: str, data: dict, exclude: list[str] | None) -> tuple[FitProblem, int]:
    """(the problem of an evidence task, its seed). ``evidence.seed`` is an argument of the nested sampler, not part
    of the problem: every seed of a config gets the same problem object, built once per process, so that later seeds
    reuse its compiled programs (:meth:`FitProblem.compiled`; 18 s -> 2 s per seed of full_B in one process)."""
    evidence = dict(data["evidence"])
    seed = evidence.pop("seed")
    data = dict(data, evidence=evidence)
    key = (where + json.dumps(data, sort_keys=True), tuple(exclude or ()))
    if key not in _EVIDENCE_PROBLEMS:
        problem = _problem(where, data)
        _EVIDENCE_PROBLEMS[key] = problem.without(exclude) if exclude else problem
    return _EVIDENCE_PROBLEMS[key], seed


def _plan(where: str, data: dict, settings: ProfileSettings) -> ProfilePlan:
    key = (where + json.dumps(data, sort_keys=True), settings)
    if key not in _PLANS:
        _PLANS[key] = profile_plan(_problem(where, data), settings)
    return _PLANS[key]


# --- the tasks (module-level functions of plain data, run on the workers) -------------------------------------------
def task_profile_stage1(where: str, data: dict, settings: ProfileSettings, block: tuple[int, int]) -> dict:
    return profile_stage1(_plan(where, data, settings), block)


def task_profile_stage2(where: str, data: dict, settings: ProfileSettings, block: tuple[int, int], s1: dict, ref: float) -> dict:
    return profile_stage2(_plan(where, data, settings), block, s1, ref)


def task_profile_stage1_polish(where: str, data: dict, settings: ProfileSettings, block: tuple[int, int], s1: dict, before: dict | None,
                               after: dict | None) -> dict:
    return profile_stage1_polish(_plan(where, data, settings), block, s1, before, after)


def task_profile_polish(where: str, data: dict, settings: ProfileSettings, block: tuple[int, int], s2: dict, before: dict | None,
                        after: dict | None, ref: float) -> dict:
    return profile_polish(_plan(where, data, settings), block, s2, before, after, ref)


def task_evidence(where: str, data: dict, exclude: list[str] | None, live_points: int | None) -> dict:
    problem, seed = _evidence_problem(where, data, exclude)
    return log_evidence_parts(problem, live_points=live_points, seed=seed)


def task_run(where: str, data: dict, source: str) -> dict:
    problem = _problem(where, data)
    outdir = Path(problem.cfg.output.dir)
    resume = (outdir / "progress.json").is_file()
    report = run_problem(problem, source, resume=resume, force=False)
    return {"report": report, "outdir": str(outdir)}


def _execute(fn: Callable[..., dict], args: tuple, cache: str | None) -> tuple[dict, dict]:
    """Run a task in a worker: (its result, where and when it ran)."""
    enable_compilation_cache(None if cache is None else Path(cache))
    quiet_getdist()  # a worker's output reaches the user's terminal (local cluster) or a batch log, as the CLI's does
    t0, c0 = time.time(), time.process_time()
    result = fn(*args)
    return result, {"worker": f"{socket.gethostname()}:{os.getpid()}", "start": t0, "end": time.time(), "cpu": time.process_time() - c0}


# --- jobs -----------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Task:
    """One unit of work: ``fn(*args)`` returns a dict of numpy arrays and JSON values; ``name`` is unique in a sweep."""

    name: str
    fn: Callable[..., dict]
    args: tuple


class SweepJob(abc.ABC):
    """A job of a sweep: its tasks (some ready only once others are done) and how its output is assembled."""

    def __init__(self, spec: JobSpec, folder: str | None = None):
        self.spec = spec
        self.folder = spec.name if folder is None else folder  # its outputs, relative to the sweep directory

    @property
    @abc.abstractmethod
    def total(self) -> int:
        """Number of tasks of the job."""

    @abc.abstractmethod
    def ready(self, done: dict[str, dict]) -> list[Task]:
        """Tasks whose inputs are available and that are not in ``done``."""

    @abc.abstractmethod
    def task_names(self) -> list[str]:
        """Names of every task of the job."""

    @abc.abstractmethod
    def finish(self, done: dict[str, dict], outdir: Path) -> tuple[list[Path], str]:
        """Write the job's outputs from its task results: (files, a line on the result)."""


class ProfileSweepJob(SweepJob):
    def __init__(self, spec: JobSpec, folder: str | None = None):
        super().__init__(spec, folder)
        (ref,) = spec.configs
        self.where, self.data = ref.where, ref.data()
        s = spec.settings
        self.settings = ProfileSettings.make(s["grid"], s["quantity"], s["exclude"], starts=s["starts"], steps=s["steps"], seed=spec.seed,
                                             M_range=s["M_range"], g_range=s["g_range"], rows_per_task=s["rows_per_task"],
                                             polish=s.get("polish"), profile_rungs=s.get("profile_rungs"),
                                             warm_steps=s.get("warm_steps"), warm_lr=s.get("warm_lr"))
        self.plan = _plan(self.where, self.data, self.settings)  # checks the grid ranges and exclude patterns now
        self.blocks = self.plan.blocks

    @property
    def stages(self) -> list[str]:
        """Stage 1, its neighbour passes (profile1, ...), stage 2, its neighbour passes (reach1, ...); each stage one task per
        row block, run once the whole previous stage is done (a pass reads the blocks beside its own)."""
        k = self.settings.polish
        return ["stage1"] + [f"profile{i}" for i in range(1, k + 1)] + ["stage2"] + [f"reach{i}" for i in range(1, k + 1)]

    @property
    def total(self) -> int:
        return len(self.stages) * len(self.blocks)

    def _name(self, stage: str, b: tuple[int, int]) -> str:
        return f"{self.spec.name}/{stage}_rows{b[0]:04d}-{b[1] - 1:04d}"

    def task_names(self) -> list[str]:
        return [self._name(st, b) for st in self.stages for b in self.blocks]

    def _reference(self, done) -> float:
        return profile_reference([done[self._name(self.stages[self.settings.polish], b)] for b in self.blocks])

    def ready(self, done):
        args = (self.where, self.data, self.settings)
        for i, stage in enumerate(self.stages):
            todo = [(j, b) for j, b in enumerate(self.blocks) if self._name(stage, b) not in done]
            if not todo:
                continue
            if i == 0:
                return [Task(self._name(stage, b), task_profile_stage1, args + (b,)) for _, b in todo]
            prev = [done[self._name(self.stages[i - 1], b)] for b in self.blocks]
            if stage.startswith("profile"):
                return [Task(self._name(stage, b), task_profile_stage1_polish, args + (b, prev[j], *neighbours(prev, j))) for j, b in todo]
            ref = self._reference(done)
            if stage == "stage2":
                return [Task(self._name(stage, b), task_profile_stage2, args + (b, prev[j], ref)) for j, b in todo]
            return [Task(self._name(stage, b), task_profile_polish, args + (b, prev[j], *neighbours(prev, j), ref)) for j, b in todo]
        return []

    def result(self, done):
        last = [done[self._name(self.stages[-1], b)] for b in self.blocks]
        seconds = float(sum(float(done[n]["seconds"]) for n in self.task_names()))
        return assemble_profile(self.plan, last, self._reference(done), seconds)

    def finish(self, done, outdir):
        res = self.result(done)
        out = outdir / self.folder
        out.mkdir(parents=True, exist_ok=True)
        files = [res.save(out / "profile.npz")] + save_profile_figures(res, self.plan.problem.cfg, out, list(res.quantities))
        q = res.quantities[0]
        r = res.reach(q)
        line = f"{self.spec.name}: lnL_ref {res.lnL_ref:.4g}, share allowed {float(np.mean(res.allowed(res.thresholds[0]))):.2f} at {res.thresholds[0]:g}"
        if np.isfinite(r).any():
            line += f", largest |{q}| {np.nanmax(r):.3g}"
        return files, line


class EvidenceSweepJob(SweepJob):
    def __init__(self, spec: JobSpec, folder: str | None = None):
        super().__init__(spec, folder)
        self.problems = [_evidence_problem(c.where, c.data(), spec.settings.get("exclude"))[0] for c in spec.configs]
        self.consts = same_data_constants([(p.where, p.cfg) for p in self.problems])  # the same-data rule, checked now

    @property
    def total(self) -> int:
        return len(self.spec.configs)

    def task_names(self) -> list[str]:
        return [f"{self.spec.name}/lnZ_{i}_{Path(c.where).stem}" for i, c in enumerate(self.spec.configs)]

    def ready(self, done):
        s = self.spec.settings
        return [Task(n, task_evidence, (c.where, c.data(), s.get("exclude"), s.get("live_points")))
                for n, c in zip(self.task_names(), self.spec.configs) if n not in done]

    def results(self, done):
        return [evidence_result(p, _plain(done[n]), c, a) for p, n, (c, a) in zip(self.problems, self.task_names(), self.consts)]

    def finish(self, done, outdir):
        results = self.results(done)
        out = outdir / self.folder
        out.mkdir(parents=True, exist_ok=True)
        f = out / "evidence.json"
        atomic_write(f, json.dumps({"job": self.spec.name, "excluded": self.spec.settings.get("exclude") or [],
                                    "results": [asdict(r) for r in results]}, indent=2).encode())
        t = out / "evidence.txt"
        text = "\n".join(evidence_line(p, r) for p, r in zip(self.problems, results)) + "\n" + format_evidence(results) + "\n"
        atomic_write(t, text.encode())
        line = f"{self.spec.name}: " + ", ".join(f"{Path(r.config).stem} ln Z {r.log_Z:.3f}+-{r.log_Z_err:.3f}" for r in results)
        return [f, t], line


class RunSweepJob(SweepJob):
    def __init__(self, spec: JobSpec, folder: str | None = None):
        super().__init__(spec, folder)
        (ref,) = spec.configs
        self.where, self.data = ref.where, ref.data()
        self.problem = _problem(self.where, self.data)  # checks the config now
        self.source = f"# {ref.where} as resolved by the sweep {spec.name}\n" + resolved_yaml(ref.config)

    @property
    def total(self) -> int:
        return 1

    def task_names(self) -> list[str]:
        return [f"{self.spec.name}/run"]

    def ready(self, done):
        n = self.task_names()[0]
        return [] if n in done else [Task(n, task_run, (self.where, self.data, self.source))]

    def finish(self, done, outdir):
        r = done[self.task_names()[0]]
        d = Path(r["outdir"])
        return [d / "posterior.nc", d / "report.txt"], f"{self.spec.name}: run directory {d}"


def seed_scatter_files(jobs: list[EvidenceSweepJob], done: dict[str, dict], outdir: Path) -> dict[str, tuple[list[Path], str]]:
    """For evidence jobs that differ only by seed (``.../seed<n>``): mean and standard deviation over the seeds of
    each config's ln Z and ln B against the first config (:func:`~globalfit.inference.evidence.seed_scatter`), written
    to ``<group>/seed_scatter.json``; returns {group: (files, line)}."""
    groups: dict[str, list] = {}
    for j in jobs:
        head, _, tail = j.spec.name.rpartition("/seed")
        if head and tail.isdigit():
            groups.setdefault(head, []).append(j)
    out = {}
    for group, members in groups.items():
        if len(members) < 2:
            continue
        scatter = seed_scatter(np.array([[r.log_Z for r in j.results(done)] for j in members]))  # (seeds, configs)
        summary = {"seeds": [j.spec.seed for j in members], "configs": [c.where for c in members[0].spec.configs], **scatter}
        f = outdir / group / "seed_scatter.json"
        f.parent.mkdir(parents=True, exist_ok=True)
        atomic_write(f, json.dumps(summary, indent=2).encode())
        names = [Path(c.where).stem for c in members[0].spec.configs]
        out[group + "/seeds"] = ([f], f"{group} over {len(members)} seeds: " + format_seed_scatter(scatter, names))
    return out


def _plain(d: dict) -> dict:
    """A task result as loaded from disk with numpy scalars turned back into Python numbers."""
    return {k: (v.item() if isinstance(v, np.ndarray) and v.ndim == 0 else v) for k, v in d.items()}


def make_job(spec: JobSpec, folder: str | None = None) -> SweepJob:
    """The job of a spec, checked (configs built, profile settings, ranges and exclude patterns, same-data rule). A bad
    setting of a sweep file's entry is one ConfigError line naming the file and key path (``spec.origin``, e.g.
    ``sweeps/x.yaml: profile.0.quantity: ...``); a job from the command line keeps the option's own message."""
    try:
        return {"profile": ProfileSweepJob, "evidence": EvidenceSweepJob, "run": RunSweepJob}[spec.kind](spec, folder)
    except InputError as exc:
        if not spec.origin:
            raise
        msg, key = str(exc), getattr(exc, "key", None)  # key: the ProfileSettings argument that failed
        if msg.startswith("--exclude "):  # the command line's wording of an exclude pattern (split_likelihoods)
            msg, key = msg.removeprefix("--exclude "), "exclude"
        raise ConfigError(f"{spec.origin}.{key}: {msg}" if key else f"{spec.origin}: {msg}") from None


# --- the engine -----------------------------------------------------------------------------------------------------
@dataclass
class SweepReport:
    """What a sweep did: task counts, failures by name, each finished job's outputs and a line on its result."""

    outdir: Path
    total: int
    loaded: int  # results found on disk (resume)
    computed: int  # results computed now
    failed: dict[str, str]  # task name -> one-line error, after every retry
    unfinished: list[str]  # jobs not assembled (a task failed)
    outputs: dict[str, list[Path]] = field(default_factory=dict)
    lines: dict[str, str] = field(default_factory=dict)
    wall_seconds: float = 0.0
    task_seconds: float = 0.0  # summed over the tasks computed now, as measured inside the workers
    workers: int = 0  # 0: in this process


def _error_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0] if text else ''}".strip()


def job_digests(jobs: list[SweepJob]) -> dict[str, str]:
    """Job name -> digest of what it computes (the sweep directory's manifest)."""
    return {j.spec.name: j.spec.digest() for j in jobs}


def check_sweep_outputs(jobs: list[SweepJob], outdir: Path, resume: bool = False, force: bool = False) -> None:
    """Refuse now what :func:`run_sweep` would refuse about ``outdir`` (exists without --resume or --force, a changed
    job on --resume), before a caller spends time starting a cluster."""
    check_sweep_dir(Path(outdir), job_digests(jobs), resume, force)


def run_sweep(jobs: list[SweepJob], outdir: Path, client=None, retries: int = 2, resume: bool = False, force: bool = False,
              source: Path | None = None, progress: Callable[[int, int], None] | None = None,
              log: Callable[[str], None] = lambda line: None) -> SweepReport:
    """Run every task of ``jobs`` (on the Dask ``client``, else in this process), write each result under ``outdir``
    as it finishes, assemble each job whose tasks all finished; see the module docstring. ``progress(done, total)``
    after every task; ``log`` gets a line per failed attempt and per failed task. The client holds the directory's
    lock (:func:`globalfit.outputs.rundir.run_lock`) throughout: a second sweep into it is refused at once."""
    with run_lock(Path(outdir), command="sweep"):
        return _run_sweep(jobs, Path(outdir), client, retries, resume, force, source, progress, log)


def _run_sweep(jobs: list[SweepJob], outdir: Path, client, retries: int, resume: bool, force: bool, source: Path | None,
               progress: Callable[[int, int], None] | None, log: Callable[[str], None]) -> SweepReport:
    t_wall = time.time()
    outdir = prepare_sweep_dir(Path(outdir), job_digests(jobs), resume=resume, force=force, source=source)
    cache = compilation_cache_dir()
    enable_compilation_cache(cache)
    names = [n for j in jobs for n in j.task_names()]
    if len(set(names)) != len(names):
        raise InputError("two tasks of the sweep share a name: give its jobs distinct names")
    done: dict[str, dict] = {}
    for n in names:
        r = load_result(outdir, n) if resume else None
        if r is not None:
            done[n] = r
    loaded, total = len(done), len(names)
    failed: dict[str, str] = {}
    pending: set[str] = set()
    task_seconds = 0.0
    tick = progress or (lambda d, t: None)
    tick(len(done), total)

    def record(task: Task, result: dict, info: dict, attempt: int | None) -> None:
        nonlocal task_seconds
        save_result(outdir, task.name, result)
        done[task.name] = result
        task_seconds += info["end"] - info["start"]
        log_event(outdir, {"task": task.name, "status": "done", "attempt": attempt, **info, "received": time.time()})
        tick(len(done), total)

    def fail(task: Task, exc: BaseException) -> None:
        failed[task.name] = _error_line(exc)
        log_event(outdir, {"task": task.name, "status": "failed", "error": failed[task.name], "received": time.time()})
        log(f"task {task.name} failed after {retries + 1} attempts: {failed[task.name]}")

    def ready() -> list[Task]:
        out = []
        for j in jobs:
            if any(n in failed for n in j.task_names()):
                continue
            try:
                out += [t for t in j.ready(done) if t.name not in pending]
            except GlobalfitError as exc:  # e.g. no finite profile: the job cannot go on
                for n in j.task_names():
                    if n not in done:
                        failed[n] = f"{type(exc).__name__}: {exc}"
        return out

    if client is None:
        batch = ready()
        while batch:
            for task in batch:
                for attempt in range(retries + 1):
                    try:
                        result, info = _execute(task.fn, task.args, None if cache is None else str(cache))
                    except Exception as exc:  # noqa: BLE001  (a task's failure is reported by name, never raised past the sweep)
                        if attempt == retries:
                            fail(task, exc)
                        else:
                            log(f"task {task.name}: attempt {attempt + 1} failed ({_error_line(exc)}); retrying")
                        continue
                    record(task, result, info, attempt + 1)
                    break
            batch = ready()
    else:
        from distributed import as_completed  # noqa: PLC0415  (only a Dask sweep needs it)

        futures: dict[str, Task] = {}
        ac = as_completed()

        def submit(tasks: list[Task]) -> None:
            for task in tasks:
                fut = client.submit(_execute, task.fn, task.args, None if cache is None else str(cache),
                                    key=f"{task.name}#{uuid.uuid4().hex[:8]}", retries=retries, pure=False)
                futures[fut.key] = task
                pending.add(task.name)
                ac.add(fut)

        submit(ready())
        for fut in ac:
            task = futures.pop(fut.key)
            pending.discard(task.name)
            if fut.status == "finished":
                result, info = fut.result()
                record(task, result, info, None)
            else:
                try:
                    exc = fut.exception()
                except BaseException as err:  # noqa: BLE001  (a cancelled future raises instead of returning its error)
                    exc = err
                fail(task, exc)
            fut.release()
            submit(ready())

    outputs, lines, unfinished = {}, {}, []
    for j in jobs:
        if all(n in done for n in j.task_names()):
            outputs[j.spec.name], lines[j.spec.name] = j.finish(done, outdir)
        else:
            unfinished.append(j.spec.name)
    for group, (files, line) in seed_scatter_files([j for j in jobs if isinstance(j, EvidenceSweepJob) and j.spec.name in outputs], done, outdir).items():
        outputs[group], lines[group] = files, line
    if failed:
        write_failures(outdir, failed)
    n_workers = 0 if client is None else len(client.nthreads())
    return SweepReport(outdir=outdir, total=total, loaded=loaded, computed=len(done) - loaded, failed=failed, unfinished=unfinished,
                       outputs=outputs, lines=lines, wall_seconds=time.time() - t_wall, task_seconds=task_seconds, workers=n_workers)


def dask_scheduler_address() -> str | None:
    """Dask's own ``scheduler-address`` setting (environment ``DASK_SCHEDULER_ADDRESS`` or a Dask config file), if any."""
    return dask.config.get("scheduler-address", None)


def local_cores() -> set[int]:
    """The cores this process may use."""
    try:
        return set(os.sched_getaffinity(0))
    except AttributeError:
        return set(range(os.cpu_count() or 1))


def local_workers() -> int:
    """Cores this process may use (the size of the default LocalCluster)."""
    return len(local_cores())


def core_share(cores: Iterable[int], index: int, n: int) -> set[int]:
    """The cores of local worker ``index`` of ``n``: every n-th of ``cores`` from the index-th on (all of them for one
    worker; one each, shared round-robin, when there are more workers than cores)."""
    cores = sorted(cores)
    if n >= len(cores):
        return {cores[index % len(cores)]}
    return set(cores[index % n::n])


def pin_threads(cores: set[int]) -> bool:
    """Restrict every thread of this process, and the threads they start later (XLA's pool among them), to ``cores``;
    False where the platform has no thread affinity (then nothing changes)."""
    if not hasattr(os, "sched_setaffinity") or not os.path.isdir("/proc/self/task"):
        return False
    for tid in os.listdir("/proc/self/task"):
        with suppress(OSError, ValueError):  # a thread that ended meanwhile
            os.sched_setaffinity(int(tid), cores)
    return True


def _core_share_plugin(n: int):
    """A Dask worker plugin giving local worker i of n its :func:`core_share` of this machine's cores (also after a
    restart: the plugin runs at every worker start). XLA's CPU backend runs one process's kernels on every core it
    may use (measured: 1.85x on 2 cores), so n unpinned workers would oversubscribe the machine n-fold."""
    from distributed.diagnostics.plugin import WorkerPlugin  # noqa: PLC0415  (only when a sweep uses Dask)

    class CoreShare(WorkerPlugin):
        name = "globalfit-core-share"

        def setup(self, worker):
            with suppress(TypeError, ValueError):
                pin_threads(core_share(local_cores(), int(worker.name), n))

    return CoreShare()


JOBQUEUE = {"slurm": "SLURMCluster", "pbs": "PBSCluster", "sge": "SGECluster", "lsf": "LSFCluster", "htcondor": "HTCondorCluster",
            "moab": "MoabCluster", "oar": "OARCluster"}  # --jobqueue name -> dask_jobqueue class


def jobqueue_cluster(kind: str, workers: int, **settings):
    """A dask-jobqueue cluster of ``kind`` (``slurm``, ``pbs``, ...) scaled to ``workers`` single-process jobs; cores,
    memory, walltime, account and the Python to run come from Dask's configuration (``~/.config/dask/jobqueue.yaml``,
    section ``jobqueue.<kind>``; docs/cluster.md has an example) or ``settings``."""
    try:
        import dask_jobqueue  # noqa: PLC0415  (optional: pip install dask-jobqueue)
    except ImportError:
        raise InputError(f"--jobqueue {kind}: needs dask-jobqueue (pip install 'globalfit[cluster]')") from None
    if kind not in JOBQUEUE:
        raise InputError(f"--jobqueue {kind!r}: expected one of {list(JOBQUEUE)}")
    cls = getattr(dask_jobqueue, JOBQUEUE[kind])
    try:
        cluster = cls(processes=1, **settings)
    except ValueError as exc:  # e.g. cores or memory missing from the configuration
        raise InputError(f"--jobqueue {kind}: {exc} (set it under jobqueue.{kind} in ~/.config/dask/jobqueue.yaml)") from None
    cluster.scale(jobs=workers)
    return cluster


@contextmanager
def dask_client(address: str | None = None, workers: int | None = None, jobqueue: str | None = None) -> Iterator[Any]:
    """A Dask client: connected to the scheduler at ``address``; else to a dask-jobqueue cluster (``jobqueue``: slurm,
    pbs, ...; ``workers`` batch jobs); else to a LocalCluster of ``workers`` (default: one per core) single-threaded
    worker processes on 127.0.0.1, each pinned to its share of the cores (:func:`core_share`: XLA's CPU kernels use
    every core a process may use, so unpinned workers would oversubscribe). A cluster started here is stopped on exit."""
    from distributed import Client, LocalCluster  # noqa: PLC0415  (imported only when a sweep uses Dask)

    if address is not None:
        try:
            client = Client(address, timeout="20s")
        except OSError as exc:
            raise InputError(f"--scheduler {address}: cannot connect ({_error_line(exc)}); start it with `dask scheduler`") from None
        try:
            yield client
        finally:
            client.close()
        return
    n = workers or local_workers()
    if jobqueue is not None:
        cluster = jobqueue_cluster(jobqueue, n)
    else:
        cluster = LocalCluster(n_workers=n, threads_per_worker=1, processes=True, host="127.0.0.1", dashboard_address=None,
                               silence_logs=logging.ERROR)
    client = Client(cluster)
    if jobqueue is None:
        client.register_plugin(_core_share_plugin(n))
    try:
        yield client
    finally:
        client.close()
        cluster.close()
