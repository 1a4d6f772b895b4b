"""Seeded generators: achieved κ, SPD-ness, exact structure, reproducibility."""

from __future__ import annotations

import numpy as np
import pytest

from matloss_ref import matrices as M
from matloss_ref.exact import kappa


@pytest.mark.parametrize("mode", [1, 2, 3, 4, 5])
@pytest.mark.parametrize("k", [1e1, 1e4, 1e8, 1e12])
def test_randsvd_kappa_float64(mode, k):
    a = M.randsvd(12, kappa=k, mode=mode, seed=3)
    assert kappa(a) == pytest.approx(k, rel=0.01)


@pytest.mark.parametrize("shape", [(9, 5), (5, 9)])
def test_randsvd_rectangular(shape):
    a = M.randsvd(*shape, kappa=1e6, seed=2)
    assert a.shape == shape
    assert kappa(a) == pytest.approx(1e6, rel=0.01)


def test_randsvd_float32_and_batch():
    a = M.randsvd(6, kappa=1e4, seed=1, dtype="float32", batch=(2, 3))
    assert a.dtype == np.float32 and a.shape == (2, 3, 6, 6)
    assert kappa(a[1, 2]) == pytest.approx(1e4, rel=0.01)


def test_singular_values_product_one_and_modes():
    for mode in (1, 2, 3, 4):
        s = M.singular_values(7, 1e5, mode)
        assert s[0] / s[-1] == pytest.approx(1e5)
        assert np.prod(s) == pytest.approx(1.0)
        assert np.all(np.diff(s) <= 0)
    with pytest.raises(ValueError, match="mode"):
        M.singular_values(4, 10.0, 7)


def test_haar_sign_fix():
    q = M.haar_orthogonal(6, M.rng_for(0))
    assert np.allclose(q.T @ q, np.eye(6), atol=1e-14)


@pytest.mark.parametrize("k", [1e1, 1e6, 1e12])
def test_spd_is_spd(k):
    s = M.spd(10, kappa=k, seed=4)
    assert np.array_equal(s, s.T)
    np.linalg.cholesky(s)
    assert kappa(s) == pytest.approx(k, rel=0.01)
    lo = M.cholesky_factor(10, kappa=k, seed=4)
    assert np.array_equal(lo, np.tril(lo)) and np.all(np.diag(lo) > 0)


def test_same_seed_same_bits_different_seed_differs():
    for fn in (lambda s: M.randsvd(5, kappa=10, seed=s, mode=5), lambda s: M.spd(5, seed=s), lambda s: M.orthogonal(5, seed=s)):
        assert fn(11).tobytes() == fn(11).tobytes()
        assert fn(11).tobytes() != fn(12).tobytes()


@pytest.mark.parametrize("where, idx", [("first", 0), ("middle", 2), ("last", 4)])
def test_singular_zero_pivot(where, idx):
    a = M.singular(5, where)
    assert a[idx, idx] == 0 and np.linalg.matrix_rank(a) == 4
    dense = M.singular(5, where, dense=True, seed=1)
    assert np.all(dense * 4 == np.round(dense * 4)) and np.linalg.matrix_rank(dense) == 4  # multiples of 1/4: exact
    assert np.count_nonzero(dense) > 5
    # its LU keeps the zero pivot exactly where it says, for A and for Aᵀ, in float32 too
    import scipy.linalg as sl

    for a in (dense, dense.T, dense.astype(np.float32)):
        lu, piv = sl.lu_factor(a)
        assert np.diag(lu)[idx] == 0 and np.count_nonzero(np.diag(lu)) == 4 and (piv == np.arange(5)).all()


def test_rank_deficient_and_repeated_and_zero():
    assert np.linalg.matrix_rank(M.rank_deficient(6, 4)) == 4
    s = np.linalg.svd(M.repeated_sigma1(6, seed=2), compute_uv=False)
    assert s[0] == s[1] == 2.0
    s = np.linalg.svd(M.repeated_sigma1(6, exact=False, seed=2), compute_uv=False)
    assert s[0] == pytest.approx(s[1], rel=1e-14)
    assert not M.zero(3, 4).any() and M.zero(3, 4).shape == (3, 4)


def test_badly_scaled():
    tiny = M.badly_scaled(4, "tiny")
    huge = M.badly_scaled(4, "huge", dtype="float32")
    assert np.linalg.norm(tiny, 2) == pytest.approx(2.0**-500)
    assert np.linalg.norm(huge.astype(np.float64), 2) == pytest.approx(2.0**60, rel=1e-6)


def test_structured_registry():
    for name in M.STRUCTURED:
        a = M.structured(name, 5)
        assert a.shape == (5, 5)
    with pytest.raises(KeyError, match="singular_first"):
        M.structured("nope", 5)


def test_bad_generator_arguments():
    with pytest.raises(ValueError, match="kappa"):
        M.randsvd(4, kappa=0.5)
    with pytest.raises(ValueError, match="dtype"):
        M.randsvd(4, dtype="int32")
    with pytest.raises(ValueError, match="seed"):
        M.randsvd(4, seed=-1)


def test_a_rank_n_minus_1_matrix_needs_n_at_least_2():
    with pytest.raises(ValueError, match=r"rank n-1 matrix needs n >= 2"):
        M.singular(1)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_the_zero_matrix_has_the_requested_dtype_and_shape(dtype):
    from matloss_ref.matrices import zero

    z = zero(2, 3, dtype=dtype)
    assert z.dtype == np.dtype(dtype) and z.shape == (2, 3) and not z.any()
    assert zero(4, dtype=dtype).shape == (4, 4)


def test_a_batch_of_one_has_the_batch_axis():
    a = M.randsvd(4, kappa=10.0, batch=(1,))
    assert a.shape == (1, 4, 4)
    np.testing.assert_allclose(np.linalg.cond(a[0]), 10.0, rtol=1e-10)


def test_the_random_diagonal_follows_its_seed():
    one = M.diagonal(6, kappa=1e3, mode=5, seed=3)
    np.testing.assert_array_equal(one, M.diagonal(6, kappa=1e3, mode=5, seed=3))
    assert not np.array_equal(one, M.diagonal(6, kappa=1e3, mode=5, seed=4))


def test_rng_streams_differ_from_each_other_and_from_no_stream():
    draws = {s: M.rng_for(7, *s).random(4).tobytes() for s in [(), (1,), (2,), (1, 2)]}
    assert len(set(draws.values())) == 4
    assert M.rng_for(7, 1).random(4).tobytes() == draws[(1,)]


def test_repeated_sigma1_refuses_a_single_row_or_column():
    with pytest.raises(ValueError, match="a repeated sigma_1 needs min"):
        M.repeated_sigma1(1)
    with pytest.raises(ValueError, match="a repeated sigma_1 needs min"):
        M.repeated_sigma1(4, 1)
