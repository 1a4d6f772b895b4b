"""The committed reproducers: each still reproduces its defect with the installed framework.

A reproducer exits 1 while the defect reproduces and 0 once the framework returns the expected
value and gradient. When a framework upgrade fixes a defect, its test here fails and says so: the
finding is then updated (``matloss findings --write-repro`` regenerates the scripts, and the
upstream table gets the fix), the way PyTorch's OpInfo keeps known failures as data.
"""

from __future__ import annotations

import ast
import importlib.util
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from matloss.findings import grouping, repro

ROOT = Path(__file__).resolve().parents[1]
SCRIPTS = sorted((ROOT / "results" / "findings" / "repro").glob("*.py"))


def _framework(path: Path) -> str:
    tree = ast.parse(path.read_text())
    for node in tree.body:
        if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", "") == "FRAMEWORK":
            return node.value.value
    raise AssertionError(f"{path.name} names no FRAMEWORK")


def test_there_are_reproducers_and_none_imports_matloss():
    assert SCRIPTS, "no committed reproducers under results/findings/repro/"
    for path in SCRIPTS:
        assert not re.search(r"^\s*(import|from)\s+matloss", path.read_text(), re.M), path.name


@pytest.mark.parametrize("path", SCRIPTS, ids=lambda p: p.stem)
def test_the_defect_still_reproduces(path):
    framework = _framework(path)
    if importlib.util.find_spec(framework) is None:
        pytest.skip(f"{framework} is not installed")
    proc = subprocess.run([sys.executable, str(path)], capture_output=True, text=True, timeout=600)
    if proc.returncode == 0:
        pytest.fail(f"fixed upstream: update the finding {path.stem} ({framework} now returns the expected value and gradient)\n"
                    f"{proc.stdout[-1500:]}")  # fmt: skip
    assert proc.returncode == 1, f"{path.name} exited {proc.returncode}:\n{proc.stdout[-1500:]}{proc.stderr[-1500:]}"
    assert "reproduces" in proc.stdout or "raised" in proc.stdout


def test_every_committed_defect_has_its_reproducer():
    from matloss import paths

    rows = pd.read_csv(paths.findings_csv(), keep_default_na=False, na_values=[""])
    found = grouping.group(rows)
    defects = {f["id"] for f in found.to_dict("records") if f["class"] == "defect"}
    assert defects == {p.stem for p in SCRIPTS}


def test_a_generated_reproducer_exits_1_for_a_defect_and_0_once_fixed(tmp_path):
    """The generator on one torch defect: the script reproduces it; given what torch returns as the
    expectation, the same script reports it fixed."""
    from matloss.frameworks import get_framework

    if not get_framework("torch").available:
        pytest.skip("torch not installed")
    from matloss import findings

    df = findings.run(["torch"], ["det"], ["singular_middle"], ("float64",), (4,), ("eager",))
    written = repro.write(grouping.group(df), df, tmp_path, check=False)
    (script,) = written
    proc = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 1 and "reproduces" in proc.stdout, proc.stdout + proc.stderr
    text = script.read_text()
    assert "A = np.array([[1.0, 0.0, 0.0, 0.0], [0.0, 2.0, 0.0, 0.0], [0.0, 0.0, 0.0, 0.0], [0.0, 0.0, 0.0, 4.0]]" in text
    assert "torch.linalg.det" in text and "RECORDED_VERSIONS" in text
    fixed = tmp_path / "fixed.py"
    fixed.write_text(re.sub(r"EXPECTED_GRAD_A = .*", f"EXPECTED_GRAD_A = np.array({np.zeros((4, 4)).tolist()!r})", text))
    assert subprocess.run([sys.executable, str(fixed)], capture_output=True, text=True, timeout=300).returncode == 0
