"""``./dev mutate``: how many real bugs would the tests catch? Mutation testing with mutmut.

mutmut (configured in ``[tool.mutmut]`` of pyproject.toml) copies the package into ``mutants/``,
writes every one-line mutation of every function in scope (a flipped operator, a changed
constant, a dropped argument, ...), maps each function to the tests that call it, and runs those
tests against each mutant in a fresh process: a failing test *kills* the mutant, a mutant every
test passes *survives*. This script chooses what to mutate, runs mutmut, and reports per group:

- ``reference``  the loss files' reference values, gradients, exact forms and samplers, spec.py, matrices.py
- ``metrics``    matloss_ref/metrics.py
- ``validation`` matloss_ref/validation.py
- ``exact``      matloss_ref/exact.py (the high-precision backend and its cache)
- ``frameworks`` the torch / jax / tensorflow implementations in the loss files
- ``gates``      the accuracy gate's rules and the speed gate's decision

A survivor either gets a test that kills it or is listed, with the reason it cannot be killed
(an equivalent mutant), in ``tools/mutation_equivalent.csv``; the score is killed / (mutants −
equivalent). mutmut keeps its results in ``mutants/`` and retests only functions whose code
changed.

Every mutant reruns the tests that call its function, and the property and conformance tests
of a framework implementation take tens of seconds, so all ~6,600 mutants would take hours on
two cores. By default each group is therefore a seeded random *sample* of its mutants
(``--sample``, 30 each): the rate is an estimate, printed with its 95 % (Wilson) interval, and
the same seed draws the same sample. ``--all`` tests every mutant. Usage (docs/testing.md):

    ./dev mutate                       # a sample of every group (about half an hour)
    ./dev mutate --group gates --all   # every mutant of one group (repeatable)
    ./dev mutate --changed [--base REV]  # files changed since REV (default HEAD~1), uncommitted edits included
    ./dev mutate --report              # print the last results without running anything
"""

from __future__ import annotations

import argparse
import ast
import csv
import difflib
import fnmatch
import functools
import json
import os
import random
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EQUIVALENT = ROOT / "tools" / "mutation_equivalent.csv"
SUMMARY = ROOT / "results" / "mutation" / "summary.csv"
SAMPLE = ROOT / "mutants" / "matloss-sample.json"  # the mutants the last run chose (for --report)
SAMPLE_SIZE = 30
SEED = 0

# mutmut writes the mutants as the first step of `mutmut run`; this runs that step alone, so the
# sample can be drawn from the mutants' names before any test runs
GENERATE = (
    "from mutmut.__main__ import copy_src_dir, copy_also_copy_files, setup_source_paths, create_mutants\n"
    "from mutmut.mutation.trampoline import set_mutant_under_test\n"
    "set_mutant_under_test('mutant_generation'); copy_src_dir(); copy_also_copy_files(); setup_source_paths()\n"
    "create_mutants({children})\n"
)

FACTORIES = frozenset({"torch", "jax", "tensorflow"})

#: test files that use the code in scope but are not among the tests mutmut runs
#: (``pytest_add_cli_args_test_selection`` in pyproject.toml), and why; every other such file is
#: (tests/test_mutate_tool.py holds this)
NOT_SELECTED = {
    "tests/test_accuracy_cluster.py": "the accuracy sweep on a dask cluster: how work is spread, not what is computed",
    "tests/test_accuracy_pages.py": "the accuracy pages' layout (matplotlib, HTML)",
    "tests/test_findings.py": "the findings grid: what frameworks get wrong, recorded, not the reference",
    "tests/test_instructions.py": "the instruction channel under valgrind (minutes per mutant)",
    "tests/test_layout.py": "the repository's layout",
    "tests/test_mutate_tool.py": "this tool",
}


@dataclass(frozen=True)
class Part:
    pattern: str  # a glob of files, relative to the root
    only: frozenset[str] | None = None  # top-level function / class names to include (None: all)
    skip: frozenset[str] = field(default_factory=frozenset)


@dataclass(frozen=True)
class Group:
    name: str
    target: float
    parts: tuple[Part, ...]


GROUPS = (
    Group("reference", 0.90, (Part("matloss_ref/spec.py"), Part("matloss_ref/matrices.py"),
                              Part("matloss_ref/losses/*.py", skip=FACTORIES))),
    Group("metrics", 0.90, (Part("matloss_ref/metrics.py"),)),
    Group("validation", 0.90, (Part("matloss_ref/validation.py"),)),
    Group("exact", 0.90, (Part("matloss_ref/exact.py"),)),
    Group("frameworks", 0.85, (Part("matloss_ref/losses/*.py", only=FACTORIES),)),
    Group("gates", 0.90, (
        Part("matloss/gate_accuracy.py", only=frozenset({"_num", "_state_rules", "compare_accuracy", "_count_col"})),
        Part("matloss/gate_speed.py", only=frozenset({"decide", "blocked_ratio", "_round_ratios", "_pairs", "_median", "exit_code"})),
    )),
)
GROUP_NAMES = tuple(g.name for g in GROUPS)

KILLED = {1: "killed", 3: "killed"}
TIMEOUT = {-24: "timeout", 24: "timeout", 152: "timeout", 255: "timeout", 36: "timeout"}
CRASHED = {-11: "crashed", -9: "crashed"}
OTHER = {0: "survived", 5: "no tests", 33: "no tests", 34: "skipped"}


def _module(path: str) -> str:
    return path.removesuffix(".py").replace("/", ".")


def _functions(path: Path) -> list[tuple[str, str]]:
    """(top-level name, mutmut's mangled prefix) of each function and method in ``path``."""
    tree = ast.parse(path.read_text())
    out = []
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            out.append((node.name, f"x_{node.name}"))
        elif isinstance(node, ast.ClassDef):
            for item in node.body:
                if isinstance(item, ast.FunctionDef | ast.AsyncFunctionDef):
                    out.append((node.name, f"x\u01c1{node.name}\u01c1{item.name}"))
    return out


def scope(groups: list[Group], files: set[str] | None = None) -> dict[str, str]:
    """{mutant-name glob: group} of the functions in scope (restricted to ``files`` when given)."""
    out: dict[str, str] = {}
    for g in groups:
        for part in g.parts:
            for p in sorted(ROOT.glob(part.pattern)):
                rel = p.relative_to(ROOT).as_posix()
                if p.name == "__init__.py" or (files is not None and rel not in files):
                    continue
                for top, mangled in _functions(p):
                    if (part.only is None or top in part.only) and top not in part.skip:
                        out[f"{_module(rel)}.{mangled}__mutmut_*"] = g.name
    return out


def changed_files(base: str) -> set[str]:
    """Files changed since ``base``, uncommitted edits and untracked files included."""
    def git(*args: str) -> list[str]:
        r = subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True)
        if r.returncode:
            raise SystemExit(f"mutate: --base {base!r}: {r.stderr.strip() or 'git failed'}")
        return [line for line in r.stdout.splitlines() if line]

    return set(git("diff", "--name-only", base, "--")) | set(git("ls-files", "--others", "--exclude-standard"))


def load_results() -> dict[str, int | None]:
    """{mutant name: mutmut's exit code} from ``mutants/**/*.py.meta``."""
    out: dict[str, int | None] = {}
    for meta in (ROOT / "mutants").rglob("*.py.meta"):
        out.update(json.loads(meta.read_text()).get("exit_code_by_key", {}))
    return out


def status(code: int | None) -> str:
    if code is None:
        return "not checked"
    return KILLED.get(code) or TIMEOUT.get(code) or CRASHED.get(code) or OTHER.get(code, "suspicious")


@functools.cache
def _mutant_bodies(module: str) -> dict[str, list[str]]:
    """{function name: body lines} of every function mutmut wrote for ``module`` (originals and mutants)."""
    src = ROOT / "mutants" / (module.replace(".", "/") + ".py")
    text = src.read_text()
    lines = text.splitlines()
    out = {}
    for node in ast.walk(ast.parse(text)):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and "__mutmut_" in node.name:
            # the signature too (a mutated default argument lives there), its name made the same
            body = lines[node.lineno - 1 : node.end_lineno]
            out[node.name] = [body[0].replace(node.name, "f", 1), *body[1:]]
    return out


def mutant_diff(name: str) -> str:
    """The change of mutant ``name``, from the original and mutated functions mutmut wrote."""
    module, _, fn = name.rpartition(".")
    bodies = _mutant_bodies(module)
    orig, mut = bodies.get(fn.rsplit("__mutmut_", 1)[0] + "__mutmut_orig"), bodies.get(fn)
    if orig is None or mut is None:
        return "?"
    changed = [line[1:].strip() for line in difflib.unified_diff(orig, mut, lineterm="", n=0)
               if line[:1] in "+-" and not line.startswith(("+++", "---"))]
    return " => ".join(changed) if changed else "(no textual change)"


def read_equivalent() -> dict[str, tuple[str, str]]:
    """{mutant: (its change, why it cannot be killed)} from tools/mutation_equivalent.csv."""
    if not EQUIVALENT.exists():
        return {}
    with EQUIVALENT.open() as f:
        return {r["mutant"]: (r["change"], r["reason"]) for r in csv.DictReader(f)}


def group_of(name: str, globs: dict[str, str]) -> str | None:
    return next((grp for pat, grp in globs.items() if fnmatch.fnmatchcase(name, pat)), None)


def draw(names: list[str], globs: dict[str, str], size: int, seed: int) -> list[str]:
    """A seeded random sample of at most ``size`` in-scope mutants per group (sorted first, so the
    same mutants and seed give the same sample)."""
    by_group: dict[str, list[str]] = {}
    for name in sorted(names):
        g = group_of(name, globs)
        if g is not None:
            by_group.setdefault(g, []).append(name)
    rng = random.Random(seed)
    out = []
    for g in sorted(by_group):
        pool = by_group[g]
        out += pool if len(pool) <= size else sorted(rng.sample(pool, size))
    return out


def wilson(k: int, n: int) -> tuple[float, float]:
    """95 % interval of a rate of k in n (scipy's Wilson score interval)."""
    if n == 0:
        return (float("nan"), float("nan"))
    from scipy.stats import binomtest

    ci = binomtest(k, n).proportion_ci(0.95, method="wilson")
    return (ci.low, ci.high)


def report(groups: list[Group], globs: dict[str, str], results: dict[str, int | None], verbose: bool = True,
           sampled: bool = False) -> tuple[list[dict], int]:
    equivalent = read_equivalent()
    per: dict[str, Counter] = {g.name: Counter() for g in groups}
    survivors: dict[str, list[str]] = {g.name: [] for g in groups}
    stale = []
    for name, code in sorted(results.items()):
        group = group_of(name, globs)
        if group is None:
            continue
        st = status(code)
        if st in ("survived", "no tests") and name in equivalent:
            change = mutant_diff(name)
            if change != equivalent[name][0]:
                stale.append(f"{name}: triaged as {equivalent[name][0]!r}, now {change!r}")
                st = "survived"
            else:
                st = "equivalent"
        elif st not in ("survived", "no tests") and name in equivalent:
            stale.append(f"{name}: listed as equivalent but {st}")
        per[group][st] += 1
        if st in ("survived", "no tests", "suspicious", "not checked", "skipped"):
            survivors[group].append(f"{name} [{st}]: {mutant_diff(name)}")
    rows, below = [], 0
    for g in groups:
        c = per[g.name]
        total = sum(c.values())
        caught = c["killed"] + c["timeout"] + c["crashed"]
        judged = total - c["equivalent"]
        score = caught / judged if judged else float("nan")
        low, high = wilson(caught, judged)
        rows.append({"group": g.name, "sampled": sampled, "mutants": total,
                     "killed": c["killed"], "timeout": c["timeout"], "crashed": c["crashed"],
                     "survived": c["survived"] + c["no tests"], "equivalent": c["equivalent"],
                     "unfinished": c["not checked"] + c["suspicious"] + c["skipped"],
                     "raw_kill_rate": round(caught / total, 4) if total else float("nan"),
                     "score": round(score, 4), "ci_low": round(low, 4), "ci_high": round(high, 4), "target": g.target})
        if total and not score >= g.target:
            below += 1
    print(("a sample of each group's mutants (--all for every one); " if sampled else "")
          + "score = caught / (mutants - equivalent), with its 95 % interval")
    print(f"{'group':<11} {'mutants':>7} {'killed':>7} {'survived':>8} {'equiv.':>6} {'raw':>6} {'score':>6} "
          f"{'95% interval':>14} {'target':>6}")
    for r in rows:
        if not r["mutants"]:
            print(f"{r['group']:<11} {'—':>7}  (not in this run)")
            continue
        print(f"{r['group']:<11} {r['mutants']:>7} {r['killed'] + r['timeout'] + r['crashed']:>7} {r['survived']:>8} "
              f"{r['equivalent']:>6} {r['raw_kill_rate']:>6.1%} {r['score']:>6.1%} "
              f"{r['ci_low']:>6.1%}-{r['ci_high']:<6.1%} {r['target']:>6.0%}"
              + ("" if not r["unfinished"] else f"  ({r['unfinished']} not finished)"))
    if verbose:
        for g in groups:
            if survivors[g.name]:
                print(f"\nsurvivors, {g.name} (mutmut show NAME for the diff):")
                for s in survivors[g.name]:
                    print("  " + s)
    if stale:
        print("\nstale entries in tools/mutation_equivalent.csv:")
        for s in stale:
            print("  " + s)
    return rows, below


def write_summary(rows: list[dict]) -> None:
    SUMMARY.parent.mkdir(parents=True, exist_ok=True)
    old = {}
    if SUMMARY.exists():
        with SUMMARY.open() as f:
            old = {(r["group"], r.get("sampled") == "True"): r for r in csv.DictReader(f)}
    for r in rows:
        if r["mutants"]:  # one row per group and kind (sampled or all): a sample never replaces a full run
            old[(r["group"], bool(r["sampled"]))] = {k: "" if v is None else str(v) for k, v in r.items()}
    tmp = SUMMARY.with_suffix(".tmp")
    with tmp.open("w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0]))
        w.writeheader()
        for name in GROUP_NAMES:
            for sampled in (True, False):
                if (name, sampled) in old:
                    w.writerow({k: old[(name, sampled)].get(k, "") for k in rows[0]} | {"sampled": str(sampled)})
    tmp.replace(SUMMARY)


def parse(argv: list[str]) -> argparse.Namespace:
    ap = argparse.ArgumentParser(prog="./dev mutate", description=__doc__.split("\n\n")[0])
    ap.add_argument("--group", action="append", choices=GROUP_NAMES, help="a group to mutate (repeatable; default all)")
    ap.add_argument("--changed", action="store_true", help="only the files changed since --base")
    ap.add_argument("--base", default="HEAD~1", help="the revision --changed compares with (default HEAD~1)")
    ap.add_argument("--all", action="store_true", help="every mutant in scope (default: a sample of each group)")
    ap.add_argument("--sample", type=int, default=SAMPLE_SIZE, help=f"mutants drawn per group (default {SAMPLE_SIZE})")
    ap.add_argument("--seed", type=int, default=SEED, help=f"seed of the sample (default {SEED})")
    ap.add_argument("--max-children", type=int, default=os.cpu_count() or 1, help="mutants tested at once (default: one per core)")
    ap.add_argument("--report", action="store_true", help="print the last results; run nothing")
    ap.add_argument("--quiet", action="store_true", help="rates only, no survivor list")
    ns = ap.parse_args(argv)
    if ns.max_children < 1:
        ap.error(f"--max-children must be >= 1, got {ns.max_children}")
    if ns.sample < 1:
        ap.error(f"--sample must be >= 1, got {ns.sample}")
    if ns.base != "HEAD~1" and not ns.changed:
        ap.error("--base needs --changed")
    return ns


def main(argv: list[str] | None = None) -> int:
    ns = parse(sys.argv[1:] if argv is None else argv)
    groups = [g for g in GROUPS if ns.group is None or g.name in ns.group]
    files = changed_files(ns.base) if ns.changed else None
    globs = scope(groups, files)
    if not ns.report:
        if not globs:
            print("mutate: nothing in scope changed" + (f" since {ns.base}" if ns.changed else ""))
            return 0
        env = {k: v for k, v in os.environ.items() if k not in ("MATLOSS_CACHE_DIR", "CI")}  # never a shared cache
        env.update({k: "1" for k in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")})
        env["XLA_FLAGS"] = "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1"
        env["TF_NUM_INTRAOP_THREADS"] = env["TF_NUM_INTEROP_THREADS"] = "1"
        env["MATLOSS_HYPOTHESIS_PROFILE"] = "mutation"
        mutmut = Path(sys.executable).with_name("mutmut")
        t0 = time.monotonic()
        if ns.all:
            targets = sorted(globs)
            SAMPLE.unlink(missing_ok=True)
            what = f"every mutant of {len(globs)} functions"
        else:
            subprocess.run([sys.executable, "-c", GENERATE.format(children=ns.max_children)], cwd=ROOT, env=env,
                           check=True, stdout=subprocess.DEVNULL)
            targets = draw(list(load_results()), globs, ns.sample, ns.seed)
            SAMPLE.write_text(json.dumps(targets))
            what = f"{len(targets)} mutants drawn (seed {ns.seed}, at most {ns.sample} a group) from {len(globs)} functions"
        cmd = [str(mutmut), "run", "--max-children", str(ns.max_children), *targets]
        print(f"mutate: {what} in {', '.join(g.name for g in groups)}; mutmut run ...", flush=True)
        rc = subprocess.run(cmd, cwd=ROOT, env=env).returncode
        print(f"mutate: mutmut finished in {time.monotonic() - t0:.0f} s (exit {rc})")
        if rc not in (0, 1):
            return rc
    results = load_results()
    if not results:
        print("mutate: no results yet (run ./dev mutate)")
        return 1
    sampled = SAMPLE.exists()
    if sampled:
        chosen = set(json.loads(SAMPLE.read_text()))
        results = {k: v for k, v in results.items() if k in chosen}
    rows, below = report(groups, globs, results, verbose=not ns.quiet, sampled=sampled)
    if not ns.report and not ns.changed:
        write_summary(rows)
    return 1 if below else 0


if __name__ == "__main__":
    sys.exit(main())
