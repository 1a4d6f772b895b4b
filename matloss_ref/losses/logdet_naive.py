"""logdet_naive: −log(det A), the way it is often first written (det under/overflows long before A is ill-conditioned)."""

from __future__ import annotations

import numpy as np
import scipy.linalg as sl

from ..matrices import randsvd_from
from ..spec import Arg, LossSpec
from ..validation import fail
from . import logdet


def value(A):
    with np.errstate(divide="ignore", invalid="ignore"):
        return -np.log(np.linalg.det(A))


def grad(A):
    return {"A": -sl.inv(A, check_finite=False).T}


def sample(n, m, kappa, mode, rng):
    return {"A": randsvd_from(rng, n, n, kappa, mode, positive_det=True)}


def positive_det(loss, arrays):
    """det A > 0, from the sign of the LU determinant (immune to under/overflow)."""
    sign, _ = np.linalg.slogdet(arrays["A"].astype(np.float64))
    if sign <= 0:
        fail(loss, "A", f"must have det > 0 (sign of det is {int(sign):+d})")


def torch():
    import torch

    def logdet_naive(A):
        return -torch.log(torch.linalg.det(A)).sum()

    return logdet_naive


def jax():
    import jax.numpy as jnp

    def logdet_naive(A):
        return -jnp.sum(jnp.log(jnp.linalg.det(A)))

    return logdet_naive


def tensorflow():
    import tensorflow as tf

    def logdet_naive(A):
        return -tf.reduce_sum(tf.math.log(tf.linalg.det(A)))

    return logdet_naive


LOSS = LossSpec(
    name="logdet_naive", family="determinant", formula="-log(det A)", gradient="-A^-T",
    args=(Arg("A", "square", "nn"),),
    value_fn=value, grad_fn=grad, hp_fn=logdet.exact, sampler=sample,
    kappa_governed=True, value_metric="absolute", domain_check=positive_det, naive_of=logdet.LOSS,
    nonsmooth_at="det <= 0; det under/overflows",
    scale_inputs=('A',), scale_power=1,
    value_slope=1.0, grad_slope=1.0,
    implementations={"torch": torch, "jax": jax, "tensorflow": tensorflow},
)
