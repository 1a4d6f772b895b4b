"""matloss.steadiness: the machine's level over one asv run, read from the run's own raw and relative times."""

from __future__ import annotations

import json
import math
import os
import sys
from pathlib import Path

import pytest

from matloss import steadiness
from matloss.cli import main

ROOT = Path(__file__).resolve().parents[1]
RUNS = ROOT / "results" / "repeatability"
FWD, FWD_REL = "bench_speed.Forward.time_forward", "bench_speed.ForwardRelative.track_forward_relative"
BWD, BWD_REL = "bench_speed.Backward.time_backward", "bench_speed.BackwardRelative.track_backward_relative"


def _data(refs, relative=1e-1, raw=None, commit="c" * 40, date=0):
    """An asv results file's data: case k's relative time ``relative`` (reference workloads) and raw
    time relative * refs[k] seconds (or ``raw[k]``), forward and backward alike."""
    params = [[f"'case{k}'" for k in range(len(refs))]]
    raw = [relative * r for r in refs] if raw is None else raw
    cols = ["result", "params"]
    results = {FWD: [raw, params], FWD_REL: [[relative] * len(refs), params],
               BWD: [raw, params], BWD_REL: [[relative] * len(refs), params]}
    return {"commit_hash": commit, "date": date, "result_columns": cols, "results": results}


def test_one_level_reads_steady_and_two_levels_apart_read_unsteady():
    s = steadiness.of_data(_data([2e-3] * 30))
    assert (s.cases, s.off_level, s.steady) == (60, 0.0, True)
    assert s.reference_s == pytest.approx(2e-3) and s.spread == pytest.approx(1.0)
    switching = steadiness.of_data(_data([2e-3, 4e-3] * 15))
    assert switching.spread == pytest.approx(2.0) and switching.off_level == 1.0 and not switching.steady
    assert "UNSTEADY" in switching.describe() and "UNSTEADY" not in s.describe()


def test_the_verdict_turns_at_a_tenth_of_the_cases_off_level():
    assert steadiness.of_data(_data([1e-3] * 36 + [2e-3] * 4)).off_level == pytest.approx(0.10)
    assert steadiness.of_data(_data([1e-3] * 36 + [2e-3] * 4)).steady
    assert not steadiness.of_data(_data([1e-3] * 35 + [2e-3] * 5)).steady
    # within the tolerance either way is on level
    assert steadiness.of_data(_data([1e-3] * 20 + [1.09e-3] * 10 + [0.92e-3] * 10)).off_level == 0.0


def test_fast_failed_and_skipped_cases_are_left_out():
    refs = [2e-3] * 30
    raw = [1e-5] * 10 + [None] * 5 + [math.nan] * 5 + [2e-4] * 10  # only the last 10 count, twice
    s = steadiness.of_data(_data(refs, raw=raw))
    assert s.cases == 20 and s.reference_s == pytest.approx(2e-3)
    assert steadiness.of_data(_data(refs, raw=raw), min_time=1e-3) is None  # too few cases
    no_relative = _data(refs)
    del no_relative["results"][FWD_REL], no_relative["results"][BWD_REL]
    assert steadiness.of_data(no_relative) is None


def test_the_committed_runs_read_as_measured():
    assert steadiness.of_file(RUNS / "fa5d83e7-run1.json") is None  # before relative time existed
    for run in ("run1", "run2"):
        noisy = steadiness.of_file(RUNS / f"6c54a063-{run}.json")  # 2026-12-04: the machine switching levels
        assert noisy.cases > 1500 and noisy.off_level > 0.5 and not noisy.steady
        quiet = steadiness.of_file(RUNS / f"subset-b847334c-{run}.json")  # 2026-12-07: a steady machine
        assert quiet.cases == 223 and quiet.off_level < 0.07 and quiet.steady


def _machine_dir(tmp_path: Path) -> Path:
    d = tmp_path / "results" / "box"
    d.mkdir(parents=True)
    (d / "machine.json").write_text(json.dumps({"machine": "box"}))
    (d / "a.json").write_text(json.dumps(_data([2e-3] * 30, commit="a" * 40, date=1)))
    (d / "b.json").write_text(json.dumps(_data([2e-3, 4e-3] * 15, commit="b" * 40, date=2)))
    (d / "c.json").write_text(json.dumps(_data([2e-3] * 5, commit="c" * 40, date=3)))
    return d


def test_a_machine_s_runs_and_the_unsteady_ones(tmp_path):
    d = _machine_dir(tmp_path)
    runs = steadiness.of_machine(d)
    assert set(runs) == {"a" * 40, "b" * 40, "c" * 40} and runs["c" * 40][1] is None
    assert steadiness.unsteady_commits(d) == {"b" * 40}


def test_the_command_lists_each_run_in_commit_order(tmp_path, capsys):
    _machine_dir(tmp_path)
    assert main(["steadiness", "--results-dir", str(tmp_path / "results"), "--machine", "box"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("2 of 3 runs of box")
    assert [line.split()[0] for line in out[1:]] == ["aaaaaaaa", "bbbbbbbb"]
    assert out[1].endswith(" steady") and out[2].endswith("UNSTEADY")


# -- timing again the cases timed off level ---------------------------------------------------------
#: stands in for ``asv run -b RX ...`` on a results file: re-times each selected case at the
#: machine's usual level (raw = relative * 2 ms; unchanged with FAKE_ASV_STAYS_OFF) and keeps every
#: other case, as asv does; it logs how many cases the regexes selected
FAKE_ASV = r'''
import json, os, re, sys, itertools, pathlib
path, log = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2])
rx = [sys.argv[i + 1] for i, a in enumerate(sys.argv) if a == "-b"]
data = json.loads(path.read_text())
done = 0
for rel_b, time_b in {"bench_speed.ForwardRelative.track_forward_relative": "bench_speed.Forward.time_forward",
                      "bench_speed.BackwardRelative.track_backward_relative": "bench_speed.Backward.time_backward"}.items():
    raw, rel = data["results"][time_b], data["results"][rel_b]
    for i, combo in enumerate(itertools.product(*raw[1])):
        if any(re.search(r, f"{time_b}({', '.join(combo)})") for r in rx):
            if not os.environ.get("FAKE_ASV_STAYS_OFF"):
                raw[0][i] = rel[0][i] * 2e-3
            done += 1
path.write_text(json.dumps(data))
with log.open("a") as f:
    f.write(f"{done}\n")
'''


def _unsteady_run(tmp_path: Path, refs) -> tuple[Path, Path, list[str]]:
    d = tmp_path / "box"
    d.mkdir()
    path = d / f"{'ab' * 4}-env.json"
    path.write_text(json.dumps(_data(refs, commit="ab" * 20)))
    script, log = tmp_path / "fake_asv.py", tmp_path / "log"
    script.write_text(FAKE_ASV)
    return d, log, [sys.executable, str(script), str(path), str(log)]


def test_timing_again_brings_an_unsteady_run_to_its_level_each_case_once(tmp_path, monkeypatch, capsys):
    from matloss import asv_run

    refs = [2e-3] * 100 + [3.2e-3] * 60 + [2.05e-3] * 40  # 60 of 200 cases (both passes: 120 of 400) off level
    d, log, cmd = _unsteady_run(tmp_path, refs)
    monkeypatch.setattr(asv_run, "RETIME_CHUNK", 50)
    assert asv_run.retime_off_level(cmd, dict(os.environ), d, "ab" * 20, 600) == 0
    # 120 of 400 off level; a first chunk of a quarter, then full ones: after three chunks 8 of
    # 400 are left (2 %): steady, so it stops
    assert [int(x) for x in log.read_text().split()] == [12, 50, 50]
    after = steadiness.of_file(next(d.glob("*.json")))
    assert after.off_level == pytest.approx(0.02) and after.steady
    assert "timed again 112 cases" in capsys.readouterr().out


def test_a_case_that_stays_off_level_is_timed_again_once(tmp_path, monkeypatch):
    from matloss import asv_run

    d, log, cmd = _unsteady_run(tmp_path, [2e-3] * 100 + [3.2e-3] * 60)
    monkeypatch.setattr(asv_run, "RETIME_CHUNK", 50)
    env = dict(os.environ, FAKE_ASV_STAYS_OFF="1")  # the machine stays off its level
    assert asv_run.retime_off_level(cmd, env, d, "ab" * 20, 600) == 0
    assert [int(x) for x in log.read_text().split()] == [12, 50, 50, 8]  # each of the 120 once, then it stops
    assert not steadiness.of_file(next(d.glob("*.json"))).steady


def test_the_chunks_fit_the_budget_at_the_cost_measured_so_far(tmp_path, monkeypatch):
    from types import SimpleNamespace

    from matloss import asv_run

    assert asv_run.retime_chunk(0, 0, 600) == asv_run.RETIME_CHUNK // 4  # cost unknown: a quarter
    assert asv_run.retime_chunk(30, 25, 600) == asv_run.RETIME_CHUNK  # plenty left: a full chunk
    assert asv_run.retime_chunk(540, 400, 600) == 44  # 60 s left at 1.35 s a case
    assert asv_run.retime_chunk(599, 400, 600) == 0 and asv_run.retime_chunk(700, 400, 600) == 0
    assert asv_run.retime_chunk(0, 0, 0) == 0
    # the whole loop on a clock that the stand-in advances by 1 s per case it times: the machine
    # stays off its level, so only the budget (60 s) stops it, and the last chunk is cut to fit
    d, log, cmd = _unsteady_run(tmp_path, [2e-3] * 100 + [3.2e-3] * 60)
    monkeypatch.setattr(asv_run, "RETIME_CHUNK", 40)
    clock = SimpleNamespace(monotonic=lambda: float(sum(int(x) for x in log.read_text().split())) if log.exists() else 0.0)
    monkeypatch.setattr(asv_run, "time", clock)
    env = dict(os.environ, FAKE_ASV_STAYS_OFF="1")
    assert asv_run.retime_off_level(cmd, env, d, "ab" * 20, 60) == 0
    assert [int(x) for x in log.read_text().split()] == [10, 40, 10]  # 60 cases in 60 s, not 90


def test_timing_again_stops_at_the_budget_and_leaves_a_steady_run_alone(tmp_path):
    from matloss import asv_run

    d, log, cmd = _unsteady_run(tmp_path, [2e-3] * 100 + [3.2e-3] * 60)
    assert asv_run.retime_off_level(cmd, dict(os.environ), d, "ab" * 20, 0) == 0
    assert not log.exists()  # no time left: nothing ran
    steady_dir = tmp_path / "steady"
    steady_dir.mkdir()
    (steady_dir / f"{'cd' * 4}-env.json").write_text(json.dumps(_data([2e-3] * 100, commit="cd" * 20)))
    assert asv_run.retime_off_level(cmd, dict(os.environ), steady_dir, "cd" * 20, 600) == 0
    assert not log.exists()


def test_the_selection_is_exactly_the_cases_and_their_relative_twins():
    import itertools
    import re

    data = _data([2e-3] * 30)
    cases = [(FWD, ("'case3'",)), (BWD, ("'case1'",)), (BWD, ("'case12'",))]
    rx = steadiness.selection(cases)
    names = [f"{b}({c})" for b in (FWD, FWD_REL, BWD, BWD_REL)
             for c in ("'case1'", "'case3'", "'case12'", "'case13'")]
    picked = {n for n in names if any(re.search(r, n) for r in rx)}
    assert picked == {f"{FWD}('case3')", f"{FWD_REL}('case3')", f"{BWD}('case1')", f"{BWD_REL}('case1')",
                      f"{BWD}('case12')", f"{BWD_REL}('case12')"}
    assert len(rx) == 2 and list(itertools.islice(steadiness.off_level(data), 1)) == []
