"""The condition-number regulariser of arXiv 2410.00169, and its building blocks."""

from __future__ import annotations

import numpy as np
import scipy.linalg as sl
from flint import arb

from .. import exact as hp
from ..matrices import randsvd_from
from ..registry import Arg, LossSpec, register
from ._common import hp_top_direction, top_gap_ok


def value(S):
    s = sl.svdvals(S, check_finite=False)
    return 0.5 * s[0] ** 2 - np.sum(S * S) / (2 * s.size)


def grad(S):
    u, s, vt = sl.svd(S, full_matrices=False, check_finite=False)
    return {"S": s[0] * np.outer(u[:, 0], vt[0]) - S / S.dtype.type(s.size)}


def terms(S):
    s1 = sl.svdvals(S, check_finite=False)[0]
    return 0.5 * s1**2 + np.sum(S * S) / (2 * min(S.shape))


def hp_fn(S):
    nu = min(S.nrows(), S.ncols())
    lam1, top = hp_top_direction(S)
    f = hp.fro2(S) / (2 * nu)
    value = lam1 / 2 - f
    if top is None:
        return value, None
    return value, {"S": top - S * (1 / arb(nu))}


register(LossSpec(
    name="condition_number", family="conditioning",
    formula="r(S) = 1/2 ||S||_2^2 - 1/(2 nu) ||S||_F^2  (arXiv 2410.00169)",
    args=(Arg("S", "matrix", "mn"),),
    value_fn=value, grad_fn=grad, hp_fn=hp_fn, terms_fn=terms,
    sampler=lambda n, m, kappa, mode, rng: {"S": randsvd_from(rng, m, n, kappa, mode)},
    kappa_governed=True, value_metric="scaled", svd_based=True, well_posed_fn=lambda u, S: top_gap_ok(u, S),
    nonsmooth_at="sigma_1 repeated (every minimiser, kappa = 1, and S = 0)",
))
