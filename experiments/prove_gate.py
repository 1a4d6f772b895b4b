#!/usr/bin/env python
"""Proof that the gates work, on this machine: false-alarm and detection rates.

    .venv/bin/python experiments/prove_gate.py [--runs 10] [--rounds 8] [--factor 1.05] [--out results/gate_proof.json]
    .venv/bin/python experiments/prove_gate.py --change finite-check [--bench REGEX] [--aa-runs 20] [--runs 10] ...
    .venv/bin/python experiments/prove_gate.py --change finite-check-svd --bench PR_SUBSET --factor 1.2 --factor-long 1.04 ...

1. A/A: ``matloss gate speed HEAD HEAD`` on one cheap benchmark subset (torch's ``frobenius``,
   float64, n = 512, forward), ``--runs`` times: every exit status 1 is a false alarm (target 0).
2. Injected slowdowns: temporary commits (on throw-away branches, deleted afterwards) in which
   torch's ``frobenius`` is 10 %, 25 % and 50 % slower, each gated against HEAD ``--runs`` times:
   the detection rate (target: 25 % and 50 % always, 10 % at least 8 of 10). The slowdown is a
   busy wait, after each call, of that fraction of the time the call itself took, so "10 %" means
   10 % at whatever speed the machine has at that moment — extra tensor work instead would cost a
   fixed per-operation overhead on top and overshoot, and a fixed wait calibrated beforehand
   overshot too (1.17-1.20 measured for "10 %").
   ``--change finite-check`` (or ``finite-check-svd``) instead injects a real code change (no busy
   wait): torch's ``logdet`` (``condition_number``) first checks that its input is finite
   (``torch.isfinite(A).all()``, an extra pass over the matrix and more dispatches, the kind of
   check a developer adds), gated against HEAD on the subset ``--bench`` (default: that loss's
   forward in numpy and torch, float64, n = 128, eager).
3. Injected accuracy loss: a temporary commit in which torch's stable ``mvn_nll`` is replaced by
   the naive formula (``inv`` and ``log(det(Σ))``); the quick-grid sweep of that commit must fail
   ``matloss gate accuracy`` against the committed baseline.

The gate runs with its default runner (``--runner paired``; ``--runner asv`` for asv's, then with
``--launch-method spawn``: with one case per asv run, importing only torch costs a third of the
forkserver's import of all four frameworks). Every gate run keeps its samples (``--samples-out``),
so besides the exit status at ``--factor`` the report re-decides each run offline at the factors
of ``--also-factors`` (the gate's default 1.2 among them) with the same test: one set of runs, the
rates of several thresholds.

Nothing here is a test: the numbers depend on the machine and are reported, not asserted.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PY = sys.executable
SUBSET = r"bench_speed\.Forward\.time_forward\('frobenius', 'torch', 'cpu', 'float64', '512', 'eager'\)"
FROBENIUS = "matloss_ref/losses/frobenius.py"
LOGDET = "matloss_ref/losses/logdet.py"
#: the subset of ``--change finite-check`` (its ratio is read from the logdet case)
LOGDET_SUBSET = r"bench_speed\.Forward\.time_forward\('logdet', 'torch', 'cpu', 'float64', '128', 'eager'\)"
MVN_NLL = "matloss_ref/losses/mvn_nll.py"


def git(*args: str, cwd: Path = ROOT) -> str:
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True).stdout.strip()


def gate_speed(base: str, head: str, rounds: int, factor: float, also: list[float], samples_dir: Path, runner: str,
               subset: str = SUBSET, watch: str = "frobenius", factor_long: float | None = None) -> dict:
    """One gate run on ``subset``; its exit status at ``factor`` and, re-decided from its samples, at
    each of ``also``; the ratio of the case whose name contains ``watch`` (and every case's), and
    whether that case and how many others were judged slower.

    ``factor_long``: the gate's ``--factor-long`` (cases of 100 µs or more); the re-decisions then
    vary that factor and keep ``factor`` for the shorter cases."""
    from matloss.gate_speed import decide, exit_code, load_samples

    out = samples_dir / f"run-{len(list(samples_dir.glob('run-*.json'))):03d}.json"
    cmd_extra = ["--launch-method", "spawn"] if runner == "asv" else []
    cmd = [PY, "-m", "matloss", "gate", "speed", base, head, "-b", subset, "--rounds", str(rounds),
           "--factor", str(factor), "--samples-out", str(out), "--runner", runner]  # fmt: skip
    cmd += cmd_extra + (["--factor-long", str(factor_long)] if factor_long else [])
    t0 = time.monotonic()
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
    run = {"exit": proc.returncode, "seconds": round(time.monotonic() - t0, 1)}
    if out.exists():
        b, h, rnds, paired = load_samples(out)
        verdicts = decide(b, h, factor, rounds=rnds, paired=paired, long_factor=factor_long)
        run["ratios"] = {x.name: round(x.ratio, 4) for x in verdicts}
        v = next(v for v in verdicts if watch in v.name)
        run["ratio"] = round(v.ratio, 4)
        run["base_median_us"] = round(v.base_median * 1e6, 1)
        run["p"] = v.p_value
        run["round_ratios"] = [round(_round_ratio(bb[v.name], hh[v.name], paired), 4) for bb, hh in rnds]
        run["watch_slower"] = v.status == "slower"
        run["others_slower"] = sum(x.status == "slower" for x in verdicts if x.name != v.name)

        def at(f: float) -> list:
            if factor_long:
                return decide(b, h, factor, rounds=rnds, paired=paired, long_factor=f)
            return decide(b, h, f, rounds=rnds, paired=paired)

        run["exit_at"] = {f"{f:g}": exit_code(at(f)) for f in also}
    print(f"    exit {run['exit']} ratio {run.get('ratio')} rounds {run.get('round_ratios')} ({run['seconds']} s)", flush=True)
    if proc.returncode == 2:
        print(proc.stderr[-1500:], flush=True)
    return run


def _round_ratio(b: list[float], h: list[float], paired: bool) -> float:
    return statistics.median(y / x for x, y in zip(b, h)) if paired else statistics.median(h) / statistics.median(b)


def commit_variant(head: str, edit, message: str, file: str = FROBENIUS) -> tuple[str, str]:
    """A commit on top of ``head`` with ``edit(text) -> text`` applied to the loss file ``file``, made
    in a temporary worktree; returns its SHA (reachable from a throw-away branch until cleanup)."""
    tmp = Path(tempfile.mkdtemp(prefix="matloss-prove-"))
    branch = f"prove-gate-{os.getpid()}-{int(time.time() * 1000)}"
    git("worktree", "add", "-b", branch, str(tmp / "wt"), head)
    wt = tmp / "wt"
    path = wt / file
    new = edit(path.read_text())
    path.write_text(new)
    git("-c", "user.name=prove-gate", "-c", "user.email=prove-gate@localhost", "commit", "-qam", message, cwd=wt)
    sha = git("rev-parse", "HEAD", cwd=wt)
    git("worktree", "remove", "--force", str(wt))
    return sha, branch


FROB = """    def frobenius(A, B):
        D = A - B
        return (D * D).sum()
"""


def slow_frobenius(frac: float):
    """torch's frobenius, then a busy wait of ``frac`` times the time that call itself took.

    Self-calibrating: the wait follows the speed of the very call it slows, so "+10 %" stays 10 %
    whatever this machine's speed is at that moment. (A fixed wait calibrated once beforehand
    measured 1.17-1.20 for "+10 %": the gate's processes ran faster than the calibration's.) The
    wait is a fraction of the loss function's time, which is a little less than the timed call's
    (that adds the case's call overhead), so the injected slowdown errs on the small side."""

    def edit(text: str) -> str:
        assert FROB in text, "torch frobenius not found"
        injected = (
            "    def frobenius(A, B):\n"
            f"        import time as _time  # injected slowdown: +{frac:.0%} of this call's own time\n"
            "        _t0 = _time.perf_counter()\n"
            "        D = A - B\n"
            "        _out = (D * D).sum()\n"
            f"        _until = _time.perf_counter() + {frac!r} * (_time.perf_counter() - _t0)\n"
            "        while _time.perf_counter() < _until:\n"
            "            pass\n"
            "        return _out\n"
        )
        return text.replace(FROB, injected, 1)

    return edit


#: ``--change``'s real code changes: torch's implementation of a loss first checks that its input
#: is finite — (loss file, the function's ``def`` line, its input, the gate's default subset, the
#: watched case). The check costs about the same in both (~0.1 ms at n = 128), so it is ~40 % of
#: ``logdet``'s forward pass and a few percent of ``condition_number``'s (an SVD)
CHANGES = {
    "finite-check": (LOGDET, "    def logdet(A):\n", "A", LOGDET_SUBSET,
                     "time_forward('logdet', 'torch', 'cpu', 'float64', '128'"),
    "finite-check-svd": ("matloss_ref/losses/condition_number.py", "    def condition_number(S):\n", "S",
                         LOGDET_SUBSET.replace("'logdet'", "'condition_number'"),
                         "time_forward('condition_number', 'torch', 'cpu', 'float64', '128'"),
}


def finite_check(change: str):
    """The edit of ``change``: torch's loss, first checking that its input is finite."""
    _, marker, arg, _, _ = CHANGES[change]

    def edit(text: str) -> str:
        assert marker in text, f"{marker.strip()} not found"
        check = (f"        if not bool(torch.isfinite({arg}).all()):\n"
                 f"            raise ValueError(\"{arg} has a NaN or an infinite entry\")\n")
        return text.replace(marker, marker + check, 1)

    return edit


def naive_mvn(text: str) -> str:
    """Make torch's mvn_nll compute the naive formula (same value mathematically, unstable)."""
    marker = "    def mvn_nll(x, mu, L):\n"
    assert marker in text
    naive = ("        cov = L @ L.mT\n        r = x - mu\n"
             "        quad = (r.unsqueeze(-2) @ torch.linalg.inv(cov) @ r.unsqueeze(-1))[..., 0, 0]\n"
             "        return (0.5 * (x.shape[-1] * LOG_2PI + torch.log(torch.linalg.det(cov)) + quad)).sum()\n")
    return text.replace(marker, marker + naive, 1)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[1])
    ap.add_argument("--runs", type=int, default=10)
    ap.add_argument("--aa-runs", type=int, default=None, help="A/A runs (default: --runs)")
    ap.add_argument("--rounds", type=int, default=10, help="the gate's rounds (its default for the paired runner: 10)")
    ap.add_argument("--fractions", default="0.10,0.25,0.50")
    ap.add_argument("--change", choices=["busy-wait", *CHANGES], default="busy-wait",
                    help="the injected slowdown: busy waits of --fractions in torch frobenius (default), or a real "
                         "code change (a finiteness check of the input in torch logdet, or in condition_number)")
    ap.add_argument("--bench", default=None, help="the gate's subset (default: the change's own case)")
    ap.add_argument("--factor", type=float, default=1.05, help="the factor the gate runs with (default 1.05)")
    ap.add_argument("--also-factors", default="1.1,1.2", help="factors to re-decide each run at, from its samples")
    ap.add_argument("--factor-long", type=float, default=None,
                    help="the gate's --factor-long (cases of 100 µs or more); --also-factors then re-decide that factor")
    ap.add_argument("--runner", default="paired", choices=["paired", "asv"], help="the gate's runner (default paired)")
    ap.add_argument("--skip-accuracy", action="store_true")
    ap.add_argument("--skip-speed", action="store_true")
    ap.add_argument("--skip-aa", action="store_true", help="only the injected slowdowns (no A/A runs)")
    ap.add_argument("--out", default=str(ROOT / "results" / "gate_proof.json"))
    ns = ap.parse_args()
    aa_runs = ns.runs if ns.aa_runs is None else ns.aa_runs
    if ns.runs < 1 or aa_runs < 1 or ns.rounds < 1 or ns.factor <= 1:
        ap.error("--runs and --rounds must be >= 1 and --factor > 1")
    if ns.factor_long is not None and ns.factor_long <= 1:
        ap.error(f"--factor-long must be > 1, got {ns.factor_long}")
    try:
        fractions = [float(f) for f in ns.fractions.split(",")]
        also = sorted({ns.factor_long or ns.factor, *(float(f) for f in ns.also_factors.split(","))})
    except ValueError as exc:
        ap.error(f"--fractions / --also-factors: comma-separated numbers ({exc})")
    if any(not 0 < f < 10 for f in fractions) or any(f <= 1 for f in also):
        ap.error("--fractions must lie in (0, 10) and --also-factors above 1")
    head = git("rev-parse", "HEAD")
    finite = ns.change in CHANGES
    subset = ns.bench or (CHANGES[ns.change][3] if finite else SUBSET)
    watch = CHANGES[ns.change][4] if finite else "frobenius"
    report: dict = {"head": head, "subset": subset, "change": ns.change, "runs": ns.runs, "aa_runs": aa_runs,
                    "rounds": ns.rounds, "factor": ns.factor, "factor_long": ns.factor_long, "factors": also,
                    "runner": ns.runner, "speed": {}}  # fmt: skip
    branches = []
    t0 = time.time()
    samples_dir = Path(tempfile.mkdtemp(prefix="matloss-prove-samples-"))

    def summarise(runs: list[dict], key: str) -> dict:
        exits = [r["exit"] for r in runs]
        ratios = [r["ratio"] for r in runs if "ratio" in r]
        rates = {f: sum(r.get("exit_at", {}).get(f"{f:g}") == 1 for r in runs) for f in also}
        return {key: exits.count(1), "failed": exits.count(2), "runs": len(runs),
                "watched_case_slower": sum(bool(r.get("watch_slower")) for r in runs),
                "runs_with_another_case_slower": sum(r.get("others_slower", 0) > 0 for r in runs),
                f"{key}_at_factor": {f"{f:g}": n for f, n in rates.items()},
                "median_ratio": round(statistics.median(ratios), 4) if ratios else None,
                "gate_seconds_median": statistics.median(r["seconds"] for r in runs), "detail": runs}  # fmt: skip

    try:
        if not ns.skip_speed:
            if not ns.skip_aa:
                print(f"A/A: gate speed HEAD HEAD x{aa_runs}", flush=True)
                runs = [gate_speed(head, head, ns.rounds, ns.factor, also, samples_dir, ns.runner, subset, watch, ns.factor_long)
                        for _ in range(aa_runs)]
                report["speed"]["A/A"] = summarise(runs, "false_alarms")
            if finite:
                sha, br = commit_variant(head, finite_check(ns.change), f"TEMPORARY: {ns.change} in torch", CHANGES[ns.change][0])
                branches.append(br)
                print(f"{ns.change} in torch ({sha[:10]}) x{ns.runs}", flush=True)
                runs = [gate_speed(head, sha, ns.rounds, ns.factor, also, samples_dir, ns.runner, subset, watch, ns.factor_long)
                        for _ in range(ns.runs)]
                report["speed"][ns.change] = summarise(runs, "caught")
            for frac in ([] if finite else fractions):
                sha, br = commit_variant(head, slow_frobenius(frac), f"TEMPORARY: torch frobenius {frac:.0%} slower")
                branches.append(br)
                print(f"slowdown {frac:.0%} ({sha[:10]}) x{ns.runs}", flush=True)
                runs = [gate_speed(head, sha, ns.rounds, ns.factor, also, samples_dir, ns.runner, subset, watch, ns.factor_long)
                        for _ in range(ns.runs)]
                report["speed"][f"+{frac:.0%}"] = summarise(runs, "caught")
        if not ns.skip_accuracy:
            sha, br = commit_variant(head, naive_mvn, "TEMPORARY: torch mvn_nll computed naively", MVN_NLL)
            branches.append(br)
            with tempfile.TemporaryDirectory() as tmp:
                wt = Path(tmp) / "wt"
                git("worktree", "add", "--detach", str(wt), sha)
                env = dict(os.environ, PYTHONPATH=str(wt))
                out = Path(tmp) / "acc" / "sweep"
                subprocess.run(
                    [PY, "-m", "matloss", "accuracy", "--quick", "--framework", "torch", "--out", str(out)],
                    cwd=wt,
                    env=env,
                    check=True,
                    capture_output=True,
                )
                base = ROOT / "results" / "accuracy" / "baseline_summary.csv"
                proc = subprocess.run(
                    [
                        PY,
                        "-m",
                        "matloss",
                        "gate",
                        "accuracy",
                        "--baseline",
                        str(base),
                        "--current",
                        str(out.parent / "sweep_summary.csv"),
                    ],
                    cwd=wt,
                    env=env,
                    capture_output=True,
                    text=True,
                )
                git("worktree", "remove", "--force", str(wt))
            flagged = [ln for ln in proc.stdout.splitlines() if "mvn_nll " in ln]
            report["accuracy"] = {
                "injected": "torch mvn_nll -> naive formula",
                "exit": proc.returncode,
                "cells_flagged": len(flagged),
                "example": flagged[:3],
            }
            print(f"accuracy: exit {proc.returncode}, {len(flagged)} mvn_nll cell(s) flagged", flush=True)
    finally:
        shutil.rmtree(samples_dir, ignore_errors=True)
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
