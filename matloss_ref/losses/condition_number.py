"""condition_number: the condition-number regulariser r(S) = ½‖S‖₂² − (1/2ν)‖S‖_F² of arXiv 2410.00169.

r ≥ 0, r = 0 exactly when all singular values are equal (κ = 1), and gradient descent on r drives κ
towards 1. Non-smooth where σ₁ is repeated: at every minimiser and at S = 0.
"""

from __future__ import annotations

import numpy as np
import scipy.linalg as sl
from flint import arb

from .. import exact as hp
from ..matrices import randsvd_from
from ..spec import Arg, LossSpec, sigma1_separated


def value(S):
    s = sl.svdvals(S, check_finite=False)
    return 0.5 * s[0] ** 2 - np.sum(S * S) / (2 * s.size)


def grad(S):
    u, s, vt = sl.svd(S, full_matrices=False, check_finite=False)
    return {"S": s[0] * np.outer(u[:, 0], vt[0]) - S / S.dtype.type(s.size)}


def terms(S):
    s1 = sl.svdvals(S, check_finite=False)[0]
    return 0.5 * s1**2 + np.sum(S * S) / (2 * min(S.shape))


def exact(S):
    nu = min(S.nrows(), S.ncols())
    lam1, top = hp.top_direction(S)
    value = lam1 / 2 - hp.fro2(S) / (2 * nu)
    if top is None:
        return value, None
    return value, {"S": top - S * (1 / arb(nu))}


def split(S):
    """At an exactly tied σ₁ > 0: σ₁·(1/k)Σᵢ uᵢvᵢᵀ − S/ν over the k tied pairs."""
    nu = min(S.nrows(), S.ncols())
    g, tall = hp.gram(S)
    tie = hp.tied_top(g)
    if tie is None or hp.is_zero(S):
        return None
    lam, proj, k = tie
    top = (S * proj if tall else proj * S) * (1 / arb(k))  # S·P_V = σ₁ Σ uᵢvᵢᵀ
    return lam / 2 - hp.fro2(S) / (2 * nu), {"S": top - S * (1 / arb(nu))}


def sample(n, m, kappa, mode, rng):
    return {"S": randsvd_from(rng, m, n, kappa, mode)}


def torch():
    import torch

    def condition_number(S):
        s = torch.linalg.svdvals(S)
        nu = min(S.shape[-2], S.shape[-1])
        return (0.5 * s[..., 0] ** 2 - (S * S).sum(dim=(-2, -1)) / (2 * nu)).sum()

    return condition_number


def jax():
    import jax.numpy as jnp

    def condition_number(S):
        s = jnp.linalg.svdvals(S)
        nu = s.shape[-1]
        return jnp.sum(0.5 * jnp.max(s, axis=-1) ** 2 - jnp.sum(S * S, axis=(-2, -1)) / (2 * nu))

    return condition_number


def tensorflow():
    import tensorflow as tf

    def condition_number(S):
        s = tf.linalg.svd(S, compute_uv=False)
        nu = tf.cast(tf.shape(s)[-1], S.dtype)
        return tf.reduce_sum(0.5 * s[..., 0] ** 2 - tf.reduce_sum(S * S, axis=[-2, -1]) / (2 * nu))

    return condition_number


LOSS = LossSpec(
    name="condition_number", family="conditioning",
    formula="r(S) = 1/2 ||S||_2^2 - 1/(2 nu) ||S||_F^2  (arXiv 2410.00169)", gradient="sigma_1 u1 v1^T - S / nu",
    args=(Arg("S", "matrix", "mn"),),
    value_fn=value, grad_fn=grad, hp_fn=exact, sampler=sample, terms_fn=terms,
    kappa_governed=True, value_metric="scaled", svd_based=True, well_posed_fn=lambda u, S: sigma1_separated(u, S),
    nonsmooth_at="sigma_1 repeated (every minimiser, kappa = 1, and S = 0)", split_fn=split,
    value_slope=0.0, grad_slope=0.0,
    implementations={"torch": torch, "jax": jax, "tensorflow": tensorflow},
)
