"""``matloss recommend``: per loss, device, dtype and size, which framework and mode to use.

The answer is the fastest forward + backward pass (from a committed asv result set of this
machine) among the framework/mode pairs whose accuracy holds (from the committed sweep summary):
max R ≤ 30 for the value and the gradient in every cell of that (loss, framework, dtype, mode) —
every size, singular-value mode, sampler variant, over the whole κ range and the whole scale
range — and no NaN, inf, zero gradient or exception where the loss is defined. Every other pair is
listed with the reason it lost: slower by a factor, R above 30 from some κ on, a failure at some
scale, or no accuracy data. Nothing is hard-coded: both inputs are read from ``results/``.
"""

from __future__ import annotations

import html
import math
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from . import compare, paths
from .accuracy import summary_path

R_MAX = 30.0
KEY = ("loss", "device", "dtype", "shape")


@dataclass
class Candidate:
    framework: str
    mode: str
    seconds: float
    excluded: str  # "" when the accuracy holds


def accuracy_summary_path() -> Path:
    """The default sweep's summary if there is one, else the quick grid's."""
    full = summary_path(paths.accuracy_out(quick=False))
    return full if full.exists() else summary_path(paths.accuracy_out(quick=True))


def _fmt_kappa(k: float) -> str:
    return f"1e{int(round(math.log10(k)))}" if k >= 10 else f"{k:g}"


def accuracy_verdicts(summary: pd.DataFrame) -> dict[tuple[str, str, str, str], str]:
    """{(loss, framework, dtype, mode): "" if the accuracy holds, else why not}."""
    s = summary.copy()
    for col, default in (("axis", "kappa"), ("variant", "default")):
        if col not in s:
            s[col] = default
    out = {}
    for (loss, fw, dtype, mode), g in s.groupby(["loss", "framework", "dtype", "mode"]):
        reasons = []
        kap = g[g["axis"] == "kappa"]
        if "first_bad_kappa" in kap and kap["first_bad_kappa"].notna().any():
            worst = kap.loc[kap["first_bad_kappa"].idxmin()]
            reasons.append(f"R above 30 or a failure from κ = {_fmt_kappa(worst['first_bad_kappa'])} on "
                           f"(n = {int(worst['n'])}{'' if worst['variant'] == 'default' else ', ' + worst['variant']})")  # fmt: skip
        elif ((kap["max_R_value"] > R_MAX) | (kap["max_R_grad"] > R_MAX)).any():
            reasons.append(f"max R {max(kap['max_R_value'].max(), kap['max_R_grad'].max()):.3g} > 30 on the κ axis")
        sca = g[g["axis"] == "scale"]
        if "first_bad_log10_det" in sca and sca["first_bad_log10_det"].notna().any():
            d = sca["first_bad_log10_det"].dropna()
            near = float(d.iloc[int(d.abs().to_numpy().argmin())])
            reasons.append(f"NaN / inf / R > 30 at scale log10|det| = {near:g}")
        fails = g[["n_nan", "n_inf", "n_zero_grad", "n_exception"]].sum()
        if fails.sum() and not reasons:
            reasons.append(", ".join(f"{int(v)} {k.removeprefix('n_')}" for k, v in fails.items() if v))
        out[(loss, fw, dtype, mode)] = "; ".join(reasons)
    return out


def recommend(rs: compare.ResultSet, summary: pd.DataFrame, filters: dict | None = None) -> list[dict]:
    """One row per (loss, device, dtype, shape): the recommendation and the runners-up."""
    verdicts = accuracy_verdicts(summary)
    groups: dict[tuple, list[Candidate]] = {}
    for row in compare.table(rs, filters):
        t = row["backward_s"]
        if isinstance(t, float) and math.isnan(t):
            continue
        why = verdicts.get((row["loss"], row["framework"], row["dtype"], row["mode"]))
        groups.setdefault(tuple(row[k] for k in KEY), []).append(
            Candidate(row["framework"], row["mode"], t, "no accuracy data" if why is None else why))
    out = []
    for key, cands in groups.items():
        good = sorted((c for c in cands if not c.excluded), key=lambda c: c.seconds)
        best = good[0] if good else None
        others = []
        for c in sorted(cands, key=lambda c: c.seconds):
            if c is best:
                continue
            reason = c.excluded or f"slower by {c.seconds / best.seconds:.2f}×"
            others.append({"framework": c.framework, "mode": c.mode, "seconds": c.seconds, "why": reason})
        out.append({**dict(zip(KEY, key)), "framework": best.framework if best else "", "mode": best.mode if best else "",
                    "seconds": best.seconds if best else math.nan, "runners_up": others})  # fmt: skip
    return out


def markdown(recs: list[dict], rs: compare.ResultSet, summary_file: Path) -> str:
    lines = [f"### Which framework to use: {rs.machine}, speed of commit {rs.commit[:8]}, accuracy from {summary_file.name}", "",
             "Fastest forward + backward pass among the framework/mode pairs whose max R ≤ 30 over every κ and scale "
             "(and no NaN / inf / raise where the loss is defined).", "",
             "| loss | device | dtype | shape | use | fwd+bwd | runners-up (why not) |", "|---|---|---|---|---|---:|---|"]  # fmt: skip
    for r in recs:
        use = f"{r['framework']} {r['mode']}" if r["framework"] else "none qualifies"
        others = "; ".join(f"{o['framework']} {o['mode']}: {o['why']}" for o in r["runners_up"])
        lines.append(f"| {r['loss']} | {r['device']} | {r['dtype']} | {r['shape']} | {use} | "
                     f"{compare.fmt_time(r['seconds'])} | {others} |")  # fmt: skip
    return "\n".join(lines) + "\n"


def page(recs: list[dict], rs: compare.ResultSet, summary_file: Path, out_dir: Path | None = None) -> Path:
    """``html/recommend/index.html``, beside the accuracy pages."""
    out = Path(out_dir) if out_dir is not None else paths.html() / "recommend"
    out.mkdir(parents=True, exist_ok=True)
    rows = []
    for r in recs:
        use = f"{r['framework']} {r['mode']}" if r["framework"] else "none qualifies"
        others = "<br>".join(f"{html.escape(o['framework'])} {html.escape(o['mode'])}: {html.escape(o['why'])}" for o in r["runners_up"])
        rows.append(f"<tr><td>{html.escape(r['loss'])}</td><td>{html.escape(r['device'])}</td><td>{html.escape(r['dtype'])}</td>"
                    f"<td>{html.escape(r['shape'])}</td><td class='use'>{html.escape(use)}</td>"
                    f"<td>{html.escape(compare.fmt_time(r['seconds']))}</td><td>{others}</td></tr>")  # fmt: skip
    text = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>matloss: which framework to use</title><link rel="icon" href="data:,">
<style>body{{font-family:system-ui,sans-serif;margin:2em;max-width:1400px}} table{{border-collapse:collapse;font-size:13px}}
td,th{{padding:3px 7px;border-bottom:1px solid #ddd;text-align:left;vertical-align:top}} td.use{{font-weight:bold}}</style></head>
<body><h1>matloss: which framework to use</h1>
<p>Per loss, device, dtype and size: the fastest forward + backward pass among the framework/mode pairs whose error
stays within R ≤ 30 over the whole κ and scale range of the accuracy sweep (and that return no NaN / inf and do not
raise where the loss is defined), next to the others and why each lost. Speed: {html.escape(rs.machine)}, commit
{html.escape(rs.commit[:8])}; accuracy: {html.escape(summary_file.name)} (every size of the sweep).</p>
<p><a href="../index.html">speed dashboard (asv)</a> · <a href="../accuracy/index.html">accuracy pages</a> ·
<a href="../findings/index.html">findings</a></p>
<table id="recommend"><thead><tr><th>loss</th><th>device</th><th>dtype</th><th>shape</th><th>use</th><th>fwd+bwd</th>
<th>runners-up (why not)</th></tr></thead><tbody>{''.join(rows)}</tbody></table></body></html>
"""
    index = out / "index.html"
    index.write_text(text)
    return index
