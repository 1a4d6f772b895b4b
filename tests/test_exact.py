"""The exact backend: singular inputs, undefined gradients, precision, the on-disk cache."""

from __future__ import annotations

import math
import time

import numpy as np
import pytest

from matloss_ref import exact, get_loss, matrices


def _cofactor_bruteforce(a: np.ndarray) -> np.ndarray:
    """cof(A)_ij = (-1)^(i+j) det(minor_ij), with exact rational determinants (fractions)."""
    from fractions import Fraction

    import sympy

    n = a.shape[0]
    m = sympy.Matrix([[Fraction(float(v)) for v in row] for row in a])
    return np.array([[float((-1) ** (i + j) * m.minor(i, j)) for j in range(n)] for i in range(n)])


@pytest.mark.parametrize("case", ["singular_first", "singular_middle", "singular_last", "singular_dense", "rank_n_minus_2"])
def test_det_gradient_at_singular_is_cofactor(case, tmp_path):
    a = matrices.structured(case, 5)
    v, g = get_loss("det").exact(A=a, cache_dir=tmp_path)
    assert v == 0.0
    np.testing.assert_allclose(g["A"], -_cofactor_bruteforce(a), rtol=1e-15, atol=0)
    if case == "rank_n_minus_2":
        assert not g["A"].any()
    else:
        assert np.any(g["A"] != 0)


def test_det_gradient_diag_example(tmp_path):
    _, g = get_loss("det").exact(A=np.diag([1.0, 2.0, 0.0, 3.0]), cache_dir=tmp_path)
    expected = np.zeros((4, 4))
    expected[2, 2] = -6.0
    np.testing.assert_array_equal(g["A"], expected)


def test_logdet_singular_is_inf_with_undefined_gradient(tmp_path):
    v, g = get_loss("logdet").exact(A=np.diag([1.0, 0.0]), cache_dir=tmp_path)
    assert v == math.inf and np.all(np.isnan(g["A"]))


def test_spectral_tie_and_zero_have_undefined_gradient(tmp_path):
    spec = get_loss("spectral")
    a = matrices.repeated_sigma1(4, seed=1)
    v, g = spec.exact(A=a, B=np.zeros_like(a), cache_dir=tmp_path)
    assert v == 2.0 and np.all(np.isnan(g["A"]))
    v, g = spec.exact(A=a, B=a, cache_dir=tmp_path)
    assert v == 0.0 and np.all(np.isnan(g["A"]))


def test_nuclear_gradient_defined_at_repeated_sigma(tmp_path):
    a = matrices.repeated_sigma1(4, seed=1)
    v, g = get_loss("nuclear").exact(A=a, cache_dir=tmp_path)
    assert v == pytest.approx(np.sum(np.linalg.svd(a, compute_uv=False)), rel=1e-15)
    u, _, vt = np.linalg.svd(a)
    np.testing.assert_allclose(g["A"], u @ vt, atol=1e-15)


def test_value_and_gradient_at_high_kappa_are_the_correctly_rounded_rationals(tmp_path):
    """At κ = 1e15 the float64 answer is mostly noise; the exact one is checked against an
    independent truth: the exact rational det A and A⁻¹ of the input's bits (python-flint's fmpq
    matrices, no balls, no precision loop), rounded once to float64."""
    from fractions import Fraction

    import mpmath
    from flint import fmpq, fmpq_mat

    spec = get_loss("logdet")
    x = spec.sample(8, kappa=1e15, seed=3)
    a = x["A"]
    assert np.linalg.cond(a) > 1e14
    res = spec.exact_result(cache_dir=tmp_path, **x)
    q = fmpq_mat(8, 8, [fmpq(*Fraction(float(v)).as_integer_ratio()) for v in a.ravel()])
    d = q.det()
    with mpmath.workdps(80):
        truth = float(-mpmath.log(abs(mpmath.mpf(int(d.p)) / int(d.q))))
    assert res.value == truth
    inv = q.inv()
    grad = np.array([[-float(Fraction(int(inv[j, i].p), int(inv[j, i].q))) for j in range(8)] for i in range(8)])  # -A^-T
    np.testing.assert_array_equal(res.grads["A"], grad)


def test_batch_sums_values(tmp_path):
    spec = get_loss("logdet_divergence")
    x = spec.sample(4, batch=(3,), seed=2)
    v, g = spec.exact(cache_dir=tmp_path, **x)
    parts = [spec.exact(cache_dir=tmp_path, P=x["P"][i], T=x["T"][i]) for i in range(3)]
    assert v == pytest.approx(sum(p[0] for p in parts), rel=1e-15)
    np.testing.assert_array_equal(g["P"][1], parts[1][1]["P"])


def test_cache_dir_argument_env_and_hit(tmp_path, monkeypatch):
    spec = get_loss("det")
    x = spec.sample(16, seed=5)
    first = spec.exact_result(cache_dir=tmp_path / "arg", **x)
    assert not first.cached and list((tmp_path / "arg").rglob("*.npz"))
    t0 = time.perf_counter()
    again = spec.exact_result(cache_dir=tmp_path / "arg", **x)
    assert again.cached and time.perf_counter() - t0 < 0.5
    assert again.value == first.value and np.array_equal(again.grads["A"], first.grads["A"])
    monkeypatch.setenv("MATLOSS_CACHE_DIR", str(tmp_path / "env"))
    assert exact.default_cache_dir() == tmp_path / "env"
    spec.exact(**x)
    assert list((tmp_path / "env").rglob("*.npz"))
    # a different bit pattern is a different key
    y = dict(x, A=np.nextafter(x["A"], np.inf))
    assert exact.cache_key(spec, x) != exact.cache_key(spec, y)


def test_default_cache_dir_outside_source_tree(monkeypatch):
    monkeypatch.delenv("MATLOSS_CACHE_DIR", raising=False)
    monkeypatch.delenv("XDG_CACHE_HOME", raising=False)
    d = exact.default_cache_dir()
    assert "matloss" in str(d) and not str(d).startswith(str(exact.__file__).rsplit("/", 2)[0])


def test_kappa_exact():
    assert exact.kappa(np.diag([4.0, 2.0, 0.5])) == pytest.approx(8.0, rel=1e-14)
    assert exact.kappa(np.diag([1.0, 0.0])) == math.inf
    a = matrices.randsvd(7, 4, kappa=1e9, seed=0)
    assert exact.kappa(a) == pytest.approx(1e9, rel=1e-3)


def test_the_default_exact_cache_is_under_the_user_cache_directory(monkeypatch, tmp_path):
    from pathlib import Path

    from matloss_ref.exact import default_cache_dir

    monkeypatch.delenv("MATLOSS_CACHE_DIR", raising=False)
    monkeypatch.delenv("XDG_CACHE_HOME", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    assert default_cache_dir() == tmp_path / ".cache" / "matloss" / "exact"
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert default_cache_dir() == tmp_path / "xdg" / "matloss" / "exact"
    monkeypatch.setenv("MATLOSS_CACHE_DIR", str(tmp_path / "mine"))
    assert default_cache_dir() == Path(tmp_path / "mine")


def test_the_result_records_log2_of_value_and_largest_gradient_entry():
    # logdet loss -log det A at diag(2, 4, 8): value -6 ln 2, gradient -A^-T = -diag(1/2, 1/4, 1/8)
    res = exact.compute(get_loss("logdet"), {"A": np.diag([2.0, 4.0, 8.0])}, (), use_cache=False)
    assert res.log2_grad == -1.0
    assert res.log2_value == pytest.approx(math.log2(6 * math.log(2)), abs=1e-12)
    assert res.representable("float32") and res.representable("float64")


def test_representable_is_the_dtype_range_of_value_and_gradient():
    # at diag(2^200, 1, 1) the largest gradient entry is 1 and the smallest nonzero one 2^-200, but
    # representable looks at the largest: fine in both; at 2^-200 I the gradient is 2^200
    big = exact.compute(get_loss("logdet"), {"A": np.eye(2) * 2.0**-200}, (), use_cache=False)
    assert big.log2_grad == 200.0
    assert big.representable("float64") and not big.representable("float32")
    small = exact.ExactResult(value=1.0, grads={}, scale=1.0, prec=64, seconds=0.0, log2_value=-140.0, log2_grad=-1.0)
    assert small.representable("float32")  # 2^-140 is a float32 subnormal
    small.log2_value = -150.0  # below float32's smallest subnormal 2^-149
    assert not small.representable("float32") and small.representable("float64")


def test_exact_rational_refuses_a_ball_that_is_not_exact():
    from flint import arb, arb_mat

    assert exact.exact_rational(arb_mat(1, 2, [arb(0.75), arb(-3)])).entries() == [exact.fmpq(3, 4), -3]
    with pytest.raises(exact.NeedsPrecision, match="matrix entries are not exact"):
        exact.exact_rational(arb_mat(1, 1, [arb(1, 0.5)]))


def test_kappa_of_orthogonal_and_of_condition_beyond_float64_precision():
    assert exact.kappa(np.eye(3)) == 1.0
    assert exact.kappa(np.eye(4, 2)) == 1.0  # tall with orthonormal columns
    # [[1 + e, 1], [1, 1 - e]], e = 2^-52: exact float64 entries, det = -2^-104, eigenvalues
    # 1 ± sqrt(1 + 2^-104), so kappa = (s + 1) / (s - 1) with s = sqrt(1 + 2^-104), about 8e31
    # (mpmath at 400 bits). float64's own estimate is off by 13 orders of magnitude (or infinite), so the start
    # precision is too low and kappa must raise it until the inverse's ball is tight
    import mpmath

    e = 2.0**-52
    a = np.array([[1 + e, 1.0], [1.0, 1 - e]])
    with mpmath.workprec(400):
        s = mpmath.sqrt(1 + mpmath.mpf(2) ** -104)
        truth = float((s + 1) / (s - 1))
    est = np.linalg.cond(a)  # LAPACK builds differ: a tiny smallest singular value, or exactly 0 (inf)
    assert not np.isfinite(est) or est < truth * 1e-10
    assert exact.kappa(a) == pytest.approx(truth, rel=1e-14)


def test_sym_eig_sorts_descending_with_the_largest_entry_of_each_vector_positive():
    from flint import arb_mat

    lam, vecs = exact.sym_eig(arb_mat([[3, 0, 0], [0, -1, 0], [0, 0, 2]]))
    assert [float(x.mid()) for x in lam] == [3.0, 2.0, -1.0]
    mid, _ = exact.from_arb(vecs)
    np.testing.assert_allclose(mid, [[1, 0, 0], [0, 0, 1], [0, 1, 0]], atol=1e-15)
