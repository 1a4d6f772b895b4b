"""The ``matloss`` command: bad arguments, where outputs go, and filtered runs that keep what they did not redo."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from matloss.cli import main

ROOT = Path(__file__).resolve().parents[1]

#: (argv, the argument the message must name, a word of the problem)
BAD = [
    (["exact", "logdet", "-n", "-3"], "-n", ">= 1"),
    (["exact", "logdet", "-n", "four"], "-n", "whole number"),
    (["exact", "logdet", "-n", "4", "--kappa", "nan"], "--kappa", "finite"),
    (["exact", "logdet", "--kappa", "0.5"], "--kappa", ">= 1"),
    (["exact", "logdet", "--kappa", "inf"], "--kappa", "finite"),
    (["exact", "logdet", "--seed", "-1"], "--seed", ">= 0"),
    (["exact", "logdet", "--dtype", "float16"], "--dtype", "invalid choice"),
    (["exact", "logdet", "--mode", "7"], "--mode", "invalid choice"),
    (["exact", "nosuch"], "LOSS", "unknown loss 'nosuch'"),
    (["exact"], "LOSS", "required"),
    (["findings", "--loss", "nosuch"], "--loss", "unknown loss 'nosuch'"),
    (["findings", "--framework", "mxnet"], "--framework", "unknown framework 'mxnet'"),
    (["findings", "--case", "weird"], "--case", "unknown case 'weird'"),
    (["findings", "-n", "0"], "-n", ">= 1"),
    (["findings", "--dtype", "float16"], "--dtype", "unknown dtype"),
    (["accuracy", "--loss", "det,nosuch"], "--loss", "unknown loss 'nosuch'"),
    (["accuracy", "--mode", "jit"], "--mode", "unknown mode 'jit'"),
    (["accuracy", "-n", "-8"], "-n", ">= 1"),
    (["accuracy", "--seeds", "0"], "--seeds", ">= 1"),
    (["accuracy", "--jobs", "0"], "--jobs", ">= 1"),
    (["accuracy", "--device", "tpu"], "--device", "unknown device"),
    (["gate", "accuracy", "--current", "/no/such/summary.csv"], "--current", "does not exist"),
    (["gate", "accuracy", "HEAD"], "accuracy", "takes no commits"),
    (["gate", "speed", "HEAD"], "speed", "two commits"),
    (["gate", "speed", "HEAD", "HEAD", "--factor", "0.9"], "--factor", "> 1"),
    (["gate", "speed", "HEAD", "HEAD", "--factor-long", "1"], "--factor-long", "> 1"),
    (["gate", "speed", "HEAD", "HEAD", "--metric", "instructions", "--factor-long", "1.05"], "--metric", "takes no --factor"),
    (["gate", "speed", "HEAD", "HEAD", "--alpha", "2"], "--alpha", "between 0 and 1"),
    (["gate", "speed", "HEAD", "HEAD", "--rounds", "0"], "--rounds", ">= 1"),
    (["gate", "nope"], "kind", "invalid choice"),
    (["compare", "--loss", "nosuch"], "--loss", "unknown loss"),
    (["compare", "--dtype", "float16"], "--dtype", "unknown dtype"),
    (["bench", "no-such-commit-xyz"], "COMMIT", "unknown commit"),
    (["bench", "HEAD", "--retime", "-1"], "--retime", ">= 0"),
    (["bench", "HEAD", "--retime", "soon"], "--retime", "must be a number"),
    (["steadiness", "--", "-x"], "--", "passes nothing on"),
    (["overhead", "-n", "0"], "-n", ">= 1"),
    (["steadiness", "--machine", "no-such-machine"], "--machine", "no results"),
    (["nosuchcommand"], "COMMAND", "invalid choice"),
]


@pytest.mark.parametrize("argv, arg, problem", BAD, ids=[" ".join(b[0]) for b in BAD])
def test_a_bad_argument_is_one_line_exit_2(argv, arg, problem, capsys):
    assert main(argv) == 2
    out, err = capsys.readouterr()
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert len(lines) == 1, err
    assert arg in lines[0] and problem in lines[0], lines[0]
    assert "Traceback" not in err and not out


def test_what_follows_a_bare_double_dash_goes_to_asv_run(monkeypatch):
    from matloss import asv_run

    calls = []
    monkeypatch.setattr(asv_run, "run_commits", lambda commits, **kw: calls.append((commits, kw)) or (0, []))
    assert main(["bench", "-b", "^x$", "HEAD", "--", "--show-stderr", "-e"]) == 0
    assert main(["bench", "HEAD", "HEAD~1"]) == 0
    (c1, k1), (c2, k2) = calls
    assert c1 == ["HEAD"] and k1["bench"] == ["^x$"] and k1["extra"] == ["--show-stderr", "-e"]
    assert c2 == ["HEAD", "HEAD~1"] and k2["extra"] == []


def test_a_bad_argument_from_the_shell_has_no_traceback():
    for argv in (["exact", "logdet", "-n", "-3"], ["findings", "--loss", "nosuch"], ["exact", "logdet", "-n", "4", "--kappa", "nan"]):
        proc = subprocess.run([sys.executable, "-m", "matloss", *argv], capture_output=True, text=True, cwd="/")
        assert proc.returncode == 2, proc
        assert len(proc.stderr.strip().splitlines()) == 1 and "Traceback" not in proc.stderr, proc.stderr


def test_outputs_go_to_the_repository_wherever_the_command_runs(tmp_path):
    code = "from matloss import paths; print(paths.results()); print(paths.html())"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=tmp_path).stdout.split()
    assert out == [str(ROOT / "results"), str(ROOT / "html")]
    env = dict(os.environ, MATLOSS_ROOT=str(tmp_path / "elsewhere"))
    proc = subprocess.run([sys.executable, "-m", "matloss", "findings", "--framework", "numpy", "--loss", "tikhonov", "--dtype", "float64"],
                          capture_output=True, text=True, cwd="/", env=env)  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "elsewhere" / "results" / "findings" / "findings.csv").is_file()


def test_a_filtered_findings_run_keeps_every_other_row(tmp_path, capsys):
    committed = pd.read_csv(ROOT / "results" / "findings" / "findings.csv", keep_default_na=False, na_values=[""])
    table = tmp_path / "findings.csv"
    committed.to_csv(table, index=False)
    assert main(["findings", "--framework", "numpy", "--loss", "det", "--out", str(table)]) == 0
    after = pd.read_csv(table, keep_default_na=False, na_values=[""])
    key = ["framework", "loss", "case", "dtype", "n", "mode"]
    assert len(after) == len(committed) and not after.duplicated(key).any()
    untouched = ~((committed["framework"] == "numpy") & (committed["loss"] == "det"))
    expect = committed[untouched].sort_values(key).reset_index(drop=True)
    got = after.merge(committed[untouched][key], on=key).sort_values(key).reset_index(drop=True)
    pd.testing.assert_frame_equal(got[expect.columns], expect, check_dtype=False)
    assert "kept from earlier runs" in capsys.readouterr().out


def test_a_filtered_accuracy_run_keeps_every_other_cell(tmp_path):
    out = tmp_path / "acc" / "quick"
    common = ["accuracy", "--quick", "--framework", "numpy", "--jobs", "1", "--out", str(out)]
    assert main([*common, "--loss", "frobenius,tikhonov"]) == 0
    first = pd.read_csv(out.parent / "quick_summary.csv")
    assert set(first["loss"]) == {"frobenius", "tikhonov"}
    assert main([*common, "--loss", "tikhonov", "--dtype", "float32"]) == 0
    second = pd.read_csv(out.parent / "quick_summary.csv")
    table = pd.read_csv(out.with_suffix(".csv"))
    assert len(second) == len(first) and set(second["loss"]) == {"frobenius", "tikhonov"}
    assert set(table["loss"]) == {"frobenius", "tikhonov"} and len(table) == 2 * (4 + 3) * 2  # 2 losses × (4 + 3) κ × 2 seeds
