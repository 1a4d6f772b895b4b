"""Does asv's median agree with a plain timeit of the same prepared callable?

For each case (default: a tiny, a mid and a large one) this alternates, ``--rounds`` times, a
timeit of the callable that the suites time (``matloss.cases.prepared``: the warm, synchronised
``fw.prepare`` result; ``autorange`` for the loop count, then the median of ``--repeat`` loops),
each in a fresh process as asv's runs are, with an asv run of exactly that case (``asv run
--python=same`` into a temporary results dir, this checkout's code), and compares the median of
the asv medians with the median of the timeit medians. Alternating spreads the machine's slow
and fast moments over both methods: on a shared VM one measurement taken a few seconds after
another can differ by 50 % on its own (the per-round spread is printed). Same thread settings as
the asv runs (``MATLOSS_BENCH_THREADS``, default 1).
Exit status 1 when a case is off by more than ``--tolerance`` (default 10 %).

``--in-process PAIRS`` instead alternates asv_runner's own timing code (the suite's benchmark
object, its setup and ``do_run``) with a timeit of the same callable PAIRS times inside one
process, and compares per pair: the difference of the two methods, without the machine's changes
of speed from one process or second to the next.

    python experiments/timing_fidelity.py
    python experiments/timing_fidelity.py --in-process 30
    python experiments/timing_fidelity.py --case logdet,torch,cpu,float64,128,eager,backward
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import timeit
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from matloss.threads import apply_bench_threads  # noqa: E402  (the thread settings must precede numpy and the frameworks)

apply_bench_threads()

from matloss import asv_run, cases  # noqa: E402
from matloss.compare import fmt_time  # noqa: E402

#: (loss, framework, device, dtype, shape, mode, pass): ~10 µs, ~1 ms, ~50 ms on a 2-core VM
DEFAULT_CASES = [
    ("tikhonov", "numpy", "cpu", "float64", "16", "eager", "forward"),
    ("logdet", "torch", "cpu", "float64", "128", "eager", "backward"),
    ("logdet_spd", "jax", "cpu", "float64", "512", "compiled", "backward"),
]
BENCH = {"forward": "bench_speed.Forward.time_forward", "backward": "bench_speed.Backward.time_backward"}


def timeit_median(step, repeat: int) -> float:
    timer = timeit.Timer(step)
    number, _ = timer.autorange()  # loops for >= 0.2 s
    return statistics.median(t / number for t in timer.repeat(repeat=repeat, number=number))


def timeit_fresh(case: tuple[str, ...], repeat: int) -> float:
    """``timeit_median`` of the case in a fresh process (as asv's side gets one per round): the
    speed of one process differs from the next by up to 2x here, so both methods must draw as
    many processes, or one process's luck decides the comparison."""
    *params, which = case
    code = (
        "import sys; sys.path[:0] = sys.argv[1:3]\n"
        "from timing_fidelity import cases, timeit_median  # sets the bench threads before any framework\n"
        f"print(timeit_median(cases.prepared(*{params!r}, backward={which == 'backward'}), {repeat}))"
    )
    out = subprocess.run([sys.executable, "-c", code, str(ROOT / "experiments"), str(ROOT)], cwd=ROOT, check=True,
                         capture_output=True, text=True).stdout  # fmt: skip
    return float(out.strip().splitlines()[-1])


def asv_median(case: tuple[str, ...], machine: str) -> float:
    *params, which = case
    name = f"{BENCH[which]}({', '.join(repr(p) for p in params)})"
    conf = json.loads("\n".join(ln for ln in (ROOT / "asv.conf.json").read_text().splitlines() if not ln.lstrip().startswith("//")))
    with tempfile.TemporaryDirectory(prefix="matloss-fidelity-") as tmp:
        conf.update(repo=str(ROOT), benchmark_dir=str(ROOT / "suites"), results_dir=f"{tmp}/results", html_dir=f"{tmp}/html")
        cfg = Path(tmp) / "asv.conf.json"
        cfg.write_text(json.dumps(conf))
        sha = subprocess.run(["git", "rev-parse", "HEAD"], cwd=ROOT, check=True, capture_output=True, text=True).stdout.strip()
        env = dict(os.environ, ASV_PYTHONPATH=str(ROOT))
        cmd = [sys.executable, "-m", "asv", "run", "--config", str(cfg), "--python=same", "--set-commit-hash", sha,
               "--machine", machine, "-b", "^" + re.escape(name) + "$"]  # fmt: skip
        subprocess.run(cmd, cwd=ROOT, env=env, check=True, capture_output=True)
        (result,) = [p for p in (Path(tmp) / "results" / machine).glob("*.json") if p.name != "machine.json"]
        data = json.loads(result.read_text())
    row = dict(zip(data["result_columns"], data["results"][BENCH[which]]))
    combos = [tuple(v) for v in _product(row["params"])]
    value = row["result"][combos.index(tuple(repr(p) for p in params))]
    if value is None or value != value:
        raise RuntimeError(f"asv did not time {name} (skipped or failed)")
    return float(value)


def paired_in_process(case: tuple[str, ...], pairs: int) -> tuple[float, float, list[float]]:
    """asv's own timing code and timeit, alternated ``pairs`` times in this one process.

    The asv side is asv_runner's benchmark object for the case (``get_benchmark_from_name``, the
    suite's ``setup``, then ``do_run``: asv's sampling, its ``number``, its per-call timer), the
    timeit side a ``timeit.Timer`` of the same prepared callable with the same ``number`` and
    the same count of samples; each reports the median of its samples. Alternating within one
    process takes the process-to-process and second-to-second speed changes of a shared machine
    out of the comparison: what is left is the difference of the two methods. Returns the median
    asv value, the median timeit value and the per-pair ratios.
    """
    from asv_runner.discovery import get_benchmark_from_name

    *params, which = case
    module_name, class_name, _ = BENCH[which].split(".")
    klass = getattr(importlib.import_module(f"suites.{module_name}"), class_name)
    idx = [tuple(p) for p in _product(klass.params)].index(tuple(params))
    bench = get_benchmark_from_name(str(ROOT / "suites"), f"{BENCH[which]}-{idx}", extra_params={})
    with tempfile.TemporaryDirectory(prefix="matloss-fidelity-") as input_dir:
        bench.set_cache(input_dir)
        if bench.do_setup():
            raise RuntimeError(f"asv skips {'/'.join(case)} here")
        step = cases.prepared(*params, backward=which == "backward", input_dir=input_dir)
        if bench.func.__self__.step is not step:  # asv's parameter index must name this very case
            raise RuntimeError(f"asv's benchmark {BENCH[which]}-{idx} did not set up {'/'.join(case)}")
        timer = timeit.Timer(step)
        asv, tim = [], []
        for _ in range(pairs):
            run = bench.do_run()
            asv.append(statistics.median(run["samples"]))
            # asv's number counts timed calls of the benchmark; each runs the step ``batch`` times
            number, k = run["number"] * getattr(bench.func.__self__, "batch", 1), len(run["samples"])
            tim.append(statistics.median(t / number for t in timer.repeat(repeat=k, number=number)))
        bench.do_teardown()
    return statistics.median(asv), statistics.median(tim), [a / t for a, t in zip(asv, tim)]


def _product(lists):
    out = [()]
    for values in lists:
        out = [prev + (v,) for prev in out for v in values]
    return out


def fresh_rounds(case: tuple[str, ...], ns: argparse.Namespace) -> tuple[float, float, float, list[str]]:
    """asv run and a fresh timeit process, alternated ``--rounds`` times: medians, their ratio, per-round cells."""
    asv, tim = [], []
    for _ in range(ns.rounds):
        tim.append(timeit_fresh(case, ns.repeat))
        asv.append(asv_median(case, ns.machine))
    a, t = statistics.median(asv), statistics.median(tim)
    return a, t, a / t, [", ".join(map(fmt_time, asv)), ", ".join(map(fmt_time, tim))]


def in_process(case: tuple[str, ...], ns: argparse.Namespace) -> tuple[float, float, float, list[str]]:
    """``paired_in_process``: medians, the median pair ratio, the range of pair ratios."""
    a, t, ratios = paired_in_process(case, ns.in_process)
    return a, t, statistics.median(ratios), [f"{min(ratios):.3f}-{max(ratios):.3f}"]


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--case", action="append", help="loss,framework,device,dtype,shape,mode,forward|backward (repeatable)")
    p.add_argument("--repeat", type=int, default=15, help="timeit loops per measurement (default 15)")
    p.add_argument("--rounds", type=int, default=7, help="alternations of timeit and asv per case, each in a fresh process (default 7)")
    p.add_argument("--tolerance", type=float, default=0.10)
    p.add_argument(
        "--in-process",
        type=int,
        default=0,
        metavar="PAIRS",
        help="instead: alternate asv_runner's timing and timeit PAIRS times in one process (see paired_in_process)",
    )
    p.add_argument("--machine", default=None, help="asv machine name (default: this machine's, as matloss bench names it)")
    ns = p.parse_args(argv)
    if ns.rounds < 1 or ns.repeat < 1 or ns.tolerance <= 0:
        p.error("--rounds and --repeat must be >= 1 and --tolerance > 0")
    if ns.case and any(len(c.split(",")) != 7 or c.split(",")[-1] not in BENCH for c in ns.case):
        p.error("--case: loss,framework,device,dtype,shape,mode,forward|backward (7 fields)")
    if ns.machine is None:  # asv refuses a machine it has no information about
        ns.machine = asv_run.machine_name()
    asv_run.register_machine(ns.machine, ROOT / "asv.conf.json")
    cases = [tuple(c.split(",")) for c in ns.case] if ns.case else DEFAULT_CASES
    if ns.in_process:
        measure, columns = (
            in_process,
            "| case | asv_runner median | timeit median | median of pair ratios | within | pair ratios (min-max) |",
        )
    else:
        measure, columns = (
            fresh_rounds,
            "| case | asv median | timeit median | asv / timeit | within | asv, per round | timeit, per round |",
        )
    print(columns)
    print("|---|---:|---:|---:|---|" + "---|" * (columns.count("|") - 6))  # numbers right-aligned
    bad = 0
    for case in cases:
        a, t, ratio, extra = measure(case, ns)
        ok = abs(ratio - 1) <= ns.tolerance
        bad += not ok
        cells = ["/".join(case), fmt_time(a), fmt_time(t), f"{ratio:.3f}", "yes" if ok else "NO", *extra]
        print("| " + " | ".join(cells) + " |", flush=True)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
