"""The exact backend at exact ties and exact singularities, against closed forms.

At a repeated top singular value the gradient of σ₁ is not determined; the reference's
``split_fn`` gives the even split over the tied pairs (what autodiff of a ``max`` returns), built
on :func:`matloss_ref.exact.tied_top`. Every input here is dyadic (entries ±1, ±½, …: exact in
float64), so the ties are exact in the binary input too, and every expected number is a closed
form of the construction ``U diag(σ) Vᵀ`` with a Hadamard ``U`` and a signed permutation ``V``.
"""

from __future__ import annotations

import numpy as np
import pytest
from flint import arb, arb_mat

from matloss_ref import exact, get_loss
from matloss_ref.losses import srip

#: orthogonal with dyadic entries (a 4×4 Hadamard matrix / 2): it mixes every coordinate
H4 = 0.5 * np.array([[1, 1, 1, 1], [1, -1, 1, -1], [1, 1, -1, -1], [1, -1, -1, 1]], dtype=np.float64)
#: a signed permutation: Vᵀ of the tall test matrices (its rows are the right singular vectors)
P3 = np.array([[0, 1, 0], [0, 0, -1], [1, 0, 0]], dtype=np.float64)


def _tall(sigma):
    """4×3 ``H4[:, :3] · diag(sigma) · P3``: singular values ``sigma``, uᵢ = H4[:, i], vᵢ = P3[i]."""
    return H4[:, :3] @ np.diag(sigma) @ P3


def _top_pairs(k):
    """Σ_{i<k} uᵢ vᵢᵀ of :func:`_tall`."""
    return H4[:, :k] @ P3[:k]


def _split(name, arrays):
    spec = get_loss(name)
    value, _, grads, _, _, _ = exact.evaluate_one(spec, arrays, fn=spec.split_fn)
    return value, grads


def _arb(a: np.ndarray) -> arb_mat:
    return arb_mat(a.shape[0], a.shape[1], [float(v) for v in a.ravel()])


def _assert_ball_holds(ball: arb, expected: float):
    assert ball.contains(arb(expected)), (ball, expected)
    assert float(ball.rad()) < 2.0**-40


# -- tied_top ------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "diag, by_magnitude, expected",
    [
        ((3, 3, 1, 0), False, (3.0, 2)),
        ((3, 3, 1, -5), False, (3.0, 2)),
        ((3, 3, 1, -5), True, None),  # |−5| is the simple top by magnitude
        ((-3, -3, 1, 0), True, (-3.0, 2)),  # the tied top by magnitude is negative
        ((-3, -3, 1, 0), False, None),  # by value the top (1) is simple
        ((3, -3, 1, 0), True, None),  # tied in magnitude but of both signs: no even split
        ((3, -3, 1, 0), False, None),
        ((2, 2, 2, 2), False, (2.0, 4)),
        ((4, 3, 2, 1), False, None),
    ],
)
def test_tied_top_finds_the_tie_its_multiplicity_and_the_projector(diag, by_magnitude, expected):
    g = H4 @ np.diag(np.array(diag, dtype=np.float64)) @ H4.T  # dyadic, symmetric, eigenvalues `diag`
    with exact.precision(128):
        got = exact.tied_top(_arb(g), by_magnitude=by_magnitude)
    if expected is None:
        assert got is None
        return
    top, proj, k = got
    want_top, want_k = expected
    assert k == want_k
    _assert_ball_holds(top, want_top)
    idx = [i for i, d in enumerate(diag) if d == want_top]
    want_proj = H4[:, idx] @ H4[:, idx].T  # the projector onto the tied eigenvectors
    for i in range(4):
        for j in range(4):
            _assert_ball_holds(proj[i, j], want_proj[i, j])


def test_a_tie_is_judged_relative_to_the_size_of_the_top_eigenvalue():
    """Eigenvalues within 2^-(prec/2)·max(|top|, 1) of the top are tied: at 128 bits and top = 4,
    a gap of 2^-63 (below 4·2^-64) is a tie, one of 2^-60 is not. The entries are exact dyadic
    balls (longer than float64 holds), so the gap is exactly what it says."""
    for gap, tied in ((2.0**-63, True), (2.0**-60, False)):
        with exact.precision(128):
            d = [arb(4), arb(4) - arb(gap), arb(1), arb(0)]
            h = _arb(H4)
            g = h * arb_mat(4, 4, [d[i] if i == j else 0 for i in range(4) for j in range(4)]) * h.transpose()
            got = exact.tied_top(g)
        assert (got is not None and got[2] == 2) if tied else got is None, gap


# -- the even-split subgradients on tall and wide inputs -------------------------------------------
@pytest.mark.parametrize("wide", [False, True], ids=["tall", "wide"])
def test_condition_number_split_at_a_tied_sigma1(wide):
    s = _tall([2.0, 2.0, 1.0])
    nu = 3
    grad = 2.0 * _top_pairs(2) / 2 - s / nu  # σ₁·(1/k)Σᵢ uᵢvᵢᵀ − S/ν
    if wide:
        s, grad = s.T, grad.T
    value, grads = _split("condition_number", {"S": s})
    assert value == pytest.approx(0.5 * 4 - 9 / (2 * nu), rel=1e-15)  # ½σ₁² − ‖S‖²_F/(2ν)
    np.testing.assert_allclose(grads["S"], grad, rtol=1e-15, atol=1e-16)


@pytest.mark.parametrize("wide", [False, True], ids=["tall", "wide"])
def test_spectral_split_at_a_tied_sigma1(wide):
    d = _tall([2.0, 2.0, 1.0])
    c = np.full_like(d, 0.25)  # B ≠ 0: the loss sees only A − B
    grad = _top_pairs(2) / 2  # (1/k)Σᵢ uᵢvᵢᵀ
    if wide:
        d, c, grad = d.T, c.T, grad.T
    value, grads = _split("spectral", {"A": d + c, "B": c})
    assert value == pytest.approx(2.0, rel=1e-15)
    np.testing.assert_allclose(grads["A"], grad, rtol=1e-15, atol=1e-16)
    np.testing.assert_allclose(grads["B"], -grad, rtol=1e-15, atol=1e-16)


@pytest.mark.parametrize(
    "sigma, top, sign",
    [((2.0, 2.0, 1.0), 3.0, 1.0), ((0.5, 0.5, 1.0), 0.75, -1.0)],  # σ² − 1 = (3, 3, 0), (−¾, −¾, 0)
    ids=["above-one", "below-one"],
)
def test_srip_split_at_a_tied_top_of_sigma_squared_minus_one(sigma, top, sign):
    w = _tall(list(sigma))
    pv = P3[:2].T @ P3[:2]  # projector onto the tied right singular vectors
    value, grads = _split("srip", {"W": w})
    assert value == pytest.approx(srip.LAMBDA * top, rel=1e-15)
    np.testing.assert_allclose(grads["W"], 2 * srip.LAMBDA * sign / 2 * w @ pv, rtol=1e-15, atol=1e-17)


def test_srip_takes_the_largest_magnitude_of_either_sign():
    """σ = (1.25, ½, ⅛): σ² − 1 = (0.5625, −0.75, −0.984375); the top |σ² − 1| is the last, negative
    one, so the value is λ·0.984375 and the gradient 2λ·s·W·v vᵀ with s = −1 and v the right
    singular vector of σ = ⅛ (P3's last row)."""
    w = _tall([1.25, 0.5, 0.125])
    v = P3[2]
    value, _, grads, _, _, _ = exact.evaluate_one(get_loss("srip"), {"W": w})
    assert value == pytest.approx(srip.LAMBDA * 0.984375, rel=1e-15)
    np.testing.assert_allclose(grads["W"], -2 * srip.LAMBDA * w @ np.outer(v, v), rtol=1e-15, atol=1e-17)


def test_split_is_none_where_the_top_is_simple():
    s = _tall([3.0, 2.0, 1.0])
    for name, arrays in [("condition_number", {"S": s}), ("spectral", {"A": s, "B": 0 * s}), ("srip", {"W": s})]:
        spec = get_loss(name)
        with exact.precision(128):
            assert spec.split_fn(**exact.hp_inputs(spec, arrays)) is None, name


# -- singular or imprecise -----------------------------------------------------------------------
def test_inverse_of_an_exactly_singular_matrix_is_undefined():
    m = arb_mat(2, 2, [1, 2, 2, 4])
    with exact.precision(64):
        with pytest.raises(exact.Undefined, match="exactly singular"):
            exact.inv(m)
        with pytest.raises(exact.Undefined, match="exactly singular"):
            exact.solve(m, arb_mat(2, 1, [1, 1]))


def test_a_regular_matrix_whose_inverse_failed_asks_for_more_precision():
    # flint inverts exact regular matrices at any precision (it falls back to exact arithmetic), so
    # the rule is checked on its own: exact entries, determinant 2⁻⁴⁰ ≠ 0 → more precision, not Undefined
    m = arb_mat(2, 2, [1, 1, 1, 1 + 2.0**-40])
    with exact.precision(20):
        assert isinstance(exact._singular_or_imprecise(m, ZeroDivisionError("singular")), exact.NeedsPrecision)
        assert exact.inv(m)[1, 1].contains(arb(2.0**40))  # and flint does invert it


def test_a_singular_looking_ball_matrix_asks_for_more_precision():
    # inexact entries (balls around a singular matrix): singularity cannot be decided, ask for more
    m = arb_mat(2, 2, [arb(1, 1e-3), 2, 2, 4])
    with exact.precision(64):
        with pytest.raises(exact.NeedsPrecision):
            exact.inv(m)


# -- a ball too wide to round -------------------------------------------------------------------
def test_a_value_ball_too_wide_to_round_asks_for_more_precision():
    spec = get_loss("logdet")
    shapes = {"A": (2, 2)}
    assert exact._finish(spec, (arb(1, 1e-3), None), shapes, 1.0) is None  # neither tight nor rounding to one float
    done = exact._finish(spec, (arb(1), None), shapes, 1.0)
    assert done is not None and done[0] == 1.0 and np.isnan(done[2]["A"]).all()


def test_a_tie_of_rounded_entries_keeps_the_true_eigenvalue_in_its_ball():
    """The entries of ``g`` are balls, and ``tied_top`` reads their midpoints. On ``(1000/3)·I₂``
    both precisions return the midpoint 1000/3 rounded to 128 bits exactly, so the two runs agree
    to the last bit and only the ball's floor (2^(8−prec) relative to the eigenvalue) covers the
    rounding of the entries: the true eigenvalue 1000/3 (an exact rational) must stay inside."""
    with exact.precision(128):
        third = arb(1000) / 3
        got = exact.tied_top(arb_mat(2, 2, [third, 0, 0, third]))
    assert got is not None and got[2] == 2
    top = got[0]
    with exact.precision(512):
        assert top.contains(arb(1000) / 3), top
        assert float(top.rad()) < 2.0**-100  # a ball, not a blanket


def test_a_tie_ball_covers_an_error_of_the_more_precise_run_up_to_the_runs_difference(monkeypatch):
    """Neither eigensolver run is exact, so the ball is centred on the more precise run with twice
    the runs' difference (plus the floor) as radius. Here the truth is 2 (``diag(2, 2, 1)``) and the
    more precise run is made to miss it by δ = 2^-120 while the other returns it: the ball must still
    hold 2 — a radius of the difference minus the floor would not."""
    import mpmath

    real = mpmath.eigsy
    delta = mpmath.mpf(2) ** -120

    def off_at_higher_precision(a):
        e, q = real(a)
        if mpmath.mp.prec > exact.ctx.prec:
            for j in range(len(e)):
                if e[j] > 1.5:  # the two tied at 2
                    e[j] = e[j] + delta
        return e, q

    monkeypatch.setattr(mpmath, "eigsy", off_at_higher_precision)
    with exact.precision(128):
        got = exact.tied_top(exact.to_arb(np.diag([2.0, 2.0, 1.0])))
    assert got is not None and got[2] == 2
    assert got[0].contains(arb(2)), got[0]
