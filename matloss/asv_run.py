"""Run the asv suites in this environment against the code of given commits (``matloss bench``).

The fast path (``asv run --python=same --set-commit-hash SHA``) runs whatever ``matloss`` the
current interpreter imports; this makes that the code of SHA: each commit is checked out into a
temporary ``git worktree`` and put first on the path of every benchmark process (``PYTHONPATH``
and ``ASV_PYTHONPATH``: asv >= 0.6.5 strips ``PYTHONPATH`` unless ``ASV_PYTHONPATH`` is set).
Before running, it checks that the benchmark processes really import the packages from that
worktree. The suites themselves come from this checkout (asv's model: one benchmark suite, run
against many commits); results land in asv's ``results_dir``.

The machine is registered with asv as ``<host>-<cpu model>-<N>cpu`` (plus ``-<gpu model>`` where
``nvidia-smi`` sees a GPU), so results of different machines never mix; ``$MATLOSS_ASV_MACHINE``
or ``--machine`` override it.
"""

from __future__ import annotations

import json
import os
import platform
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

from . import paths

#: no GPU here: the cuda cases would only be started to be skipped
CPU_ONLY = r"^(?!.*'cuda').*$"


def git(*args: str, cwd: Path | None = None) -> str:
    return subprocess.run(["git", *args], cwd=cwd or paths.root(), check=True, capture_output=True, text=True).stdout.strip()


def load_conf(path: Path) -> dict:
    """asv.conf.json allows // comments; strip them like asv does."""
    text = "\n".join(line for line in Path(path).read_text().splitlines() if not line.lstrip().startswith("//"))
    return json.loads(text)


# -- the machine ----------------------------------------------------------------------------
def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def gpu_models() -> list[str]:
    if shutil.which("nvidia-smi") is None:
        return []
    try:
        out = subprocess.run(["nvidia-smi", "--query-gpu=name", "--format=csv,noheader"],
                             capture_output=True, text=True, timeout=30, check=True).stdout  # fmt: skip
    except (subprocess.SubprocessError, OSError):
        return []
    return [line.strip() for line in out.splitlines() if line.strip()]


def machine_name() -> str:
    """``$MATLOSS_ASV_MACHINE``, else ``<host>-<cpu model>-<N>cpu[-<gpu model>]``."""
    env = os.environ.get("MATLOSS_ASV_MACHINE")
    if env:
        return env
    host = socket.gethostname().split(".")[0]
    name = f"{_slug(host)}-{_slug(cpu_model())}-{os.cpu_count()}cpu"
    gpus = gpu_models()
    if gpus:
        name += "-" + _slug(gpus[0]) + (f"-x{len(gpus)}" if len(gpus) > 1 else "")
    return name


def register_machine(name: str) -> None:
    """Register ``name`` with asv (``~/.asv-machine.json``), every field filled in from this machine.

    Written whole with asv's own ``MachineCollection``: ``asv machine --yes --os ... --arch ...``
    keeps only the fields that differ from its defaults, so on a machine with no entry yet it left
    out ``os``, ``arch`` and ``num_cpu``, and the results files it stamped lacked them (a plain
    ``asv publish`` then splits one machine's graphs by ``os``)."""
    from asv.machine import MachineCollection

    try:
        pages, size = os.sysconf("SC_PHYS_PAGES"), os.sysconf("SC_PAGE_SIZE")
        ram = f"{pages * size / 2**30:.0f}GB"
    except (ValueError, OSError):
        ram = ""
    gpus = gpu_models()
    cpu = f"{cpu_model()} ({os.cpu_count()} cores)" + (f"; GPU: {', '.join(gpus)}" if gpus else "")
    MachineCollection.save(name, {"machine": name, "os": f"{platform.system()} {platform.release()}",
                                  "arch": platform.machine(), "cpu": cpu, "num_cpu": str(os.cpu_count()), "ram": ram})


def has_gpu() -> bool:
    return bool(gpu_models())


# -- running commits --------------------------------------------------------------------------
def check_import_path(worktree: Path, env: dict[str, str]) -> None:
    code = "import matloss, matloss_ref, os; print(os.path.realpath(matloss.__file__)); print(os.path.realpath(matloss_ref.__file__))"
    out = subprocess.run([sys.executable, "-c", code], env=env, cwd=tempfile.gettempdir(), check=True,
                         capture_output=True, text=True).stdout.split()  # fmt: skip
    for path in out:
        if not path.startswith(str(worktree.resolve())):
            raise RuntimeError(f"the benchmark processes import {path}, not the worktree {worktree}")


def run_commits(
    commits: Sequence[str],
    *,
    bench: Sequence[str] = (),
    quick: bool = False,
    machine: str | None = None,
    launch_method: str | None = None,
    extra: Sequence[str] = (),
    config: Path | None = None,
    retime: float = 0.0,
    log=sys.stdout,
) -> tuple[int, list[Path]]:
    """Run the suites against each commit; return (asv's worst exit status, the result files written).

    Without a GPU and without a ``-b`` filter of the caller's, the cuda cases are left out; with a
    GPU each case runs in a spawned process (CUDA does not survive a fork). ``retime`` > 0: when a
    commit's run reads UNSTEADY (:mod:`matloss.steadiness`), its cases timed off the machine's level
    are timed again, for up to ``retime`` minutes (:func:`retime_off_level`).
    """
    config = Path(config or paths.root() / "asv.conf.json")
    machine = machine or machine_name()
    register_machine(machine)
    if launch_method is None and has_gpu():
        launch_method = "spawn"
    bench = list(bench) or ([] if has_gpu() else [CPU_ONLY])
    conf = load_conf(config)
    results = (config.parent / conf.get("results_dir", "results")).resolve()
    shas = [git("rev-parse", "--verify", f"{c}^{{commit}}") for c in commits]
    written: list[Path] = []
    status = 0
    for sha in shas:
        with tempfile.TemporaryDirectory(prefix="matloss-bench-") as tmp:
            tree = Path(tmp) / sha[:12]
            git("worktree", "add", "--detach", str(tree), sha)
            try:
                env = dict(os.environ, PYTHONPATH=str(tree), ASV_PYTHONPATH=str(tree))
                check_import_path(tree, env)
                base = [sys.executable, "-m", "asv", "run", "--config", str(config), "--python=same",
                        "--set-commit-hash", sha, "--machine", machine]  # fmt: skip
                if quick:
                    base.append("--quick")
                if launch_method:
                    base += ["--launch-method", launch_method]
                base += list(extra)
                cmd = base + [a for regex in bench for a in ("-b", regex)]
                subject = git("log", "-1", "--format=%h %s", sha)
                print(f"[bench] {subject[:100]}\n[bench] $ asv {' '.join(cmd[3:])}", file=log, flush=True)
                t0 = time.monotonic()
                rc = subprocess.run(cmd, env=env, cwd=paths.root()).returncode
                print(f"[bench] {sha[:8]}: asv exited {rc} after {(time.monotonic() - t0) / 60:.1f} min", file=log, flush=True)
                status = max(status, rc)  # 2: some benchmark failed (its result is recorded as failed); go on
                if retime > 0 and not quick:  # the same command, with its own -b selection
                    status = max(status, retime_off_level(base, env, results / machine, sha, retime * 60, log))
            finally:
                subprocess.run(["git", "worktree", "remove", "--force", str(tree)], cwd=paths.root(), capture_output=True)
        written += sorted((results / machine).glob(f"{sha[:8]}-*.json"))
    return status, written


#: off-level cases timed again per asv invocation at most; the first invocation takes a quarter
#: of it, to learn what a case costs, and each later one as many as the budget has time left for
RETIME_CHUNK = 100


def retime_chunk(elapsed_s: float, done: int, budget_s: float) -> int:
    """How many cases the next ``asv run -b ...`` of :func:`retime_off_level` may time: a quarter
    of :data:`RETIME_CHUNK` first (nothing is known of the cost yet), then as many as fit in what is
    left of ``budget_s`` at the seconds per case measured so far (``elapsed_s`` over ``done`` cases,
    each invocation's start-up included, so the estimate errs long), at most :data:`RETIME_CHUNK`."""
    if done == 0:
        return max(1, RETIME_CHUNK // 4) if budget_s > elapsed_s else 0
    return max(0, min(RETIME_CHUNK, int((budget_s - elapsed_s) * done / elapsed_s))) if elapsed_s > 0 else RETIME_CHUNK


def retime_off_level(cmd: Sequence[str], env: dict[str, str], machine_dir: Path, sha: str, budget_s: float, log=None) -> int:
    """Time again, with ``cmd`` (an ``asv run`` command without ``-b``) in chunks sized by
    :func:`retime_chunk`, the cases of ``sha``'s run that were timed off the machine's level
    (:func:`matloss.steadiness.off_level`, farthest first), while the run reads UNSTEADY and a
    chunk fits in what is left of ``budget_s`` seconds; each case at most once. asv replaces just
    the selected cases' results and keeps the rest. Returns asv's worst exit status (0 if nothing ran)."""
    from . import steadiness

    log = log or sys.stdout

    def load() -> dict | None:
        files = sorted(machine_dir.glob(f"{sha[:8]}-*.json"))
        return json.loads(files[0].read_text()) if len(files) == 1 else None

    t0, status, tried = time.monotonic(), 0, set()
    data = load()
    first = steadiness.of_data(data) if data else None
    if first is None or first.steady:
        return 0
    level = first
    while level is not None and not level.steady:
        size = retime_chunk(time.monotonic() - t0, len(tried), budget_s)
        todo = [c for c in steadiness.off_level(data) if c not in tried][:size]
        if not todo:
            break
        tried.update(todo)
        rc = subprocess.run([*cmd, *(a for rx in steadiness.selection(todo) for a in ("-b", rx))], env=env, cwd=paths.root()).returncode
        status = max(status, rc)
        data = load()
        level = steadiness.of_data(data) if data else None
    after = f"{level.off_level:.0%}" if level else "unknown"
    print(f"[bench] {sha[:8]}: timed again {len(tried)} cases timed off the machine's level, in "
          f"{(time.monotonic() - t0) / 60:.1f} min: off level {first.off_level:.0%} -> {after}", file=log, flush=True)
    return status
