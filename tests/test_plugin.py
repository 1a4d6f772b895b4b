"""A user's own loss, from their own package: installed (into a throwaway directory) as a real
distribution with a ``matloss.losses`` entry point, it flows through the asv suites, the accuracy
sweep, the findings and ``matloss compare`` like a built-in loss.

The plugin is the worked example of docs/adding-a-loss.md (the test checks that the page shows
this very file).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parents[1]
PLUGIN = ROOT / "tests" / "data" / "plugin"
LOSS_FILE = PLUGIN / "matloss_trace_inverse" / "trace_inverse.py"


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    target = tmp_path_factory.mktemp("plugin-site")
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-build-isolation", "--no-index",
                    "--target", str(target), str(PLUGIN)], check=True, capture_output=True)  # fmt: skip
    assert list(target.glob("matloss_trace_inverse-*.dist-info"))
    return target


def _env(site: Path, **extra: str) -> dict[str, str]:
    path = os.pathsep.join([str(site), str(ROOT)])
    return dict(os.environ, PYTHONPATH=path, ASV_PYTHONPATH=path, **extra)


def _run(site: Path, *args: str, **kw) -> subprocess.CompletedProcess:
    proc = subprocess.run([sys.executable, "-m", "matloss", *args], env=_env(site), cwd=ROOT, capture_output=True, text=True, **kw)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-3000:]
    return proc


def test_the_docs_show_this_plugin():
    page = (ROOT / "docs" / "adding-a-loss.md").read_text()
    blocks = re.findall(r"```python\n(.*?)```", page, re.S)
    assert LOSS_FILE.read_text() in blocks, "docs/adding-a-loss.md must show the plugin's loss file as it is"


def test_the_plugin_is_listed_as_a_loss(site):
    out = _run(site, "list", "-v").stdout
    assert re.search(r"^trace_inverse\s+\(A\)\s+tr\(A\^-1\)", out, re.M)
    assert "entry point 'trace_inverse'" in out


def test_the_plugin_in_the_accuracy_sweep(site, tmp_path):
    out = tmp_path / "acc" / "sweep"
    _run(site, "accuracy", "--quick", "--loss", "trace_inverse", "--framework", "numpy,torch", "--jobs", "1", "--out", str(out))
    table = pd.read_csv(out.with_suffix(".csv"))
    assert set(table["loss"]) == {"trace_inverse"} and set(table["framework"]) == {"numpy", "torch"}
    ok = table[table["status"] == "ok"]
    assert len(ok) == len(table) and (ok["R_value"] <= 30).all() and (ok["R_grad"] <= 30).all()


def test_the_plugin_in_the_findings(site, tmp_path):
    out = tmp_path / "findings.csv"
    _run(site, "findings", "--loss", "trace_inverse", "--framework", "numpy", "--dtype", "float64", "--out", str(out), "--all")
    df = pd.read_csv(out)
    assert set(df["loss"]) == {"trace_inverse"} and len(df) >= 5
    verdict = dict(zip(df["case"], df["verdict"]))
    assert verdict["repeated_sigma1"] == "pass"  # invertible: a value and a gradient to compare
    assert verdict["singular_first"] == "undefined"  # tr(A⁻¹) has no value at a singular A


def test_the_plugin_in_the_asv_suites_and_compare(site, tmp_path):
    conf = json.loads("\n".join(ln for ln in (ROOT / "asv.conf.json").read_text().splitlines() if not ln.lstrip().startswith("//")))
    conf.update(repo=str(ROOT), benchmark_dir=str(ROOT / "suites"), results_dir=str(tmp_path / "results"), html_dir=str(tmp_path / "html"))
    cfg = tmp_path / "asv.conf.json"
    cfg.write_text(json.dumps(conf))
    sha = subprocess.run(["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True, check=True).stdout.strip()
    env = _env(site, HOME=str(tmp_path))  # asv keeps its machine registry in ~/.asv-machine.json: not the user's
    subprocess.run([sys.executable, "-m", "asv", "machine", "--config", str(cfg), "--yes", "--machine", "plugin-test"],
                   env=env, cwd=ROOT, check=True, capture_output=True)  # fmt: skip
    bench = r"time_(forward|backward)\('trace_inverse', '(numpy|torch)', 'cpu', 'float64', '16', 'eager'\)"
    proc = subprocess.run([sys.executable, "-m", "asv", "run", "--config", str(cfg), "--python=same", "--set-commit-hash", sha,
                           "--machine", "plugin-test", "--launch-method", "spawn", "--quick", "-b", bench],
                          env=env, cwd=ROOT, capture_output=True, text=True)  # fmt: skip
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    (result,) = [p for p in (tmp_path / "results" / "plugin-test").glob("*.json") if p.name != "machine.json"]
    out = _run(site, "compare", str(result), "--results-dir", str(tmp_path / "results"), "--csv", str(tmp_path / "c.csv")).stdout
    rows = [ln for ln in out.splitlines() if ln.startswith("| trace_inverse | cpu | 16 | float64 |")]
    assert {r.split("|")[5].strip() for r in rows} == {"numpy", "torch"}, out
    assert all("—" not in r.split("|")[7] and "—" not in r.split("|")[9] for r in rows), rows  # both passes timed
