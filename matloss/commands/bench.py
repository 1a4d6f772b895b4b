"""Run the asv suites in this environment against the code of the given commits (each checked out in
a temporary worktree), results into the repository's results/<machine>/. Arguments after ``--`` go
to ``asv run``. Without a GPU the cuda cases are left out unless ``-b`` says otherwise."""

from __future__ import annotations

import os
from pathlib import Path

from . import _args

HELP = "the asv suites at the given commits, in this environment (asv run --python=same per commit)"
ORDER = 50


def add_arguments(p) -> None:
    p.add_argument("commits", nargs="+", metavar="COMMIT", help="commits to run (any git revision)")
    p.add_argument("-b", "--bench", action="append", default=[], help="asv benchmark regex (repeatable)")
    p.add_argument("--quick", action="store_true", help="asv --quick: one call per case, no statistics")
    p.add_argument("--machine", default=None, help="asv machine name (default: <host>-<cpu>-<N>cpu[-<gpu>])")
    p.add_argument("--launch-method", default=None, choices=["spawn", "forkserver"], help="override asv.conf.json (a GPU run: spawn)")
    p.add_argument("--retime", type=_args.float_at_least(0.0), default=0.0, metavar="MINUTES",
                   help="when a run reads UNSTEADY (matloss steadiness), time its cases timed off the machine's level "
                        "again, for up to MINUTES (default 0: never)")
    p.set_defaults(passthrough=[])  # what follows a bare -- (matloss.cli): options for asv run


def run(ns) -> int:
    import subprocess

    from matloss import asv_run, steadiness
    from matloss.commands._args import UsageError

    for c in ns.commits:
        try:
            asv_run.git("rev-parse", "--verify", f"{c}^{{commit}}")
        except subprocess.CalledProcessError:
            raise UsageError(f"argument COMMIT: unknown commit {c!r}") from None
    status, written = asv_run.run_commits(ns.commits, bench=ns.bench, quick=ns.quick, machine=ns.machine,
                                          launch_method=ns.launch_method, extra=ns.passthrough, retime=ns.retime)  # fmt: skip
    for path in written:
        print(f"[bench] results: {os.path.relpath(path, Path.cwd())}")
        level = steadiness.of_file(path)
        if level is not None:
            print(f"[bench] {level.describe()}")
    return status
