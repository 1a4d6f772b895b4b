"""One side of the paired speed gate (``matloss_ref/speedgate.py``, ``run_paired``): a process running one commit's code.

Started as ``python -c <this file's text>`` with that commit's worktree first on ``PYTHONPATH`` and
as the working directory, so ``suites`` and ``matloss_ref`` are the commit's own. It answers one
JSON request per line on stdin with one JSON line on stdout:

- ``{"op": "list"}``: the timing cases of the commit's ``suites/bench_speed.py`` — every class with
  a ``time_*`` method over ``common.GRID`` — as ``[name, case, backward]`` with asv's benchmark
  name ``module.Class.method('p1', 'p2', ...)``;
- ``{"op": "prepare", "case": [...], "backward": b}``: build and warm the case's callable (the
  suites' ``common.prepared``); ``{"ok": n}`` with the calls of one ~10 ms sample,
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

import suites  # noqa: E402  (the commit's suites package; thread settings before numpy)

if hasattr(suites, "apply_thread_settings"):
    suites.apply_thread_settings()

import matloss_ref  # noqa: E402
from suites import bench_speed, common  # noqa: E402


def list_cases():
    from itertools import product

    out = []
    for cls_name in sorted(vars(bench_speed)):
        cls = getattr(bench_speed, cls_name)
        if not isinstance(cls, type) or cls_name.startswith("_") or getattr(cls, "params", None) != common.GRID:
            continue
        for meth in sorted(m for m in dir(cls) if m.startswith("time_")):
            for combo in product(*common.GRID):
                name = f"bench_speed.{cls_name}.{meth}({', '.join(map(repr, combo))})"
                out.append([name, list(combo), bool(getattr(cls, "backward", False))])
    return out


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
