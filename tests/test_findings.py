"""Findings: rows and their verdicts against independent checks, classes, grouping, the upstream table."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from matloss import findings
from matloss.cli import main
from matloss.findings import cases, grouping
from matloss.frameworks import get_framework
from matloss_ref import get_loss, matrices

DIAG = np.diag([1.0, 2.0, 0.0, 3.0])  # rank n−1, zero pivot not last; true ∇det = −cof = −diag(0, 0, 6, 0)
TRUE_COF = np.diag([0.0, 0.0, 6.0, 0.0])


def _available(name):
    fw = get_framework(name)
    if not fw.available:
        pytest.skip(f"{name} unavailable: {fw.reason}")
    return fw


def _direct_det_grad(fw_name: str):
    """The framework's own det gradient at DIAG, called directly (not through matloss); None if it raised."""
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


@pytest.mark.parametrize("fw_name", ["torch", "jax", "tensorflow"])
def test_singular_det_verdict_matches_direct_check(fw_name, monkeypatch):
    _available(fw_name)
    monkeypatch.setitem(cases.CASES, "diag_1203", cases.Case("rank n-1", cases._general(lambda n, dt: DIAG.astype(dt)), "diag(1, 2, 0, 3)"))
    row = findings.run_case(fw_name, "det", "diag_1203", "float64", 4)
    direct = _direct_det_grad(fw_name)
    correct = direct is not None and np.allclose(direct, TRUE_COF, atol=1e-12)
    assert row["verdict"] == ("pass" if correct else "fail"), row
    assert row["class"] == ("" if correct else "defect")
    if direct is not None and not direct.any():
        assert row["what"] == "zero gradient" and "zero gradient" in row["detail"]
    if direct is None:
        assert row["what"] == "raised InvalidArgumentError"


def test_non_pd_is_refused_by_numpy_and_accepted_silently_by_jax():
    row = findings.run_case("numpy", "logdet_spd", "non_pd", "float64", 4)
    assert row["verdict"] == "refused" and row["class"] == "" and "rejected" in row["detail"]
    _available("jax")
    row = findings.run_case("jax", "logdet_spd", "non_pd", "float64", 4)
    assert (row["verdict"], row["class"], row["what"]) == ("fail", "silent-nan", "accepted: NaN value")


def test_tiny_is_judged_alike_in_both_dtypes():
    """The true det of the tiny case underflows float64 as well as float32 (2^-2000): both rows say so.
    (It used to be float64 `pass` — the exact value rounded to 0.0 in float64 hid the underflow —
    and float32 `unrepresentable`.)"""
    rows = [findings.run_case("numpy", "det", "tiny", dt, 4) for dt in ("float64", "float32")]
    assert [(r["verdict"], r["class"]) for r in rows] == [("unrepresentable", "ieee")] * 2, rows
    res = get_loss("det").exact_result(A=matrices.badly_scaled(4, "tiny", seed=2))
    assert res.log2_value < -1074 and not res.representable("float64")


def test_a_tie_broken_by_rounding_is_undefined_not_a_defect():
    row = findings.run_case("numpy", "spectral", "rounding_tie", "float64", 4)
    assert (row["verdict"], row["class"]) == ("undefined", "undefined"), row
    assert "not determined in float64" in row["detail"]


def test_an_exact_tie_passes_with_the_even_split_and_is_undefined_otherwise():
    """At σ₁ = σ₂ exactly the gradient does not exist; the even split (1/2)(u₁v₁ᵀ + u₂v₂ᵀ) is the one
    subgradient that autodiff of a max returns. numpy's closed form picks one singular pair instead."""
    _available("jax")
    jax_row = findings.run_case("jax", "spectral", "repeated_sigma1", "float64", 4)  # jnp.max over svdvals: even split
    assert jax_row["verdict"] == "pass" and "even split" in jax_row["detail"], jax_row
    numpy_row = findings.run_case("numpy", "spectral", "repeated_sigma1", "float64", 4)
    assert (numpy_row["verdict"], numpy_row["class"]) == ("undefined", "undefined") and "not the even split" in numpy_row["detail"]


def test_the_even_split_is_half_the_sum_of_the_tied_pairs():
    a = matrices.repeated_sigma1(4, seed=2)  # a signed permutation of diag(2, 2, 1, 1/2)
    value, grads = findings.rows.split_result(get_loss("spectral"), {"A": a, "B": np.zeros_like(a)})
    u, s, vt = np.linalg.svd(a)
    assert s[0] == s[1] == 2.0 and value == 2.0
    np.testing.assert_allclose(grads["A"], 0.5 * (np.outer(u[:, 0], vt[0]) + np.outer(u[:, 1], vt[1])), atol=1e-15)


def test_raising_where_the_gradient_does_not_exist_is_not_a_defect():
    _available("tensorflow")
    row = findings.run_case("tensorflow", "logdet", "singular_middle", "float64", 4)  # logdet = +inf, no gradient
    assert (row["verdict"], row["class"], row["what"]) == ("undefined", "undefined", "raised InvalidArgumentError"), row


def test_dense_singular_cases_stay_exactly_singular_in_every_framework():
    """Their LU has an exactly zero pivot in float32 and float64 alike (or a framework's det would be
    rounding noise instead of 0, and the case would test rounding, not singular inputs)."""
    for n in (4, 8):
        for dt in ("float64", "float32"):
            x = cases.build("singular_dense", get_loss("det"), n, dt)
            for fw_name in ("numpy", "torch", "jax", "tensorflow"):
                fw = get_framework(fw_name)
                if fw.available:
                    assert fw.value("det", x, dtype=dt) == 0.0, (fw_name, n, dt)


def test_table_is_produced_and_saved(tmp_path, capsys):
    out = tmp_path / "f.csv"
    rc = main(["findings", "--framework", "numpy", "--loss", "det,logdet,spectral", "--dtype", "float64", "-n", "4",
               "--mode", "eager", "--out", str(out), "--all"])  # fmt: skip
    assert rc == 0
    df = pd.read_csv(out, keep_default_na=False, na_values=[""])
    assert set(df["loss"]) == {"det", "logdet", "spectral"} and set(df["device"]) == {"cpu"}
    assert set(findings.COLUMNS) <= set(df.columns)
    assert set(df["verdict"]) <= {"pass", "fail", "undefined", "refused", "unrepresentable", "unsupported"}
    assert set(df["class"].fillna("")) <= {"", "defect", "silent-nan", "ieee", "undefined"}
    # numpy's det uses the SVD adjugate: defined everywhere, so the singular cases pass
    det_rows = df[(df["loss"] == "det") & df["case"].str.startswith("singular")]
    assert len(det_rows) == 4 and (det_rows["verdict"] == "pass").all()
    sing = df[(df["loss"] == "logdet") & (df["case"] == "singular_first")]
    assert sing["verdict"].item() == "undefined"
    text = capsys.readouterr().out
    assert str(out) in text and "| class | framework | loss | input | what went wrong |" in text


def test_a_framework_error_is_a_row_not_a_crash(monkeypatch):
    fw = get_framework("numpy")

    def boom(*a, **k):
        raise RuntimeError("kaboom")

    monkeypatch.setattr(fw, "value_and_grad", boom)
    monkeypatch.setattr(fw, "value", boom)
    row = findings.run_case("numpy", "det", "singular_first", "float64", 4)
    assert row["verdict"] == "fail" and row["class"] == "defect" and "RuntimeError: kaboom" in row["returned"]


def test_a_failure_of_matloss_itself_is_a_row_not_a_crash(monkeypatch):
    spec = get_loss("det")

    def broken(**kw):
        raise ArithmeticError("exact evaluation did not converge")

    monkeypatch.setattr(type(spec), "exact_result", lambda self, **kw: broken(**kw))
    row = findings.run_case("numpy", "det", "singular_first", "float64", 4)
    assert row["verdict"] == "error" and "did not converge" in row["detail"]


def _rows(**over) -> dict:
    base = dict(framework="torch", version="2.13", device="cpu", loss="det", case="singular_first", kind="rank n-1",
                dtype="float64", n=4, mode="eager", verdict="fail", what="zero gradient", detail="d", **{"class": "defect"})  # fmt: skip
    return {**base, **over}


def test_rows_group_into_one_finding_per_defect():
    rows = pd.DataFrame([
        _rows(), _rows(case="singular_middle"), _rows(dtype="float32", n=8), _rows(mode="compiled"),
        _rows(framework="jax", version="0.10.2"), _rows(loss="logdet_spd", kind="not positive definite", what="accepted: NaN value",
                                                       **{"class": "silent-nan"}),
        _rows(verdict="pass", what="", **{"class": ""}),
    ])  # fmt: skip
    up = pd.DataFrame([dict(framework="torch", loss="det", kind="rank n-1", what="zero gradient", url="https://x/1", status="open",
                            checked_version="2.13", note=""),
                       dict(framework="*", loss="*", kind="*", what="accepted: NaN value", url="https://x/2", status="policy",
                            checked_version="", note="")])  # fmt: skip
    f = grouping.group(rows, up).set_index("id")
    assert len(f) == 4  # torch eager, torch compiled, jax eager, torch logdet_spd
    torch_eager = f.loc["torch-det-rank-n-1-zero-gradient-eager"]
    assert (torch_eager["dtypes"], torch_eager["sizes"], torch_eager["cases"], torch_eager["rows"]) == (
        "float32, float64", "4, 8", "singular_first, singular_middle", 3)
    assert torch_eager["upstream"] == "https://x/1" and f.loc["torch-det-rank-n-1-zero-gradient-compiled", "upstream"] == "https://x/1"
    assert f.loc["jax-det-rank-n-1-zero-gradient-eager", "upstream"] == "new"  # a defect nobody reported
    silent = f.loc["torch-logdet-spd-not-positive-definite-accepted-nan-value-eager"]
    assert silent["class"] == "silent-nan" and silent["upstream"] == "https://x/2"
    assert list(grouping.group(rows, up)["class"])[:3] == ["defect"] * 3  # defects first


def test_the_committed_upstream_table_is_well_formed():
    up = grouping.load_upstream()
    assert list(up.columns) == grouping.UPSTREAM_COLUMNS and len(up)
    for rec in up.to_dict("records"):
        assert rec["url"] == "new" or rec["url"].startswith("https://github.com/"), rec
        assert rec["status"] and rec["checked_version"], rec


def test_the_committed_findings_cover_the_grid():
    from matloss import paths

    df = pd.read_csv(paths.findings_csv(), keep_default_na=False, na_values=[""])
    assert set(df["n"].dropna().astype(int)) == set(findings.rows.SIZES)
    assert set(df["mode"].dropna()) == {"eager", "compiled"} and set(df["dtype"].dropna()) == {"float32", "float64"}
    assert {"repeated_sigma1", "rounding_tie"} <= set(df["case"])
    assert not df.duplicated(findings.KEY).any()
    f = grouping.group(df)
    defects = f[f["class"] == "defect"]
    assert len(defects) and (defects["upstream"] != "").all()  # a link, or "new"
