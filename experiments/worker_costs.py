#!/usr/bin/env python
"""Where one valgrind process of the instruction channel spends its time.

    .venv/bin/python experiments/worker_costs.py FRAMEWORK MODE N [--teardown] [CALLGRIND_OPTION ...]

Runs the first ``N`` cases of the channel for FRAMEWORK and MODE (an ordinary process first, to
draw the inputs and fill the compile caches, as the channel does), then one valgrind process with
a copy of the worker that also times, per case, the counted calls and the callgrind dumps
separately. Prints the process's own split (prepare / warm / counted), the calls' and the dumps'
seconds, how long the process took after its last case (valgrind's exit, and the parent reading
the profiles), the time ``callgrind_annotate`` took on the profiles where a pool thread polled, and
the mean profile size. ``--teardown`` keeps Python's teardown under valgrind (what the worker did
before d09c48f); extra arguments are passed to callgrind (for example
``--compress-strings=yes``).

The copy is the worker's text with two insertions; the script stops if the worker changed so that
they no longer apply. Measured with it: docs/measurements.md, 2026-12-07, morning.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
import matloss.callgrind as callgrind  # noqa: E402
from matloss import instructions  # noqa: E402

COUNTED = '''            for k in range(spec["counted_calls"]):
                step()
                cg.matloss_cg_dump(f"case {i} call {k}".encode())
'''
TIMED = '''            rec["step_s"] = rec["dump_s"] = 0.0
            for k in range(spec["counted_calls"]):
                a = time.monotonic()
                step()
                b = time.monotonic()
                cg.matloss_cg_dump(f"case {i} call {k}".encode())
                rec["step_s"] += b - a
                rec["dump_s"] += time.monotonic() - b
'''
END = "    status.close()\n"
MARKED = "    status.close()\n    Path(out_dir, 'end').write_text(repr(time.time()))\n"
FAST_EXIT = "    if cg.matloss_cg_running():"


def worker_text(teardown: bool) -> str:
    src = instructions._WORKER_SOURCE.read_text()
    for old in (COUNTED, END) + ((FAST_EXIT,) if teardown else ()):
        if src.count(old) != 1:
            raise SystemExit(f"worker_costs: the worker no longer holds {old.strip()!r} once; update this script")
    src = src.replace(COUNTED, TIMED).replace(END, MARKED)
    return src.replace(FAST_EXIT, "    if False:") if teardown else src


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("framework")
    ap.add_argument("mode", choices=["eager", "compiled"])
    ap.add_argument("n", type=int)
    ap.add_argument("--teardown", action="store_true", help="keep Python's teardown under valgrind")
    ns, options = ap.parse_known_args()
    if ns.n < 1:
        ap.error(f"n must be >= 1, got {ns.n}")
    if any(not o.startswith("--") for o in options):
        ap.error(f"callgrind options start with --, got {options}")
    cases = [c for c in instructions.grid() if c.framework == ns.framework and c.case[5] == ns.mode][: ns.n]
    if not cases:
        ap.error(f"no channel case for {ns.framework} {ns.mode}")
    why = instructions.unavailable()
    if why:
        print(f"worker_costs: {why}", file=sys.stderr)
        return 2

    text = worker_text(ns.teardown)
    instructions._WORKER_SOURCE = type("Text", (), {"read_text": lambda self: text})()
    plain = instructions._command

    def command(valgrind, out_dir, case_file):
        cmd = plain(valgrind, out_dir, case_file)
        if valgrind:
            for o in options:  # replaces the channel's own value of the same option
                cmd = [c for c in cmd if c.split("=")[0] != o.split("=")[0]]
                cmd.insert(cmd.index("--tool=callgrind") + 1, o)
        return cmd

    instructions._command = command
    annotate = [0.0, 0]
    inclusive = callgrind.inclusive

    def timed_inclusive(*args):
        t = time.monotonic()
        try:
            return inclusive(*args)
        finally:
            annotate[0] += time.monotonic() - t
            annotate[1] += 1

    callgrind.inclusive = timed_inclusive
    work = Path(tempfile.mkdtemp(prefix="worker-costs-"))
    try:
        (work / "inputs").mkdir()
        env = instructions._env()
        instructions._run_batch(cases, False, work, "ordinary", None, env, sys.stderr)
        t0 = time.monotonic()
        instructions._run_batch(cases, True, work, "valgrind", None, env, sys.stderr)
        total = time.monotonic() - t0
        recs = [json.loads(line) for p in (work / "valgrind").glob("status-*.jsonl") for line in p.read_text().splitlines()]
        after = time.time() - float((work / "valgrind" / "end").read_text())
        sizes = [p.stat().st_size for p in (work / "valgrind").glob("cg.*")]
        print(f"{ns.framework} {ns.mode}, {len(cases)} cases{' (teardown kept)' if ns.teardown else ''}"
              f"{' ' + ' '.join(options) if options else ''}: {total:.0f} s in all; counted calls "
              f"{sum(r.get('step_s', 0) for r in recs):.1f} s, dumps {sum(r.get('dump_s', 0) for r in recs):.1f} s; "
              f"after the last case {after:.1f} s (callgrind_annotate {annotate[0]:.1f} s on {annotate[1]} profiles); "
              f"{len(sizes)} profiles, mean {sum(sizes) / max(1, len(sizes)) / 1e3:.0f} kB")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
