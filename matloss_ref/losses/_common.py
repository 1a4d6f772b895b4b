"""Small helpers shared by the loss modules (float reference side and high-precision side)."""

from __future__ import annotations

import numpy as np
from flint import arb, arb_mat

from .. import exact as hp

LOG_2PI = float(np.log(2.0 * np.pi))


def eye_like(a: np.ndarray, n: int | None = None) -> np.ndarray:
    return np.eye(a.shape[-1] if n is None else n, dtype=a.dtype)


def gram(a: np.ndarray) -> np.ndarray:
    """``AᵀA`` for a tall (or square) matrix, ``AAᵀ`` for a wide one: the ν×ν Gram matrix."""
    return a.T @ a if a.shape[0] >= a.shape[1] else a @ a.T


def const(x: float) -> arb:
    """A decimal constant such as λ = 0.1, read as the decimal it is written as, at the working precision."""
    return arb(repr(float(x)))


def hp_gram(a: arb_mat) -> tuple[arb_mat, bool]:
    """(Gram matrix, tall?) in high precision."""
    tall = a.nrows() >= a.ncols()
    return (a.transpose() * a if tall else a * a.transpose()), tall


def hp_top_direction(a: arb_mat) -> tuple[arb, arb_mat | None]:
    """σ₁² of ``a`` and ``u₁v₁ᵀ·σ₁`` (i.e. ``A v vᵀ`` or ``u uᵀ A``); None when σ₁ is not simple."""
    g, tall = hp_gram(a)
    lam, vecs = hp.sym_eig(g)
    if not hp.is_simple_top(lam):
        return lam[0], None
    n = g.nrows()
    v = arb_mat(n, 1, [vecs[i, 0] for i in range(n)])
    return lam[0], (a * v * v.transpose() if tall else v * v.transpose() * a)


def hp_is_zero(m: arb_mat) -> bool:
    return all(e.is_zero() for e in m.entries())


def top_gap_ok(u: float, *mats: np.ndarray) -> bool:
    """σ₁ of the (difference of the) matrices is separated from σ₂ by far more than rounding."""
    d = mats[0] - mats[1] if len(mats) == 2 else mats[0]
    s = np.linalg.svd(d, compute_uv=False)
    return s.size < 2 or (s[0] - s[1]) > 1e4 * u * max(s[0], np.finfo(float).tiny) * max(d.shape)
