"""logdet_divergence_naive: the log-det divergence through ``inv`` and ``log(det(·))``, as it is often first written."""

from __future__ import annotations

import numpy as np
import scipy.linalg as sl

from ..spec import LossSpec
from . import logdet_divergence as stable


def value(P, T):
    m = T @ sl.inv(P, check_finite=False)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.trace(m) - np.log(np.linalg.det(m)) - P.shape[0]


def grad(P, T):
    """The gradient as the naive computation has it: through M = T·inv(P) and inv(M) (what autodiff
    of the naive value does), so that numpy's naive form keeps the naive form's error (κ(M) ≤ κ(T)κ(P))."""
    p_inv = sl.inv(P, check_finite=False)
    m = T @ p_inv
    g = (np.eye(P.shape[0], dtype=P.dtype) - sl.inv(m, check_finite=False)).T  # ∂f/∂M = (I − M⁻¹)ᵀ
    return {"P": -(p_inv.T @ T.T @ g @ p_inv.T), "T": g @ p_inv.T}


def torch():
    import torch

    def logdet_divergence_naive(P, T):
        M = T @ torch.linalg.inv(P)
        per = torch.diagonal(M, dim1=-2, dim2=-1).sum(dim=-1) - torch.log(torch.linalg.det(M)) - P.shape[-1]
        return per.sum()

    return logdet_divergence_naive


def jax():
    import jax.numpy as jnp

    def logdet_divergence_naive(P, T):
        M = T @ jnp.linalg.inv(P)
        per = jnp.trace(M, axis1=-2, axis2=-1) - jnp.log(jnp.linalg.det(M)) - P.shape[-1]
        return jnp.sum(per)

    return logdet_divergence_naive


def tensorflow():
    import tensorflow as tf

    def logdet_divergence_naive(P, T):
        m = tf.matmul(T, tf.linalg.inv(P))
        d = tf.linalg.trace(m) - tf.math.log(tf.linalg.det(m)) - tf.cast(tf.shape(P)[-1], P.dtype)
        return tf.reduce_sum(d)

    return logdet_divergence_naive


LOSS = LossSpec(
    name="logdet_divergence_naive", family="divergence", formula="tr(T inv(P)) - log(det(T inv(P))) - n",
    gradient=stable.LOSS.gradient,
    args=stable.ARGS, value_fn=value, grad_fn=grad, hp_fn=stable.exact, sampler=stable.sample, terms_fn=stable.terms,
    kappa_governed=True, value_metric="scaled", naive_of=stable.LOSS,
    nonsmooth_at="P or T not positive definite; det under/overflow",
    value_slope=1.0, grad_slope=2.0,
    implementations={"torch": torch, "jax": jax, "tensorflow": tensorflow},
)
