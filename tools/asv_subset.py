"""Cut an asv results file down to a sub-grid of its parameters (for small test fixtures).

    python tools/asv_subset.py SRC.json DST.json --keep loss=logdet,nuclear --keep dtype=float64 \
        [--bench Forward.time_forward --bench Backward.time_backward] [--names results/benchmarks.json]

Every per-parameter-combination column (result, stats, samples, ...) is re-sliced consistently;
benchmarks not named with ``--bench`` are dropped (default: keep all). Values are copied, never
recomputed: the output is still a recording of the original run.
"""

from __future__ import annotations

import argparse
import ast
import itertools
import json
import sys
from pathlib import Path


def subset(data: dict, names_of: dict[str, list[str]], keep: dict[str, set[str]], benches: list[str] | None) -> dict:
    out = dict(data)
    cols = data["result_columns"]
    out["results"] = {}
    for bench, entry in data["results"].items():
        if benches and not any(bench.endswith(b) for b in benches):
            continue
        row = dict(zip(cols, entry))
        params = row.get("params") or []
        names = names_of.get(bench, [])
        if not params or len(names) != len(params):
            out["results"][bench] = entry
            continue
        kept = [[v for v in vals if name not in keep or str(ast.literal_eval(v)) in keep[name]] for name, vals in zip(names, params)]
        index = {combo: i for i, combo in enumerate(itertools.product(*params))}
        picks = [index[combo] for combo in itertools.product(*kept)]
        new = {}
        for col, value in row.items():
            if col == "params":
                new[col] = kept
            elif isinstance(value, list) and len(value) == len(index):
                new[col] = [value[i] for i in picks]
            else:
                new[col] = value
        out["results"][bench] = [new.get(c) for c in cols]
    out["durations"] = {}
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("src")
    p.add_argument("dst")
    p.add_argument("--keep", action="append", default=[], help="NAME=V1,V2 (repeatable)")
    p.add_argument("--bench", action="append", default=None, help="keep benchmarks whose name ends with this (repeatable)")
    p.add_argument("--names", default=None, help="benchmarks.json with param_names (default: next to the machine dir)")
    ns = p.parse_args(argv)
    src = Path(ns.src)
    names_path = Path(ns.names) if ns.names else src.parent.parent / "benchmarks.json"
    names_of = {k: v.get("param_names", []) for k, v in json.loads(names_path.read_text()).items() if isinstance(v, dict)}
    keep = {}
    for item in ns.keep:
        name, _, values = item.partition("=")
        keep[name] = set(values.split(","))
    out = subset(json.loads(src.read_text()), names_of, keep, ns.bench)
    Path(ns.dst).write_text(json.dumps(out, indent=1) + "\n")
    print(f"wrote {ns.dst}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
