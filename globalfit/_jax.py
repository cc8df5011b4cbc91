"""Enable float64 in JAX before any array is created, and join a multi-process JAX runtime when asked. Imported by
every physics module (and first by ``globalfit/__init__.py``). Also where a process turns on JAX's persistent
compilation cache (:func:`enable_compilation_cache`; the CLI and the sweep workers do).

``GLOBALFIT_DISTRIBUTED=1``: :func:`jax.distributed.initialize` is called here, before anything can initialise the
XLA backend (which is why it is an environment variable and not a command-line option): coordinator, number of
processes and process id from ``JAX_COORDINATOR_ADDRESS`` (host:port of process 0), ``JAX_NUM_PROCESSES`` and
``JAX_PROCESS_ID``, or detected by JAX under SLURM (``srun``) or Open MPI (``mpirun``) when those are unset. On CPU
the processes exchange arrays through gloo. :mod:`globalfit.inference.nuts` then spreads the chains of a run over
every device of every process.
"""

import hashlib
import os
from pathlib import Path

import jax

jax.config.update("jax_enable_x64", True)

DISTRIBUTED_ENV = "GLOBALFIT_DISTRIBUTED"
CACHE_ENV = "GLOBALFIT_JAX_CACHE"  # a directory for JAX's persistent compilation cache, or "off"


def _join_processes() -> None:
    if os.environ.get(DISTRIBUTED_ENV, "").strip().lower() not in ("1", "true", "yes", "on") or jax.distributed.is_initialized():
        return
    jax.config.update("jax_cpu_collectives_implementation", "gloo")
    num, pid = os.environ.get("JAX_NUM_PROCESSES"), os.environ.get("JAX_PROCESS_ID")
    try:
        jax.distributed.initialize(coordinator_address=os.environ.get("JAX_COORDINATOR_ADDRESS"), num_processes=int(num) if num else None,
                                   process_id=int(pid) if pid else None)
    except (RuntimeError, ValueError) as exc:
        raise RuntimeError(f"{DISTRIBUTED_ENV}=1: cannot join the JAX processes (set JAX_COORDINATOR_ADDRESS, JAX_NUM_PROCESSES and "
                           f"JAX_PROCESS_ID, or run under srun / mpirun): {exc}") from None


_join_processes()


def compilation_cache_dir() -> Path | None:
    """Where compiled XLA executables are kept between processes: ``$GLOBALFIT_JAX_CACHE`` (``off``: nowhere), else
    ``~/.cache/globalfit/jax-<cpu>``, one folder per CPU model, instruction set and JAX version (an executable compiled
    for one CPU must not run on another)."""
    env = os.environ.get(CACHE_ENV)
    if env is not None:
        return None if env.strip().lower() in ("", "off", "none", "0") else Path(env)
    try:
        info = Path("/proc/cpuinfo").read_text()
        flags = next((ln for ln in info.splitlines() if ln.startswith(("flags", "Features"))), "")
        model = next((ln for ln in info.splitlines() if ln.startswith("model name")), "")
    except OSError:
        flags, model = os.uname().machine, ""
    tag = hashlib.sha256((model + flags + jax.__version__).encode()).hexdigest()[:12]
    return Path.home() / ".cache" / "globalfit" / f"jax-{tag}"


_CACHE_SET: list[Path | None] = []


def enable_compilation_cache(path: Path | None = None) -> Path | None:
    """Turn on JAX's persistent compilation cache in this process (once; ``path`` default :func:`compilation_cache_dir`)
    and return its folder (None: off, or not writable). Every executable is kept, however short its compilation: a fit
    compiles ~300 single operations eagerly while it builds its tables (~25 ms each on CPU), and loading them is
    faster. The folder is not capped (JAX's size cap rescans the whole folder at every write); deleting it is always
    safe. docs/performance.md, "Compiled code kept between runs"."""
    if _CACHE_SET:
        return _CACHE_SET[0]
    path = compilation_cache_dir() if path is None else path
    try:
        if path is not None:
            path.mkdir(parents=True, exist_ok=True)
    except OSError:
        path = None  # a cache only saves compilation time: without a writable folder, compile
    _CACHE_SET.append(path)
    if path is not None:
        jax.config.update("jax_compilation_cache_dir", str(path))
        jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.0)
    return path
