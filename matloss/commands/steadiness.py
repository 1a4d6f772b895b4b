"""How steady the machine was during each asv run of one machine, read from the runs' own
results: each CPU case's raw time over its relative time is the reference workload's time when
the case ran; a run with more than 10 % of its cases timed more than 10 % off the run's usual
level is flagged UNSTEADY: its raw times are not for comparing with another run's (docs/speed.md)."""

from __future__ import annotations

from pathlib import Path

from . import _args

HELP = "how steady the machine was during each committed asv run (the reference workload's time across its cases)"
ORDER = 36


def add_arguments(p) -> None:
    p.add_argument("--machine", default=None, help="asv machine name (default: this machine's, or the only one)")
    p.add_argument("--results-dir", type=Path, default=None, help="asv results_dir (default: the repository's results/)")


def run(ns) -> int:
    from matloss import compare, paths, steadiness

    results_dir = Path(ns.results_dir or paths.results())
    try:
        machine = ns.machine or compare.this_machine(results_dir)
    except (LookupError, ValueError) as exc:
        raise _args.UsageError(str(exc)) from None
    machine_dir = results_dir / machine
    if not machine_dir.is_dir():
        raise _args.UsageError(f"--machine {machine}: no results in {machine_dir}")
    runs = steadiness.of_machine(machine_dir)
    measured = {c: s for c, (_, s) in runs.items() if s is not None}
    print(f"{len(measured)} of {len(runs)} runs of {machine} have relative time to read the machine's level from "
          f"(steady: at most {steadiness.MAX_OFF_LEVEL:.0%} of the cases timed more than "
          f"{steadiness.LEVEL_TOLERANCE:.0%} off the run's median level)")
    for commit, (_, s) in sorted(runs.items(), key=lambda kv: kv[1][0]):
        if s is not None:
            print(f"  {commit[:8]}  {s.cases:5d} cases  reference {s.reference_s * 1e3:6.2f} ms  "
                  f"90th/10th {s.spread:5.2f}  off level {s.off_level:4.0%}  {'steady' if s.steady else 'UNSTEADY'}")
    return 0
