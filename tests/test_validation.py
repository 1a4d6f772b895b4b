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


def test_singular_is_not_an_error_where_defined():
    a = np.diag([1.0, 2.0, 0.0, 3.0])
    spec = get_loss("det")
    assert spec.value(A=a) == 0.0
    spec.grad(A=a)
    get_loss("logdet").value(A=a)  # +inf, not an error
    get_loss("nuclear").value(A=a)
