"""The accuracy sweep: metrics, R, slope fitting, resumability, the gate, and a quick sweep end to end."""

from __future__ import annotations

import math
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from matloss import accuracy
from matloss.cli import main
from matloss.gate_accuracy import compare_accuracy
from matloss_ref import get_loss


# -- slope fitting on synthetic curves -----------------------------------------------------------
@pytest.mark.parametrize("slope", [0.0, 0.5, 1.0, 2.0])
def test_fit_slope_recovers_known_slope(slope):
    k = 10.0 ** np.arange(0, 16)
    e = 1e-16 * k**slope
    assert accuracy.fit_slope(k, e, 1e-20) == pytest.approx(slope, abs=1e-9)


def test_fit_slope_ignores_saturation_and_floors_zeros():
    k = 10.0 ** np.arange(0, 16)
    e = np.minimum(1e-16 * k, 1.0)  # saturates at 1 from κ = 1e16 on ... and from 1e14 is above 1e-2
    assert accuracy.fit_slope(k, e, 1e-20) == pytest.approx(1.0, abs=1e-9)
    assert accuracy.fit_slope(k, np.zeros_like(k), 1e-17) == pytest.approx(0.0)
    assert math.isnan(accuracy.fit_slope([1.0, 10.0], [1e-16, 1e-15], 1e-20))  # too few points


# -- the gate -------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def small_summary(tmp_path_factory):
    out = tmp_path_factory.mktemp("acc") / "sweep"
    grid = accuracy.Grid.quick(frameworks=("numpy",), losses=("logdet", "frobenius", "det"), seeds=2)
    table = accuracy.sweep(grid, out, jobs=1, progress=False)
    return accuracy.summarize(table), out


def _kappa_cell(s, loss, dtype):
    return s.index[(s["loss"] == loss) & (s["dtype"] == dtype) & (s["axis"] == "kappa")][0]


def _gate(base: pd.DataFrame, cur: pd.DataFrame, tmp_path: Path) -> tuple[int, str]:
    b, c = tmp_path / "b.csv", tmp_path / "c.csv"
    base.to_csv(b, index=False)
    cur.to_csv(c, index=False)
    import contextlib
    import io

    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        rc = main(["gate", "accuracy", "--baseline", str(b), "--current", str(c)])
    return rc, buf.getvalue()


def test_gate_passes_on_its_baseline(small_summary, tmp_path):
    s, _ = small_summary
    rc, text = _gate(s, s, tmp_path)
    assert rc == 0 and "pass" in text


def test_gate_fails_on_error_times_ten(small_summary, tmp_path):
    s, out = small_summary
    table = accuracy.read_table(out.with_suffix(".csv"))
    cell = (table["loss"] == "logdet") & (table["dtype"] == "float64") & (table["axis"] == "kappa")
    table.loc[cell, "R_value"] = np.maximum(table.loc[cell, "R_value"], 1.0) * 10  # from rounding level (R <= 1) to R = 10
    rc, text = _gate(s, accuracy.summarize(table), tmp_path)
    assert rc == 1 and "numpy/cpu/float64/eager logdet n=8" in text and "median_E_value > 4x baseline" in text


def test_gate_fails_on_inserted_nan(small_summary, tmp_path):
    s, _ = small_summary
    cur = s.copy()
    i = _kappa_cell(cur, "frobenius", "float32")
    cur.loc[i, "n_nan"] = 1
    rc, text = _gate(s, cur, tmp_path)
    assert rc == 1 and "float32/eager frobenius" in text and "NaN where defined" in text


def test_gate_fails_on_changed_slope(small_summary, tmp_path):
    s, _ = small_summary
    cur = s.copy()
    i = _kappa_cell(cur, "det", "float64")
    cur.loc[i, "slope_value"] = 2.0
    rc, text = _gate(s, cur, tmp_path)
    assert rc == 1 and "det n=8" in text and "slope (value) not within 0.3 of the expected" in text


def test_gate_known_finding_does_not_fail():
    base = pd.DataFrame([{"framework": "torch", "device": "cpu", "dtype": "float64", "mode": "eager", "loss": "det",
                          "n": 8, "svd_mode": 3, "variant": "default", "axis": "kappa", "max_R_value": 100.0, "slope_value": 1.0,
                          "expected_slope_value": 1.0,
                          "n_nan": 0, "n_inf": 0, "n_zero_grad": 2, "n_exception": 0}])
    violations, _ = compare_accuracy(base, base.copy())
    assert violations and not any(v.regression for v in violations)
    worse = base.assign(n_zero_grad=3)
    violations, _ = compare_accuracy(base, worse)
    assert any(v.regression and "zero gradient" in v.rule for v in violations)


def test_gate_reports_missing_inputs(tmp_path, capsys):
    assert main(["gate", "accuracy", "--current", str(tmp_path / "none.csv")]) == 2


# -- a quick sweep end to end ---------------------------------------------------------------------
def test_quick_sweep_end_to_end(tmp_path):
    out = tmp_path / "quick" / "sweep"
    env = dict(os.environ, MATLOSS_CACHE_DIR=os.environ.get("MATLOSS_CACHE_DIR", str(tmp_path / "cache")))
    proc = subprocess.run([sys.executable, "-m", "matloss", "accuracy", "--quick", "--out", str(out)],
                          env=env, capture_output=True, text=True, timeout=1200)
    assert proc.returncode == 0, proc.stderr[-3000:]
    table = accuracy.read_table(out.with_suffix(".csv"))
    grid = accuracy.Grid.quick()
    assert len(table) == grid.n_cases()
    assert set(table["loss"]) == set(grid.losses)
    summary = pd.read_csv(out.parent / "sweep_summary.csv")
    assert {"median_R_value", "p90_R_value", "max_R_value", "slope_value", "expected_slope_value"} <= set(summary.columns)
    # every stable loss, in every framework, dtype, variant and on both axes, stays within R <= 30 and
    # fails nowhere it is defined; the naive forms break somewhere on the scale axis (their pitfall)

    stable = summary[summary["loss"].map(lambda name: get_loss(name).naive_of is None)]
    counts = stable[["n_nan", "n_inf", "n_zero_grad", "n_exception"]].sum(axis=1)
    bad = stable[(stable["max_R_value"] > 30) | (stable["max_R_grad"] > 30) | (counts > 0)]
    assert bad.empty, bad[["framework", "dtype", "loss", "axis", "max_R_value", "max_R_grad"]]
    assert set(stable["framework"]) == {f for f in grid.frameworks if accuracy.get_framework(f).available}
    # (numpy is left out: scipy's det accumulates the product of float32 pivots in float64, so its naive
    # float32 forms survive the float32 range)
    for naive in ("logdet_naive", "mvn_nll_naive"):
        scale = summary[(summary["loss"] == naive) & (summary["axis"] == "scale") & (summary["framework"] != "numpy")]
        assert len(scale) and scale["first_bad_log10_det"].notna().all(), scale[["framework", "dtype", "first_bad_log10_det"]]
    assert "sweep_summary.csv" in proc.stdout


def test_gate_refuses_summaries_of_different_grids(small_summary, tmp_path):
    s, _ = small_summary
    other = s.assign(cases=s["cases"] * 2)
    b, c = tmp_path / "b.csv", tmp_path / "c.csv"
    s.to_csv(b, index=False)
    other.to_csv(c, index=False)
    assert main(["gate", "accuracy", "--baseline", str(b), "--current", str(c)]) == 2


def test_nan_status_survives_the_csv_round_trip(tmp_path):
    """A NaN a framework returned is counted in the summary of a table read back from CSV."""
    row = dict(framework="torch", device="cpu", dtype="float64", mode="eager", loss="det", n=8, svd_mode=3, kappa=1.0,
               kappa_decade=0, seed=0, kappa_true=1.0, status="ok", value_error=1e-16, grad_error=1e-16, grad_defined=True,
               grad_well_posed=True, R_value=0.1, R_grad=0.1, u=2.0**-53, version="x", error="")
    bad = dict(row, seed=1, status="nan_returned", value_error=float("nan"), grad_error=float("nan"), error="NA")
    path = tmp_path / "t.csv"
    pd.DataFrame([row, bad]).to_csv(path, index=False)
    table = accuracy.read_table(path)
    assert list(table["status"]) == ["ok", "nan_returned"] and table["error"].iloc[1] == "NA"
    assert accuracy.summarize(table)["n_nan"].item() == 1
