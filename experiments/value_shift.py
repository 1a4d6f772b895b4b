#!/usr/bin/env python
"""How far the values of one asv result set moved against another's, per framework and mode.

    .venv/bin/python experiments/value_shift.py BEFORE.json AFTER.json

For raw time and relative time (the CPU cases of 100 µs or more in BEFORE), prints AFTER / BEFORE
per (framework, mode): the median and the 10th and 90th percentiles. Used for what one CPU per
benchmark process changed (docs/measurements.md, "2026-12-07, one CPU per benchmark process").
Nothing here is a test: it reports.
"""

from __future__ import annotations

import collections
import json
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from matloss import steadiness  # noqa: E402


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print(__doc__.strip().splitlines()[2].strip(), file=sys.stderr)
        return 2
    before, after = (json.loads(Path(a).read_text()) for a in argv)
    for channel, benches in (("raw", steadiness.PAIRS.values()), ("relative", steadiness.PAIRS.keys())):
        groups = collections.defaultdict(list)
        for bench in benches:
            timing = steadiness.PAIRS.get(bench, bench)
            raw = steadiness._values(before, timing)
            new = steadiness._values(after, bench)
            for combo, value in steadiness._values(before, bench).items():
                if raw.get(combo, 0) >= steadiness.MIN_TIME and value > 0 and new.get(combo, 0) > 0:
                    groups[(combo[1].strip("'"), combo[5].strip("'"))].append(new[combo] / value)
        print(channel)
        for (framework, mode), ratios in sorted(groups.items()):
            q = statistics.quantiles(ratios, n=10) if len(ratios) > 1 else ratios * 9
            print(f"  {framework:11s} {mode:8s} {len(ratios):5d} cases: median {statistics.median(ratios):.3f} "
                  f"(10th {q[0]:.3f}, 90th {q[-1]:.3f})")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
