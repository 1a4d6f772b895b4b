"""The instruction-count channel: the instructions of one warm call of a CPU speed case, under callgrind.

Wall time on a shared machine moves by tens of percent between runs of the same code; the
number of instructions one call executes does not. Per case (the timing grid's CPU cases at
:data:`SHAPES` and :data:`DTYPES`):

- the case's warm callable is built exactly as the timing suites build it
  (:func:`matloss.cases.prepared`: same inputs, same compile, first call done), every case of
  the phase (eager or compiled) first; then callgrind's client requests (valgrind's own
  ``callgrind.h``, :mod:`matloss.callgrind`) switch instrumentation on once for the phase (each
  switch discards valgrind's translations), and case after case is called :data:`WARM_CALLS` more times, the
  counters zeroed, and :data:`COUNTED_CALLS` consecutive calls counted, with a dump after each
  under the case's label (a dump restarts the counters, so the dumps partition the window);
  Python's garbage collector is off meanwhile, as under timeit. The case's count is the minimum
  of those calls. Every thread's instructions count (``--separate-threads=no``): XLA runs a
  jit'd computation on a thread of its own while the caller waits, and with threads profiled
  separately callgrind's zero and dump act on the calling thread only (jax's compiled
  ``logdet`` read 57 k instructions, its LU alone needs more than 175 k) — except the idle
  polling of a pool thread (:data:`IDLE_SPIN`), which is left out of each call's count;
- the process runs under valgrind with instrumentation off outside those windows
  (``--instr-atstart=no``: imports and compiles run at valgrind's uninstrumented speed), pinned
  to one CPU (:class:`_Cpus`), one thread in every library pool
  (:data:`matloss.threads.SINGLE_THREAD_ENV`), ``PYTHONHASHSEED=0``, address randomisation off
  (``setarch -R``), :data:`VALGRIND_ENV` and jemalloc as the allocator (:data:`ALLOCATOR`);
- cases are batched: one valgrind process per framework (``_instructions_worker.py``), which
  prepares and counts its eager cases before it prepares any compiled one (:data:`PHASES`:
  compiled cases' state moves the counts of eager cases run after them), each started once the
  ordinary (valgrind-free) processes it needs are done (:func:`run_graph`): one that draws every
  input, and its framework's, which fills the persistent compile caches, so compiled cases load
  their programs instead of compiling them under valgrind;
- every batch runs twice, in two processes. A case whose two counts differ by more than
  :data:`TOLERANCE` (0.1 %) is *nondeterministic*: reported with what was seen (threads alive
  during the call) and left out of the channel.

``python -m matloss.instructions [--bench REGEX] [--out FILE]`` measures and writes the table;
the asv suite ``suites/bench_instructions.py`` reports it as ``track_`` benchmarks, and
``matloss gate speed --metric instructions`` compares two commits with it.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import json
import os
import queue
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path

from .threads import SINGLE_THREAD_ENV

#: the sizes of the channel: n = 128, the size of the main job's subset and of the pull-request
#: gates; a loss's count scales smoothly with n, and each further size would add as many
#: instrumented calls again to a channel that already takes most of its 15 minutes
#: (docs/instructions.md, "What is counted")
SHAPES = ("128",)
DTYPES = ("float64",)
#: two counts of one case further apart than this (relative) make it nondeterministic
TOLERANCE = 1e-3
REPEATS = 2
#: calls of the prepared case before the counted ones (the preparation already made the first),
#: instrumented but not counted, right before them. One since the series "instructions-6" (was 2):
#: the counted window starts a call earlier, so it holds the old window's first five calls and the
#: call before them; the sixth call lowered the least of the first five by more than 0.1 % in 66
#: of 504 process-cases, a change of the count the new series starts with, not of its repeatability
#: (the first two calls alone left the same cases deterministic in both processes: the calls of a
#: window repeat across processes). An instrumented call costs what a counted one does: the two warm
#: calls were 231 of the 2036 core-seconds of a channel run's valgrind processes (docs/instructions.md, "Where the time goes")
WARM_CALLS = 1
#: consecutive calls counted per case in one process; the case's count is their minimum. Single
#: calls differ within a process: torch eager's first calls after warm-up read a few percent more
#: (allocator and dispatcher state), numpy's ``logdet`` reads 1.371-1.395 M over six calls, and a
#: thread of TF's pools now and then spins through a whole valgrind time slice (~100 k
#: instructions) while the other waits. Extra work only adds, so the least of the calls is the call
#: without it (measured against the median, the mean and a trimmed mean: docs/instructions.md).
#: Each instrumented call costs a tenth of a second to a second under callgrind, most of a batch's
#: time: 2 + 6 instead of 5 + 10 (and instrumentation switched once per batch) took numpy's batch
#: from 144 s to 76 s, all 36 cases still deterministic, and the whole channel from 27 to 13 min,
#: with 219 of 252 cases deterministic instead of 234 (jax's calls scatter by up to 1 % in a
#: process, and six do not always reach the floor). Counting until the two lowest calls agreed (3
#: to 10) was tried and dropped: 17 min, 188 of 252 (docs/instructions.md)
COUNTED_CALLS = 6
#: what valgrind can run and what keeps a count repeatable: valgrind 3.19 decodes no AVX-512, so
#: torch's kernels are pinned to AVX2 and inductor compiles for Haswell (natively too, in the warm
#: pass that fills the compile cache the valgrind processes load); inductor compiles in the process
#: (no pool of compile workers, whose thread wakes up during counted calls). jax's dispatch is set
#: in the worker, not here: its ``jax_cpu_enable_async_dispatch`` is read from no environment
#: variable (``_instructions_worker.jax_inline``)
VALGRIND_ENV = {
    "ATEN_CPU_CAPABILITY": "avx2",
    "TORCHINDUCTOR_CPP_MARCH": "haswell",
    "TORCHINDUCTOR_COMPILE_THREADS": "1",
}

#: the allocator of the counted processes: jemalloc (Debian's ``libjemalloc2``), one arena, every
#: block up to 1 MiB served from the thread's cache, no purging on a timer. glibc's allocator walks
#: free lists whose length depends on what was freed before, and which thread freed it: the same jax
#: call read up to 0.8 % apart in two processes, the difference all in ``_int_free`` /
#: ``_int_malloc`` / ``_int_memalign``, even with its tunables set for the same purpose (one arena,
#: a large thread cache, a low mmap threshold). jemalloc's fast paths cost the same whatever came
#: before (measured: docs/instructions.md). Its thread cache's garbage collection is off: by
#: default, after every 64 KiB allocated, jemalloc hands part of each cached size class back to the
#: arena, so whether a counted call pays for that and for refilling depends on how many bytes
#: everything before it allocated; a longer worker text or a few hundred objects more moved numpy's
#: and torch's eager counts by up to 2.0 % with it on, 0.48 % off
#: (``experiments/allocator_layout.py``).
ALLOCATOR = "libjemalloc.so.2"
ALLOCATOR_CONF = "narenas:1,tcache_max:1048576,dirty_decay_ms:-1,muzzy_decay_ms:-1,tcache_gc_incr_bytes:1000000000000000"


def allocator_env() -> dict[str, str]:
    """The environment that preloads :data:`ALLOCATOR`; ``Unavailable`` where it is not installed."""
    import ctypes.util

    from .callgrind import Unavailable

    if ctypes.util.find_library("jemalloc") is None:
        raise Unavailable("jemalloc not found (Debian: apt-get install libjemalloc2)")
    return {"LD_PRELOAD": ALLOCATOR, "MALLOC_CONF": ALLOCATOR_CONF}


#: where an idle pool thread spins: Eigen's thread pool (XLA's and TensorFlow's) keeps a worker
#: polling for new tasks for a while after each one. Natively that thread spins on another core
#: beside the caller; under valgrind, which runs one thread at a time, it spins through whole time
#: slices (~100 k instructions) a varying number of times per call. Its instructions (the
#: function's inclusive cost, as ``callgrind_annotate`` reports it) are left out of each count.
IDLE_SPIN = re.compile(r"ThreadPoolTempl<.*>::MaybeGetTask\(")
IDLE_SPIN_MARK = "MaybeGetTask"  # a profile without this name has nothing to leave out

FIELDS = ["name", "loss", "framework", "device", "dtype", "shape", "mode", "backward", "status",
          "instructions", "ir_1", "ir_2", "spread", "call_spread", "spin", "threads", "reason", "calls_1", "calls_2"]


@dataclass
class Case:
    name: str  # asv's name of the timing benchmark this counts
    case: tuple[str, ...]  # (loss, framework, device, dtype, shape, mode)
    backward: bool

    @property
    def framework(self) -> str:
        return self.case[1]


def grid(bench: str | None = None, shapes: Sequence[str] = SHAPES, dtypes: Sequence[str] = DTYPES) -> list[Case]:
    """The CPU timing cases at ``shapes`` and ``dtypes`` (whose asv name matches ``bench`` when
    given), in grid order."""
    from . import cases as common

    regex = re.compile(bench) if bench else None
    out = []
    for name, case, backward in common.timing_cases():
        if case[2] != "cpu" or case[4] not in shapes or case[3] not in dtypes:
            continue
        if regex is not None and not regex.search(name):
            continue
        out.append(Case(name, tuple(case), backward))
    return out


def unavailable() -> str | None:
    """Why the channel cannot run on this machine (None when it can): it needs valgrind with its
    ``callgrind.h`` and ``callgrind_annotate``, a C compiler for the client requests, and jemalloc."""
    from .callgrind import Unavailable, annotate, client, valgrind

    try:
        valgrind()
        annotate()
        client()
        allocator_env()
    except Unavailable as exc:
        return str(exc)
    return None


# -- the parent: batches, repeats, determinism -----------------------------------------------------
def _env(extra: dict[str, str] | None = None) -> dict[str, str]:
    env = dict(os.environ)
    env.update(SINGLE_THREAD_ENV)
    env["PYTHONHASHSEED"] = "0"
    env["MATLOSS_BENCH_THREADS"] = "1"
    env.update(VALGRIND_ENV)
    env.update(allocator_env())
    env.update(extra or {})
    return env


_WORKER_SOURCE = Path(__file__).with_name("_instructions_worker.py")


def _command(valgrind: bool, out_dir: Path, case_file: Path) -> list[str]:
    py = [sys.executable, "-c", _WORKER_SOURCE.read_text(), str(case_file), str(out_dir)]
    if not valgrind:
        return py
    from .callgrind import valgrind as valgrind_path

    vg = [valgrind_path(), "--tool=callgrind", "--instr-atstart=no", "--collect-atstart=yes", f"--callgrind-out-file={out_dir}/cg.%p",
          "--separate-threads=no", "--dump-line=no", "--dump-instr=no", "--compress-strings=no", "--compress-pos=no", "--quiet"]
    return fixed_layout_prefix() + vg + py


def fixed_layout_prefix() -> list[str]:
    """The command prefix that starts a process with address randomisation off (``setarch -R``);
    empty where util-linux's ``setarch`` is missing."""
    setarch = shutil.which("setarch")
    return [setarch, os.uname().machine, "-R"] if setarch else []


@dataclass
class Outcome:
    """One case in one batch process."""

    status: str  # ok, skip, error
    threads: int | None = None
    reason: str = ""
    calls: list[int] = field(default_factory=list)  # the counted calls' instructions, in order, idle spin left out
    spins: list[int] = field(default_factory=list)  # the idle spin left out of each call
    cpus: int | None = None  # CPUs the process could run on

    @property
    def count(self) -> int | None:
        """Instructions per call: the least of the window's calls (extra work only ever adds)."""
        return min(self.calls) if self.calls else None


class _Cpus:
    """The CPUs this process may run on, lent one at a time: each batch process is pinned to one.

    Under valgrind only one thread runs at a time anyway, so pinning costs a batch nothing, and the
    libraries size their pools from the CPUs they may use: XLA's CPU client, pinned, keeps one
    worker instead of two, and jax's compiled ``tikhonov`` went from 4.4-4.6 M instructions over
    ten calls, split between two workers by timing, to 1.8 M, equal in two processes to 0.1 %."""

    def __init__(self) -> None:
        self._free: queue.Queue[int] = queue.Queue()
        for cpu in sorted(os.sched_getaffinity(0)):
            self._free.put(cpu)

    @contextlib.contextmanager
    def one(self):
        cpu = self._free.get()
        try:
            yield cpu
        finally:
            self._free.put(cpu)


#: the modes in the order a batch process counts them: every eager case is counted before any
#: compiled case is prepared (what dynamo and inductor leave behind moves the counts of eager calls
#: after it: torch's eager ``frobenius`` read 0.03-0.3 % apart in two processes that had compiled first)
PHASES = ("eager", "compiled")


def phases(cases: Sequence[Case]) -> list[list[int]]:
    """The indices of ``cases`` by mode, in :data:`PHASES` order (a mode not named there last)."""
    modes = sorted({c.case[5] for c in cases}, key=lambda m: (PHASES.index(m) if m in PHASES else len(PHASES), m))
    return [[i for i, c in enumerate(cases) if c.case[5] == m] for m in modes]


def _run_batch(cases: list[Case], valgrind: bool, work: Path, tag: str, cwd: Path | None, env: dict[str, str], log,
               warm_calls: int = WARM_CALLS, cpus: _Cpus | None = None) -> dict[int, Outcome]:
    """One process over ``cases`` (pinned to one of ``cpus``): {index in ``cases``: its outcome}."""
    out_dir = work / tag
    out_dir.mkdir(parents=True)
    case_file = out_dir / "cases.json"
    from .callgrind import library

    case_file.write_text(json.dumps({"warm_calls": warm_calls, "counted_calls": COUNTED_CALLS, "client": str(library()),
                                     "input_dir": str(work / "inputs"),
                                     "cases": [[c.name, list(c.case), c.backward] for c in cases],
                                     "phases": phases(cases)}))
    t0 = time.monotonic()
    with (cpus or _Cpus()).one() as cpu:
        r = subprocess.run(_command(valgrind, out_dir, case_file), cwd=cwd, env=env, capture_output=True, text=True,
                           preexec_fn=lambda: os.sched_setaffinity(0, {cpu}))
    got: dict[int, Outcome] = {}
    spent = {"prepare": 0.0, "warm": 0.0, "counted": 0.0}
    for p in out_dir.glob("status-*.jsonl"):
        for line in p.read_text().splitlines():
            rec = json.loads(line)
            got[rec["index"]] = Outcome(rec["status"], rec.get("threads"), rec.get("reason", ""), cpus=rec.get("cpus"))
            prep, warm = rec.get("prepare_s", 0.0), rec.get("warm_s", 0.0)
            spent["prepare"] += prep
            spent["warm"] += warm
            spent["counted"] += max(0.0, rec.get("seconds", 0.0) - prep - warm)
    where = ", ".join(f"{k} {v:.0f} s" for k, v in spent.items())
    print(f"[instructions] {tag}: {len(cases)} cases in {time.monotonic() - t0:.0f} s ({where})", file=log, flush=True)
    if r.returncode and len(got) < len(cases):  # a crash: the cases it did not reach failed with it
        why = (r.stderr.strip().splitlines() or [f"exit {r.returncode}"])[-1][:300]
        for i in range(len(cases)):
            got.setdefault(i, Outcome("error", reason=f"the batch process died: {why}"))
    if valgrind:
        from .callgrind import inclusive, label_of, totals

        per_call: dict[tuple[int, int], list[int]] = {}
        for prof in out_dir.glob("cg.*"):
            label = label_of(prof)
            if label and label.startswith("case "):
                _, i, _, k = label.split()  # "case I call K"
                spin = inclusive(prof, IDLE_SPIN) if IDLE_SPIN_MARK in prof.read_text() else 0
                total = per_call.setdefault((int(i), int(k)), [0, 0])  # one file per dump; summed if split
                total[0] += totals(prof) - spin
                total[1] += spin
        for (i, _), (n, spin) in sorted(per_call.items()):
            got[i].calls.append(n)
            got[i].spins.append(spin)
    return got


#: frameworks whose eager mode compiles too (jax compiles each primitive for its shapes, and those
#: programs go to the persistent cache like a jit's): every case of theirs is in the ordinary pass
EAGER_COMPILES = frozenset({"jax"})


#: seconds one case takes in a valgrind batch, by framework and mode (prepare + warm + counted, the
#: whole channel on the idle 2-core AMD EPYC VM, 2026-12-06, with 5 + 10 calls a case: the 2 + 6 of
#: now take about half, numpy 2.1 s, jax 2.5-3.1 s); numpy has no compiled mode, its cases are
#: skipped at once. Only for the order in which batches start: only their ratios matter.
CASE_SECONDS = {("numpy", "eager"): 3.8, ("numpy", "compiled"): 0.4, ("torch", "eager"): 4.9, ("torch", "compiled"): 7.7,
                ("jax", "eager"): 6.6, ("jax", "compiled"): 6.0, ("tensorflow", "eager"): 3.7,
                ("tensorflow", "compiled"): 5.0}
#: seconds one case takes in the ordinary pass (compiling natively, or drawing an input)
WARM_CASE_SECONDS = 2.0


def _warmups(by_fw: dict[str, list[Case]]) -> dict[str, list[Case]]:
    """The ordinary (valgrind-free) processes before the valgrind batches: ``draw-inputs``, one case per
    input (loss, dtype, shape) — numpy's eager one where there is one, the cheapest to build — so no valgrind
    process draws an input (drawing one is ~10x slower under valgrind); and per framework
    ``warm-<framework>``, every compiled case and every case of :data:`EAGER_COMPILES`, whose
    programs go to the persistent compile cache (a jax batch whose eager programs were compiled
    under valgrind spent 951 s preparing, 240 s when loading them)."""
    out: dict[str, list[Case]] = {"draw-inputs": []}
    drawn: set[tuple[str, str, str]] = set()
    # an eager case (a mode a framework lacks is skipped before its input is drawn), numpy's first
    for c in sorted((c for cs in by_fw.values() for c in cs), key=lambda c: (c.case[5] != "eager", c.framework != "numpy")):
        key = (c.case[0], c.case[3], c.case[4])
        if key not in drawn:
            drawn.add(key)
            out["draw-inputs"].append(c)
    for fw, cs in by_fw.items():
        compiles = [c for c in cs if c.case[5] == "compiled" or fw in EAGER_COMPILES]
        if compiles:
            out[f"warm-{fw}"] = compiles
    return out


def run_graph(tasks: dict[str, tuple[set[str], float, Callable[[], object]]], jobs: int,
              stage: dict[str, int] | None = None) -> dict[str, object]:
    """Run ``tasks`` ({name: (names it waits for, estimated seconds, function)}), ``jobs`` at a time:
    whenever a slot is free, of the ready tasks of the lowest ``stage`` (0 where not given), the one
    with the longest estimated path to the end (its own seconds plus its longest chain of
    dependents) starts. {name: what its function returned}.

    So a batch starts as soon as what it needs is done (not when every ordinary process is), and
    the longest batches start first, so the cores finish together. :func:`measure` puts each
    repeat in a stage of its own: every first repeat starts before any second one, so where there
    are more batches than cores (the whole channel, the gate's subset) the two processes of one
    batch never run side by side, and the determinism check compares processes that ran at
    different moments beside different neighbours. A stage orders, it does not wait: a slot left
    free by the lower stages takes a ready task of a higher one."""
    unknown = {d for deps, _, _ in tasks.values() for d in deps} - tasks.keys()
    if unknown:
        raise ValueError(f"tasks wait for unknown tasks: {', '.join(sorted(unknown))}")
    dependents: dict[str, list[str]] = {name: [] for name in tasks}
    for name, (deps, _, _) in tasks.items():
        for d in deps:
            dependents[d].append(name)
    rank: dict[str, float] = {}

    def path(name: str, seen: tuple[str, ...] = ()) -> float:
        if name in seen:
            raise ValueError(f"tasks wait for each other: {' -> '.join(seen + (name,))}")
        if name not in rank:
            rank[name] = tasks[name][1] + max((path(d, seen + (name,)) for d in dependents[name]), default=0.0)
        return rank[name]

    for name in tasks:
        path(name)
    done: dict[str, object] = {}
    stage = stage or {}
    pending = sorted(tasks, key=lambda n: (stage.get(n, 0), -rank[n]))  # stable: equal ranks keep the given order
    running: dict = {}
    with ThreadPoolExecutor(max_workers=jobs) as pool:
        while pending or running:
            for name in [n for n in pending if tasks[n][0] <= done.keys()][: jobs - len(running)]:
                pending.remove(name)
                running[pool.submit(tasks[name][2])] = name
            finished, _ = wait(running, return_when=FIRST_COMPLETED)
            for f in finished:
                done[running.pop(f)] = f.result()  # a task that raised stops the run here
    return done


def measure(cases: list[Case], *, repeats: int = REPEATS, jobs: int | None = None, cwd: Path | None = None,
            env: dict[str, str] | None = None, warm: bool = True, log=sys.stderr) -> list[dict]:
    """Count ``cases`` (``repeats`` valgrind processes per framework, ``jobs`` at a time); one row per case.

    ``cwd`` / ``env`` run another checkout's code (the gate runs each commit's worktree)."""
    if repeats < 1:
        raise ValueError(f"repeats must be >= 1, got {repeats}")
    jobs = jobs or os.cpu_count() or 1
    env = _env(env)
    by_fw: dict[str, list[Case]] = {}  # one ordinary and one valgrind process per framework (and repeat)
    where: list[int] = []  # each case's index in its framework's batch
    for c in cases:
        batch = by_fw.setdefault(c.framework, [])
        where.append(len(batch))
        batch.append(c)
    work = Path(tempfile.mkdtemp(prefix="matloss-instructions-"))
    (work / "inputs").mkdir()  # one input directory for every batch of this measurement
    cpus = _Cpus()

    def ordinary(tag: str, todo: list[Case]):
        return lambda: _run_batch(todo, False, work, tag, cwd, env, log, cpus=cpus)

    def counted(fw: str, k: int):
        return lambda: _run_batch(by_fw[fw], True, work, f"{fw}-{k}", cwd, env, log, cpus=cpus)

    tasks: dict[str, tuple[set[str], float, Callable[[], object]]] = {}
    stage: dict[str, int] = {}  # the ordinary processes first, then the first repeat of every batch, ...
    if warm:  # outside valgrind: draw every input once and fill the compile caches
        for tag, todo in _warmups(by_fw).items():
            tasks[tag], stage[tag] = (set(), WARM_CASE_SECONDS * len(todo), ordinary(tag, todo)), -1
    for k in range(repeats):
        for fw, todo in by_fw.items():
            after = {t for t in ("draw-inputs", f"warm-{fw}") if t in tasks}
            seconds = sum(CASE_SECONDS.get((fw, c.case[5]), 5.0) for c in todo)
            tasks[f"{fw}-{k}"], stage[f"{fw}-{k}"] = (after, seconds, counted(fw, k)), k
    try:
        done = run_graph(tasks, jobs, stage)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    rows = [_row(c, [done[f"{c.framework}-{k}"].get(i, Outcome("error", reason="not reached")) for k in range(repeats)])
            for c, i in zip(cases, where)]  # in the order asked
    return rows


def _row(c: Case, runs: list[Outcome]) -> dict:
    loss, fw, device, dtype, shape, mode = c.case
    row = {"name": c.name, "loss": loss, "framework": fw, "device": device, "dtype": dtype, "shape": shape, "mode": mode,
           "backward": c.backward, "instructions": None, "ir_1": None, "ir_2": None, "spread": None, "call_spread": None,
           "threads": max((r.threads or 0) for r in runs), "reason": ""}
    bad = next((r for r in runs if r.status != "ok"), None)
    if bad is not None:
        row.update(status=bad.status, reason=bad.reason)
        return row
    counts = [r.count for r in runs]
    if any(x is None for x in counts):
        row.update(status="error", reason="no callgrind dump (was the process under valgrind?)")
        return row
    row["ir_1"], row["ir_2"] = counts[0], counts[-1]
    row["calls_1"], row["calls_2"] = (" ".join(map(str, r.calls)) for r in (runs[0], runs[-1]))
    row["call_spread"] = max((max(r.calls) - min(r.calls)) / min(r.calls) for r in runs)
    row["spin"] = max((max(r.spins, default=0) for r in runs), default=0)
    spread = (max(counts) - min(counts)) / min(counts) if min(counts) > 0 else float("inf")
    row["spread"] = spread
    if spread > TOLERANCE:
        why = f"{row['threads']} threads alive during the call" if row["threads"] and row["threads"] > 1 else "single-threaded"
        row.update(status="nondeterministic", reason=f"counts {min(counts)}..{max(counts)} ({spread:.2%} apart); {why}")
        return row
    row.update(status="ok", instructions=round(sum(counts) / len(counts)))
    return row


def table(rows: Iterable[dict]) -> dict[tuple, dict]:
    """{(loss, framework, dtype, shape, mode, backward): row}: how the asv suite looks a case up."""
    return {(r["loss"], r["framework"], r["dtype"], r["shape"], r["mode"], r["backward"]): r for r in rows}


def write(rows: Iterable[dict], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    with open(tmp, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=FIELDS)
        w.writeheader()
        for r in rows:
            w.writerow({k: ("" if r.get(k) is None else r.get(k)) for k in FIELDS})
    os.replace(tmp, path)


def read(path: Path) -> list[dict]:
    with open(path) as f:
        rows = list(csv.DictReader(f))
    for r in rows:
        r["instructions"] = int(r["instructions"]) if r["instructions"] else None
        r["backward"] = r["backward"] == "True"
    return rows


def summary(rows: list[dict]) -> str:
    from collections import Counter

    c = Counter(r["status"] for r in rows)
    measured = c["ok"] + c["nondeterministic"]
    share = c["ok"] / measured if measured else float("nan")
    return (f"{len(rows)} cases: {c['ok']} deterministic, {c['nondeterministic']} nondeterministic "
            f"({share:.1%} of those measured deterministic to {TOLERANCE:.1%}), {c['skip']} skipped, {c['error']} failed")


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    ap = argparse.ArgumentParser(prog="python -m matloss.instructions", description=__doc__.split("\n\n")[0])
    ap.add_argument("--bench", default=None, help="regex of timing benchmark names to count (default: the whole channel, n = 128, float64)")
    ap.add_argument("--out", type=Path, default=None, help="CSV to write (default: print the summary only)")
    ap.add_argument("--repeats", type=int, default=REPEATS, help="processes per batch (default 2; 1 skips the determinism check)")
    ap.add_argument("--jobs", type=int, default=None, help="valgrind processes at once (default: one per core)")
    ns = ap.parse_args(argv)
    if ns.repeats < 1:
        ap.error(f"--repeats must be >= 1, got {ns.repeats}")
    if ns.jobs is not None and ns.jobs < 1:
        ap.error(f"--jobs must be >= 1, got {ns.jobs}")
    if ns.out is not None and ns.out.is_dir():
        ap.error(f"--out {ns.out} is a directory; give a file name")
    why = unavailable()
    if why:
        print(f"matloss instructions: {why}", file=sys.stderr)
        return 2
    todo = grid(ns.bench)
    if not todo:
        ap.error(f"--bench {ns.bench!r} matches no CPU timing case")
    t0 = time.monotonic()
    rows = measure(todo, repeats=ns.repeats, jobs=ns.jobs)
    print(summary(rows) + f"; {time.monotonic() - t0:.0f} s")
    if ns.out:
        write(rows, ns.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
