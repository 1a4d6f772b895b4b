"""numpy/scipy: the closed-form value and gradient of every loss, computed in the working dtype.

numpy has no autodiff, so its implementation of a loss is the loss file's own ``value_fn`` and
its backward pass the closed-form ``grad_fn``, evaluated with ``scipy.linalg`` so that float32
stays float32 (``numpy.linalg`` would compute float32 in float64). Batched inputs are looped over
in Python; numpy has no compiled mode.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from matloss_ref import get_loss
from matloss_ref.spec import batched_grad

from .base import Backend


def _batch_shape(spec, arrays) -> tuple[int, ...]:
    first = arrays[0]
    return first.shape[: first.ndim - spec.args[0].core_ndim]


class NumpyBackend(Backend):
    name = "numpy"
    import_name = "scipy.linalg"
    modes = ("eager",)

    def implementation(self, loss: str) -> Callable[..., Any]:
        self.require()
        spec = get_loss(loss)

        def fn(*arrays: np.ndarray) -> np.ndarray:
            batch = _batch_shape(spec, arrays)
            if not batch:
                return spec.value_fn(*arrays)
            total = arrays[0].dtype.type(0)
            for i in np.ndindex(*batch):
                total += spec.value_fn(*(a[i] for a in arrays))
            return np.asarray(total, dtype=arrays[0].dtype)

        fn.loss = loss  # type: ignore[attr-defined]
        return fn

    def settings(self) -> dict[str, Any]:
        import scipy

        return {"numpy": np.__version__, "scipy": scipy.__version__, "gradient": "closed form (scipy.linalg)"}

    def to_tensor(self, x: np.ndarray, dtype: str, device: str) -> np.ndarray:
        return np.array(x, dtype=dtype, copy=True)

    def forward_fn(self, fn, mode, n_inputs):
        return fn

    def value_and_grad_fn(self, fn, mode, n_inputs):
        spec = get_loss(fn.loss)

        def vg(*arrays):
            g = batched_grad(spec, dict(zip(spec.inputs, arrays)), _batch_shape(spec, arrays))
            return fn(*arrays), tuple(g[k] for k in spec.inputs)

        return vg


BACKEND = NumpyBackend()
