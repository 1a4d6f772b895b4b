"""``matloss.relative``: the level-cancelling ratio, its records per process, and the asv suite's use of them."""

from __future__ import annotations

import itertools
import os
import re

import pytest

from matloss import relative
from matloss.mainjob import SUBSET


class _Clock:
    """A fake ``perf_counter``: the machine's speed level switches (x1, x2, x3) every few calls."""

    def __init__(self):
        self.now = 0.0
        self.calls = itertools.count()
        self.levels = itertools.cycle([1.0] * 3 + [2.0] * 5 + [3.0] * 2)
        self.level = 1.0

    def spend(self, units: float) -> None:
        if next(self.calls) % 4 == 0:
            self.level = next(self.levels)
        self.now += units * self.level

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch):
    c = _Clock()
    monkeypatch.setattr(relative.time, "perf_counter", c)
    monkeypatch.setattr(relative, "_REFERENCE", [lambda: c.spend(1.0)])
    return c


def test_the_ratio_cancels_a_speed_level_that_changes_between_samples(clock):
    # a call costs 0.75 references at every level; the level stays put within most
    # reference-sample-reference triples, so the median ratio is exact although the raw samples
    # span three levels
    got = relative.measure(lambda: clock.spend(0.75), number=4, pairs=15, max_seconds=float("inf"))
    assert got["relative"] == pytest.approx(0.75) and got["pairs"] == 15
    assert got["seconds"] >= 1.5  # the raw median is off: levels 2 and 3 take most of the time


def test_a_slow_case_stops_after_the_least_pairs_once_its_time_is_up(clock):
    got = relative.measure(lambda: clock.spend(0.2), number=1, pairs=15, min_pairs=5, max_seconds=3.0)
    assert got["pairs"] == 5  # 5 pairs take more than 3 units at any level
    got = relative.measure(lambda: clock.spend(0.2), number=1, pairs=15, min_pairs=5, max_seconds=1e9)
    assert got["pairs"] == 15


def test_measure_checks_its_arguments():
    with pytest.raises(ValueError, match="number must be >= 1"):
        relative.measure(lambda: None, number=0)
    with pytest.raises(ValueError, match="pairs must be >= 1"):
        relative.measure(lambda: None, number=1, pairs=0)


def test_the_reference_is_fixed_work():
    ref = relative.reference()
    assert ref is relative.reference()  # built once per process
    assert relative.REFERENCE_N == 64 and relative.REFERENCE_CALLS == 40 and relative.REFERENCE_SEED == 0  # the unit


def test_records_one_per_process_and_the_median_over_them(tmp_path, clock, monkeypatch):
    case = ("logdet", "torch", "cpu", "float64", "16", "eager")
    assert relative.lookup(str(tmp_path), case, True) is None
    costs = iter([2.0, 4.0, 9.0])
    for pid in (101, 102, 103):  # three processes (asv's rounds), each its own file
        monkeypatch.setattr(relative.os, "getpid", lambda pid=pid: pid)
        cost = next(costs)
        relative.record(str(tmp_path), case, True, lambda cost=cost: clock.spend(cost), 1)
    got = relative.lookup(str(tmp_path), case, True)
    assert got["processes"] == 3 and got["relative"] == pytest.approx(4.0)
    assert relative.lookup(str(tmp_path), case, False) is None  # forward is another case
    assert relative.lookup(str(tmp_path), case[:-1] + ("compiled",), True) is None
    assert sorted(os.listdir(tmp_path)) == [f"relative-logdet-torch-cpu-float64-16-eager-bwd.{p}.json" for p in (101, 102, 103)]


def test_a_process_measures_a_case_once(tmp_path, clock, monkeypatch):
    case = ("det", "numpy", "cpu", "float64", "16", "eager")
    monkeypatch.setattr(relative, "_RECORDED", {})
    first = relative.record(str(tmp_path), case, False, lambda: clock.spend(1.0), 1)
    again = relative.record(str(tmp_path), case, False, lambda: pytest.fail("measured twice"), 1)
    assert again == first


def test_the_suite_reads_the_time_case_record_and_skips_gpu_cases(tmp_path, monkeypatch):
    from suites import bench_speed

    case = ("tikhonov", "numpy", "cpu", "float64", "16", "eager")
    bench = bench_speed.ForwardRelative()
    with pytest.raises(NotImplementedError, match="CPU only"):
        bench.setup(str(tmp_path), *case[:2], "cuda", *case[3:])
    timed = bench_speed.Forward()
    timed.setup(str(tmp_path), *case)  # the time_ case's setup records it
    recorded = relative.lookup(str(tmp_path), case, False)
    assert recorded is not None and recorded["processes"] == 1
    bench.setup(str(tmp_path), *case)
    assert bench.track_forward_relative(str(tmp_path), *case) == recorded["relative"] > 0


def test_the_suite_measures_itself_without_the_time_case(tmp_path):
    from suites import bench_speed

    case = ("tikhonov", "numpy", "cpu", "float64", "16", "eager")
    bench = bench_speed.BackwardRelative()
    bench.setup(str(tmp_path), *case)
    assert bench.track_backward_relative(str(tmp_path), *case) > 0
    assert relative.lookup(str(tmp_path), case, True) is not None


def test_the_main_job_runs_the_relative_cases_of_its_subset():
    sub = re.compile(SUBSET)
    for bench in ("ForwardRelative.track_forward_relative", "BackwardRelative.track_backward_relative", "Forward.time_forward"):
        assert sub.search(f"bench_speed.{bench}('logdet', 'torch', 'cpu', 'float64', '128', 'eager')")
        assert not sub.search(f"bench_speed.{bench}('logdet', 'torch', 'cpu', 'float32', '128', 'eager')")


def test_alerts_read_relative_series_by_the_suites_unit():
    from matloss import alerts
    from suites import bench_speed

    assert alerts.UNITS["relative"] == bench_speed.ForwardRelative.unit == bench_speed.BackwardRelative.unit
    assert set(alerts.UNITS) == set(alerts.THRESHOLDS)
