#!/usr/bin/env python
"""Proof that the instruction gate works, on this machine: its false-alarm and detection rates.

    .venv/bin/python experiments/prove_instruction_gate.py [--aa 20] [--injected 10] [--out results/gate_proof_instructions.json]

1. A/A: ``matloss gate speed HEAD HEAD --metric instructions`` on the pull-request subset (the
   gate's default cases), ``--aa`` times; any case reported *slower* is a false alarm (target 0
   in 20 runs).
2. Injected: a temporary commit on top of HEAD whose numpy ``logdet`` forward scales its input by
   1.0 before factorising it (``lu_slogdet(A * 1.0)``: one redundant pass over the matrix, about
   +2 % instructions at n = 128 — a code change, not a busy wait), gated against HEAD
   ``--injected`` times; caught when that case is *slower* (target 10 of 10). The other cases of
   those runs did not change, so every verdict on them other than *same* is a false alarm too.

Runs are appended to ``--out`` as they finish (an interrupted proof keeps what it measured) and
the summary is over every run in the file made at the same HEAD; a proof at another HEAD moves the
file's runs, whole and with their summary, to its list ``earlier``. Nothing here is a test: the
rates are measured and reported (docs/measurements.md), not asserted.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from prove_gate import PY, ROOT, commit_variant, git

LOGDET = "matloss_ref/losses/logdet.py"
TARGET = "Forward.time_forward('logdet', 'numpy', 'cpu', 'float64', '128', 'eager')"


def redundant_scale(text: str) -> str:
    old = "def value(A):\n    return -lu_slogdet(A)[1]\n"
    assert old in text, "numpy logdet value not found"
    return text.replace(old, "def value(A):\n    return -lu_slogdet(A * 1.0)[1]  # injected: a redundant pass\n", 1)


def gate(base: str, head: str, kind: str, samples: Path) -> dict:
    out = samples / f"run-{time.monotonic_ns()}.json"
    t0 = time.monotonic()
    proc = subprocess.run([PY, "-m", "matloss", "gate", "speed", base, head, "--metric", "instructions",
                           "--samples-out", str(out)], cwd=ROOT, capture_output=True, text=True)  # fmt: skip
    run = {"kind": kind, "base": base, "head": head, "exit": proc.returncode, "seconds": round(time.monotonic() - t0, 1)}
    if out.exists():
        verdicts = json.loads(out.read_text())["verdicts"]
        run["verdicts"] = {s: sum(v["status"] == s for v in verdicts) for s in {v["status"] for v in verdicts}}
        target = [v for v in verdicts if v["name"].endswith(TARGET)]
        others = [v for v in verdicts if not v["name"].endswith(TARGET)]
        run["false_alarms"] = [v["name"] for v in (others if kind == "injected" else verdicts) if v["status"] != "same"]
        if target:
            run["target_status"], run["target_ratio"] = target[0]["status"], target[0]["ratio"]
    else:
        run["error"] = proc.stderr.strip()[-800:]
    print(f"  {kind}: exit {run['exit']} {run.get('verdicts')} target {run.get('target_status')} "
          f"{run.get('target_ratio')} ({run['seconds']} s)", flush=True)
    return run


def summary(runs: list[dict]) -> dict:
    out = {}
    for kind in ("A/A", "injected"):
        rs = [r for r in runs if r["kind"] == kind]
        if not rs:
            continue
        s = {"runs": len(rs), "runs_with_false_alarms": sum(bool(r.get("false_alarms")) or "verdicts" not in r for r in rs),
             "gate_seconds_median": statistics.median(r["seconds"] for r in rs)}  # fmt: skip
        if kind == "injected":
            s["caught"] = sum(r.get("target_status") == "slower" for r in rs)
            ratios = [r["target_ratio"] for r in rs if r.get("target_ratio")]
            s["ratio_range"] = [min(ratios), max(ratios)] if ratios else None
        out[kind] = s
    return out


def open_report(path: Path, head: str) -> dict:
    """The proof file at ``path`` to append runs of ``head`` to: a proof made at another HEAD moves,
    whole and with its summary, to the list ``earlier`` (nothing measured is dropped)."""
    report = json.loads(path.read_text()) if path.exists() else {}
    if report.get("head") != head:
        earlier = report.get("earlier", [])
        if report.get("runs"):
            earlier.append({"head": report["head"], "runs": report["runs"], "summary": summary(report["runs"])})
        report = {"head": head, "runs": [], "earlier": earlier}
    report["target"] = TARGET
    return report


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--aa", type=int, default=20, help="A/A gate runs (default 20)")
    ap.add_argument("--injected", type=int, default=10, help="gate runs against the injected change (default 10)")
    ap.add_argument("--out", type=Path, default=ROOT / "results" / "gate_proof_instructions.json")
    ns = ap.parse_args()
    if ns.aa < 0 or ns.injected < 0 or ns.aa + ns.injected == 0:
        ap.error("--aa and --injected must be >= 0, not both 0")
    if ns.out.is_dir():
        ap.error(f"--out {ns.out} is a directory; give a file name")
    head = git("rev-parse", "HEAD")
    report = open_report(ns.out, head)

    def save():
        report["summary"] = summary(report["runs"])
        ns.out.parent.mkdir(parents=True, exist_ok=True)
        ns.out.write_text(json.dumps(report, indent=1) + "\n")

    branch = None
    with tempfile.TemporaryDirectory() as tmp:
        try:
            sha = None
            if ns.injected:
                sha, branch = commit_variant(head, redundant_scale, "TEMPORARY: numpy logdet scales its input by 1.0", LOGDET)
            # interleaved, so an interrupted proof still has runs of both kinds
            plan = [p for i in range(max(ns.aa, ns.injected))
                    for p in ([("injected", sha)] if i < ns.injected else []) + ([("A/A", head)] if i < ns.aa else [])]
            for i, (kind, other) in enumerate(plan, 1):
                print(f"[{i}/{len(plan)}]", end="", flush=True)
                report["runs"].append(gate(head, other, kind, Path(tmp)))
                save()
        finally:
            if branch:
                subprocess.run(["git", "branch", "-D", branch], cwd=ROOT, capture_output=True)
    print(json.dumps(report["summary"], indent=1))
    print(f"written to {ns.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
