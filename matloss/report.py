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


def _axis_rows(sub: pd.DataFrame, axis: str) -> pd.DataFrame:
    return sub[sub["axis"] == axis]


def _series(part: pd.DataFrame, metric: str, axis: str) -> pd.DataFrame:
    """Median error per κ decade (κ axis) or per log10 |det| (scale axis), over seeds."""
    ok = part[(part["status"] == "ok") & np.isfinite(part[metric])]
    if metric == "grad_error":
        ok = ok[ok["grad_well_posed"].astype(bool)]
    if axis == "kappa":
        med = ok.groupby("kappa_decade").agg(x=("kappa_true", "median"), e=(metric, "median"))
    else:
        med = ok.groupby("log10_det").agg(x=("log10_det", "first"), e=(metric, "median"))
    return med[med["e"] > 0]


def _plot(table: pd.DataFrame, losses: list[str], path: Path) -> None:
    """κ panels (value, gradient), and scale panels below them where the losses have the scale axis.

    A line per (loss, sampler variant, framework, dtype); crosses at the top where a framework returned
    NaN / inf / an all-zero gradient or raised where the loss is defined (NaN or inf at a scale is
    where a naive form leaves its stable sibling)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from .accuracy import with_defaults

    sub = with_defaults(table[table["loss"].isin(losses)])
    axes_present = [a for a in ("kappa", "scale") if len(_axis_rows(sub, a))]
    fig, axes = plt.subplots(len(axes_present), 2, figsize=(12, 4.6 * len(axes_present)), squeeze=False)
    kap = _axis_rows(sub, "kappa")["kappa_true"].replace(np.inf, np.nan)
    kmin, kmax = (max(kap.min(), 1.0), kap.max()) if kap.notna().any() else (1.0, 10.0)
    for row_axes, axis in zip(axes, axes_present):
        rows = _axis_rows(sub, axis)
        for ax, metric, title in ((row_axes[0], "value_error", "value"), (row_axes[1], "grad_error", "gradient")):
            for (loss, variant), part in rows.groupby(["loss", "variant"]):
                naive = get_loss(loss).naive_of is not None
                name = loss if variant == "default" else f"{loss}[{variant}]"
                for (fw, dtype), g in part.groupby(["framework", "dtype"]):
                    med = _series(g, metric, axis)
                    label = f"{name} · {fw} · {dtype}"
                    if len(med):
                        ax.plot(med["x"], med["e"], DASH.get(dtype, "-"), marker="s" if naive else "o", ms=3, lw=1.2,
                                color=STYLES.get(fw, "k"), alpha=0.55 if naive else 0.9, label=label)  # fmt: skip
                    bad = g[~g["status"].isin(["ok", "unsupported", "unrepresentable"])]
                    if metric == "grad_error":
                        bad = bad[bad["grad_defined"].astype(bool)]
                    if len(bad):
                        xs = bad["kappa_true"].clip(upper=kmax) if axis == "kappa" else bad["log10_det"]
                        ax.scatter(xs, np.full(len(bad), 1.0), marker="x", s=30, color=STYLES.get(fw, "k"),
                                   label=f"{label}: NaN/inf/raised ({len(bad)})")  # fmt: skip
            if axis == "kappa":
                for dtype, u in (("float64", 2.0**-53), ("float32", 2.0**-24)):
                    if dtype in set(rows["dtype"]):
                        top = rows.loc[rows["dtype"] == dtype, "kappa_true"].replace(np.inf, np.nan).max()
                        ks = np.logspace(math.log10(kmin), math.log10(max(top, 10)), 50)
                        ax.plot(ks, u * ks, ":", color="0.4", lw=1)
                        ax.annotate(f"u·κ ({dtype})", (ks[-1], u * ks[-1]), fontsize=7, color="0.35", ha="right", va="bottom")
                ax.set_xscale("log")
                ax.set_xlabel("κ (true, of the rounded input)")
            else:
                for dtype, edge in (("float64", 308), ("float32", 38)):
                    if dtype in set(rows["dtype"]):
                        for x in (-edge, edge):
                            ax.axvline(x, ls=":", color="0.5", lw=1)
                        ax.annotate(f"det leaves {dtype}", (edge, 1e-2), fontsize=7, color="0.35", rotation=90, va="top")
                ax.set_xlabel("log10 |det| of the governing matrix (inputs scaled by a power of two, κ = 100)")
            ax.set_yscale("log")
            ax.set_ylabel(f"{title} error (median over seeds)")
            ax.set_title(f"{' vs '.join(losses)}: {title}, {'κ' if axis == 'kappa' else 'scale'} axis")
            ax.grid(True, which="major", alpha=0.3)
    seen = {}
    for ax in axes.ravel():
        for h, lab in zip(*ax.get_legend_handles_labels()):
            seen.setdefault(lab, h)
    fig.legend(seen.values(), seen.keys(), loc="lower center", ncol=4, fontsize=6.5, frameon=False)
    fig.tight_layout(rect=(0, (0.04 + 0.018 * math.ceil(len(seen) / 4)) / len(axes_present), 1, 1))
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
        cols = ["loss", "framework", "dtype", "mode", "n", "svd_mode", "variant", "axis", "median_R_value", "max_R_value",
                "slope_value", "expected_slope_value", "max_R_grad", "slope_grad", "expected_slope_grad", "first_bad_log10_det",
                "n_nan", "n_inf", "n_zero_grad", "n_exception"]  # fmt: skip
        tbl = rows[[c for c in cols if c in rows]].to_html(index=False, float_format=lambda v: f"{v:.3g}", border=0, classes="summary")
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
<p>Median error over seeds against the exact truth: per κ decade (dotted lines are u·κ), and for the
determinants and Gaussian NLLs along the scale axis, log10 |det| from far below to far above the dtype's range
(dotted lines: where det itself leaves it). Crosses at the top mark NaN / inf / all-zero gradients / exceptions
where the loss is defined: on the scale panels, where a naive form leaves its stable sibling.
Method: docs/accuracy.md in the matloss repository. {html.escape(meta)}.</p>
<p><a href="../index.html">speed dashboard (asv)</a> · <a href="../findings/index.html">findings</a> ·
<a href="../recommend/index.html">which framework to use</a></p>
<nav>{toc}</nav>
{''.join(sections)}
</body></html>
"""
    index = out_dir / "index.html"
    index.write_text(page)
    return index
