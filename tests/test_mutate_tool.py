"""``tools/mutate.py`` (``./dev mutate``): its scope, its seeded sample, its verdicts and its summary file."""

from __future__ import annotations

import csv
import importlib.util
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def mutate():
    spec = importlib.util.spec_from_file_location("matloss_mutate_tool", ROOT / "tools" / "mutate.py")
    mod = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = mod  # its dataclasses look their module up
    spec.loader.exec_module(mod)
    yield mod
    del sys.modules[spec.name]


def test_scope_puts_each_function_in_its_group(mutate):
    globs = mutate.scope(list(mutate.GROUPS))
    assert mutate.group_of("matloss_ref.losses.logdet.x_value__mutmut_3", globs) == "reference"
    assert mutate.group_of("matloss_ref.losses.logdet.x_torch__mutmut_3", globs) == "frameworks"
    assert mutate.group_of("matloss_ref.exact.x_tied_top__mutmut_1", globs) == "exact"
    assert mutate.group_of("matloss.gate_speed.x_decide__mutmut_1", globs) == "gates"
    assert mutate.group_of("matloss.gate_speed.x_main__mutmut_1", globs) is None  # outside the gate's decision
    only_exact = mutate.scope(list(mutate.GROUPS), files={"matloss_ref/exact.py"})
    assert set(only_exact.values()) == {"exact"}


def test_the_sample_is_seeded_and_at_most_its_size_per_group(mutate):
    globs = {"a.x_f__mutmut_*": "g1", "b.x_h__mutmut_*": "g2"}
    names = [f"a.x_f__mutmut_{i}" for i in range(50)] + [f"b.x_h__mutmut_{i}" for i in range(3)] + ["c.x_z__mutmut_1"]
    one = mutate.draw(names, globs, 10, seed=0)
    assert one == mutate.draw(list(reversed(names)), globs, 10, seed=0)  # order of discovery does not matter
    assert one != mutate.draw(names, globs, 10, seed=1)
    assert sum(n.startswith("a.") for n in one) == 10
    assert [n for n in one if n.startswith("b.")] == sorted(n for n in names if n.startswith("b."))  # all 3
    assert "c.x_z__mutmut_1" not in one  # out of scope


@pytest.mark.parametrize("code, verdict", [(1, "killed"), (0, "survived"), (None, "not checked"), (24, "timeout"),
                                           (-11, "crashed"), (33, "no tests"), (99, "suspicious")])
def test_mutmut_exit_codes_are_read_as_verdicts(mutate, code, verdict):
    assert mutate.status(code) == verdict


def test_the_wilson_interval_brackets_the_rate(mutate):
    low, high = mutate.wilson(27, 30)
    assert low < 0.9 < high and 0.7 < low and high < 1
    assert mutate.wilson(30, 30)[1] == pytest.approx(1.0)


def test_a_sampled_run_never_replaces_a_full_run_in_the_summary(mutate, monkeypatch, tmp_path):
    monkeypatch.setattr(mutate, "SUMMARY", tmp_path / "summary.csv")

    def row(group, sampled, mutants, killed):
        return {"group": group, "sampled": sampled, "mutants": mutants, "killed": killed, "timeout": 0, "crashed": 0,
                "survived": mutants - killed, "equivalent": 0, "unfinished": 0, "raw_kill_rate": killed / max(mutants, 1),
                "score": killed / max(mutants, 1), "ci_low": None, "ci_high": None, "target": 0.9}

    mutate.write_summary([row("gates", False, 528, 518)])
    mutate.write_summary([row("gates", True, 30, 30), row("exact", True, 30, 25), row("metrics", True, 0, 0)])
    mutate.write_summary([row("gates", True, 30, 29)])  # a later sample replaces the earlier sample only
    with open(tmp_path / "summary.csv") as f:
        got = {(r["group"], r["sampled"]): (r["mutants"], r["killed"], r["ci_low"]) for r in csv.DictReader(f)}
    assert got == {("gates", "True"): ("30", "29", ""), ("gates", "False"): ("528", "518", ""),
                   ("exact", "True"): ("30", "25", "")}  # metrics ran nothing: no row


def test_every_test_of_the_code_in_scope_is_run_against_the_mutants(mutate):
    """A test file that uses the reference or the gates but is not in mutmut's selection never
    kills a mutant: tests/test_reference_edges.py, test_registry.py and test_accuracy.py were left
    out, and two mutants of a fresh sample that they kill were reported as survivors."""
    import tomllib

    selection = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["mutmut"]["pytest_add_cli_args_test_selection"]
    selected = {a for a in selection if a.startswith("tests/")}
    assert all((ROOT / f).is_file() for f in selected | set(mutate.NOT_SELECTED)), "a listed test file does not exist"
    using = {f"tests/{p.name}" for p in (ROOT / "tests").glob("test_*.py")
             if any(m in p.read_text() for m in ("matloss_ref", "gate_accuracy", "gate_speed"))}
    assert using - selected - set(mutate.NOT_SELECTED) == set()
    assert not selected & set(mutate.NOT_SELECTED)


def test_a_mutant_of_a_default_argument_shows_its_change(mutate, monkeypatch, tmp_path):
    # mutmut writes each mutant as a function of its own name; the change may sit in the signature
    src = tmp_path / "mutants" / "pkg" / "mod.py"
    src.parent.mkdir(parents=True)
    src.write_text(
        "def x_slope__mutmut_orig(self, variant: str = 'default') -> float:\n"
        "    return self.table.get(variant, 0.0)\n"
        "def x_slope__mutmut_1(self, variant: str = 'XXdefaultXX') -> float:\n"
        "    return self.table.get(variant, 0.0)\n"
        "def x_slope__mutmut_2(self, variant: str = 'default') -> float:\n"
        "    return self.table.get(variant, 1.0)\n"
    )
    monkeypatch.setattr(mutate, "ROOT", tmp_path)
    mutate._mutant_bodies.cache_clear()
    assert mutate.mutant_diff("pkg.mod.x_slope__mutmut_1") == (
        "def f(self, variant: str = 'default') -> float: => def f(self, variant: str = 'XXdefaultXX') -> float:")
    assert mutate.mutant_diff("pkg.mod.x_slope__mutmut_2") == (
        "return self.table.get(variant, 0.0) => return self.table.get(variant, 1.0)")


def test_the_report_says_which_groups_were_not_in_the_run(mutate, monkeypatch, capsys):
    """A run of one group prints the other groups as not run, not as a rate of 0 / 0."""
    monkeypatch.setattr(mutate, "read_equivalent", lambda: {})
    groups = list(mutate.GROUPS)
    globs = {"matloss_ref.exact.x_*": "exact"}
    rows, below = mutate.report(groups, globs, {"matloss_ref.exact.x_f__mutmut_1": 1}, verbose=False)
    out = capsys.readouterr().out
    lines = {line.split()[0]: line for line in out.splitlines()[2:] if line.strip()}
    assert "100.0%" in lines["exact"] and "not in this run" not in lines["exact"]
    assert all("not in this run" in lines[g.name] and "nan" not in lines[g.name] for g in groups if g.name != "exact")
    assert below == 0
