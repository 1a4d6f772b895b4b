"""One valgrind process of the instruction channel (``matloss/instructions.py``): one commit's code.

Started as ``python -c <this file's text> CASES OUT`` under valgrind, with the commit's worktree
as the working directory (and first on ``PYTHONPATH``), so the cases are built by that commit's
``matloss.cases``; this file itself imports nothing else of matloss, so it works on any commit
that has ``matloss.cases.prepared``. ``CASES`` is JSON: ``cases`` (a list of [name, case,
backward]), ``phases`` (the cases' indices, phase by phase: eager, then compiled),
``warm_calls`` (calls before counting), ``counted_calls`` and ``client`` (the compiled callgrind
client, :func:`matloss.callgrind.library`). Phase after phase, it prepares every case of the
phase (valgrind's instrumentation off), then switches instrumentation on, warms and counts the
cases one after another, and switches it off again; under valgrind it then leaves without
Python's teardown. Per case it writes one ``status-PID.jsonl`` line and, through callgrind's client
requests, one profile per counted call labelled ``case I call K``: the counters zeroed once
before the first counted call of the case and dumped after each (a dump restarts the counters, so consecutive dumps
partition the window: work another thread finishes after a call returns lands in the next call's
dump, never between two); every thread's instructions (valgrind runs with
``--separate-threads=no``), with Python's garbage collector off (as under timeit).

What the process runs under is the parent's to set (``matloss.instructions._env`` and
``_command``): jemalloc preloaded as the allocator, its thread cache never collected; one thread
in every pool; ``PYTHONHASHSEED=0``; address randomisation off; pinned to one CPU. This file
only does what cannot be set from outside the process (jax's dispatch, sympy's generator, tqdm's
monitor thread).
"""

import ctypes
import gc
import json
import os
import sys
import time
from pathlib import Path


def threads():
    try:
        return len(os.listdir("/proc/self/task"))
    except OSError:
        return 0


def quiet_threads():
    """No thread that wakes on a timer: tqdm (which torch's compile imports) starts a monitor thread
    that runs Python every ten seconds, and a thread allocating at moments set by the clock moves
    where the main thread's objects land, and with that the cost of every dictionary lookup after."""
    try:
        import tqdm
    except ImportError:
        return
    tqdm.tqdm.monitor_interval = 0


def jax_inline(cases):
    """jax runs each computation on the calling thread. With asynchronous dispatch (jax's default) a
    worker thread of XLA's CPU client runs it while the caller waits on an event, and which of the two
    valgrind schedules first, and how often they hand over, follows the host's timing: the same call
    read up to 1.8 % apart in two processes. ``jax_cpu_enable_async_dispatch`` is a jax flag, not an
    option read from the environment (``JAX_CPU_ENABLE_ASYNC_DISPATCH`` set in the environment leaves
    it on), so it is set here, before the first computation creates the CPU client."""
    if not any(case[1] == "jax" for _, case, _ in cases):
        return
    import jax

    jax.config.update("jax_cpu_enable_async_dispatch", False)


def sympy_seeded(cases):
    """sympy's assumption queries in a fixed order. torch.compile reasons about symbolic sizes with
    sympy, whose assumption system shuffles the facts it checks (on purpose, to expose handlers
    that disagree) with a generator seeded from the operating system: the answers are the same,
    but which expressions get built and cached differs from process to process, and with them
    where every later object lands. Three ordinary processes held the same heap up to the first
    compiled torch case and parted there (sympy ``Add`` 15 or 16, ``Mul`` 18 or 19, up to 6
    objects and 48 allocator blocks apart); seeded, the same 415,517 objects
    (``experiments/compiled_layout_divergence.py``). Only where torch compiles: elsewhere sympy
    is not used, and importing it would move the other batches' counts."""
    if not any(case[1] == "torch" and case[5] == "compiled" for _, case, _ in cases):
        return
    import sympy.core.random

    sympy.core.random.seed(0)


def main(case_file, out_dir):
    from matloss import cases as common

    quiet_threads()

    spec = json.loads(Path(case_file).read_text())
    jax_inline(spec["cases"])
    cg = ctypes.CDLL(spec["client"])
    cg.matloss_cg_dump.argtypes = [ctypes.c_char_p]
    input_dir = str(spec["input_dir"])  # shared by the batches; the ordinary pass drew the inputs
    steps, recs = {}, {}
    status = open(Path(out_dir) / f"status-{os.getpid()}.jsonl", "w")

    def done(rec):  # one line per case as soon as it is final: a crash later loses none of them
        status.write(json.dumps({k: round(v, 2) if isinstance(v, float) else v for k, v in rec.items()}) + "\n")
        status.flush()

    def count(i, step):
        rec = recs[i]
        t0 = time.monotonic()
        try:
            for _ in range(spec["warm_calls"]):  # instrumented, not counted: right before the counted ones
                step()
            rec["warm_s"] = time.monotonic() - t0
            rec["threads"] = threads()
            # the window: counters zeroed (what ran since the last dump is dropped), one dump per call.
            # Not callgrind's collection switch (CALLGRIND_TOGGLE_COLLECT): with it, TF's compiled
            # logdet, which runs on a pool thread, read 0.74-0.85 M instructions instead of 2.16 M
            # (the pool thread's work went uncounted)
            cg.matloss_cg_zero()
            for k in range(spec["counted_calls"]):
                step()
                cg.matloss_cg_dump(f"case {i} call {k}".encode())
            rec["status"] = "ok"
        except Exception as exc:
            rec.update(status="error", reason=f"{type(exc).__name__}: {exc}")
        rec["seconds"] += time.monotonic() - t0
        done(rec)

    # the batch's phases one after another (eager cases, then compiled ones: what a compile leaves
    # behind moves the counts of eager calls after it, so none is prepared before every eager case
    # is counted). Per phase, every case prepared first, at valgrind's uninstrumented speed
    # (imports, tracing, loading the compiled programs); instrumentation is then switched on once
    # for the phase: each switch discards valgrind's translated code, and retranslating a process
    # holding a framework costs seconds (switched twice per case, torch's compiled batch spent
    # 100 s preparing, 65 s switched once)
    for phase in spec["phases"]:
        sympy_seeded([spec["cases"][i] for i in phase])
        for i in phase:
            name, case, backward = spec["cases"][i]
            rec = recs[i] = {"index": i, "name": name, "cpus": len(os.sched_getaffinity(0))}
            t0 = time.monotonic()
            try:
                steps[i] = common.prepared(*case, backward=backward, input_dir=input_dir)
            except NotImplementedError as exc:
                rec.update(status="skip", reason=str(exc))
            except Exception as exc:  # the case fails on this commit: a result, not a crash
                rec.update(status="error", reason=f"{type(exc).__name__}: {exc}")
            rec["prepare_s"] = rec["seconds"] = time.monotonic() - t0
            if i not in steps:
                done(rec)
        counted = [i for i in phase if i in steps]
        if not counted:  # nothing to count (numpy has no compiled mode): no switch
            continue
        gc.collect()
        gc.disable()  # off through the counted windows, as under timeit (a collection is costly under valgrind)
        cg.matloss_cg_start()
        for i in counted:
            count(i, steps[i])  # every step kept alive to the end, as the cases after it found it
        cg.matloss_cg_stop()
        gc.enable()
    status.close()
    if cg.matloss_cg_running():  # every count is written: under valgrind, leave without Python's
        # teardown (interpreter and frameworks finalised at valgrind's speed: 4.6-8 s of a jax batch)
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(0)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
