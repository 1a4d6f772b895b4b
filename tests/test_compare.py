"""``matloss compare`` on a recorded asv result set.

The fixture under tests/data/asv/ is a real run of the speed suites on the 2-core dev machine
(commit 42d1f70d), cut down with tools/asv_subset.py to logdet and tikhonov (tikhonov did not
run in that session: every entry is NaN, i.e. skipped), shapes 16 and 256x8, all frameworks,
devices, dtypes and modes (cuda and compiled numpy are skipped: NaN).
"""

from __future__ import annotations

import csv
import itertools
import json
import math
import shutil
from pathlib import Path

import pytest

from matloss import compare
from matloss.cli import main

DATA = Path(__file__).parent / "data" / "asv"
MACHINE = "vm-amd-epyc-2cpu"
FIXTURE = DATA / MACHINE / "42d1f70d-existing-py_work_main_.venv_bin_python3.json"


def raw_median(path: Path, bench_suffix: str, **case: str) -> float:
    """The recorded value of one case, indexed by hand from the raw JSON (independent of compare.load)."""
    data = json.loads(path.read_text())
    names = ["loss", "framework", "device", "dtype", "shape", "mode"]
    for bench, entry in data["results"].items():
        if bench.endswith(bench_suffix):
            row = dict(zip(data["result_columns"], entry))
            params = [[json.loads(v.replace("'", '"')) for v in p] for p in row["params"]]
            index = 0
            for name, values in zip(names, params):
                index = index * len(values) + values.index(case[name])
            return row["result"][index]
    raise KeyError(bench_suffix)


def test_load_reads_medians_and_drops_skipped_cases():
    rs = compare.load(FIXTURE)
    assert rs.commit.startswith("42d1f70d") and rs.machine == MACHINE
    params = {dict(p)["device"] for _, p in rs.times} | {dict(p)["loss"] for _, p in rs.times}
    assert params == {"cpu", "logdet"}  # cuda and tikhonov cases are all skipped (NaN)
    assert not any(dict(p)["framework"] == "numpy" and dict(p)["mode"] == "compiled" for _, p in rs.times)
    # 2 passes x (numpy eager + 3 frameworks x 2 modes) x 2 dtypes x 2 shapes
    assert len(rs.times) == 2 * 7 * 2 * 2
    for which, suffix in (("forward", compare.FORWARD), ("backward", compare.BACKWARD)):
        case = dict(loss="logdet", framework="jax", device="cpu", dtype="float32", shape="256x8", mode="compiled")
        key = (which, tuple(case.items()))
        assert rs.times[key] == raw_median(FIXTURE, suffix, **case)


def test_table_ratios_are_relative_to_the_fastest_of_each_group():
    rs = compare.load(FIXTURE)
    rows = compare.table(rs)
    assert len(rows) == 7 * 2 * 2
    for _, group in itertools.groupby(rows, key=lambda r: tuple(r[k] for k in compare.KEY)):
        group = list(group)
        assert [(r["framework"], r["mode"]) for r in group][:3] == [("numpy", "eager"), ("torch", "eager"), ("torch", "compiled")]
        for which in ("forward", "backward"):
            best = min(r[f"{which}_s"] for r in group)
            assert min(r[f"{which}_ratio"] for r in group) == 1.0
            for r in group:
                assert r[f"{which}_ratio"] == pytest.approx(r[f"{which}_s"] / best)
                assert r[f"{which}_ratio"] >= 1.0
    # grid order: shape 16 before 256x8, float32 before float64
    keys = [tuple(r[k] for k in compare.KEY) for r in rows]
    assert keys.index(("logdet", "cpu", "16", "float64")) < keys.index(("logdet", "cpu", "256x8", "float32"))


def test_filters():
    rs = compare.load(FIXTURE)
    rows = compare.table(rs, {"framework": ["torch", "jax"], "mode": ["compiled"], "dtype": ["float64"]})
    assert {(r["framework"], r["mode"], r["dtype"]) for r in rows} == {("torch", "compiled", "float64"), ("jax", "compiled", "float64")}
    for _, group in itertools.groupby(rows, key=lambda r: tuple(r[k] for k in compare.KEY)):
        assert min(r["forward_ratio"] for r in group) == 1.0  # the fastest of the filtered rows


def test_cli_prints_markdown_and_writes_csv(tmp_path, capsys):
    out = tmp_path / "speed.csv"
    assert main(["compare", str(FIXTURE), "--csv", str(out), "--shape", "16"]) == 0
    text = capsys.readouterr().out
    assert "| loss | device | shape | dtype | framework | mode | forward | ×fastest | fwd+bwd | ×fastest |" in text
    assert f"wrote {out} (14 rows)" in text
    with open(out) as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 14 and set(rows[0]) == set(compare.CSV_COLUMNS)
    tf = next(r for r in rows if r["framework"] == "tensorflow" and r["mode"] == "eager" and r["dtype"] == "float64")
    case = dict(loss="logdet", framework="tensorflow", device="cpu", dtype="float64", shape="16", mode="eager")
    assert float(tf["forward_s"]) == raw_median(FIXTURE, compare.FORWARD, **case)
    line = next(ln for ln in text.splitlines() if ln.startswith("| logdet | cpu | 16 | float64 | tensorflow | eager |"))
    assert compare.fmt_time(float(tf["forward_s"])) in line and f"{float(tf['forward_ratio']):.2f}" in line


def test_find_latest_and_by_commit(tmp_path, monkeypatch):
    results = tmp_path / "results"
    shutil.copytree(DATA, results)
    newer = json.loads(FIXTURE.read_text())
    newer["commit_hash"] = "b" * 40
    for entry in newer["results"].values():
        entry[newer["result_columns"].index("started_at")] += 3_600_000  # an hour later
    (results / MACHINE / f"{'b' * 8}-existing-py_work_main_.venv_bin_python3.json").write_text(json.dumps(newer))
    monkeypatch.setenv("MATLOSS_ASV_MACHINE", MACHINE)
    assert compare.find(results).name.startswith("b" * 8)
    assert compare.find(results, commit="42d1f70d").name == FIXTURE.name
    with pytest.raises(LookupError, match="no results for commit"):
        compare.find(results, commit="c" * 8)
    monkeypatch.setenv("MATLOSS_ASV_MACHINE", "elsewhere")
    with pytest.raises(LookupError, match="no speed results for machine elsewhere"):
        compare.find(results)


def test_bad_input_is_an_error_not_a_crash(tmp_path, capsys):
    bad = tmp_path / "x.json"
    bad.write_text(json.dumps({"hello": 1}))
    assert main(["compare", str(bad), "--csv", str(tmp_path / "o.csv")]) == 2
    assert "not an asv results file" in capsys.readouterr().err
    assert main(["compare", str(FIXTURE), "--loss", "det", "--csv", str(tmp_path / "o.csv")]) == 2
    assert not (tmp_path / "o.csv").exists()


def test_fmt_time():
    assert [compare.fmt_time(x) for x in (9.997e-4, 12.3e-6, 0.5, 1.5)] == ["1 ms", "12.3 µs", "500 ms", "1.5 s"]
    assert compare.fmt_time(math.nan) == "—"
