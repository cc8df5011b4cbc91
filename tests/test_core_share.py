"""Local Dask workers each get their own share of the cores (globalfit.inference.sweep.core_share): XLA's CPU kernels
use every core a process may use, so unpinned workers would oversubscribe the machine."""

from __future__ import annotations

import os
import threading

import pytest

from globalfit.inference.sweep import core_share, local_cores, pin_threads


def test_core_share_partitions_the_cores():
    cores = [0, 1, 2, 3, 4, 5]
    shares = [core_share(cores, i, 3) for i in range(3)]
    assert shares == [{0, 3}, {1, 4}, {2, 5}]
    assert core_share(cores, 0, 1) == set(cores)  # one worker: every core
    assert [core_share([0, 1], i, 3) for i in range(3)] == [{0}, {1}, {0}]  # more workers than cores: one each, shared


@pytest.mark.skipif(not hasattr(os, "sched_setaffinity") or len(local_cores()) < 2, reason="needs thread affinity and two cores")
def test_pin_threads_reaches_threads_started_before_and_after():
    cores = local_cores()
    seen = {}
    started = threading.Event()
    release = threading.Event()

    def worker(name):
        started.set()
        release.wait(10)
        seen[name] = os.sched_getaffinity(0)

    before = threading.Thread(target=worker, args=("before",))
    before.start()
    started.wait(10)
    try:
        assert pin_threads({min(cores)})
        after = threading.Thread(target=worker, args=("after",))
        after.start()
        release.set()
        before.join(10)
        after.join(10)
        assert seen == {"before": {min(cores)}, "after": {min(cores)}}
    finally:
        release.set()
        pin_threads(cores)
    assert os.sched_getaffinity(0) == cores
