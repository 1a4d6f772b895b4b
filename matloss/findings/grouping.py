"""From rows to findings: one finding per (framework, loss, kind of input, what went wrong, mode).

A finding lists where it shows — the dtypes, sizes, devices, cases and framework versions of its
rows — its class, and the upstream report it is known as (``results/findings/upstream.csv``, a
curated table) or ``new`` for a defect nobody has reported.
"""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd

from .. import paths, tables

FINDING = ["framework", "loss", "kind", "what", "mode"]
CLASSES = ("defect", "silent-nan", "ieee", "undefined")
UPSTREAM_COLUMNS = ["framework", "loss", "kind", "what", "url", "status", "checked_version", "note"]


def upstream_path() -> Path:
    return paths.results() / "findings" / "upstream.csv"


def finding_id(framework: str, loss: str, kind: str, what: str, mode: str) -> str:
    """A stable name for a finding: also its reproducer's file name."""
    text = f"{framework}-{loss}-{kind}-{what}-{mode}".lower()
    return re.sub(r"[^a-z0-9]+", "-", text.replace("sigma_1", "sigma1")).strip("-")


def _join(values) -> str:
    def order(v):
        return (0, int(v)) if str(v).isdigit() else (1, str(v))

    return ", ".join(sorted({str(v) for v in values if str(v) not in ("", "nan")}, key=order))


def load_upstream(path: Path | None = None) -> pd.DataFrame:
    path = Path(path or upstream_path())
    if not path.exists():
        return pd.DataFrame(columns=UPSTREAM_COLUMNS)
    return tables.read(path).reindex(columns=UPSTREAM_COLUMNS).fillna("")


def _match(up: pd.DataFrame, f: dict) -> dict | None:
    """The curated entry of a finding: equal framework, loss, kind and what (``*`` matches anything)."""
    for rec in up.to_dict("records"):
        if all(str(rec[k]) in ("*", str(f[k])) for k in ("framework", "loss", "kind", "what")):
            return rec
    return None


def group(rows: pd.DataFrame, upstream: pd.DataFrame | None = None) -> pd.DataFrame:
    """The findings of ``rows`` (only rows with a class), most severe first."""
    up = load_upstream() if upstream is None else upstream
    found = rows[rows["class"].fillna("").astype(str) != ""]
    out = []
    for key, g in found.groupby(FINDING, sort=False, dropna=False):
        f = dict(zip(FINDING, key))
        classes = set(g["class"])
        cls = next(c for c in CLASSES if c in classes)
        rec = _match(up, f)
        out.append({
            "id": finding_id(*key), "class": cls, **f,
            "dtypes": _join(g["dtype"]), "sizes": _join(g["n"]), "devices": _join(g["device"]),
            "cases": _join(g["case"]), "versions": _join(g["version"]), "rows": len(g),
            "example": str(g["detail"].iloc[0]),
            "upstream": rec["url"] if rec else ("new" if cls == "defect" else ""),
            "upstream_status": rec["status"] if rec else "",
        })  # fmt: skip
    df = pd.DataFrame(out)
    if df.empty:
        return pd.DataFrame(columns=["id", "class", *FINDING, "dtypes", "sizes", "devices", "cases", "versions", "rows",
                                     "example", "upstream", "upstream_status"])  # fmt: skip
    rank = {c: i for i, c in enumerate(CLASSES)}
    return df.sort_values(["class", "framework", "loss", "kind", "mode"], key=lambda s: s.map(rank) if s.name == "class" else s,
                          kind="stable").reset_index(drop=True)  # fmt: skip


def markdown(findings: pd.DataFrame, repro_dir: Path | None = None) -> str:
    """A table of the findings, defects first, with the upstream link (or ``new``) and the reproducer."""
    lines = ["| class | framework | loss | input | what went wrong | mode | dtypes | sizes | devices | upstream | reproducer |",
             "|---|---|---|---|---|---|---|---|---|---|---|"]  # fmt: skip
    for f in findings.to_dict("records"):
        repro = ""
        if repro_dir is not None and (Path(repro_dir) / f"{f['id']}.py").exists():
            repro = f"`{f['id']}.py`"
        lines.append(f"| {f['class']} | {f['framework']} | {f['loss']} | {f['kind']} | {f['what']} | {f['mode']} | {f['dtypes']} "
                     f"| {f['sizes']} | {f['devices']} | {f['upstream'] or '—'} | {repro or '—'} |")  # fmt: skip
    return "\n".join(lines) + "\n"
