"""The order in which the instruction channel runs its processes (``instructions.run_graph``,
``instructions._warmups``): a batch starts once what it needs is done, the longest first."""

import subprocess
import sys
import threading

import numpy as np
import pytest

from matloss import instructions


def _recorder():
    events: list[tuple[str, str]] = []
    lock = threading.Lock()

    def task(name, result=None):
        def run():
            with lock:
                events.append(("start", name))
            with lock:
                events.append(("end", name))
            return result if result is not None else name

        return run

    return events, task


def test_one_slot_runs_the_ready_task_with_the_longest_path_to_the_end_first():
    events, task = _recorder()
    tasks = {
        "inputs": (set(), 1.0, task("inputs")),
        "warm-a": (set(), 10.0, task("warm-a")),
        "a-0": ({"inputs", "warm-a"}, 50.0, task("a-0")),
        "b-0": ({"inputs"}, 30.0, task("b-0")),
        "c-0": ({"inputs"}, 80.0, task("c-0")),
    }
    done = instructions.run_graph(tasks, jobs=1)
    assert done == {name: name for name in tasks}
    # warm-a: 10 + 50 = 60 < inputs: 1 + 80; then c (80) before a (50) before b (30)
    assert [n for kind, n in events if kind == "start"] == ["inputs", "c-0", "warm-a", "a-0", "b-0"]


def test_a_lower_stage_starts_first_among_the_ready_tasks():
    events, task = _recorder()
    tasks = {"a-0": (set(), 1.0, task("a-0")), "a-1": (set(), 1.0, task("a-1")),
             "b-0": (set(), 9.0, task("b-0")), "b-1": (set(), 9.0, task("b-1")), "warm": (set(), 0.5, task("warm"))}
    instructions.run_graph(tasks, jobs=1, stage={"a-0": 0, "b-0": 0, "a-1": 1, "b-1": 1, "warm": -1})
    assert [n for kind, n in events if kind == "start"] == ["warm", "b-0", "a-0", "b-1", "a-1"]


def test_no_task_starts_before_what_it_waits_for_has_ended():
    events, task = _recorder()
    tasks = {"inputs": (set(), 1.0, task("inputs")), "warm": (set(), 5.0, task("warm"))}
    for k in range(6):
        tasks[f"x-{k}"] = ({"inputs", "warm"}, float(k), task(f"x-{k}"))
        tasks[f"y-{k}"] = ({"inputs"}, float(10 - k), task(f"y-{k}"))
    instructions.run_graph(tasks, jobs=2)
    at = {(kind, n): i for i, (kind, n) in enumerate(events)}
    assert len(at) == 2 * len(tasks)
    for name, (deps, _, _) in tasks.items():
        for d in deps:
            assert at[("end", d)] < at[("start", name)], (d, name)


def test_a_bad_graph_is_refused_before_anything_runs():
    events, task = _recorder()
    with pytest.raises(ValueError, match="unknown tasks: nope"):
        instructions.run_graph({"a": ({"nope"}, 1.0, task("a"))}, jobs=1)
    with pytest.raises(ValueError, match="wait for each other"):
        instructions.run_graph({"a": ({"b"}, 1.0, task("a")), "b": ({"a"}, 1.0, task("b"))}, jobs=1)
    assert events == []


def test_a_task_that_raises_stops_the_run_with_its_error():
    def boom():
        raise RuntimeError("valgrind died")

    with pytest.raises(RuntimeError, match="valgrind died"):
        instructions.run_graph({"a": (set(), 1.0, boom), "b": ({"a"}, 1.0, lambda: None)}, jobs=2)


def test_the_ordinary_processes_draw_each_input_once_from_an_eager_case_and_fill_each_frameworks_cache():
    cases = instructions.grid()
    by_fw: dict[str, list] = {}
    for c in cases:
        by_fw.setdefault(c.framework, []).append(c)
    warm = instructions._warmups(by_fw)
    keys = {(c.case[0], c.case[3], c.case[4]) for c in cases}
    assert sorted((c.case[0], c.case[3], c.case[4]) for c in warm["draw-inputs"]) == sorted(keys)  # each once
    assert {(c.framework, c.case[5]) for c in warm["draw-inputs"]} == {("numpy", "eager")}
    for fw, cs in by_fw.items():
        compiles = [c for c in cs if c.case[5] == "compiled" or fw in instructions.EAGER_COMPILES]
        assert warm.get(f"warm-{fw}", []) == compiles
    # without numpy, the input comes from another framework's eager case
    torch_only = instructions._warmups({"torch": by_fw["torch"]})
    assert {(c.framework, c.case[5]) for c in torch_only["draw-inputs"]} == {("torch", "eager")}
    assert set(instructions.CASE_SECONDS) >= {(fw, mode) for fw in by_fw for mode in ("eager", "compiled")}


def test_an_input_is_the_same_whichever_framework_draws_it(tmp_path):
    """The channel draws each input once, in whichever ordinary process gets there first (numpy's
    since 460fed0, jax's or a compiled framework's before): the counts of a case must not depend on
    it, so the drawn arrays are equal to the bit."""
    pytest.importorskip("torch")
    drawn = {}
    for fw in ("numpy", "torch"):
        out = tmp_path / fw
        out.mkdir()
        code = ("from matloss import cases\n"
                "for loss in ('mvn_nll_diag', 'logdet', 'condition_number'):\n"
                f"    cases.prepared(loss, {fw!r}, 'cpu', 'float64', '128', 'eager', backward=True, input_dir={str(out)!r})\n")
        subprocess.run([sys.executable, "-c", code], check=True, capture_output=True)
        drawn[fw] = {p.name: dict(np.load(p)) for p in sorted(out.glob("*.npz"))}
    assert len(drawn["numpy"]) == 3 and drawn["numpy"].keys() == drawn["torch"].keys()
    for name, arrays in drawn["numpy"].items():
        for key, a in arrays.items():
            b = drawn["torch"][name][key]
            assert a.dtype == b.dtype and a.tobytes() == b.tobytes(), (name, key)
