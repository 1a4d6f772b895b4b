"""``experiments/timing_fidelity.py --in-process``: asv_runner's own timing of a suite case, paired with
a timeit of the same prepared callable (checked here for mechanics, never for speed)."""

from __future__ import annotations

import importlib.util
import math
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def fidelity():
    spec = importlib.util.spec_from_file_location("timing_fidelity", ROOT / "experiments" / "timing_fidelity.py")
    mod = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("timing_fidelity", mod)
    spec.loader.exec_module(mod)
    return mod


def test_paired_in_process_times_the_case_asv_sets_up(fidelity):
    # a different case per dtype: asv's parameter index must land on exactly this case (the
    # function checks that asv's setup built the very callable it times with timeit)
    for dtype in ("float64", "float32"):
        asv, tim, ratios = fidelity.paired_in_process(("tikhonov", "numpy", "cpu", dtype, "16", "eager", "forward"), pairs=2)
        assert len(ratios) == 2
        assert all(math.isfinite(x) and x > 0 for x in (asv, tim, *ratios))


def test_paired_in_process_reports_a_skip(fidelity):
    with pytest.raises(RuntimeError, match="asv skips"):  # numpy has no compiled mode
        fidelity.paired_in_process(("tikhonov", "numpy", "cpu", "float64", "16", "compiled", "forward"), pairs=1)


def test_case_option_is_validated(fidelity, capsys):
    with pytest.raises(SystemExit) as exc:
        fidelity.main(["--case", "tikhonov,numpy,cpu", "--in-process", "2", "--machine", "m"])
    assert exc.value.code == 2
    assert "7 fields" in capsys.readouterr().err


def test_timeit_in_a_fresh_process_times_the_prepared_case(fidelity):
    # the child imports this script and the harness from the checkout (it once pointed at an old layout)
    seconds = fidelity.timeit_fresh(("tikhonov", "numpy", "cpu", "float64", "16", "eager", "forward"), repeat=2)
    assert math.isfinite(seconds) and seconds > 0
