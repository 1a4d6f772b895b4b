#!/usr/bin/env python
"""Each process's count of each case, over more than two valgrind processes run one after another.

    .venv/bin/python experiments/instruction_processes.py REGEX [--processes 3]

The channel keeps two processes per batch and reports only whether they agree; this shows which
process read what, so a pattern can be seen (all apart, or one process the odd one out). Cases are
the channel's (``matloss.instructions.grid(REGEX)``), counted as the channel counts them
(``matloss.instructions.measure``, its processes one at a time). Prints per case each process's
count and its distance from the least, then the channel's summary over all the processes.

Nothing here is a test: what it prints depends on the machine and is reported, not asserted.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from matloss import instructions  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("bench", help="regex of the timing benchmark names to count")
    ap.add_argument("--processes", type=int, default=3)
    ns = ap.parse_args()
    if ns.processes < 2:
        ap.error(f"--processes must be >= 2, got {ns.processes}")
    todo = instructions.grid(ns.bench)
    if not todo:
        ap.error(f"{ns.bench!r} matches no CPU timing case")
    row = instructions._row

    def show(case, runs):
        counts = [r.count for r in runs]
        if all(counts):
            low = min(counts)
            apart = "  ".join(f"{c:>10,} (+{(c - low) / low:.3%})" for c in counts)
            print(f"{case.case[0]:18s} {'fwd+bwd' if case.backward else 'fwd':8s} {apart}", flush=True)
        return row(case, runs)

    instructions._row = show
    rows = instructions.measure(todo, repeats=ns.processes, jobs=1)
    print(instructions.summary(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
