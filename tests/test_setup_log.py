"""The suites' opt-in setup-cost log (``MATLOSS_SETUP_LOG``) and ``experiments/setup_costs.py``."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

from matloss import cases as common

ROOT = Path(__file__).resolve().parents[1]


def _setup_costs():
    spec = importlib.util.spec_from_file_location("setup_costs", ROOT / "experiments" / "setup_costs.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


@pytest.fixture
def fresh_cache(monkeypatch):
    """An empty per-process case cache, so ``prepared`` builds (and logs) again."""
    monkeypatch.setattr(common, "_PREPARED", {})


def test_built_and_skipped_cases_are_logged(tmp_path, monkeypatch, fresh_cache):
    log = tmp_path / "setup.jsonl"
    monkeypatch.setenv("MATLOSS_SETUP_LOG", str(log))
    step = common.prepared("tikhonov", "numpy", "cpu", "float64", "16", "eager", backward=False, input_dir=str(tmp_path))
    step()
    with pytest.raises(NotImplementedError):  # numpy has no compiled mode: a skip, logged as one
        common.prepared("tikhonov", "numpy", "cpu", "float64", "16", "compiled", backward=False, input_dir=str(tmp_path))
    common.prepared("tikhonov", "numpy", "cpu", "float64", "16", "eager", backward=False, input_dir=str(tmp_path))  # cached: no line
    lines = [json.loads(x) for x in log.read_text().splitlines()]
    assert [(d["case"][-1], d["status"]) for d in lines] == [("eager", "ok"), ("compiled", "skip")]
    assert all(d["case"][:2] == ["tikhonov", "numpy"] and d["backward"] is False and d["seconds"] >= 0 for d in lines)


def test_nothing_is_logged_without_the_variable(tmp_path, monkeypatch, fresh_cache):
    monkeypatch.delenv("MATLOSS_SETUP_LOG", raising=False)
    monkeypatch.chdir(tmp_path)
    common.prepared("tikhonov", "numpy", "cpu", "float64", "16", "eager", backward=False, input_dir=str(tmp_path))
    assert [p.name for p in tmp_path.iterdir() if p.suffix == ".jsonl"] == []


def test_setup_costs_groups_and_sums(tmp_path, capsys):
    log = tmp_path / "setup.jsonl"
    rows = [
        (["logdet", "torch", "cpu", "float64", "128", "compiled"], True, 3.0, "ok"),
        (["det", "torch", "cpu", "float64", "128", "compiled"], True, 5.0, "ok"),
        (["det", "numpy", "cpu", "float64", "128", "eager"], False, 0.25, "ok"),
        (["det", "numpy", "cpu", "float64", "128", "compiled"], False, 0.001, "skip"),
    ]
    log.write_text("".join(json.dumps({"case": c, "backward": b, "seconds": s, "status": st}) + "\n" for c, b, s, st in rows))
    mod = _setup_costs()
    t = mod.table(mod.load(log), ["framework", "mode"]).reset_index()
    first = t.iloc[0]
    assert (first["framework"], first["mode"], first["built"], first["total_s"], first["median_s"]) == ("torch", "compiled", 2, 8.0, 4.0)
    skipped = t[(t["framework"] == "numpy") & (t["mode"] == "compiled")].iloc[0]
    assert (skipped["built"], skipped["skipped"]) == (0, 1)
    assert mod.main([str(log), "--by", "framework"]) == 0
    assert "| torch" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("text", "args", "message"),
    [
        ("not json\n", [], "is not a setup-log line"),
        ("", [], "has no setup-log lines"),
        ('{"case": [], "backward": false, "seconds": 1, "status": "ok"}\n', ["--by", "colour"], "--by: unknown column"),
    ],
)
def test_setup_costs_bad_input(tmp_path, capsys, text, args, message):
    log = tmp_path / "setup.jsonl"
    log.write_text(text)
    with pytest.raises(SystemExit) as exc:
        _setup_costs().main([str(log), *args])
    assert exc.value.code != 0
    assert message in str(exc.value.code) + capsys.readouterr().err
