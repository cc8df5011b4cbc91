"""Enable float64 in JAX before any array is created, and join a multi-process JAX runtime when asked. Imported by
every physics module (and first by ``globalfit/__init__.py``). Also where a process turns on JAX's persistent
compilation cache (:func:`enable_compilation_cache`; the CLI and the sweep workers do), and where XLA's CPU compiler
gets the flags that shorten its compilation (:data:`CPU_COMPILE_FLAGS`; ``GLOBALFIT_XLA_FLAGS=off`` leaves
``XLA_FLAGS`` alone).

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

from importlib.metadata import PackageNotFoundError, version

DISTRIBUTED_ENV = "GLOBALFIT_DISTRIBUTED"
CACHE_ENV = "GLOBALFIT_JAX_CACHE"  # a directory for JAX's persistent compilation cache, or "off"
XLA_FLAGS_ENV = "GLOBALFIT_XLA_FLAGS"  # "off": leave XLA_FLAGS as they are

# XLA CPU flags that shorten compilation, by the jaxlib release series they were measured with (an unknown flag in
# XLA_FLAGS aborts the process, so a series not listed gets none). XLA's newer CPU fusion emitters take about twice as
# long to compile the likelihoods as its older elemental emitters, for the same run time and the same values (the
# gradient to 1e-9): docs/performance.md, "XLA's CPU fusion emitters".
CPU_COMPILE_FLAGS: dict[str, tuple[str, ...]] = {
    "0.10": ("--xla_cpu_use_fusion_emitters=false",),
}


def cpu_compile_flags(xla_flags: str, jaxlib_version: str) -> str:
    """``xla_flags`` with the flags of :data:`CPU_COMPILE_FLAGS` for ``jaxlib_version`` added, except those it sets
    already (the user's choice wins)."""
    series = ".".join(jaxlib_version.split(".")[:2])
    have = {f.split("=")[0] for f in xla_flags.split()}
    extra = [f for f in CPU_COMPILE_FLAGS.get(series, ()) if f.split("=")[0] not in have]
    return " ".join([xla_flags.strip(), *extra]).strip()


def _set_xla_flags() -> None:
    """Add :func:`cpu_compile_flags` to ``$XLA_FLAGS`` before XLA starts (it reads them once, when JAX first creates
    its backend; child processes, such as the sweep workers, inherit them), unless ``$GLOBALFIT_XLA_FLAGS`` is off."""
    if os.environ.get(XLA_FLAGS_ENV, "").strip().lower() in ("off", "0", "no", "false"):
        return
    try:
        jaxlib_version = version("jaxlib")
    except PackageNotFoundError:
        return
    flags = cpu_compile_flags(os.environ.get("XLA_FLAGS", ""), jaxlib_version)
    if flags:
        os.environ["XLA_FLAGS"] = flags


_set_xla_flags()

import jax  # noqa: E402  (after XLA_FLAGS)

jax.config.update("jax_enable_x64", True)


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
    also compiles a few dozen small programs (its tables, single operations) while it is built, ~20 ms each on CPU,
    and loading them is faster. The folder is not capped (JAX's size cap rescans the whole folder at every write);
    deleting it is always safe. docs/performance.md, "Compiled code kept between runs"."""
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
