#!/usr/bin/env python
"""Proof that the gates work, on this machine: false-alarm and detection rates.

    .venv/bin/python scripts/prove_gate.py [--runs 10] [--rounds 2] [--out results/gate_proof.json]

1. A/A: ``matloss gate speed HEAD HEAD`` on one cheap benchmark subset, ``--runs`` times: every
   exit status 1 is a false alarm (target 0).
2. Injected slowdowns: temporary commits (on a throw-away branch, deleted afterwards) in which
   torch's ``frobenius`` does 10 %, 25 % and 50 % more work — the same sum of squares over an
   extra slice of that fraction of the rows, added to the result times zero so the value is
   unchanged — each gated against HEAD ``--runs`` times: the detection rate (target: 25 % and
   50 % always, 10 % at least 8 of 10 — which needs a factor below 1.1; ``--factor`` sets it).
3. Injected accuracy loss: a temporary commit in which torch's stable ``mvn_nll`` is replaced by
   the naive formula (``inv`` and ``log(det(Σ))``); the gate-grid sweep of that commit must fail
   ``matloss gate accuracy`` against the committed baseline.

Nothing here is a test: the numbers depend on the machine and are reported, not asserted.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PY = sys.executable
SUBSET = r"bench_speed\.Forward\.time_forward\('frobenius', 'torch', 'cpu', 'float64', '512', 'eager'\)"
TORCH_IMPL = "matloss_ref/frameworks/torch_impl.py"


def git(*args: str, cwd: Path = ROOT) -> str:
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True).stdout.strip()


def gate_speed(base: str, head: str, rounds: int, factor: float | None = None) -> int:
    cmd = [PY, "-m", "matloss_ref", "gate", "speed", base, head, "-b", SUBSET, "--rounds", str(rounds)]
    if factor:
        cmd += ["--factor", str(factor)]
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
    last = [ln for ln in proc.stdout.splitlines() if "frobenius" in ln]
    print(f"    exit {proc.returncode} {last[0] if last else proc.stdout.strip()[:200]}", flush=True)
    return proc.returncode


def commit_variant(head: str, edit, message: str) -> tuple[str, str]:
    """A commit on top of ``head`` with ``edit(text) -> text`` applied to torch_impl.py, made in a
    temporary worktree; returns its SHA (reachable from a throw-away branch until cleanup)."""
    tmp = Path(tempfile.mkdtemp(prefix="matloss-prove-"))
    branch = f"prove-gate-{os.getpid()}-{int(time.time() * 1000)}"
    git("worktree", "add", "-b", branch, str(tmp / "wt"), head)
    wt = tmp / "wt"
    path = wt / TORCH_IMPL
    new = edit(path.read_text())
    path.write_text(new)
    git("-c", "user.name=prove-gate", "-c", "user.email=prove-gate@localhost", "commit", "-qam", message, cwd=wt)
    sha = git("rev-parse", "HEAD", cwd=wt)
    git("worktree", "remove", "--force", str(wt))
    return sha, branch


FROB = '''    def frobenius(A, B):
'''


def slow_frobenius(frac: float):
    def edit(text: str) -> str:
        assert FROB in text, "torch frobenius not found"
        start = text.index(FROB)
        body_start = start + len(FROB)
        end = text.index("\n\n", body_start)
        body = text[body_start:end]
        ret = body.rstrip().splitlines()[-1]
        assert ret.strip().startswith("return "), ret
        indent = ret[: len(ret) - len(ret.lstrip())]
        expr = ret.strip()[len("return "):]
        k = f"max(1, round({frac!r} * A.shape[-2]))"
        injected = (
            f"{indent}_extra = A[..., :{k}, :] - B[..., :{k}, :]  # injected slowdown ({frac:.0%} more work)\n"
            f"{indent}return {expr} + 0.0 * (_extra * _extra).sum()"
        )
        return text[:body_start] + body[: body.rindex(ret)] + injected + text[end:]

    return edit


def naive_mvn(text: str) -> str:
    """Make torch's mvn_nll call its naive sibling (same value mathematically, unstable)."""
    marker = "    def mvn_nll(x, mu, L):\n"
    assert marker in text
    return text.replace(marker, marker + "        return mvn_nll_naive(x, mu, L)\n", 1)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=10)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--fractions", default="0.10,0.25,0.50")
    ap.add_argument("--factor", type=float, default=None, help="the gate's slowdown factor (default: the gate's 1.2)")
    ap.add_argument("--skip-accuracy", action="store_true")
    ap.add_argument("--out", default=str(ROOT / "results" / "gate_proof.json"))
    ns = ap.parse_args()
    head = git("rev-parse", "HEAD")
    report: dict = {"head": head, "subset": SUBSET, "runs": ns.runs, "rounds": ns.rounds,
                    "factor": ns.factor or 1.2, "speed": {}}
    branches = []
    t0 = time.time()
    try:
        print(f"A/A: gate speed HEAD HEAD x{ns.runs}", flush=True)
        codes = [gate_speed(head, head, ns.rounds, ns.factor) for _ in range(ns.runs)]
        report["speed"]["A/A"] = {"false_alarms": codes.count(1), "failed": codes.count(2), "runs": len(codes)}
        for frac in (float(f) for f in ns.fractions.split(",")):
            sha, br = commit_variant(head, slow_frobenius(frac), f"TEMPORARY: torch frobenius {frac:.0%} slower")
            branches.append(br)
            print(f"slowdown {frac:.0%} ({sha[:10]}) x{ns.runs}", flush=True)
            codes = [gate_speed(head, sha, ns.rounds, ns.factor) for _ in range(ns.runs)]
            report["speed"][f"+{frac:.0%}"] = {"caught": codes.count(1), "failed": codes.count(2), "runs": len(codes)}
        if not ns.skip_accuracy:
            sha, br = commit_variant(head, naive_mvn, "TEMPORARY: torch mvn_nll computed naively")
            branches.append(br)
            with tempfile.TemporaryDirectory() as tmp:
                wt = Path(tmp) / "wt"
                git("worktree", "add", "--detach", str(wt), sha)
                env = dict(os.environ, PYTHONPATH=str(wt))
                out = Path(tmp) / "acc" / "sweep"
                subprocess.run([PY, "-m", "matloss_ref", "accuracy", "--quick", "--framework", "torch", "--out", str(out)],
                               cwd=wt, env=env, check=True, capture_output=True)
                base = ROOT / "results" / "accuracy" / "baseline_summary.csv"
                proc = subprocess.run([PY, "-m", "matloss_ref", "gate", "accuracy", "--baseline", str(base),
                                       "--current", str(out.parent / "sweep_summary.csv")], cwd=wt, env=env,
                                      capture_output=True, text=True)
                git("worktree", "remove", "--force", str(wt))
            flagged = [ln for ln in proc.stdout.splitlines() if "mvn_nll " in ln]
            report["accuracy"] = {"injected": "torch mvn_nll -> naive formula", "exit": proc.returncode,
                                  "cells_flagged": len(flagged), "example": flagged[:3]}
            print(f"accuracy: exit {proc.returncode}, {len(flagged)} mvn_nll cell(s) flagged", flush=True)
    finally:
        for br in branches:
            subprocess.run(["git", "branch", "-D", br], cwd=ROOT, capture_output=True)
    report["seconds"] = round(time.time() - t0)
    Path(ns.out).parent.mkdir(parents=True, exist_ok=True)
    Path(ns.out).write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps(report, indent=2))
    print(f"written to {ns.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
