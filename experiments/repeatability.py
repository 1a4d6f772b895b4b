"""Two asv result sets of the same commit and machine: do they agree?

    python experiments/repeatability.py RUN1.json RUN2.json [--min-time 1e-4] [--tolerance 0.10] [--channel relative] [--statistic q25]

Prints asv's own comparison of the two sets (``asv compare``'s table, through asv's
``Compare.print_table``: the CLI only compares two *commits*, and both runs here are one commit),
then, over the timing cases slower than ``--min-time`` seconds in both runs, the distribution of
the median ratio run2/run1 and every case off by more than ``--tolerance``. Exit status 1 if any.
``--statistic q25`` compares the raw times' first quartiles (asv records them beside the median)
instead of asv's value, the median: would a lower statistic, less moved by a busy neighbour, repeat
better?
Each run's steadiness (:mod:`matloss.steadiness`: the machine's level over the run, read from
its raw and relative times) comes first: two runs on an unsteady machine are not expected to agree.
"""

from __future__ import annotations

import argparse
import itertools
import math
import statistics
import sys
from pathlib import Path

from asv.commands.compare import Compare
from asv.config import Config
from asv.results import Results

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from matloss import steadiness  # noqa: E402


def resultset(res: Results):
    for key in res.get_all_result_keys():
        params = res.get_result_params(key)
        yield (key, params, res.get_result_value(key, params), res.get_result_stats(key, params),
               res.get_result_samples(key, params), res.benchmark_version.get(key), res.params["machine"], res.env_name)  # fmt: skip


#: each relative-time benchmark and the timing benchmark of the same parameters
RELATIVE = steadiness.PAIRS


def medians(res: Results, keys=None, statistic: str = "median") -> dict[str, float]:
    """{"benchmark(params)": value} of the timing benchmarks (or of ``keys``): asv's value (the
    median of the samples) or, with ``statistic="q25"``, their first quartile."""
    out = {}
    for key in res.get_all_result_keys():
        if (key not in keys) if keys is not None else ".time_" not in key:
            continue
        params = res.get_result_params(key)
        values = res.get_result_value(key, params)
        if statistic == "q25":
            values = [(st or {}).get("q_25") for st in res.get_result_stats(key, params)]
        combos = itertools.product(*params) if params else [()]
        for combo, v in zip(combos, values):
            if v is not None and not math.isnan(v):
                out[f"{key}({', '.join(combo)})"] = v
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("run1")
    p.add_argument("run2")
    p.add_argument("--min-time", type=float, default=1e-4)
    p.add_argument("--tolerance", type=float, default=0.10)
    p.add_argument("--config", default=str(ROOT / "asv.conf.json"))
    p.add_argument("--no-table", action="store_true", help="skip asv's table")
    p.add_argument("--channel", choices=["time", "relative"], default="time",
                   help="compare the raw times (default) or the relative times (matloss.relative); "
                        "--min-time selects by the raw time of the same case either way")
    p.add_argument("--statistic", choices=["median", "q25"], default="median",
                   help="the raw times' statistic compared: asv's value, the median (default), or the first quartile")
    ns = p.parse_args(argv)
    if ns.channel == "relative" and ns.statistic != "median":
        p.error("--statistic: the relative channel records one value per case (no quartiles); use it with --channel time")
    r1, r2 = Results.load(ns.run1), Results.load(ns.run2)
    if r1.commit_hash != r2.commit_hash:
        print(f"note: different commits {r1.commit_hash[:8]} and {r2.commit_hash[:8]}", file=sys.stderr)
    if not ns.no_table:
        conf = Config.load(ns.config)
        Compare.print_table(conf, r1.commit_hash, r2.commit_hash, factor=1 + ns.tolerance, split=True,
                            resultset_1=resultset(r1), resultset_2=resultset(r2), only_changed=True, sort="ratio")  # fmt: skip
    for name, path in (("run1", ns.run1), ("run2", ns.run2)):
        level = steadiness.of_file(path)
        print(f"\n{name}: " + (level.describe() if level else "no relative time: the machine's level over the run is unknown"), end="")
    print()
    t1, t2 = medians(r1, statistic=ns.statistic), medians(r2, statistic=ns.statistic)
    if ns.channel == "time":
        m1, m2 = t1, t2
        raw = {k: k for k in t1}
    else:
        m1, m2 = medians(r1, RELATIVE), medians(r2, RELATIVE)
        raw = {k: RELATIVE[k.split("(")[0]] + k[k.index("("):] for k in m1}
    both = [k for k in m1 if k in m2]  # asv's run order
    slow = [k for k in both if raw[k] in t1 and raw[k] in t2 and min(t1[raw[k]], t2[raw[k]]) > ns.min_time]
    ratios = {k: m2[k] / m1[k] for k in slow}
    off = {k: r for k, r in ratios.items() if abs(r - 1) > ns.tolerance}
    dev = sorted(abs(r - 1) for r in ratios.values())
    label = ns.channel if ns.statistic == "median" else f"{ns.channel} ({ns.statistic})"
    print(f"\n{label}: {len(both)} cases in both runs, {len(slow)} slower than {ns.min_time * 1e6:g} µs")
    if dev:
        q = statistics.quantiles(dev, n=20) if len(dev) > 1 else dev * 19
        print(f"|run2/run1 - 1|: median {statistics.median(dev):.1%}, 90th pct {q[17]:.1%}, max {dev[-1]:.1%}")
    logs = [math.log(ratios[k]) for k in slow]  # in asv's run order: neighbours ran seconds apart
    if len(set(logs[:-1])) > 1 and len(set(logs[1:])) > 1:  # is a difference the case's own, or the machine's at that moment?
        print(
            f"correlation of neighbouring cases' log(run2/run1), in run order: {statistics.correlation(logs[:-1], logs[1:]):.2f} "
            "(about 0 if each case's difference were its own; positive when the machine's speed drifts)"
        )
        for lo, hi, label in ((0, 1e-3, "under 1 ms"), (1e-3, 1e-2, "1-10 ms"), (1e-2, math.inf, "over 10 ms")):
            band = [k for k in slow if lo <= min(t1[raw[k]], t2[raw[k]]) < hi]
            if band:
                print(f"  cases {label}: {len(band)}, {sum(k in off for k in band) / len(band):.0%} off")
        for fw in ("numpy", "torch", "jax", "tensorflow"):
            mine = [k for k in slow if f", '{fw}', " in k]
            if mine:
                print(f"  {fw}: {len(mine)} cases, median |run2/run1 - 1| {statistics.median(abs(ratios[k] - 1) for k in mine):.1%}, "
                      f"{sum(k in off for k in mine) / len(mine):.0%} off")
    print(f"{len(off)} of {len(slow)} off by more than {ns.tolerance:.0%}:")
    for k, r in sorted(off.items(), key=lambda kv: -abs(kv[1] - 1)):
        print(f"  {r:6.3f}  {t1[raw[k]] * 1e3:9.3f} ms -> {t2[raw[k]] * 1e3:9.3f} ms  {k}")
    return 1 if off else 0


if __name__ == "__main__":
    sys.exit(main())
