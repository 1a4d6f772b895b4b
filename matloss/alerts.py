"""Alerts from history: change points in each benchmark's series over the committed asv results.

A pair of runs cannot tell a change from a slow moment of the machine; a series can. For every
benchmark case of one machine (``results/<machine>/*.json``), its values in commit order (the
first-parent history of ``HEAD``; result files of commits outside it are ignored) are split into
constant segments by asv's own step detection (:func:`asv.step_detect.detect_steps`, the one
``asv publish`` runs for its Regressions page), and the upward steps that explain the change from
the best value to the latest are reported by :func:`asv.step_detect.detect_regressions`, keeping
those of at least ``threshold`` (relative). An alert names the commit where the series stepped.

Thresholds per channel (:data:`THRESHOLDS`): instructions 1 % (counts hold still to 0.1 %);
time 10 % (asv's segmentation absorbs most of this machine's noise, but not all of it); relative
time (``matloss.relative``) 10 %, as time until its own histories say more.

Each alert also says whether the code changed between the two commits (:func:`code_changed`, over
:data:`CODE_PATHS`): a step where none of it did is the machine's or the environment's — on the
committed wall-time history, 19 of 37 alerts sit between two runs of the same code.
"""

from __future__ import annotations

import json
import math
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import product
from pathlib import Path

THRESHOLDS = {"instructions": 0.01, "time": 0.10, "relative": 0.10}
#: the asv unit of each channel's benchmarks
UNITS = {"instructions": "instructions", "time": "seconds", "relative": "reference workloads"}
#: what a benchmark's result depends on in the repository: the harness, the losses, the suites,
#: the declared dependencies and asv's configuration (documentation, experiments and results do not)
CODE_PATHS = ("matloss", "matloss_ref", "suites", "pyproject.toml", "asv.conf.json")


@dataclass
class Alert:
    name: str  # "benchmark(param, ...)"
    commit: str  # the first commit of the higher segment
    previous: str  # the last commit of the lower segment
    before: float
    after: float
    #: whether anything under :data:`CODE_PATHS` differs between ``previous`` and ``commit``
    #: (None: not asked, or git could not tell)
    code_changed: bool | None = None

    @property
    def ratio(self) -> float:
        return self.after / self.before if self.before > 0 else math.inf


def detect(name: str, commits: Sequence[str], values: Sequence[float | None], threshold: float) -> list[Alert]:
    """The regressions of one series (``values[i]`` measured at ``commits[i]``, oldest first;
    None / NaN where missing)."""
    from asv.step_detect import detect_regressions, detect_steps

    if not threshold > 0:
        raise ValueError(f"threshold must be > 0, got {threshold}")
    if len(commits) != len(values):
        raise ValueError(f"{name}: {len(commits)} commits but {len(values)} values")
    y = [None if v is None or (isinstance(v, float) and math.isnan(v)) else float(v) for v in values]
    if sum(v is not None for v in y) < 2:
        return []
    steps = detect_steps(y)
    _, _, positions = detect_regressions(steps, threshold=threshold)
    out = []
    for before, after, v_before, v_after in positions or []:
        out.append(Alert(name, commits[after], commits[before], v_before, v_after))
    return out


def code_changed(root: Path, previous: str, commit: str) -> bool | None:
    """Whether anything under :data:`CODE_PATHS` differs between the two commits; None where git
    cannot tell (a commit missing from the repository)."""
    r = subprocess.run(["git", "diff", "--quiet", previous, commit, "--", *CODE_PATHS], cwd=root, capture_output=True)
    return {0: False, 1: True}.get(r.returncode)


def history(root: Path, rev: str = "HEAD") -> list[str]:
    """Full hashes of the first-parent history of ``rev``, oldest first."""
    out = subprocess.run(["git", "rev-list", "--first-parent", "--reverse", rev], cwd=root, capture_output=True, text=True)
    if out.returncode:
        raise ValueError(f"git rev-list {rev}: {out.stderr.strip()}")
    return out.stdout.split()


def _param_text(p: str) -> str:
    return p.strip("'") if p.startswith("'") else p


def series(machine_dir: Path, commits: Sequence[str], unit: str) -> dict[str, dict[str, float | None]]:
    """{"benchmark(p1, p2, ...)": {commit: value}} of the benchmarks whose unit is ``unit``
    (a value of :data:`UNITS`), read from asv's result files (``benchmarks.json`` beside the
    machine directory gives each benchmark's unit and version; results of another version are
    left out, as asv's graphs leave them out)."""
    info = json.loads((machine_dir.parent / "benchmarks.json").read_text())
    # {benchmark: its current version}: like asv's graphs, a result of another version (what was
    # measured changed) belongs to no series of today's benchmark
    wanted = {name: b.get("version") for name, b in info.items() if isinstance(b, dict) and b.get("unit") == unit}
    position = {c: i for i, c in enumerate(commits)}
    out: dict[str, dict[str, float | None]] = {}
    for path in sorted(machine_dir.glob("*.json")):
        if path.name == "machine.json":
            continue
        data = json.loads(path.read_text())
        commit = data.get("commit_hash", "")
        if commit not in position:
            continue
        cols = data.get("result_columns", [])
        for bench, entry in data.get("results", {}).items():
            if bench not in wanted:
                continue
            row = dict(zip(cols, entry))
            if wanted[bench] is not None and row.get("version", wanted[bench]) != wanted[bench]:
                continue
            values = row.get("result")
            params = row.get("params") or [[]]
            if not isinstance(values, list):
                continue
            for combo, v in zip(product(*params), values):
                key = f"{bench}({', '.join(_param_text(p) for p in combo)})"
                out.setdefault(key, {})[commit] = None if v is None else float(v)
    return out


def scan(machine_dir: Path, root: Path, metric: str, threshold: float | None = None, rev: str = "HEAD") -> tuple[list[Alert], int, int]:
    """(alerts, series scanned, commits with results) over one machine's results."""
    if metric not in THRESHOLDS:
        raise ValueError(f"metric must be one of {', '.join(THRESHOLDS)}, got {metric!r}")
    threshold = THRESHOLDS[metric] if threshold is None else threshold
    commits = history(root, rev)
    found = series(machine_dir, commits, UNITS[metric])
    used = sorted({c for s in found.values() for c in s}, key=commits.index)
    alerts = []
    for name, by_commit in sorted(found.items()):
        alerts += detect(name, used, [by_commit.get(c) for c in used], threshold)
    changed: dict[tuple[str, str], bool | None] = {}
    for a in alerts:
        pair = (a.previous, a.commit)
        if pair not in changed:
            changed[pair] = code_changed(root, *pair)
        a.code_changed = changed[pair]
    return alerts, len(found), len(used)
