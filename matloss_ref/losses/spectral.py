"""spectral: ‖A − B‖₂ = σ₁(A − B), from the singular values only (a full-SVD gradient is NaN at a repeated σ)."""

from __future__ import annotations

import numpy as np
import scipy.linalg as sl
from flint import arb

from .. import exact as hp
from ..spec import Arg, LossSpec, sigma1_separated
from .frobenius import sample_pair


def value(A, B):
    return sl.svdvals(A - B, check_finite=False)[0]


def grad(A, B):
    u, _, vt = sl.svd(A - B, full_matrices=False, check_finite=False)
    g = np.outer(u[:, 0], vt[0])
    return {"A": g, "B": -g}


def exact(A, B):
    d = A - B
    if hp.is_zero(d):
        return arb(0), None
    lam1, top = hp.top_direction(d)
    s1 = lam1.sqrt()
    if top is None:
        return s1, None
    g = top * (1 / s1)
    return s1, {"A": g, "B": -g}


def split(A, B):
    """At an exactly tied σ₁ > 0 of D = A − B: (1/k)·Σᵢ uᵢvᵢᵀ over the k tied pairs."""
    d = A - B
    g, tall = hp.gram(d)
    tie = hp.tied_top(g)
    if tie is None or hp.is_zero(d):
        return None
    lam, proj, k = tie
    s1 = lam.sqrt()
    top = (d * proj if tall else proj * d) * (1 / (s1 * k))  # D·P_V = σ₁ Σ uᵢvᵢᵀ
    return s1, {"A": top, "B": -top}


def torch():
    import torch

    def spectral(A, B):
        return torch.linalg.svdvals(A - B)[..., 0].sum()

    return spectral


def jax():
    import jax.numpy as jnp

    def spectral(A, B):
        # sigma_1 as the max of the singular values, as jnp.linalg.matrix_norm(ord=2) computes it
        return jnp.sum(jnp.max(jnp.linalg.svdvals(A - B), axis=-1))

    return spectral


def tensorflow():
    import tensorflow as tf

    def spectral(A, B):
        s = tf.linalg.svd(A - B, compute_uv=False)
        return tf.reduce_sum(s[..., 0])

    return spectral


LOSS = LossSpec(
    name="spectral", family="norms", formula="||A - B||_2 = sigma_1(A - B)", gradient="u1 v1^T, -u1 v1^T",
    args=(Arg("A", "matrix", "mn", "prediction"), Arg("B", "matrix", "mn", "target")),
    value_fn=value, grad_fn=grad, hp_fn=exact, sampler=sample_pair,
    kappa_governed=False, svd_based=True, well_posed_fn=lambda u, A, B: sigma1_separated(u, A, B),
    nonsmooth_at="sigma_1 repeated, or A = B", split_fn=split, governing_fn=lambda kappa, A, B: kappa(A - B),
    value_slope=0.0, grad_slope=0.0,
    implementations={"torch": torch, "jax": jax, "tensorflow": tensorflow},
)
