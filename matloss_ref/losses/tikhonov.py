"""tikhonov: λ‖W‖_F² (λ = 1), weight decay."""

from __future__ import annotations

from .. import exact as hp
from ..matrices import randsvd_from
from ..spec import Arg, LossSpec

LAMBDA = 1.0


def value(W):
    return W.dtype.type(LAMBDA) * (W * W).sum()


def grad(W):
    return {"W": W.dtype.type(2 * LAMBDA) * W}


def exact(W):
    lam = hp.const(LAMBDA)
    return lam * hp.fro2(W), {"W": W * (lam * 2)}


def sample(n, m, kappa, mode, rng):
    return {"W": randsvd_from(rng, m, n, kappa, mode)}


def torch():
    def tikhonov(W):
        return LAMBDA * (W * W).sum()

    return tikhonov


def jax():
    import jax.numpy as jnp

    def tikhonov(W):
        return LAMBDA * jnp.sum(W * W)

    return tikhonov


def tensorflow():
    import tensorflow as tf

    def tikhonov(W):
        return tf.constant(LAMBDA, dtype=W.dtype) * tf.reduce_sum(W * W)

    return tikhonov


LOSS = LossSpec(
    name="tikhonov", family="norms", formula="||W||_F^2 (lambda = 1)", gradient="2 lambda W",
    args=(Arg("W", "matrix", "mn"),),
    value_fn=value, grad_fn=grad, hp_fn=exact, sampler=sample,
    kappa_governed=False, constants={"lambda": LAMBDA},
    value_slope=0.0, grad_slope=0.0,
    implementations={"torch": torch, "jax": jax, "tensorflow": tensorflow},
)
