"""``experiments/repeatability.py`` on the two committed full runs of one commit (results/repeatability/)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RUNS = ROOT / "results" / "repeatability"
SCRIPT = ROOT / "experiments" / "repeatability.py"


def _run(a: Path, b: Path, *extra: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(SCRIPT), str(a), str(b), "--no-table", *extra], capture_output=True, text=True, cwd=ROOT)


def test_a_run_agrees_with_itself():
    run1 = RUNS / "fa5d83e7-run1.json"
    out = _run(run1, run1)
    assert out.returncode == 0, out.stderr
    assert "\n0 of " in out.stdout and "max 0.0%" in out.stdout


def test_two_runs_list_every_case_off_and_the_committed_list_is_current():
    out = _run(RUNS / "fa5d83e7-run1.json", RUNS / "fa5d83e7-run2.json")
    assert out.returncode == 1, out.stderr  # this VM: many cases differ by more than 10 %
    header = next(line for line in out.stdout.splitlines() if " off by more than 10%" in line)
    n_off = int(header.split()[0])
    listed = [line for line in out.stdout.splitlines() if line.startswith("  ") and "bench_speed." in line]
    assert len(listed) == n_off > 0
    assert all(abs(float(line.split()[0]) - 1) >= 0.0995 for line in listed)  # printed to 3 decimals
    assert out.stdout == (RUNS / "fa5d83e7-run2-vs-run1.txt").read_text()


def test_the_relative_channel_compares_the_relative_cases_selected_by_raw_time():
    run1, run2 = RUNS / "subset-02938303-rounds2-run1.json", RUNS / "subset-02938303-rounds2-run2.json"
    same = _run(run1, run1, "--channel", "relative")
    assert same.returncode == 0, same.stderr
    assert "relative: 252 cases in both runs" in same.stdout and "max 0.0%" in same.stdout
    out = _run(run1, run2, "--channel", "relative")
    listed = [line for line in out.stdout.splitlines() if line.startswith("  ") and "bench_speed." in line]
    assert listed and all("Relative.track_" in line for line in listed)
    raw = _run(run1, run2)
    # both select the cases whose raw time is 100 µs or more: the same count
    count = [next(line for line in o.stdout.splitlines() if "cases in both runs" in line).split(", ")[1] for o in (out, raw)]
    assert count[0] == count[1]
    assert _run(run1, run2, "--channel", "relative", "--min-time", "1e9").stdout.count("bench_speed.") == 0


def test_the_first_quartile_is_compared_where_asked_and_refused_for_the_relative_channel():
    run1, run2 = RUNS / "subset-02938303-rounds2-run1.json", RUNS / "subset-02938303-rounds2-run2.json"
    same = _run(run1, run1, "--statistic", "q25")
    assert same.returncode == 0, same.stderr
    assert "time (q25): " in same.stdout and "max 0.0%" in same.stdout
    median, q25 = _run(run1, run2), _run(run1, run2, "--statistic", "q25")
    spread = [next(line for line in o.stdout.splitlines() if line.startswith("|run2/run1 - 1|")) for o in (median, q25)]
    assert spread[0] != spread[1]  # another statistic of the same samples: other ratios
    refused = _run(run1, run2, "--channel", "relative", "--statistic", "q25")
    assert refused.returncode == 2 and "--statistic" in refused.stderr and "relative" in refused.stderr
