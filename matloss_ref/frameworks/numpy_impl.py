"""numpy/scipy: the closed-form value and gradient of every loss, computed in the working dtype.

numpy has no autodiff, so its backward pass is the closed-form gradient of the registry
(``spec.grad_fn``), evaluated with ``scipy.linalg`` so that float32 stays float32. Batched inputs
are looped over in Python; numpy has no compiled mode.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import numpy as np

from ..registry import CORE_NDIM, batched_grad, get_loss, list_losses
from .base import Backend


def _forward(loss: str) -> Callable[..., Any]:
    spec = get_loss(loss)
    core = CORE_NDIM[spec.args[0].kind]

    def fn(*arrays: np.ndarray) -> np.ndarray:
        batch = arrays[0].shape[: arrays[0].ndim - core]
        if not batch:
            return spec.value_fn(*arrays)
        total = arrays[0].dtype.type(0)
        for i in np.ndindex(*batch):
            total += spec.value_fn(*(a[i] for a in arrays))
        return np.asarray(total, dtype=arrays[0].dtype)

    fn.loss = loss  # type: ignore[attr-defined]
    return fn


class NumpyBackend(Backend):
    name = "numpy"
    import_name = "scipy.linalg"
    modes = ("eager",)

    @functools.cached_property
    def losses(self):
        return {name: _forward(name) for name in list_losses()}

    def settings(self) -> dict[str, Any]:
        import scipy

        return {"numpy": np.__version__, "scipy": scipy.__version__, "gradient": "closed form (scipy.linalg)"}

    def to_tensor(self, x: np.ndarray, dtype: str, device: str) -> np.ndarray:
        return np.array(x, dtype=dtype, copy=True)

    def forward_fn(self, fn, mode, n_inputs):
        return fn

    def value_and_grad_fn(self, fn, mode, n_inputs):
        spec = get_loss(fn.loss)
        core = CORE_NDIM[spec.args[0].kind]

        def vg(*arrays):
            batch = arrays[0].shape[: arrays[0].ndim - core]
            g = batched_grad(spec, dict(zip(spec.inputs, arrays)), batch)
            return fn(*arrays), tuple(g[k] for k in spec.inputs)

        return vg


BACKEND = NumpyBackend()
