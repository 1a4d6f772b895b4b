"""The frameworks side by side from one asv result set: for every (loss, device, shape, dtype), each
framework and mode with its median forward and forward + backward time and its ratio to the fastest
(1.00 = fastest). Prints a markdown table and writes the same rows (seconds, ratios) to a CSV."""

from __future__ import annotations

from pathlib import Path

from . import _args

HELP = "frameworks side by side from one asv result set: median forward / backward time and ratio to the fastest"
ORDER = 30


def add_arguments(p) -> None:
    p.add_argument("result", nargs="?", default=None, help="an asv results file, or a commit; default: the latest run of this machine")
    p.add_argument("--results-dir", type=Path, default=None, help="asv results_dir (default: the repository's results/)")
    p.add_argument("--machine", default=None, help="asv machine name (default: $MATLOSS_ASV_MACHINE, ~/.asv-machine.json, or the only one)")
    p.add_argument("--csv", type=Path, default=None, help="CSV output path (default: html/compare/<machine>-<commit>.csv)")
    p.add_argument("--loss", type=_args.losses, action="append", help="only these losses (repeatable or comma-separated)")
    p.add_argument("--framework", type=_args.frameworks, action="append", help="only these frameworks")
    p.add_argument("--dtype", type=_args.dtypes, action="append", help="only these dtypes")
    p.add_argument("--device", type=_args.devices, action="append", help="only these devices")
    p.add_argument("--shape", action="append", help="only these shapes, e.g. 128 or 256x8 (repeatable)")
    p.add_argument("--mode", type=_args.modes, action="append", help="only these modes")


def run(ns) -> int:
    from matloss import compare, paths

    results_dir = ns.results_dir or paths.results()
    try:
        if ns.result is not None and Path(ns.result).is_file():
            path = Path(ns.result)
        else:
            path = compare.find(results_dir, ns.machine, ns.result)
        rs = compare.load(path, results_dir if Path(results_dir).is_dir() else None)
    except (LookupError, ValueError, OSError) as exc:
        raise _args.UsageError(str(exc)) from None
    filters = {k: _args.flatten(getattr(ns, k)) for k in ("loss", "framework", "dtype", "device", "mode") if getattr(ns, k)}
    if ns.shape:
        filters["shape"] = ns.shape
    rows = compare.table(rs, filters)
    if not rows:
        raise _args.UsageError(f"no forward/backward times in {path} match the filters")
    print(compare.markdown(rows, rs))
    out = compare.write_csv(rows, ns.csv or paths.html() / "compare" / f"{rs.machine}-{rs.commit[:8] or path.stem}.csv")
    print(f"read {path}\nwrote {out} ({len(rows)} rows)")
    return 0
