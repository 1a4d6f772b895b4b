"""Change points in each benchmark's committed history (asv's step detection), per channel:
the commit where a series stepped up, its value before and after."""

from __future__ import annotations

from pathlib import Path

from . import _args

HELP = "regressions found as change points over the committed history of every series (time or instructions)"
ORDER = 35


def add_arguments(p) -> None:
    p.add_argument("--metric", default="time", choices=["time", "instructions", "relative"], help="which channel (default time)")
    p.add_argument("--machine", default=None, help="asv machine name (default: this machine's, or the only one)")
    p.add_argument("--results-dir", type=Path, default=None, help="asv results_dir (default: the repository's results/)")
    p.add_argument("--threshold", type=_args.fraction, default=None,
                   help="smallest relative step reported (default: 0.10 for time, 0.01 for instructions)")
    p.add_argument("--limit", type=_args.positive_int, default=30, help="alerts printed, largest first (default 30)")


def run(ns) -> int:
    from matloss import alerts, compare, paths, steadiness

    results_dir = ns.results_dir or paths.results()
    try:
        machine = ns.machine or compare.this_machine(Path(results_dir))
    except (LookupError, ValueError) as exc:
        raise _args.UsageError(str(exc)) from None
    machine_dir = Path(results_dir) / machine
    if not machine_dir.is_dir():
        raise _args.UsageError(f"--machine {machine}: no results in {machine_dir}")
    found, n_series, n_commits = alerts.scan(machine_dir, paths.root(), ns.metric, ns.threshold)
    threshold = ns.threshold if ns.threshold is not None else alerts.THRESHOLDS[ns.metric]
    print(f"{len(found)} alerts in {n_series} {ns.metric} series over {n_commits} commits of {machine} "
          f"(steps of at least {threshold:.0%})")
    same = sum(a.code_changed is False for a in found)
    if same:
        print(f"{same} of them between commits with the same code ({', '.join(alerts.CODE_PATHS)} unchanged): "
              "the machine or the environment moved, not the code")
    # a time step at or beside a run taken while the machine switched speed levels is suspect
    timed = ns.metric != "instructions"
    unsteady = steadiness.unsteady_commits(machine_dir) if timed else set()

    def beside_unsteady(a: alerts.Alert) -> bool:
        return bool({a.previous, a.commit} & unsteady)

    shaky = sum(map(beside_unsteady, found))
    if shaky:
        print(f"{shaky} of them at or beside a run taken on an UNSTEADY machine (`matloss steadiness`): "
              "its times carry the machine's level")
    for a in sorted(found, key=lambda a: -a.ratio)[: ns.limit]:
        tag = {False: "same code", True: "", None: "code ?"}[a.code_changed]
        level = f"{'unsteady' if beside_unsteady(a) else '':10}" if timed else ""
        print(f"  {a.ratio:6.3f}x  {a.previous[:8]} -> {a.commit[:8]}  {tag:9}  {level}{a.name}")
    return 0
