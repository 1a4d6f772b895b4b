"""logdet: −log|det A|, computed from an LU factorisation (slogdet)."""

from __future__ import annotations

import numpy as np
import scipy.linalg as sl
from flint import arb

from .. import exact as hp
from ..matrices import randsvd_from
from ..spec import Arg, LossSpec


def lu_slogdet(a: np.ndarray) -> tuple[float, float]:
    """(sign, log|det|) from an LU factorisation in the working dtype."""
    lu, piv = sl.lu_factor(a, check_finite=False)
    d = np.diag(lu)
    swaps = np.count_nonzero(piv != np.arange(piv.size))
    sign = d.dtype.type((-1.0) ** swaps * np.prod(np.sign(d)))  # in the working dtype: float32 stays float32
    with np.errstate(divide="ignore"):
        return sign, np.sum(np.log(np.abs(d)))


def value(A):
    return -lu_slogdet(A)[1]


def grad(A):
    lu = sl.lu_factor(A, check_finite=False)
    return {"A": -sl.lu_solve(lu, np.eye(A.shape[0], dtype=A.dtype), trans=1, check_finite=False)}


def exact(A):
    d = hp.det(A)
    if d.is_zero():
        return arb.pos_inf(), None
    return -abs(d).log(), {"A": -hp.inv(A).transpose()}


def sample(n, m, kappa, mode, rng):
    return {"A": randsvd_from(rng, n, n, kappa, mode)}


def torch():
    import torch

    def logdet(A):
        return -torch.linalg.slogdet(A).logabsdet.sum()

    return logdet


def jax():
    import jax.numpy as jnp

    def logdet(A):
        return -jnp.sum(jnp.linalg.slogdet(A)[1])

    return logdet


def tensorflow():
    import tensorflow as tf

    def logdet(A):
        _, log_abs_det = tf.linalg.slogdet(A)
        return -tf.reduce_sum(log_abs_det)

    return logdet


LOSS = LossSpec(
    name="logdet", family="determinant", formula="-log|det A|", gradient="-A^-T",
    args=(Arg("A", "square", "nn"),),
    value_fn=value, grad_fn=grad, hp_fn=exact, sampler=sample,
    kappa_governed=True, value_metric="absolute", nonsmooth_at="singular A (+inf; gradient norm 1/sigma_n)",
    scale_inputs=('A',), scale_power=1,
    value_slope=1.0, grad_slope=1.0,
    implementations={"torch": torch, "jax": jax, "tensorflow": tensorflow},
)
