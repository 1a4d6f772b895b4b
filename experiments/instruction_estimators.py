"""Which per-case estimator of a window's calls agrees across processes? (docs/instructions.md)

Reads an instruction-channel table (``python -m matloss.instructions --bench REGEX --out F.csv``
keeps every counted call of both processes in ``calls_1`` / ``calls_2``) and prints, per case and
per estimator, how far the two processes' estimates are apart, then how many cases each estimator
keeps within the channel's tolerance::

    .venv/bin/python experiments/instruction_estimators.py F.csv [--calls]
"""

from __future__ import annotations

import argparse
import csv
import statistics

from matloss.instructions import TOLERANCE

ESTIMATORS = {
    "min": min,
    "median": statistics.median,
    "mean": statistics.fmean,
    "trimmed": lambda c: statistics.fmean(sorted(c)[2:-2]),  # two calls off each end
}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("table")
    ap.add_argument("--calls", action="store_true", help="also print every call")
    ns = ap.parse_args()
    kept = {k: 0 for k in ESTIMATORS}
    n = 0
    for r in csv.DictReader(open(ns.table)):
        if not r.get("calls_1") or not r.get("calls_2"):
            continue
        a, b = ([int(x) for x in r[k].split()] for k in ("calls_1", "calls_2"))
        if min(len(a), len(b)) < 5:
            continue
        n += 1
        apart = {}
        for k, f in ESTIMATORS.items():
            x, y = f(a), f(b)
            apart[k] = abs(x - y) / min(x, y)
            kept[k] += apart[k] <= TOLERANCE
        print(f"{r['framework']:<10} {r['mode']:<8} {'fwd+bwd' if r['backward'] == 'True' else 'fwd':<7} {r['loss']:<20}",
              " ".join(f"{k} {v:.3%}" for k, v in apart.items()))
        if ns.calls:
            print("   ", a, "\n   ", b)
    print(f"within {TOLERANCE:.1%} across the two processes, of {n} cases: " + ", ".join(f"{k} {v}" for k, v in kept.items()))


if __name__ == "__main__":
    main()
