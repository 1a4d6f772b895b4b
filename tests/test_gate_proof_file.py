"""``experiments/prove_instruction_gate.py`` keeps every run it measured: a proof at a new HEAD moves
the file's earlier proof to ``earlier`` instead of overwriting it."""

from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _module():
    sys.path.insert(0, str(ROOT / "experiments"))
    try:
        import prove_instruction_gate
    finally:
        sys.path.remove(str(ROOT / "experiments"))
    return prove_instruction_gate


def _run(kind, base, ratio=None):
    run = {"kind": kind, "base": base, "head": base, "exit": 0, "seconds": 240.0, "verdicts": {"same": 24},
           "false_alarms": []}
    if ratio:
        run.update(target_status="slower", target_ratio=ratio)
    return run


def test_a_proof_at_a_new_head_keeps_the_earlier_proof_whole(tmp_path):
    mod = _module()
    path = tmp_path / "proof.json"
    first = mod.open_report(path, "a" * 40)
    assert first["runs"] == [] and first["earlier"] == []
    first["runs"] = [_run("A/A", "a" * 40), _run("injected", "a" * 40, 1.018)]
    path.write_text(json.dumps(first))

    same = mod.open_report(path, "a" * 40)  # the same HEAD: runs are appended to
    assert len(same["runs"]) == 2 and same["earlier"] == []

    later = mod.open_report(path, "b" * 40)
    assert later["head"] == "b" * 40 and later["runs"] == []
    assert [e["head"] for e in later["earlier"]] == ["a" * 40]
    assert later["earlier"][0]["runs"] == first["runs"]
    assert later["earlier"][0]["summary"]["injected"]["caught"] == 1
    later["runs"] = [_run("A/A", "b" * 40)]
    path.write_text(json.dumps(later))

    third = mod.open_report(path, "c" * 40)
    assert [e["head"] for e in third["earlier"]] == ["a" * 40, "b" * 40]
