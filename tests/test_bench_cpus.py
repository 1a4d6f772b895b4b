"""Every benchmark process runs on one CPU (``suites/_cpus.py``, docs/speed.md "One CPU per
benchmark process"): which CPUs, a bad setting, and that threads started before and after the
pinning all end up on it. Run in child processes, so that pytest's own process stays unpinned."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
ALLOWED = sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else []
pytestmark = pytest.mark.skipif(not ALLOWED, reason="this system has no CPU affinity (os.sched_getaffinity)")

CHILD = """
import json, os, sys, threading, time
sys.path.insert(0, {root!r})
stop = threading.Event()
early = threading.Thread(target=stop.wait, daemon=True)  # a pool started before the suites (daemon: a failed import ends the process)
early.start()
import suites  # pins, as in every asv benchmark process
late = threading.Thread(target=stop.wait, daemon=True)
late.start()
time.sleep(0.05)
masks = {{tid: sorted(os.sched_getaffinity(int(tid))) for tid in os.listdir("/proc/self/task")}}
stop.set()
print(json.dumps(masks))
"""


def _child(value: str | None) -> dict[str, list[int]]:
    env = {k: v for k, v in os.environ.items() if k != "MATLOSS_BENCH_CPUS"}
    if value is not None:
        env["MATLOSS_BENCH_CPUS"] = value
    out = subprocess.run([sys.executable, "-c", CHILD.format(root=str(ROOT))], env=env, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_every_thread_of_a_benchmark_process_runs_on_the_last_cpu_by_default():
    masks = _child(None)
    assert len(masks) >= 3  # the main thread, the one started before and the one after
    assert all(m == [ALLOWED[-1]] for m in masks.values()), masks


def test_the_variable_picks_the_cpus_or_none():
    assert all(m == [ALLOWED[0]] for m in _child(str(ALLOWED[0])).values())
    assert all(m == ALLOWED for m in _child("none").values())


def test_the_spec_is_read_as_a_list_of_cpus_and_ranges():
    import importlib.util

    # the file alone: importing it through the package would run suites/__init__.py and pin pytest
    spec = importlib.util.spec_from_file_location("_cpus_alone", ROOT / "suites" / "_cpus.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    bench_cpus = module.bench_cpus
    assert bench_cpus("last") == {ALLOWED[-1]} and bench_cpus(" NONE ") is None
    assert bench_cpus(f"{ALLOWED[0]}") == {ALLOWED[0]}
    if len(ALLOWED) > 1 and ALLOWED[:2] == [0, 1]:
        assert bench_cpus("0-1") == bench_cpus("1, 0") == {0, 1}
    for bad, problem in [("1-0", "expected last, none or CPU numbers"), ("two", "expected"), ("", "expected"),
                         ("4096", "CPU 4096 is not one this process may use")]:
        with pytest.raises(ValueError, match=problem) as err:
            bench_cpus(bad)
        assert str(err.value).startswith("MATLOSS_BENCH_CPUS: ")


def test_a_test_that_imports_the_suites_leaves_pytest_on_all_its_cpus(tmp_path):
    """Importing ``suites`` pins the importing process; in pytest's own process that would put the
    rest of the session on one core. The project's conftest puts it back after each test: an inner
    pytest session with that conftest, where one test imports the suites and the next reads its CPUs."""
    if len(ALLOWED) < 2:
        pytest.skip("one CPU: pinning changes nothing here")
    (tmp_path / "conftest.py").write_text((ROOT / "tests" / "conftest.py").read_text())
    (tmp_path / "test_inner.py").write_text(f"""
import os, sys
sys.path.insert(0, {str(ROOT)!r})
ALL = set({ALLOWED!r})

def test_1_import_pins():
    import suites  # noqa: F401
    assert os.sched_getaffinity(0) == {{{ALLOWED[-1]}}}

def test_2_the_next_test_runs_on_every_cpu():
    assert os.sched_getaffinity(0) == ALL
""")
    env = {k: v for k, v in os.environ.items() if k not in ("MATLOSS_BENCH_CPUS", "PYTEST_ADDOPTS", "PYTEST_XDIST_WORKER")}
    out = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:randomly", str(tmp_path)],
                         cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)  # fmt: skip
    assert out.returncode == 0 and "2 passed" in out.stdout, out.stdout[-3000:] + out.stderr[-2000:]
