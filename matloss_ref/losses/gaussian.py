"""Multivariate-normal negative log-likelihoods: mvn_nll, mvn_nll_naive, mvn_nll_diag."""

from __future__ import annotations

import numpy as np
import scipy.linalg as sl
from flint import arb

from .. import exact as hp
from ..matrices import singular_values, spd_from
from ..registry import Arg, LossSpec, register
from ._common import LOG_2PI

XML = (Arg("x", "vector", "d", "sample"), Arg("mu", "vector", "d", "mean"), Arg("L", "tril", "dd", "Cholesky factor"))


def _sample(n, m, kappa, mode, rng):
    lo = np.tril(np.linalg.cholesky(spd_from(rng, n, kappa, mode)))
    mu = rng.standard_normal(n)
    return {"x": mu + lo @ rng.standard_normal(n), "mu": mu, "L": lo}


def _z(x, mu, L):
    return sl.solve_triangular(L, x - mu, lower=True, check_finite=False)


def value(x, mu, L):
    z = _z(x, mu, L)
    return 0.5 * (x.size * x.dtype.type(LOG_2PI) + 2 * np.sum(np.log(np.diag(L))) + z @ z)


def grad(x, mu, L):
    z = _z(x, mu, L)
    w = sl.solve_triangular(L, z, lower=True, trans="T", check_finite=False)
    return {"x": w, "mu": -w, "L": np.diag(1 / np.diag(L)) - np.tril(np.outer(w, z))}


def naive_value(x, mu, L):
    cov = L @ L.T
    r = x - mu
    with np.errstate(divide="ignore", invalid="ignore"):
        return 0.5 * (x.size * x.dtype.type(LOG_2PI) + np.log(sl.det(cov, check_finite=False)) + r @ sl.inv(cov, check_finite=False) @ r)


def naive_grad(x, mu, L):
    cov_inv = sl.inv(L @ L.T, check_finite=False)
    w = cov_inv @ (x - mu)
    return {"x": w, "mu": -w, "L": np.tril(sl.inv(L, check_finite=False).T - np.outer(w, w) @ L)}


def terms(x, mu, L):
    z = _z(x, mu, L)
    return 0.5 * (x.size * LOG_2PI + 2 * np.sum(np.abs(np.log(np.diag(L)))) + z @ z)


def _tril(m):
    n = m.nrows()
    return type(m)(n, n, [m[i, j] if j <= i else 0 for i in range(n) for j in range(n)])


def hp_fn(x, mu, L):
    d = L.nrows()
    log2pi = (arb.pi() * 2).log()
    z = hp.solve(L, x - mu)
    w = hp.solve(L.transpose(), z)
    zz = (z.transpose() * z)[0, 0]
    logs = [e.log() for e in hp.diag_entries(L)]
    value = (log2pi * d + sum(logs, arb(0)) * 2 + zz) / 2
    gl = hp.diag_from([1 / e for e in hp.diag_entries(L)]) - _tril(w * z.transpose())
    return value, {"x": w, "mu": -w, "L": gl}


# -- diagonal covariance --------------------------------------------------------------------
XMS = (Arg("x", "vector", "d", "sample"), Arg("mu", "vector", "d", "mean"), Arg("s", "vector", "d", "log-variance"))


def _sample_diag(n, m, kappa, mode, rng):
    var = singular_values(n, kappa, mode, rng)
    mu = rng.standard_normal(n)
    return {"x": mu + np.sqrt(var) * rng.standard_normal(n), "mu": mu, "s": np.log(var)}


def diag_value(x, mu, s):
    r = x - mu
    return 0.5 * np.sum(r * r * np.exp(-s) + s + x.dtype.type(LOG_2PI))


def diag_grad(x, mu, s):
    r = x - mu
    q = r * np.exp(-s)
    return {"x": q, "mu": -q, "s": 0.5 * (1 - r * q)}


def diag_terms(x, mu, s):
    r = x - mu
    return 0.5 * np.sum(r * r * np.exp(-s) + np.abs(s) + LOG_2PI)


def diag_hp(x, mu, s):
    d = x.nrows()
    log2pi = (arb.pi() * 2).log()
    r = [a - b for a, b in zip(x.entries(), mu.entries())]
    e = [(-si).exp() for si in s.entries()]
    q = [ri * ei for ri, ei in zip(r, e)]
    value = (sum((ri * qi for ri, qi in zip(r, q)), arb(0)) + sum(s.entries(), arb(0)) + log2pi * d) / 2
    col = lambda v: type(x)(d, 1, v)  # noqa: E731
    return value, {"x": col(q), "mu": col([-qi for qi in q]), "s": col([(1 - ri * qi) / 2 for ri, qi in zip(r, q)])}


register(LossSpec(
    name="mvn_nll", family="gaussian", formula="1/2 [d log 2pi + 2 sum(log L_ii) + ||z||^2], z = L^-1 (x - mu)",
    args=XML, value_fn=value, grad_fn=grad, hp_fn=hp_fn, sampler=_sample, terms_fn=terms,
    kappa_governed=True, value_metric="scaled", nonsmooth_at="L_ii <= 0",
    governing_fn=lambda kappa, x, mu, L: kappa(L) ** 2,
))
register(LossSpec(
    name="mvn_nll_naive", family="gaussian",
    formula="1/2 [d log 2pi + log(det(Sigma)) + r^T inv(Sigma) r], Sigma = L L^T, r = x - mu",
    args=XML, value_fn=naive_value, grad_fn=naive_grad, hp_fn=hp_fn, sampler=_sample, terms_fn=terms,
    kappa_governed=True, value_metric="scaled", naive_of="mvn_nll", nonsmooth_at="L_ii <= 0; det under/overflow",
    governing_fn=lambda kappa, x, mu, L: kappa(L) ** 2,
))
register(LossSpec(
    name="mvn_nll_diag", family="gaussian", formula="1/2 sum_i [(x_i - mu_i)^2 exp(-s_i) + s_i + log 2pi]",
    args=XMS, value_fn=diag_value, grad_fn=diag_grad, hp_fn=diag_hp, sampler=_sample_diag, terms_fn=diag_terms,
    kappa_governed=False, value_metric="scaled", nonsmooth_at="smooth; exp(-s) overflows float32 for s < -88",
    governing_fn=lambda kappa, x, mu, s: float(np.exp(s.max() - s.min())),
))
