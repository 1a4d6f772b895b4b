"""``matloss gate accuracy``: a sweep summary against the committed baseline, cell by cell.

The rules (docs/gates.md):

1. ``max R > 30`` (value or gradient) where the loss is defined;
2. median or p90 of E more than 4x the baseline's for the same cell, over the cases that returned
   finite numbers, where ``E = max(R / D, 1)`` and ``D = max(1, (n + κ)^(s − 1))`` is the error the
   catalog derives for the form (slope ``s``) in R's units: an error below it is rounding by design
   (below u·(n + κ) for every stable form), and a factor among such values is luck;
3. on the κ axis, in float64, the fitted slope of the value or of the gradient error more than 0.3
   away from the slope the catalog derives for the loss (``spec.expected_value_slope`` /
   ``expected_grad_slope``); float32's κ range (to 1e6, fitted from κ ≥ 10 n) is too short to fit;
4. NaN, inf, an all-zero gradient or an exception where the loss and gradient are defined.

Cells are (framework, device, dtype, mode, loss, n, svd mode, sampler variant, axis): the scale axis
is judged by rules 1, 2 and 4.

Rules 1, 3 and 4 describe a state: a cell that already broke them in the baseline is a known
*finding* (reported, not failing); breaking them anew is a *regression*. Rule 2 is a regression by
definition. Exit status: 1 on any regression, 0 otherwise; cells missing from either side are listed.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from . import paths
from .accuracy import CELL, summary_path


def baseline_path() -> Path:
    return paths.results() / "accuracy" / "baseline_summary.csv"


def current_path() -> Path:
    """The gate judges the --quick grid (the grid of the committed baseline)."""
    return summary_path(paths.accuracy_out(quick=True))


R_MAX = 30.0
R_FACTOR = 4.0
#: R values below this count as this under rule 2
R_FLOOR = 1.0
SLOPE_TOLERANCE = 0.3


#: rule 4's failures and the summary column counting each
_COUNT_COLS = {"NaN": "n_nan", "inf": "n_inf", "zero gradient": "n_zero_grad", "exception": "n_exception"}


class GridMismatch(ValueError):
    """The baseline and the current summary were not made with the same grid: nothing to compare."""


@dataclass
class Violation:
    cell: dict
    rule: str
    detail: str
    regression: bool

    def cell_name(self) -> str:
        c = self.cell
        extra = "" if c.get("variant", "default") == "default" else f" {c['variant']}"
        axis = "" if c.get("axis", "kappa") == "kappa" else f" ({c['axis']} axis)"
        return f"{c['framework']}/{c['device']}/{c['dtype']}/{c['mode']} {c['loss']} n={c['n']} mode{c['svd_mode']}{extra}{axis}"


def _num(x) -> float:
    try:
        v = float(x)
    except (TypeError, ValueError):
        return math.nan
    return v


def _state_rules(row: pd.Series, cell: dict) -> dict[str, str]:
    """The absolute rules (1, 3, 4) a summary row of ``cell`` breaks: {rule: detail}."""
    out = {}
    for what in ("value", "grad"):
        r = _num(row.get(f"max_R_{what}"))
        if r > R_MAX:
            out[f"max R ({what}) > {R_MAX:g}"] = f"max R = {r:.3g}"
    for what in ("value", "grad") if cell.get("dtype") == "float64" else ():
        slope, expected = _num(row.get(f"slope_{what}")), _num(row.get(f"expected_slope_{what}"))
        if abs(slope - expected) > SLOPE_TOLERANCE:  # False where either is NaN (no fit, no expectation)
            out[f"slope ({what}) not within {SLOPE_TOLERANCE:g} of the expected"] = f"slope {slope:.3g}, expected {expected:g}"
    for col, label in (("n_nan", "NaN"), ("n_inf", "inf"), ("n_zero_grad", "zero gradient"), ("n_exception", "exception")):
        k = _num(row.get(col))
        if k > 0:
            out[f"{label} where defined"] = f"{int(k)} case(s)"
    return out


def compare_accuracy(baseline: pd.DataFrame, current: pd.DataFrame) -> tuple[list[Violation], list[str]]:
    """All violations (regressions and known findings) and notes on unmatched cells."""
    def key(df: pd.DataFrame) -> pd.DataFrame:
        df = df.assign(n=df["n"].astype(int), svd_mode=df["svd_mode"].astype(int))
        for col, default in (("variant", "default"), ("axis", "kappa")):  # summaries written before these columns
            if col not in df:
                df[col] = default
        return df.set_index(CELL)

    base, cur = key(baseline), key(current)
    common = base.index.intersection(cur.index)
    if len(common) and "cases" in base and "cases" in cur:
        differ = [k for k in common if _num(base.loc[k, "cases"]) != _num(cur.loc[k, "cases"])]
        if differ:
            raise GridMismatch(f"{len(differ)} cell(s) hold a different number of cases than the baseline "
                               f"(e.g. {' '.join(map(str, differ[0]))}): the two summaries come from different grids")
    notes = [f"cell not in this run: {' '.join(map(str, k))}" for k in base.index.difference(cur.index)]
    notes += [f"new cell (no baseline): {' '.join(map(str, k))}" for k in cur.index.difference(base.index)]
    out: list[Violation] = []
    for k, row in cur.iterrows():
        cell = dict(zip(CELL, k))
        if k not in base.index:
            continue  # no baseline: nothing to regress from (listed in the notes)
        b = base.loc[k]
        if isinstance(b, pd.DataFrame):
            b = b.iloc[0]
        before = _state_rules(b, cell)
        for rule, detail in _state_rules(row, cell).items():
            regression = rule not in before
            if not regression and rule.endswith("where defined"):
                regression = _num(row[_count_col(rule)]) > _num(b[_count_col(rule)])
                if regression:
                    detail += f" (baseline {int(_num(b[_count_col(rule)]))})"
            out.append(Violation(cell, rule, detail + ("" if regression else " (as in the baseline)"), regression))
        for stat in rule2_stats(b, row):
            now_v, base_v = _num(row.get(stat)), _num(b.get(stat))
            if now_v > R_FACTOR * max(base_v, R_FLOOR):  # False where either is NaN
                out.append(Violation(cell, f"{stat} > {R_FACTOR:g}x baseline", f"{now_v:.3g} vs {base_v:.3g}", True))
    return out, notes


def rule2_stats(base: pd.Series, current: pd.Series) -> tuple[str, ...]:
    """The statistics rule 2 compares: those of E, the error above the form's derived error
    (``matloss.accuracy.derived_excess``), where both summaries have them; R's in summaries written
    before E (floored at 1 here, which is E wherever the derived slope is at most 1)."""
    excess = ("median_E_value", "p90_E_value", "median_E_grad", "p90_E_grad")
    if all(c in base.index and c in current.index for c in excess):
        return excess
    return ("median_R_value", "p90_R_value", "median_R_grad", "p90_R_grad")


def keep_known_findings(new: pd.DataFrame, old: pd.DataFrame) -> tuple[pd.DataFrame, list[str]]:
    """``new`` with, cell by cell, the worse states of ``old`` under the state rules 1 and 4: a max R
    above ``R_MAX`` where ``new``'s is not, and the higher NaN / inf / zero-gradient / exception
    counts. A baseline written on one host keeps the findings another host's baseline had (a naive
    form that overflows to NaN, or rounds to R > 30, on one CPU and not on another). Rule 3's slopes
    and rule 2's statistics are ``new``'s. Returns the merged table and one line per value kept."""
    merged = new.copy()
    keys = [c for c in CELL if c in new and c in old]
    old_by = {tuple(r[keys]): r for _, r in old.iterrows()}
    kept = []
    for i, r in merged.iterrows():
        o = old_by.get(tuple(r[keys]))
        if o is None:
            continue
        for col in ("max_R_value", "max_R_grad", *_COUNT_COLS.values()):
            if col not in o:
                continue
            was, now = _num(o[col]), _num(r[col])
            # max R: only a finding (> R_MAX) the new summary lacks; a count: any higher one
            worse = (was > R_MAX and not now > R_MAX) if col.startswith("max_R") else was > now
            if worse:
                kept.append(f"{' '.join(map(str, r[keys]))}: {col} {now:.3g} -> {was:.3g}")
                merged.loc[i, col] = o[col]
    return merged, kept


def _count_col(rule: str) -> str:
    return _COUNT_COLS[rule.removesuffix(" where defined")]


def markdown(violations: list[Violation], notes: list[str], limit: int = 200) -> str:
    regs = [v for v in violations if v.regression]
    known = [v for v in violations if not v.regression]
    lines = [f"### Accuracy gate: {'FAIL' if regs else 'pass'} — {len(regs)} regression(s), {len(known)} known finding(s)", ""]
    if regs:
        lines += ["| cell | rule | detail |", "|---|---|---|"]
        lines += [f"| {v.cell_name()} | {v.rule} | {v.detail} |" for v in regs[:limit]]
        if len(regs) > limit:
            lines.append(f"| … | {len(regs) - limit} more | |")
        lines.append("")
    if known:
        lines += [f"<details><summary>{len(known)} known finding(s), also in the baseline</summary>", "",
                  "| cell | rule | detail |", "|---|---|---|"]
        lines += [f"| {v.cell_name()} | {v.rule} | {v.detail} |" for v in known[:limit]]
        lines += ["", "</details>", ""]
    if notes:
        lines += [f"{len(notes)} unmatched cell(s): " + "; ".join(notes[:10]) + (" …" if len(notes) > 10 else ""), ""]
    return "\n".join(lines)
