"""mvn_nll: the negative log-likelihood of x under N(μ, LLᵀ), from the Cholesky factor L by a triangular solve.

½[d log 2π + 2Σ log Lᵢᵢ + ‖z‖²] with z = L⁻¹(x − μ); never forms Σ or Σ⁻¹.
"""

from __future__ import annotations

import math

import numpy as np
import scipy.linalg as sl
from flint import arb

from .. import exact as hp
from ..matrices import spd_from
from ..spec import Arg, LossSpec

LOG_2PI = math.log(2.0 * math.pi)
ARGS = (Arg("x", "vector", "d", "sample"), Arg("mu", "vector", "d", "mean"), Arg("L", "tril", "dd", "Cholesky factor"))


def sample(n, m, kappa, mode, rng):
    lo = np.tril(np.linalg.cholesky(spd_from(rng, n, kappa, mode)))
    mu = rng.standard_normal(n)
    return {"x": mu + lo @ rng.standard_normal(n), "mu": mu, "L": lo}


def sample_weak(n, m, kappa, mode, rng):
    """x − μ along L's weakest direction: r = σ_min·u_min·√n, so z = L⁻¹r = √n·v_min has the size of a
    typical z, but the solve has to undo all of κ(L) — the default sampler, x = μ + Lξ, never does."""
    lo = np.tril(np.linalg.cholesky(spd_from(rng, n, kappa, mode)))
    mu = rng.standard_normal(n)
    u, s, _ = np.linalg.svd(lo)
    return {"x": mu + u[:, -1] * s[-1] * np.sqrt(n), "mu": mu, "L": lo}


def _z(x, mu, L):
    return sl.solve_triangular(L, x - mu, lower=True, check_finite=False)


def value(x, mu, L):
    z = _z(x, mu, L)
    return 0.5 * (x.size * x.dtype.type(LOG_2PI) + 2 * np.sum(np.log(np.diag(L))) + z @ z)


def grad(x, mu, L):
    z = _z(x, mu, L)
    w = sl.solve_triangular(L, z, lower=True, trans="T", check_finite=False)
    return {"x": w, "mu": -w, "L": np.diag(1 / np.diag(L)) - np.tril(np.outer(w, z))}


def terms(x, mu, L):
    z = _z(x, mu, L)
    return 0.5 * (x.size * LOG_2PI + 2 * np.sum(np.abs(np.log(np.diag(L)))) + z @ z)


def exact(x, mu, L):
    d = L.nrows()
    log2pi = (arb.pi() * 2).log()
    z = hp.solve(L, x - mu)
    w = hp.solve(L.transpose(), z)
    zz = (z.transpose() * z)[0, 0]
    logs = [e.log() for e in hp.diag_entries(L)]
    value = (log2pi * d + sum(logs, arb(0)) * 2 + zz) / 2
    gl = hp.diag_from([1 / e for e in hp.diag_entries(L)]) - hp.tril(w * z.transpose())
    return value, {"x": w, "mu": -w, "L": gl}


def covariance_kappa(kappa, x, mu, L):
    """κ of the covariance LLᵀ (= κ(L)²)."""
    return kappa(L) ** 2


def torch():
    import torch

    def mvn_nll(x, mu, L):
        d = x.shape[-1]
        z = torch.linalg.solve_triangular(L, (x - mu).unsqueeze(-1), upper=False).squeeze(-1)
        logdiag = torch.log(torch.diagonal(L, dim1=-2, dim2=-1)).sum(dim=-1)
        return (0.5 * (d * LOG_2PI + 2.0 * logdiag + (z * z).sum(dim=-1))).sum()

    return mvn_nll


def jax():
    import jax.numpy as jnp
    from jax.scipy.linalg import solve_triangular

    def mvn_nll(x, mu, L):
        d = x.shape[-1]
        z = solve_triangular(L, (x - mu)[..., None], lower=True)[..., 0]
        per = d * LOG_2PI + 2 * jnp.sum(jnp.log(jnp.diagonal(L, axis1=-2, axis2=-1)), axis=-1) + jnp.sum(z * z, axis=-1)
        return 0.5 * jnp.sum(per)

    return mvn_nll


def tensorflow():
    import tensorflow as tf

    def mvn_nll(x, mu, L):
        z = tf.linalg.triangular_solve(L, (x - mu)[..., None], lower=True)[..., 0]  # z = L⁻¹(x − μ)
        logdiag = tf.reduce_sum(tf.math.log(tf.linalg.diag_part(L)), axis=-1)
        d = tf.cast(tf.shape(x)[-1], x.dtype)
        nll = d * tf.constant(LOG_2PI, dtype=x.dtype) + 2 * logdiag + tf.reduce_sum(z * z, axis=-1)
        return tf.reduce_sum(0.5 * nll)

    return mvn_nll


LOSS = LossSpec(
    name="mvn_nll", family="gaussian", formula="1/2 [d log 2pi + 2 sum(log L_ii) + ||z||^2], z = L^-1 (x - mu)",
    gradient="w = L^-T z; d/dmu = -w, d/dx = w, d/dL = diag(1/L_ii) - tril(w z^T)",
    args=ARGS, value_fn=value, grad_fn=grad, hp_fn=exact, sampler=sample, terms_fn=terms,
    kappa_governed=True, value_metric="scaled", nonsmooth_at="L_ii <= 0", governing_fn=covariance_kappa,
    variants={"weak": sample_weak},
    scale_inputs=('x', 'mu', 'L'), scale_power=2,
    value_slope=0.5, grad_slope=0.5, variant_slopes={"weak": (0.0, 0.0)},
    implementations={"torch": torch, "jax": jax, "tensorflow": tensorflow},
)
