"""Weight regularisers: tikhonov."""

from __future__ import annotations

import numpy as np

from .. import exact as hp
from ..registry import Arg, LossSpec, register
from ._common import const
from .norms import _one

LAMBDA_TIK = 1.0


# -- tikhonov -------------------------------------------------------------------------------
def tikhonov_value(W):
    return W.dtype.type(LAMBDA_TIK) * np.sum(W * W)


def tikhonov_grad(W):
    return {"W": W.dtype.type(2 * LAMBDA_TIK) * W}


def tikhonov_hp(W):
    lam = const(LAMBDA_TIK)
    return lam * hp.fro2(W), {"W": W * (lam * 2)}


register(LossSpec(
    name="tikhonov", family="norms", formula="||W||_F^2 (lambda = 1)", args=(Arg("W", "matrix", "mn"),),
    value_fn=tikhonov_value, grad_fn=tikhonov_grad, hp_fn=tikhonov_hp, sampler=_one("W"),
    kappa_governed=False, constants={"lambda": LAMBDA_TIK},
))
