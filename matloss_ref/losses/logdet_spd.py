"""logdet_spd: −log det S of a symmetric positive definite S, as −2 Σ log Lᵢᵢ from its Cholesky factor."""

from __future__ import annotations

import numpy as np
import scipy.linalg as sl

from .. import exact as hp
from ..matrices import spd_from
from ..spec import Arg, LossSpec


def value(S):
    c = sl.cholesky(S, lower=True, check_finite=False)
    return -2.0 * np.sum(np.log(np.diag(c)))


def grad(S):
    c = sl.cholesky(S, lower=True, check_finite=False)
    return {"S": -sl.cho_solve((c, True), np.eye(S.shape[0], dtype=S.dtype), check_finite=False)}


def exact(S):
    return -hp.det(S).log(), {"S": -hp.inv(S)}


def sample(n, m, kappa, mode, rng):
    return {"S": spd_from(rng, n, kappa, mode)}


def torch():
    import torch

    def logdet_spd(S):
        L = torch.linalg.cholesky(S)
        return -2.0 * torch.log(torch.diagonal(L, dim1=-2, dim2=-1)).sum()

    return logdet_spd


def jax():
    import jax.numpy as jnp

    def logdet_spd(S):
        L = jnp.linalg.cholesky(S)
        return -2 * jnp.sum(jnp.log(jnp.diagonal(L, axis1=-2, axis2=-1)))

    return logdet_spd


def tensorflow():
    import tensorflow as tf

    def logdet_spd(S):
        return -tf.reduce_sum(tf.linalg.logdet(S))  # 2 Σ log diag(cholesky(S))

    return logdet_spd


LOSS = LossSpec(
    name="logdet_spd", family="determinant", formula="-log det S = -2 sum(log L_ii)", gradient="-S^-1 (symmetric)",
    args=(Arg("S", "spd", "nn"),),
    value_fn=value, grad_fn=grad, hp_fn=exact, sampler=sample,
    kappa_governed=True, value_metric="absolute", nonsmooth_at="S not positive definite",
    scale_inputs=('S',), scale_power=1,
    value_slope=1.0, grad_slope=1.0,
    implementations={"torch": torch, "jax": jax, "tensorflow": tensorflow},
)
