"""One side of the paired speed gate (``matloss/gate_speed.py``, ``run_paired``): a process running one commit's code.

Started as ``python -c <this file's text>`` with that commit's worktree first on ``PYTHONPATH`` and
as the working directory, so ``matloss`` and ``matloss_ref`` are the commit's own. It answers one
JSON request per line on stdin with one JSON line on stdout:

- ``{"op": "list"}``: the commit's timing cases (``matloss.cases.timing_cases``) as
  ``[name, case, backward]`` with asv's benchmark name ``module.Class.method('p1', 'p2', ...)``;
- ``{"op": "prepare", "case": [...], "backward": b}``: build and warm the case's callable
  (``matloss.cases.prepared``, as under asv); ``{"ok": n}`` with the calls of one ~10 ms sample,
  ``{"skip": why}`` (the suites' ``NotImplementedError``) or ``{"error": why}``;
- ``{"op": "sample", "n": n, "warm": w}``: w untimed calls, then time n calls of the prepared
  callable; ``{"ok": seconds per call}``.
"""

import gc
import json
import os
import sys
import tempfile
import time
import traceback

from matloss.threads import apply_bench_threads  # noqa: E402  (before numpy and the frameworks load)

apply_bench_threads()

import matloss_ref  # noqa: E402
from matloss import cases as common  # noqa: E402


def list_cases():
    return [[name, list(case), backward] for name, case, backward in common.timing_cases()]


def main():
    step = None
    # the sampled inputs, drawn by this commit's code once per gate run (the parent keeps the dir)
    input_dir = os.environ.get("MATLOSS_PAIRED_INPUTS") or tempfile.mkdtemp(prefix="matloss-paired-inputs-")
    if "MATLOSS_PAIRED_CPU" in os.environ and hasattr(os, "sched_setaffinity"):  # after the imports: they overlap
        os.sched_setaffinity(0, {int(os.environ["MATLOSS_PAIRED_CPU"])})
    print(json.dumps({"ok": os.path.realpath(matloss_ref.__file__)}), flush=True)
    for line in sys.stdin:
        req = json.loads(line)
        try:
            if req["op"] == "list":
                reply = {"ok": list_cases()}
            elif req["op"] == "prepare":
                step = None
                try:
                    step = common.prepared(*req["case"], backward=req["backward"], input_dir=input_dir)
                    step()
                    reply = {"ok": common.calls_per_sample(step)}
                except NotImplementedError as exc:
                    reply = {"skip": str(exc)}
            elif req["op"] == "sample":
                n = int(req["n"])
                gc.disable()  # as timeit and asv do
                try:
                    for _ in range(int(req.get("warm", 0))):
                        step()
                    t0 = time.perf_counter()
                    for _ in range(n):
                        step()
                    reply = {"ok": (time.perf_counter() - t0) / n}
                finally:
                    gc.enable()
            else:
                reply = {"error": f"unknown op {req['op']!r}"}
        except Exception as exc:  # the case failed on this commit: a result, not a crash
            reply = {"error": f"{type(exc).__name__}: {exc}", "traceback": traceback.format_exc(limit=5)}
        print(json.dumps(reply), flush=True)


main()
