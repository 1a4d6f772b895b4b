"""The CPUs every benchmark process runs on (imported by ``suites/__init__.py`` before any library).

It lives with the suites, not in ``matloss``: asv runs these suites against older commits' code,
which does not have it (docs/speed.md, "One CPU per benchmark process").
"""

from __future__ import annotations

import os
import re

#: the environment variable that overrides the default, ``last``
VARIABLE = "MATLOSS_BENCH_CPUS"


def bench_cpus(spec: str | None = None) -> set[int] | None:
    """The CPUs the benchmark processes run on: ``spec`` (default ``$MATLOSS_BENCH_CPUS``, else
    ``last``). ``last`` is the last CPU this process may use; ``none`` leaves the placement to the
    system (returns None); otherwise a list such as ``1``, ``0,1`` or ``0-3``.

    Why one CPU: jax and TensorFlow run part of every call in threads of their own, even with one
    thread per pool. Unpinned, a process is fast when the system puts those threads on another core
    than Python's and slow when it does not, and which one a process gets is chance. On one CPU
    every process does the same, and asv and any other load keep to the other CPUs.
    Raises ``ValueError`` for a malformed list or a CPU this process may not use.
    """
    text = (os.environ.get(VARIABLE, "last") if spec is None else spec).strip().lower()
    if text == "none" or not hasattr(os, "sched_getaffinity"):
        return None
    allowed = sorted(os.sched_getaffinity(0))
    if text == "last":
        return {allowed[-1]}
    cpus: set[int] = set()
    for part in text.split(","):
        m = re.fullmatch(r"\s*(\d+)\s*(?:-\s*(\d+)\s*)?", part)
        if not m or (m[2] is not None and int(m[2]) < int(m[1])):
            raise ValueError(f"{VARIABLE}: expected last, none or CPU numbers such as 1, 0,1 or 0-3, got {text!r}")
        cpus.update(range(int(m[1]), int(m[2] or m[1]) + 1))
    if not cpus <= set(allowed):
        raise ValueError(f"{VARIABLE}: CPU {min(cpus - set(allowed))} is not one this process may use "
                         f"({', '.join(map(str, allowed))})")
    return cpus


def pin_bench_cpus(spec: str | None = None) -> set[int] | None:
    """Run this process, every thread it has and every one it starts later on :func:`bench_cpus`;
    returns them (None: not pinned)."""
    cpus = bench_cpus(spec)
    if cpus is not None:
        pin_threads(cpus)
    return cpus


def pin_threads(cpus: set[int]) -> None:
    """Put this process and every thread it has on ``cpus`` (threads it starts later inherit them)."""
    try:
        threads = [int(t) for t in os.listdir("/proc/self/task")]
    except OSError:
        threads = [0]
    for tid in threads:  # a thread started before (a library's pool) would keep its own mask
        try:
            os.sched_setaffinity(tid, cpus)
        except ProcessLookupError:  # it ended meanwhile
            pass
