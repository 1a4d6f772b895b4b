"""soft_orthogonality: λ‖WᵀW − I‖_F² (λ = 1) for a tall W; cancels near an orthogonal W."""

from __future__ import annotations

import numpy as np

from .. import exact as hp
from ..matrices import randsvd_from
from ..spec import Arg, LossSpec
from ..validation import fail

LAMBDA = 1.0
#: samples are drawn at singular-value geometric mean 2, so that κ = 1 is not a minimiser (an
#: orthogonal W); the near-orthogonal regime is the structured "orthogonal" case
W_SCALE = 2.0


def tall(loss, arrays):
    """W must have at least as many rows as columns (a wide W has no orthonormal columns)."""
    w = arrays["W"]
    if w.shape[0] < w.shape[1]:
        fail(loss, "W", f"must have at least as many rows as columns (m >= n), got shape {w.shape}")


def sample_tall(n, m, kappa, mode, rng):
    return {"W": W_SCALE * randsvd_from(rng, max(m, n), n, kappa, mode)}


def value(W):
    g = W.T @ W - np.eye(W.shape[1], dtype=W.dtype)
    return W.dtype.type(LAMBDA) * np.sum(g * g)


def grad(W):
    g = W.T @ W - np.eye(W.shape[1], dtype=W.dtype)
    return {"W": W.dtype.type(4 * LAMBDA) * (W @ g)}


def terms(W):
    a = np.abs(W)
    t = a.T @ a + np.eye(W.shape[1])
    return LAMBDA * np.sum(t * t)


def exact(W):
    lam = hp.const(LAMBDA)
    g = W.transpose() * W - hp.identity(W.ncols())
    return lam * hp.fro2(g), {"W": W * g * (lam * 4)}


def torch():
    import torch

    def soft_orthogonality(W):
        G = W.mT @ W - torch.eye(W.shape[-1], dtype=W.dtype, device=W.device)
        return LAMBDA * (G * G).sum()

    return soft_orthogonality


def jax():
    import jax.numpy as jnp

    def soft_orthogonality(W):
        G = W.mT @ W - jnp.eye(W.shape[-1], dtype=W.dtype)
        return LAMBDA * jnp.sum(G * G)

    return soft_orthogonality


def tensorflow():
    import tensorflow as tf

    def soft_orthogonality(W):
        g = tf.matmul(W, W, transpose_a=True) - tf.linalg.eye(tf.shape(W)[-1], dtype=W.dtype)
        return tf.constant(LAMBDA, dtype=W.dtype) * tf.reduce_sum(g * g)

    return soft_orthogonality


LOSS = LossSpec(
    name="soft_orthogonality", family="orthogonality", formula="lambda ||W^T W - I||_F^2 (lambda = 1)",
    gradient="4 lambda W (W^T W - I)",
    args=(Arg("W", "matrix", "mn"),),
    value_fn=value, grad_fn=grad, hp_fn=exact, sampler=sample_tall, terms_fn=terms, domain_check=tall,
    kappa_governed=False, value_metric="scaled", constants={"lambda": LAMBDA},
    value_slope=0.0, grad_slope=0.0,
    implementations={"torch": torch, "jax": jax, "tensorflow": tensorflow},
)
