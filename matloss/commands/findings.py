"""Run the structured cases (singular, rank-deficient, tied σ₁, zero, tiny, huge, non-PD, ...) through
every framework and compare with the exact truth. Rows are merged into the findings table (a
filtered run replaces only the rows it recomputed); the findings — one per framework, loss, kind of
input, what went wrong and mode — are printed with their class and upstream report. Exit status 1
when a defect has no committed reproducer yet (``--write-repro`` records them), else 0: the other
classes (silent-nan, ieee, undefined) are listed, never failing."""

from __future__ import annotations

import sys
from pathlib import Path

from . import _args

HELP = "run the structured cases through every framework; print the findings, save the rows"
ORDER = 10


def add_arguments(p) -> None:
    from matloss.findings import CASES

    p.add_argument("--framework", type=_args.frameworks, action="append", help="only these frameworks (repeatable or comma-separated)")
    p.add_argument("--loss", type=_args.losses, action="append", help="only these losses")
    p.add_argument("--case", type=_args.one_of("case", lambda: CASES), action="append", help="only these cases")
    p.add_argument("--dtype", type=_args.dtypes, action="append", help="default: both")
    p.add_argument("-n", type=_args.sizes, action="append", help="matrix sizes (default 2, 3, 4, 8)")
    p.add_argument("--mode", type=_args.modes, action="append", help="default: eager and compiled")
    p.add_argument("--device", type=_args.devices, action="append", help="default: every device a framework has here")
    p.add_argument("--quick", action="store_true", help="n = 4, eager only (what ./dev run does)")
    p.add_argument("--rows", action="store_true", help="also print the rows behind the findings")
    p.add_argument("--all", action="store_true", help="print every row, passing ones included")
    p.add_argument("--write-repro", action="store_true", help="(re)write a standalone reproducer per defect (results/findings/repro/)")
    p.add_argument("--page", action="store_true", help="also write the findings page (html/findings/index.html)")
    p.add_argument("--out", type=Path, default=None, help="CSV path (default results/findings/findings.csv in the repository)")


def run(ns) -> int:
    import pandas as pd

    from matloss import findings, paths
    from matloss.findings import grouping as group
    from matloss.findings import page, repro

    out = ns.out or paths.findings_csv()
    if out.is_dir():
        raise _args.UsageError(f"--out {out} is a directory; give a file name")
    sizes = _args.flatten(ns.n) or ((4,) if ns.quick else findings.rows.SIZES)
    modes = _args.flatten(ns.mode) or (("eager",) if ns.quick else findings.rows.MODES)
    df = findings.run(_args.flatten(ns.framework), _args.flatten(ns.loss), _args.flatten(ns.case),
                      _args.flatten(ns.dtype) or findings.rows.DTYPES, sizes, modes, _args.flatten(ns.device),
                      progress=lambda s: print(f"findings: {s}", file=sys.stderr, flush=True))  # fmt: skip
    merged = findings.save(df, out)
    found = group.group(df)
    repro_dir = out.parent / "repro"
    if ns.write_repro:
        written = repro.write(group.group(merged), merged, repro_dir)
        print(f"reproducers: {len(written)} in {repro_dir}")
    if ns.rows or ns.all:
        shown = df if ns.all else df[df["class"].fillna("") != ""]
        cols = ["framework", "device", "loss", "case", "dtype", "n", "mode", "verdict", "class", "returned", "detail"]
        with pd.option_context("display.max_rows", None, "display.max_colwidth", 80, "display.width", 250):
            print(shown[cols].to_string(index=False), "\n")
    listed = found if ns.all else found[found["class"] != "undefined"]  # where no gradient exists: counted, not listed
    print(group.markdown(listed, repro_dir))
    counts = df["verdict"].value_counts().to_dict()
    classes = found["class"].value_counts().to_dict()
    print(f"{len(df)} rows ({', '.join(f'{v} {k}' for k, v in sorted(counts.items()))}); {len(found)} findings "
          f"({', '.join(f'{classes.get(c, 0)} {c}' for c in group.CLASSES)})")  # fmt: skip
    print(f"findings table: {out} ({len(merged)} rows, {len(merged) - len(df)} kept from earlier runs)")
    if ns.page:
        print(f"findings page: {page.write(group.group(merged), repro_dir=repro_dir)}")
    unrecorded = [f for f in found.to_dict("records") if f["class"] == "defect" and not (repro_dir / f"{f['id']}.py").exists()]
    if unrecorded:
        print(f"{len(unrecorded)} defect(s) without a committed reproducer (record them with --write-repro): "
              + ", ".join(f["id"] for f in unrecorded), file=sys.stderr)  # fmt: skip
        return 1
    return 0
