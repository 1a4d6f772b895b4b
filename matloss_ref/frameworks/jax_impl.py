"""jax: every loss written the way a jax user would, differentiated by ``jax.value_and_grad``.

Precision is pinned at set-up: x64 on (jax silently computes in float32 otherwise) and the
default matmul precision "highest" (no TF32 / bf16 passes on GPUs). Eager mode calls the plain
function op by op; compiled mode wraps the same function in ``jax.jit``. The jitted callables are
cached per (loss function, kind, mode, arity) so that repeated calls reuse one trace per shape.

Behaviour of jax itself (e.g. the zero ``det`` gradient at ``diag(1, 2, 0, 3)``, NaN from a
Cholesky of a non-PD input) is left as it is: the harness records it as data.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import numpy as np

from ..losses._common import LOG_2PI
from ..registry import get_loss, list_losses
from .base import Backend


def _build_losses() -> dict[str, Callable[..., Any]]:
    """The 18 losses as jax functions of the inputs in ``spec.inputs`` order, summed over batch axes."""
    import jax.numpy as jnp
    from jax.scipy.linalg import solve_triangular

    def const(loss: str, key: str) -> float:
        return float(get_loss(loss).constants[key])

    lam_l2 = const("frobenius_l2", "lambda")
    beta = const("orthogonality_l1", "beta")
    lam_so = const("soft_orthogonality", "lambda")
    lam_srip = const("srip", "lambda")
    lam_tik = const("tikhonov", "lambda")

    def diag(x):
        return jnp.diagonal(x, axis1=-2, axis2=-1)

    def sumsq(x):
        return jnp.sum(x * x)

    # -- determinant ------------------------------------------------------------------------
    def det(A):
        return -jnp.sum(jnp.linalg.det(A))

    def logdet_naive(A):
        return -jnp.sum(jnp.log(jnp.linalg.det(A)))

    def logdet(A):
        return -jnp.sum(jnp.linalg.slogdet(A)[1])

    def logdet_spd(S):
        L = jnp.linalg.cholesky(S)
        return -2 * jnp.sum(jnp.log(diag(L)))

    # -- norms ------------------------------------------------------------------------------
    def frobenius(A, B):
        return sumsq(A - B)

    def frobenius_l2(A, B):
        return sumsq(A - B) + lam_l2 * sumsq(A)

    def spectral(A, B):
        # sigma_1 as the max of the singular values, as jnp.linalg.matrix_norm(ord=2) computes it
        return jnp.sum(jnp.max(jnp.linalg.svdvals(A - B), axis=-1))

    def nuclear(A):
        return jnp.sum(jnp.linalg.svdvals(A))

    # -- divergence -------------------------------------------------------------------------
    def logdet_divergence(P, T):
        n = P.shape[-1]
        Z = solve_triangular(jnp.linalg.cholesky(P), jnp.linalg.cholesky(T), lower=True)
        per = jnp.sum(Z * Z, axis=(-2, -1)) - 2 * jnp.sum(jnp.log(diag(Z)), axis=-1) - n
        return jnp.sum(per)

    def logdet_divergence_naive(P, T):
        n = P.shape[-1]
        M = T @ jnp.linalg.inv(P)
        per = jnp.trace(M, axis1=-2, axis2=-1) - jnp.log(jnp.linalg.det(M)) - n
        return jnp.sum(per)

    # -- orthogonality ----------------------------------------------------------------------
    def orthogonality_l1(Phi):
        # Phi: (*, l, m, n); Phi_i = Phi[..., :, i, :]; the m Gram matrices Phi_i^T Phi_i are (n, n)
        gram = jnp.einsum("...lmn,...lmk->...mnk", Phi, Phi)
        return beta * jnp.sum(jnp.abs(gram - jnp.eye(Phi.shape[-1], dtype=Phi.dtype)))

    def soft_orthogonality(W):
        G = W.mT @ W - jnp.eye(W.shape[-1], dtype=W.dtype)
        return lam_so * sumsq(G)

    def srip(W):
        s = jnp.linalg.svdvals(W)
        e = (s - 1) * (s + 1)  # sigma^2 - 1 without the cancellation of sigma*sigma - 1
        return lam_srip * jnp.sum(jnp.max(jnp.abs(e), axis=-1))

    # -- gaussian ---------------------------------------------------------------------------
    def mvn_nll(x, mu, L):
        d = x.shape[-1]
        z = solve_triangular(L, (x - mu)[..., None], lower=True)[..., 0]
        per = d * LOG_2PI + 2 * jnp.sum(jnp.log(diag(L)), axis=-1) + jnp.sum(z * z, axis=-1)
        return 0.5 * jnp.sum(per)

    def mvn_nll_naive(x, mu, L):
        d = x.shape[-1]
        cov = L @ L.mT
        r = x - mu
        quad = jnp.einsum("...i,...ij,...j->...", r, jnp.linalg.inv(cov), r)
        per = d * LOG_2PI + jnp.log(jnp.linalg.det(cov)) + quad
        return 0.5 * jnp.sum(per)

    def mvn_nll_diag(x, mu, s):
        r = x - mu
        return 0.5 * jnp.sum(r * r * jnp.exp(-s) + s + LOG_2PI)

    # -- conditioning, regularisers ---------------------------------------------------------
    def condition_number(S):
        s = jnp.linalg.svdvals(S)
        nu = s.shape[-1]
        per = 0.5 * jnp.max(s, axis=-1) ** 2 - jnp.sum(S * S, axis=(-2, -1)) / (2 * nu)
        return jnp.sum(per)

    def tikhonov(W):
        return lam_tik * sumsq(W)

    fns = {
        "det": det,
        "logdet_naive": logdet_naive,
        "logdet": logdet,
        "logdet_spd": logdet_spd,
        "frobenius": frobenius,
        "frobenius_l2": frobenius_l2,
        "spectral": spectral,
        "nuclear": nuclear,
        "logdet_divergence": logdet_divergence,
        "logdet_divergence_naive": logdet_divergence_naive,
        "orthogonality_l1": orthogonality_l1,
        "soft_orthogonality": soft_orthogonality,
        "srip": srip,
        "mvn_nll": mvn_nll,
        "mvn_nll_naive": mvn_nll_naive,
        "mvn_nll_diag": mvn_nll_diag,
        "condition_number": condition_number,
        "tikhonov": tikhonov,
    }
    return {name: fns[name] for name in list_losses() if name in fns}


class JaxBackend(Backend):
    name = "jax"
    import_name = "jax"

    def __init__(self) -> None:
        self._fn_cache: dict[tuple[Any, ...], Callable[..., Any]] = {}

    def setup(self) -> None:
        import jax

        jax.config.update("jax_enable_x64", True)
        jax.config.update("jax_default_matmul_precision", "highest")

    @functools.cached_property
    def losses(self):
        self.require()
        return _build_losses()

    @functools.cached_property
    def _devices(self) -> dict[str, Any]:
        import jax

        found = {"cpu": jax.devices("cpu")[0]}
        try:
            gpus = jax.devices("gpu")
        except RuntimeError:
            gpus = []
        if gpus:
            found["cuda"] = gpus[0]
        return found

    def devices(self) -> list[str]:
        self.require()
        return list(self._devices)

    def settings(self) -> dict[str, Any]:
        jax = self.require()
        import jaxlib

        return {
            "jax": jax.__version__,
            "jaxlib": jaxlib.__version__,
            "jax_enable_x64": bool(jax.config.jax_enable_x64),
            "jax_default_matmul_precision": jax.config.jax_default_matmul_precision,
            "default_backend": jax.default_backend(),
            "devices": [str(d) for d in jax.devices()],
        }

    def to_tensor(self, x: np.ndarray, dtype: str, device: str) -> Any:
        import jax
        import jax.numpy as jnp

        return jax.device_put(jnp.asarray(x, dtype=dtype), self._devices[device])

    def to_numpy(self, t: Any) -> np.ndarray:
        return np.asarray(t)

    def sync(self, out: Any) -> Any:
        import jax

        return jax.block_until_ready(out)

    def _cached(self, kind: str, fn: Callable, mode: str, n_inputs: int) -> Callable:
        import jax

        if mode not in self.modes:
            raise ValueError(f"mode must be one of {self.modes}, got {mode!r}")
        key = (fn, kind, mode, n_inputs)
        step = self._fn_cache.get(key)
        if step is None:
            step = fn if kind == "forward" else jax.value_and_grad(fn, argnums=tuple(range(n_inputs)))
            if mode == "compiled":
                step = jax.jit(step)
            self._fn_cache[key] = step
        return step

    def forward_fn(self, fn, mode, n_inputs):
        return self._cached("forward", fn, mode, n_inputs)

    def value_and_grad_fn(self, fn, mode, n_inputs):
        return self._cached("value_and_grad", fn, mode, n_inputs)


BACKEND = JaxBackend()
