"""frobenius: ‖A − B‖_F², as a sum of squares (never ``norm(·)**2``: NaN gradient at A = B in jax and torch)."""

from __future__ import annotations

from .. import exact as hp
from ..matrices import randsvd_from
from ..spec import Arg, LossSpec


def value(A, B):
    d = A - B
    return (d * d).sum()


def grad(A, B):
    d = 2 * (A - B)
    return {"A": d, "B": -d}


def exact(A, B):
    d = A - B
    return hp.fro2(d), {"A": d * 2, "B": d * -2}


def sample_pair(n, m, kappa, mode, rng):
    """A, and B = A − D with D of condition number κ (D = A − B governs spectral)."""
    a = randsvd_from(rng, m, n, kappa, mode)
    d = randsvd_from(rng, m, n, kappa, mode)
    return {"A": a, "B": a - d}


def torch():
    def frobenius(A, B):
        D = A - B
        return (D * D).sum()

    return frobenius


def jax():
    import jax.numpy as jnp

    def frobenius(A, B):
        D = A - B
        return jnp.sum(D * D)

    return frobenius


def tensorflow():
    import tensorflow as tf

    def frobenius(A, B):
        d = A - B
        return tf.reduce_sum(d * d)

    return frobenius


LOSS = LossSpec(
    name="frobenius", family="norms", formula="||A - B||_F^2", gradient="2(A - B), -2(A - B)",
    args=(Arg("A", "matrix", "mn", "prediction"), Arg("B", "matrix", "mn", "target")),
    value_fn=value, grad_fn=grad, hp_fn=exact, sampler=sample_pair,
    kappa_governed=False,
    value_slope=0.0, grad_slope=0.0,
    implementations={"torch": torch, "jax": jax, "tensorflow": tensorflow},
)
