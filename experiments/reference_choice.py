#!/usr/bin/env python
"""Which reference workload cancels this machine's speed level best? One case, three references.

    .venv/bin/python experiments/reference_choice.py [--seconds 20] [--case logdet,torch,cpu,float64,128,eager] [--backward]

In one pinned process, for ``--seconds``: each sample of the case (the suites' prepared callable,
``number`` calls as asv times it) is preceded and followed by one run of each candidate reference:
``matloss.relative.reference()`` (numpy ``slogdet`` and matrix products, what relative time uses),
``blas`` (matrix products alone, the same number of BLAS calls) and ``python`` (a pure-Python loop).
Prints the per-second medians of the raw time and of each ratio, and for each the slowest / fastest
second: a reference that moves with the machine leaves a ratio flatter than the raw time.

Nothing here is a test: the numbers depend on the machine and are reported, not asserted.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from matloss.threads import apply_bench_threads  # noqa: E402  (before numpy and the frameworks)

apply_bench_threads()

import numpy as np  # noqa: E402

from matloss import cases as common  # noqa: E402
from matloss import relative  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from steadiness import pinned_case  # noqa: E402  (the same checks and pinning)


def candidates():
    a = np.random.default_rng(relative.REFERENCE_SEED).standard_normal((relative.REFERENCE_N,) * 2) / np.sqrt(relative.REFERENCE_N)

    def blas():
        for _ in range(2 * relative.REFERENCE_CALLS):
            np.dot(a, a)

    def python():
        s = 0
        for i in range(100_000):
            s += i

    return {"reference": relative.reference(), "blas": blas, "python": python}


def _time(f, number=1):
    t0 = time.perf_counter()
    for _ in range(number):
        f()
    return time.perf_counter() - t0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seconds", type=float, default=20.0)
    ap.add_argument("--case", default="logdet,torch,cpu,float64,128,eager", help="loss,framework,device,dtype,shape,mode")
    ap.add_argument("--backward", action="store_true", help="time forward + backward")
    ns = ap.parse_args(argv)
    step = pinned_case(ap, ns.seconds, ns.case, ns.backward)
    refs = candidates()
    n = common.calls_per_sample(step)
    per_second: dict[int, list[tuple[float, dict[str, float]]]] = {}
    t_start = time.perf_counter()
    before = {k: _time(f) for k, f in refs.items()}
    while (now := time.perf_counter()) - t_start < ns.seconds:
        sample = _time(step, n) / n
        after = {k: _time(f) for k, f in refs.items()}
        per_second.setdefault(int(now - t_start), []).append((sample, {k: sample / ((before[k] + after[k]) / 2) for k in refs}))
        before = after
    seconds = [v for _, v in sorted(per_second.items())]
    raw = [statistics.median(s for s, _ in v) for v in seconds]
    print(f"{ns.case} {'fwd+bwd' if ns.backward else 'forward'}, {sum(map(len, seconds))} samples of {n} calls over {ns.seconds:g} s")
    print(f"{'raw':>9}: slowest / fastest second {max(raw) / min(raw):.3f}")
    for k in refs:
        ratio = [statistics.median(r[k] for _, r in v) for v in seconds]
        print(f"{k:>9}: slowest / fastest second {max(ratio) / min(ratio):.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
