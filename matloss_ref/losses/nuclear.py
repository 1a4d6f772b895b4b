"""nuclear: ‖A‖_* = Σσᵢ, from the singular values; its gradient is the polar factor U Vᵀ."""

from __future__ import annotations

import numpy as np
import scipy.linalg as sl
from flint import arb

from .. import exact as hp
from ..matrices import randsvd_from
from ..spec import Arg, LossSpec


def value(A):
    return np.sum(sl.svdvals(A, check_finite=False))


def grad(A):
    u, _, vt = sl.svd(A, full_matrices=False, check_finite=False)
    return {"A": u @ vt}


def exact(A):
    g, tall = hp.gram(A)
    lam, v = hp.sym_eig(g)
    value = sum((x.nonnegative_part().sqrt() for x in lam), arb(0))
    if any(x.contains(0) for x in lam):
        # rank-deficient (or not resolved yet): the value is defined, the gradient is not
        if hp.exact_rational(A).rank() < len(lam):
            return value, None
        raise hp.NeedsPrecision("smallest singular value not separated from 0")
    # polar factor U Vᵀ = A·V·diag(λ^-1/2)·Vᵀ (tall) or V·diag(λ^-1/2)·Vᵀ·A (wide)
    inv_sqrt = v * hp.diag_from([x.rsqrt() for x in lam]) * v.transpose()
    polar = A * inv_sqrt if tall else inv_sqrt * A
    return value, {"A": polar}


def sample(n, m, kappa, mode, rng):
    return {"A": randsvd_from(rng, m, n, kappa, mode)}


def torch():
    import torch

    def nuclear(A):
        return torch.linalg.svdvals(A).sum()

    return nuclear


def jax():
    import jax.numpy as jnp

    def nuclear(A):
        return jnp.sum(jnp.linalg.svdvals(A))

    return nuclear


def tensorflow():
    import tensorflow as tf

    def nuclear(A):  # TF has no nuclear norm: the sum of the singular values
        return tf.reduce_sum(tf.linalg.svd(A, compute_uv=False))

    return nuclear


LOSS = LossSpec(
    name="nuclear", family="norms", formula="||A||_* = sum(sigma_i)", gradient="U V^T (polar factor)",
    args=(Arg("A", "matrix", "mn"),),
    value_fn=value, grad_fn=grad, hp_fn=exact, sampler=sample,
    kappa_governed=False, svd_based=True, nonsmooth_at="rank(A) < min(m, n)",
    value_slope=0.0, grad_slope=1.0,
    implementations={"torch": torch, "jax": jax, "tensorflow": tensorflow},
)
