#!/usr/bin/env python
"""Is this machine steady enough to benchmark? One case, one process, timed for a while.

    .venv/bin/python experiments/steadiness.py [--seconds 30] [--case tikhonov,numpy,cpu,float64,16,eager]

Times the suites' prepared callable of one case (default: a ~7 µs numpy forward) in ~10 ms
samples back to back for ``--seconds``, in this one process (pinned to one CPU where the OS
allows), and prints the median of every second, their spread (slowest / fastest second) and the
slowest / fastest ratio of the samples. On a quiet dedicated machine the seconds agree within a
few percent; on this project's shared 2-core VM they switch between speed levels about 2x apart
that last for seconds, in one process as well as across processes — which is what limits the
repeatability of two asv runs (each case's value comes from one short window of time).

Nothing here is a test: the numbers depend on the machine and are reported, not asserted.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from matloss.threads import apply_bench_threads  # noqa: E402  (the thread settings must precede numpy and the frameworks)

apply_bench_threads()

from matloss import cases as common  # noqa: E402
from matloss.compare import fmt_time  # noqa: E402


def pinned_case(ap: argparse.ArgumentParser, seconds: float, case_text: str, backward: bool):
    """Check ``--seconds`` and ``--case`` (exit 2 naming the bad one), build the case's prepared
    callable and pin this process to one CPU where the OS allows; returns the callable."""
    if not 2 <= seconds <= 3600:
        ap.error(f"--seconds must lie in [2, 3600], got {seconds}")
    case = case_text.split(",")
    if len(case) != 6:
        ap.error(f"--case: loss,framework,device,dtype,shape,mode (6 fields), got {case_text!r}")
    try:
        step = common.prepared(*case, backward=backward)
    except NotImplementedError as exc:
        ap.error(f"--case {case_text}: cannot run here ({exc})")
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {max(os.sched_getaffinity(0))})
    return step


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seconds", type=float, default=30.0, help="how long to time (default 30)")
    ap.add_argument("--case", default="tikhonov,numpy,cpu,float64,16,eager", help="loss,framework,device,dtype,shape,mode (forward)")
    ns = ap.parse_args(argv)
    step = pinned_case(ap, ns.seconds, ns.case, backward=False)
    n = common.calls_per_sample(step)
    per_second: dict[int, list[float]] = {}
    t_start = time.perf_counter()
    while (now := time.perf_counter()) - t_start < ns.seconds:
        t0 = time.perf_counter()
        for _ in range(n):
            step()
        per_second.setdefault(int(now - t_start), []).append((time.perf_counter() - t0) / n)
    meds = [statistics.median(v) for _, v in sorted(per_second.items())]
    samples = [x for v in per_second.values() for x in v]
    print(f"{ns.case} forward, {len(samples)} samples of {n} calls over {ns.seconds:g} s")
    print("median of each second: " + " ".join(fmt_time(m) for m in meds))
    print(f"slowest / fastest second: {max(meds) / min(meds):.2f}; slowest / fastest sample: {max(samples) / min(samples):.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
