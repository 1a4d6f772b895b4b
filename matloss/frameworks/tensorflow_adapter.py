"""TensorFlow: eager (``tf.GradientTape``) and ``tf.function``.

The losses are written in each loss file (its ``tensorflow()`` factory, with ``tf.linalg``).
Compiled mode wraps the same Python in one ``tf.function`` per loss, pass and input signature
(shapes and dtypes), kept for the life of the process so that repeated calls do not retrace. Not
one relaxed trace per loss (``reduce_retracing=True``): after a second shape TF generalises the
trace to unknown dimensions, whose kernels round differently, so a case's float32 result depended
on which cases the process had run before (seen in the accuracy sweep: 56 of 62,160 rows, all
compiled tensorflow, differed between two runs of one commit).

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

from .base import Backend


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

    # -- a standalone reproducer's framework code (matloss.findings.repro) ------------------------
    REPRO = """
import tensorflow as tf

tf.config.experimental.enable_tensor_float_32_execution(False)


def value_and_grad(fn, *arrays):
    def step(*tensors):
        with tf.GradientTape() as tape:
            for t in tensors:
                tape.watch(t)
            value = fn(*tensors)
        return value, tape.gradient(value, list(tensors), unconnected_gradients=tf.UnconnectedGradients.ZERO)

    if COMPILED:
        step = tf.function(step)
    with tf.device("/GPU:0" if DEVICE == "cuda" else "/CPU:0"):
        value, grads = step(*(tf.constant(a) for a in arrays))
    return float(value), [g.numpy() for g in grads]
"""

    def setup(self) -> None:
        tf = self._lib
        tf.config.experimental.enable_tensor_float_32_execution(False)

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
            "compiled": "tf.function, one trace per input signature",
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
        inner = fn if kind == "forward" else self._vg(fn)
        compiled = self._compiled

        def run(*tensors):
            key = (fn, kind, tuple((tuple(t.shape), t.dtype.name) for t in tensors))
            if key not in compiled:
                compiled[key] = self._on_device(tf.function(inner))
            return compiled[key](*tensors)

        return run

    def forward_fn(self, fn: Callable, mode: str, n_inputs: int) -> Callable:
        return self._step(fn, mode, "forward")

    def value_and_grad_fn(self, fn: Callable, mode: str, n_inputs: int) -> Callable:
        return self._step(fn, mode, "grad")


BACKEND = TensorflowBackend()
