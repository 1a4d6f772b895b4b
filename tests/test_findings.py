"""Findings: the table is produced, and each known singular-det behaviour gets the verdict an independent check gives."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from matloss import findings
from matloss.cli import main
from matloss.frameworks import get_framework

DIAG = np.diag([1.0, 2.0, 0.0, 3.0])  # rank n−1, zero pivot not last; true ∇det = −cof = −diag(0, 0, 6, 0)
TRUE_COF = np.diag([0.0, 0.0, 6.0, 0.0])


def _direct_det_grad(fw_name: str):
    """The framework's own det gradient at DIAG, called directly (not through matloss_ref); None if it raised."""
    if fw_name == "torch":
        import torch

        a = torch.tensor(DIAG, requires_grad=True)
        torch.linalg.det(a).backward()
        return a.grad.numpy()
    if fw_name == "jax":
        import jax

        jax.config.update("jax_enable_x64", True)
        return np.asarray(jax.grad(jax.numpy.linalg.det)(jax.numpy.asarray(DIAG)))
    if fw_name == "tensorflow":
        import tensorflow as tf

        a = tf.constant(DIAG)
        with tf.GradientTape() as tape:
            tape.watch(a)
            d = tf.linalg.det(a)
        try:
            return tape.gradient(d, a).numpy()
        except Exception:
            return None
    raise AssertionError(fw_name)


def _case_for_diag():
    """singular_middle at n = 4 is diag(1, 2, 0, 4); use it directly to mirror DIAG's structure."""
    return "singular_middle"


@pytest.mark.parametrize("fw_name", ["torch", "jax", "tensorflow"])
def test_singular_det_verdict_matches_direct_check(fw_name, monkeypatch):
    fw = get_framework(fw_name)
    if not fw.available:
        pytest.skip(f"{fw_name} unavailable: {fw.reason}")
    monkeypatch.setitem(findings.CASES, "diag_1203", findings._general(lambda n, dt: DIAG.astype(dt)))
    row = findings.run_case(fw_name, "det", "diag_1203", "float64", 4)
    direct = _direct_det_grad(fw_name)
    correct = direct is not None and np.allclose(direct, TRUE_COF, atol=1e-12)
    assert row["verdict"] == ("pass" if correct else "fail"), row
    if direct is not None and not direct.any():
        assert "zero gradient" in row["detail"]
    if direct is None:
        assert "raised" in row["detail"]


def test_non_pd_verdict_matches_behaviour():
    """numpy (scipy Cholesky) raises on a non-PD S: refused; a silent NaN would be a fail."""
    row = findings.run_case("numpy", "logdet_spd", "non_pd", "float64", 4)
    assert row["verdict"] == "refused" and "rejected" in row["detail"]


def test_table_is_produced_and_saved(tmp_path, capsys):
    out = tmp_path / "f.csv"
    rc = main(["findings", "--framework", "numpy", "--loss", "det", "--loss", "logdet", "--loss", "spectral",
               "--dtype", "float64", "--out", str(out), "--all"])
    assert rc == 0
    df = pd.read_csv(out)
    assert set(df["loss"]) == {"det", "logdet", "spectral"}
    assert {"framework", "version", "loss", "case", "dtype", "verdict", "returned", "detail"} <= set(df.columns)
    assert set(df["verdict"]) <= {"pass", "fail", "undefined", "refused", "unrepresentable", "unsupported"}
    # numpy's det uses the SVD adjugate: defined everywhere, so the singular cases pass
    det_rows = df[(df["loss"] == "det") & df["case"].str.startswith("singular")]
    assert len(det_rows) == 4 and (det_rows["verdict"] == "pass").all()
    # logdet's gradient is undefined at a singular A; the value +inf is still checked
    sing = df[(df["loss"] == "logdet") & (df["case"] == "singular_first")]
    assert sing["verdict"].item() == "undefined"
    assert str(out) in capsys.readouterr().out


def test_a_framework_error_is_a_row_not_a_crash(monkeypatch):
    fw = get_framework("numpy")

    def boom(*a, **k):
        raise RuntimeError("kaboom")

    monkeypatch.setattr(fw, "value_and_grad", boom)
    monkeypatch.setattr(fw, "value", boom)
    row = findings.run_case("numpy", "det", "singular_first", "float64", 4)
    assert row["verdict"] == "fail" and "RuntimeError: kaboom" in row["returned"]
