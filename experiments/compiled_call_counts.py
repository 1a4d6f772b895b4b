#!/usr/bin/env python
"""Which Python functions the preparation of one torch compiled case calls a different number of
times in two processes.

    .venv/bin/python experiments/compiled_call_counts.py [--loss frobenius] [--seed-sympy]

Starts two ordinary processes one after the other in the instruction channel's environment
(``matloss.instructions._env``, the same CPU, address randomisation off; one more before them
draws the input). Each counts, with a profile hook (``sys.setprofile``), the calls of every
Python function and builtin while ``matloss.cases.prepared`` builds the compiled forward case of
``--loss``, and the differences are printed. Found this way: sympy's assumption system shuffling
its queries (``random.shuffle``), which ``--seed-sympy`` (as the channel's worker does) removes;
what is left is the polling of child processes, whose number follows the clock.

Nothing here is a test: what it prints depends on the machine and is reported, not asserted.
"""

from __future__ import annotations

import argparse
import sys
import tempfile

from compiled_layout_divergence import ROOT, compared_processes

CHILD = """
import collections, gc, json, sys
gc.disable()
sys.path.insert(0, {root!r})
if {seed}:
    import sympy.core.random
    sympy.core.random.seed(0)
import torch
from matloss import cases
counts = collections.Counter()
def hook(frame, event, arg):
    if event == "call":
        counts[f"{{frame.f_code.co_filename}}:{{frame.f_code.co_firstlineno}} {{frame.f_code.co_name}}"] += 1
    elif event == "c_call":
        counts[f"builtin {{getattr(arg, '__qualname__', repr(arg))}}"] += 1
sys.setprofile(hook)
cases.prepared({loss!r}, "torch", "cpu", "float64", "128", "compiled", backward=False, input_dir={inputs!r})
sys.setprofile(None)
print(json.dumps(counts))
"""


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--loss", default="frobenius")
    ap.add_argument("--seed-sympy", action="store_true")
    ns = ap.parse_args()
    inputs = tempfile.mkdtemp(prefix="matloss-calls-")
    runs = compared_processes(CHILD.format(root=str(ROOT), loss=ns.loss, inputs=inputs, seed=ns.seed_sympy), 2, inputs)
    if runs is None:
        return 1
    a, b = runs
    differ = sorted(k for k in a.keys() | b.keys() if a.get(k, 0) != b.get(k, 0))
    print(f"{len(a | b)} functions called; {len(differ)} called a different number of times")
    for k in differ:
        print(f"  {a.get(k, 0):>7} {b.get(k, 0):>7}  {k.split('site-packages/')[-1]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
