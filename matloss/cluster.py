"""Where the accuracy sweep runs: dask.distributed, on an embedded local cluster or an existing one.

- ``client(jobs)`` starts a :class:`distributed.LocalCluster` of ``jobs`` single-threaded worker
  processes (one per core by default), each numerical library pinned to one thread (the parallelism
  is the processes; a 2-thread pool per worker would only oversubscribe the machine).
- ``client(scheduler="tcp://host:8786")`` joins a running cluster. Its workers must run this same
  matloss (checked: a fingerprint of the source of ``matloss`` and ``matloss_ref``) and should be
  started single-threaded, e.g. ``OMP_NUM_THREADS=1 ... dask worker tcp://host:8786 --nthreads 1``;
  each task also pins torch to one thread itself.

A worker that dies mid-sweep costs only its tasks in flight: the scheduler gives them to another
worker (``distributed.scheduler.allowed-failures`` times), and every finished task's rows are
written by the client as soon as they arrive.
"""

from __future__ import annotations

import functools
import hashlib
import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from .threads import SINGLE_THREAD_ENV, persistent_compile_caches


@functools.cache
def fingerprint() -> str:
    """A hash of the source of both packages: workers must compute with the same code as the client."""
    h = hashlib.sha256()
    for pkg in ("matloss_ref", "matloss"):
        root = Path(__file__).resolve().parent.parent / pkg
        for path in sorted(root.rglob("*.py")):
            h.update(str(path.relative_to(root.parent)).encode())
            h.update(path.read_bytes())
    return h.hexdigest()[:16]


def single_thread() -> None:
    """Pin the libraries of this (worker) process to one thread, as far as it can still be done."""
    for k, v in SINGLE_THREAD_ENV.items():
        os.environ.setdefault(k, v)
    persistent_compile_caches()
    try:
        import torch

        if torch.get_num_threads() != 1:
            torch.set_num_threads(1)
    except ImportError:
        pass


@contextmanager
def client(jobs: int | None = None, scheduler: str | None = None) -> Iterator:
    """A dask client: of a new local cluster of ``jobs`` worker processes, or of ``scheduler``."""
    from distributed import Client, LocalCluster

    if scheduler:
        c = Client(scheduler, timeout="30s")
        try:
            _check_workers(c)
            yield c
        finally:
            c.close()
        return
    saved = {k: os.environ.get(k) for k in SINGLE_THREAD_ENV}
    os.environ.update(SINGLE_THREAD_ENV)  # worker processes read these when they import the libraries
    try:
        with LocalCluster(n_workers=jobs or os.cpu_count() or 1, threads_per_worker=1, processes=True,
                          dashboard_address=None, silence_logs=logging.ERROR) as cluster, Client(cluster) as c:  # fmt: skip
            yield c
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def _check_workers(c) -> None:
    mine = fingerprint()
    theirs = c.run(fingerprint)
    if not theirs:
        raise RuntimeError("the cluster has no workers")
    stale = {w: fp for w, fp in theirs.items() if fp != mine}
    if stale:
        raise RuntimeError(f"workers run other matloss code than this client ({mine}): {stale}")
