"""det: −det A, a polynomial in the entries: defined, with gradient −cof(A), everywhere (singular A included)."""

from __future__ import annotations

import numpy as np
import scipy.linalg as sl
from flint import arb, arb_mat, fmpz_mat

from .. import exact as hp
from ..matrices import randsvd_from
from ..spec import Arg, LossSpec
from .logdet import lu_slogdet


def exclusive_products(s: np.ndarray) -> np.ndarray:
    """``p[i] = Π_{j≠i} s[j]`` for singular values ``s >= 0``, without forming a running product.

    A running product of the largest singular values overflows long before the result does (a
    float32 128×128 matrix with |det| = 1 and κ = 1e3 already). Here each product is
    ``exp(Σ_j log s_j − log s_i)``, which overflows only where the result itself is not
    representable; a zero singular value makes every other product 0 and its own the product of the
    rest (two or more zeros: all 0).
    """
    zero = s == 0
    with np.errstate(divide="ignore"):
        logs = np.log(np.where(zero, 1, s))
    total = np.sum(logs)
    if zero.sum() >= 2:
        return np.zeros_like(s)
    if zero.any():
        return np.where(zero, np.exp(total), 0).astype(s.dtype)
    return np.exp(total - logs).astype(s.dtype)


def cofactor(a: np.ndarray) -> np.ndarray:
    """cof(A) through the SVD adjugate det(U)det(V)·U·diag(Π_{j≠i}σⱼ)·Vᵀ: no division, exact at singular A."""
    u, s, vt = sl.svd(a, check_finite=False)
    sign = s.dtype.type(lu_slogdet(u)[0] * lu_slogdet(vt)[0])  # ±1 in the working dtype: float32 stays float32
    return (sign * (u * exclusive_products(s))) @ vt


def value(A):
    sign, logabs = lu_slogdet(A)
    return -(sign * np.exp(logabs))


def grad(A):
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


def exact(A):
    d = hp.det(A)
    if d.is_zero():
        return arb(0), {"A": -_cofactor_exact(A)}
    return -d, {"A": -(hp.inv(A).transpose() * d)}


def sample(n, m, kappa, mode, rng):
    return {"A": randsvd_from(rng, n, n, kappa, mode, positive_det=True)}


def torch():
    import torch

    def det(A):
        return -torch.linalg.det(A).sum()

    return det


def jax():
    import jax.numpy as jnp

    def det(A):
        return -jnp.sum(jnp.linalg.det(A))

    return det


def tensorflow():
    import tensorflow as tf

    def det(A):
        return -tf.reduce_sum(tf.linalg.det(A))

    return det


LOSS = LossSpec(
    name="det", family="determinant", formula="-det A", gradient="-cof(A) (= -det(A) A^-T when invertible)",
    args=(Arg("A", "square", "nn"),),
    value_fn=value, grad_fn=grad, hp_fn=exact, sampler=sample,
    kappa_governed=True, nonsmooth_at="nowhere (polynomial)",
    scale_inputs=('A',), scale_power=1,
    value_slope=1.0, grad_slope=1.0,
    implementations={"torch": torch, "jax": jax, "tensorflow": tensorflow},
)
