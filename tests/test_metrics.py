"""The error metrics (matloss_ref.metrics) on hand-made cases whose errors are known in closed form."""

from __future__ import annotations

import math

import numpy as np
import pytest

from matloss_ref import get_loss
from matloss_ref.metrics import grad_error, grad_errors, ratio, value_error


def test_value_error_metrics():
    assert value_error(get_loss("det"), 1.001, 1.0, 1.0) == pytest.approx(1e-3)  # relative (scale = |v*|)
    assert value_error(get_loss("logdet"), 5.25, 5.0, 1.0) == pytest.approx(0.25)  # absolute
    spec = get_loss("logdet_divergence")
    assert value_error(spec, 3e-12, 1e-12, 8.0) == pytest.approx(2e-12 / 8.0)  # scaled by Σ|terms|
    assert math.isnan(value_error(spec, math.nan, 1.0, 1.0))
    assert value_error(spec, math.inf, math.inf, 1.0) == 0.0
    assert value_error(spec, math.inf, 1.0, 1.0) == math.inf


def test_gradient_error_symmetrised_and_triangular():
    spd = get_loss("logdet_spd")
    g_exact = {"S": np.array([[2.0, 1.0], [1.0, 3.0]])}
    lower = {"S": np.array([[2.0, 0.0], [2.0, 3.0]])}  # TF-style one-sided gradient: same symmetric part
    assert grad_error(spd, lower, g_exact) == 0.0
    off = {"S": g_exact["S"] * 1.5}
    assert grad_error(spd, off, g_exact) == pytest.approx(0.5)  # a factor bug is caught (cosine would be 1)
    mvn = get_loss("mvn_nll")
    ge = {"x": np.ones(2), "mu": -np.ones(2), "L": np.array([[1.0, 0.0], [2.0, 1.0]])}
    full = dict(ge, L=np.array([[1.0, 7.0], [2.0, 1.0]]))  # upper part ignored: L's domain is lower-triangular
    assert grad_errors(mvn, full, ge) == {"x": 0.0, "mu": 0.0, "L": 0.0}
    nan_exact = {"A": np.full((2, 2), np.nan)}
    assert math.isnan(grad_error(get_loss("logdet"), {"A": np.eye(2)}, nan_exact))
    assert grad_error(get_loss("det"), {"A": np.full((2, 2), np.nan)}, {"A": np.eye(2)}) == math.inf


def test_ratio():
    assert ratio(2.0**-53 * 110, "float64", 10, 100.0) == pytest.approx(1.0)
    assert ratio(2.0**-24 * 30, "float32", 20, 10.0) == pytest.approx(1.0)
    with pytest.raises(ValueError, match="dtype"):
        ratio(1.0, "float16", 1, 1.0)


def test_gradient_error_of_huge_finite_gradients_is_a_number():
    """‖G − G*‖_F of gradients near the top of the float range used to overflow to inf/inf = NaN."""
    spec = get_loss("det")
    ref = {"A": np.full((3, 3), 2e300)}
    assert grad_errors(spec, {"A": np.full((3, 3), 1e300)}, ref)["A"] == pytest.approx(0.5)
    assert grad_errors(spec, {"A": np.full((3, 3), 1e-320)}, {"A": np.full((3, 3), 2e-320)})["A"] == pytest.approx(0.5)
    assert grad_errors(spec, {"A": np.eye(3)}, {"A": np.zeros((3, 3))})["A"] == pytest.approx(3**0.5)  # absolute where G* = 0


def test_grad_errors_reports_every_input_after_one_without_a_defined_gradient():
    from matloss_ref import get_loss
    from matloss_ref.metrics import grad_errors

    spec = get_loss("frobenius")  # inputs A, B
    ref = {"A": np.full((2, 2), np.nan), "B": np.ones((2, 2))}
    got = {"A": np.zeros((2, 2)), "B": np.ones((2, 2)) * 1.5}
    out = grad_errors(spec, got, ref)
    assert set(out) == {"A", "B"} and math.isnan(out["A"]) and out["B"] == pytest.approx(0.5)


def test_grad_errors_against_a_zero_gradient_is_the_absolute_norm():
    from matloss_ref import get_loss
    from matloss_ref.metrics import grad_errors

    spec = get_loss("frobenius")
    ref = {"A": np.zeros((1, 2)), "B": np.zeros((1, 2))}
    got = {"A": np.array([[3.0, 4.0]]), "B": np.zeros((1, 2))}
    out = grad_errors(spec, got, ref)
    assert out["A"] == pytest.approx(5.0) and out["B"] == 0.0


@pytest.mark.parametrize("first", ["undefined", "non-finite", "zero"])
def test_an_early_input_leaves_the_later_ones_measured(first):
    """Each special case of the first input (undefined exact gradient, a non-finite one, both zero)
    decides that input alone; the second is still compared: ‖2·1 − 1‖/‖1‖ = 1."""
    spec = get_loss("spectral")
    ref_a, got_a, want = {"undefined": (np.full((2, 2), np.nan), np.ones((2, 2)), math.nan),
                          "non-finite": (np.ones((2, 2)), np.full((2, 2), np.inf), math.inf),
                          "zero": (np.zeros((2, 2)), np.zeros((2, 2)), 0.0)}[first]
    errs = grad_errors(spec, {"A": got_a, "B": 2 * np.ones((2, 2))}, {"A": ref_a, "B": np.ones((2, 2))})
    assert set(errs) == {"A", "B"}
    assert errs["A"] == want or (math.isnan(want) and math.isnan(errs["A"]))
    assert errs["B"] == pytest.approx(1.0)


def test_value_error_of_infinite_and_zero_scale_values_is_exact_equality():
    spec = get_loss("logdet")
    assert value_error(spec, math.inf, math.inf, 1.0) == 0.0
    assert value_error(spec, -math.inf, math.inf, 1.0) == math.inf
    assert value_error(spec, 1.0, math.inf, 1.0) == math.inf
    assert value_error(spec, math.inf, 1.0, 1.0) == math.inf
    assert value_error(spec, 2.0, 2.0, 0.0) == 0.0
    assert value_error(spec, 2.0, 3.0, 0.0) == math.inf


def test_grad_errors_is_nan_where_the_truth_is_undefined_even_for_an_infinite_gradient():
    spec = get_loss("logdet")
    ref = np.array([[np.nan, 0.0], [0.0, 1.0]])
    got = np.array([[np.inf, 0.0], [0.0, 1.0]])
    assert math.isnan(grad_errors(spec, {"A": got}, {"A": ref})["A"])
