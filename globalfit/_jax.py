"""Enable float64 in JAX before any array is created, and join a multi-process JAX runtime when asked. Imported by
every physics module (and first by ``globalfit/__init__.py``).

``GLOBALFIT_DISTRIBUTED=1``: :func:`jax.distributed.initialize` is called here, before anything can initialise the
XLA backend (which is why it is an environment variable and not a command-line option): coordinator, number of
processes and process id from ``JAX_COORDINATOR_ADDRESS`` (host:port of process 0), ``JAX_NUM_PROCESSES`` and
``JAX_PROCESS_ID``, or detected by JAX under SLURM (``srun``) or Open MPI (``mpirun``) when those are unset. On CPU
the processes exchange arrays through gloo. :mod:`globalfit.inference.nuts` then spreads the chains of a run over
every device of every process.
"""

import os

import jax

jax.config.update("jax_enable_x64", True)

DISTRIBUTED_ENV = "GLOBALFIT_DISTRIBUTED"


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
