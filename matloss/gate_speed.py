"""``matloss gate speed BASE HEAD``: did a change make a benchmark slower?

Running: both commits are checked out into temporary worktrees and the selected timing cases of
their suites (asv's benchmark names, ``-b`` regex) are run on this machine in the same session,
with BLAS / OpenMP / framework thread pools pinned to one thread. Two runners:

- ``paired`` (default): per round, one fresh process per commit, both pinned to the same CPU;
  for each case both build the suites' prepared callable, then take ``--pairs`` pairs of ~10 ms
  samples back to back (same call count, alternating which goes first). On a shared machine whose
  speed drifts by tens of percent from one second to the next, the two members of a pair see the
  same moment; the rounds (fresh processes, alternating which starts first) sample the
  per-process effects that pairing cannot cancel.
- ``asv``: ``asv run --python=same --set-commit-hash --record-samples`` per commit and round,
  interleaved (BASE, HEAD, HEAD, BASE, ...); it also runs ``peakmem_*`` / ``track_*`` benchmarks.

Deciding (ours, not asv's), see ``decide``: paired runner — the rounds' ratios (each the median
of that round's per-pair ratios) averaged in logs with the start order as a block, beyond the
factor (default 1.2) **and** its one-sided t-test below alpha (default 0.01); asv runner — the
median ratio beyond the factor pooled **and** in every round **and** one-sided Mann-Whitney U on
the pooled samples below alpha (both tests from scipy); *faster* symmetrically; otherwise
*same*. A benchmark that ran on BASE but failed on HEAD is *failed*; one on one side
only is *added* / *removed* (a changed parameter grid shows as removed + added cases). Exit
status: 2 if any benchmark failed (or the gate could not run), else 1 if any is slower, else 0.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from itertools import product
from pathlib import Path

from scipy.stats import linregress, mannwhitneyu
from scipy.stats import t as student_t

from .threads import SINGLE_THREAD_ENV as THREAD_ENV

FACTOR = 1.2
ALPHA = 0.01
#: a case whose BASE median is at least this long may have a smaller factor of its own
#: (``long_factor``, ``--factor-long``): µs-scale cases jump between the machine's speed levels, cases
#: of 100 µs and more average over them
LONG_S = 100e-6
ROUNDS = 3  # asv runner
PAIRED_ROUNDS = 10  # paired runner: fresh processes per round, the test's units
MIN_PAIRED_ROUNDS = 4  # two per start order: the blocked test's residuals need 2 degrees of freedom
#: the default pull-request subset: float64 eager CPU forward and backward at n = 128 of one loss per
#: family, in numpy and torch (asv matches the regex against "name(param, ...)")
DEFAULT_BENCH = (
    r"bench_speed\.(Forward\.time_forward|Backward\.time_backward)\("
    r"'(logdet|frobenius|logdet_divergence|soft_orthogonality|mvn_nll|condition_number)', "
    r"'(numpy|torch)', 'cpu', 'float64', '128', 'eager'\)"
)

Samples = Mapping[str, list[float] | None]  # "bench(params)" -> samples (None: failed / skipped with error)


@dataclass
class Verdict:
    name: str
    status: str  # slower, faster, same, failed, added, removed
    base_median: float = math.nan
    head_median: float = math.nan
    ratio: float = math.nan
    p_value: float = math.nan
    factor: float = math.nan  # the factor this case was judged at


def decide(
    base: Samples,
    head: Samples,
    factor: float = FACTOR,
    alpha: float = ALPHA,
    rounds: list[tuple[Samples, Samples]] | None = None,
    paired: bool = False,
    long_factor: float | None = None,
) -> list[Verdict]:
    """One verdict per benchmark case present on either side.

    ``long_factor``: the factor of cases whose BASE median is at least :data:`LONG_S` (default:
    ``factor`` for every case).

    ``rounds``: the (base, head) samples of each interleaved round. Samples within one asv run are
    correlated (they share that moment's machine load), so with rounds a change must also show in
    every round's own median ratio, not only in the pooled test.

    ``paired``: within each round, base sample i and head sample i were taken back to back (the
    paired runner), so a slow or fast moment of the machine hits both members of a pair and
    cancels; a round's ratio is the median of its per-pair ratios. What pairing cannot cancel is
    the per-process offset (two processes of the same code differ by several percent here), and
    the process that starts and prepares first in a round tends to be the slower one, so the
    rounds, each with fresh processes and alternating which commit starts (even rounds: base), are
    the independent units, and the start order is a block: see ``blocked_ratio``. Cases whose
    rounds do not pair up (different sample counts), or fewer than ``MIN_PAIRED_ROUNDS``, fall back
    to the unpaired rule.
    """
    if factor <= 1:
        raise ValueError(f"factor must be > 1, got {factor}")
    if long_factor is not None and long_factor <= 1:
        raise ValueError(f"long_factor must be > 1, got {long_factor}")
    if not 0 < alpha < 1:
        raise ValueError(f"alpha must be in (0, 1), got {alpha}")
    out = []
    for name in sorted(set(base) | set(head)):
        b, h = base.get(name, "absent"), head.get(name, "absent")
        if h == "absent":
            out.append(Verdict(name, "removed", base_median=_median(b)))
            continue
        if b == "absent":
            out.append(Verdict(name, "added" if h else "failed", head_median=_median(h)))
            continue
        if not h:
            out.append(Verdict(name, "failed" if b else "same", base_median=_median(b)))
            continue
        if not b:
            out.append(Verdict(name, "added", head_median=_median(h)))  # failed before, runs now
            continue
        bm, hm = statistics.median(b), statistics.median(h)
        f = long_factor if long_factor is not None and bm >= LONG_S else factor
        pairs = _pairs(name, rounds) if paired else None
        if pairs and len(pairs) < MIN_PAIRED_ROUNDS:
            pairs = None  # too few rounds for the blocked test
        if pairs:
            ratio, p_greater = blocked_ratio([statistics.median(r) for r in pairs])
        else:
            ratio = hm / bm if bm > 0 else math.inf
            per_round = _round_ratios(name, rounds)
        status, p = "same", math.nan
        for direction, beyond, word in (("greater", ratio > f, "slower"), ("less", ratio < 1 / f, "faster")):
            if not beyond:
                continue
            if pairs:  # rounds are the independent units; the test across them is the evidence
                p = p_greater if direction == "greater" else 1.0 - p_greater
                every = True
            else:
                p = float(mannwhitneyu(h, b, alternative=direction).pvalue)
                every = all(r > f for r in per_round) if word == "slower" else all(r < 1 / f for r in per_round)
            status = word if p < alpha and every else "same"
        out.append(Verdict(name, status, bm, hm, ratio, p, f))
    return out


def blocked_ratio(round_ratios: list[float]) -> tuple[float, float]:
    """The change and its evidence from a paired run's round ratios: ``(ratio, p)``, p one-sided
    for "head slower" (``1 - p`` for "faster").

    Round r started base first when r is even, head first when odd. The log round ratios are
    fitted as ``mean + effect * order`` (order = -1 / +1; scipy's ``linregress``), so a start-order
    effect (measured here: the first-started process a few to ~50 % slower) cancels in the mean
    however many rounds of each kind there are; the ratio is ``exp(mean)``, and the test is the
    t-test of the mean with n - 2 degrees of freedom. (A signed-rank test across rounds instead
    ignores the blocks, and at 8 rounds needs 7 of them one way, the 8th the closest to 1.)
    """
    if len(round_ratios) < MIN_PAIRED_ROUNDS:
        raise ValueError(f"the blocked test needs at least {MIN_PAIRED_ROUNDS} rounds, got {len(round_ratios)}")
    logs = [math.log(x) for x in round_ratios]
    order = [1.0 if r % 2 else -1.0 for r in range(len(logs))]
    fit = linregress(order, logs)
    mean, se = float(fit.intercept), float(fit.intercept_stderr)
    if not se > 0:  # a perfect fit: the sign alone is the evidence
        return math.exp(mean), 0.0 if mean > 0 else 1.0 if mean < 0 else 0.5
    return math.exp(mean), float(student_t.sf(mean / se, len(logs) - 2))


def _round_ratios(name: str, rounds: list[tuple[Samples, Samples]] | None) -> list[float]:
    out = []
    for b, h in rounds or []:
        if b.get(name) and h.get(name):
            out.append(statistics.median(h[name]) / statistics.median(b[name]))
    return out


def _pairs(name: str, rounds: list[tuple[Samples, Samples]] | None) -> list[list[float]] | None:
    """Per round, the per-pair ratios head_i / base_i; None unless every round pairs up."""
    out = []
    for b, h in rounds or []:
        bs, hs = b.get(name), h.get(name)
        if not bs or not hs or len(bs) != len(hs) or min(bs) <= 0:
            return None
        out.append([y / x for x, y in zip(bs, hs)])
    return out or None


def _median(x) -> float:
    return statistics.median(x) if x else math.nan


def exit_code(verdicts: Iterable[Verdict]) -> int:
    statuses = {v.status for v in verdicts}
    return 2 if "failed" in statuses else 1 if "slower" in statuses else 0


def _fmt_time(t: float) -> str:
    if math.isnan(t):
        return "—"
    for unit, scale in (("s", 1.0), ("ms", 1e-3), ("µs", 1e-6), ("ns", 1e-9)):
        if t >= scale:
            return f"{t / scale:.3g} {unit}"
    return f"{t:.3g} s"


def markdown(verdicts: list[Verdict], base: str, head: str, factor: float, alpha: float, paired: bool = False,
             long_factor: float | None = None) -> str:
    counts = {s: sum(v.status == s for v in verdicts) for s in ("slower", "failed", "faster", "added", "removed", "same")}
    code = exit_code(verdicts)
    title = {0: "pass", 1: "FAIL (slower)", 2: "FAIL (benchmark failed)"}[code]
    test = "t-test across rounds (start order as block)" if paired else "Mann-Whitney"
    rule = "the rounds' paired ratios, averaged" if paired else "median ratio (pooled and in every round)"
    lines = [
        f"### Speed gate: {title}",
        "",
        f"`{base[:12]}` → `{head[:12]}`; slower/faster = {rule} beyond {factor:g}× "
        + (f"({long_factor:g}× for cases of {_fmt_time(LONG_S)} or more) " if long_factor is not None else "") +
        f"**and** one-sided {test} p < {alpha:g}. " + ", ".join(f"{k}: {n}" for k, n in counts.items()),
        "",
    ]
    shown = [v for v in verdicts if v.status != "same"]
    if shown:
        lines += ["| benchmark | verdict | base | head | ratio | p |", "|---|---|---|---|---|---|"]
        order = {"failed": 0, "slower": 1, "faster": 2, "added": 3, "removed": 4}
        for v in sorted(shown, key=lambda v: (order[v.status], -v.ratio if not math.isnan(v.ratio) else 0)):
            ratio = "—" if math.isnan(v.ratio) else f"{v.ratio:.2f}×"
            p = "—" if math.isnan(v.p_value) else f"{v.p_value:.2g}"
            lines.append(f"| `{v.name}` | {v.status} | {_fmt_time(v.base_median)} | {_fmt_time(v.head_median)} | {ratio} | {p} |")
    else:
        lines.append(f"All {len(verdicts)} benchmark cases unchanged.")
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------------------------------------
# reading asv results
# ---------------------------------------------------------------------------------------------
def read_samples(result_files: Iterable[Path]) -> dict[str, list[float] | None]:
    """Pool the recorded samples of asv result files: {"bench(p1, p2)": samples or None}."""
    pooled: dict[str, list[float] | None] = {}
    for path in result_files:
        data = json.loads(Path(path).read_text())
        cols = data.get("result_columns") or []
        for bench, entry in data.get("results", {}).items():
            row = dict(zip(cols, entry))
            params = row.get("params") or []
            combos = [", ".join(map(str, c)) for c in product(*params)] if params else [""]
            values = row.get("result")
            samples = row.get("samples")
            if not isinstance(values, list):
                values = [values]
            if samples is None:
                samples = [None] * len(values)
            for combo, value, smp in zip(combos, values, samples):
                key = f"{bench}({combo})" if combo else bench
                if isinstance(value, float) and math.isnan(value):
                    continue  # NaN: skipped (NotImplementedError) or not selected by -b
                if value is None:
                    pooled.setdefault(key, None)  # None: the benchmark failed (unless another round ran it)
                    continue
                got = [float(s) for s in smp] if smp else [float(value)]
                prev = pooled.get(key)
                pooled[key] = (prev or []) + got
    return pooled


# ---------------------------------------------------------------------------------------------
# the paired runner
# ---------------------------------------------------------------------------------------------
PAIRS = 10
_WORKER_SOURCE = Path(__file__).with_name("_paired_worker.py")


class _Worker:
    """A process running one commit's suites (``_paired_worker.py``), pinned to ``cpu``."""

    def __init__(self, worktree: Path, cpu: int | None, log, wait: bool = True):
        inputs = worktree.parent / f"{worktree.name}-inputs"
        inputs.mkdir(exist_ok=True)
        env = dict(os.environ, **THREAD_ENV, PYTHONPATH=str(worktree), MATLOSS_PAIRED_INPUTS=str(inputs))
        if cpu is not None:
            env["MATLOSS_PAIRED_CPU"] = str(cpu)
        self.worktree = worktree
        self.proc = subprocess.Popen([sys.executable, "-c", _WORKER_SOURCE.read_text()], cwd=worktree, env=env, text=True,
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=log)  # fmt: skip
        if wait:
            self.ready()

    def ready(self) -> None:
        """Wait for the worker's hello and check it runs its own commit's code."""
        hello = self._read()
        where = hello.get("ok", "")
        if not where.startswith(str(self.worktree.resolve())):
            self.close()
            raise RuntimeError(f"the worker for {self.worktree} imports matloss_ref from {where or hello}")

    def _read(self) -> dict:
        line = self.proc.stdout.readline()
        if not line:
            return {"error": f"worker exited (status {self.proc.wait()})", "dead": True}
        return json.loads(line)

    def ask(self, **req) -> dict:
        try:
            self.proc.stdin.write(json.dumps(req) + "\n")
            self.proc.stdin.flush()
        except BrokenPipeError:
            return {"error": f"worker exited (status {self.proc.wait()})", "dead": True}
        return self._read()

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.stdin.close()
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()


def run_paired(
    trees: dict[str, Path], bench: str, rounds: int, pairs: int, log, warmup: bool = True
) -> list[tuple[Samples, Samples]]:
    """Each round: one fresh process per commit, both pinned to the same CPU; per selected case,
    both prepare it, then take ``pairs`` pairs of ~10 ms samples (same call count on both sides),
    alternating which side goes first (ABBA). Each timed sample follows an untimed one of the same
    length in the same process: on this VM the first ~10 ms after the CPU switches from one
    process to the other ran up to 1.8x slower (with ABBA, every other sample of each side), which
    split a round's pair ratios into two clusters and made their median jump between them (A/A
    round ratios 0.80-1.09 without the warm-up sample, 0.95-1.03 with it: ``experiments/switch_penalty.py``;
    ``warmup=False`` drops it). Returns each round's (base, head) samples."""
    import re

    regex = re.compile(bench)
    cpus = sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else []
    cpu = cpus[-1] if cpus else None
    out: list[tuple[Samples, Samples]] = []
    cases: dict[str, dict[str, tuple[list, bool]]] = {}
    for r in range(rounds):
        first = ("base", "head") if r % 2 == 0 else ("head", "base")  # who starts and prepares first alternates
        workers = {label: _Worker(trees[label], cpu, log, wait=False) for label in first}  # imports overlap; untimed
        for w in workers.values():
            w.ready()
        try:
            if not cases:
                for label in ("base", "head"):
                    listed = workers[label].ask(op="list")
                    if "ok" not in listed:
                        raise RuntimeError(f"{label}: could not list the benchmarks: {listed.get('error')}")
                    cases[label] = {name: (case, bw) for name, case, bw in listed["ok"] if regex.search(name)}
            got: dict[str, dict] = {"base": {}, "head": {}}
            names = sorted(set(cases["base"]) | set(cases["head"]))
            for i, name in enumerate(names):
                print(f"[gate speed] round {r + 1}/{rounds} case {i + 1}/{len(names)}: {name}", file=log, flush=True)
                ready = {}
                for label in first:
                    w = workers[label]
                    if name not in cases[label]:
                        continue
                    case, backward = cases[label][name]
                    reply = w.ask(op="prepare", case=case, backward=backward)
                    if reply.get("dead"):  # a crash is this case's failure; the next case gets a fresh process
                        workers[label] = _Worker(trees[label], cpu, log)
                    if "ok" in reply:
                        ready[label] = int(reply["ok"])
                    elif "error" in reply:
                        print(f"[gate speed] {label} failed {name}: {reply['error']}", file=log, flush=True)
                        got[label][name] = None
                    # "skip": the case cannot run on this side (not installed, no GPU, ...): absent
                n = ready.get("base") or ready.get("head")
                samples: dict[str, list[float]] = {label: [] for label in ready}
                for k in range(pairs):
                    order = [lab for lab in (("base", "head") if k % 2 == 0 else ("head", "base")) if lab in ready]
                    for label in order:
                        reply = workers[label].ask(op="sample", n=n, warm=n if warmup else 0)
                        if "ok" not in reply:
                            print(f"[gate speed] {label} failed {name}: {reply.get('error')}", file=log, flush=True)
                            ready.pop(label)
                            samples.pop(label, None)
                            got[label][name] = None
                            if reply.get("dead"):
                                workers[label] = _Worker(trees[label], cpu, log)
                            continue
                        samples[label].append(reply["ok"])
                for label, smp in samples.items():
                    got[label][name] = smp
            out.append((got["base"], got["head"]))
        finally:
            for w in workers.values():
                w.close()
    return out


# ---------------------------------------------------------------------------------------------
# the asv runner, and running both commits
# ---------------------------------------------------------------------------------------------
def _git(*args: str, cwd: Path | None = None) -> str:
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True).stdout.strip()


def _run_side(root: Path, worktree: Path, sha: str, bench: str, results: Path, log, launch_method: str | None = None) -> Path:
    """One asv run of one commit's suites in the current environment; returns its results dir."""
    from asv.util import load_json  # asv.conf.json allows // comments

    conf = load_json(str(root / "asv.conf.json"), js_comments=True)
    conf.update(
        repo=str(root),
        benchmark_dir=str(worktree / conf.get("benchmark_dir", "suites")),
        results_dir=str(results),
        html_dir=str(results / "html"),
    )
    conf_path = results.parent / f"{results.name}.asv.conf.json"
    results.mkdir(parents=True, exist_ok=True)
    conf_path.write_text(json.dumps(conf))
    env = dict(os.environ, **THREAD_ENV, ASV_PYTHONPATH=str(worktree), PYTHONPATH=str(worktree))
    cmd = [
        sys.executable,
        "-m",
        "asv",
        "run",
        "--config",
        str(conf_path),
        "--python=same",
        "--set-commit-hash",
        sha,
        "--record-samples",
        "-b",
        bench,
        "--machine",
        _machine(),
    ]
    if launch_method:
        cmd += ["--launch-method", launch_method]
    print(f"  $ {' '.join(cmd[2:])}", file=log, flush=True)
    proc = subprocess.run(cmd, env=env, cwd=worktree, capture_output=True, text=True)
    print(proc.stdout[-2000:], proc.stderr[-2000:], file=log, flush=True)
    return results


def _machine() -> str:
    import platform

    return os.environ.get("MATLOSS_ASV_MACHINE", platform.node() or "localhost")


def write_samples(
    path: Path,
    base: str,
    head: str,
    factor: float,
    alpha: float,
    per_round: list[tuple[Samples, Samples]],
    verdicts: list[Verdict],
    paired: bool = False,
    long_factor: float | None = None,
) -> None:
    """The gate's evidence as JSON: every round's samples per side, and the verdicts. ``load_samples``
    reads it back, so the decision can be re-made offline (another factor or alpha) with ``decide``."""
    doc = {
        "base": base, "head": head, "factor": factor, "long_factor": long_factor, "long_s": LONG_S, "alpha": alpha,
        "paired": paired, "rounds": [{"base": dict(b), "head": dict(h)} for b, h in per_round],
        "verdicts": [vars(v) for v in verdicts],
    }  # fmt: skip
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(doc, indent=1, allow_nan=True) + "\n")


def _pool(rounds: list[tuple[Samples, Samples]]) -> list[dict[str, list[float] | None]]:
    """Pooled (base, head) samples over rounds; a case failed in every round stays None."""
    pooled = []
    for side in (0, 1):
        acc: dict[str, list[float] | None] = {}
        for pair in rounds:
            for name, smp in pair[side].items():
                acc[name] = (acc.get(name) or []) + list(smp) if smp else acc.get(name)
        pooled.append(acc)
    return pooled


def load_samples(path: Path) -> tuple[Samples, Samples, list[tuple[Samples, Samples]], bool]:
    """(pooled base, pooled head, per-round (base, head) samples, paired) from a ``--samples-out`` file."""
    doc = json.loads(Path(path).read_text())
    rounds = [(r["base"], r["head"]) for r in doc["rounds"]]
    pooled = _pool(rounds)
    return pooled[0], pooled[1], rounds, bool(doc.get("paired"))


def run_speed_gate(ns) -> int:
    if len(ns.rest) != 2:
        print("usage: matloss gate speed BASE HEAD [-b REGEX] [--factor F] [--alpha A] [--rounds R]", file=sys.stderr)
        return 2
    factor = ns.factor or FACTOR
    alpha = ns.alpha or ALPHA
    paired = ns.runner != "asv"
    rounds = ns.rounds or (PAIRED_ROUNDS if paired else ROUNDS)
    bench = ns.bench or DEFAULT_BENCH
    ns.factor_long = getattr(ns, "factor_long", None)
    if (factor <= 1 or not 0 < alpha < 1 or rounds < 1 or (ns.pairs is not None and ns.pairs < 3)
            or (ns.factor_long is not None and ns.factor_long <= 1)):
        print("matloss gate speed: need --factor > 1, --factor-long > 1, 0 < --alpha < 1, --rounds >= 1, --pairs >= 3",
              file=sys.stderr)
        return 2
    if paired and rounds < MIN_PAIRED_ROUNDS:
        print(f"matloss gate speed: the paired runner tests across rounds, two start orders as blocks; --rounds {rounds} "
              f"is too few (need >= {MIN_PAIRED_ROUNDS})", file=sys.stderr)  # fmt: skip
        return 2
    if ns.samples_out and Path(ns.samples_out).is_dir():
        print(f"matloss gate speed: --samples-out {ns.samples_out} is a directory; give a file name", file=sys.stderr)
        return 2
    root = Path(_git("rev-parse", "--show-toplevel"))
    try:
        base, head = (_git("rev-parse", "--verify", f"{r}^{{commit}}", cwd=root) for r in ns.rest)
    except subprocess.CalledProcessError as exc:
        print(f"matloss gate speed: unknown commit ({exc.stderr.strip()})", file=sys.stderr)
        return 2
    tmp = Path(tempfile.mkdtemp(prefix="matloss-speedgate-"))
    log = sys.stderr
    try:
        trees = {}
        for label, sha in (("base", base), ("head", head)):
            trees[label] = tmp / label
            _git("worktree", "add", "--detach", str(trees[label]), sha, cwd=root)
        if paired:
            per_round = run_paired(trees, bench, rounds, ns.pairs or PAIRS, log)
        else:
            files: dict[str, list[list[Path]]] = {"base": [], "head": []}
            for r in range(rounds):
                order = ("base", "head") if r % 2 == 0 else ("head", "base")
                for label in order:
                    print(f"[gate speed] round {r + 1}/{rounds}: {label} {trees[label].name}", file=log, flush=True)
                    sha = base if label == "base" else head
                    res = _run_side(root, trees[label], sha, bench, tmp / f"res-{label}-{r}", log, ns.launch_method)
                    files[label].append([p for p in res.rglob("*.json") if p.name not in ("machine.json", "benchmarks.json")])
            per_round = [(read_samples(b), read_samples(h)) for b, h in zip(files["base"], files["head"])]
        pooled = _pool(per_round)
        verdicts = decide(pooled[0], pooled[1], factor, alpha, rounds=per_round, paired=paired, long_factor=ns.factor_long)
    finally:
        for label in ("base", "head"):
            if (tmp / label).exists():
                subprocess.run(["git", "worktree", "remove", "--force", str(tmp / label)], cwd=root, capture_output=True)
        shutil.rmtree(tmp, ignore_errors=True)
    if not verdicts:
        print(f"matloss gate speed: no benchmark matched {bench!r} and ran on either commit (all skipped here?)", file=sys.stderr)
        return 2
    if ns.samples_out:
        write_samples(Path(ns.samples_out), base, head, factor, alpha, per_round, verdicts, paired, ns.factor_long)
    report = markdown(verdicts, base, head, factor, alpha, paired, ns.factor_long)
    print(report)
    if ns.summary_file:
        with open(ns.summary_file, "a") as f:
            f.write(report + "\n")
    return exit_code(verdicts)
