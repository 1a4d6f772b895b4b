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
