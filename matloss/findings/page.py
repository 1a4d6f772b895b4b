"""The findings page of the published site: ``html/findings/index.html``, beside the dashboard and the accuracy pages.

One row per finding: its class, where it shows, the upstream report (or ``new``) and a link to
its reproducer (the scripts are copied next to the page).
"""

from __future__ import annotations

import html
import shutil
from pathlib import Path

import pandas as pd

from .. import paths
from .grouping import CLASSES

MEANING = {
    "defect": "a wrong value or gradient where both are defined, or an error raised where the math is defined",
    "silent-nan": "an input outside the loss's domain accepted (NaN or a value) instead of an error: a policy",
    "ieee": "the true result, or the products the case builds, leave the dtype's normal range",
    "undefined": "the gradient does not exist (or is not determined in the dtype) there",
}


def _link(url: str) -> str:
    if url.startswith("http"):
        return f'<a href="{html.escape(url)}">{html.escape(url.split("github.com/")[-1])}</a>'
    return html.escape(url) or "—"


def write(findings: pd.DataFrame, out_dir: Path | None = None, repro_dir: Path | None = None) -> Path:
    """Write the page (and copies of the reproducers) into ``out_dir``; return the index path."""
    from .repro import repro_dir as default_repro

    out = Path(out_dir) if out_dir is not None else paths.html() / "findings"
    src = Path(repro_dir) if repro_dir is not None else default_repro()
    (out / "repro").mkdir(parents=True, exist_ok=True)
    counts = findings["class"].value_counts().to_dict() if len(findings) else {}
    rows = []
    for f in findings.to_dict("records"):
        script = src / f"{f['id']}.py"
        repro = "—"
        if script.exists():
            shutil.copyfile(script, out / "repro" / script.name)
            repro = f'<a href="repro/{html.escape(script.name)}">{html.escape(script.name)}</a>'
        where = f"{f['dtypes']} · n = {f['sizes']} · {f['devices']}"
        status = f" ({html.escape(str(f['upstream_status']))})" if f["upstream_status"] and f["upstream"] != "new" else ""
        rows.append(
            f'<tr class="{html.escape(f["class"])}" id="{html.escape(f["id"])}"><td>{html.escape(f["class"])}</td>'
            f"<td>{html.escape(f['framework'])}</td><td>{html.escape(f['loss'])}</td><td>{html.escape(f['kind'])}</td>"
            f"<td>{html.escape(f['what'])}</td><td>{html.escape(f['mode'])}</td><td>{html.escape(where)}</td>"
            f"<td>{html.escape(f['cases'])}</td><td>{html.escape(f['versions'])}</td>"
            f"<td>{_link(str(f['upstream']))}{status}</td>"
            f"<td>{repro}</td></tr>"
        )
    legend = "".join(f"<li><b>{c}</b> ({counts.get(c, 0)}): {html.escape(MEANING[c])}</li>" for c in CLASSES)
    page = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>matloss findings</title><link rel="icon" href="data:,">
<style>body{{font-family:system-ui,sans-serif;margin:2em;max-width:1500px}} table{{border-collapse:collapse;font-size:13px}}
td,th{{padding:3px 7px;border-bottom:1px solid #ddd;text-align:left;vertical-align:top}}
tr.defect td:first-child{{color:#b00;font-weight:bold}}</style>
</head><body><h1>matloss: findings</h1>
<p>Structured inputs (singular, rank-deficient, tied σ₁, zero, badly scaled, non-positive-definite) run through every
framework and compared with the exact truth. One row per finding: a framework, a loss, a kind of input, what went
wrong, a mode; where it shows; the upstream report (<i>new</i>: none found); a standalone reproducer that exits 1 while
the defect reproduces. Only <b>defects</b> fail a run.</p>
<ul>{legend}</ul>
<p><a href="../index.html">speed dashboard (asv)</a> · <a href="../accuracy/index.html">accuracy pages</a></p>
<table id="findings"><thead><tr><th>class</th><th>framework</th><th>loss</th><th>input</th><th>what went wrong</th><th>mode</th>
<th>where</th><th>cases</th><th>versions</th><th>upstream</th><th>reproducer</th></tr></thead>
<tbody>{''.join(rows)}</tbody></table>
</body></html>
"""
    index = out / "index.html"
    index.write_text(page)
    return index
