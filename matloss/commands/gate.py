"""Regression gates. ``gate accuracy``: a sweep summary against the committed baseline, cell by cell.
``gate speed BASE HEAD``: the selected timing cases of two commits, run side by side on this machine.
Exit status: 0 pass, 1 regression, 2 the gate could not run (or a benchmark failed)."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

from . import _args

HELP = "regression gates: `gate accuracy` (summary vs baseline) and `gate speed BASE HEAD`"
ORDER = 20


def add_arguments(p) -> None:
    p.add_argument("kind", choices=["accuracy", "speed"], help="which gate")
    p.add_argument("rest", nargs="*", metavar="COMMIT", help="speed: BASE HEAD")
    p.add_argument("--baseline", type=Path, default=None, help="accuracy: baseline summary (default results/accuracy/baseline_summary.csv)")
    p.add_argument("--current", type=Path, default=None, help="accuracy: summary to judge (default results/accuracy/quick_summary.csv)")
    p.add_argument("--write-baseline", action="store_true", help="accuracy: accept --current as the new baseline and exit")
    p.add_argument("--keep-known-findings", action="store_true",
                   help="accuracy, with --write-baseline: keep the replaced baseline's higher max R and NaN / inf / "
                   "zero-gradient / exception counts, cell by cell (findings another host's rounding produced)")
    p.add_argument("--summary-file", default=None, help="also append the markdown report to this file (e.g. $GITHUB_STEP_SUMMARY)")
    p.add_argument("-b", "--bench", default=None, help="speed: regex of benchmarks to run")
    p.add_argument("--factor", type=_args.float_at_least(1.0, strict=True), default=None,
                   help="speed: slowdown factor that counts (default 1.2)")
    p.add_argument("--factor-long", type=_args.float_at_least(1.0, strict=True), default=None,
                   help="speed, time: the factor of cases whose BASE median is at least 100 µs (default: --factor)")
    p.add_argument("--alpha", type=_args.fraction, default=None, help="speed: significance level of the test (default 0.01)")
    p.add_argument("--rounds", type=_args.positive_int, default=None,
                   help="speed: rounds (paired runner: fresh processes each, default 10, at least 4; "
                   "asv runner: asv runs per commit, default 3)")
    p.add_argument("--runner", default="paired", choices=["paired", "asv"],
                   help="speed: paired (default: one process per commit, samples alternated pair by pair) "
                   "or asv (asv run per commit and round)")
    p.add_argument("--pairs", type=_args.positive_int, default=None,
                   help="speed, paired runner: sample pairs per case and round (default 10, at least 3)")
    p.add_argument("--launch-method", default=None, choices=["spawn", "forkserver"], help="speed, asv runner: asv's launch method")
    p.add_argument("--metric", default="time", choices=["time", "instructions"],
                   help="speed: what to compare: wall time (default) or instructions under callgrind (matloss.gate_instructions)")
    p.add_argument("--threshold", type=_args.fraction, default=None,
                   help="speed, instructions: relative change that counts (default 0.01)")
    p.add_argument("--samples-out", default=None, help="speed: also write every round's samples and the verdicts to this JSON file")


def run(ns) -> int:
    if ns.kind == "speed":
        return _speed(ns)
    return _accuracy(ns)


def _speed(ns) -> int:
    from matloss import gate_speed

    if len(ns.rest) != 2:
        raise _args.UsageError("speed needs two commits: BASE HEAD")
    time_only = ns.factor is not None or ns.factor_long is not None or ns.runner != "paired" or ns.rounds or ns.pairs
    if ns.metric == "instructions" and time_only:
        raise _args.UsageError("--metric instructions takes no --factor, --factor-long, --runner, --rounds or --pairs "
                               "(counts need no statistics)")
    if ns.metric == "time" and ns.threshold is not None:
        raise _args.UsageError("--threshold is for --metric instructions; wall time uses --factor")
    try:
        if ns.metric == "instructions":
            from matloss import gate_instructions

            return gate_instructions.run(ns)
        return gate_speed.run_speed_gate(ns)
    except Exception as exc:  # a broken run must not read as "slower" (exit 1): it is a failure to run
        print(f"matloss gate speed: could not run: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 2


def _accuracy(ns) -> int:
    import pandas as pd

    from matloss import gate_accuracy

    if ns.rest:
        raise _args.UsageError(f"accuracy takes no commits, got {' '.join(ns.rest)}")
    cur_path = ns.current or gate_accuracy.current_path()
    base_path = ns.baseline or gate_accuracy.baseline_path()
    for p, what in ((cur_path, "--current"), (base_path, "--baseline")):
        if not p.exists() and not (ns.write_baseline and what == "--baseline"):
            raise _args.UsageError(f"{what} {p} does not exist")
    if ns.keep_known_findings and not ns.write_baseline:
        raise _args.UsageError("--keep-known-findings goes with --write-baseline")
    if ns.keep_known_findings and not base_path.exists():
        raise _args.UsageError(f"--keep-known-findings: there is no baseline to keep findings from ({base_path})")
    if ns.write_baseline:
        base_path.parent.mkdir(parents=True, exist_ok=True)
        if ns.keep_known_findings:
            merged, kept = gate_accuracy.keep_known_findings(pd.read_csv(cur_path), pd.read_csv(base_path))
            merged.to_csv(base_path, index=False)
            for line in kept:
                print(f"kept from the old baseline: {line}")
        else:
            shutil.copyfile(cur_path, base_path)
        print(f"baseline written: {base_path}")
        return 0
    try:
        violations, notes = gate_accuracy.compare_accuracy(pd.read_csv(base_path), pd.read_csv(cur_path))
    except gate_accuracy.GridMismatch as exc:
        raise _args.UsageError(str(exc)) from None
    report = gate_accuracy.markdown(violations, notes)
    print(report)
    if ns.summary_file:
        with open(ns.summary_file, "a") as f:
            f.write(report + "\n")
    return 1 if any(v.regression for v in violations) else 0
