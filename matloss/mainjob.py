"""The main job (``./dev run``, ``matloss run``): everything a user comes for, in one command.

Default (minutes): the findings; the speed suites at HEAD on a representative subset (every loss
and framework, CPU, float64, n = 128, forward and forward + backward, eager and compiled); the
dashboard; the quick accuracy grid and its pages; the framework comparison; one closing summary.
``--full``: the whole speed grid and the default accuracy sweep (about an hour on 2 cores).
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from . import paths

#: the default run's speed subset: asv's names are "bench(loss, framework, device, dtype, shape, mode)"
SUBSET = (r"bench_speed\.(Forward\.time_forward|Backward\.time_backward|ForwardRelative\.track_forward_relative"
          r"|BackwardRelative\.track_backward_relative)\('[^']*', '[^']*', 'cpu', 'float64', '128', '[^']*'\)")


#: minutes spent re-timing the cases timed off the machine's level when a run reads UNSTEADY
#: (``matloss bench --retime``; docs/speed.md "Was the machine steady?"), default run and --full:
#: re-timing took 1.3-3.5 min for 100-300 cases of the full grid (docs/measurements.md)
RETIME_MINUTES = {False: 2.0, True: 10.0}


@dataclass
class Report:
    """What each step found, and where its output is, for the closing summary."""

    lines: list[str] = field(default_factory=list)
    pages: list[tuple[str, Path]] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)


def _step(k: int, total: int, title: str, fn: Callable[[], None], report: Report, log) -> None:
    t0 = time.monotonic()
    print(f"\n[run {k}/{total}] {title} ...", file=log, flush=True)
    try:
        fn()
    except Exception as exc:  # one step failing must not lose the others' results
        report.failed.append(f"{title}: {type(exc).__name__}: {exc}")
        print(f"[run {k}/{total}] {title} FAILED: {type(exc).__name__}: {exc}", file=log, flush=True)
    print(f"[run {k}/{total}] {title}: {time.monotonic() - t0:.0f} s", file=log, flush=True)


def run(full: bool = False, log=sys.stdout) -> int:
    import pandas as pd

    from . import accuracy, asv_run, compare, dashboard, findings, steadiness
    from .gate_accuracy import baseline_path, compare_accuracy
    from .report import accuracy_pages

    report = Report()
    pages: list = []
    t_start = time.monotonic()
    speed_status = {"rc": 0}

    def do_findings() -> None:
        from .findings import grouping as group
        from .findings import page

        quick = {} if full else {"sizes": (4,), "modes": ("eager",)}
        df = findings.run(progress=lambda s: print(f"  findings: {s}", file=log, flush=True), **quick)
        merged = findings.save(df, paths.findings_csv())
        found = group.group(df)
        classes = found["class"].value_counts().to_dict()
        new = int(((found["class"] == "defect") & (found["upstream"] == "new")).sum())
        report.lines.append(f"findings: {len(found)} ({', '.join(f'{classes.get(c, 0)} {c}' for c in group.CLASSES)}; "
                            f"{new} defect(s) with no upstream report) from {len(df)} rows -> {paths.findings_csv()} "
                            f"({len(merged)} rows in all)")  # fmt: skip
        pages.append(("findings page", lambda: page.write(group.group(merged))))

    def do_speed() -> None:
        bench = [] if full else [SUBSET]
        rc, written = asv_run.run_commits(["HEAD"], bench=bench, retime=RETIME_MINUTES[full], log=log)
        speed_status["rc"] = rc
        report.lines.append(f"speed: asv exited {rc} ({'every case' if full else 'the subset'}); results: "
                            + ", ".join(str(p.relative_to(paths.root())) for p in written))  # fmt: skip
        for path in written:
            level = steadiness.of_file(path)
            if level is not None:
                report.lines.append(f"speed: {level.describe()}")

    def do_publish() -> None:
        index = dashboard.publish(log=log)
        report.pages.append(("speed dashboard", index))
        for what, write in pages:  # asv publish empties html/: the other pages are written after it
            report.pages.append((what, write()))

    def do_accuracy() -> None:
        grid = accuracy.Grid.default() if full else accuracy.Grid.quick()
        out = paths.accuracy_out(quick=not full)
        table = accuracy.sweep(grid, out)
        summary = accuracy.summarize(table)
        index = accuracy_pages(table, summary=summary)
        report.pages.append(("accuracy pages", index))
        line = f"accuracy: {len(table)} cases in {len(summary)} cells -> {accuracy.summary_path(out)}"
        if not full and baseline_path().exists():
            violations, _ = compare_accuracy(pd.read_csv(baseline_path()), summary)
            regressions = [v for v in violations if v.regression]
            known = len(violations) - len(regressions)
            line += f"; against the committed baseline: {len(regressions)} regression(s), {known} known finding(s)"
        report.lines.append(line)

    def do_compare() -> None:
        path = compare.find(paths.results(), asv_run.machine_name())
        rs = compare.load(path, paths.results())
        rows = compare.table(rs, None if full else {"shape": ["128"], "dtype": ["float64"]})
        out = compare.write_csv(rows, paths.html() / "compare" / f"{rs.machine}-{rs.commit[:8]}.csv")
        print(compare.markdown(rows, rs), file=log)
        wins: dict[str, int] = {}
        for r in rows:
            if r["backward_ratio"] == 1.0:
                key = f"{r['framework']} {r['mode']}"
                wins[key] = wins.get(key, 0) + 1
        ranking = ", ".join(f"{k} {v}" for k, v in sorted(wins.items(), key=lambda kv: -kv[1]))
        report.lines.append(f"compare: fastest forward + backward per loss: {ranking or 'none'}")
        report.pages.append(("framework comparison (CSV)", out))

    def do_recommend() -> None:
        from . import recommend

        path = compare.find(paths.results(), asv_run.machine_name())
        rs = compare.load(path, paths.results())
        summary_file = recommend.accuracy_summary_path()
        recs = recommend.recommend(rs, pd.read_csv(summary_file), None if full else {"shape": ["128"], "dtype": ["float64"]})
        none = [r["loss"] for r in recs if not r["framework"]]
        report.lines.append(f"recommend: {len(recs)} (loss, device, dtype, shape) groups; no framework qualifies for "
                            f"{', '.join(sorted(set(none))) or 'none'}")  # fmt: skip
        report.pages.append(("framework recommendations", recommend.page(recs, rs, summary_file)))

    steps = [("findings", do_findings), ("speed suites (asv, this machine, HEAD)", do_speed),
             ("dashboard", do_publish), ("accuracy sweep and pages", do_accuracy), ("framework comparison", do_compare),
             ("which framework to use", do_recommend)]  # fmt: skip
    for k, (title, fn) in enumerate(steps, 1):
        _step(k, len(steps), title, fn, report, log)

    print(f"\n== matloss run {'--full ' if full else ''}finished in {(time.monotonic() - t_start) / 60:.1f} min ==", file=log)
    for line in report.lines:
        print(f"- {line}", file=log)
    for what, path in report.pages:
        print(f"- open the {what}: {path}", file=log)
    print(f"- serve the dashboard: {sys.executable.rsplit('/', 1)[0]}/asv preview  (then http://127.0.0.1:8080)", file=log)
    for f in report.failed:
        print(f"- FAILED: {f}", file=log)
    return 1 if report.failed else (speed_status["rc"] and 2)
