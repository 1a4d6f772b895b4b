"""jax: eager (op by op) and ``jax.jit``, differentiated by ``jax.value_and_grad``.

The losses are written in each loss file (its ``jax()`` factory, with ``jax.numpy``).

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

from .base import Backend


class JaxBackend(Backend):
    name = "jax"
    import_name = "jax"

    def __init__(self) -> None:
        self._fn_cache: dict[tuple[Any, ...], Callable[..., Any]] = {}

    # -- a standalone reproducer's framework code (matloss.findings.repro) ------------------------
    REPRO = """
import jax

jax.config.update("jax_enable_x64", True)
jax.config.update("jax_default_matmul_precision", "highest")
import jax.numpy as jnp  # noqa: E402


def value_and_grad(fn, *arrays):
    step = jax.value_and_grad(fn, argnums=tuple(range(len(arrays))))
    if COMPILED:
        step = jax.jit(step)
    device = jax.devices("gpu" if DEVICE == "cuda" else "cpu")[0]
    value, grads = step(*(jax.device_put(jnp.asarray(a), device) for a in arrays))
    return float(value), [np.asarray(g) for g in grads]
"""

    def setup(self) -> None:
        import jax

        jax.config.update("jax_enable_x64", True)
        jax.config.update("jax_default_matmul_precision", "highest")

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
