"""mvn_nll_naive: the Gaussian NLL through Σ = LLᵀ, ``inv(Σ)`` and ``log(det(Σ))``, as it is often first written."""

from __future__ import annotations

import numpy as np
import scipy.linalg as sl

from ..spec import LossSpec
from . import mvn_nll as stable
from .mvn_nll import LOG_2PI


def value(x, mu, L):
    cov = L @ L.T
    r = x - mu
    with np.errstate(divide="ignore", invalid="ignore"):
        logdet = np.log(np.linalg.det(cov))
        return 0.5 * (x.size * x.dtype.type(LOG_2PI) + logdet + r @ sl.inv(cov, check_finite=False) @ r)


def grad(x, mu, L):
    """The gradient as the naive computation has it: through inv(Σ) only (∂/∂L = (Σ⁻¹ − wwᵀ)L, what
    autodiff of the naive value does), so that numpy's naive form keeps the naive form's error."""
    cov_inv = sl.inv(L @ L.T, check_finite=False)
    w = cov_inv @ (x - mu)
    return {"x": w, "mu": -w, "L": np.tril((cov_inv - np.outer(w, w)) @ L)}


def torch():
    import torch

    def mvn_nll_naive(x, mu, L):
        d = x.shape[-1]
        cov = L @ L.mT
        r = x - mu
        quad = (r.unsqueeze(-2) @ torch.linalg.inv(cov) @ r.unsqueeze(-1))[..., 0, 0]
        return (0.5 * (d * LOG_2PI + torch.log(torch.linalg.det(cov)) + quad)).sum()

    return mvn_nll_naive


def jax():
    import jax.numpy as jnp

    def mvn_nll_naive(x, mu, L):
        d = x.shape[-1]
        cov = L @ L.mT
        r = x - mu
        quad = jnp.einsum("...i,...ij,...j->...", r, jnp.linalg.inv(cov), r)
        return 0.5 * jnp.sum(d * LOG_2PI + jnp.log(jnp.linalg.det(cov)) + quad)

    return mvn_nll_naive


def tensorflow():
    import tensorflow as tf

    def mvn_nll_naive(x, mu, L):
        cov = tf.matmul(L, L, transpose_b=True)
        r = (x - mu)[..., None]
        quad = tf.matmul(r, tf.matmul(tf.linalg.inv(cov), r), transpose_a=True)[..., 0, 0]
        d = tf.cast(tf.shape(x)[-1], x.dtype)
        nll = d * tf.constant(LOG_2PI, dtype=x.dtype) + tf.math.log(tf.linalg.det(cov)) + quad
        return tf.reduce_sum(0.5 * nll)

    return mvn_nll_naive


LOSS = LossSpec(
    name="mvn_nll_naive", family="gaussian",
    formula="1/2 [d log 2pi + log(det(Sigma)) + r^T inv(Sigma) r], Sigma = L L^T, r = x - mu",
    gradient=stable.LOSS.gradient,
    args=stable.ARGS, value_fn=value, grad_fn=grad, hp_fn=stable.exact, sampler=stable.sample, terms_fn=stable.terms,
    kappa_governed=True, value_metric="scaled", naive_of=stable.LOSS, nonsmooth_at="L_ii <= 0; det under/overflow",
    governing_fn=stable.covariance_kappa, variants={"weak": stable.sample_weak},
    scale_inputs=('x', 'mu', 'L'), scale_power=2,
    value_slope=1.0, grad_slope=1.0,
    implementations={"torch": torch, "jax": jax, "tensorflow": tensorflow},
)
