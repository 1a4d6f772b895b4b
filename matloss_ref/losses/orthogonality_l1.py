"""orthogonality_l1: β Σᵢ Σⱼₖ |ΦᵢᵀΦᵢ − I|ⱼₖ over the slices Φᵢ = Φ[:, i, :] of a stack Φ (l × m × n), β = 1.

Non-smooth at any zero entry of ΦᵢᵀΦᵢ − I, so at every minimiser: near one the sign pattern of the
gradient is rounding noise, and gradients are compared only where every entry is far from 0.
"""

from __future__ import annotations

import numpy as np
from flint import arb

from .. import exact as hp
from ..matrices import randsvd_from
from ..spec import Arg, LossSpec

BETA = 1.0
SLICES = 3  # Φ has shape (l, SLICES, n) when sampled
#: samples are drawn at singular-value geometric mean 2, so that κ = 1 is not a minimiser
W_SCALE = 2.0


def sample(n, m, kappa, mode, rng):
    return {"Phi": np.stack([W_SCALE * randsvd_from(rng, m, n, kappa, mode) for _ in range(SLICES)], axis=1)}


def _gram_minus_i(Phi):
    return np.einsum("lmn,lmk->mnk", Phi, Phi) - np.eye(Phi.shape[-1], dtype=Phi.dtype)


def well_posed(u, Phi):
    """No entry of ΦᵢᵀΦᵢ − I is within rounding of 0 (the sign pattern is then rounding noise)."""
    a = np.abs(Phi)
    noise = 1e3 * u * (np.einsum("lmn,lmk->mnk", a, a) + 1)
    return bool(np.all(np.abs(_gram_minus_i(Phi)) > noise))


def value(Phi):
    return Phi.dtype.type(BETA) * np.sum(np.abs(_gram_minus_i(Phi)))


def grad(Phi):
    s = np.sign(_gram_minus_i(Phi))
    return {"Phi": Phi.dtype.type(2 * BETA) * np.einsum("lmn,mnk->lmk", Phi, s)}


def terms(Phi):
    a = np.abs(Phi)
    return BETA * np.sum(np.einsum("lmn,lmk->mnk", a, a) + np.eye(Phi.shape[-1]))


def exact(Phi):
    beta = hp.const(BETA)
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


def torch():
    import torch

    def orthogonality_l1(Phi):
        # Phi: (*, l, m, n); Phi_i = Phi[..., :, i, :]; G_i = Phi_i^T Phi_i - I
        G = torch.einsum("...lmn,...lmk->...mnk", Phi, Phi) - torch.eye(Phi.shape[-1], dtype=Phi.dtype, device=Phi.device)
        return BETA * G.abs().sum()

    return orthogonality_l1


def jax():
    import jax.numpy as jnp

    def orthogonality_l1(Phi):
        gram = jnp.einsum("...lmn,...lmk->...mnk", Phi, Phi)
        return BETA * jnp.sum(jnp.abs(gram - jnp.eye(Phi.shape[-1], dtype=Phi.dtype)))

    return orthogonality_l1


def tensorflow():
    import tensorflow as tf

    def orthogonality_l1(Phi):
        g = tf.einsum("...lmn,...lmk->...mnk", Phi, Phi) - tf.linalg.eye(tf.shape(Phi)[-1], dtype=Phi.dtype)
        return tf.constant(BETA, dtype=Phi.dtype) * tf.reduce_sum(tf.abs(g))

    return orthogonality_l1


LOSS = LossSpec(
    name="orthogonality_l1", family="orthogonality",
    formula="beta * sum_i sum_jk |Phi_i^T Phi_i - I|_jk, Phi_i = Phi[:, i, :] (beta = 1)",
    gradient="d/dPhi_i = 2 beta Phi_i sign(Phi_i^T Phi_i - I)",
    args=(Arg("Phi", "stack", "lmn"),),
    value_fn=value, grad_fn=grad, hp_fn=exact, sampler=sample, terms_fn=terms,
    kappa_governed=False, value_metric="scaled", constants={"beta": BETA}, well_posed_fn=well_posed,
    nonsmooth_at="any zero entry of Phi_i^T Phi_i - I (every minimiser)",
    governing_fn=lambda kappa, Phi: max(kappa(Phi[:, i, :]) for i in range(Phi.shape[1])),
    value_slope=0.0, grad_slope=0.0,
    implementations={"torch": torch, "jax": jax, "tensorflow": tensorflow},
)
