"""The dashboard keeps its history: asv draws a committed result only where the ``version`` it was
recorded under equals the benchmark's current one, and the default version hashes the benchmark's
code, setup included, so an edit that does not change what is measured would silently hide every
earlier point. Each benchmark therefore carries an explicit version; this holds the newest committed
results of every benchmark to the version the suites declare now."""

from __future__ import annotations

import json
import sys

import pytest

from matloss import paths

ROOT = paths.root()


def _benchmarks() -> list:
    """The suites' benchmarks as asv discovers them (asv_runner, in this process)."""
    from asv_runner.discovery import disc_benchmarks

    sys.path.insert(0, str(ROOT))
    try:
        return list(disc_benchmarks(str(ROOT / "suites")))
    finally:
        sys.path.remove(str(ROOT))


def _newest_versions() -> dict[str, tuple[int, str, str]]:
    """benchmark name -> (commit date, commit, version) of the newest committed result holding it."""
    newest: dict[str, tuple[int, str, str]] = {}
    for path in sorted((ROOT / "results").glob("*/*.json")):
        if path.name in ("machine.json", "benchmarks.json"):
            continue
        data = json.loads(path.read_text())
        if "result_columns" not in data:
            continue  # not an asv result file
        column = data["result_columns"].index("version")
        for name, row in data["results"].items():
            seen = (data["date"], data["commit_hash"][:8], row[column])
            if name not in newest or seen[0] > newest[name][0]:
                newest[name] = seen
    return newest


def test_newest_committed_results_carry_the_current_versions():
    current, newest = {b.name: b.version for b in _benchmarks()}, _newest_versions()
    if not newest:
        pytest.skip("no committed asv results")
    hidden = [f"{name}: results of {commit} have version {version[:8]}, the suite declares {current[name][:8]}"
              for name, (_, commit, version) in sorted(newest.items()) if name in current and current[name] != version]
    assert not hidden, "the dashboard would hide these histories (set the benchmark's version):\n" + "\n".join(hidden)


def test_every_benchmark_sets_its_version():
    """A hash-derived version changes with any edit of the benchmark's setup; an explicit one only on purpose."""
    # asv_runner offers an alternative (token) hash only for a version it derived itself
    implicit = [b.name for b in _benchmarks() if b.version_alts]
    assert not implicit, f"benchmarks without an explicit version: {implicit}"


def test_a_machine_whose_runs_record_different_fields_publishes_one_series(tmp_path, monkeypatch):
    """Runs of one machine made before and after ``asv machine`` recorded ``arch``/``os``/``num_cpu``
    publish as one series: the staged files carry only the fields all of them share (values kept),
    asv writes no graph under the newer fields, and the committed files are left as they were."""
    import subprocess

    from matloss import dashboard

    results = tmp_path / "results"
    machine = results / "box"
    machine.mkdir(parents=True)
    (results / "benchmarks.json").write_text((ROOT / "results" / "benchmarks.json").read_text())
    src = sorted((ROOT / "results").glob("*/machine.json"))[0].parent
    bench = json.loads((results / "benchmarks.json").read_text())

    def current(p):  # asv graphs only results of a benchmark's current version
        data = json.loads(p.read_text())
        at = data["result_columns"].index("version")
        return any(len(v) > at and v[at] == bench.get(k, {}).get("version") for k, v in data["results"].items())

    runs = [p for p in sorted(src.glob("*.json")) if p.name != "machine.json" and current(p)]
    old = next(p for p in runs if "arch" not in json.loads(p.read_text())["params"])
    new = next(p for p in runs if "arch" in json.loads(p.read_text())["params"])
    for p in (old, new):
        data = json.loads(p.read_text())
        data["params"]["machine"] = "box"
        (machine / p.name).write_text(json.dumps(data))
    (machine / "machine.json").write_text(json.dumps({"machine": "box", "version": 1}))
    before = {p.name: p.read_text() for p in machine.iterdir()}

    monkeypatch.setattr(dashboard, "RESULTS", results)
    config = dashboard.stage_results(tmp_path / "stage")
    stage = tmp_path / "stage" / "results" / "box"
    staged = [json.loads(p.read_text()) for p in sorted(stage.glob("*.json")) if p.name != "machine.json"]
    assert len(staged) == 2
    assert {frozenset(d["params"]) for d in staged} == {frozenset(json.loads(old.read_text())["params"])}
    assert staged[1]["params"]["python"] == json.loads(new.read_text())["params"]["python"]
    assert {p.name: p.read_text() for p in machine.iterdir()} == before

    html = tmp_path / "html"
    subprocess.run([sys.executable, "-m", "asv", "publish", "--config", str(config), "--html-dir", str(html)],
                   cwd=ROOT, check=True, capture_output=True)  # fmt: skip
    graphs = [p for p in (html / "graphs").rglob("*.json")]
    assert graphs
    assert not [p for p in graphs if "arch-" in str(p.relative_to(html)) or "os-" in str(p.relative_to(html))]
    index = json.loads((html / "index.json").read_text())
    assert "arch" not in index["params"]


def test_a_machine_registered_on_a_fresh_home_records_every_field(tmp_path, monkeypatch):
    """``asv machine --yes --os ...`` keeps only the fields that differ from its defaults, so a first
    registration lacked ``os``/``arch``/``num_cpu``; matloss writes the whole entry, and asv reads
    every field back as the machine a run is stamped with."""
    import os
    import platform

    from asv.machine import Machine

    from matloss import asv_run

    monkeypatch.setenv("HOME", str(tmp_path))
    asv_run.register_machine("box")
    got = json.loads((tmp_path / ".asv-machine.json").read_text())["box"]
    assert set(got) == {name for name, _ in Machine.fields}
    assert (got["arch"], got["num_cpu"]) == (platform.machine(), str(os.cpu_count()))
    assert got["os"].startswith(platform.system())
    assert Machine.load(machine_name="box").__dict__ == got
    asv_run.register_machine("other")  # a second machine leaves the first as it was
    assert json.loads((tmp_path / ".asv-machine.json").read_text())["box"] == got
