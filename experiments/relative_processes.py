#!/usr/bin/env python
"""Where relative time's run-to-run difference comes from: within one process, or between processes?

    .venv/bin/python experiments/relative_processes.py [--processes 3] [--repeats 6] [--fixed-layout] [--case loss,framework,shape,mode] ...

For each ``--case`` (CPU, float64, forward + backward; default: three cases of different
frameworks), starts ``--processes`` fresh processes one after the other; each prepares the case as
the suites do and measures its relative time (``matloss.relative.measure``) ``--repeats`` times in a
row. Prints per process the median and the max / min of its repeats, and the max / min of the
processes' medians: when the second is well above the first, a run's value of a case depends on
which process measured it, and only more processes (asv's rounds) average that out.
``--fixed-layout`` starts every process as the instruction channel does (address randomisation
off with ``setarch -R``, ``PYTHONHASHSEED=0``): whether the processes then agree better says how
much of the difference is where the process's memory landed.

Nothing here is a test: the numbers depend on the machine and are reported, not asserted.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from matloss.instructions import fixed_layout_prefix  # noqa: E402  (imports no framework)

DEFAULT = ["det,torch,128,eager", "condition_number,tensorflow,128,eager", "logdet_naive,jax,128,eager"]

CHILD = """
import json, sys
sys.path.insert(0, {root!r})
from matloss.threads import apply_bench_threads
apply_bench_threads()
from matloss import cases, relative
loss, fw, shape, mode = {case!r}.split(",")
step = cases.prepared(loss, fw, "cpu", "float64", shape, mode, backward=True)
n = cases.calls_per_sample(step)
print(json.dumps([relative.measure(step, n)["relative"] for _ in range({repeats})]))
"""


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--processes", type=int, default=3)
    ap.add_argument("--repeats", type=int, default=6)
    ap.add_argument("--case", action="append", help="loss,framework,shape,mode (repeatable)")
    ap.add_argument("--fixed-layout", action="store_true", help="address randomisation off, PYTHONHASHSEED=0")
    ns = ap.parse_args(argv)
    if ns.processes < 2 or ns.repeats < 2:
        ap.error("--processes and --repeats must be >= 2")
    prefix, env = [], dict(os.environ)
    if ns.fixed_layout:
        prefix, env = fixed_layout_prefix(), {**env, "PYTHONHASHSEED": "0"}
        if not prefix:
            ap.error("--fixed-layout: setarch (util-linux) is not installed")
    for case in ns.case or DEFAULT:
        if len(case.split(",")) != 4:
            ap.error(f"--case: loss,framework,shape,mode, got {case!r}")
        medians = []
        for p in range(ns.processes):
            out = subprocess.run([*prefix, sys.executable, "-c", CHILD.format(root=str(ROOT), case=case, repeats=ns.repeats)],
                                 capture_output=True, text=True, env=env)
            if out.returncode:
                print(f"{case}: process {p} failed: {(out.stderr.strip().splitlines() or ['?'])[-1]}")
                break
            values = json.loads(out.stdout.strip().splitlines()[-1])
            medians.append(statistics.median(values))
            print(f"{case} process {p}: median {medians[-1]:.4g}, its repeats' max / min {max(values) / min(values):.3f}")
        if len(medians) == ns.processes:
            print(f"{case}: the processes' medians, max / min {max(medians) / min(medians):.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
