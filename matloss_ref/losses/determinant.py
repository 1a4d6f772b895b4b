"""Determinant and log-determinant losses: det, logdet_naive, logdet, logdet_spd."""

from __future__ import annotations

import numpy as np
import scipy.linalg as sl
from flint import arb, arb_mat, fmpz_mat

from .. import exact as hp
from ..matrices import randsvd_from, spd_from
from ..registry import Arg, LossSpec, register
from ..validation import positive_det

A_SQ = (Arg("A", "square", "nn"),)


def _lu_slogdet(a: np.ndarray) -> tuple[float, float]:
    """(sign, log|det|) from an LU factorisation in the working dtype."""
    lu, piv = sl.lu_factor(a, check_finite=False)
    d = np.diag(lu)
    swaps = np.count_nonzero(piv != np.arange(piv.size))
    sign = (-1.0) ** swaps * np.prod(np.sign(d))
    with np.errstate(divide="ignore"):
        return sign, np.sum(np.log(np.abs(d)))


def cofactor(a: np.ndarray) -> np.ndarray:
    """cof(A) through the SVD adjugate det(U)det(V)·U·diag(Π_{j≠i}σⱼ)·Vᵀ: no division, exact at singular A."""
    u, s, vt = sl.svd(a, check_finite=False)
    n = s.size
    ones = np.ones(1, dtype=s.dtype)
    before = np.concatenate([ones, np.cumprod(s[:-1])]) if n > 1 else ones
    after = np.concatenate([np.cumprod(s[::-1][:-1])[::-1], ones]) if n > 1 else ones
    sign = _lu_slogdet(u)[0] * _lu_slogdet(vt)[0]
    return (sign * (u * (before * after))) @ vt


# -- det ------------------------------------------------------------------------------------
def det_value(A):
    sign, logabs = _lu_slogdet(A)
    return -(sign * np.exp(logabs))


def det_grad(A):
    return {"A": -cofactor(A)}


def _cofactor_exact(a: arb_mat) -> arb_mat:
    """cof(A) of an exactly singular A: zero at rank <= n-2, else α·y·xᵀ from the null vectors."""
    n = a.nrows()
    if n == 1:
        return arb_mat([[1]])
    q = hp.exact_rational(a)
    num, den = q.numer_denom()
    m = fmpz_mat(num)  # q = num / den with a common denominator
    if m.rank() <= n - 2:
        return arb_mat(n, n)
    x, _ = m.nullspace()  # columns span {x : M x = 0}
    y, _ = m.transpose().nullspace()
    xs = [x[i, 0] for i in range(n)]
    ys = [y[i, 0] for i in range(n)]
    i = next(k for k in range(n) if xs[k] != 0)
    j = next(k for k in range(n) if ys[k] != 0)
    # adj(M)[i, j] = (-1)^(i+j) det(M without row j and column i) = α x_i y_j
    rows = [r for r in range(n) if r != j]
    cols = [c for c in range(n) if c != i]
    minor = fmpz_mat(n - 1, n - 1, [m[r, c] for r in rows for c in cols]).det()
    alpha = arb((-1) ** (i + j) * minor) / (arb(xs[i]) * arb(ys[j]))
    # cof(M) = adj(M)ᵀ = α y xᵀ, and cof(q) = cof(M) / den^(n-1)
    scale = alpha / arb(den) ** (n - 1)
    return arb_mat(n, n, [scale * arb(ys[r]) * arb(xs[c]) for r in range(n) for c in range(n)])


def det_hp(A):
    d = hp.det(A)
    if d.is_zero():
        return arb(0), {"A": -_cofactor_exact(A)}
    return -d, {"A": -(hp.inv(A).transpose() * d)}


# -- logdet, logdet_naive -------------------------------------------------------------------
def logdet_value(A):
    return -_lu_slogdet(A)[1]


def logdet_grad(A):
    lu = sl.lu_factor(A, check_finite=False)
    return {"A": -sl.lu_solve(lu, np.eye(A.shape[0], dtype=A.dtype), trans=1, check_finite=False)}


def logdet_naive_value(A):
    with np.errstate(divide="ignore", invalid="ignore"):
        return -np.log(sl.det(A, check_finite=False))


def logdet_naive_grad(A):
    return {"A": -sl.inv(A, check_finite=False).T}


def logdet_hp(A):
    d = hp.det(A)
    if d.is_zero():
        return arb.pos_inf(), None
    return -abs(d).log(), {"A": -hp.inv(A).transpose()}


# -- logdet_spd -----------------------------------------------------------------------------
def logdet_spd_value(S):
    c = sl.cholesky(S, lower=True, check_finite=False)
    return -2.0 * np.sum(np.log(np.diag(c)))


def logdet_spd_grad(S):
    c = sl.cholesky(S, lower=True, check_finite=False)
    return {"S": -sl.cho_solve((c, True), np.eye(S.shape[0], dtype=S.dtype), check_finite=False)}


def logdet_spd_hp(S):
    return -hp.det(S).log(), {"S": -hp.inv(S)}


def _square(positive: bool):
    return lambda n, m, kappa, mode, rng: {"A": randsvd_from(rng, n, n, kappa, mode, positive_det=positive)}


register(LossSpec(
    name="det", family="determinant", formula="-det A", args=A_SQ,
    value_fn=det_value, grad_fn=det_grad, hp_fn=det_hp, sampler=_square(True),
    kappa_governed=True, nonsmooth_at="nowhere (polynomial)",
))
register(LossSpec(
    name="logdet_naive", family="determinant", formula="-log(det A)", args=A_SQ,
    value_fn=logdet_naive_value, grad_fn=logdet_naive_grad, hp_fn=logdet_hp, sampler=_square(True),
    kappa_governed=True, value_metric="absolute", domain_check=positive_det("A"), naive_of="logdet",
    nonsmooth_at="det <= 0; det under/overflows",
))
register(LossSpec(
    name="logdet", family="determinant", formula="-log|det A|", args=A_SQ,
    value_fn=logdet_value, grad_fn=logdet_grad, hp_fn=logdet_hp, sampler=_square(False),
    kappa_governed=True, value_metric="absolute", nonsmooth_at="singular A",
))
register(LossSpec(
    name="logdet_spd", family="determinant", formula="-log det S = -2 sum(log L_ii)",
    args=(Arg("S", "spd", "nn"),),
    value_fn=logdet_spd_value, grad_fn=logdet_spd_grad, hp_fn=logdet_spd_hp,
    sampler=lambda n, m, kappa, mode, rng: {"S": spd_from(rng, n, kappa, mode)},
    kappa_governed=True, value_metric="absolute", nonsmooth_at="S not positive definite",
))
