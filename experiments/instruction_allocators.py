"""How the allocator moves the instruction channel's determinism: the same cases, counted three ways.

Each setting counts the cases exactly as the channel does (:func:`matloss.instructions.measure`:
the ordinary pass, then two valgrind processes per framework and mode), differing only in the
allocator's environment:

- ``glibc``     glibc's malloc with its defaults (the channel's ``LD_PRELOAD`` emptied);
- ``tunables``  glibc with ``GLIBC_TUNABLES`` aimed at costs that do not depend on the heap's
  history: one arena, a thread cache large enough for every small block, every block above 4 KiB
  its own mapping, no trimming;
- ``jemalloc``  the channel's own setting (:data:`matloss.instructions.ALLOCATOR`).

Prints per setting how many cases are deterministic to the channel's tolerance, and per case the
two processes' counts. The default cases are small jax and torch ones, where an allocator's few
hundred instructions are a tenth of a percent.

    python experiments/instruction_allocators.py [--bench REGEX] [--settings glibc,tunables,jemalloc]
"""

from __future__ import annotations

import argparse
import sys
import time

from matloss import instructions

SETTINGS = {
    "glibc": {"LD_PRELOAD": "", "MALLOC_CONF": ""},
    "tunables": {"LD_PRELOAD": "", "MALLOC_CONF": "", "GLIBC_TUNABLES": "glibc.malloc.arena_max=1:glibc.malloc.tcache_count=65535:"
                 "glibc.malloc.mmap_threshold=4096:glibc.malloc.trim_threshold=268435456"},
    "jemalloc": {},
}
BENCH = r"time_forward\('(frobenius|tikhonov|mvn_nll|mvn_nll_diag|logdet)', '(jax|torch)', 'cpu', 'float64', '128'"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--bench", default=BENCH, help="regex of timing benchmark names (default: small jax and torch cases)")
    ap.add_argument("--settings", default=",".join(SETTINGS), help=f"comma-separated, of {', '.join(SETTINGS)}")
    ns = ap.parse_args(argv)
    names = ns.settings.split(",")
    unknown = [n for n in names if n not in SETTINGS]
    if unknown:
        ap.error(f"--settings: unknown {', '.join(unknown)} (known: {', '.join(SETTINGS)})")
    why = instructions.unavailable()
    if why:
        print(f"instruction_allocators: {why}", file=sys.stderr)
        return 2
    cases = instructions.grid(ns.bench)
    if not cases:
        ap.error(f"--bench {ns.bench!r} matches no CPU timing case")
    rows = {}
    for name in names:
        t0 = time.monotonic()
        rows[name] = instructions.measure(cases, env=SETTINGS[name], log=None)
        print(f"{name}: {instructions.summary(rows[name])}; {time.monotonic() - t0:.0f} s", flush=True)
    print("\n| case | " + " | ".join(names) + " |\n|---|" + "---|" * len(names))
    for i, c in enumerate(cases):
        cells = []
        for name in names:
            r = rows[name][i]
            cells.append(f"{r['ir_1']} / {r['ir_2']} ({r['status']})" if r["ir_1"] else r["status"])
        loss, fw, _, _, _, mode = c.case
        print(f"| {loss} {fw} {mode}{' fwd+bwd' if c.backward else ''} | " + " | ".join(cells) + " |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
