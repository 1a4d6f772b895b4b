#!/usr/bin/env python
"""Why the paired speed gate takes an untimed sample before each timed one: an A/A measurement.

    .venv/bin/python experiments/switch_penalty.py [--rounds 8] [--pairs 10] [-b REGEX]

Runs the gate's paired runner (``speedgate.run_paired``) with this checkout on *both* sides, so
every true ratio is 1, alternately without and with the warm-up sample (``warmup=False/True``),
``--rounds`` rounds each, and prints for each setting every round's ratio (the median of its
per-pair head/base ratios), their spread and, for the first round, the samples in the order they
were taken. Without the warm-up, the sample right after the CPU switched from the other process is
slower; with ABBA order that is every other sample of each side, so the pair ratios fall in two
clusters and a round's median lands anywhere between them.

Nothing here is a test: the numbers depend on the machine and are reported, not asserted.
"""

from __future__ import annotations

import argparse
import math
import statistics
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from matloss.gate_speed import run_paired  # noqa: E402

CASE = r"bench_speed\.Forward\.time_forward\('frobenius', 'torch', 'cpu', 'float64', '512', 'eager'\)"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rounds", type=int, default=8, help="rounds per setting (default 8)")
    ap.add_argument("--pairs", type=int, default=10, help="sample pairs per round (default 10)")
    ap.add_argument("-b", "--bench", default=CASE, help="regex of the one case to time (default: the proof's torch frobenius n=512)")
    ns = ap.parse_args(argv)
    if ns.rounds < 2 or ns.pairs < 2:
        ap.error("--rounds and --pairs must be at least 2")
    trees = {"base": ROOT, "head": ROOT}
    ratios: dict[bool, list[float]] = {False: [], True: []}
    first: dict[bool, tuple[list[float], list[float]]] = {}
    with tempfile.TemporaryFile("w+") as log:  # the workers' stderr and the runner's progress
        for _ in range(ns.rounds):
            for warmup in (False, True):  # interleaved, so both settings see the same hours of the machine
                ((b, h),) = run_paired(trees, ns.bench, 1, ns.pairs, log, warmup=warmup)
                if not b or len(b) != 1:
                    print(f"the regex must select exactly one runnable case; got {sorted(b)}", file=sys.stderr)
                    return 2
                (name,) = b
                ratios[warmup].append(statistics.median(y / x for x, y in zip(b[name], h[name])))
                first.setdefault(warmup, (b[name], h[name]))
    print(f"A/A, {name}: {ns.rounds} rounds x {ns.pairs} pairs per setting\n")
    for warmup in (False, True):
        rs = ratios[warmup]
        sd = statistics.stdev(math.log(x) for x in rs)
        b, h = first[warmup]
        order = []
        for k in range(len(b)):  # the order taken: base first in even pairs, head first in odd ones
            order += [f"B{b[k] * 1e6:.0f}", f"H{h[k] * 1e6:.0f}"] if k % 2 == 0 else [f"H{h[k] * 1e6:.0f}", f"B{b[k] * 1e6:.0f}"]
        print(f"warm-up sample {'on ' if warmup else 'off'}: round ratios {' '.join(f'{x:.3f}' for x in rs)}")
        print(f"  range {min(rs):.3f}-{max(rs):.3f}, sd of log ratio {sd:.3f}")
        print(f"  first round's samples in time order (µs): {' '.join(order)}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
