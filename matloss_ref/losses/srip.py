"""srip: λ‖WᵀW − I‖₂ = λ maxᵢ|σᵢ(W)² − 1| (λ = 1), the spectral restricted isometry penalty, from exact singular values."""

from __future__ import annotations

import numpy as np
import scipy.linalg as sl

from .. import exact as hp
from ..spec import Arg, LossSpec
from .soft_orthogonality import sample_tall, tall

LAMBDA = 1.0


def _parts(W):
    _, s, vt = sl.svd(W, full_matrices=False, check_finite=False)
    e = (s - 1) * (s + 1)  # σ² − 1 without the cancellation of σ·σ − 1
    i = int(np.argmax(np.abs(e)))
    return e[i], vt[i]


def well_posed(u, W):
    """The top |σᵢ² − 1| is separated from the next by far more than rounding."""
    s = np.linalg.svd(W, compute_uv=False)
    e = np.sort(np.abs((s - 1) * (s + 1)))[::-1]
    return e.size < 2 or (e[0] - e[1]) > 1e4 * u * (s[0] ** 2 + 1) * max(W.shape)


def value(W):
    e, _ = _parts(W)
    return W.dtype.type(LAMBDA) * abs(e)


def grad(W):
    e, v = _parts(W)
    return {"W": W.dtype.type(2 * LAMBDA) * np.sign(e) * np.outer(W @ v, v)}


def terms(W):
    return LAMBDA * (sl.svdvals(W, check_finite=False)[0] ** 2 + 1)


def exact(W):
    lam = hp.const(LAMBDA)
    g = W.transpose() * W - hp.identity(W.ncols())
    ev, vecs = hp.sym_eig(g)
    n = g.nrows()
    j = 0 if abs(ev[0]) > abs(ev[-1]) or n == 1 else n - 1
    value = lam * abs(ev[j])
    if ev[j].contains(0):
        return value, None  # W orthogonal: |·| has its kink at 0
    if any(abs(ev[i]).overlaps(abs(ev[j])) for i in range(n) if i != j):
        return value, None  # the top |eigenvalue| is not simple: no gradient
    s = 1 if ev[j] > 0 else -1
    v = type(g)(n, 1, [vecs[i, j] for i in range(n)])
    return value, {"W": W * v * v.transpose() * (lam * 2 * s)}


def split(W):
    """At an exact tie of the top |σᵢ² − 1| (one sign): 2λ·s·W·(1/k)·P over the k tied eigenvectors."""
    lam = hp.const(LAMBDA)
    g = W.transpose() * W - hp.identity(W.ncols())
    tie = hp.tied_top(g, by_magnitude=True)
    if tie is None:
        return None
    top, proj, k = tie
    if top.contains(0):
        return None  # W orthogonal: the kink of |·| at 0, no even split
    s = 1 if top > 0 else -1
    return lam * abs(top), {"W": W * proj * (lam * 2 * s / k)}


def torch():
    import torch

    def srip(W):
        s = torch.linalg.svdvals(W)
        e = (s - 1) * (s + 1)  # sigma^2 - 1 without the cancellation of sigma*sigma - 1
        return LAMBDA * e.abs().amax(dim=-1).sum()

    return srip


def jax():
    import jax.numpy as jnp

    def srip(W):
        s = jnp.linalg.svdvals(W)
        e = (s - 1) * (s + 1)
        return LAMBDA * jnp.sum(jnp.max(jnp.abs(e), axis=-1))

    return srip


def tensorflow():
    import tensorflow as tf

    def srip(W):
        s = tf.linalg.svd(W, compute_uv=False)
        e = (s - 1) * (s + 1)
        return tf.constant(LAMBDA, dtype=W.dtype) * tf.reduce_sum(tf.reduce_max(tf.abs(e), axis=-1))

    return srip


LOSS = LossSpec(
    name="srip", family="orthogonality", formula="lambda ||W^T W - I||_2 = lambda max_i |sigma_i(W)^2 - 1|",
    gradient="2 lambda s W v v^T (v: unit eigenvector of the top-|.| eigenvalue of W^T W - I, s its sign)",
    args=(Arg("W", "matrix", "mn"),),
    value_fn=value, grad_fn=grad, hp_fn=exact, sampler=sample_tall, terms_fn=terms, domain_check=tall,
    kappa_governed=True, value_metric="scaled", svd_based=True, well_posed_fn=well_posed, constants={"lambda": LAMBDA},
    nonsmooth_at="top |eigenvalue| of W^T W - I not simple", split_fn=split,
    value_slope=0.0, grad_slope=0.0,
    implementations={"torch": torch, "jax": jax, "tensorflow": tensorflow},
)
