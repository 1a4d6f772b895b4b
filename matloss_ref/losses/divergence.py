"""The log-det (Burg / Stein) divergence: logdet_divergence and its naive form."""

from __future__ import annotations

import numpy as np
import scipy.linalg as sl

from .. import exact as hp
from ..matrices import spd_from
from ..registry import Arg, LossSpec, register

PT = (Arg("P", "spd", "nn", "prediction"), Arg("T", "spd", "nn", "target"))


#: T is drawn at twice the scale of P so that κ = 1 does not give the minimiser P = T = I
T_SCALE = 2.0


def _sample(n, m, kappa, mode, rng):
    return {"P": spd_from(rng, n, kappa, mode), "T": T_SCALE * spd_from(rng, n, kappa, mode)}


def _factors(P, T):
    lp = sl.cholesky(P, lower=True, check_finite=False)
    lt = sl.cholesky(T, lower=True, check_finite=False)
    return lp, lt, sl.solve_triangular(lp, lt, lower=True, check_finite=False)


def value(P, T):
    """D = ‖Z‖_F² − 2Σ log Zᵢᵢ − n with Z = L_P⁻¹ L_T."""
    _, _, z = _factors(P, T)
    return np.sum(z * z) - 2 * np.sum(np.log(np.diag(z))) - P.shape[0]


def grad(P, T):
    lp, lt, z = _factors(P, T)
    eye = np.eye(P.shape[0], dtype=P.dtype)
    p_inv = sl.cho_solve((lp, True), eye, check_finite=False)
    w = sl.solve_triangular(lp, z, lower=True, trans="T", check_finite=False)  # P⁻¹TP⁻¹ = W Wᵀ
    return {"P": p_inv - w @ w.T, "T": p_inv - sl.cho_solve((lt, True), eye, check_finite=False)}


def naive_value(P, T):
    m = T @ sl.inv(P, check_finite=False)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.trace(m) - np.log(sl.det(m, check_finite=False)) - P.shape[0]


def naive_grad(P, T):
    p_inv = sl.inv(P, check_finite=False)
    return {"P": p_inv - p_inv @ T @ p_inv, "T": p_inv - sl.inv(T, check_finite=False)}


def terms(P, T):
    """tr(TP⁻¹) + |log det(TP⁻¹)| + n: the magnitude of the terms that cancel near P = T."""
    _, _, z = _factors(P, T)
    return np.sum(z * z) + 2 * abs(np.sum(np.log(np.diag(z)))) + P.shape[0]


def hp_fn(P, T):
    n = P.nrows()
    p_inv = hp.inv(P)
    pt = p_inv * T
    tr = pt.trace()
    logdet_ratio = hp.det(T).log() - hp.det(P).log()
    value = tr - logdet_ratio - n
    grads = {"P": p_inv - pt * p_inv, "T": p_inv - hp.inv(T)}
    return value, grads


register(LossSpec(
    name="logdet_divergence", family="divergence",
    formula="tr(T P^-1) - log det(T P^-1) - n  (= 2 KL(N(0,T) || N(0,P)))", args=PT,
    value_fn=value, grad_fn=grad, hp_fn=hp_fn, sampler=_sample, terms_fn=terms,
    kappa_governed=True, value_metric="scaled", nonsmooth_at="P or T not positive definite",
))
register(LossSpec(
    name="logdet_divergence_naive", family="divergence",
    formula="tr(T inv(P)) - log(det(T inv(P))) - n", args=PT,
    value_fn=naive_value, grad_fn=naive_grad, hp_fn=hp_fn, sampler=_sample, terms_fn=terms,
    kappa_governed=True, value_metric="scaled", naive_of="logdet_divergence",
    nonsmooth_at="P or T not positive definite; det under/overflow",
))
