import atexit
import os
import shutil
import tempfile

import jax
import numpy as np
import pytest

from globalfit._jax import CACHE_ENV

# Compiled code is kept for the session in a folder of its own (the CLI turns JAX's persistent cache on; the tests and
# the processes they start share it), never in the user's ~/.cache; GLOBALFIT_JAX_CACHE set outside wins
if CACHE_ENV not in os.environ:
    os.environ[CACHE_ENV] = tempfile.mkdtemp(prefix="globalfit-tests-jax-cache-")
    atexit.register(shutil.rmtree, os.environ[CACHE_ENV], True)

jax.config.update("jax_enable_x64", True)


@pytest.fixture
def rng():
    return np.random.default_rng(12345)
