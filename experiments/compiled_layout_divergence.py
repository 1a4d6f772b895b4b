#!/usr/bin/env python
"""Where two processes of torch's compiled batch part ways, before any call is counted.

    .venv/bin/python experiments/compiled_layout_divergence.py [--processes 2] [--losses frobenius,tikhonov] [--no-gc]

The instruction channel finds torch's compiled cases 0.1-0.4 % apart in two valgrind processes,
each process at its own offset in every call (docs/instructions.md). Those costs follow where
objects sit in memory (dictionary probes of identity-hashed keys, the type attribute cache, which
is indexed by the address of the attribute's name). This asks whether the processes even build
the same heap: it starts ``--processes`` ordinary (valgrind-free) processes one after the other,
in the channel's environment (``matloss.instructions._env``: one thread per pool, PYTHONHASHSEED=0,
jemalloc, the same CPU, address randomisation off), and each prints, after ``import torch``, after
``import matloss.cases`` and after preparing each compiled forward case of ``--losses`` (as the
channel does: ``matloss.cases.prepared``, inputs drawn beforehand by one more process, as the
channel's ordinary pass draws them, so every compared process loads them alike),
the number of blocks Python's allocator holds, the number of objects the garbage collector
tracks, and the address of a new object. Where the processes' lines differ, it prints the object
types whose numbers differ. ``--no-gc`` turns the collector off before the first import (so a
difference is not the collector running at another moment). ``--seed-sympy`` seeds sympy's
generators first, as the channel's worker does for torch's compiled batch (``sympy_seeded`` in
``matloss/_instructions_worker.py``): sympy's assumption system shuffles the facts it checks.

Nothing here is a test: what it prints depends on the machine and is reported, not asserted.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

CHILD = """
import collections, gc, json, os, sys
if {no_gc}: gc.disable()
sys.path.insert(0, {root!r})
points = []
def point(tag, types=False):
    row = {{"at": tag, "blocks": sys.getallocatedblocks(), "objects": len(gc.get_objects()), "address": hex(id(object()))}}
    if types:
        row["types"] = collections.Counter(f"{{getattr(type(o), '__module__', '?')}}.{{type(o).__name__}}" for o in gc.get_objects())
    points.append(row)
point("start")
if {seed}:
    import sympy.core.random
    sympy.core.random.seed(0)
import torch
point("import torch")
from matloss import cases
point("import matloss.cases", True)
for loss in {losses!r}:
    cases.prepared(loss, "torch", "cpu", "float64", "128", "compiled", backward=False, input_dir={inputs!r})
    point(f"prepared {{loss}}", True)
print(json.dumps(points))
"""


def compared_processes(code: str, processes: int, inputs: str) -> list | None:
    """Run ``python -c code`` ``processes + 1`` times, one after the other, in the instruction
    channel's environment, on one CPU, address randomisation off; the first draws the inputs into
    ``inputs`` (removed at the end) and is not compared. The JSON each compared process printed
    last, or None (the error printed) when one failed."""
    sys.path.insert(0, str(ROOT))
    from matloss.instructions import _env

    setarch = shutil.which("setarch")
    cmd = ([setarch, os.uname().machine, "-R"] if setarch else []) + [sys.executable, "-c", code]
    cpu = min(os.sched_getaffinity(0))
    runs = []
    try:
        for k in range(processes + 1):
            r = subprocess.run(cmd, env=_env(), capture_output=True, text=True, preexec_fn=lambda: os.sched_setaffinity(0, {cpu}))
            if r.returncode:
                print(r.stderr[-2000:], file=sys.stderr)
                return None
            if k:
                runs.append(json.loads(r.stdout.splitlines()[-1]))
    finally:
        shutil.rmtree(inputs, ignore_errors=True)
    return runs


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--processes", type=int, default=2)
    ap.add_argument("--losses", default="frobenius,tikhonov")
    ap.add_argument("--no-gc", action="store_true")
    ap.add_argument("--seed-sympy", action="store_true")
    ns = ap.parse_args()
    if ns.processes < 2:
        ap.error(f"--processes must be >= 2, got {ns.processes}")
    inputs = tempfile.mkdtemp(prefix="matloss-layout-")
    code = CHILD.format(root=str(ROOT), losses=ns.losses.split(","), inputs=inputs, no_gc=ns.no_gc, seed=ns.seed_sympy)
    runs = compared_processes(code, ns.processes, inputs)
    if runs is None:
        return 1
    print(f"{'checkpoint':28s} " + "  ".join(f"{'process ' + str(k + 1):>34s}" for k in range(len(runs))))
    for points in zip(*runs):
        same = all((p["blocks"], p["objects"]) == (points[0]["blocks"], points[0]["objects"]) for p in points)
        cells = "  ".join(f"{p['blocks']:>9,} blocks {p['objects']:>7,} objects" for p in points)
        print(f"{points[0]['at']:28s} {cells}  {'same' if same else 'DIFFER'}")
        if not same and "types" in points[0]:
            keys = sorted(set().union(*(p["types"] for p in points)))
            for t in keys:
                counts = [p["types"].get(t, 0) for p in points]
                if len(set(counts)) > 1:
                    print(f"    {t:60s} " + " ".join(f"{c:>7,}" for c in counts))
    return 0


if __name__ == "__main__":
    sys.exit(main())
