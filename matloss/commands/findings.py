"""Run the structured cases (singular, rank-deficient, tied σ₁, zero, tiny, huge, non-PD, ...) through
every framework, compare with the exact truth, print the failing and undefined rows and merge them
into the findings table (a filtered run replaces only the rows it recomputed)."""

from __future__ import annotations

import sys
from pathlib import Path

from . import _args

HELP = "run the structured cases through every framework; print and save the verdicts"
ORDER = 10


def add_arguments(p) -> None:
    from matloss.findings import CASES

    p.add_argument("--framework", type=_args.frameworks, action="append", help="only these frameworks (repeatable or comma-separated)")
    p.add_argument("--loss", type=_args.losses, action="append", help="only these losses")
    p.add_argument("--case", type=_args.one_of("case", lambda: CASES), action="append", help="only these cases")
    p.add_argument("--dtype", type=_args.dtypes, action="append", help="default: both")
    p.add_argument("-n", type=_args.sizes, action="append", help="matrix sizes (repeatable; default 4)")
    p.add_argument("--compiled", action="store_true", help="also run the compiled mode")
    p.add_argument("--all", action="store_true", help="print every row, not only failures and undefined cases")
    p.add_argument("--out", type=Path, default=None, help="CSV path (default results/findings/findings.csv in the repository)")


def run(ns) -> int:
    import pandas as pd

    from matloss import findings, paths

    out = ns.out or paths.findings_csv()
    if out.is_dir():
        raise _args.UsageError(f"--out {out} is a directory; give a file name")
    df = findings.run(
        _args.flatten(ns.framework), _args.flatten(ns.loss), _args.flatten(ns.case),
        _args.flatten(ns.dtype) or ("float64", "float32"), _args.flatten(ns.n) or (4,),
        ("eager", "compiled") if ns.compiled else ("eager",),
        progress=lambda s: print(s, file=sys.stderr),
    )  # fmt: skip
    merged = findings.save(df, out)
    shown = df if ns.all else df[df["verdict"].isin(["fail", "undefined"])]
    cols = ["framework", "loss", "case", "dtype", "verdict", "returned", "detail"]
    with pd.option_context("display.max_rows", None, "display.max_colwidth", 90, "display.width", 250):
        print(shown[cols].to_string(index=False))
    counts = df["verdict"].value_counts().to_dict()
    print(f"\n{len(df)} rows: " + ", ".join(f"{v} {k}" for k, v in sorted(counts.items())))
    print(f"findings table: {out} ({len(merged)} rows, {len(merged) - len(df)} kept from earlier runs)")
    return 0
