"""A/A runs of the pull-request speed gate, re-decided at several ``--factor-long`` values.

Each ``--samples-out`` file of ``matloss gate speed HEAD HEAD --factor-long F --samples-out
DIR/run-*.json`` holds every round's samples; this re-makes the decision from them at each long
factor (µs-scale cases keep the default 1.2) and prints, per factor, how many runs would have
blocked, and the range of the long cases' ratios::

    .venv/bin/python experiments/aa_factor_long.py results/gate_aa_pr [--factors 1.02,1.03,1.04,1.05]
"""

from __future__ import annotations

import argparse
from pathlib import Path

from matloss.gate_speed import FACTOR, LONG_S, decide, exit_code, load_samples


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("dir", type=Path)
    ap.add_argument("--factors", default="1.02,1.03,1.04,1.05")
    ns = ap.parse_args()
    factors = [float(f) for f in ns.factors.split(",")]
    runs = sorted(ns.dir.glob("run-*.json"))
    if not runs:
        raise SystemExit(f"no run-*.json in {ns.dir}")
    blocked = {f: 0 for f in factors}
    long_ratios: list[float] = []
    n_long = set()
    for path in runs:
        b, h, rounds, paired = load_samples(path)
        for f in factors:
            verdicts = decide(b, h, FACTOR, rounds=rounds, paired=paired, long_factor=f)
            blocked[f] += exit_code(verdicts) == 1
        for v in decide(b, h, FACTOR, rounds=rounds, paired=paired):
            if v.base_median >= LONG_S:
                long_ratios.append(v.ratio)
                n_long.add(v.name)
    print(f"{len(runs)} A/A runs; {len(n_long)} cases of {LONG_S * 1e6:.0f} µs or more, their ratios "
          f"{min(long_ratios):.4f}-{max(long_ratios):.4f}")
    for f in factors:
        print(f"  --factor-long {f:g}: {blocked[f]} of {len(runs)} runs would block (a false alarm)")


if __name__ == "__main__":
    main()
