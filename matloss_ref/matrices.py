"""Seeded test-matrix generators.

Every generator takes an explicit ``seed`` and returns the same bits for the same
arguments on every run (numpy's PCG64 stream, seeded through ``SeedSequence``).
Matrices are built in float64 and rounded once to the requested dtype; after that
rounding the stored matrix *is* the test case (its true condition number is
recomputed from its bits by :func:`matloss_ref.exact.kappa`).

Singular-value modes follow LAPACK's ``xLATMS`` / MATLAB's ``randsvd``:

====  ===================================================
mode  singular values (before normalisation, largest 1)
====  ===================================================
1     one large: ``1, 1/κ, …, 1/κ``
2     one small: ``1, …, 1, 1/κ``
3     geometric: ``κ^(-(i-1)/(ν-1))`` (the default)
4     arithmetic: ``1 - (i-1)/(ν-1)·(1 - 1/κ)``
5     log-uniform random in ``(1/κ, 1)``, then sorted, ends pinned
====  ===================================================

By default the singular values are then scaled so that their product is 1
(``normalize="det"``), which keeps ``|det A| = 1`` representable at any κ and n.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import numpy as np

Normalize = Literal["det", "max"]
DTYPES = ("float32", "float64")

__all__ = [
    "rng_for",
    "haar_orthogonal",
    "singular_values",
    "randsvd",
    "randsvd_from",
    "spd",
    "spd_from",
    "cholesky_factor",
    "orthogonal",
    "diagonal",
    "singular",
    "rank_deficient",
    "repeated_sigma1",
    "zero",
    "badly_scaled",
    "STRUCTURED",
    "structured",
]


def rng_for(seed: int, *stream: int) -> np.random.Generator:
    """A generator for ``seed`` and an optional stream key (e.g. the index of an input).

    Different stream keys give statistically independent streams for the same seed.
    """
    if not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
    return np.random.default_rng(np.random.SeedSequence(int(seed), spawn_key=tuple(int(s) for s in stream)))


def check_dtype(dtype: str | np.dtype) -> np.dtype:
    dt = np.dtype(dtype)
    if dt.name not in DTYPES:
        raise ValueError(f"dtype must be one of {DTYPES}, got {dt.name!r}")
    return dt


def check_kappa(kappa: float) -> float:
    k = float(kappa)
    if not np.isfinite(k) or k < 1.0:
        raise ValueError(f"kappa must be a finite number >= 1, got {kappa!r}")
    return k


def _finish(a: np.ndarray, dtype: str | np.dtype) -> np.ndarray:
    return np.ascontiguousarray(a.astype(check_dtype(dtype)))


def _batched(fn, batch: Sequence[int], rng: np.random.Generator) -> np.ndarray:
    batch = tuple(int(b) for b in batch)
    if any(b < 1 for b in batch):
        raise ValueError(f"batch must hold positive sizes, got {batch!r}")
    if not batch:
        return fn(rng)
    items = [fn(rng) for _ in range(int(np.prod(batch)))]
    return np.stack(items).reshape(batch + items[0].shape)


def haar_orthogonal(n: int, rng: np.random.Generator) -> np.ndarray:
    """An n×n orthogonal matrix drawn from the Haar measure (float64).

    QR of a Gaussian matrix, with each column of Q multiplied by the sign of the
    matching diagonal entry of R; without that fix Q is not Haar-distributed.
    """
    q, r = np.linalg.qr(rng.standard_normal((n, n)))
    d = np.sign(np.diag(r))
    d[d == 0] = 1.0
    return q * d


def singular_values(
    nu: int,
    kappa: float,
    mode: int = 3,
    rng: np.random.Generator | None = None,
    normalize: Normalize = "det",
) -> np.ndarray:
    """``nu`` singular values, largest first, with ratio largest/smallest = ``kappa``."""
    k = check_kappa(kappa)
    if nu < 1:
        raise ValueError(f"nu must be >= 1, got {nu}")
    i = np.arange(nu, dtype=np.float64)
    frac = i / (nu - 1) if nu > 1 else np.zeros(1)
    if mode == 1:
        s = np.full(nu, 1.0 / k)
        s[0] = 1.0
    elif mode == 2:
        s = np.ones(nu)
        s[-1] = 1.0 / k
    elif mode == 3:
        s = k ** (-frac)
    elif mode == 4:
        s = 1.0 - frac * (1.0 - 1.0 / k)
    elif mode == 5:
        if rng is None:
            raise ValueError("mode 5 (log-uniform random) needs rng")
        s = np.sort(np.exp(rng.uniform(-np.log(k), 0.0, nu)))[::-1]
        s[0], s[-1] = 1.0, 1.0 / k
    else:
        raise ValueError(f"mode must be one of 1, 2, 3, 4, 5, got {mode!r}")
    if nu == 1:
        s = np.ones(1)
    if normalize == "det":
        s = s * np.exp(-np.mean(np.log(s)))
    elif normalize != "max":
        raise ValueError(f"normalize must be 'det' or 'max', got {normalize!r}")
    return s


def randsvd(
    m: int,
    n: int | None = None,
    *,
    kappa: float = 100.0,
    mode: int = 3,
    seed: int = 0,
    dtype: str = "float64",
    batch: Sequence[int] = (),
    normalize: Normalize = "det",
    positive_det: bool = False,
    stream: int = 0,
) -> np.ndarray:
    """``U·diag(s)·Vᵀ`` of shape ``(*batch, m, n)`` with Haar U, V and 2-norm condition ``kappa``.

    ``positive_det`` (square only) flips one column of U if needed so that det > 0.
    """
    n = m if n is None else n
    if m < 1 or n < 1:
        raise ValueError(f"matrix sizes must be >= 1, got m={m}, n={n}")
    if positive_det and m != n:
        raise ValueError("positive_det needs a square matrix")
    one = lambda rng: randsvd_from(rng, m, n, kappa, mode, normalize, positive_det)  # noqa: E731
    return _finish(_batched(one, batch, rng_for(seed, stream)), dtype)


def randsvd_from(
    rng: np.random.Generator,
    m: int,
    n: int,
    kappa: float,
    mode: int = 3,
    normalize: Normalize = "det",
    positive_det: bool = False,
) -> np.ndarray:
    """One float64 ``randsvd`` matrix drawn from ``rng``."""
    nu = min(m, n)
    qu = haar_orthogonal(m, rng)
    u = qu[:, :nu]
    v = haar_orthogonal(n, rng)[:, :nu]
    s = singular_values(nu, kappa, mode, rng, normalize)
    if positive_det and np.linalg.det(qu) * np.linalg.det(v) < 0:
        u[:, -1] = -u[:, -1]
    return (u * s) @ v.T


def spd_from(rng: np.random.Generator, n: int, kappa: float, mode: int = 3, normalize: Normalize = "det") -> np.ndarray:
    """One float64 SPD matrix ``Q·diag(λ)·Qᵀ``, symmetrised exactly, drawn from ``rng``."""
    q = haar_orthogonal(n, rng)
    lam = singular_values(n, kappa, mode, rng, normalize)
    s = (q * lam) @ q.T
    return (s + s.T) / 2.0


def spd(
    n: int,
    *,
    kappa: float = 100.0,
    mode: int = 3,
    seed: int = 0,
    dtype: str = "float64",
    batch: Sequence[int] = (),
    normalize: Normalize = "det",
    stream: int = 0,
) -> np.ndarray:
    """Symmetric positive definite ``Q·diag(λ)·Qᵀ``, symmetrised exactly, eigenvalue ratio ``kappa``."""

    one = lambda rng: spd_from(rng, n, kappa, mode, normalize)  # noqa: E731
    s = _batched(one, batch, rng_for(seed, stream)).astype(check_dtype(dtype))
    # rounding is entry-wise, so symmetry survives it; re-symmetrise anyway to be explicit
    return np.ascontiguousarray((s + np.swapaxes(s, -1, -2)) / 2)


def cholesky_factor(
    n: int,
    *,
    kappa: float = 100.0,
    mode: int = 3,
    seed: int = 0,
    dtype: str = "float64",
    batch: Sequence[int] = (),
    stream: int = 0,
) -> np.ndarray:
    """Lower-triangular L with positive diagonal, the Cholesky factor of an SPD S with κ(S) = ``kappa``.

    So ``κ(L) = √kappa`` and the covariance ``LLᵀ`` has condition number ``kappa``.
    """
    s = spd(n, kappa=kappa, mode=mode, seed=seed, dtype="float64", batch=batch, stream=stream)
    lo = np.tril(np.linalg.cholesky(s))
    return _finish(lo, dtype)


def orthogonal(n: int, *, seed: int = 0, dtype: str = "float64", batch: Sequence[int] = (), stream: int = 0):
    """A Haar-random orthogonal matrix (rounded to ``dtype``)."""
    return _finish(_batched(lambda r: haar_orthogonal(n, r), batch, rng_for(seed, stream)), dtype)


def diagonal(n: int, *, kappa: float = 100.0, mode: int = 3, seed: int = 0, dtype: str = "float64"):
    """``diag(s)`` with the randsvd singular values of ``mode``."""
    return _finish(np.diag(singular_values(n, kappa, mode, rng_for(seed))), dtype)


_PIVOT = {"first": lambda n: 0, "middle": lambda n: n // 2, "last": lambda n: n - 1}


def _integer_lu_matrix(d: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """``Lo·diag(p)·Up``: Lo and Upᵀ unit lower-triangular with entries in {0, ±1/2}, and pivots
    p = 2^(i mod 3) where ``d`` is nonzero, 0 where it is 0. Every entry is a small multiple of 1/4,
    exact in float32.

    Because the off-diagonal factors are at most 1/2, LU with partial pivoting swaps no rows — of A
    and of Aᵀ (a row-major library hands LAPACK the transpose) — and because the pivots are powers
    of two its multipliers (LAPACK scales by the reciprocal pivot) and every partial sum are exact:
    floating-point LU recovers exactly these factors, so a zero pivot stays exactly zero, at its
    position, for any LU a framework runs.
    """
    n = d.size
    d = np.where(d != 0, 2.0 ** (np.arange(n) % 3), 0.0)
    lo = np.tril(rng.integers(-1, 2, (n, n)) * 0.5, -1) + np.eye(n)
    up = np.triu(rng.integers(-1, 2, (n, n)) * 0.5, 1) + np.eye(n)
    a = lo @ np.diag(d.astype(np.float64)) @ up
    if np.abs(a).max() >= 2**22:
        raise ValueError("matrix too large for exact construction; use n <= 64")
    return a


def singular(
    n: int,
    zero_at: Literal["first", "middle", "last"] = "last",
    *,
    dense: bool = False,
    seed: int = 0,
    dtype: str = "float64",
) -> np.ndarray:
    """An exactly singular matrix of rank n−1.

    ``dense=False``: ``diag(1, 2, …, n)`` with the entry at ``zero_at`` set to 0
    (e.g. ``diag(1, 2, 0, 4)`` for n = 4, middle): the zero pivot sits where it says
    for any LU. ``dense=True``: ``Lo·D·Up`` with unit-triangular integer factors, so the
    matrix is dense, exactly representable, and its unpivoted LU has the zero pivot at
    ``zero_at``.
    """
    if zero_at not in _PIVOT:
        raise ValueError(f"zero_at must be one of {sorted(_PIVOT)}, got {zero_at!r}")
    if n < 2:
        raise ValueError("a rank n-1 matrix needs n >= 2")
    d = np.arange(1.0, n + 1.0)
    d[_PIVOT[zero_at](n)] = 0.0
    a = _integer_lu_matrix(d, rng_for(seed)) if dense else np.diag(d)
    return _finish(a, dtype)


def rank_deficient(n: int, rank: int, *, dense: bool = True, seed: int = 0, dtype: str = "float64") -> np.ndarray:
    """An exactly representable n×n matrix of exact rank ``rank`` (zeros in the last pivots)."""
    if not 0 <= rank <= n:
        raise ValueError(f"rank must be in [0, {n}], got {rank}")
    d = np.zeros(n)
    d[:rank] = np.arange(1.0, rank + 1.0)
    a = _integer_lu_matrix(d, rng_for(seed)) if dense else np.diag(d)
    return _finish(a, dtype)


def repeated_sigma1(
    m: int, n: int | None = None, *, exact: bool = True, seed: int = 0, dtype: str = "float64"
) -> np.ndarray:
    """A matrix whose largest singular value is repeated (σ₁ = σ₂ = 2).

    ``exact=True``: a signed permutation of ``diag(2, 2, 1, ½, …)``, so the tie is
    exact in floating point. ``exact=False``: Haar ``U·diag(2, 2, …)·Vᵀ`` rounded,
    which breaks the tie at the level of rounding.
    """
    n = m if n is None else n
    nu = min(m, n)
    if nu < 2:
        raise ValueError("a repeated sigma_1 needs min(m, n) >= 2")
    s = np.concatenate([[2.0, 2.0], 2.0 ** -np.arange(0, nu - 2)])
    rng = rng_for(seed)
    if exact:
        a = np.zeros((m, n))
        rows = rng.permutation(m)[:nu]
        cols = rng.permutation(n)[:nu]
        a[rows, cols] = s * rng.choice([-1.0, 1.0], nu)
    else:
        a = (haar_orthogonal(m, rng)[:, :nu] * s) @ haar_orthogonal(n, rng)[:, :nu].T
    return _finish(a, dtype)


def zero(m: int, n: int | None = None, *, dtype: str = "float64") -> np.ndarray:
    """The zero matrix."""
    return _finish(np.zeros((m, m if n is None else n)), dtype)


def badly_scaled(
    n: int,
    scale: Literal["tiny", "huge"] = "tiny",
    *,
    kappa: float = 100.0,
    mode: int = 3,
    seed: int = 0,
    dtype: str = "float64",
) -> np.ndarray:
    """A randsvd matrix scaled by a power of two so that ‖A‖ sits near underflow or overflow.

    float64: 2^-500 / 2^500; float32: 2^-60 / 2^60 (det of an n×n matrix then under/overflows).
    """
    exps = {"float64": 500, "float32": 60}
    e = exps[check_dtype(dtype).name]
    if scale not in ("tiny", "huge"):
        raise ValueError(f"scale must be 'tiny' or 'huge', got {scale!r}")
    a = randsvd(n, kappa=kappa, mode=mode, seed=seed, normalize="max")
    return _finish(np.ldexp(a, -e if scale == "tiny" else e), dtype)


# The structured cases of docs/accuracy.md, by name, for square n×n inputs.
STRUCTURED: dict[str, callable] = {
    "singular_first": lambda n, seed=0, dtype="float64": singular(n, "first", seed=seed, dtype=dtype),
    "singular_middle": lambda n, seed=0, dtype="float64": singular(n, "middle", seed=seed, dtype=dtype),
    "singular_last": lambda n, seed=0, dtype="float64": singular(n, "last", seed=seed, dtype=dtype),
    "singular_dense": lambda n, seed=0, dtype="float64": singular(n, "middle", dense=True, seed=seed, dtype=dtype),
    "rank_n_minus_2": lambda n, seed=0, dtype="float64": rank_deficient(n, n - 2, seed=seed, dtype=dtype),
    "repeated_sigma1": lambda n, seed=0, dtype="float64": repeated_sigma1(n, seed=seed, dtype=dtype),
    "zero": lambda n, seed=0, dtype="float64": zero(n, dtype=dtype),
    "orthogonal": lambda n, seed=0, dtype="float64": orthogonal(n, seed=seed, dtype=dtype),
    "diagonal": lambda n, seed=0, dtype="float64": diagonal(n, seed=seed, dtype=dtype),
    "tiny": lambda n, seed=0, dtype="float64": badly_scaled(n, "tiny", seed=seed, dtype=dtype),
    "huge": lambda n, seed=0, dtype="float64": badly_scaled(n, "huge", seed=seed, dtype=dtype),
}


def structured(name: str, n: int, *, seed: int = 0, dtype: str = "float64") -> np.ndarray:
    """One of the named structured cases in :data:`STRUCTURED`."""
    try:
        fn = STRUCTURED[name]
    except KeyError:
        raise KeyError(f"unknown structured case {name!r}; known: {', '.join(STRUCTURED)}") from None
    return fn(n, seed=seed, dtype=dtype)
