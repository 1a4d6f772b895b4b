"""Accuracy pages: error-versus-κ plots (PNG, matplotlib) and an HTML index beside the asv dashboard.

One figure per loss family member pair: a ``_naive`` loss is drawn on the same figure as its
stable sibling, so the gap between them is plain to see. Each figure has two panels (value error,
gradient error), one line per (framework, dtype) — the median over seeds, sizes and modes per κ
decade — the ``u·κ`` guide line for each dtype, and a cross where a framework returned NaN/inf,
an all-zero gradient or raised.
"""

from __future__ import annotations

import html
import math
from pathlib import Path

import numpy as np
import pandas as pd

from matloss_ref import get_loss, list_losses

from . import paths

STYLES = {"numpy": "tab:blue", "torch": "tab:red", "jax": "tab:green", "tensorflow": "tab:orange"}
DASH = {"float64": "-", "float32": "--"}


def figure_groups() -> list[list[str]]:
    """Losses grouped so that a naive loss shares the figure of its stable sibling."""
    groups: dict[str, list[str]] = {}
    for name in list_losses():
        root = get_loss(name).reference.name
        groups.setdefault(root, []).append(name)
    return [sorted(g, key=lambda n: get_loss(n).naive_of is not None) for g in groups.values()]


def _plot(table: pd.DataFrame, losses: list[str], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(12, 4.6), sharex=True)
    sub = table[table["loss"].isin(losses)]
    kmin, kmax = max(sub["kappa_true"].replace(np.inf, np.nan).min(), 1.0), sub["kappa_true"].replace(np.inf, np.nan).max()
    for ax, metric, title in ((axes[0], "value_error", "value"), (axes[1], "grad_error", "gradient")):
        for loss in losses:
            marker = "o" if get_loss(loss).naive_of is None else "s"
            part = sub[sub["loss"] == loss]
            for (fw, dtype), g in part.groupby(["framework", "dtype"]):
                ok = g[(g["status"] == "ok") & np.isfinite(g[metric])]
                if metric == "grad_error":
                    ok = ok[ok["grad_well_posed"].astype(bool)]
                med = ok.groupby("kappa_decade").agg(k=("kappa_true", "median"), e=(metric, "median"))
                med = med[med["e"] > 0]
                label = f"{loss} · {fw} · {dtype}"
                if len(med):
                    ax.plot(med["k"], med["e"], DASH.get(dtype, "-"), marker=marker, ms=3, lw=1.2,
                            color=STYLES.get(fw, "k"), alpha=0.9 if get_loss(loss).naive_of is None else 0.55, label=label)
                bad = g[(g["status"] != "ok") & (g["status"] != "unsupported")]
                if metric == "grad_error":
                    bad = bad[bad["grad_defined"].astype(bool)]
                if len(bad):
                    ax.scatter(bad["kappa_true"].clip(upper=kmax), np.full(len(bad), 1.0), marker="x", s=30,
                               color=STYLES.get(fw, "k"), label=f"{label}: NaN/inf/raised ({len(bad)})")
        for dtype, u in (("float64", 2.0**-53), ("float32", 2.0**-24)):
            if dtype in set(sub["dtype"]):
                top = sub.loc[sub["dtype"] == dtype, "kappa_true"].replace(np.inf, np.nan).max()
                ks = np.logspace(math.log10(kmin), math.log10(max(top, 10)), 50)
                ax.plot(ks, u * ks, ":", color="0.4", lw=1)
                ax.annotate(f"u·κ ({dtype})", (ks[-1], u * ks[-1]), fontsize=7, color="0.35", ha="right", va="bottom")
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("κ (true, of the rounded input)")
        ax.set_ylabel(f"{title} error (median over seeds)")
        ax.set_title(f"{' vs '.join(losses)}: {title}")
        ax.grid(True, which="major", alpha=0.3)
    handles, labels = axes[0].get_legend_handles_labels()
    h2, l2 = axes[1].get_legend_handles_labels()
    seen = dict(zip(labels + l2, handles + h2))
    fig.legend(seen.values(), seen.keys(), loc="lower center", ncol=4, fontsize=6.5, frameon=False)
    fig.tight_layout(rect=(0, 0.04 + 0.018 * math.ceil(len(seen) / 4), 1, 1))
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=90)
    plt.close(fig)


def accuracy_pages(table: pd.DataFrame, out_dir: Path | None = None, summary: pd.DataFrame | None = None) -> Path:
    """Draw every figure and write ``out_dir/index.html``; return the index path."""
    from .accuracy import summarize

    out_dir = Path(out_dir) if out_dir is not None else paths.html() / "accuracy"
    out_dir.mkdir(parents=True, exist_ok=True)
    summary = summarize(table) if summary is None else summary
    sections = []
    for losses in figure_groups():
        if not table["loss"].isin(losses).any():
            continue
        png = f"{'__'.join(losses)}.png"
        _plot(table, losses, out_dir / png)
        rows = summary[summary["loss"].isin(losses)]
        cols = ["loss", "framework", "dtype", "mode", "n", "svd_mode", "median_R_value", "max_R_value",
                "slope_value", "expected_slope_value", "max_R_grad", "n_nan", "n_inf", "n_zero_grad", "n_exception"]
        tbl = rows[cols].to_html(index=False, float_format=lambda v: f"{v:.3g}", border=0, classes="summary")
        sections.append(
            f'<section id="{html.escape(losses[0])}"><h2>{html.escape(" / ".join(losses))}</h2>'
            f'<img src="{html.escape(png)}" alt="error versus condition number for {html.escape(", ".join(losses))}">'
            f"<details><summary>per-cell summary</summary>{tbl}</details></section>"
        )
    toc = " · ".join(f'<a href="#{html.escape(g[0])}">{html.escape(" / ".join(g))}</a>' for g in figure_groups()
                     if table["loss"].isin(g).any())
    meta = f"{len(table)} cases; frameworks: {', '.join(sorted(table['framework'].unique()))}"
    page = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>matloss accuracy</title><link rel="icon" href="data:,">
<style>body{{font-family:system-ui,sans-serif;margin:2em;max-width:1300px}} img{{max-width:100%}}
table.summary{{font-size:12px;border-collapse:collapse}} table.summary td,table.summary th{{padding:2px 6px;text-align:right}}
nav a{{white-space:nowrap}}</style></head>
<body><h1>matloss: error versus condition number</h1>
<p>Median error over seeds per κ decade against the exact truth; dotted lines are u·κ. Crosses at the top
mark NaN / inf / all-zero gradients / exceptions where the loss is defined.
Method: docs/accuracy.md in the matloss repository. {html.escape(meta)}.</p>
<p><a href="../index.html">speed dashboard (asv)</a> · <a href="../findings/index.html">findings</a></p>
<nav>{toc}</nav>
{''.join(sections)}
</body></html>
"""
    index = out_dir / "index.html"
    index.write_text(page)
    return index
