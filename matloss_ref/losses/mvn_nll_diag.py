"""mvn_nll_diag: the Gaussian NLL with a diagonal covariance given as log-variances s: ½Σᵢ[(xᵢ−μᵢ)² e^{−sᵢ} + sᵢ + log 2π]."""

from __future__ import annotations

import math

import numpy as np
from flint import arb

from ..matrices import singular_values
from ..spec import Arg, LossSpec

LOG_2PI = math.log(2.0 * math.pi)


def sample(n, m, kappa, mode, rng):
    var = singular_values(n, kappa, mode, rng)
    mu = rng.standard_normal(n)
    return {"x": mu + np.sqrt(var) * rng.standard_normal(n), "mu": mu, "s": np.log(var)}


def value(x, mu, s):
    r = x - mu
    return 0.5 * np.sum(r * r * np.exp(-s) + s + x.dtype.type(LOG_2PI))


def grad(x, mu, s):
    r = x - mu
    q = r * np.exp(-s)
    return {"x": q, "mu": -q, "s": 0.5 * (1 - r * q)}


def terms(x, mu, s):
    r = x - mu
    return 0.5 * np.sum(r * r * np.exp(-s) + np.abs(s) + LOG_2PI)


def exact(x, mu, s):
    d = x.nrows()
    log2pi = (arb.pi() * 2).log()
    r = [a - b for a, b in zip(x.entries(), mu.entries())]
    e = [(-si).exp() for si in s.entries()]
    q = [ri * ei for ri, ei in zip(r, e)]
    value = (sum((ri * qi for ri, qi in zip(r, q)), arb(0)) + sum(s.entries(), arb(0)) + log2pi * d) / 2
    col = lambda v: type(x)(d, 1, v)  # noqa: E731
    return value, {"x": col(q), "mu": col([-qi for qi in q]), "s": col([(1 - ri * qi) / 2 for ri, qi in zip(r, q)])}


def torch():
    import torch

    def mvn_nll_diag(x, mu, s):
        r = x - mu
        return 0.5 * (r * r * torch.exp(-s) + s + LOG_2PI).sum()

    return mvn_nll_diag


def jax():
    import jax.numpy as jnp

    def mvn_nll_diag(x, mu, s):
        r = x - mu
        return 0.5 * jnp.sum(r * r * jnp.exp(-s) + s + LOG_2PI)

    return mvn_nll_diag


def tensorflow():
    import tensorflow as tf

    def mvn_nll_diag(x, mu, s):
        r = x - mu
        return 0.5 * tf.reduce_sum(r * r * tf.exp(-s) + s + tf.constant(LOG_2PI, dtype=x.dtype))

    return mvn_nll_diag


LOSS = LossSpec(
    name="mvn_nll_diag", family="gaussian", formula="1/2 sum_i [(x_i - mu_i)^2 exp(-s_i) + s_i + log 2pi]",
    gradient="d/dmu = -(x - mu) e^-s, d/dx = (x - mu) e^-s, d/ds = 1/2 (1 - (x - mu)^2 e^-s)",
    args=(Arg("x", "vector", "d", "sample"), Arg("mu", "vector", "d", "mean"), Arg("s", "vector", "d", "log-variance")),
    value_fn=value, grad_fn=grad, hp_fn=exact, sampler=sample, terms_fn=terms,
    kappa_governed=False, value_metric="scaled", nonsmooth_at="smooth; exp(-s) overflows float32 for s < -88",
    governing_fn=lambda kappa, x, mu, s: float(np.exp(s.max() - s.min())),
    value_slope=0.0, grad_slope=0.0,
    implementations={"torch": torch, "jax": jax, "tensorflow": tensorflow},
)
