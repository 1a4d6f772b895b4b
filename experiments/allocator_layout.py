#!/usr/bin/env python
"""How far a count moves when only the heap's layout changes, under allocator settings to compare.

    .venv/bin/python experiments/allocator_layout.py REGEX VARIANT [VARIANT ...]

A VARIANT is ``SETTING:PERTURBATION``. SETTING is one of :data:`SETTINGS` (the allocator the
counted processes run with); PERTURBATION changes nothing a counted call does, only where the
objects before it land:

- ``none``: the channel's process as it ships;
- ``text+N``: the worker's text (run as ``python -c``) N bytes longer, by a comment at its end
  (what an edit to the worker does);
- ``objects+N``: N small objects of assorted sizes allocated and kept before the worker starts
  (what a change to the code the process imports does);
- ``env+N``: an environment variable N bytes long (the stack starts lower).

Cases are the channel's (``matloss.instructions.grid(REGEX)``), counted as the channel counts
them, one valgrind process per framework and mode and variant. Prints per case each variant's
count against the same setting's ``none``, then per variant how many cases moved by more than the
channel's tolerance and the largest move.

Nothing here is a test: what it prints depends on the machine and is reported, not asserted.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from matloss import instructions  # noqa: E402

_JEMALLOC = "narenas:1,tcache_max:1048576,dirty_decay_ms:-1,muzzy_decay_ms:-1"  # the channel's until 2026-12-07
_NO_GC = ",tcache_gc_incr_bytes:1000000000000000"
#: allocator settings, as environment variables over the channel's
SETTINGS = {
    "jemalloc": {"MALLOC_CONF": _JEMALLOC, "PYTHONMALLOC": "pymalloc"},
    "jemalloc-no-gc": {"MALLOC_CONF": _JEMALLOC + _NO_GC, "PYTHONMALLOC": "pymalloc"},
    "jemalloc-no-gc-all": {"MALLOC_CONF": _JEMALLOC + _NO_GC, "PYTHONMALLOC": "malloc"},
    "shipped": {},
}
PERTURBATIONS = ("none", "text", "objects", "env")


def parse(variant: str) -> tuple[str, str, int]:
    setting, _, perturbation = variant.partition(":")
    kind, _, n = perturbation.partition("+")
    if setting not in SETTINGS or kind not in PERTURBATIONS or (kind != "none" and not n.isdigit()):
        raise ValueError(f"variant {variant!r}: want SETTING:PERTURBATION with SETTING in {sorted(SETTINGS)} "
                         f"and PERTURBATION none, text+N, objects+N or env+N")
    return setting, kind, int(n or 0)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("bench", help="regex of the timing benchmark names to count")
    ap.add_argument("variants", nargs="+", help="SETTING:PERTURBATION, e.g. jemalloc:none jemalloc:text+1000")
    ns = ap.parse_args()
    try:
        variants = [parse(v) for v in ns.variants]
    except ValueError as exc:
        ap.error(str(exc))
    todo = instructions.grid(ns.bench)
    if not todo:
        ap.error(f"{ns.bench!r} matches no CPU timing case")
    command, row = instructions._command, instructions._row
    counts: dict[str, dict[str, int | None]] = {}
    for v, (setting, kind, n) in zip(ns.variants, variants):
        def perturbed(valgrind, out_dir, case_file, kind=kind, n=n):
            cmd = command(valgrind, out_dir, case_file)
            i = cmd.index("-c") + 1
            if kind == "text":
                cmd[i] = cmd[i] + "\n#" + "x" * n + "\n"
            elif kind == "objects":
                cmd[i] = f"_kept = [bytes(k % 700) for k in range({n})]\n" + cmd[i]
            return cmd

        got = counts[v] = {}

        def keep(case, runs, got=got):
            got[case.name] = runs[0].count
            return row(case, runs)

        instructions._command, instructions._row = perturbed, keep
        env = dict(SETTINGS[setting])
        if kind == "env":
            env["MATLOSS_PAD"] = "y" * n
        with open(os.devnull, "w") as quiet:  # the per-batch progress lines: only the counts are printed
            instructions.measure(todo, repeats=1, jobs=2, env=env, log=quiet)
        print(f"counted {v}", file=sys.stderr, flush=True)
    moved: dict[str, list[float]] = {v: [] for v in ns.variants}
    for case in todo:
        line = f"{case.case[0]:18s} {case.case[1]:10s} {case.case[5]:8s} {'fwd+bwd' if case.backward else 'fwd':7s}"
        for v, (setting, kind, _) in zip(ns.variants, variants):
            c, ref = counts[v].get(case.name), counts.get(f"{setting}:none", {}).get(case.name)
            if kind == "none" or ref is None:
                line += f"  {v} {c:,}" if c else f"  {v} -"
            elif c:
                moved[v].append(abs(c - ref) / ref)
                line += f"  {v} {(c - ref) / ref:+.3%}"
        print(line, flush=True)
    for v, (_, kind, _) in zip(ns.variants, variants):
        if kind != "none" and moved[v]:
            over = sum(m > instructions.TOLERANCE for m in moved[v])
            print(f"{v}: {over} of {len(moved[v])} cases moved by more than {instructions.TOLERANCE:.1%}, "
                  f"largest {max(moved[v]):.3%}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
