"""Edges of the reference package that no other test reached: each check here was written against
a mutant of a mutation sample (seeds 3 to 6) that every other test let through (docs/measurements.md),
and each compares with an independent truth (a hand-derived closed form, exact rationals, the
sampler's documented law)."""

from __future__ import annotations

import dataclasses
import math
import tempfile
import warnings

import mpmath
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


def test_a_mismatch_within_one_input_says_its_own_size():
    """A loss file may give one general matrix the same letter twice (``W: "nn"``, square without
    the square kind); the message then points at the argument's own other axis."""
    from matloss_ref.spec import Arg

    spec = dataclasses.replace(get_loss("tikhonov"), name="gram", args=(Arg("W", "matrix", "nn"),))
    with pytest.raises(ValueError, match=r"^gram: W has shape \(3, 4\), mismatched with its own size 3 along axis 'n'$"):
        check_inputs(spec, {"W": np.zeros((3, 4))})


def test_det_asks_for_more_precision_when_its_ball_holds_zero_but_the_matrix_is_not_singular():
    """det(1, 1; 1, 1 + 2^-50) = 2^-50: at 20 bits the ball holds 0, the exact rational is not 0, so
    more precision is needed (the reason the precision-limit error quotes); at 200 bits it is exact."""
    from flint import arb_mat

    with exact.precision(200):
        m = arb_mat([[arb(1.0), arb(1.0)], [arb(1.0), arb(1.0 + 2.0**-50)]])
    with exact.precision(20), pytest.raises(exact.NeedsPrecision, match=r"^determinant not resolved$"):
        exact.det(m)
    with exact.precision(200):
        assert float(exact.det(m).mid()) == 2.0**-50


def test_randsvd_spaces_singular_values_geometrically_by_default():
    """Mode 3, the documented default: sigma_i / sigma_(i+1) = kappa^(1/(n-1))."""
    s = np.linalg.svd(matrices.randsvd_from(np.random.default_rng(0), 4, 4, 1000.0), compute_uv=False)
    np.testing.assert_allclose(s[:-1] / s[1:], 10.0, rtol=1e-10)


# -- written against survivors of the seed-4 sample ------------------------------------------------
def test_an_infinite_exact_value_keeps_its_sign():
    """A ball whose midpoint is -inf is a value of -inf, not +inf (a loss unbounded below at an
    input, e.g. a Gaussian NLL whose covariance degenerates at the mean)."""
    spec = get_loss("logdet")
    value, _, grads, _, _ = exact._finish(spec, (-arb("inf"), None), {"A": (2, 2)}, 1.0)
    assert value == -math.inf
    assert np.isnan(grads["A"]).all()
    assert exact._finish(spec, (arb("inf"), None), {"A": (2, 2)}, 1.0)[0] == math.inf


def test_a_cached_exact_result_reads_back_what_was_computed(tmp_path):
    """The on-disk cache returns the computed result field for field, the precision it took included."""
    spec = get_loss("det")
    a = np.array([[2.0, 1.0], [1.0, 3.0]])  # det 5, gradient of det = cof = [[3, -1], [-1, 2]]
    first = exact.compute(spec, {"A": a}, (), cache_dir=tmp_path)
    again = exact.compute(spec, {"A": a}, (), cache_dir=tmp_path)
    assert not first.cached and again.cached
    assert again.value == first.value and again.prec == first.prec and isinstance(again.prec, int)
    assert again.scale == first.scale and again.log2_value == first.log2_value
    np.testing.assert_array_equal(again.grads["A"], first.grads["A"])


@pytest.mark.parametrize("shape", [(2, 2), (4, 3), (2, 2, 2)])
def test_the_starting_precision_covers_the_bits_kappa_destroys(shape):
    """64 guard bits plus log2 κ (twice for Gram-matrix methods) plus 8: κ = 2^100 for any matrix
    argument of at least 2 x 2, unbatched or batched."""
    k = 2.0**100
    m, n = shape[-2:]
    a = np.zeros(shape)
    idx = (...,) + np.diag_indices(min(m, n))
    a[idx] = [1.0] + [1.0 / k] * (min(m, n) - 1)
    assert exact._start_prec({"A": a}) == 64 + 100 + 8
    assert exact._start_prec({"A": a}, gram=True) == 64 + 200 + 8
    assert exact._start_prec({"x": np.ones(5)}) == 64 + 8  # vectors destroy nothing


def test_kappa_cache_holds_several_matrices_in_one_directory(tmp_path):
    """Exact κ of diag(1, 1/4) and of diag(1, 1/8), cached side by side and read back."""
    a, b = np.diag([1.0, 0.25]), np.diag([1.0, 0.125])
    assert exact.kappa_cached(a, cache_dir=tmp_path) == 4.0
    assert exact.kappa_cached(b, cache_dir=tmp_path) == 8.0
    assert exact.kappa_cached(a, cache_dir=tmp_path) == 4.0
    assert len(list(tmp_path.rglob("*.txt"))) == 2


def test_orthogonality_l1_has_no_exact_gradient_at_an_exact_zero_entry():
    """At Φᵢ = I every entry of ΦᵢᵀΦᵢ − I is exactly 0: |·| has a kink there, so the exact backend
    reports the gradient as undefined (NaN), never the zero a sign of 0 would give. The value is 0."""
    phi = np.stack([np.eye(2)], axis=1)  # (l = 2, m = 1 slice, n = 2), the slice Φ[:, 0, :] = I
    res = exact.compute(get_loss("orthogonality_l1"), {"Phi": phi}, (), use_cache=False)
    assert res.value == 0.0
    assert np.isnan(res.grads["Phi"]).all()


@pytest.mark.parametrize("mode, law", [(1, [1.0, 0.01, 0.01, 0.01]), (2, [1.0, 1.0, 1.0, 0.01])])
def test_badly_scaled_keeps_the_randsvd_mode(mode, law):
    """Higham's randsvd modes: mode 1 has one large σ and the rest 1/κ, mode 2 the rest 1 and one 1/κ.
    badly_scaled only multiplies by 2^-500, so its σ·2^500 follow the mode's law (max-normalised)."""
    a = matrices.badly_scaled(4, "tiny", kappa=100.0, mode=mode, seed=3)
    s = np.linalg.svd(np.ldexp(a, 500), compute_uv=False)
    np.testing.assert_allclose(s, law, rtol=1e-12)


def test_value_scale_per_metric():
    """The value error's denominator: 1 (absolute: logdet), |value| (relative: det of diag(2, 3) is 6)
    and, for a scaled loss, the summed magnitude of its terms over the batch — orthogonality_l1's
    Σ (|Φᵢ|ᵀ|Φᵢ| + I), by hand: Φ = ones (2 x 1 x 2) gives 8 + 2, Φ = 2·ones gives 32 + 2."""
    assert get_loss("logdet").value_scale(A=np.diag([2.0, 3.0])) == 1.0
    assert get_loss("det").value_scale(A=np.diag([2.0, 3.0])) == 6.0
    phi = np.stack([np.ones((2, 1, 2)), 2 * np.ones((2, 1, 2))])  # a batch of two stacks
    spec = get_loss("orthogonality_l1")
    assert spec.value_scale(Phi=phi[0]) == 10.0
    assert spec.value_scale(Phi=phi) == 44.0


# -- the seed-5 sample's survivors ----------------------------------------------------------------
def test_kappa_retries_at_twice_the_precision_when_the_inverse_cannot_be_decided(monkeypatch):
    """When the ball inverse at the starting precision cannot be rounded (NeedsPrecision) or is not
    provably invertible (ZeroDivisionError), kappa doubles the precision and tries again; the
    answer is the same. κ of diag(1, 1/4) is 4 exactly."""
    real = exact.from_arb
    for failure in (exact.NeedsPrecision("too wide"), ZeroDivisionError("not provably invertible")):
        calls = []

        def first_fails(x, failure=failure, calls=calls):
            calls.append(x)
            if len(calls) == 1:
                raise failure
            return real(x)

        monkeypatch.setattr(exact, "from_arb", first_fails)
        assert exact.kappa(np.diag([1.0, 0.25])) == 4.0
        assert len(calls) == 2


def test_srip_well_posedness_scales_its_rounding_with_the_largest_singular_value():
    """WᵀW − I is formed with rounding errors of order u·σ₁², so the gap between the two largest
    |σᵢ² − 1| must exceed 10⁴·u·(σ₁² + 1)·max(m, n). W = diag(s, 0.1): |0.1² − 1| = 0.99 is the top,
    s² − 1 the next; in float32 (u = 2⁻²⁴) the bound is 1.19e-3·(s² + 1). A gap of 0.002 is inside
    it (σ₁² + 1 ≈ 2.99: bound 3.6e-3) though it would pass a bound built on σ₂ (1.2e-3); a gap of
    0.005 is outside it."""
    spec = get_loss("srip")
    for gap, posed in ((0.002, False), (0.005, True)):
        s = math.sqrt(2.0 - 0.01 - gap)  # s² − 1 = 0.99 − gap
        assert spec.gradient_well_posed("float32", W=np.diag([s, 0.1])) is posed, gap


def test_haar_orthogonal_stays_orthogonal_when_r_has_an_exact_zero_on_its_diagonal():
    """The sign fix multiplies column j of Q by sign(R_jj); where R_jj is exactly 0 (a zero column
    drawn) the sign is taken as +1, so the result is still orthogonal."""

    class Draw:
        def standard_normal(self, shape):
            g = np.arange(1.0, 1.0 + np.prod(shape)).reshape(shape) ** 2
            g[:, 0] = 0.0  # R[0, 0] = 0
            return g

    q = matrices.haar_orthogonal(3, Draw())
    np.testing.assert_allclose(q.T @ q, np.eye(3), atol=1e-14)


def test_randsvd_takes_a_single_row_or_column():
    """A one-column (or one-row) matrix has one singular value: randsvd returns a unit vector's
    shape and norm (|det|-normalised σ = 1), whatever κ is asked."""
    for m, n in ((3, 1), (1, 3), (1, 1)):
        a = matrices.randsvd(m, n, kappa=100.0, seed=0)
        assert a.shape == (m, n)
        assert np.linalg.norm(a) == pytest.approx(1.0, rel=1e-14)


def test_cholesky_factor_default_is_the_geometric_mode():
    """Mode 3, the default (as in spec.sample): the covariance LLᵀ has eigenvalues in geometric
    progression, consecutive ratios all κ^(1/(n−1)) (mode 4 spaces them arithmetically)."""
    lo = matrices.cholesky_factor(5, kappa=1e4, seed=2)
    ev = np.sort(np.linalg.eigvalsh(lo @ lo.T))[::-1]
    np.testing.assert_allclose(ev[:-1] / ev[1:], 10.0, rtol=1e-10)


# -- seed-6 survivors -----------------------------------------------------------------------------
def test_naive_logdet_where_det_underflows_is_inf_without_a_warning():
    """The numpy implementation of -log det(A) at A = 2^-400·I (n = 3): det = 2^-1200 underflows to
    0 and the result is IEEE's +inf (the stable reference reads 1200·ln 2 ≈ 831.8); it comes back
    quietly, as the sweep records it as data, not as a warning per cell."""
    spec = get_loss("logdet_naive")
    a = np.eye(3) * 2.0**-400
    assert spec.value(A=a) == pytest.approx(1200 * math.log(2.0), rel=1e-15)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert spec.value_fn(a) == math.inf


def test_badly_scaled_draws_the_matrix_its_seed_names():
    """badly_scaled is randsvd's matrix (max-normalised) times 2^-500 (tiny) or 2^500 (huge): each
    seed its own matrix, exactly that power of two away."""
    for seed in (0, 3):
        base = matrices.randsvd(4, kappa=10.0, seed=seed, normalize="max")
        np.testing.assert_array_equal(matrices.badly_scaled(4, "tiny", kappa=10.0, seed=seed), np.ldexp(base, -500))
        np.testing.assert_array_equal(matrices.badly_scaled(4, "huge", kappa=10.0, seed=seed), np.ldexp(base, 500))
    assert not np.array_equal(matrices.badly_scaled(4, seed=0), matrices.badly_scaled(4, seed=3))


def test_expected_slopes_follow_the_catalog():
    """docs/losses.md: the slopes the catalog derives (frobenius 0, logdet 1, mvn_nll 1/2 and its
    'weak' variant 0); the default variant is named 'default' and takes a slope listed under that
    name; a loss that gives none expects 1 where κ governs its error and 0 where it does not."""
    assert get_loss("frobenius").expected_value_slope() == 0.0
    assert get_loss("frobenius").expected_grad_slope() == 0.0
    assert get_loss("logdet").expected_value_slope() == 1.0
    mvn = get_loss("mvn_nll")
    assert (mvn.expected_value_slope(), mvn.expected_grad_slope()) == (0.5, 0.5)
    assert (mvn.expected_value_slope("weak"), mvn.expected_grad_slope("weak")) == (0.0, 0.0)
    listed = dataclasses.replace(mvn, variant_slopes={"default": (0.25, 0.75)})
    assert (listed.expected_value_slope(), listed.expected_grad_slope()) == (0.25, 0.75)
    # a loss of one's own that gives no slopes (value_slope is optional): κ-governed or not decides
    for name, slope in (("frobenius", 0.0), ("logdet", 1.0)):
        bare = dataclasses.replace(get_loss(name), value_slope=None, grad_slope=None)
        assert (bare.expected_value_slope(), bare.expected_grad_slope()) == (slope, slope), name


def test_a_loss_without_a_kink_has_a_well_posed_gradient_everywhere():
    """Frobenius has no well-posedness rule: its gradient exists at every input, even a zero one."""
    spec = get_loss("frobenius")
    assert spec.well_posed_fn is None
    x = spec.sample(3, seed=0)
    assert spec.gradient_well_posed("float32", **x) is True
    assert spec.gradient_well_posed("float64", **{k: np.zeros_like(v) for k, v in x.items()}) is True


def test_exact_log2_abs_of_a_ball():
    """log2 |x| of the upper end: 0 at exactly 1, 3 at 8, -inf for a ball that holds 0 (however
    small its radius), inf for an infinite ball."""
    assert exact.log2_abs(arb(1)) == 0.0
    assert exact.log2_abs(arb(-8)) == 3.0
    assert exact.log2_abs(arb(0, 1e-30)) == -math.inf
    assert exact.log2_abs(arb(0)) == -math.inf
    assert exact.log2_abs(arb("inf")) == math.inf


def test_exact_tied_top_says_why_it_needs_more_precision(monkeypatch):
    """Where the tied cluster found at the working precision and at 64 bits more differ, more
    precision is needed, and the reason is the one the precision-limit error quotes to the user."""
    real = mpmath.eigsy

    def split_at_higher_precision(a):
        e, q = real(a)
        if mpmath.mp.prec > exact.ctx.prec:  # the second run: the tie comes apart
            top = max(range(len(e)), key=lambda j: e[j])
            e[top] = e[top] - mpmath.mpf(1) / 8  # three tied at 2 become two
        return e, q

    monkeypatch.setattr(mpmath, "eigsy", split_at_higher_precision)
    with exact.precision(128), pytest.raises(exact.NeedsPrecision) as err:
        exact.tied_top(exact.to_arb(np.diag([2.0, 2.0, 2.0, 1.0])))
    assert str(err.value) == "the tied cluster differs between precisions"


def test_validation_names_the_first_nan_even_after_an_inf():
    """A batch with an inf in element 0 and a NaN in element 1 is reported as containing NaN, at
    the NaN's batch index (1,), not the inf's; an unbatched input's message has no batch index."""
    spec = get_loss("tikhonov")
    a = np.ones((3, 2, 2))
    a[0, 1, 1] = np.inf
    a[1, 0, 1] = np.nan
    with pytest.raises(ValueError) as err:
        spec.validate({"W": a})
    assert str(err.value) == "tikhonov: W contains NaN entries (batch index (1,))"
    with pytest.raises(ValueError) as err:
        spec.validate({"W": a[0]})
    assert str(err.value) == "tikhonov: W contains inf entries"


def test_exact_error_scale_per_value_metric():
    """The scale a value's error is divided by: |v*| for a relative metric, also below 1 (det of
    diag(1/2, 1/2) = 1/4, loss -1/4); max(1, |v*|) for the log-determinants' absolute metric
    (-log det diag(1/8, 1) = 3 ln 2); and 1 where that value is infinite (a singular A)."""
    det = exact.compute(get_loss("det"), {"A": np.diag([0.5, 0.5])}, (), use_cache=False)
    assert (det.value, det.scale) == (-0.25, 0.25)
    logdet = get_loss("logdet")
    res = exact.compute(logdet, {"A": np.diag([0.125, 1.0])}, (), use_cache=False)
    assert res.scale == res.value == pytest.approx(3 * math.log(2.0), rel=1e-15)
    assert exact.compute(logdet, {"A": np.diag([0.5, 1.0])}, (), use_cache=False).scale == 1.0
    singular = exact.compute(logdet, {"A": np.diag([0.0, 1.0])}, (), use_cache=False)
    assert (singular.value, singular.scale) == (math.inf, 1.0)


# -- the seed-7 sample's survivors ---------------------------------------------------------------
def test_logdet_divergence_scale_is_the_sum_of_the_terms_magnitudes():
    """The error scale of the divergence (``value_metric="scaled"``) is tr(TP⁻¹) + |log det(TP⁻¹)| + n:
    for P = I₂, T = 2·I₂ that is 4 + 2·ln 2 + 2 (the divergence itself is 2 − 2·ln 2)."""
    spec = get_loss("logdet_divergence")
    got = spec.terms_fn(P=np.eye(2), T=2 * np.eye(2))
    assert got == pytest.approx(6 + 2 * math.log(2), rel=1e-14)


def test_the_cholesky_factor_of_a_stream_is_the_factor_of_that_streams_spd():
    """``cholesky_factor(stream=s)`` factors ``spd(stream=s)``: another stream, another matrix."""
    ref = matrices.spd(4, kappa=50.0, seed=3, stream=1)
    low = matrices.cholesky_factor(4, kappa=50.0, seed=3, stream=1)
    np.testing.assert_allclose(low @ low.T, ref, rtol=1e-12, atol=0)
    assert not np.allclose(low, matrices.cholesky_factor(4, kappa=50.0, seed=3, stream=0))


def test_an_unknown_normalisation_is_named_in_the_error():
    with pytest.raises(ValueError, match=r"normalize must be 'det' or 'max', got 'trace'"):
        matrices.singular_values(4, 10.0, normalize="trace")


def test_a_huge_finite_exact_gradient_comes_back_without_an_overflow_warning():
    """det of diag(1e80, 1e80, 1e80) is 1e240, its gradient (the cofactors) 1e160 on the diagonal (the
    loss is −det): every entry is a float64, but the norm of the gradient overflows, and the exact
    backend's tightness check must not warn about that."""
    a = np.diag([1e80, 1e80, 1e80])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        res = exact.compute(get_loss("det"), {"A": a}, (), use_cache=False)
    assert float(res.value) == pytest.approx(-1e240, rel=1e-15)
    np.testing.assert_allclose(res.grads["A"], np.diag([-1e160, -1e160, -1e160]), rtol=1e-15)


def test_kappa_cached_creates_a_cache_directory_that_does_not_exist_yet(tmp_path):
    a = np.array([[3.0, 0.0], [0.0, 1.0]])
    assert exact.kappa_cached(a, cache_dir=tmp_path / "not" / "yet") == pytest.approx(3.0, rel=1e-15)
    assert len(list((tmp_path / "not" / "yet" / "kappa").iterdir())) == 1


def test_eigenvectors_are_signed_so_their_largest_entry_is_positive():
    """A = Q·diag(3, 2, 1)·Qᵀ with Q's columns (2, 2, −1)/3, (2, −1, 2)/3, (1, −2, −2)/3 (rational,
    orthonormal): the eigenvector of 3 has its largest entries positive and its last negative."""
    q = np.array([[2, 2, 1], [2, -1, -2], [-1, 2, -2]]) / 3
    a = q @ np.diag([3.0, 2.0, 1.0]) @ q.T
    lam, vecs = exact.sym_eig(exact.to_arb(a))
    assert [float(x.mid()) for x in lam] == pytest.approx([3.0, 2.0, 1.0], abs=1e-12)
    v = np.array([[float(vecs[i, j].mid()) for j in range(3)] for i in range(3)])
    np.testing.assert_allclose(v, q * np.array([1, 1, -1]), atol=1e-12)


# -- the seed-8 sample's survivors ---------------------------------------------------------------
def test_a_sparse_rank_deficient_matrix_is_diagonal():
    a = matrices.rank_deficient(5, 3, dense=False, seed=2)
    np.testing.assert_array_equal(a, np.diag(np.diag(a)))
    assert np.count_nonzero(np.diag(a)) == 3
    assert np.count_nonzero(matrices.rank_deficient(5, 3, dense=True, seed=2) - np.diag(np.diag(a))) > 0


def test_the_exact_cache_key_depends_on_the_values_not_on_their_dtype():
    """A float32 input and the same values in float64 have one exact truth, so one cache entry."""
    spec = get_loss("frobenius")
    a = matrices.spd(3, seed=1, dtype="float32")
    b = np.zeros((3, 3), dtype=np.float32)
    key32 = exact.cache_key(spec, {"A": a, "B": b})
    assert key32 == exact.cache_key(spec, {"A": a.astype(np.float64), "B": b.astype(np.float64)})
    assert key32 != exact.cache_key(spec, {"A": a.astype(np.float64) + 1e-12, "B": b.astype(np.float64)})


def test_kappa_cached_writes_its_temporary_file_beside_the_entry(tmp_path, monkeypatch):
    """The entry is written to a temporary file and renamed into place; the temporary file must be
    in the cache directory, since a rename from the system's temp directory fails across
    filesystems. Here the system's temp directory does not exist, so one made there fails."""
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "no-such-tmp"))
    assert exact.kappa_cached(np.diag([5.0, 1.0]), cache_dir=tmp_path / "cache") == pytest.approx(5.0, rel=1e-15)


def test_a_batch_of_plus_and_minus_infinite_exact_terms_sums_to_nan():
    """A loss file's exact value may be ±inf on one batch element. The batch's value is the sum of
    its terms; +inf and −inf sum to NaN in IEEE arithmetic, where ``math.fsum`` would raise."""
    spec = dataclasses.replace(
        get_loss("det"), name="signed_infinity",
        hp_fn=lambda A: (arb("inf") if A[0, 0] > 0 else arb("-inf"), None),
    )
    a = np.stack([np.eye(2), -np.eye(2)])
    res = exact.compute(spec, {"A": a}, (2,), use_cache=False)
    assert math.isnan(res.value)
    assert np.isnan(res.grads["A"]).all()  # no exact gradient was given


def test_the_precision_limit_error_says_the_limit_was_reached(monkeypatch):
    """A value whose ball never narrows, with no more specific reason given by the loss, ends in an
    error that names the loss, the limit and the reason "precision limit reached"."""
    monkeypatch.setattr(exact, "MAX_PREC", 256)
    spec = dataclasses.replace(get_loss("det"), name="never_tight", hp_fn=lambda A: (arb(1, 0.25), None))
    with pytest.raises(ArithmeticError) as err:
        exact.evaluate_one(spec, {"A": np.eye(2)})
    assert str(err.value) == "never_tight: exact evaluation did not converge by 256 bits (precision limit reached)"


def test_a_relative_value_is_refined_until_its_ball_is_narrow_relative_to_the_value_itself():
    """A loss whose value is far below 1 and measured by relative error is not accepted while its
    ball is narrow only against 1. The synthetic loss below tends to exactly 2^-40 as precision
    rises (midpoint 2^-40 + 2^-(prec-11), radius 2^-(prec-10)): at the starting precision (72 bits
    for I₂) its ball is 2^-62 wide, within TOL = 2^-58 of 1 but far too wide for the value, so the
    driver must go on until the value rounds to 2^-40."""
    def tends_to_two_pow_minus_40(A):
        p = exact.ctx.prec
        return arb(arb(2) ** -40 + arb(2) ** -(p - 11), float(2.0 ** -(p - 10))), None

    spec = dataclasses.replace(get_loss("det"), name="tends_to_2^-40", hp_fn=tends_to_two_pow_minus_40)
    assert spec.value_metric == "relative"
    value, _, _, prec, _, _ = exact.evaluate_one(spec, {"A": np.eye(2)})
    assert value == 2.0**-40, (value, prec)


def test_a_plain_number_from_the_exact_function_is_taken_as_the_exact_value():
    """A loss file's exact function may return a plain number (an exact constant) instead of a ball."""
    spec = dataclasses.replace(get_loss("det"), name="constant_three", hp_fn=lambda A: (3, None))
    value, *_ = exact.evaluate_one(spec, {"A": np.eye(2)})
    assert value == 3.0


def test_the_error_scale_of_a_float32_input_is_computed_in_float64():
    """The scale of a "scaled" value (the magnitude of its terms) is computed from the float64 copy of
    the inputs: for a float32 W of entries c ≈ 1e20, |W|ᵀ|W| ≈ 3e40 overflows float32, and a scale of
    inf would make every error zero. Closed form for a 3×2 W of equal entries c:
    λ·(2·(3c² + 1)² + 2·(3c²)²)."""
    spec = get_loss("soft_orthogonality")
    w = np.full((3, 2), 1e20, dtype=np.float32)
    c = float(w[0, 0])
    lam = spec.constants["lambda"]
    want = lam * (2 * (3 * c * c + 1) ** 2 + 2 * (3 * c * c) ** 2)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no float32 overflow along the way either
        res = spec.exact_result(W=w, cache=False)
    assert res.scale == pytest.approx(want, rel=1e-12)
