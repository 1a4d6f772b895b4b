"""trace_inverse: tr(A⁻¹) of a square invertible A (the worked example of docs/adding-a-loss.md)."""

from __future__ import annotations

import numpy as np
import scipy.linalg as sl

from matloss_ref import exact as hp
from matloss_ref.matrices import randsvd_from
from matloss_ref.spec import Arg, LossSpec


# -- the float reference: value and closed-form gradient of one matrix, in its own dtype --------
def value(A):
    return np.trace(sl.inv(A, check_finite=False))


def grad(A):
    a_inv = sl.inv(A, check_finite=False)
    return {"A": -(a_inv @ a_inv).T}  # d tr(A⁻¹) = −tr(A⁻¹ dA A⁻¹)


# -- the exact truth: the same formulas in ball arithmetic (python-flint arb matrices) ----------
def exact(A):
    a_inv = hp.inv(A)
    return a_inv.trace(), {"A": -(a_inv * a_inv).transpose()}


# -- valid inputs whose governing matrix has condition number kappa -----------------------------
def sample(n, m, kappa, mode, rng):
    return {"A": randsvd_from(rng, n, n, kappa, mode)}


# -- the idiomatic implementation in each framework: batched over leading axes, summed ----------
def torch():
    import torch

    def trace_inverse(A):
        return torch.linalg.inv(A).diagonal(dim1=-2, dim2=-1).sum()

    return trace_inverse


def jax():
    import jax.numpy as jnp

    def trace_inverse(A):
        return jnp.sum(jnp.trace(jnp.linalg.inv(A), axis1=-2, axis2=-1))

    return trace_inverse


def tensorflow():
    import tensorflow as tf

    def trace_inverse(A):
        return tf.reduce_sum(tf.linalg.trace(tf.linalg.inv(A)))

    return trace_inverse


LOSS = LossSpec(
    name="trace_inverse", family="inverse", formula="tr(A^-1)", gradient="-(A^-2)^T",
    args=(Arg("A", "square", "nn"),),
    value_fn=value, grad_fn=grad, hp_fn=exact, sampler=sample,
    kappa_governed=True, nonsmooth_at="singular A",
    implementations={"torch": torch, "jax": jax, "tensorflow": tensorflow},
)
