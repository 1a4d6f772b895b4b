"""frobenius_l2: ‖A − B‖_F² + λ‖A‖_F² (λ = 0.1), a fit term with weight decay on the prediction."""

from __future__ import annotations

from .. import exact as hp
from ..spec import Arg, LossSpec
from .frobenius import sample_pair

LAMBDA = 0.1


def value(A, B):
    d = A - B
    return (d * d).sum() + A.dtype.type(LAMBDA) * (A * A).sum()


def grad(A, B):
    d = 2 * (A - B)
    return {"A": d + A.dtype.type(2 * LAMBDA) * A, "B": -d}


def exact(A, B):
    lam = hp.const(LAMBDA)
    d = A - B
    return hp.fro2(d) + lam * hp.fro2(A), {"A": d * 2 + A * (lam * 2), "B": d * -2}


def torch():
    def frobenius_l2(A, B):
        D = A - B
        return (D * D).sum() + LAMBDA * (A * A).sum()

    return frobenius_l2


def jax():
    import jax.numpy as jnp

    def frobenius_l2(A, B):
        D = A - B
        return jnp.sum(D * D) + LAMBDA * jnp.sum(A * A)

    return frobenius_l2


def tensorflow():
    import tensorflow as tf

    def frobenius_l2(A, B):
        d = A - B
        return tf.reduce_sum(d * d) + tf.constant(LAMBDA, dtype=A.dtype) * tf.reduce_sum(A * A)

    return frobenius_l2


LOSS = LossSpec(
    name="frobenius_l2", family="norms", formula="||A - B||_F^2 + 0.1 ||A||_F^2", gradient="2(A - B) + 2 lambda A, -2(A - B)",
    args=(Arg("A", "matrix", "mn", "prediction"), Arg("B", "matrix", "mn", "target")),
    value_fn=value, grad_fn=grad, hp_fn=exact, sampler=sample_pair,
    kappa_governed=False, constants={"lambda": LAMBDA},
    value_slope=0.0, grad_slope=0.0,
    implementations={"torch": torch, "jax": jax, "tensorflow": tensorflow},
)
