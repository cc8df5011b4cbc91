import atexit
import os
import shutil
import tempfile

import jax
import numpy as np
import pytest

from globalfit._jax import CACHE_ENV, enable_compilation_cache

# Compiled code is kept for the session in a folder of its own, never in the user's ~/.cache; GLOBALFIT_JAX_CACHE set
# outside wins. The test processes and the processes they start (CLI runs, sweep workers) share it, so a program that
# several tests compile (a config's log-density, a likelihood set) is compiled once per session
if CACHE_ENV not in os.environ:
    os.environ[CACHE_ENV] = tempfile.mkdtemp(prefix="globalfit-tests-jax-cache-")
    atexit.register(shutil.rmtree, os.environ[CACHE_ENV], True)
enable_compilation_cache()

jax.config.update("jax_enable_x64", True)


@pytest.fixture
def rng():
    return np.random.default_rng(12345)


# pytest.approx adds an absolute tolerance of 1e-12 unless told otherwise, also when a relative one is given, so a
# comparison of quantities far below 1 (widths ~1e-18 GeV, cross sections ~1e-40 cm^2, rates in GeV^-2) passes
# whatever the value. Here the absolute floor applies only where the expected value is 0 (or holds a 0); elsewhere the
# relative tolerance (given, or pytest's 1e-6) is the test. An explicit ``abs=`` is kept as written.
_pytest_approx = pytest.approx


def _nonzero(expected) -> bool:
    try:
        values = np.asarray(expected, dtype=complex)
    except (TypeError, ValueError):
        return False
    return values.size > 0 and bool(np.all(values != 0))


def _approx(expected, rel=None, abs=None, nan_ok=False):  # noqa: A002  (pytest's argument names)
    if abs is None and _nonzero(expected):
        abs = 0.0  # noqa: A001
        rel = 1e-6 if rel is None else rel  # pytest drops its default rel once abs is given
    return _pytest_approx(expected, rel=rel, abs=abs, nan_ok=nan_ok)


pytest.approx = _approx
