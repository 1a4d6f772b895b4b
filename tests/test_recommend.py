"""``matloss recommend``: the fastest framework/mode whose accuracy holds, and why the others lost."""

from __future__ import annotations

import shutil
import threading
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pandas as pd
import pytest

from matloss import compare, recommend
from matloss.cli import main

DATA = Path(__file__).parent / "data" / "asv"
FIXTURE = DATA / "vm-amd-epyc-2cpu" / "42d1f70d-existing-py_work_main_.venv_bin_python3.json"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


def _summary(**bad) -> pd.DataFrame:
    """A summary where every (framework, mode) of logdet is accurate, except those named in ``bad``."""
    rows = []
    for fw, mode in [("numpy", "eager"), ("torch", "eager"), ("torch", "compiled"), ("jax", "eager"), ("jax", "compiled"),
                     ("tensorflow", "eager"), ("tensorflow", "compiled")]:  # fmt: skip
        for dtype in ("float32", "float64"):
            for axis in ("kappa", "scale"):
                row = dict(framework=fw, device="cpu", dtype=dtype, mode=mode, loss="logdet", n=8, svd_mode=3, variant="default",
                           axis=axis, max_R_value=0.5, max_R_grad=0.5, first_bad_kappa=float("nan"),
                           first_bad_log10_det=float("nan"), n_nan=0, n_inf=0, n_zero_grad=0, n_exception=0)  # fmt: skip
                row.update(bad.get(f"{fw}-{mode}-{axis}", {}))
                rows.append(row)
    return pd.DataFrame(rows)


def _times(rs, dtype="float64", shape="16"):
    return {(r["framework"], r["mode"]): r["backward_s"] for r in compare.table(rs, {"dtype": [dtype], "shape": [shape]})}


def test_the_fastest_accurate_pair_is_recommended_and_the_others_say_why():
    rs = compare.load(FIXTURE)
    times = _times(rs)
    fastest = min(times, key=times.get)
    second = sorted(times, key=times.get)[1]
    bad = {f"{fastest[0]}-{fastest[1]}-kappa": dict(first_bad_kappa=1e8, max_R_value=1e3)}  # the fastest is not accurate
    (rec,) = recommend.recommend(rs, _summary(**bad), {"dtype": ["float64"], "shape": ["16"]})
    assert (rec["framework"], rec["mode"]) == second
    why = {(o["framework"], o["mode"]): o["why"] for o in rec["runners_up"]}
    assert "from κ = 1e8 on" in why[fastest]
    third = sorted(times, key=times.get)[2]
    assert why[third] == f"slower by {times[third] / times[second]:.2f}×"


def test_a_failure_on_the_scale_axis_excludes_and_says_where():
    rs = compare.load(FIXTURE)
    times = _times(rs)
    fastest = min(times, key=times.get)
    bad = {f"{fastest[0]}-{fastest[1]}-scale": dict(first_bad_log10_det=450.0, n_inf=2)}
    (rec,) = recommend.recommend(rs, _summary(**bad), {"dtype": ["float64"], "shape": ["16"]})
    assert (rec["framework"], rec["mode"]) != fastest
    why = {(o["framework"], o["mode"]): o["why"] for o in rec["runners_up"]}
    assert why[fastest] == "NaN / inf / R > 30 at scale log10|det| = 450"


def test_no_accuracy_data_is_an_exclusion_and_nothing_qualifying_is_said(tmp_path):
    rs = compare.load(FIXTURE)
    summary = _summary()
    summary = summary[summary["framework"] != "torch"]
    recs = recommend.recommend(rs, summary, {"dtype": ["float64"], "shape": ["16"]})
    why = {(o["framework"], o["mode"]): o["why"] for o in recs[0]["runners_up"]}
    assert why[("torch", "eager")] == "no accuracy data"
    everything_bad = {f"{fw}-{m}-kappa": dict(max_R_value=100.0) for fw, m in _times(rs)}
    (rec,) = recommend.recommend(rs, _summary(**everything_bad), {"dtype": ["float64"], "shape": ["16"]})
    assert rec["framework"] == "" and "none qualifies" in recommend.markdown([rec], rs, tmp_path / "s.csv")


def test_cli_and_page(tmp_path, capsys):
    summary = tmp_path / "summary.csv"
    _summary().to_csv(summary, index=False)
    assert main(["recommend", str(FIXTURE), "--summary", str(summary), "--results-dir", str(DATA), "--shape", "16"]) == 0
    out = capsys.readouterr().out
    assert "| logdet | cpu | float64 | 16 |" in out and "runners-up" in out
    assert main(["recommend", str(FIXTURE), "--summary", str(tmp_path / "none.csv")]) == 2
    index = recommend.page(recommend.recommend(compare.load(FIXTURE), _summary()), compare.load(FIXTURE), summary, tmp_path / "rec")
    text = index.read_text()
    assert text.count("<tr><td>logdet</td>") == 4  # two dtypes x two shapes
    if CHROMIUM is None:
        pytest.fail("Chromium is not installed; install it with: apt-get update && apt-get install -y chromium")
    from playwright.sync_api import sync_playwright

    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(SimpleHTTPRequestHandler, directory=str(tmp_path)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    errors: list[str] = []
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"])
            page = browser.new_page()
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.goto(f"http://127.0.0.1:{server.server_port}/rec/index.html", wait_until="networkidle")
            used = page.eval_on_selector_all("#recommend td.use", "cs => cs.map(c => c.innerText)")
            browser.close()
    finally:
        server.shutdown()
    assert not errors and len(used) == 4 and all(u != "none qualifies" for u in used), (errors, used)
