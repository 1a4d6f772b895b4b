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


def test_speed_long_factor_applies_to_long_cases_alone():
    """A 1.08x change, highly significant, on a 200 µs and on a 50 µs case: at --factor-long 1.05
    only the long one is slower (the short one keeps the factor 1.2); 1.04x passes both."""
    long_b, short_b = _flat(200e-6, seed=1), _flat(50e-6, seed=1)
    long_h, short_h, inside = _flat(216e-6, seed=2), _flat(54e-6, seed=2), _flat(208e-6, seed=2)
    assert _one(long_b, long_h).status == "same"  # without it, every case at 1.2
    got = _one(long_b, long_h, long_factor=1.05)
    assert got.status == "slower" and got.factor == 1.05 and got.p_value < 1e-6
    short = _one(short_b, short_h, long_factor=1.05)
    assert short.status == "same" and short.factor == gs.FACTOR and short.ratio > 1.05
    assert _one(long_b, inside, long_factor=1.05).status == "same"
    assert gs.LONG_S == 100e-6 and _one(_flat(gs.LONG_S, spread=0), long_h, long_factor=1.05).factor == 1.05  # at 100 µs: long
    with pytest.raises(ValueError, match="long_factor"):
        gs.decide({}, {}, long_factor=1.0)


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


# -- what the verdicts and violations carry (found by ./dev mutate: every field a report prints) ----
def test_accuracy_violation_carries_the_cell_and_the_detail():
    (reg,) = ga.compare_accuracy(pd.DataFrame([dict(CLEAN, n_nan=2)]), pd.DataFrame([dict(CLEAN, n_nan=3)]))[0]
    assert reg.cell == CELL and reg.regression
    assert reg.detail == "3 case(s) (baseline 2)"
    (known,) = ga.compare_accuracy(pd.DataFrame([dict(CLEAN, max_R_grad=40.0)]), pd.DataFrame([dict(CLEAN, max_R_grad=35.0)]))[0]
    assert known.cell == CELL and known.detail == "max R = 35 (as in the baseline)" and not known.regression
    (new,) = ga.compare_accuracy(pd.DataFrame([CLEAN]), pd.DataFrame([dict(CLEAN, slope_grad=2.5)]))[0]
    assert new.detail == "slope 2.5, expected 2"
    (fac,) = ga.compare_accuracy(pd.DataFrame([dict(CLEAN, p90_R_value=2.0)]), pd.DataFrame([dict(CLEAN, p90_R_value=9.0)]))[0]
    assert fac.cell == CELL and fac.detail == "9 vs 2" and fac.cell_name() == "torch/cpu/float64/eager det n=8 mode3"


def test_accuracy_slope_exactly_at_the_tolerance_is_inside():
    assert abs(0.5 - 0.2) == ga.SLOPE_TOLERANCE  # exactly representable: the boundary itself
    assert _rules(dict(CLEAN, expected_slope_value=0.2), dict(CLEAN, expected_slope_value=0.2, slope_value=0.5)) == {}


def test_accuracy_judges_every_cell_after_one_without_baseline():
    first = dict(CLEAN, loss="aaa")  # sorts and iterates first; no baseline
    cur = pd.DataFrame([first, dict(CLEAN, max_R_value=100.0, median_R_grad=9.0)])
    violations, notes = ga.compare_accuracy(pd.DataFrame([CLEAN]), cur)
    assert {v.rule for v in violations} == {"max R (value) > 30", "median_R_grad > 4x baseline"} and len(notes) == 1


def test_accuracy_a_missing_statistic_does_not_hide_the_next():
    base, cur = dict(CLEAN, median_R_value=math.nan), dict(CLEAN, median_R_value=math.nan, p90_R_grad=20.0)
    assert _rules(base, cur) == {"p90_R_grad > 4x baseline": True}


def test_accuracy_old_summaries_without_variant_or_axis_columns_match_the_defaults():
    old = pd.DataFrame([{k: v for k, v in CLEAN.items() if k not in ("variant", "axis")}])
    violations, notes = ga.compare_accuracy(old, pd.DataFrame([dict(CLEAN, max_R_value=50.0)]))
    assert not notes and [v.rule for v in violations] == ["max R (value) > 30"]


def test_accuracy_cells_match_across_int_and_float_columns():
    """A CSV column with a blank reads as float (8.0): it still names the cell n = 8, svd mode 3."""
    floats = pd.DataFrame([dict(CLEAN, n=8.0, svd_mode=3.0)])
    violations, notes = ga.compare_accuracy(floats, pd.DataFrame([dict(CLEAN, max_R_value=50.0)]))
    assert not notes and len(violations) == 1
    violations, notes = ga.compare_accuracy(pd.DataFrame([CLEAN]), pd.DataFrame([dict(CLEAN, n=8.0, svd_mode=3.0, n_inf=1)]))
    assert not notes and len(violations) == 1
    assert violations[0].cell_name() == "torch/cpu/float64/eager det n=8 mode3"


def test_accuracy_duplicate_baseline_rows():
    """A duplicated cell holds "different case counts" (a corrupt baseline); without case counts the first row is used."""
    with pytest.raises(ga.GridMismatch):
        ga.compare_accuracy(pd.DataFrame([CLEAN, CLEAN]), pd.DataFrame([CLEAN]))
    clean = {k: v for k, v in CLEAN.items() if k != "cases"}
    base = pd.DataFrame([dict(clean, max_R_value=50.0), clean])
    (v,) = ga.compare_accuracy(base, pd.DataFrame([dict(clean, max_R_value=40.0)]))[0]
    assert not v.regression


def test_accuracy_refuses_summaries_of_different_grids():
    with pytest.raises(ga.GridMismatch, match=r"^1 cell\(s\) hold a different number of cases than the baseline "
                                              r"\(e\.g\. torch cpu float64 eager det 8 3 default kappa\)"):
        ga.compare_accuracy(pd.DataFrame([CLEAN]), pd.DataFrame([dict(CLEAN, cases=12)]))
    # without a cases column on one side there is nothing to check
    no_cases = pd.DataFrame([{k: v for k, v in CLEAN.items() if k != "cases"}])
    assert ga.compare_accuracy(no_cases, pd.DataFrame([dict(CLEAN, cases=12)])) == ([], [])
    assert ga.compare_accuracy(pd.DataFrame([dict(CLEAN, cases=12)]), no_cases) == ([], [])


def test_accuracy_notes_name_the_cell():
    gone = dict(CLEAN, loss="logdet")
    _, notes = ga.compare_accuracy(pd.DataFrame([CLEAN, gone]), pd.DataFrame([CLEAN]))
    assert notes == ["cell not in this run: torch cpu float64 eager logdet 8 3 default kappa"]


def test_speed_presence_verdicts_carry_names_and_medians():
    vs = {v.name: v for v in gs.decide({"gone": [1.0, 3.0, 2.0], "broke": [4.0, 5.0, 6.0], "back": None, "idle": None},
                                       {"new": [7.0, 8.0, 9.0], "broke": None, "back": [1.0, 2.0, 3.0], "idle": None,
                                        "newbroken": None})}
    assert sorted(vs) == ["back", "broke", "gone", "idle", "new", "newbroken"]
    assert (vs["gone"].status, vs["gone"].base_median) == ("removed", 2.0)
    assert (vs["broke"].status, vs["broke"].base_median) == ("failed", 5.0)
    assert (vs["new"].status, vs["new"].head_median) == ("added", 8.0)
    assert (vs["back"].status, vs["back"].head_median) == ("added", 2.0)
    assert vs["idle"].status == "same" and math.isnan(vs["idle"].base_median)
    assert vs["newbroken"].status == "failed"  # new and failing: a failure, not an addition


def test_speed_a_removed_case_does_not_stop_the_judging():
    vs = gs.decide({"a": _flat(1.0), "b": _flat(1.0, seed=1)}, {"b": _flat(2.0, seed=2)})
    assert [(v.name, v.status) for v in vs] == [("a", "removed"), ("b", "slower")]


@pytest.mark.parametrize("factor", [1.0, 0.5])
def test_speed_factor_must_exceed_one(factor):
    with pytest.raises(ValueError, match=r"^factor must be > 1"):
        gs.decide({}, {}, factor=factor)


@pytest.mark.parametrize("alpha", [0.0, 1.0, 1.5, -0.1])
def test_speed_alpha_must_be_a_probability(alpha):
    with pytest.raises(ValueError, match=r"^alpha must be in \(0, 1\)"):
        gs.decide({}, {}, alpha=alpha)


def test_speed_thresholds_are_strict():
    """At exactly the factor, exactly 1/factor, or p exactly alpha: same."""
    assert _one([1.0] * 6, [1.2] * 6).status == "same"  # 1.2 / 1.0 == FACTOR
    assert _one([1.2] * 6, [1.0] * 6).status == "same"  # 1.0 / 1.2 == 1 / FACTOR
    b, h = _flat(1.0, n=6, seed=1), _flat(1.5, n=6, seed=2)
    p = _one(b, h).p_value
    assert _one(b, h, alpha=p).status == "same" and _one(b, h, alpha=p * 1.000001).status == "slower"


def test_speed_p_value_is_the_one_sided_rank_test():
    """Six against six, every head sample slower: the exact one-sided p is 1 / C(12, 6)."""
    v = _one([1.1, 1.2, 1.3, 1.4, 1.5, 1.6], [2.1, 2.2, 2.3, 2.4, 2.5, 2.6])
    assert v.p_value == pytest.approx(1 / math.comb(12, 6), rel=1e-12)
    f = _one([2.1, 2.2, 2.3, 2.4, 2.5, 2.6], [1.1, 1.2, 1.3, 1.4, 1.5, 1.6])
    assert f.status == "faster" and f.p_value == pytest.approx(1 / math.comb(12, 6), rel=1e-12)


def test_speed_zero_base_median_is_an_infinite_ratio():
    v = _one([0.0] * 8, [1.0] * 8)
    assert v.ratio == math.inf and v.status == "slower"


def test_speed_faster_needs_every_round_too():
    r1b, r1h = _flat(1.0, seed=1), _flat(0.6, seed=2)
    r2b, r2h = _flat(1.0, seed=3), _flat(0.6, seed=4)
    rounds = [({"b": r1b}, {"b": r1h}), ({"b": r2b}, {"b": r2h})]
    assert _one(r1b + r2b, r1h + r2h, rounds=rounds).status == "faster"
    r2h = _flat(0.9, seed=4)  # one round only 10 % faster
    rounds = [({"b": r1b}, {"b": r1h}), ({"b": r2b}, {"b": r2h})]
    v = _one(r1b + r2b, r1h + r2h, rounds=rounds)
    assert v.ratio < 1 / gs.FACTOR and v.p_value < gs.ALPHA and v.status == "same"
    # a round exactly at 1/factor is not beyond it
    at = [({"b": [1.2] * 20}, {"b": [1.0] * 20}), ({"b": r1b}, {"b": r1h})]
    assert _one([1.2] * 20 + r1b, [1.0] * 20 + r1h, rounds=at).status == "same"


def test_speed_round_exactly_at_the_factor_is_not_beyond_it():
    r1b, r1h = _flat(1.0, seed=1), _flat(1.6, seed=2)
    at = [({"b": r1b}, {"b": r1h}), ({"b": [1.0] * 20}, {"b": [1.2] * 20})]
    v = _one(r1b + [1.0] * 20, r1h + [1.2] * 20, rounds=at)
    assert v.ratio > gs.FACTOR and v.p_value < gs.ALPHA and v.status == "same"


def test_speed_round_ratios_skip_rounds_where_the_case_is_missing():
    r1b, r1h = _flat(1.0, seed=1), _flat(1.6, seed=2)
    rounds = [({"b": r1b}, {"b": r1h}), ({"b": _flat(1.0, seed=3)}, {}), ({}, {"b": _flat(1.0, seed=4)})]
    assert gs._round_ratios("b", rounds) == [pytest.approx(np.median(r1h) / np.median(r1b))]
    assert _one(r1b, r1h, rounds=rounds).status == "slower"


def test_paired_faster_and_its_p_value():
    v = _paired([0.7, 0.71, 0.69, 0.7, 0.72, 0.7])
    ratio, p_greater = gs.blocked_ratio([0.7, 0.71, 0.69, 0.7, 0.72, 0.7])
    assert v.status == "faster" and v.p_value == pytest.approx(1.0 - p_greater) and v.p_value < 1e-6


@pytest.mark.parametrize("rounds", [
    lambda: [({"b": [1.0, 2.0]}, {"b": [1.5, 3.0, 4.0]})] * 4,  # sample counts differ
    lambda: [({"b": [1.0, 2.0]}, {"b": [1.5, 3.0]})] * 3 + [({"b": [1.0, 2.0]}, {})],  # missing on the head side
    lambda: [({"b": [1.0, 2.0]}, {"b": [1.5, 3.0]})] * 3 + [({}, {"b": [1.5, 3.0]})],  # missing on the base side
    lambda: [({"b": [0.0, 2.0]}, {"b": [1.5, 3.0]})] * 4,  # a zero base sample: no ratio
])
def test_pairs_only_when_every_round_pairs_up(rounds):
    assert gs._pairs("b", rounds()) is None


def test_blocked_ratio_perfect_fits():
    assert gs.blocked_ratio([1.5] * 4) == (pytest.approx(1.5), 0.0)
    assert gs.blocked_ratio([0.5] * 4) == (pytest.approx(0.5), 1.0)
    assert gs.blocked_ratio([1.0] * 4) == (1.0, 0.5)


def test_blocked_ratio_p_value_is_the_t_test_of_the_intercept():
    """An independent least-squares fit: log r = mean + effect·order, t on n − 2 degrees of freedom."""
    from scipy.stats import t

    ratios = [1.1, 1.3, 1.2, 1.25, 1.05]
    y = np.log(ratios)
    X = np.column_stack([np.ones(len(y)), [-1.0, 1.0, -1.0, 1.0, -1.0]])
    beta, res, *_ = np.linalg.lstsq(X, y, rcond=None)
    s2 = float(res[0]) / (len(y) - 2)
    se = math.sqrt(s2 * np.linalg.inv(X.T @ X)[0, 0])
    ratio, p = gs.blocked_ratio(ratios)
    assert ratio == pytest.approx(math.exp(beta[0]), rel=1e-12)
    assert p == pytest.approx(float(t.sf(beta[0] / se, len(y) - 2)), rel=1e-9)


# -- rule 2 on E, the error above the form's derived error ------------------------------------------
#: logdet_divergence_naive, float64, n = 8 (gradient slope 2: it differentiates through an explicit
#: inverse): R of the gradient per case (κ, seed), measured on one host (the quick grid's table after
#: `./dev run` at fabe0f8, docs/measurements.md); the cases at κ = 1e8 and 1e12 have no correct digit
#: left (u·κ² >= 1), so their R is wherever the rounding took them.
NAIVE_GRAD_R = {"jax": [0.192, 0.184, 29.7, 45.7, 2.08e5, 4.25e5, 4304.0, 4188.0],
                "tensorflow": [0.192, 0.167, 107.0, 567.0, 2.66e5, 1.77e6, 4306.0, 4189.0]}
KAPPAS = [1.0, 1.0, 1e4, 1e4, 1e8, 1e8, 1e12, 1e12]


def _naive_cell(framework: str, grad_r: list[float], status: list[str] | None = None) -> pd.DataFrame:
    status = status or ["ok"] * len(grad_r)
    rows = [dict(CELL, framework=framework, loss="logdet_divergence_naive", kappa=k, kappa_decade=round(math.log10(k)),
                 kappa_true=k, log10_det=0.0, seed=i % 2, u=2.0**-53, grad_defined=True, grad_well_posed=True, version="x",
                 status=st, R_value=0.05 if st == "ok" else math.nan, R_grad=r,
                 value_error=0.05 * 2.0**-53 * (8 + k), grad_error=r * 2.0**-53 * (8 + k))
            for i, (k, r, st) in enumerate(zip(KAPPAS, grad_r, status))]
    return pd.DataFrame(rows)


def test_derived_excess_leaves_stable_forms_at_r_and_divides_the_naive_forms_by_their_derived_error():
    from matloss.accuracy import derived_excess

    r, kappa = pd.Series([0.3, 7.0, 50.0]), pd.Series([1.0, 1e4, 1e8])
    assert derived_excess(r, 8, kappa, 1.0).tolist() == [1.0, 7.0, 50.0]  # slope 1: max(R, 1)
    assert derived_excess(r, 8, kappa, 0.0).tolist() == [1.0, 7.0, 50.0]
    assert derived_excess(r, 8, kappa, math.nan).tolist() == [1.0, 7.0, 50.0]  # no expectation: R
    got = derived_excess(pd.Series([0.3, 5.0 * (8 + 1e4), 50.0]), 8, kappa, 2.0).tolist()
    assert got == [1.0, pytest.approx(5.0), 1.0]  # slope 2: R / (n + κ), at least 1


def test_a_naive_form_rounding_differently_on_another_host_is_not_a_regression():
    """The three cells `./dev run` flagged on this host against a baseline made on another: there the
    κ = 1e12 cases returned NaN (left out of the medians), here finite numbers with no correct digit;
    TensorFlow's κ = 1e4 case of seed 1 read R = 69 there and 567 here. The old statistics (R)
    call that a regression; E, the error above u·κ², does not."""
    from matloss.accuracy import summarize

    here = summarize(_naive_cell("jax", NAIVE_GRAD_R["jax"]))
    there = summarize(_naive_cell("jax", NAIVE_GRAD_R["jax"], ["ok"] * 6 + ["nan_returned"] * 2))
    assert here["median_R_grad"].item() > 4 * there["median_R_grad"].item()  # the old rule's false alarm
    violations, _ = ga.compare_accuracy(there, here)
    assert {v.rule: v.regression for v in violations} == {"max R (grad) > 30": False}  # a known finding only
    tf_there = list(NAIVE_GRAD_R["tensorflow"])
    tf_there[3] = 69.0
    one_nan = ["ok"] * 7 + ["nan_returned"]  # both hosts: the value of κ = 1e12, seed 1
    there = summarize(_naive_cell("tensorflow", tf_there, one_nan))
    here = summarize(_naive_cell("tensorflow", NAIVE_GRAD_R["tensorflow"], one_nan))
    assert here["median_R_grad"].item() > 4 * there["median_R_grad"].item()
    violations, _ = ga.compare_accuracy(there, here)
    assert {v.rule: v.regression for v in violations} == {"max R (grad) > 30": False, "NaN where defined": False}


def test_a_naive_form_erring_above_its_derived_error_is_a_regression():
    from matloss.accuracy import summarize

    worse = list(NAIVE_GRAD_R["jax"])
    worse[2:4] = [r * 1e5 for r in worse[2:4]]  # κ = 1e4: errors of 3e-6, 300x u·κ²
    worse[0:2] = [r * 1e5 for r in worse[0:2]]
    violations, _ = ga.compare_accuracy(summarize(_naive_cell("jax", NAIVE_GRAD_R["jax"])), summarize(_naive_cell("jax", worse)))
    assert {v.rule for v in violations if v.regression} >= {"median_E_grad > 4x baseline"}


def test_rule_2_uses_e_where_both_summaries_have_it():
    clean_e = dict(CLEAN, median_E_value=1.0, p90_E_value=2.0, median_E_grad=1.0, p90_E_grad=2.0)
    assert _rules(clean_e, dict(clean_e, median_R_grad=500.0)) == {}  # R moved, E did not
    assert _rules(clean_e, dict(clean_e, p90_E_grad=8.02)) == {"p90_E_grad > 4x baseline": True}
    assert _rules(CLEAN, dict(clean_e, median_R_grad=500.0)) == {"median_R_grad > 4x baseline": True}  # an old baseline: R


def test_a_written_baseline_keeps_the_failures_another_host_had():
    old = pd.DataFrame([dict(CLEAN, n_nan=2, n_inf=1, max_R_grad=74.0, max_R_value=9.0, p90_R_grad=20.0),
                        dict(CLEAN, loss="logdet", n_nan=0)])
    new = pd.DataFrame([dict(CLEAN, n_nan=0, n_inf=3), dict(CLEAN, loss="logdet", n_nan=1), dict(CLEAN, loss="spectral")])
    merged, kept = ga.keep_known_findings(new, old)
    assert merged["n_nan"].tolist() == [2, 1, 0] and merged["n_inf"].tolist() == [3, 0, 0]
    assert merged["max_R_grad"].tolist() == [74.0, 5.0, 5.0] and merged["p90_R_grad"].tolist() == [2.0] * 3  # rule 2: new's
    assert merged["max_R_value"].tolist() == [5.0] * 3  # 9 is no finding: the new host's max R stays
    assert kept == ["torch cpu float64 eager det 8 3 default kappa: max_R_grad 5 -> 74",
                    "torch cpu float64 eager det 8 3 default kappa: n_nan 0 -> 2"]
    as_there = pd.DataFrame([dict(CLEAN, n_nan=2, n_inf=3, max_R_grad=60.0)])
    assert not any(v.regression for v in ga.compare_accuracy(merged, as_there)[0])
    assert any(v.regression for v in ga.compare_accuracy(new.iloc[:1], as_there)[0])


def test_keep_known_findings_without_write_baseline_is_refused(tmp_path, capsys):
    from matloss.cli import main

    c = tmp_path / "c.csv"
    pd.DataFrame([CLEAN]).to_csv(c, index=False)
    assert main(["gate", "accuracy", "--current", str(c), "--baseline", str(c), "--keep-known-findings"]) == 2
    assert "--keep-known-findings goes with --write-baseline" in capsys.readouterr().err
    b = tmp_path / "b.csv"
    pd.DataFrame([dict(CLEAN, n_nan=1)]).to_csv(b, index=False)
    assert main(["gate", "accuracy", "--current", str(c), "--baseline", str(b), "--write-baseline", "--keep-known-findings"]) == 0
    assert pd.read_csv(b)["n_nan"].tolist() == [1] and "kept from the old baseline" in capsys.readouterr().out
