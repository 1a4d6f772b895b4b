"""How the speed suites' ``time_`` cases hand their calls to asv_runner: set up once, timed in
batches, recorded as seconds per call of the step (docs/speed.md, "µs-scale cases")."""

from __future__ import annotations

import itertools
import time
from pathlib import Path

import pytest

from matloss import cases, relative

ROOT = Path(__file__).resolve().parent.parent
CASE = ("tikhonov", "numpy", "cpu", "float64", "16", "eager")
STEP_SECONDS = 2e-6


def test_the_per_call_timer_divides_the_clock_by_the_batch(monkeypatch):
    assert cases.per_call_timer(1) is time.perf_counter
    monkeypatch.setattr(cases.time, "perf_counter", lambda: 12.0)
    assert cases.per_call_timer(4)() == 3.0
    with pytest.raises(ValueError, match="batch must be >= 1"):
        cases.per_call_timer(0)


def test_asv_runner_times_batches_of_calls_and_records_seconds_per_call(tmp_path, monkeypatch):
    """Through asv_runner's own benchmark object: a fake step that costs exactly STEP_SECONDS on a
    fake clock must come out as STEP_SECONDS per call, however the calls are batched, and setup,
    which asv_runner re-runs before every timed call, must prepare the case once."""
    from asv_runner.discovery import get_benchmark_from_name  # before the clock is faked

    from suites import bench_speed

    now = [0.0]
    calls, built = [0], []

    def step():
        calls[0] += 1
        now[0] += STEP_SECONDS

    def prepared(*case, backward, input_dir=None):
        built.append(case)
        return step

    monkeypatch.setattr(cases, "prepared", prepared)
    monkeypatch.setattr(relative, "record", lambda *a, **k: {"relative": 1.0})
    monkeypatch.setattr(time, "perf_counter", lambda: now[0])  # asv_runner's own budget keeps the real clock

    idx = list(itertools.product(*bench_speed.Forward.params)).index(CASE)
    bench = get_benchmark_from_name(str(ROOT / "suites"), f"bench_speed.Forward.time_forward-{idx}", extra_params={})
    bench.set_cache(str(tmp_path))
    assert not bench.do_setup()
    timed = bench.func.__self__
    # ~10 ms samples of 1 ms batches: 5000 calls a sample, 500 a timed call, 10 timed calls
    assert (timed.batch, timed.number) == (500, 10)
    before = calls[0]
    run = bench.do_run()
    bench.do_teardown()
    assert run["number"] == 10 and len(run["samples"]) >= 5
    assert run["samples"] == pytest.approx([STEP_SECONDS] * len(run["samples"]), rel=1e-9)
    assert calls[0] - before == 500 * 10 * len(run["samples"])
    assert built == [CASE], "setup prepared the case again between timed calls"


def test_a_slow_step_is_timed_one_call_at_a_time(tmp_path, monkeypatch):
    from suites import bench_speed

    now = [0.0]

    def step():
        now[0] += 0.05

    monkeypatch.setattr(cases, "prepared", lambda *case, backward, input_dir=None: step)
    monkeypatch.setattr(relative, "record", lambda *a, **k: {"relative": 1.0})
    monkeypatch.setattr(time, "perf_counter", lambda: now[0])
    timed = bench_speed.Backward()
    timed.setup(str(tmp_path), *CASE)
    assert (timed.batch, timed.number, timed.timer) == (1, 1, time.perf_counter)
    t0 = now[0]
    timed.time_backward(str(tmp_path), *CASE)
    assert now[0] - t0 == pytest.approx(0.05)
