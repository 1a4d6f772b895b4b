"""``matloss gate speed BASE HEAD --metric instructions``: did a change add instructions?

Both commits are checked out into temporary worktrees; the selected CPU timing cases (``-b``
regex over asv's names, default the pull-request subset of :data:`matloss.gate_speed.DEFAULT_BENCH`)
are counted by the instruction channel (:mod:`matloss.instructions`) with each commit's own code:
one warm call, twice in two valgrind processes per side.

Deciding (:func:`decide`): counts that hold still need no statistics. A case deterministic on
both sides (its two counts within 0.1 %) is *slower* when HEAD / BASE exceeds ``1 + threshold``
(default 1 %: ten times the determinism tolerance, so a deterministic case cannot cross it by
jitter), *faster* below ``1 / (1 + threshold)``, else *same*. A case nondeterministic on either
side is *unmeasured* (reported, never blocks: wall time is its gate); one that fails on HEAD
only is *failed*; one on one side only is *added* / *removed*. Exit status as the time gate:
2 if any failed, else 1 if any slower, else 0.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterable, Mapping
from pathlib import Path

from .gate_speed import DEFAULT_BENCH, Verdict, _git, exit_code

THRESHOLD = 0.01

Rows = Mapping[str, dict]  # asv name -> instruction row (matloss.instructions)


def decide(base: Rows, head: Rows, threshold: float = THRESHOLD) -> list[Verdict]:
    """One verdict per case present on either side; ``base_median`` / ``head_median`` hold the counts."""
    if not threshold > 0:
        raise ValueError(f"threshold must be > 0, got {threshold}")
    out = []
    for name in sorted(set(base) | set(head)):
        b, h = base.get(name), head.get(name)
        bc = b["instructions"] if b and b["status"] == "ok" else None
        hc = h["instructions"] if h and h["status"] == "ok" else None
        if h is None:
            out.append(Verdict(name, "removed", base_median=bc or float("nan")))
        elif b is None:
            out.append(Verdict(name, "failed" if h["status"] == "error" else "added", head_median=hc or float("nan")))
        elif h["status"] == "error":
            out.append(Verdict(name, "failed" if b["status"] != "error" else "same", base_median=bc or float("nan")))
        elif b["status"] == "error":
            out.append(Verdict(name, "added", head_median=hc or float("nan")))  # failed before, runs now
        elif bc is None or hc is None:
            out.append(Verdict(name, "unmeasured", base_median=bc or float("nan"), head_median=hc or float("nan")))
        else:
            ratio = hc / bc
            status = "slower" if ratio > 1 + threshold else "faster" if ratio < 1 / (1 + threshold) else "same"
            out.append(Verdict(name, status, bc, hc, ratio))
    return out


def markdown(verdicts: list[Verdict], rows: Mapping[str, Rows], base: str, head: str, threshold: float) -> str:
    counts = {s: sum(v.status == s for v in verdicts) for s in ("slower", "failed", "faster", "added", "removed", "unmeasured", "same")}
    title = {0: "pass", 1: "FAIL (more instructions)", 2: "FAIL (benchmark failed)"}[exit_code(verdicts)]
    lines = [
        f"### Instruction gate: {title}",
        "",
        f"`{base[:12]}` → `{head[:12]}`; instructions of one warm call under callgrind, counted twice per side; "
        f"slower/faster = HEAD/BASE beyond {1 + threshold:g}×. " + ", ".join(f"{k}: {n}" for k, n in counts.items()),
        "",
    ]
    shown = [v for v in verdicts if v.status != "same"]
    if not shown:
        return "\n".join(lines + [f"All {len(verdicts)} benchmark cases unchanged."]) + "\n"
    lines += ["| benchmark | verdict | base | head | ratio | note |", "|---|---|---|---|---|---|"]
    order = {"failed": 0, "slower": 1, "faster": 2, "unmeasured": 3, "added": 4, "removed": 5}
    for v in sorted(shown, key=lambda v: (order[v.status], -(v.ratio if v.ratio == v.ratio else 0))):
        note = ""
        if v.status in ("unmeasured", "failed"):
            note = "; ".join(f"{side}: {r[v.name]['reason']}" for side, r in rows.items()
                             if v.name in r and r[v.name]["status"] != "ok")[:300]
        fmt = (lambda x: "—" if x != x else f"{x:,.0f}")
        ratio = "—" if v.ratio != v.ratio else f"{v.ratio:.4f}×"
        lines.append(f"| `{v.name}` | {v.status} | {fmt(v.base_median)} | {fmt(v.head_median)} | {ratio} | {note} |")
    return "\n".join(lines) + "\n"


def _by_name(rows: Iterable[dict]) -> dict[str, dict]:
    return {r["name"]: r for r in rows}


def run(ns) -> int:
    from . import instructions

    threshold = ns.threshold if ns.threshold is not None else THRESHOLD
    why = instructions.unavailable()
    if why:
        print(f"matloss gate speed --metric instructions: {why}", file=sys.stderr)
        return 2
    root = Path(_git("rev-parse", "--show-toplevel"))
    try:
        shas = [_git("rev-parse", "--verify", f"{r}^{{commit}}", cwd=root) for r in ns.rest]
    except subprocess.CalledProcessError as exc:
        print(f"matloss gate speed: unknown commit ({exc.stderr.strip()})", file=sys.stderr)
        return 2
    bench = ns.bench or DEFAULT_BENCH
    tmp = Path(tempfile.mkdtemp(prefix="matloss-instrgate-"))
    rows: dict[str, dict[str, dict]] = {}
    try:
        for label, sha in zip(("base", "head"), shas):
            tree = tmp / label
            _git("worktree", "add", "--detach", str(tree), sha, cwd=root)
            # the case list comes from this checkout's grid; each side builds the cases with its own code
            cases = instructions.grid(bench, shapes=("16", "128", "512", "256x8"), dtypes=("float32", "float64"))
            if not cases:
                print(f"matloss gate speed: no CPU timing case matches {bench!r}", file=sys.stderr)
                return 2
            print(f"[gate instructions] {label} {sha[:12]}: {len(cases)} cases", file=sys.stderr, flush=True)
            rows[label] = _by_name(instructions.measure(cases, cwd=tree, env={"PYTHONPATH": str(tree)}))
    finally:
        for label in ("base", "head"):
            if (tmp / label).exists():
                subprocess.run(["git", "worktree", "remove", "--force", str(tmp / label)], cwd=root, capture_output=True)
        shutil.rmtree(tmp, ignore_errors=True)
    verdicts = decide(rows["base"], rows["head"], threshold)
    report = markdown(verdicts, rows, shas[0], shas[1], threshold)
    print(report)
    if ns.summary_file:
        with open(ns.summary_file, "a") as f:
            f.write(report + "\n")
    if ns.samples_out:
        import json

        Path(ns.samples_out).write_text(json.dumps({"base": shas[0], "head": shas[1], "rows": rows,
                                                    "verdicts": [v.__dict__ for v in verdicts]}, indent=1, default=str))
    return exit_code(verdicts)
