"""Norm losses: frobenius, frobenius_l2, spectral, nuclear."""

from __future__ import annotations

import numpy as np
import scipy.linalg as sl
from flint import arb

from .. import exact as hp
from ..matrices import randsvd_from
from ..registry import Arg, LossSpec, register
from ._common import const, hp_gram, hp_is_zero, hp_top_direction, top_gap_ok

AB = (Arg("A", "matrix", "mn", "prediction"), Arg("B", "matrix", "mn", "target"))
LAMBDA_L2 = 0.1


def _pair(n, m, kappa, mode, rng):
    """A, and B = A − D with D of condition number κ (D = A − B governs spectral)."""
    a = randsvd_from(rng, m, n, kappa, mode)
    d = randsvd_from(rng, m, n, kappa, mode)
    return {"A": a, "B": a - d}


def _one(name):
    return lambda n, m, kappa, mode, rng: {name: randsvd_from(rng, m, n, kappa, mode)}


# -- frobenius, frobenius_l2 ----------------------------------------------------------------
def frobenius_value(A, B):
    d = A - B
    return (d * d).sum()


def frobenius_grad(A, B):
    d = 2 * (A - B)
    return {"A": d, "B": -d}


def frobenius_hp(A, B):
    d = A - B
    return hp.fro2(d), {"A": d * 2, "B": d * -2}


def frobenius_l2_value(A, B):
    d = A - B
    return (d * d).sum() + A.dtype.type(LAMBDA_L2) * (A * A).sum()


def frobenius_l2_grad(A, B):
    d = 2 * (A - B)
    return {"A": d + A.dtype.type(2 * LAMBDA_L2) * A, "B": -d}


def frobenius_l2_hp(A, B):
    lam = const(LAMBDA_L2)
    d = A - B
    return hp.fro2(d) + lam * hp.fro2(A), {"A": d * 2 + A * (lam * 2), "B": d * -2}


# -- spectral -------------------------------------------------------------------------------
def _svd_top(d):
    u, s, vt = sl.svd(d, full_matrices=False, check_finite=False)
    return s[0], np.outer(u[:, 0], vt[0])


def spectral_value(A, B):
    return sl.svdvals(A - B, check_finite=False)[0]


def spectral_grad(A, B):
    _, g = _svd_top(A - B)
    return {"A": g, "B": -g}


def spectral_hp(A, B):
    d = A - B
    if hp_is_zero(d):
        return arb(0), None
    lam1, top = hp_top_direction(d)
    s1 = lam1.sqrt()
    if top is None:
        return s1, None
    g = top * (1 / s1)
    return s1, {"A": g, "B": -g}


# -- nuclear --------------------------------------------------------------------------------
def nuclear_value(A):
    return np.sum(sl.svdvals(A, check_finite=False))


def nuclear_grad(A):
    u, _, vt = sl.svd(A, full_matrices=False, check_finite=False)
    return {"A": u @ vt}


def nuclear_hp(A):
    g, tall = hp_gram(A)
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


register(LossSpec(
    name="frobenius", family="norms", formula="||A - B||_F^2", args=AB,
    value_fn=frobenius_value, grad_fn=frobenius_grad, hp_fn=frobenius_hp, sampler=_pair,
    kappa_governed=False,
))
register(LossSpec(
    name="frobenius_l2", family="norms", formula="||A - B||_F^2 + 0.1 ||A||_F^2", args=AB,
    value_fn=frobenius_l2_value, grad_fn=frobenius_l2_grad, hp_fn=frobenius_l2_hp, sampler=_pair,
    kappa_governed=False, constants={"lambda": LAMBDA_L2},
))
register(LossSpec(
    name="spectral", family="norms", formula="||A - B||_2 = sigma_1(A - B)", args=AB,
    value_fn=spectral_value, grad_fn=spectral_grad, hp_fn=spectral_hp, sampler=_pair,
    kappa_governed=False, svd_based=True, well_posed_fn=lambda u, A, B: top_gap_ok(u, A, B), nonsmooth_at="sigma_1 repeated, or A = B",
    governing_fn=lambda kappa, A, B: kappa(A - B),
))
register(LossSpec(
    name="nuclear", family="norms", formula="||A||_* = sum(sigma_i)", args=(Arg("A", "matrix", "mn"),),
    value_fn=nuclear_value, grad_fn=nuclear_grad, hp_fn=nuclear_hp, sampler=_one("A"),
    kappa_governed=False, svd_based=True, nonsmooth_at="rank(A) < min(m, n)",
))
