"""``matloss compare``: the frameworks side by side, from one asv result set.

For every (loss, device, shape, dtype) of the speed suites (``suites/bench_speed.py``) it lists
each framework and mode with its median forward time, its median forward + backward time, and
each one's ratio to the fastest framework/mode of that row group (1.00 = the fastest). Prints a
markdown table and writes the same rows to a CSV file (numbers in seconds).

The result set is one asv results file: by default the most recent run recorded for this
machine in ``results/``; or a commit (its result file for the machine), or a path to a file.
"""

from __future__ import annotations

import ast
import csv
import json
import math
import os
import subprocess
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

FORWARD = "Forward.time_forward"
BACKWARD = "Backward.time_backward"
#: the speed suites' parameter names, used when the results dir has no benchmarks.json
DEFAULT_PARAM_NAMES = ("loss", "framework", "device", "dtype", "shape", "mode")
KEY = ("loss", "device", "shape", "dtype")
CSV_COLUMNS = (*KEY, "framework", "mode", "forward_s", "forward_ratio", "backward_s", "backward_ratio")


@dataclass
class ResultSet:
    """Median times of one asv results file: ``times[(pass, {param: value})]`` in seconds."""

    path: Path
    commit: str
    machine: str
    env: str
    started_at: float  # ms since epoch of the latest benchmark in the file (0 if unknown)
    times: dict[tuple[str, tuple[tuple[str, str], ...]], float] = field(default_factory=dict)
    #: each parameter's values in the suite's grid order (the display order)
    order: dict[str, dict[str, int]] = field(default_factory=dict)


def _param_value(text: str) -> str:
    try:
        return str(ast.literal_eval(text))
    except (ValueError, SyntaxError):
        return text


def _param_names(results_dir: Path | None, bench: str, n: int) -> list[str]:
    if results_dir is not None and (results_dir / "benchmarks.json").is_file():
        info = json.loads((results_dir / "benchmarks.json").read_text()).get(bench)
        if info and len(info.get("param_names", [])) == n:
            return list(info["param_names"])
    if n != len(DEFAULT_PARAM_NAMES):
        raise ValueError(f"{bench}: {n} parameters, expected {len(DEFAULT_PARAM_NAMES)} ({', '.join(DEFAULT_PARAM_NAMES)})")
    return list(DEFAULT_PARAM_NAMES)


def load(path: str | os.PathLike, results_dir: str | os.PathLike | None = None) -> ResultSet:
    """Read the forward/backward medians of one asv results file (skipped/failed cases are absent)."""
    path = Path(path)
    data = json.loads(path.read_text())
    if "results" not in data or "result_columns" not in data:
        raise ValueError(f"{path}: not an asv results file (no 'results' / 'result_columns')")
    rdir = Path(results_dir) if results_dir is not None else path.parent.parent
    cols = data["result_columns"]
    machine = data.get("params", {}).get("machine", path.parent.name)
    rs = ResultSet(path, data.get("commit_hash", ""), machine, data.get("env_name", ""), 0.0)
    for bench, entry in data["results"].items():
        which = "forward" if bench.endswith(FORWARD) else "backward" if bench.endswith(BACKWARD) else None
        if which is None:
            continue
        row = dict(zip(cols, entry))
        params = row.get("params") or []
        values = row.get("result")
        if not params or not isinstance(values, list):
            continue
        names = _param_names(rdir, bench, len(params))
        rs.started_at = max(rs.started_at, float(row.get("started_at") or 0))
        values_of = [[_param_value(v) for v in p] for p in params]
        for name, vals in zip(names, values_of):
            rs.order.setdefault(name, {v: i for i, v in enumerate(vals)})
        combos = _product(values_of)
        for combo, value in zip(combos, values):
            if value is None or (isinstance(value, float) and math.isnan(value)):
                continue  # skipped (NaN) or failed (None)
            rs.times[(which, tuple(zip(names, combo)))] = float(value)
    return rs


def _product(lists: Sequence[Sequence[str]]) -> list[tuple[str, ...]]:
    out: list[tuple[str, ...]] = [()]
    for values in lists:
        out = [prev + (v,) for prev in out for v in values]
    return out


# -- finding a result set -------------------------------------------------------------------
def _machines(results_dir: Path) -> list[str]:
    return sorted(p.parent.name for p in results_dir.glob("*/machine.json"))


def this_machine(results_dir: Path) -> str:
    """``$MATLOSS_ASV_MACHINE``, else the machine asv knows on this host, else the only one in ``results_dir``."""
    have = _machines(results_dir)
    wanted = os.environ.get("MATLOSS_ASV_MACHINE")
    if wanted:
        return wanted
    try:
        known = [k for k in json.loads((Path.home() / ".asv-machine.json").read_text()) if k != "version"]
    except (OSError, ValueError):
        known = []
    mine = [m for m in known if m in have]
    if len(mine) == 1:
        return mine[0]
    if len(have) == 1:
        return have[0]
    raise LookupError(f"which machine? results for {', '.join(have) or 'none'} in {results_dir}; pass --machine")


def _speed_files(results_dir: Path, machine: str) -> list[Path]:
    return [p for p in sorted((results_dir / machine).glob("*.json")) if p.name != "machine.json"]


def find(results_dir: str | os.PathLike, machine: str | None = None, commit: str | None = None) -> Path:
    """The result file of ``commit`` (or the most recently run one) for ``machine`` (or this machine)."""
    results_dir = Path(results_dir)
    machine = machine or this_machine(results_dir)
    files = _speed_files(results_dir, machine)
    if commit is not None:
        full = _rev_parse(commit) or commit
        files = [p for p in files if p.name.startswith(full[:8])]
        if not files:
            raise LookupError(f"no results for commit {commit} on machine {machine} in {results_dir}")
    candidates = [(load(p, results_dir), p) for p in files]
    candidates = [(rs, p) for rs, p in candidates if rs.times]
    if not candidates:
        raise LookupError(f"no speed results for machine {machine} in {results_dir}")
    return max(candidates, key=lambda c: c[0].started_at)[1]


def _rev_parse(rev: str) -> str | None:
    try:
        return subprocess.run(
            ["git", "rev-parse", "--verify", "--quiet", f"{rev}^{{commit}}"], capture_output=True, text=True, check=True
        ).stdout.strip()
    except (subprocess.CalledProcessError, OSError):
        return None


# -- the table ------------------------------------------------------------------------------
def table(rs: ResultSet, filters: Mapping[str, Iterable[str]] | None = None) -> list[dict]:
    """One row per (loss, device, shape, dtype, framework, mode) with a forward or backward time."""
    cases: dict[tuple, dict[str, float]] = {}
    for (which, params), seconds in rs.times.items():
        p = dict(params)
        if filters and any(p.get(k) not in set(v) for k, v in filters.items() if v):
            continue
        cases.setdefault(tuple(p[k] for k in (*KEY, "framework", "mode")), {})[which] = seconds
    groups: dict[tuple, list[tuple]] = {}
    for case in cases:
        groups.setdefault(case[: len(KEY)], []).append(case)

    def rank(name: str, value: str) -> int:
        return rs.order.get(name, {}).get(value, len(rs.order.get(name, {})))

    rows = []
    for key in sorted(groups, key=lambda k: tuple(rank(n, v) for n, v in zip(KEY, k))):
        members = groups[key]
        best = {w: min((cases[c][w] for c in members if w in cases[c]), default=math.nan) for w in ("forward", "backward")}
        for case in sorted(members, key=lambda c: (rank("framework", c[-2]), rank("mode", c[-1]))):
            t = cases[case]
            row = dict(zip((*KEY, "framework", "mode"), case))
            for w in ("forward", "backward"):
                row[f"{w}_s"] = t.get(w, math.nan)
                row[f"{w}_ratio"] = t[w] / best[w] if w in t and best[w] > 0 else math.nan
            rows.append(row)
    return rows


def fmt_time(seconds: float) -> str:
    """3 significant digits in the unit that keeps the number below 1000 (999.7 µs -> 1 ms)."""
    if math.isnan(seconds):
        return "—"
    for unit, scale in (("ns", 1e-9), ("µs", 1e-6), ("ms", 1e-3), ("s", 1.0)):
        text = f"{seconds / scale:.3g}"
        if float(text) < 1000 or unit == "s":
            return f"{text} {unit}"
    raise AssertionError("unreachable")


def fmt_ratio(r: float) -> str:
    return "—" if math.isnan(r) else f"{r:.2f}"


def markdown(rows: list[dict], rs: ResultSet) -> str:
    lines = [
        f"### Speed by framework: {rs.machine}, commit {rs.commit[:8]} ({rs.env})",
        "",
        "Median time per call; ratio = time / fastest framework and mode of the same loss, device, shape and dtype.",
        "",
        "| loss | device | shape | dtype | framework | mode | forward | ×fastest | fwd+bwd | ×fastest |",
        "|---|---|---|---|---|---|---:|---:|---:|---:|",
    ]
    for r in rows:
        cells = [r[k] for k in (*KEY, "framework", "mode")]
        cells += [fmt_time(r["forward_s"]), fmt_ratio(r["forward_ratio"]), fmt_time(r["backward_s"]), fmt_ratio(r["backward_ratio"])]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def write_csv(rows: list[dict], path: str | os.PathLike) -> Path:
    """Atomically write ``rows`` (seconds and ratios as plain numbers, empty where absent)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=CSV_COLUMNS)
        w.writeheader()
        for r in rows:
            w.writerow({k: ("" if isinstance(r[k], float) and math.isnan(r[k]) else r[k]) for k in CSV_COLUMNS})
    os.replace(tmp, path)
    return path
