"""Relative time: a CPU case's time in units of a fixed reference workload timed beside it.

This project's shared VM switches between speed levels about 2x apart that last for seconds
(``experiments/steadiness.py``). asv times a case in one window of a second or less, so two runs
of one commit disagree wherever a case lands on different levels. A fixed *reference workload*
timed immediately before and after every sample of the case runs at the same level as that
sample; the ratio ``sample / mean(reference before, reference after)`` cancels the level, and the
median of such ratios (:data:`PAIRS` at most) is the case's relative time in that process (unit: one
reference workload). A case measured in several processes (asv's ``rounds``) reports the median
over them (a case's value also differs between processes: docs/measurements.md).

- The reference (:func:`reference`) is the same on every commit and machine: :data:`REFERENCE_CALLS`
  times a ``slogdet`` of a seeded 64 x 64 float64 matrix and its product with itself, in numpy
  (one BLAS thread, as every speed case): dense linear algebra plus Python dispatch, like the
  cases it normalises (one of matrix products alone tracked the machine worse; a pure-Python loop
  did about as well: ``experiments/reference_choice.py``, docs/measurements.md).
  It stays fixed: changing it changes the unit of every committed number.
- A sample of the case is ``number`` consecutive calls (the number asv's ``time_`` case of the
  same parameters uses, ~10 ms; one call for a case slower than that), timed as a tight loop
  (as ``timeit`` does; no setup in between).
- Relative time is published *beside* the raw time, never instead of it: it moves when the
  machine's reference work does not speed up and slow down like the case (memory bandwidth, cache
  sharing with a neighbour), and it means nothing across machines. Its use is repeatability: two
  runs of one commit on one machine (``experiments/repeatability.py --channel relative``).

In an asv run the ``time_`` case's process measures it after its own preparation (nothing is
compiled twice) into the run's ``setup_cache`` directory (:func:`record`); the ``track_`` case of
the same parameters, which asv runs after it, reads it there (:func:`lookup`), and measures it
itself when the ``time_`` case did not run (a ``-b`` selecting only the ``track_`` cases).
"""

from __future__ import annotations

import gc
import json
import os
import statistics
import tempfile
import time
from collections.abc import Callable
from typing import Any

import numpy as np

#: ratios per case (a switch of speed level inside one pair spoils that one ratio, not the median):
#: up to PAIRS, stopping once MIN_PAIRS are in and MAX_SECONDS have passed (asv's ``repeat``
#: rule), so a 100 ms case costs a second, not three: with 15 pairs everywhere, the two rounds of
#: the full grid's backward cases alone took 19 minutes
PAIRS = 15
MIN_PAIRS = 5
MAX_SECONDS = 0.5
REFERENCE_N = 64
REFERENCE_CALLS = 40
REFERENCE_SEED = 0

_REFERENCE: list[Callable[[], Any]] = []


def reference() -> Callable[[], Any]:
    """The reference workload (built once per process)."""
    if not _REFERENCE:
        a = np.random.default_rng(REFERENCE_SEED).standard_normal((REFERENCE_N, REFERENCE_N))
        a = a / np.sqrt(REFERENCE_N)  # keep the repeated products' entries of order one

        def work() -> None:
            for _ in range(REFERENCE_CALLS):
                np.linalg.slogdet(a)
                np.dot(a, a)

        work()
        _REFERENCE.append(work)
    return _REFERENCE[0]


def _time(f: Callable[[], Any], number: int) -> float:
    t0 = time.perf_counter()
    for _ in range(number):
        f()
    return time.perf_counter() - t0


def measure(step: Callable[[], Any], number: int, pairs: int = PAIRS, min_pairs: int = MIN_PAIRS,
            max_seconds: float = MAX_SECONDS) -> dict[str, float]:
    """Time up to ``pairs`` samples of ``number`` calls of ``step``, each between two reference runs
    (stopping early once ``min_pairs`` are in and ``max_seconds`` have passed).

    Returns ``relative`` (the median of sample / mean of its two references), ``seconds`` (the
    median sample per call, raw), ``reference_s`` (the median reference), ``spread`` (the
    ratios' interquartile range over their median) and ``pairs`` (how many). Python's garbage collector is off meanwhile.
    """
    if number < 1:
        raise ValueError(f"number must be >= 1, got {number}")
    if pairs < 1:
        raise ValueError(f"pairs must be >= 1, got {pairs}")
    ref = reference()
    ratios, samples, refs = [], [], []
    enabled = gc.isenabled()
    gc.disable()
    t_start = time.perf_counter()
    try:
        before = _time(ref, 1)
        for k in range(pairs):
            if k >= min_pairs and time.perf_counter() - t_start > max_seconds:
                break
            sample = _time(step, number) / number
            after = _time(ref, 1)
            ratios.append(sample / ((before + after) / 2))
            samples.append(sample)
            refs.append(after)
            before = after
    finally:
        if enabled:
            gc.enable()
    q = statistics.quantiles(ratios, n=4) if len(ratios) > 1 else [ratios[0]] * 3
    med = statistics.median(ratios)
    return {"relative": med, "seconds": statistics.median(samples), "reference_s": statistics.median(refs),
            "spread": (q[2] - q[0]) / med, "pairs": len(ratios)}


_RECORDED: dict[str, dict[str, float]] = {}  # path -> result, per process (asv re-runs setup before every call)


def _stem(case: tuple[str, ...], backward: bool) -> str:
    return f"relative-{'-'.join(case)}-{'bwd' if backward else 'fwd'}"


def record(directory: str, case: tuple[str, ...], backward: bool, step: Callable[[], Any], number: int) -> dict[str, float]:
    """Measure a case and keep the result in ``directory``, one file per process (written atomically;
    once per process): with asv's ``rounds`` each round's process adds one."""
    path = os.path.join(directory, f"{_stem(case, backward)}.{os.getpid()}.json")
    if path in _RECORDED:
        return _RECORDED[path]
    result = measure(step, number)
    fd, tmp = tempfile.mkstemp(dir=directory, suffix=".tmp")
    with os.fdopen(fd, "w") as f:
        json.dump({"case": list(case), "backward": backward, **result}, f)
    os.replace(tmp, path)
    _RECORDED[path] = result
    return result


def lookup(directory: str, case: tuple[str, ...], backward: bool) -> dict[str, float] | None:
    """What :func:`record` kept for a case in ``directory`` (the median over its processes, and
    ``processes``, how many), or None."""
    got = []
    for name in sorted(os.listdir(directory)):
        if name.startswith(_stem(case, backward) + ".") and name.endswith(".json"):
            with open(os.path.join(directory, name)) as f:
                got.append(json.load(f))
    if not got:
        return None
    out = {k: statistics.median(g[k] for g in got) for k in ("relative", "seconds", "reference_s", "spread", "pairs")}
    out["processes"] = len(got)
    return out
