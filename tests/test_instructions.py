"""The instruction channel (matloss.instructions, matloss.callgrind), its gate and the alerts from history."""

from __future__ import annotations

import contextlib
import ctypes.util
import json
import math
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from matloss import alerts, gate_instructions, instructions
from matloss.callgrind import label_of, totals
from matloss.instructions import Case, Outcome, _row

ROOT = Path(__file__).resolve().parent.parent
CASE = Case("bench_speed.Forward.time_forward('frobenius', 'numpy', 'cpu', 'float64', '128', 'eager')",
            ("frobenius", "numpy", "cpu", "float64", "128", "eager"), False)


# -- reading callgrind's profiles ----------------------------------------------------------------
PROFILE = """# callgrind format
version: 1
creator: callgrind-3.19.0
pid: 4242
cmd:  python -c ...
part: 3

desc: I1 cache:
desc: Timerange: Basic block 1000 - 2000
desc: Trigger: Client Request: case 7 call 2

positions: line
events: Ir
summary: 123456

fn=(1) foo
0 100
totals: 123456
"""


def test_totals_and_label_are_read_from_a_callgrind_profile(tmp_path):
    p = tmp_path / "cg.4242.3"
    p.write_text(PROFILE)
    assert totals(p) == 123456
    assert label_of(p) == "case 7 call 2"
    # totals: is read from the file's end; a profile longer than the part read first still gives it
    p.write_text(PROFILE.replace("fn=(1) foo\n0 100\n", "".join(f"fn=({i}) f{i}\n0 1\n" for i in range(2, 2000))))
    assert p.stat().st_size > 20_000 and totals(p) == 123456
    # an older profile without a totals: line: its summary: in the header
    p.write_text(PROFILE.replace("totals: 123456\n", "") + "".join(f"fn=({i}) f{i}\n0 1\n" for i in range(2, 2000)))
    assert totals(p) == 123456
    p.write_text("events: Ir\nfn=(1) foo\n")
    assert label_of(p) is None
    with pytest.raises(ValueError, match="no totals"):
        totals(p)


# a profile in which an Eigen pool worker spun (600 instructions in the polling function itself,
# 100 in what it calls) beside 300 of real work: callgrind_annotate's inclusive cost of the spin
SPIN = "Eigen::ThreadPoolTempl<tsl::thread::EigenEnvironment>::MaybeGetTask(tsl::thread::EigenEnvironment::Task*)"
SPUN = f"""# callgrind format
version: 1
creator: callgrind-3.19.0
positions: line
events: Ir
summary: 1000

fl=a.c
fn=main
0 100
cfl=a.c
cfn={SPIN}
calls=1 0
0 700
cfl=a.c
cfn=work
calls=1 0
0 200

fl=a.c
fn={SPIN}
0 600
cfl=a.c
cfn=pop
calls=1 0
0 100

fl=a.c
fn=pop
0 100

fl=a.c
fn=work
0 200
totals: 1000
"""


@pytest.mark.skipif(shutil.which("callgrind_annotate") is None, reason="needs valgrind's callgrind_annotate")
def test_the_idle_spin_of_a_pool_thread_is_its_inclusive_cost(tmp_path):
    from matloss.callgrind import inclusive

    p = tmp_path / "cg.1.1"
    p.write_text(SPUN)
    assert totals(p) == 1000
    assert inclusive(p, instructions.IDLE_SPIN) == 700  # the polling loop and what it calls, not the work
    assert instructions.IDLE_SPIN_MARK in SPIN and instructions.IDLE_SPIN.search(SPIN)
    assert not instructions.IDLE_SPIN.search("Eigen::ThreadPoolTempl<tsl::thread::EigenEnvironment>::Schedule(std::function<void ()>)")


def test_without_jemalloc_the_channel_says_what_to_install(monkeypatch):
    import ctypes.util

    monkeypatch.setattr(ctypes.util, "find_library", lambda name: None)
    with pytest.raises(RuntimeError, match="apt-get install libjemalloc2"):
        instructions.allocator_env()
    assert "libjemalloc2" in (instructions.unavailable() or "")


@pytest.mark.skipif(ctypes.util.find_library("jemalloc") is None, reason="needs jemalloc (Debian: libjemalloc2)")
def test_the_counted_processes_allocator_takes_every_setting_and_never_collects_its_thread_cache():
    # jemalloc ignores a setting it does not know, with a line on stderr and nothing else: read the
    # settings back from the allocator a process runs with. By default jemalloc collects each
    # thread's cache after every 64 KiB allocated, at points set by everything allocated before
    # a call; a count then moved with the length of the worker's text (docs/instructions.md)
    read = ("import ctypes\n"
            "lib = ctypes.CDLL('libjemalloc.so.2')\n"
            "for name in (b'opt.tcache_gc_incr_bytes', b'opt.tcache_max', b'opt.dirty_decay_ms'):\n"
            "    v, size = ctypes.c_int64(), ctypes.c_size_t(8)\n"
            "    assert lib.mallctl(name, ctypes.byref(v), ctypes.byref(size), None, ctypes.c_size_t(0)) == 0, name\n"
            "    print(v.value)\n")
    env = {**os.environ, **instructions.allocator_env()}
    r = subprocess.run([sys.executable, "-c", read], env=env, capture_output=True, text=True, check=True)
    assert "<jemalloc>" not in r.stderr
    gc_every, cache_max, decay = map(int, r.stdout.split())
    assert gc_every >= 10**15 and cache_max == 1 << 20 and decay == -1
    without = {**env, "MALLOC_CONF": ""}
    default = subprocess.run([sys.executable, "-c", read], env=without, capture_output=True, text=True, check=True)
    assert int(default.stdout.split()[0]) < gc_every  # jemalloc's own default collects (5.3: every 64 KiB)


# -- a case's row: the minimum of its calls, compared across processes ---------------------------
def test_a_case_counts_the_minimum_of_its_calls_and_is_deterministic_when_processes_agree():
    # per call the counts move (a pool thread spinning through a time slice adds ~100 k now and
    # then); the least call does not: both processes read 1000
    row = _row(CASE, [Outcome("ok", 1, calls=[1050, 1000, 1101]), Outcome("ok", 1, calls=[1100, 1000])])
    assert row["status"] == "ok" and row["instructions"] == 1000 and row["spread"] == 0
    assert row["call_spread"] == pytest.approx(0.101)
    assert row["calls_1"] == "1050 1000 1101" and row["calls_2"] == "1100 1000"  # every call is kept
    assert row["spin"] == 0
    spun = _row(CASE, [Outcome("ok", 2, calls=[1000], spins=[100199]), Outcome("ok", 2, calls=[1000], spins=[0])])
    assert spun["instructions"] == 1000 and spun["spin"] == 100199  # what was left out, shown beside the count


def test_processes_that_disagree_beyond_the_tolerance_make_a_case_nondeterministic():
    inside = _row(CASE, [Outcome("ok", 1, calls=[100000]), Outcome("ok", 1, calls=[100099])])
    assert inside["status"] == "ok" and inside["instructions"] == 100050
    outside = _row(CASE, [Outcome("ok", 3, calls=[100000]), Outcome("ok", 1, calls=[100101])])
    assert outside["status"] == "nondeterministic" and outside["instructions"] is None
    assert "3 threads" in outside["reason"] and "0.10%" in outside["reason"]


def test_a_skip_or_error_in_any_process_is_the_row_and_a_missing_dump_is_an_error():
    assert _row(CASE, [Outcome("ok", calls=[5]), Outcome("skip", reason="no compiled mode")])["status"] == "skip"
    err = _row(CASE, [Outcome("error", reason="ValueError: x"), Outcome("ok", calls=[5])])
    assert err["status"] == "error" and err["reason"] == "ValueError: x"
    assert _row(CASE, [Outcome("ok"), Outcome("ok", calls=[5])])["status"] == "error"


def test_the_channel_grid_is_every_cpu_case_at_its_size_and_dtype():
    cases = instructions.grid()
    assert cases and all(c.case[2] == "cpu" and c.case[3] in instructions.DTYPES and c.case[4] in instructions.SHAPES for c in cases)
    assert {c.backward for c in cases} == {False, True}
    assert instructions.grid(r"'frobenius', 'numpy'") == [c for c in cases if c.case[:2] == ("frobenius", "numpy")]


@pytest.mark.skipif(shutil.which("cc") is None, reason="needs a C compiler (the callgrind client)")
def test_each_batch_process_is_pinned_to_a_cpu_no_other_batch_holds(tmp_path):
    cpus = instructions._Cpus()
    allowed = sorted(os.sched_getaffinity(0))
    held = []
    with contextlib.ExitStack() as stack:
        for _ in allowed:
            held.append(stack.enter_context(cpus.one()))
        assert sorted(held) == allowed  # each lent once while held
    case = instructions.grid(r"time_forward\('frobenius', 'numpy', 'cpu', 'float64', '128', 'eager'\)")
    (tmp_path / "inputs").mkdir()
    got = instructions._run_batch(case, False, tmp_path, "native", None, instructions._env(), None, warm_calls=0, cpus=cpus)
    assert got[0].status == "ok" and got[0].cpus == 1, got  # the batch process could run on one CPU


@pytest.mark.skipif(shutil.which("cc") is None, reason="needs a C compiler (the callgrind client)")
def test_a_case_that_cannot_be_built_is_its_own_row_and_the_batch_goes_on(tmp_path):
    """The worker builds every case before it counts any: a case that fails there (an unknown loss)
    or does not exist (numpy has no compiled mode) gets its status line at once, and the cases
    before and after it are still called, each its own line under its own index."""
    frob = instructions.grid(r"time_forward\('frobenius', 'numpy', 'cpu', 'float64', '128', '(eager|compiled)'\)")
    bogus = instructions.Case("made.up", ("no_such_loss", "numpy", "cpu", "float64", "128", "eager"), False)
    eager, compiled = sorted(frob, key=lambda c: c.case[5] == "compiled")
    batch = [compiled, bogus, eager]
    assert [c.case[5] for c in batch] == ["compiled", "eager", "eager"]
    (tmp_path / "inputs").mkdir()
    got = instructions._run_batch(batch, False, tmp_path, "native", None, instructions._env(), None, warm_calls=1)
    assert [got[i].status for i in range(3)] == ["skip", "error", "ok"], got
    assert "no_such_loss" in got[1].reason, got[1]
    assert got[2].threads == 1  # called (the thread count is taken right before the counted calls)


@pytest.mark.skipif(shutil.which("cc") is None, reason="needs a C compiler (the callgrind client)")
def test_a_batch_counts_its_eager_cases_before_it_prepares_a_compiled_one(tmp_path):
    """The phases of a batch process: eager cases first, whatever order the cases come in; every
    eager case's line is final before the first compiled case is prepared."""
    cases = [instructions.Case(f"c{i}", ("frobenius", "numpy", "cpu", "float64", "128", mode), False)
             for i, mode in enumerate(["compiled", "eager", "compiled", "eager", "later"])]
    assert instructions.phases(cases) == [[1, 3], [0, 2], [4]]
    assert instructions.phases(cases[:1]) == [[0]] and instructions.phases([]) == []
    pytest.importorskip("torch")
    frob = instructions.grid(r"\('frobenius', 'torch', 'cpu', 'float64', '128', '(eager|compiled)'\)")
    batch = sorted(frob, key=lambda c: c.case[5] == "eager")  # compiled cases given first
    assert [c.case[5] for c in batch] == ["compiled", "compiled", "eager", "eager"]
    (tmp_path / "inputs").mkdir()
    got = instructions._run_batch(batch, False, tmp_path, "native", None, instructions._env(), None, warm_calls=0)
    assert all(o.status == "ok" for o in got.values()), got
    lines = [json.loads(line) for p in (tmp_path / "native").glob("status-*.jsonl") for line in p.read_text().splitlines()]
    assert [rec["index"] for rec in lines] == [2, 3, 0, 1], lines  # in phase order, each under its own index


def test_rows_survive_the_csv(tmp_path):
    rows = [_row(CASE, [Outcome("ok", 1, calls=[7]), Outcome("ok", 1, calls=[7])]),
            _row(CASE, [Outcome("skip", reason="why, with a comma")] * 2)]
    instructions.write(rows, tmp_path / "t.csv")
    back = instructions.read(tmp_path / "t.csv")
    assert [r["status"] for r in back] == ["ok", "skip"] and back[0]["instructions"] == 7 and back[1]["reason"] == "why, with a comma"
    assert instructions.table(back)[("frobenius", "numpy", "float64", "128", "eager", False)] is back[-1]


def test_the_worker_turns_jax_dispatch_inline_which_the_environment_cannot():
    """With asynchronous dispatch an XLA worker thread runs each computation while the caller waits,
    and the two threads' hand-over under valgrind follows the host's timing: 17 of 72 jax cases
    read 0.12-1.8 % apart in two processes. Setting ``JAX_CPU_ENABLE_ASYNC_DISPATCH=false`` in the
    environment (the channel did, until 2026-12-06) leaves jax's flag on; the worker sets it."""
    pytest.importorskip("jax")
    code = ("import runpy, sys; w = runpy.run_path(sys.argv[1]); import jax; "
            "before = jax.config.read('jax_cpu_enable_async_dispatch'); "
            "w['jax_inline']([['n', ['frobenius', 'jax', 'cpu', 'float64', '128', 'eager'], False]]); "
            "print(before, jax.config.read('jax_cpu_enable_async_dispatch'))")
    env = dict(os.environ, JAX_CPU_ENABLE_ASYNC_DISPATCH="false")
    out = subprocess.run([sys.executable, "-c", code, str(instructions._WORKER_SOURCE)], env=env, capture_output=True,
                         text=True, check=True).stdout.split()
    assert out == ["True", "False"], out


def test_the_worker_seeds_sympy_where_torch_compiles_and_imports_it_nowhere_else():
    """sympy's assumption system shuffles the facts it checks with a generator seeded by the
    operating system, so torch.compile built different sympy expressions in each process (and
    every later object landed elsewhere). The worker seeds it for torch's compiled batch: two
    processes then draw the same; other batches do not import sympy at all."""
    pytest.importorskip("sympy")
    code = ("import runpy, sys; w = runpy.run_path(sys.argv[1]); "
            "w['sympy_seeded']([['n', ['frobenius', sys.argv[2], 'cpu', 'float64', '128', sys.argv[3]], False]]); "
            "m = sys.modules.get('sympy.core.random'); "
            "print(m._assumptions_rng.random() if m else 'none')")

    def draw(framework, mode):
        return subprocess.run([sys.executable, "-c", code, str(instructions._WORKER_SOURCE), framework, mode],
                              capture_output=True, text=True, check=True).stdout.strip()

    assert draw("numpy", "eager") == "none" and draw("torch", "eager") == "none"
    first, second = draw("torch", "compiled"), draw("torch", "compiled")
    assert first != "none" and first == second


@pytest.mark.skipif(bool(instructions.unavailable()), reason=f"the channel cannot run here: {instructions.unavailable()}")
def test_numpy_counts_are_identical_in_two_valgrind_processes():
    rows = instructions.measure(instructions.grid(r"\('frobenius', 'numpy', 'cpu', 'float64', '128', 'eager'\)"), log=None)
    assert len(rows) == 2 and {r["backward"] for r in rows} == {False, True}
    for r in rows:
        assert r["status"] == "ok", r
        assert r["ir_1"] == r["ir_2"] and 10_000 < r["instructions"] < 10_000_000
    fwd, bwd = sorted(rows, key=lambda r: r["backward"])
    assert bwd["instructions"] > fwd["instructions"]  # forward + backward does more than forward


@pytest.mark.skipif(bool(instructions.unavailable()), reason=f"the channel cannot run here: {instructions.unavailable()}")
def test_torch_eager_counts_are_identical_in_two_processes_beside_compiled_cases():
    """Eager and compiled cases run in processes of their own: in one process with compiled cases
    (dynamo's and inductor's state), torch's eager frobenius forward + backward read 0.03-0.11 %
    apart in two processes; in a process of its own, identical."""
    pytest.importorskip("torch")
    rows = instructions.measure(instructions.grid(r"\('frobenius', 'torch', 'cpu', 'float64', '128', '(eager|compiled)'\)"
                                                  r"|time_forward\('logdet_spd', 'torch', 'cpu', 'float64', '128', 'compiled'\)"), log=None)
    assert len(rows) == 5, rows
    eager = [r for r in rows if r["mode"] == "eager"]
    # identical in every run here; a hundredth of a percent leaves room for another machine, and
    # is still a third of the smallest distance seen with the compiled cases in the same process
    assert len(eager) == 2 and all(r["status"] == "ok" and abs(r["ir_1"] - r["ir_2"]) <= 1e-4 * r["ir_1"] for r in eager), eager
    # logdet_spd's graph bypasses inductor's cache, so it compiles in the counted process, and
    # compiling shows a tqdm bar, whose monitor thread would wake every ten seconds: the worker keeps it from starting
    assert all(r["threads"] == 1 for r in rows if r["mode"] == "compiled"), rows


@pytest.mark.skipif(bool(instructions.unavailable()), reason=f"the channel cannot run here: {instructions.unavailable()}")
def test_work_done_on_another_thread_during_the_call_is_counted():
    """TensorFlow's compiled functions run their ops on a pool thread while the caller waits (its
    idle polling after the call shows as ``spin``); jax, dispatching inline, runs on the calling
    thread and leaves no pool polling. An LU of n = 128 is 2n³/3 ≈ 1.4 M flops, at most 8 per AVX2
    instruction (4 doubles × fused multiply-add): a count below 175 k cannot contain it (callgrind's
    zero and dump act on the calling thread only when threads are profiled separately; so
    separated, jax's case read 57 k while its dispatch was asynchronous)."""
    pytest.importorskip("jax")
    pytest.importorskip("tensorflow")
    rows = instructions.measure(instructions.grid(r"time_forward\('logdet', '(jax|tensorflow)', 'cpu', 'float64', '128', 'compiled'\)"),
                                repeats=1, log=None)
    by_fw = {r["framework"]: r for r in rows}
    assert set(by_fw) == {"jax", "tensorflow"}, rows
    for r in rows:
        assert r["ir_1"] is not None and r["ir_1"] > 2 * 128**3 / 3 / 8, r
    assert by_fw["tensorflow"]["spin"] > 0, by_fw  # TF's pool thread polled after the call: left out of the count
    assert by_fw["jax"]["spin"] == 0, by_fw  # no XLA worker took the computation


# -- the instruction gate's rule -----------------------------------------------------------------
def _ok(n):
    return {"status": "ok", "instructions": n, "reason": ""}


def test_the_gate_blocks_just_beyond_one_percent_and_not_just_inside():
    (v,) = gate_instructions.decide({"a": _ok(100000)}, {"a": _ok(101001)})
    assert v.status == "slower" and v.ratio == pytest.approx(1.01001)
    (v,) = gate_instructions.decide({"a": _ok(100000)}, {"a": _ok(100999)})
    assert v.status == "same"
    (v,) = gate_instructions.decide({"a": _ok(101001)}, {"a": _ok(100000)})
    assert v.status == "faster"
    (v,) = gate_instructions.decide({"a": _ok(100000)}, {"a": _ok(102000)}, threshold=0.05)
    assert v.status == "same"


def test_the_gate_never_blocks_on_an_unmeasured_case_and_fails_on_a_broken_one():
    nondet = {"status": "nondeterministic", "instructions": None, "reason": "counts 1..2"}
    broken = {"status": "error", "instructions": None, "reason": "RuntimeError"}
    verdicts = {v.name: v.status for v in gate_instructions.decide(
        {"n": _ok(1), "f": _ok(1), "r": _ok(1), "fixed": broken},
        {"n": nondet, "f": broken, "a": _ok(1), "fixed": _ok(1)})}
    assert verdicts == {"n": "unmeasured", "f": "failed", "r": "removed", "a": "added", "fixed": "added"}
    from matloss.gate_speed import exit_code

    assert exit_code(gate_instructions.decide({"n": _ok(1)}, {"n": nondet})) == 0
    with pytest.raises(ValueError, match="threshold"):
        gate_instructions.decide({}, {}, threshold=0)


# -- alerts from history: asv's step detection over a series -------------------------------------
COMMITS = [f"c{i:02d}" for i in range(40)]


def test_a_three_percent_step_in_an_instruction_series_is_flagged_at_its_commit():
    rng = np.random.default_rng(1)
    y = 393082 * np.where(np.arange(40) >= 23, 1.03, 1.0) * (1 + rng.normal(0, 2e-4, 40))  # 0.02 % jitter
    (a,) = alerts.detect("x", COMMITS, list(y), alerts.THRESHOLDS["instructions"])
    assert (a.previous, a.commit) == ("c22", "c23") and a.ratio == pytest.approx(1.03, rel=2e-3)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_a_fifteen_percent_step_in_a_noisy_time_series_is_flagged_at_its_commit(seed):
    rng = np.random.default_rng(seed)
    y = 1e-4 * np.exp(rng.normal(0, 0.03, 40)) * np.where(np.arange(40) >= 20, 1.15, 1.0)  # 3 % noise
    found = alerts.detect("t", COMMITS, list(y), alerts.THRESHOLDS["time"])
    assert [a.commit for a in found] == ["c20"]


@pytest.mark.parametrize("sigma", [0.03, 0.08])
def test_noise_alone_flags_nothing(sigma):
    for seed in range(10):
        rng = np.random.default_rng(seed)
        assert alerts.detect("t", COMMITS, list(1e-4 * np.exp(rng.normal(0, sigma, 40))), alerts.THRESHOLDS["time"]) == []
        counts = 393082 * (1 + rng.normal(0, 2e-4, 40))
        assert alerts.detect("i", COMMITS, list(counts), alerts.THRESHOLDS["instructions"]) == []


def test_missing_points_are_skipped_and_a_step_back_down_is_no_regression():
    y = [100.0] * 10 + [None, math.nan] + [110.0] * 10
    (a,) = alerts.detect("x", COMMITS[:22], y, 0.05)
    assert a.commit == "c12"
    assert alerts.detect("x", COMMITS[:20], [110.0] * 10 + [100.0] * 10, 0.05) == []
    with pytest.raises(ValueError, match="commits"):
        alerts.detect("x", COMMITS[:3], [1.0], 0.05)


def test_alerts_leave_out_results_of_another_benchmark_version(tmp_path):
    """A new asv version means what is measured changed (the channel's method at 33f5421): its
    results start a new series, as on asv's graphs, so the step across the change is no alert."""
    import json

    machine = tmp_path / "results" / "m"
    machine.mkdir(parents=True)
    bench = "bench_instructions.Forward.track_forward"
    (tmp_path / "results" / "benchmarks.json").write_text(json.dumps({bench: {"unit": "instructions", "version": "2"}}))
    cols = ["result", "params", "version"]
    commits = [f"{i:040x}" for i in range(1, 9)]
    for i, c in enumerate(commits):
        version, value = ("1", 1000.0) if i < 4 else ("2", 1100.0)  # +10 % where the method changed
        (machine / f"{c}.json").write_text(json.dumps(
            {"commit_hash": c, "result_columns": cols, "results": {bench: [[value], [["'logdet'"]], version]}}))
    found = alerts.series(machine, commits, "instructions")
    assert found == {f"{bench}(logdet)": {c: 1100.0 for c in commits[4:]}}
    # the same values under one version are a step, and flagged where it happened
    data = json.loads((machine / f"{commits[0]}.json").read_text())
    for c in commits[:4]:
        data["commit_hash"], data["results"][bench][2] = c, "2"
        (machine / f"{c}.json").write_text(json.dumps(data))
    found = alerts.series(machine, commits, "instructions")[f"{bench}(logdet)"]
    (a,) = alerts.detect("x", commits, [found[c] for c in commits], alerts.THRESHOLDS["instructions"])
    assert a.commit == commits[4]


#: the last commit whose full run was timed with each process where the system put it
UNPINNED_LAST = "b847334c"


def unpinned_history(tmp_path: Path) -> Path:
    """A results directory holding the committed wall-time history timed before every benchmark
    process ran on one CPU (suites/_cpus.py), with the versions it was recorded under: asv, and the
    alerts, leave results of another version out of today's series."""
    results = ROOT / "results"
    out = tmp_path / "results"
    out.mkdir(parents=True)
    (out / "vm-amd-epyc-2cpu").symlink_to(results / "vm-amd-epyc-2cpu")
    info = json.loads((results / "benchmarks.json").read_text())
    (last,) = (results / "vm-amd-epyc-2cpu").glob(f"{UNPINNED_LAST}-*.json")
    data = json.loads(last.read_text())
    at = data["result_columns"].index("version")
    for name, entry in data["results"].items():
        if ".time_" in name or "_relative" in name:
            info[name]["version"] = entry[at]
    (out / "benchmarks.json").write_text(json.dumps(info))
    return out


def test_alerts_command_reads_the_committed_history(tmp_path, capsys):
    from matloss.cli import main

    old = unpinned_history(tmp_path)
    assert main(["alerts", "--metric", "time", "--machine", "vm-amd-epyc-2cpu", "--limit", "2", "--results-dir", str(old)]) == 0
    out = capsys.readouterr().out
    assert "time series over 8 commits of vm-amd-epyc-2cpu" in out
    assert main(["alerts", "--machine", "nope"]) == 2
    assert "--machine nope: no results" in capsys.readouterr().err


def test_an_alert_says_whether_the_code_changed_between_its_commits(tmp_path, capsys):
    """A step between two commits whose code is the same (only docs moved) is the machine's: the
    committed wall-time history has such alerts between fa5d83e and 456685d (two runs of one
    code), and every one of them is tagged."""
    import subprocess

    def git(*args):
        return subprocess.run(["git", *args], cwd=tmp_path, check=True, capture_output=True, text=True).stdout.strip()

    git("init", "-q")
    git("config", "user.email", "t@t"), git("config", "user.name", "t")
    shas = []
    for path, text in [("matloss_ref/loss.py", "a"), ("docs/notes.md", "b"), ("suites/bench.py", "c"), ("pyproject.toml", "d")]:
        (tmp_path / path).parent.mkdir(exist_ok=True)
        (tmp_path / path).write_text(text)
        git("add", "-A"), git("commit", "-qm", path)
        shas.append(git("rev-parse", "HEAD"))
    assert alerts.code_changed(tmp_path, shas[0], shas[1]) is False
    assert alerts.code_changed(tmp_path, shas[1], shas[2]) is True
    assert alerts.code_changed(tmp_path, shas[2], shas[3]) is True
    assert alerts.code_changed(tmp_path, shas[0], "f" * 40) is None

    from matloss.cli import main

    assert main(["alerts", "--metric", "time", "--machine", "vm-amd-epyc-2cpu", "--limit", "100",
                 "--results-dir", str(unpinned_history(tmp_path / "results-old"))]) == 0
    lines = capsys.readouterr().out.splitlines()
    same = [ln for ln in lines if "fa5d83e7 -> 456685d5" in ln]
    assert same and all("same code" in ln for ln in same)
    assert f"{len(same)} of them between commits with the same code" in lines[1]
    assert not any("same code" in ln for ln in lines if "456685d5 -> 6c54a063" in ln)
    # 6c54a063's run read UNSTEADY (matloss.steadiness): a step beside it is marked; fa5d83e7's and
    # 456685d5's runs predate relative time and carry no reading, so a step between them is not
    beside = [ln for ln in lines if "6c54a063" in ln and " -> " in ln]
    assert all("unsteady" in ln for ln in beside) and not any("unsteady" in ln for ln in same)
    if beside:
        assert any(ln.endswith("its times carry the machine's level") for ln in lines[:4])
