"""Bad input raises ValueError naming the loss, the argument and the problem — before any work."""

from __future__ import annotations

import numpy as np
import pytest

from matloss_ref import get_loss, list_losses


def _err(loss, match_arg, match_problem, **inputs):
    spec = get_loss(loss)
    for call in (spec.value, spec.grad, spec.exact):
        with pytest.raises(ValueError) as err:
            call(**inputs)
        msg = str(err.value)
        assert msg.startswith(f"{loss}: {match_arg} "), msg
        assert match_problem in msg, msg


@pytest.mark.parametrize("loss", list_losses())
def test_every_loss_rejects_nan_int_and_wrong_rank(loss):
    spec = get_loss(loss)
    good = spec.sample(3)
    first = spec.inputs[0]
    bad = dict(good, **{first: np.where(np.ones_like(good[first], bool), np.nan, 0.0)})
    _err(loss, first, "NaN", **bad)
    inf = good[first].copy()
    inf.flat[0] = np.inf
    _err(loss, first, "inf", **dict(good, **{first: inf}))
    _err(loss, first, "non-floating dtype", **dict(good, **{first: good[first].astype(np.int64)}))
    _err(loss, first, "complex", **dict(good, **{first: good[first].astype(np.complex128)}))
    _err(loss, first, "dimensions", **dict(good, **{first: np.float64(1.0)}))
    missing = {k: v for k, v in good.items() if k != first}
    _err(loss, first, "missing", **missing)


def test_non_square():
    _err("det", "A", "must be square", A=np.ones((3, 4)))
    _err("logdet_spd", "S", "must be square", S=np.ones((3, 4)))


def test_mismatched_shapes():
    a = np.eye(3)
    _err("frobenius", "B", "mismatched", A=a, B=np.eye(4))
    _err("logdet_divergence", "T", "mismatched", P=a, T=np.eye(2))
    _err("mvn_nll", "L", "mismatched", x=np.zeros(3), mu=np.zeros(3), L=np.eye(4))
    _err("frobenius", "B", "batch shape", A=np.stack([a, a]), B=a)


def test_not_spd():
    s = np.diag([1.0, 2.0, -1.0])
    _err("logdet_spd", "S", "not positive definite (Cholesky failed at column 3)", S=s)
    _err("logdet_divergence", "T", "not positive definite", P=np.eye(3), T=s)
    _err("logdet_spd", "S", "not symmetric", S=np.array([[2.0, 1.0], [0.0, 2.0]]))


def test_tril_rules():
    x = np.zeros(2)
    _err("mvn_nll", "L", "not lower-triangular", x=x, mu=x, L=np.array([[1.0, 0.5], [0.0, 1.0]]))
    _err("mvn_nll_naive", "L", "positive diagonal", x=x, mu=x, L=np.array([[1.0, 0.0], [0.3, 0.0]]))
    _err("mvn_nll", "L", "positive diagonal", x=x, mu=x, L=np.array([[-1.0, 0.0], [0.3, 1.0]]))


def test_logdet_naive_needs_positive_det():
    _err("logdet_naive", "A", "det > 0", A=np.diag([1.0, -2.0]))
    _err("logdet_naive", "A", "det > 0", A=np.diag([1.0, 0.0]))


def test_wide_w_rejected():
    _err("soft_orthogonality", "W", "m >= n", W=np.ones((2, 3)))
    _err("srip", "W", "m >= n", W=np.ones((2, 3)))


def test_unknown_argument():
    _err("det", "X", "is not an input", A=np.eye(2), X=np.eye(2))


def test_an_input_numpy_cannot_convert_is_named():
    _err("frobenius", "B", "cannot be converted to an array", A=np.eye(2), B=[[1.0, 2.0], [3.0]])  # ragged


def test_asking_a_spec_for_an_unknown_input_names_it_and_lists_the_inputs():
    with pytest.raises(KeyError, match=r"spectral has no input 'C'; inputs: A, B"):
        get_loss("spectral").arg("C")


def test_singular_is_not_an_error_where_defined():
    """Validation lets through singular input where the loss is defined; the values are the closed forms."""
    a = np.diag([1.0, 2.0, 0.0, 3.0])
    det = get_loss("det")
    assert det.value(A=a) == 0.0
    np.testing.assert_array_equal(det.grad(A=a)["A"], -np.diag([0.0, 0.0, 6.0, 0.0]))  # -cof(A): only the zero pivot's minor
    assert get_loss("logdet").value(A=a) == np.inf  # -log|det A| at det A = 0
    assert get_loss("nuclear").value(A=a) == 6.0  # 1 + 2 + 0 + 3




# -- every per-element rule, with the bad element at a non-first batch position -------------------
BATCH = (2, 3)
AT = (1, 2)  # the last element: every earlier one is valid


def _batched(loss, seed=0):
    return get_loss(loss).sample(3, batch=BATCH, seed=seed)


def _err_at(loss, arg, problem, inputs):
    _err(loss, arg, problem, **inputs)
    msg = _message(loss, inputs)
    assert msg.endswith(f"(batch index {AT})"), msg


def _message(loss, inputs):
    with pytest.raises(ValueError) as err:
        get_loss(loss).validate(inputs)
    return str(err.value)


@pytest.mark.parametrize("loss", list_losses())
@pytest.mark.parametrize("bad", ["NaN", "inf"])
def test_non_finite_entry_in_a_later_batch_element_of_every_argument(loss, bad):
    spec = get_loss(loss)
    for arg in spec.inputs:
        x = _batched(loss)
        arr = x[arg].copy()
        arr[AT].flat[-1] = np.nan if bad == "NaN" else -np.inf
        _err_at(loss, arg, f"contains {bad} entries", dict(x, **{arg: arr}))


def _replace(loss, arg, element):
    x = _batched(loss)
    arr = x[arg].copy()
    arr[AT] = element
    return dict(x, **{arg: arr})


@pytest.mark.parametrize("loss, arg", [("logdet_spd", "S"), ("logdet_divergence", "P"), ("logdet_divergence", "T")])
def test_spd_rules_in_a_later_batch_element(loss, arg):
    asym = np.array([[2.0, 1.0, 0.0], [0.0, 2.0, 0.0], [0.0, 0.0, 2.0]])
    _err_at(loss, arg, "is not symmetric", _replace(loss, arg, asym))
    _err_at(loss, arg, "not positive definite (Cholesky failed at column 2)", _replace(loss, arg, np.diag([1.0, -1.0, 1.0])))


@pytest.mark.parametrize("loss", ["mvn_nll", "mvn_nll_naive"])
def test_tril_rules_in_a_later_batch_element(loss):
    upper = np.array([[1.0, 0.0, 0.5], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]])
    _err_at(loss, "L", "is not lower-triangular (entry [0, 2] = 0.5)", _replace(loss, "L", upper))
    _err_at(loss, "L", "positive diagonal (entry [1, 1] = -2)", _replace(loss, "L", np.diag([1.0, -2.0, 1.0])))


def test_domain_rule_in_a_later_batch_element():
    _err_at("logdet_naive", "A", "det > 0", _replace("logdet_naive", "A", np.diag([1.0, 1.0, -1.0])))
    # the shape rule of soft_orthogonality / srip (m >= n) holds for every element alike: it names the first
    msg = _message("srip", {"W": np.ones((2, 3, 2, 3))})
    assert msg.startswith("srip: W ") and "m >= n" in msg and msg.endswith("(batch index (0, 0))")


def test_the_valid_earlier_elements_are_not_named():
    """Only the offending element is named, and with the batch shape (2, 3) its index is (1, 2), not (0, 0)."""
    x = _replace("logdet_spd", "S", np.diag([1.0, 1.0, -1.0]))
    get_loss("logdet_spd").validate({"S": x["S"][:1]})  # the first row of the batch is valid
    assert "(batch index (1, 2))" in _message("logdet_spd", x)


def test_symmetry_is_judged_at_the_inputs_own_precision():
    """A float32 SPD matrix off symmetric by a float32 rounding is accepted; the same defect in
    float64, a hundred million times its unit roundoff, is not."""
    import numpy as np

    spec = get_loss("logdet_spd")
    s = spec.sample(4, kappa=10.0, dtype="float64", seed=0)["S"]
    off = s.copy()
    off[0, 1] += 1e-6 * np.max(np.abs(s))
    spec.validate({"S": off.astype(np.float32)})
    with pytest.raises(ValueError, match="not symmetric"):
        spec.validate({"S": off})


def test_an_unbatched_input_has_no_batch_index_in_its_message():
    with pytest.raises(ValueError) as err:
        get_loss("logdet_spd").value(S=-np.eye(3))
    assert str(err.value) == "logdet_spd: S is not positive definite (Cholesky failed at column 1)"


def test_a_tril_input_must_be_square():
    x = np.zeros(3)
    with pytest.raises(ValueError, match=r"mvn_nll: L must be square, got shape \(3, 2\)"):
        get_loss("mvn_nll").value(x=x, mu=x, L=np.ones((3, 2)))


def test_the_symmetry_tolerance_is_64_eps_of_the_largest_entry_inclusive():
    # max |S| = 1 in float64: the tolerance is 64 eps = 2^-46; an asymmetry of exactly that passes,
    # 64.5 eps (2^-46 + 2^-53) fails
    loss = get_loss("logdet_spd")
    at = np.eye(2)
    at[0, 1] = 2.0**-46
    assert np.isfinite(loss.value(S=at))
    over = np.eye(2)
    over[0, 1] = 2.0**-46 + 2.0**-53
    with pytest.raises(ValueError, match=r"logdet_spd: S is not symmetric"):
        loss.value(S=over)


def test_a_loss_spec_refuses_an_implementation_for_an_unknown_framework():
    import dataclasses

    spec = get_loss("frobenius")
    assert dataclasses.replace(spec, implementations={}).implementations == {}
    with pytest.raises(ValueError, match=r"frobenius: implementations for unknown frameworks \['mxnet'\]; known: numpy"):
        dataclasses.replace(spec, implementations={"mxnet": None, "torch": None})
