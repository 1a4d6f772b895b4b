#!/usr/bin/env python
"""Where an asv run's time goes outside the timed calls: the per-case setup (inputs, compile, warm-up).

    MATLOSS_SETUP_LOG=/tmp/setup.jsonl .venv/bin/matloss bench --quick HEAD
    .venv/bin/python experiments/setup_costs.py /tmp/setup.jsonl [--by framework,mode,backward]

``matloss.cases.prepared`` appends one JSON line per case it builds when ``MATLOSS_SETUP_LOG`` is
set (asv passes the environment on to its benchmark processes). This prints, per group, how many
cases were built or skipped and the total and median seconds their setup took, largest total
first, as a markdown table.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import pandas as pd

FIELDS = ["loss", "framework", "device", "dtype", "shape", "mode"]


def load(path: Path) -> pd.DataFrame:
    rows = []
    for i, line in enumerate(path.read_text().splitlines(), 1):
        if not line.strip():
            continue
        try:
            d = json.loads(line)
            rows.append({**dict(zip(FIELDS, d["case"])), "backward": d["backward"], "seconds": d["seconds"], "status": d["status"]})
        except (ValueError, KeyError, TypeError) as exc:
            raise SystemExit(f"setup_costs: {path}:{i} is not a setup-log line ({exc})") from None
    if not rows:
        raise SystemExit(f"setup_costs: {path} has no setup-log lines")
    return pd.DataFrame(rows)


def table(df: pd.DataFrame, by: list[str]) -> pd.DataFrame:
    g = df.groupby(by)
    out = pd.DataFrame({
        "built": g["status"].apply(lambda s: int((s == "ok").sum())),
        "skipped": g["status"].apply(lambda s: int((s == "skip").sum())),
        "total_s": g["seconds"].sum().round(1),
        "median_s": g["seconds"].median().round(3),
    })  # fmt: skip
    return out.sort_values("total_s", ascending=False)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("log", type=Path, help="the MATLOSS_SETUP_LOG file of a run")
    ap.add_argument("--by", default="framework,mode,backward", help=f"comma-separated grouping columns from {FIELDS + ['backward']}")
    ns = ap.parse_args(argv)
    by = [c.strip() for c in ns.by.split(",") if c.strip()]
    bad = [c for c in by if c not in FIELDS + ["backward"]]
    if not by or bad:
        ap.error(f"--by: unknown column(s) {bad}; choose from {FIELDS + ['backward']}")
    if not ns.log.is_file():
        ap.error(f"log: {ns.log} does not exist")
    df = load(ns.log)
    print(table(df, by).reset_index().to_markdown(index=False))
    print(f"\n{len(df)} cases, setup total {df['seconds'].sum() / 60:.1f} min")
    return 0


if __name__ == "__main__":
    sys.exit(main())
