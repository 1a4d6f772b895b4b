"""Orthogonality penalties: orthogonality_l1, soft_orthogonality, srip."""

from __future__ import annotations

import numpy as np
import scipy.linalg as sl
from flint import arb

from .. import exact as hp
from ..matrices import randsvd_from
from ..registry import Arg, LossSpec, register
from ..validation import fail
from ._common import const

BETA = 1.0
LAMBDA_SO = 1.0
LAMBDA_SRIP = 1.0
SLICES = 3  # Φ has shape (l, SLICES, n) when sampled
#: samples are drawn at singular-value geometric mean 2, so that κ = 1 is not a minimiser (an
#: orthogonal W); the near-orthogonal regime is the structured "orthogonal" case
W_SCALE = 2.0


def _tall(loss, arrays):
    w = arrays["W"]
    if w.shape[0] < w.shape[1]:
        fail(loss, "W", f"must have at least as many rows as columns (m >= n), got shape {w.shape}")


def _w(n, m, kappa, mode, rng):
    return {"W": W_SCALE * randsvd_from(rng, max(m, n), n, kappa, mode)}


# -- orthogonality_l1 -----------------------------------------------------------------------
def _phi(n, m, kappa, mode, rng):
    return {"Phi": np.stack([W_SCALE * randsvd_from(rng, m, n, kappa, mode) for _ in range(SLICES)], axis=1)}


def _l1_well_posed(u, Phi):
    """No entry of ΦᵢᵀΦᵢ − I is within rounding of 0 (the sign pattern is then rounding noise)."""
    g = _phi_gram_minus_i(Phi)
    a = np.abs(Phi)
    noise = 1e3 * u * (np.einsum("lmn,lmk->mnk", a, a) + 1)
    return bool(np.all(np.abs(g) > noise))


def _srip_well_posed(u, W):
    """The top |σᵢ² − 1| is separated from the next by far more than rounding."""
    s = np.linalg.svd(W, compute_uv=False)
    e = np.sort(np.abs((s - 1) * (s + 1)))[::-1]
    return e.size < 2 or (e[0] - e[1]) > 1e4 * u * (s[0] ** 2 + 1) * max(W.shape)


def _phi_gram_minus_i(Phi):
    return np.einsum("lmn,lmk->mnk", Phi, Phi) - np.eye(Phi.shape[-1], dtype=Phi.dtype)


def l1_value(Phi):
    return Phi.dtype.type(BETA) * np.sum(np.abs(_phi_gram_minus_i(Phi)))


def l1_grad(Phi):
    s = np.sign(_phi_gram_minus_i(Phi))
    return {"Phi": Phi.dtype.type(2 * BETA) * np.einsum("lmn,mnk->lmk", Phi, s)}


def l1_terms(Phi):
    a = np.abs(Phi)
    return BETA * np.sum(np.einsum("lmn,lmk->mnk", a, a) + np.eye(Phi.shape[-1]))


def l1_hp(Phi):
    beta = const(BETA)
    total, grads = arb(0), []
    undefined = False
    for p in Phi:
        g = p.transpose() * p - hp.identity(p.ncols())
        signs = []
        for e in g.entries():
            if e.contains(0):
                if not e.is_zero():
                    raise hp.NeedsPrecision("sign of an entry of PhiᵀPhi − I not resolved")
                undefined = True
            signs.append(0 if e.contains(0) else (1 if e > 0 else -1))
            total += abs(e)
        sg = type(p)(g.nrows(), g.ncols(), signs)
        grads.append(p * sg * (beta * 2))
    return total * beta, (None if undefined else {"Phi": grads})


# -- soft_orthogonality ---------------------------------------------------------------------
def so_value(W):
    g = W.T @ W - np.eye(W.shape[1], dtype=W.dtype)
    return W.dtype.type(LAMBDA_SO) * np.sum(g * g)


def so_grad(W):
    g = W.T @ W - np.eye(W.shape[1], dtype=W.dtype)
    return {"W": W.dtype.type(4 * LAMBDA_SO) * (W @ g)}


def so_terms(W):
    a = np.abs(W)
    t = a.T @ a + np.eye(W.shape[1])
    return LAMBDA_SO * np.sum(t * t)


def so_hp(W):
    lam = const(LAMBDA_SO)
    g = W.transpose() * W - hp.identity(W.ncols())
    return lam * hp.fro2(g), {"W": W * g * (lam * 4)}


# -- srip -----------------------------------------------------------------------------------
def _srip_parts(W):
    _, s, vt = sl.svd(W, full_matrices=False, check_finite=False)
    e = (s - 1) * (s + 1)  # σ² − 1 without the cancellation of σ·σ − 1
    i = int(np.argmax(np.abs(e)))
    return e[i], vt[i]


def srip_value(W):
    e, _ = _srip_parts(W)
    return W.dtype.type(LAMBDA_SRIP) * abs(e)


def srip_grad(W):
    e, v = _srip_parts(W)
    return {"W": W.dtype.type(2 * LAMBDA_SRIP) * np.sign(e) * np.outer(W @ v, v)}


def srip_terms(W):
    return LAMBDA_SRIP * (sl.svdvals(W, check_finite=False)[0] ** 2 + 1)


def srip_hp(W):
    lam = const(LAMBDA_SRIP)
    g = W.transpose() * W - hp.identity(W.ncols())
    ev, vecs = hp.sym_eig(g)
    n = g.nrows()
    j = 0 if abs(ev[0]) > abs(ev[-1]) or n == 1 else n - 1
    value = lam * abs(ev[j])
    if ev[j].contains(0):
        return value, None  # W orthogonal: |·| has its kink at 0
    rivals = [i for i in range(n) if i != j]
    if any(abs(ev[i]).overlaps(abs(ev[j])) for i in rivals):
        return value, None  # the top |eigenvalue| is not simple: no gradient
    s = 1 if ev[j] > 0 else -1
    v = type(g)(n, 1, [vecs[i, j] for i in range(n)])
    return value, {"W": W * v * v.transpose() * (lam * 2 * s)}


register(LossSpec(
    name="orthogonality_l1", family="orthogonality",
    formula="beta * sum_i sum_jk |Phi_i^T Phi_i - I|_jk, Phi_i = Phi[:, i, :] (beta = 1)",
    args=(Arg("Phi", "stack", "lmn"),),
    value_fn=l1_value, grad_fn=l1_grad, hp_fn=l1_hp, sampler=_phi, terms_fn=l1_terms,
    kappa_governed=False, value_metric="scaled", constants={"beta": BETA}, well_posed_fn=_l1_well_posed,
    nonsmooth_at="any zero entry of Phi_i^T Phi_i - I (every minimiser)",
    governing_fn=lambda kappa, Phi: max(kappa(Phi[:, i, :]) for i in range(Phi.shape[1])),
))
register(LossSpec(
    name="soft_orthogonality", family="orthogonality", formula="lambda ||W^T W - I||_F^2 (lambda = 1)",
    args=(Arg("W", "matrix", "mn"),),
    value_fn=so_value, grad_fn=so_grad, hp_fn=so_hp, sampler=_w, terms_fn=so_terms, domain_check=_tall,
    kappa_governed=False, value_metric="scaled", constants={"lambda": LAMBDA_SO},
))
register(LossSpec(
    name="srip", family="orthogonality", formula="lambda ||W^T W - I||_2 = lambda max_i |sigma_i(W)^2 - 1|",
    args=(Arg("W", "matrix", "mn"),),
    value_fn=srip_value, grad_fn=srip_grad, hp_fn=srip_hp, sampler=_w, terms_fn=srip_terms, domain_check=_tall,
    kappa_governed=True, value_metric="scaled", svd_based=True, well_posed_fn=_srip_well_posed, constants={"lambda": LAMBDA_SRIP},
    nonsmooth_at="top |eigenvalue| of W^T W - I not simple",
))
