#!/usr/bin/env python
"""How far two committed asv runs of the instruction channel agree, case by case.

    .venv/bin/python experiments/instruction_runs_agree.py 135eb03c c5e22345 [--machine vm-amd-epyc-2cpu]

Reads the two result files of ``results/<machine>/`` whose names start with the given commit
prefixes, prints how many tracks each run has deterministic (not n/a), per framework and mode,
then takes those deterministic in both and prints per framework and mode how many read within
0.1 % and 1 % of each other, and the largest difference.
Only results of the tracks' current asv version are read (the reader of `matloss alerts`).
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from collections import Counter, defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from matloss.alerts import UNITS, series  # noqa: E402  (the alerts' reader of asv result files)

ROOT = Path(__file__).resolve().parent.parent


def tracks(machine: Path, prefix: str) -> dict[tuple, float]:
    """{(benchmark, param, ...): instructions} of the one result file whose name starts with ``prefix``."""
    files = sorted(machine.glob(f"{prefix}*.json"))
    if len(files) != 1:
        raise SystemExit(f"instruction_runs_agree: commit prefix {prefix!r} matches {len(files)} result files in {machine}")
    commit = json.loads(files[0].read_text())["commit_hash"]
    out = {}
    for name, by_commit in series(machine, [commit], UNITS["instructions"]).items():
        v = by_commit.get(commit)
        if v is not None and not math.isnan(v):
            bench, _, params = name.partition("(")
            out[(bench.split(".")[1], *params.rstrip(")").split(", "))] = v
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("first")
    ap.add_argument("second")
    ap.add_argument("--machine", default="vm-amd-epyc-2cpu")
    ns = ap.parse_args()
    machine = ROOT / "results" / ns.machine
    if not machine.is_dir():
        ap.error(f"--machine {ns.machine}: no directory {machine}")
    a, b = tracks(machine, ns.first), tracks(machine, ns.second)
    for label, run in ((ns.first, a), (ns.second, b)):
        modes = Counter((k[2], k[-1]) for k in run)
        print(f"{label}: {len(run)} deterministic (" + ", ".join(f"{fw} {mode} {n}" for (fw, mode), n in sorted(modes.items())) + ")")
    both = sorted(set(a) & set(b))
    if not both:
        print("no case is deterministic in both runs at the tracks' current asv version")
        return 1
    per = defaultdict(list)
    for k in both:
        per[(k[2], k[-1])].append((abs(b[k] / a[k] - 1), k))  # (framework, mode)
    print(f"{len(both)} cases deterministic in both runs")
    print(f"{'framework':<11} {'mode':<9} {'cases':>5} {'<=0.1%':>7} {'<=1%':>5}  largest")
    for (fw, mode), rs in sorted(per.items()) + [(("all", ""), [r for v in per.values() for r in v])]:
        worst = max(rs)
        print(f"{fw:<11} {mode:<9} {len(rs):>5} {sum(r <= 1e-3 for r, _ in rs):>7} {sum(r <= 1e-2 for r, _ in rs):>5}"
              f"  {100 * worst[0]:.2f} % {worst[1]}: {a[worst[1]]:,.0f} -> {b[worst[1]]:,.0f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
