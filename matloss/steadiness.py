"""How steady the machine was during one asv run, read from that run's own results.

The relative-time channel (:mod:`matloss.relative`) times a fixed reference workload beside every
CPU case, in the case's process, just before asv times the case. A case's raw time (``time_``)
over its relative time (``track_*_relative``, in reference workloads) is therefore the reference
workload's time at the moment that case ran: one reading of the machine's speed level per case,
spread over the whole run, at no extra cost.

A run is *steady* when at most :data:`MAX_OFF_LEVEL` of its readings lie more than
:data:`LEVEL_TOLERANCE` from their median: when more of its cases were timed away from the
machine's usual level, its raw times cannot be expected to agree with another run's on 90 % of
the cases within 10 % (the repeatability target the suites are held to). Measured on this
project's shared VM (docs/measurements.md, 2026-12-07 "a steady machine"): runs on a steady
machine had 4-6 % of their readings off level; runs while it switched between speed levels
12-67 %. ``matloss bench`` prints it after each run, ``matloss steadiness`` lists it per
committed run, and ``matloss alerts`` marks a time step at or beside an unsteady run.

The reading needs the relative channel (CPU cases whose raw time is at least :data:`MIN_TIME`);
a run without it (GPU only, or before the channel existed) has none.
"""

from __future__ import annotations

import itertools
import json
import math
import os
import re
import statistics
from dataclasses import dataclass

#: each relative-time benchmark and the timing benchmark of the same parameters
PAIRS = {"bench_speed.ForwardRelative.track_forward_relative": "bench_speed.Forward.time_forward",
         "bench_speed.BackwardRelative.track_backward_relative": "bench_speed.Backward.time_backward"}
#: cases faster than this (raw) are left out, as in the repeatability comparisons (the cases the
#: target of 90 % within 10 % is about)
MIN_TIME = 1e-4
#: at least this many cases make a reading (fewer: None)
MIN_CASES = 20
#: a reading this far from the run's median (either way) is "off level"
LEVEL_TOLERANCE = 0.10
#: a run is steady when at most this share of its readings is off level (the complement of the
#: repeatability target: 90 % of cases within 10 %)
MAX_OFF_LEVEL = 0.10


@dataclass(frozen=True)
class Steadiness:
    """``cases`` readings of the reference's time: their median (seconds), their spread (90th over
    10th percentile) and the share of them off level."""

    cases: int
    reference_s: float
    spread: float
    off_level: float

    @property
    def steady(self) -> bool:
        return self.off_level <= MAX_OFF_LEVEL

    def describe(self) -> str:
        verdict = ("steady" if self.steady else
                   f"UNSTEADY (over {MAX_OFF_LEVEL:.0%}): its raw times carry the machine's level; compare relative times")
        return (f"machine level over the run: the reference workload took {self.reference_s * 1e3:.2f} ms "
                f"(median of {self.cases} cases; 90th/10th percentile {self.spread:.2f}); "
                f"{self.off_level:.0%} of the cases timed more than {LEVEL_TOLERANCE:.0%} off it: {verdict}")


def _values(data: dict, bench: str) -> dict[tuple[str, ...], float]:
    entry = data.get("results", {}).get(bench)
    if entry is None:
        return {}
    row = dict(zip(data.get("result_columns", []), entry))
    values, params = row.get("result"), row.get("params") or [[]]
    if not isinstance(values, list):
        return {}
    return {combo: float(v) for combo, v in zip(itertools.product(*params), values)
            if v is not None and not math.isnan(float(v))}


def keyed_readings(data: dict, min_time: float = MIN_TIME) -> dict[tuple[str, tuple[str, ...]], float]:
    """{(timing benchmark, its parameters as asv writes them): the reference workload's time
    (seconds) implied by that case (raw time / relative time)} for the CPU cases of one asv results
    file's data of at least ``min_time`` seconds."""
    out = {}
    for relative_bench, time_bench in PAIRS.items():
        raw = _values(data, time_bench)
        for combo, rel in _values(data, relative_bench).items():
            t = raw.get(combo)
            if t is not None and t >= min_time and rel > 0:
                out[(time_bench, combo)] = t / rel
    return out


def readings(data: dict, min_time: float = MIN_TIME) -> list[float]:
    """The values of :func:`keyed_readings`."""
    return list(keyed_readings(data, min_time).values())


def off_level(data: dict, min_time: float = MIN_TIME) -> list[tuple[str, tuple[str, ...]]]:
    """The cases timed more than :data:`LEVEL_TOLERANCE` off the run's median level, farthest first
    (empty without enough readings)."""
    got = keyed_readings(data, min_time)
    if len(got) < MIN_CASES:
        return []
    med = statistics.median(got.values())
    far = [(abs(x / med - 1), key) for key, x in got.items() if abs(x / med - 1) > LEVEL_TOLERANCE]
    return [key for _, key in sorted(far, key=lambda fk: -fk[0])]


def selection(cases: list[tuple[str, tuple[str, ...]]]) -> list[str]:
    """asv ``-b`` regexes selecting exactly ``cases`` (from :func:`off_level`) and their relative
    cases, one regex per timing benchmark (asv matches ``name(p1, p2, ...)``)."""
    by_bench: dict[str, list[str]] = {}
    for bench, combo in cases:
        by_bench.setdefault(bench, []).append(re.escape(", ".join(combo)))
    relative_of = {t: r for r, t in PAIRS.items()}
    out = []
    for bench, combos in sorted(by_bench.items()):
        names = "|".join(re.escape(b) for b in (bench, relative_of[bench]))
        out.append(f"^(?:{names})\\((?:{'|'.join(combos)})\\)$")
    return out


def of_data(data: dict, min_time: float = MIN_TIME) -> Steadiness | None:
    """The steadiness of one run (an asv results file's data), or None without enough cases."""
    got = readings(data, min_time)
    if len(got) < MIN_CASES:
        return None
    q = statistics.quantiles(got, n=10)
    med = statistics.median(got)
    off = sum(abs(x / med - 1) > LEVEL_TOLERANCE for x in got) / len(got)
    return Steadiness(len(got), med, q[8] / q[0], off)


def of_file(path: str | os.PathLike, min_time: float = MIN_TIME) -> Steadiness | None:
    """:func:`of_data` of an asv results file."""
    with open(path) as f:
        return of_data(json.load(f), min_time)


def of_machine(machine_dir: str | os.PathLike, min_time: float = MIN_TIME) -> dict[str, tuple[float, Steadiness | None]]:
    """{commit: (its commit date, ms since the epoch; its run's steadiness or None)} over one
    machine's asv results directory."""
    out = {}
    for name in sorted(os.listdir(machine_dir)):
        if not name.endswith(".json") or name == "machine.json":
            continue
        with open(os.path.join(machine_dir, name)) as f:
            data = json.load(f)
        if "results" in data and "commit_hash" in data:
            out[data["commit_hash"]] = (float(data.get("date") or 0), of_data(data, min_time))
    return out


def unsteady_commits(machine_dir: str | os.PathLike) -> set[str]:
    """The commits whose run on this machine read UNSTEADY (see :data:`STEADY`)."""
    return {c for c, (_, s) in of_machine(machine_dir).items() if s is not None and not s.steady}
