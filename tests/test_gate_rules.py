"""Each rule of the accuracy gate and of the speed gate's decision, alone: one case that trips that
rule and no other, one just inside its threshold that passes."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from matloss import gate_accuracy as ga
from matloss import gate_speed as gs

# -- the accuracy gate ---------------------------------------------------------------------------
CELL = {"framework": "torch", "device": "cpu", "dtype": "float64", "mode": "eager", "loss": "det", "n": 8,
        "svd_mode": 3, "variant": "default", "axis": "kappa"}
#: a cell well inside every rule
CLEAN = dict(CELL, cases=6, median_R_value=0.5, p90_R_value=2.0, max_R_value=5.0, median_R_grad=0.5, p90_R_grad=2.0,
             max_R_grad=5.0, slope_value=1.0, expected_slope_value=1.0, slope_grad=2.0, expected_slope_grad=2.0,
             n_nan=0, n_inf=0, n_zero_grad=0, n_exception=0)


def _rules(base: dict, cur: dict) -> dict[str, bool]:
    """{rule: regression?} of the violations of ``cur`` against ``base``."""
    violations, notes = ga.compare_accuracy(pd.DataFrame([base]), pd.DataFrame([cur]))
    assert not notes
    return {v.rule: v.regression for v in violations}


def test_a_clean_cell_breaks_nothing():
    assert _rules(CLEAN, CLEAN) == {}


@pytest.mark.parametrize("what", ["value", "grad"])
def test_rule_1_max_r(what):
    col = f"max_R_{what}"
    assert _rules(CLEAN, dict(CLEAN, **{col: ga.R_MAX})) == {}  # at the threshold: inside
    assert _rules(CLEAN, dict(CLEAN, **{col: 30.01})) == {f"max R ({what}) > 30": True}
    # broken in the baseline too: a known finding, reported, not a regression
    assert _rules(dict(CLEAN, **{col: 50.0}), dict(CLEAN, **{col: 31.0})) == {f"max R ({what}) > 30": False}


@pytest.mark.parametrize("stat", ["median_R_value", "p90_R_value", "median_R_grad", "p90_R_grad"])
def test_rule_2_factor_over_the_baseline(stat):
    base = dict(CLEAN, **{stat: 2.0})
    assert _rules(base, dict(CLEAN, **{stat: 8.0})) == {}  # exactly 4x: inside
    assert _rules(base, dict(CLEAN, **{stat: 8.02})) == {f"{stat} > 4x baseline": True}


@pytest.mark.parametrize("stat", ["median_R_value", "p90_R_grad"])
def test_rule_2_counts_r_below_one_as_one(stat):
    base = dict(CLEAN, **{stat: 0.01})  # rounding level: 0.01 -> 0.3 is 30x, but luck
    assert _rules(base, dict(CLEAN, **{stat: 4.0})) == {}
    assert _rules(base, dict(CLEAN, **{stat: 4.01})) == {f"{stat} > 4x baseline": True}


def test_rule_2_ignores_a_missing_statistic():
    assert _rules(CLEAN, dict(CLEAN, median_R_value=math.nan)) == {}
    assert _rules(dict(CLEAN, median_R_value=math.nan), dict(CLEAN, median_R_value=100.0)) == {}


@pytest.mark.parametrize("what, expected", [("value", 1.0), ("grad", 2.0)])
def test_rule_3_slope(what, expected):
    col = f"slope_{what}"
    rule = f"slope ({what}) not within 0.3 of the expected"
    for inside in (expected + 0.29, expected - 0.29):
        assert _rules(CLEAN, dict(CLEAN, **{col: inside})) == {}
    assert _rules(CLEAN, dict(CLEAN, **{col: expected + 0.31})) == {rule: True}
    assert _rules(CLEAN, dict(CLEAN, **{col: expected - 0.31})) == {rule: True}
    assert _rules(CLEAN, dict(CLEAN, **{col: math.nan})) == {}  # no fit (e.g. too few unsaturated points)


def test_rule_3_judges_float64_only():
    f32 = dict(CLEAN, dtype="float32")
    assert _rules(f32, dict(f32, slope_value=3.0, slope_grad=-1.0)) == {}


@pytest.mark.parametrize("col, label", [("n_nan", "NaN"), ("n_inf", "inf"), ("n_zero_grad", "zero gradient"),
                                        ("n_exception", "exception")])
def test_rule_4_counts(col, label):
    rule = f"{label} where defined"
    assert _rules(CLEAN, dict(CLEAN, **{col: 1})) == {rule: True}
    assert _rules(dict(CLEAN, **{col: 2}), dict(CLEAN, **{col: 2})) == {rule: False}  # as in the baseline
    assert _rules(dict(CLEAN, **{col: 2}), dict(CLEAN, **{col: 1})) == {rule: False}  # fewer: still a finding
    assert _rules(dict(CLEAN, **{col: 2}), dict(CLEAN, **{col: 3})) == {rule: True}  # more than before


def test_a_cell_without_baseline_is_a_note_not_a_violation():
    other = dict(CLEAN, loss="logdet", max_R_value=1e6, n_nan=5)
    violations, notes = ga.compare_accuracy(pd.DataFrame([CLEAN]), pd.DataFrame([CLEAN, other]))
    assert violations == [] and len(notes) == 1 and notes[0].startswith("new cell (no baseline): torch cpu float64 eager logdet")
    violations, notes = ga.compare_accuracy(pd.DataFrame([CLEAN, other]), pd.DataFrame([CLEAN]))
    assert violations == [] and notes[0].startswith("cell not in this run:")


def test_cells_are_matched_by_every_key_column():
    """A rule broken in another cell's baseline must not make this cell's breach a known finding."""
    for key, other in (("dtype", "float32"), ("mode", "compiled"), ("n", 4), ("variant", "weak"), ("axis", "scale")):
        base = pd.DataFrame([dict(CLEAN, **{key: other}, max_R_value=100.0), CLEAN])
        cur = pd.DataFrame([dict(CLEAN, **{key: other}, max_R_value=100.0), dict(CLEAN, max_R_value=100.0)])
        violations, _ = ga.compare_accuracy(base, cur)
        assert sorted(v.regression for v in violations) == [False, True], key


# -- the speed gate's decision -------------------------------------------------------------------
def _flat(median: float, n: int = 20, spread: float = 0.01, seed: int = 0) -> list[float]:
    rng = np.random.default_rng(seed)
    return (median * np.exp(rng.normal(0.0, spread, n))).tolist()


def _one(base, head, **kw) -> gs.Verdict:
    (v,) = gs.decide({"b": base}, {"b": head}, **kw)
    return v


def test_speed_factor_threshold_alone():
    """Significant either way; only the size of the change decides (factor 1.2)."""
    b = _flat(1.0, seed=1)
    inside, beyond = _one(b, _flat(1.18, seed=2)), _one(b, _flat(1.22, seed=2))
    assert math.isnan(inside.p_value)  # below the factor the test is not consulted
    assert inside.ratio < gs.FACTOR < beyond.ratio
    assert (inside.status, beyond.status) == ("same", "slower") and beyond.p_value < 1e-6


def test_speed_significance_threshold_alone():
    """Same ratio (1.5, beyond the factor) and rounds; only the p-value decides."""
    b = [1.0, 1.0, 1.0, 1.0, 1.0, 1.0]
    clear = [1.5] * 6
    overlapping = [1.5, 1.5, 1.5, 0.9, 1.5, 0.8]
    v_clear, v_overlap = _one(b, clear), _one(b, overlapping)
    assert v_clear.ratio == v_overlap.ratio == 1.5
    assert v_clear.p_value < gs.ALPHA < v_overlap.p_value
    assert (v_clear.status, v_overlap.status) == ("slower", "same")
    # the threshold itself: the same samples pass at an alpha just below their p-value, fail just above
    assert _one(b, overlapping, alpha=v_overlap.p_value * 1.01).status == "slower"
    assert _one(b, overlapping, alpha=v_overlap.p_value * 0.99).status == "same"


def test_speed_every_round_rule_alone():
    """Pooled samples significant and beyond the factor; one round below the factor keeps it same."""
    r1b, r1h = _flat(1.0, seed=1), _flat(1.6, seed=2)
    r2b, r2h = _flat(1.0, seed=3), _flat(1.6, seed=4)
    every = [({"b": r1b}, {"b": r1h}), ({"b": r2b}, {"b": r2h})]
    assert _one(r1b + r2b, r1h + r2h, rounds=every).status == "slower"
    r2h_small = _flat(1.19, seed=4)  # just inside the factor in round 2
    one_round = [({"b": r1b}, {"b": r1h}), ({"b": r2b}, {"b": r2h_small})]
    v = _one(r1b + r2b, r1h + r2h_small, rounds=one_round)
    assert v.ratio > gs.FACTOR and v.p_value < gs.ALPHA and v.status == "same"
    r2h_just = _flat(1.21, seed=4)
    assert _one(r1b + r2b, r1h + r2h_just, rounds=[({"b": r1b}, {"b": r1h}), ({"b": r2b}, {"b": r2h_just})]).status == "slower"


def test_speed_faster_mirrors_slower():
    b = _flat(1.0, seed=1)
    assert _one(b, _flat(1 / 1.22, seed=2)).status == "faster"
    assert _one(b, _flat(1 / 1.18, seed=2)).status == "same"


def _paired_rounds(ratios: list[float], base: float = 1.0, n: int = 8):
    rounds = []
    for r, ratio in enumerate(ratios):
        b = _flat(base, n=n, spread=0.002, seed=10 + r)
        rounds.append(({"b": b}, {"b": [x * ratio for x in b]}))
    return rounds


def _paired(ratios):
    rounds = _paired_rounds(ratios)
    pool_b = [x for rb, _ in rounds for x in rb["b"]]
    pool_h = [x for _, rh in rounds for x in rh["b"]]
    return _one(pool_b, pool_h, rounds=rounds, paired=True)


def test_paired_factor_alone():
    inside = _paired([1.18, 1.19, 1.18, 1.19, 1.18, 1.19])
    beyond = _paired([1.22, 1.23, 1.22, 1.23, 1.22, 1.23])
    assert inside.ratio < gs.FACTOR < beyond.ratio
    assert (inside.status, beyond.status) == ("same", "slower")


def test_paired_significance_alone():
    """Both beyond the factor on average; rounds that disagree are not evidence."""
    steady = _paired([1.5, 1.52, 1.49, 1.51, 1.5, 1.51])
    erratic = _paired([3.0, 2.5, 0.8, 0.9, 3.2, 0.85])  # no start-order pattern either
    assert steady.ratio > gs.FACTOR and erratic.ratio > gs.FACTOR
    assert steady.p_value < gs.ALPHA < erratic.p_value
    assert (steady.status, erratic.status) == ("slower", "same")


def test_paired_needs_min_rounds_else_unpaired_rule():
    few = gs.MIN_PAIRED_ROUNDS - 1
    rounds = _paired_rounds([1.5] * few)
    pool_b = [x for rb, _ in rounds for x in rb["b"]]
    pool_h = [x for _, rh in rounds for x in rh["b"]]
    v = _one(pool_b, pool_h, rounds=rounds, paired=True)
    unpaired = _one(pool_b, pool_h, rounds=rounds)
    assert (v.status, v.ratio, v.p_value) == (unpaired.status, unpaired.ratio, unpaired.p_value)


def test_blocked_ratio_is_the_geometric_mean_without_an_order_effect():
    ratio, p = gs.blocked_ratio([1.1, 1.3, 1.2, 1.2])
    assert ratio == pytest.approx(math.exp(np.mean(np.log([1.1, 1.3, 1.2, 1.2]))), rel=1e-12)
    assert p < 0.05
    r_same, p_same = gs.blocked_ratio([1.01, 0.99, 0.98, 1.02, 1.0, 1.0])
    assert r_same == pytest.approx(1.0, abs=0.01) and p_same > 0.1


@pytest.mark.parametrize("base, head, status, code", [
    (None, None, "same", 0),        # failing on both sides: nothing changed
    ([1.0], None, "failed", 2),
    (None, [1.0], "added", 0),       # failed before, runs now
])
def test_speed_presence_rules(base, head, status, code):
    v = _one(base, head)
    assert v.status == status and gs.exit_code([v]) == code


def test_speed_exit_codes():
    same, slower, failed = (gs.Verdict("x", s) for s in ("same", "slower", "failed"))
    assert gs.exit_code([same]) == 0 and gs.exit_code([same, slower]) == 1 and gs.exit_code([slower, failed]) == 2
    assert gs.exit_code([gs.Verdict("x", "faster"), gs.Verdict("y", "added"), gs.Verdict("z", "removed")]) == 0
