"""The sweep on a real dask cluster: a scheduler and two workers, started as separate processes on
127.0.0.1 with dask's own command-line programs. One worker is killed mid-sweep; the sweep still
finishes, and its table is the one the embedded cluster computes, row for row."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from matloss import accuracy
from matloss.threads import SINGLE_THREAD_ENV

DASK = shutil.which("dask", path=os.path.dirname(sys.executable)) or shutil.which("dask")
COLUMNS = ["status", "value", "value_error", "grad_error", "kappa_true", "exact_value", "R_value", "R_grad"]


def _wait(predicate, timeout: float, what: str) -> None:
    deadline = time.time() + timeout
    while not predicate():
        if time.time() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.2)


@pytest.fixture
def cluster(tmp_path):
    if DASK is None:
        pytest.skip("dask's command-line program is not installed")
    env = dict(os.environ, **SINGLE_THREAD_ENV)
    sched_file = tmp_path / "scheduler.json"
    logs = tmp_path / "logs"
    logs.mkdir()
    procs = [subprocess.Popen([DASK, "scheduler", "--host", "127.0.0.1", "--port", "0", "--no-dashboard",
                               "--scheduler-file", str(sched_file)], env=env, cwd=tmp_path,
                              stdout=open(logs / "scheduler.log", "w"), stderr=subprocess.STDOUT)]  # fmt: skip
    try:
        _wait(lambda: sched_file.exists() and sched_file.stat().st_size > 0, 60, "the scheduler")
        address = json.loads(sched_file.read_text())["address"]
        workers = [subprocess.Popen([DASK, "worker", address, "--nthreads", "1", "--no-nanny", "--no-dashboard", "--name", f"w{i}"],
                                    env=env, cwd=tmp_path, stdout=open(logs / f"w{i}.log", "w"), stderr=subprocess.STDOUT)
                   for i in range(2)]  # fmt: skip
        procs += workers
        from distributed import Client

        with Client(address, timeout="60s") as c:
            c.wait_for_workers(2, timeout=120)
        yield address, workers
    finally:
        for p in reversed(procs):
            if p.poll() is None:
                p.terminate()
        for p in procs:
            try:
                p.wait(timeout=30)
            except subprocess.TimeoutExpired:
                p.kill()


def test_quick_grid_on_a_cluster_survives_a_killed_worker(cluster, tmp_path):
    address, workers = cluster
    env = dict(os.environ, MATLOSS_CACHE_DIR=os.environ.get("MATLOSS_CACHE_DIR", str(tmp_path / "cache")))
    out = tmp_path / "remote" / "quick"
    sweep = subprocess.Popen([sys.executable, "-m", "matloss", "accuracy", "--quick", "--scheduler", address, "--out", str(out)],
                             env=env, stdout=subprocess.DEVNULL, stderr=open(tmp_path / "sweep.log", "w"))  # fmt: skip
    cases = out / "cases"
    _wait(lambda: cases.exists() and len(list(cases.glob("*.csv"))) >= 2 or sweep.poll() is not None, 600, "the first tasks")
    assert sweep.poll() is None, "the sweep finished before a worker could be killed"
    workers[0].send_signal(signal.SIGKILL)  # mid-sweep: its tasks in flight are lost with it
    workers[0].wait()
    assert sweep.wait(timeout=1200) == 0, (tmp_path / "sweep.log").read_text()[-3000:]
    remote = accuracy.read_table(out.with_suffix(".csv"))

    local_out = tmp_path / "local" / "quick"
    accuracy.sweep(accuracy.Grid.quick(), local_out, progress=False)
    local = accuracy.read_table(local_out.with_suffix(".csv"))
    assert len(remote) == len(local) == accuracy.Grid.quick().n_cases()
    assert not remote.duplicated(accuracy.CASE).any()
    key = accuracy.CASE
    a = remote.sort_values(key).reset_index(drop=True)
    b = local.sort_values(key).reset_index(drop=True)
    pd.testing.assert_frame_equal(a[key + COLUMNS], b[key + COLUMNS], check_dtype=False)


def test_workers_running_other_code_are_refused(monkeypatch):
    from matloss import cluster

    class _Client:
        def run(self, fn):
            return {"tcp://w1": "0" * 16}

    with pytest.raises(RuntimeError, match="other matloss code"):
        cluster._check_workers(_Client())
    assert len(cluster.fingerprint()) == 16 and cluster.fingerprint() == cluster.fingerprint()


def test_a_sweep_killed_mid_run_resumes_to_the_same_table(tmp_path):
    """The client writes each finished task; a SIGKILL of the whole sweep loses only the tasks in flight."""
    env = dict(os.environ, MATLOSS_CACHE_DIR=os.environ.get("MATLOSS_CACHE_DIR", str(tmp_path / "cache")))
    args = ["--quick", "--framework", "numpy", "--jobs", "1"]
    ref = tmp_path / "ref" / "q"
    assert subprocess.run([sys.executable, "-m", "matloss", "accuracy", *args, "--out", str(ref)], env=env,
                          capture_output=True).returncode == 0  # fmt: skip
    out = tmp_path / "cut" / "q"
    proc = subprocess.Popen([sys.executable, "-m", "matloss", "accuracy", *args, "--out", str(out)], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)  # fmt: skip
    _wait(lambda: (out / "cases").exists() and list((out / "cases").glob("*.csv")) or proc.poll() is not None, 300, "a task")
    os.killpg(proc.pid, signal.SIGKILL)  # the client and its local cluster
    proc.wait()
    total = len(accuracy.Grid.quick(frameworks=("numpy",)).tasks())
    assert len(list((out / "cases").glob("*.csv"))) < total, "the sweep should have been cut before it finished"
    assert subprocess.run([sys.executable, "-m", "matloss", "accuracy", *args, "--out", str(out)], env=env,
                          capture_output=True).returncode == 0  # fmt: skip
    a = accuracy.read_table(ref.with_suffix(".csv")).sort_values(accuracy.CASE).reset_index(drop=True)
    b = accuracy.read_table(out.with_suffix(".csv")).sort_values(accuracy.CASE).reset_index(drop=True)
    assert not b.duplicated(accuracy.CASE).any()
    pd.testing.assert_frame_equal(a[accuracy.CASE + COLUMNS], b[accuracy.CASE + COLUMNS], check_dtype=False)


def test_the_cache_is_keyed_by_content_so_workers_may_share_it(tmp_path):
    """Two processes writing the same exact result into one directory (as workers on a shared file
    system do) leave one valid entry: writes are atomic, the key is the input's bits."""
    code = ("import sys; from matloss_ref import get_loss; s = get_loss('logdet'); x = s.sample(16, kappa=1e6, seed=3);"
            "print(repr(s.exact_result(cache_dir=sys.argv[1], **x).value))")  # fmt: skip
    procs = [subprocess.Popen([sys.executable, "-c", code, str(tmp_path)], stdout=subprocess.PIPE, text=True) for _ in range(3)]
    values = {p.communicate()[0].strip() for p in procs}
    assert len(values) == 1
    entries = list(Path(tmp_path).rglob("*.npz"))
    assert len(entries) == 1 and not list(Path(tmp_path).rglob("*.tmp"))
