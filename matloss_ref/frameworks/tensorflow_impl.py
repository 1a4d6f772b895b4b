"""TensorFlow: every loss written the way a TF user would, with ``tf.linalg``.

Eager mode runs the loss directly (``tf.GradientTape`` for the backward pass); compiled mode
wraps the same Python in ``tf.function(reduce_retracing=True)``, one traced function per loss,
mode and pass, kept for the life of the process so that repeated calls do not retrace.

Every loss takes its inputs in ``spec.inputs`` order, is batched over leading axes and returns
the sum over the batch (one scalar). Constants come from the registry's loss modules, so they are
the same numbers as the float reference. The ``*_naive`` losses are written the naive way on
purpose (``log(det(.))``, ``inv``); the others follow LOSSES.md's "stable computation" column.

Known TF behaviour (recorded by the suites, not worked around here): the ``det`` and ``slogdet``
gradients call ``matrix_inverse`` and raise "Input is not invertible" at a singular A; a non-PD
input to ``cholesky`` gives NaN silently; TF's Cholesky gradient is symmetrised, its triangular
solve gradient w.r.t. a lower-triangular L is lower-triangular.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable
from typing import Any

import numpy as np

from ..losses._common import LOG_2PI
from ..losses.norms import LAMBDA_L2
from ..losses.orthogonality import BETA, LAMBDA_SO, LAMBDA_SRIP
from ..losses.regularisers import LAMBDA_TIK
from ..registry import list_losses
from .base import Backend


def _tf():
    import tensorflow as tf

    return tf


def _build_losses() -> dict[str, Callable[..., Any]]:
    tf = _tf()
    la = tf.linalg

    def c(x: float, like) -> Any:
        """A Python constant in the dtype of ``like`` (rounded once, as ``dtype.type(x)`` does)."""
        return tf.constant(x, dtype=like.dtype)

    def size(t, axis: int = -1) -> Any:
        """A (possibly dynamic) axis length of ``t`` as a float of ``t``'s dtype."""
        return tf.cast(tf.shape(t)[axis], t.dtype)

    def fro2(t) -> Any:
        """Per-matrix squared Frobenius norm, as a sum of squares (never ``norm(.)**2``)."""
        return tf.reduce_sum(t * t, axis=[-2, -1])

    # -- determinants -----------------------------------------------------------------------
    def det(A):
        return -tf.reduce_sum(la.det(A))

    def logdet_naive(A):
        return -tf.reduce_sum(tf.math.log(la.det(A)))

    def logdet(A):
        _, log_abs_det = la.slogdet(A)
        return -tf.reduce_sum(log_abs_det)

    def logdet_spd(S):
        return -tf.reduce_sum(la.logdet(S))  # 2 Σ log diag(cholesky(S))

    # -- norms ------------------------------------------------------------------------------
    def frobenius(A, B):
        d = A - B
        return tf.reduce_sum(d * d)

    def frobenius_l2(A, B):
        d = A - B
        return tf.reduce_sum(d * d) + c(LAMBDA_L2, A) * tf.reduce_sum(A * A)

    def spectral(A, B):
        s = la.svd(A - B, compute_uv=False)
        return tf.reduce_sum(s[..., 0])

    def nuclear(A):
        return tf.reduce_sum(la.svd(A, compute_uv=False))

    # -- divergence -------------------------------------------------------------------------
    def logdet_divergence(P, T):
        lp = la.cholesky(P)
        lt = la.cholesky(T)
        z = la.triangular_solve(lp, lt, lower=True)  # Z = L_P⁻¹ L_T
        d = fro2(z) - 2 * tf.reduce_sum(tf.math.log(la.diag_part(z)), axis=-1) - size(P)
        return tf.reduce_sum(d)

    def logdet_divergence_naive(P, T):
        m = tf.matmul(T, la.inv(P))
        d = la.trace(m) - tf.math.log(la.det(m)) - size(P)
        return tf.reduce_sum(d)

    # -- orthogonality ----------------------------------------------------------------------
    def orthogonality_l1(Phi):
        # Phi: (*, l, m, n); Phi_i = Phi[..., :, i, :]; G_i = Phi_iᵀ Phi_i - I, shape (*, m, n, n)
        g = tf.einsum("...lmn,...lmk->...mnk", Phi, Phi) - la.eye(tf.shape(Phi)[-1], dtype=Phi.dtype)
        return c(BETA, Phi) * tf.reduce_sum(tf.abs(g))

    def soft_orthogonality(W):
        g = tf.matmul(W, W, transpose_a=True) - la.eye(tf.shape(W)[-1], dtype=W.dtype)
        return c(LAMBDA_SO, W) * tf.reduce_sum(g * g)

    def srip(W):
        s = la.svd(W, compute_uv=False)
        e = (s - 1) * (s + 1)  # σ² − 1 without the cancellation of σ·σ − 1
        return c(LAMBDA_SRIP, W) * tf.reduce_sum(tf.reduce_max(tf.abs(e), axis=-1))

    # -- Gaussian negative log-likelihoods --------------------------------------------------
    def mvn_nll(x, mu, L):
        z = la.triangular_solve(L, (x - mu)[..., None], lower=True)[..., 0]  # z = L⁻¹(x − μ)
        logdiag = tf.reduce_sum(tf.math.log(la.diag_part(L)), axis=-1)
        nll = size(x) * c(LOG_2PI, x) + 2 * logdiag + tf.reduce_sum(z * z, axis=-1)
        return tf.reduce_sum(0.5 * nll)

    def mvn_nll_naive(x, mu, L):
        cov = tf.matmul(L, L, transpose_b=True)
        r = (x - mu)[..., None]
        quad = tf.matmul(r, tf.matmul(la.inv(cov), r), transpose_a=True)[..., 0, 0]
        nll = size(x) * c(LOG_2PI, x) + tf.math.log(la.det(cov)) + quad
        return tf.reduce_sum(0.5 * nll)

    def mvn_nll_diag(x, mu, s):
        r = x - mu
        return 0.5 * tf.reduce_sum(r * r * tf.exp(-s) + s + c(LOG_2PI, x))

    # -- conditioning, regularisers ---------------------------------------------------------
    def condition_number(S):
        s = la.svd(S, compute_uv=False)
        r = 0.5 * s[..., 0] ** 2 - fro2(S) / (2 * size(s))
        return tf.reduce_sum(r)

    def tikhonov(W):
        return c(LAMBDA_TIK, W) * tf.reduce_sum(W * W)

    table = {
        f.__name__: f
        for f in (
            det,
            logdet_naive,
            logdet,
            logdet_spd,
            frobenius,
            frobenius_l2,
            spectral,
            nuclear,
            logdet_divergence,
            logdet_divergence_naive,
            orthogonality_l1,
            soft_orthogonality,
            srip,
            mvn_nll,
            mvn_nll_naive,
            mvn_nll_diag,
            condition_number,
            tikhonov,
        )
    }
    out = {}
    for name in list_losses():  # registry order; a loss without an implementation is left out
        if name in table:
            fn = table[name]
            fn.loss = name  # type: ignore[attr-defined]
            out[name] = fn
    return out


class TensorflowBackend(Backend):
    name = "tensorflow"
    import_name = "tensorflow"

    def _load(self) -> Any:
        # TF_CPP_MIN_LOG_LEVEL is read by TF's C++ logging when it first logs (during import):
        # set it only around the import, and only if the user has not, so that other frameworks
        # sharing the C++ logging library (jax/XLA) are not silenced.
        if self._lib is not None or self._error is not None:
            return self._lib
        key = "TF_CPP_MIN_LOG_LEVEL"
        preset = key in os.environ
        if not preset:
            os.environ[key] = "2"
        try:
            return super()._load()
        finally:
            if not preset:
                os.environ.pop(key, None)

    def setup(self) -> None:
        tf = self._lib
        tf.config.experimental.enable_tensor_float_32_execution(False)

    @functools.cached_property
    def losses(self) -> dict[str, Callable[..., Any]]:
        self.require()
        return _build_losses()

    @functools.cached_property
    def _gpus(self) -> list[Any]:
        return list(self.require().config.list_physical_devices("GPU"))

    def devices(self) -> list[str]:
        return ["cpu"] + (["cuda"] if self._gpus else [])

    def settings(self) -> dict[str, Any]:
        tf = self.require()
        return {
            "tensorflow": tf.__version__,
            "tensor_float_32_execution": bool(tf.config.experimental.tensor_float_32_execution_enabled()),
            "devices": self.devices(),
            "gpus": [d.name for d in self._gpus],
            "compiled": "tf.function(reduce_retracing=True)",
        }

    @staticmethod
    def _tf_device(device: str) -> str:
        return "/GPU:0" if device == "cuda" else "/CPU:0"

    def to_tensor(self, x: np.ndarray, dtype: str, device: str) -> Any:
        tf = self.require()
        with tf.device(self._tf_device(device)):
            # identity makes sure the tensor lives on the device, not on the host
            return tf.identity(tf.constant(x, dtype=dtype))

    def to_numpy(self, t: Any) -> np.ndarray:
        return t.numpy()

    def sync(self, out: Any) -> Any:
        tf = self.require()
        leaves = [t for t in tf.nest.flatten(out) if isinstance(t, tf.Tensor)]
        if any("GPU" in t.device for t in leaves):
            tf.test.experimental.sync_devices()  # GPU kernels run asynchronously
        elif leaves:
            # CPU eager ops and tf.function calls execute synchronously; reading the value
            # back (a scalar, cheap) makes sure of it without copying the gradients
            leaves[0].numpy()
        return out

    # -- eager / compiled callables -----------------------------------------------------------
    @functools.cached_property
    def _compiled(self) -> dict[tuple[Any, str], Callable]:
        return {}

    def _on_device(self, step: Callable) -> Callable:
        """Run ``step`` on the device of its first input (TF eager would otherwise prefer a GPU)."""
        tf = self.require()

        def run(*tensors):
            with tf.device("/GPU:0" if "GPU" in tensors[0].device else "/CPU:0"):
                return step(*tensors)

        return run

    def _vg(self, fn: Callable) -> Callable:
        tf = self.require()

        def vg(*tensors):
            with tf.GradientTape() as tape:
                for t in tensors:
                    tape.watch(t)
                value = fn(*tensors)
            grads = tape.gradient(value, list(tensors), unconnected_gradients=tf.UnconnectedGradients.ZERO)
            return value, tuple(tf.convert_to_tensor(g) for g in grads)

        return vg

    def _step(self, fn: Callable, mode: str, kind: str) -> Callable:
        tf = self.require()
        if mode == "eager":
            return self._on_device(fn if kind == "forward" else self._vg(fn))
        key = (fn, kind)
        if key not in self._compiled:
            inner = fn if kind == "forward" else self._vg(fn)
            self._compiled[key] = self._on_device(tf.function(inner, reduce_retracing=True))
        return self._compiled[key]

    def forward_fn(self, fn: Callable, mode: str, n_inputs: int) -> Callable:
        return self._step(fn, mode, "forward")

    def value_and_grad_fn(self, fn: Callable, mode: str, n_inputs: int) -> Callable:
        return self._step(fn, mode, "grad")


BACKEND = TensorflowBackend()
