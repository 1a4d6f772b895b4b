"""Edges of the reference package that no other test reached: each check here was written against
a mutant of the seed-3 mutation sample that every other test let through (docs/measurements.md),
and each compares with an independent truth (a hand-derived closed form, exact rationals, the
sampler's documented law)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from flint import arb

from matloss_ref import exact, get_loss, matrices, metrics
from matloss_ref.validation import check_inputs


# -- the exact backend ---------------------------------------------------------------------------
def test_exact_det_gradient_at_a_singular_matrix_has_the_cofactor_signs():
    """det's exact gradient at an exactly singular A is -cof(A). For the 2x2 [[a, b], [c, d]],
    cof = [[d, -c], [-b, a]]: at [[0, 1], [0, 0]] that is [[0, 0], [-1, 0]], so the loss -det has
    gradient [[0, 0], [1, 0]]. The null vectors there sit at indices 0 and 1 (odd i + j), where a
    dropped (-1)^(i+j) flips the sign."""
    res = exact.compute(get_loss("det"), {"A": np.array([[0.0, 1.0], [0.0, 0.0]])}, (), use_cache=False)
    assert res.value == 0.0
    np.testing.assert_array_equal(res.grads["A"], [[0.0, 0.0], [1.0, 0.0]])


def test_exact_gradient_of_a_stacked_input_keeps_its_axes():
    """orthogonality_l1 takes Phi of shape (l, m, n), slices Phi[:, i, :]; its exact gradient must
    come back in that layout (with l != m a transposed stack would be scrambled by the reshape).
    Against the closed form 2 beta Phi_i sign(Phi_i^T Phi_i - I) in float64."""
    spec = get_loss("orthogonality_l1")
    rng = np.random.default_rng(7)
    phi = rng.standard_normal((3, 2, 2))  # l = 3 rows, m = 2 slices, n = 2
    assert spec.gradient_well_posed("float64", Phi=phi)
    res = exact.compute(spec, {"Phi": phi}, (), use_cache=False)
    np.testing.assert_allclose(res.grads["Phi"], spec.grad(Phi=phi)["Phi"], rtol=1e-13, atol=0)


def test_a_batched_exact_result_records_the_log2_of_its_sum():
    res = exact.compute(get_loss("logdet"), {"A": np.stack([np.diag([2.0, 4.0]), np.diag([8.0, 1.0])])}, (2,), use_cache=False)
    # -log det: -(log 8) - (log 8) = -6 log 2
    assert res.value == pytest.approx(-6 * math.log(2), rel=1e-15)
    assert res.log2_value == pytest.approx(math.log2(6 * math.log(2)), rel=1e-15)


def test_an_absolute_metric_value_ball_near_zero_is_held_to_the_unit_floor():
    """For absolute-metric losses (logdet) a value's ball must be within TOL of 1 near zero: a
    radius of 1.5 TOL around 0 is too wide (more precision), 0.5 TOL is fine."""
    spec, shapes = get_loss("logdet"), {"A": (2, 2)}
    assert spec.value_metric == "absolute"
    assert exact._finish(spec, (arb(0, 1.5 * exact.TOL), None), shapes, 1.0) is None
    assert exact._finish(spec, (arb(0, 0.5 * exact.TOL), None), shapes, 1.0) is not None


# -- the metrics ---------------------------------------------------------------------------------
def test_project_is_the_symmetric_part_for_spd_inputs_and_the_lower_triangle_for_triangular():
    g = np.array([[1.0, 2.0], [6.0, 4.0]])
    np.testing.assert_array_equal(metrics.project(get_loss("logdet_spd"), "S", g), [[1.0, 4.0], [4.0, 4.0]])
    np.testing.assert_array_equal(metrics.project(get_loss("mvn_nll"), "L", g), [[1.0, 0.0], [6.0, 4.0]])
    np.testing.assert_array_equal(metrics.project(get_loss("logdet"), "A", g), g)


# -- the samplers --------------------------------------------------------------------------------
def test_spd_from_draws_mode_5_from_its_generator():
    """Mode 5 (log-uniform singular values) needs the generator: two seeds, two spectra, each
    with its ends at 1 and 1/kappa."""
    a = np.linalg.eigvalsh(matrices.spd_from(np.random.default_rng(1), 5, 100.0, mode=5, normalize="max"))
    b = np.linalg.eigvalsh(matrices.spd_from(np.random.default_rng(2), 5, 100.0, mode=5, normalize="max"))
    for lam in (a, b):
        assert lam[-1] == pytest.approx(1.0, rel=1e-12) and lam[0] == pytest.approx(0.01, rel=1e-12)
    assert not np.allclose(a[1:-1], b[1:-1])


def test_the_mvn_nll_sampler_follows_the_mode_it_is_given():
    """Mode 1: one eigenvalue of LLᵀ at the top, the other n-1 equal at top/kappa; mode 3 (the
    default) spaces them geometrically."""
    spec = get_loss("mvn_nll")
    lam1 = np.linalg.eigvalsh((lambda L: L @ L.T)(spec.sample(5, kappa=100.0, mode=1, seed=3)["L"]))
    lam3 = np.linalg.eigvalsh((lambda L: L @ L.T)(spec.sample(5, kappa=100.0, mode=3, seed=3)["L"]))
    np.testing.assert_allclose(lam1[:-1], lam1[0], rtol=1e-10)
    assert lam1[-1] / lam1[0] == pytest.approx(100.0, rel=1e-10)
    np.testing.assert_allclose(lam3[1:] / lam3[:-1], 100.0 ** 0.25, rtol=1e-10)


def test_a_structured_case_is_drawn_from_its_seed():
    a, b = matrices.structured("orthogonal", 4, seed=0), matrices.structured("orthogonal", 4, seed=1)
    assert not np.allclose(a, b)
    np.testing.assert_array_equal(matrices.structured("orthogonal", 4, seed=1), b)


# -- messages ------------------------------------------------------------------------------------
def test_sample_names_the_loss_and_the_bad_size():
    with pytest.raises(ValueError, match=r"^logdet: n must be >= 1, got 0$"):
        get_loss("logdet").sample(0)


def test_an_empty_input_is_named_with_its_loss_and_shape():
    with pytest.raises(ValueError, match=r"^logdet: A is empty \(shape \(0, 0\)\)$"):
        check_inputs(get_loss("logdet"), {"A": np.zeros((0, 0))})


# -- dtypes --------------------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_every_closed_form_gradient_comes_back_in_its_input_dtype(dtype):
    """``LossSpec.grad_fn`` (what the numpy implementation differentiates with) computes in the
    dtype it is given: a float32 input's gradient is float32 (an identity built in float64 would
    promote it). ``LossSpec.grad`` is the float64 reference and says so."""
    from matloss_ref import list_losses

    for name in list_losses():
        spec = get_loss(name)
        x = spec.sample(4, kappa=10.0, dtype=dtype, seed=0)
        for arg, g in spec.grad_fn(**x).items():
            assert np.asarray(g).dtype == np.dtype(dtype), (name, arg, np.asarray(g).dtype)


def test_kappa_says_it_did_not_converge_when_precision_runs_out(monkeypatch):
    monkeypatch.setattr(exact, "MAX_PREC", 1)  # below any start precision: not one step may run
    with pytest.raises(ArithmeticError, match=r"^kappa: did not converge$"):
        exact.kappa(np.diag([1.0, 2.0]))


def test_a_mismatch_between_two_inputs_names_the_other_input():
    with pytest.raises(ValueError, match=r"^frobenius: B has shape \(3, 4\), mismatched with A's size 3 along axis 'n'$"):
        check_inputs(get_loss("frobenius"), {"A": np.zeros((3, 3)), "B": np.zeros((3, 4))})


def test_randsvd_spaces_singular_values_geometrically_by_default():
    """Mode 3, the documented default: sigma_i / sigma_(i+1) = kappa^(1/(n-1))."""
    s = np.linalg.svd(matrices.randsvd_from(np.random.default_rng(0), 4, 4, 1000.0), compute_uv=False)
    np.testing.assert_allclose(s[:-1] / s[1:], 10.0, rtol=1e-10)
