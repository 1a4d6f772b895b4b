"""Run the asv suites in the current environment against the code of one or more commits.

The fast path (``asv run --python=same --set-commit-hash SHA``) runs whatever ``matloss_ref`` the
current interpreter imports; this script makes that the code of SHA: each commit is checked out
into a temporary ``git worktree`` and put first on the path of every benchmark process
(``PYTHONPATH`` and ``ASV_PYTHONPATH``: asv >= 0.6.5 strips ``PYTHONPATH`` unless
``ASV_PYTHONPATH`` is set). Before running, it checks that the benchmark processes really import
``matloss_ref`` from that worktree. The suites themselves come from this checkout (asv's model:
one benchmark suite, run against many commits); results land in asv's ``results_dir``.

    python scripts/bench_commits.py HEAD                      # the default grid, at HEAD
    python scripts/bench_commits.py --quick HEAD~3 HEAD       # one call per case, two commits
    python scripts/bench_commits.py -b "time_forward" HEAD -- --show-stderr

Everything after ``--`` goes to ``asv run``. Prints the result files written; exits with asv's
status (2 when a benchmark failed) after running every commit.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def git(*args: str) -> str:
    return subprocess.run(["git", *args], cwd=ROOT, check=True, capture_output=True, text=True).stdout.strip()


def load_conf(path: Path) -> dict:
    """asv.conf.json allows // comments; strip them like asv does."""
    text = "\n".join(line for line in path.read_text().splitlines() if not line.lstrip().startswith("//"))
    return json.loads(text)


def check_import_path(worktree: Path, env: dict[str, str]) -> None:
    out = subprocess.run(
        [sys.executable, "-c", "import matloss_ref, os; print(os.path.realpath(matloss_ref.__file__))"],
        env=env, cwd=tempfile.gettempdir(), check=True, capture_output=True, text=True,
    ).stdout.strip()  # fmt: skip
    if not out.startswith(str(worktree.resolve())):
        raise SystemExit(f"bench_commits: matloss_ref imports from {out}, not from the worktree {worktree}")


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    extra: list[str] = []
    if "--" in argv:
        i = argv.index("--")
        argv, extra = argv[:i], argv[i + 1 :]
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("commits", nargs="+", help="commits to run (any git revision)")
    p.add_argument("-b", "--bench", action="append", default=[], help="asv benchmark regex (repeatable)")
    p.add_argument("--quick", action="store_true", help="asv --quick: one call per case, no statistics")
    p.add_argument("--machine", default=None, help="asv machine name (default: scripts/asv_machine.py)")
    p.add_argument("--launch-method", default=None, choices=["spawn", "forkserver"], help="override asv.conf.json (GPU: spawn)")
    p.add_argument("--config", default=str(ROOT / "asv.conf.json"))
    ns = p.parse_args(argv)

    machine = ns.machine or subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "asv_machine.py"), "--config", ns.config],
        check=True, capture_output=True, text=True, cwd=ROOT,
    ).stdout.strip().splitlines()[-1]  # fmt: skip
    conf = load_conf(Path(ns.config))
    results = (Path(ns.config).parent / conf.get("results_dir", "results")).resolve()
    shas = [git("rev-parse", "--verify", f"{c}^{{commit}}") for c in ns.commits]
    written: list[Path] = []
    status = 0
    for sha in shas:
        with tempfile.TemporaryDirectory(prefix="matloss-bench-") as tmp:
            tree = Path(tmp) / sha[:12]
            git("worktree", "add", "--detach", str(tree), sha)
            try:
                env = dict(os.environ, PYTHONPATH=str(tree), ASV_PYTHONPATH=str(tree))
                check_import_path(tree, env)
                cmd = [sys.executable, "-m", "asv", "run", "--config", ns.config, "--python=same",
                       "--set-commit-hash", sha, "--machine", machine]  # fmt: skip
                if ns.quick:
                    cmd.append("--quick")
                if ns.launch_method:
                    cmd += ["--launch-method", ns.launch_method]
                for regex in ns.bench:
                    cmd += ["-b", regex]
                cmd += extra
                subject = git("log", "-1", "--format=%h %s", sha)
                print(f"[bench] {subject[:100]}\n[bench] $ asv {' '.join(cmd[3:])}", flush=True)
                t0 = time.monotonic()
                rc = subprocess.run(cmd, env=env, cwd=ROOT).returncode
                print(f"[bench] {sha[:8]}: asv exited {rc} after {(time.monotonic() - t0) / 60:.1f} min", flush=True)
                if rc != 0:  # 2: some benchmark failed (its result is recorded as failed); go on
                    print(f"[bench] warning: asv reported failures for {sha[:8]} (exit {rc})", file=sys.stderr, flush=True)
                    status = max(status, rc)
            finally:
                subprocess.run(["git", "worktree", "remove", "--force", str(tree)], cwd=ROOT, capture_output=True)
        written += sorted((results / machine).glob(f"{sha[:8]}-*.json"))
    for path in written:
        print(f"[bench] results: {os.path.relpath(path, Path.cwd())}")
    return status


if __name__ == "__main__":
    sys.exit(main())
