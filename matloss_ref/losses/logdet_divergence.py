"""logdet_divergence: the log-det (Burg / Stein) divergence tr(T P⁻¹) − log det(T P⁻¹) − n = 2·KL(N(0,T) ‖ N(0,P)).

Computed stably from the Cholesky factors: Z = L_P⁻¹ L_T, D = ‖Z‖_F² − 2Σ log Zᵢᵢ − n.
"""

from __future__ import annotations

import numpy as np
import scipy.linalg as sl

from .. import exact as hp
from ..matrices import spd_from
from ..spec import Arg, LossSpec

#: T is drawn at twice the scale of P so that κ = 1 does not give the minimiser P = T = I
T_SCALE = 2.0
ARGS = (Arg("P", "spd", "nn", "prediction"), Arg("T", "spd", "nn", "target"))


def sample(n, m, kappa, mode, rng):
    return {"P": spd_from(rng, n, kappa, mode), "T": T_SCALE * spd_from(rng, n, kappa, mode)}


def _factors(P, T):
    lp = sl.cholesky(P, lower=True, check_finite=False)
    lt = sl.cholesky(T, lower=True, check_finite=False)
    return lp, lt, sl.solve_triangular(lp, lt, lower=True, check_finite=False)


def value(P, T):
    _, _, z = _factors(P, T)
    return np.sum(z * z) - 2 * np.sum(np.log(np.diag(z))) - P.shape[0]


def grad(P, T):
    lp, lt, z = _factors(P, T)
    eye = np.eye(P.shape[0], dtype=P.dtype)
    p_inv = sl.cho_solve((lp, True), eye, check_finite=False)
    w = sl.solve_triangular(lp, z, lower=True, trans="T", check_finite=False)  # P⁻¹TP⁻¹ = W Wᵀ
    return {"P": p_inv - w @ w.T, "T": p_inv - sl.cho_solve((lt, True), eye, check_finite=False)}


def terms(P, T):
    """tr(TP⁻¹) + |log det(TP⁻¹)| + n: the magnitude of the terms that cancel near P = T."""
    _, _, z = _factors(P, T)
    return np.sum(z * z) + 2 * abs(np.sum(np.log(np.diag(z)))) + P.shape[0]


def exact(P, T):
    n = P.nrows()
    p_inv = hp.inv(P)
    pt = p_inv * T
    logdet_ratio = hp.det(T).log() - hp.det(P).log()
    return pt.trace() - logdet_ratio - n, {"P": p_inv - pt * p_inv, "T": p_inv - hp.inv(T)}


def torch():
    import torch

    la = torch.linalg

    def logdet_divergence(P, T):
        Z = la.solve_triangular(la.cholesky(P), la.cholesky(T), upper=False)
        per = (Z * Z).sum(dim=(-2, -1)) - 2.0 * torch.log(torch.diagonal(Z, dim1=-2, dim2=-1)).sum(dim=-1) - P.shape[-1]
        return per.sum()

    return logdet_divergence


def jax():
    import jax.numpy as jnp
    from jax.scipy.linalg import solve_triangular

    def logdet_divergence(P, T):
        Z = solve_triangular(jnp.linalg.cholesky(P), jnp.linalg.cholesky(T), lower=True)
        per = jnp.sum(Z * Z, axis=(-2, -1)) - 2 * jnp.sum(jnp.log(jnp.diagonal(Z, axis1=-2, axis2=-1)), axis=-1) - P.shape[-1]
        return jnp.sum(per)

    return logdet_divergence


def tensorflow():
    import tensorflow as tf

    la = tf.linalg

    def logdet_divergence(P, T):
        z = la.triangular_solve(la.cholesky(P), la.cholesky(T), lower=True)  # Z = L_P⁻¹ L_T
        n = tf.cast(tf.shape(P)[-1], P.dtype)
        d = tf.reduce_sum(z * z, axis=[-2, -1]) - 2 * tf.reduce_sum(tf.math.log(la.diag_part(z)), axis=-1) - n
        return tf.reduce_sum(d)

    return logdet_divergence


LOSS = LossSpec(
    name="logdet_divergence", family="divergence",
    formula="tr(T P^-1) - log det(T P^-1) - n  (= 2 KL(N(0,T) || N(0,P)))",
    gradient="d/dP = P^-1 (P - T) P^-1, d/dT = P^-1 - T^-1",
    args=ARGS, value_fn=value, grad_fn=grad, hp_fn=exact, sampler=sample, terms_fn=terms,
    kappa_governed=True, value_metric="scaled", nonsmooth_at="P or T not positive definite",
    value_slope=1.0, grad_slope=1.0,
    implementations={"torch": torch, "jax": jax, "tensorflow": tensorflow},
)
