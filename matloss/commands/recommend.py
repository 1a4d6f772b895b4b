"""Which framework and mode to use, per loss, device, dtype and size: the fastest forward + backward
pass among those whose error stays within R ≤ 30 over the whole κ and scale range, next to the
runners-up and why each lost. Reads the committed asv results and accuracy summary."""

from __future__ import annotations

from pathlib import Path

from . import _args

HELP = "which framework and mode to use per loss, device, dtype and size (speed results + accuracy summary)"
ORDER = 31


def add_arguments(p) -> None:
    p.add_argument("result", nargs="?", default=None, help="an asv results file, or a commit; default: the latest run of this machine")
    p.add_argument("--results-dir", type=Path, default=None, help="asv results_dir (default: the repository's results/)")
    p.add_argument("--machine", default=None, help="asv machine name (default: this machine, or the only one)")
    p.add_argument("--summary", type=Path, default=None,
                   help="accuracy summary (default results/accuracy/sweep_summary.csv, else quick_summary.csv)")
    p.add_argument("--loss", type=_args.losses, action="append", help="only these losses")
    p.add_argument("--dtype", type=_args.dtypes, action="append", help="only these dtypes")
    p.add_argument("--device", type=_args.devices, action="append", help="only these devices")
    p.add_argument("--shape", action="append", help="only these shapes, e.g. 128 or 256x8")
    p.add_argument("--page", action="store_true", help="also write html/recommend/index.html")


def run(ns) -> int:
    import pandas as pd

    from matloss import compare, paths, recommend

    results_dir = ns.results_dir or paths.results()
    summary_file = ns.summary or recommend.accuracy_summary_path()
    if not summary_file.exists():
        raise _args.UsageError(f"--summary {summary_file} does not exist: run `matloss accuracy` first")
    try:
        path = Path(ns.result) if ns.result and Path(ns.result).is_file() else compare.find(results_dir, ns.machine, ns.result)
        rs = compare.load(path, results_dir)
    except (LookupError, ValueError, OSError) as exc:
        raise _args.UsageError(str(exc)) from None
    filters = {k: _args.flatten(getattr(ns, k)) for k in ("loss", "dtype", "device") if getattr(ns, k)}
    if ns.shape:
        filters["shape"] = ns.shape
    recs = recommend.recommend(rs, pd.read_csv(summary_file), filters)
    if not recs:
        raise _args.UsageError(f"no forward + backward times in {path} match the filters")
    print(recommend.markdown(recs, rs, summary_file))
    if ns.page:
        print(f"recommendation page: {recommend.page(recs, rs, summary_file)}")
    return 0
