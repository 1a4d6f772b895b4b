"""Error of every framework's value and gradient against the exact truth, versus κ (the accuracy sweep).

Writes the full table ``<out>.csv`` and the per-cell summary ``<out>_summary.csv``; a filtered run
(``--loss``, ``--framework``, ...) replaces only the rows and cells it recomputed.
"""

from __future__ import annotations

from pathlib import Path

from . import _args

HELP = "error of value and gradient against the exact truth, versus κ (the accuracy sweep)"
ORDER = 11


def add_arguments(p) -> None:
    p.add_argument("--quick", action="store_true",
                   help="the small grid (the PR gate's): n = 8, eager, 4 (float64) / 3 (float32) κ, 2 seeds")
    p.add_argument("--loss", type=_args.losses, action="append", help="only these losses (repeatable or comma-separated)")
    p.add_argument("--framework", type=_args.frameworks, action="append", help="only these frameworks")
    p.add_argument("--dtype", type=_args.dtypes, action="append", help="only these dtypes")
    p.add_argument("--mode", type=_args.modes, action="append", help="only these modes (eager, compiled)")
    p.add_argument("--device", type=_args.devices, action="append", help="devices (default cpu)")
    p.add_argument("-n", "--size", type=_args.sizes, action="append", help="only these sizes")
    p.add_argument("--seeds", type=_args.positive_int, help="seeds per κ (default 4, quick 2)")
    p.add_argument("--jobs", "-j", type=_args.positive_int, default=None,
                   help="worker processes of the embedded dask cluster (default: one per core)")
    p.add_argument("--scheduler", default=None, metavar="ADDRESS",
                   help="run on an existing dask cluster (e.g. tcp://10.0.0.5:8786) instead of an embedded one")
    p.add_argument("--cache-dir", default=None,
                   help="exact-result cache for every worker (default $MATLOSS_CACHE_DIR, else ~/.cache/matloss/exact on each machine)")
    p.add_argument("--out", type=Path, default=None,
                   help="output stem (default results/accuracy/sweep, with --quick results/accuracy/quick)")
    p.add_argument("--summary", action="store_true", help="print the per-cell summary of the finished sweep at --out and exit")
    p.add_argument("--plots", action="store_true", help="also draw the error-versus-κ pages into html/accuracy/")


def run(ns) -> int:
    import sys

    import pandas as pd

    from matloss import accuracy, paths

    out = ns.out or paths.accuracy_out(ns.quick)
    if ns.summary:
        path = accuracy.summary_path(out)
        if not path.exists():
            raise _args.UsageError(f"no summary at {path}: run `matloss accuracy` first")
        accuracy.print_summary(pd.read_csv(path))
        print(f"summary: {path}")
        return 0
    over = {}
    for key, attr in [("loss", "losses"), ("framework", "frameworks"), ("dtype", "dtypes"), ("mode", "modes"),
                      ("device", "devices"), ("size", "sizes")]:  # fmt: skip
        vals = _args.flatten(getattr(ns, key))
        if vals:
            over[attr] = tuple(vals)
    if ns.seeds:
        over["seeds"] = ns.seeds
    try:
        grid = (accuracy.Grid.quick if ns.quick else accuracy.Grid.default)(**over)
    except ValueError as exc:
        raise _args.UsageError(str(exc)) from None
    print(f"accuracy sweep: {grid.n_cases()} cases in {len(grid.tasks())} tasks -> {out}.csv", file=sys.stderr)
    table = accuracy.sweep(grid, out, jobs=ns.jobs, scheduler=ns.scheduler, cache_dir=ns.cache_dir)
    accuracy.print_summary(accuracy.summarize(table))
    print(f"\n{len(table)} cases; table: {out.with_suffix('.csv')}; summary: {accuracy.summary_path(out)}")
    if ns.plots:
        from matloss.report import accuracy_pages

        index = accuracy_pages(accuracy.load(out))
        print(f"accuracy pages: {index}")
    return 0
