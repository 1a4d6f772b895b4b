"""``matloss overhead``: what the timing adapter costs, and what compilation costs.

1. The adapter's overhead: the median time of ``fw.prepare(loss, ...)()`` against a bare
   expression doing the same work in the same framework (for ``frobenius``: ``((A - B)**2).sum()``,
   waited for), timed side by side, interleaved, in one process.
2. Compile cost: for every compiled mode, the first call (trace + compile + run) against the
   median steady-state call, for forward and forward + backward.

Numbers depend on the machine: quote the ratios, not the absolute times.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable

from matloss_ref import get_loss

from .frameworks import Unsupported, get_framework


def _bare_frobenius(fw_name: str, a, b) -> Callable[[], object]:
    """The bare framework expression for frobenius on already-converted inputs, waited for: the same
    operations as the implementations (``d = A − B; sum(d·d)``) and the same wait as the adapter's sync."""

    def sq(d):
        return d * d

    if fw_name == "numpy":
        return lambda: sq(a - b).sum()
    if fw_name == "torch":
        return lambda: sq(a - b).sum()  # CPU tensors: the result is computed when the call returns
    if fw_name == "jax":
        import jax.numpy as jnp

        return lambda: jnp.sum(sq(a - b)).block_until_ready()
    if fw_name == "tensorflow":
        import tensorflow as tf

        return lambda: tf.reduce_sum(sq(a - b)).numpy()
    raise KeyError(fw_name)


def interleaved_medians(fns: dict[str, Callable[[], object]], rounds: int = 200, inner: int = 20) -> dict[str, float]:
    """Median per-call time of each callable, sampled in alternation (``inner`` calls per sample)."""
    for f in fns.values():  # warm-up
        for _ in range(inner):
            f()
    samples: dict[str, list[float]] = {k: [] for k in fns}
    for r in range(rounds):
        order = list(fns.items()) if r % 2 == 0 else list(reversed(fns.items()))
        for name, f in order:
            t0 = time.perf_counter()
            for _ in range(inner):
                f()
            samples[name].append((time.perf_counter() - t0) / inner)
    return {k: statistics.median(v) for k, v in samples.items()}


def adapter_overhead(fw_name: str, n: int = 16, dtype: str = "float64") -> dict:
    fw = get_framework(fw_name)
    x = get_loss("frobenius").sample(n, dtype=dtype)
    run = fw.prepare("frobenius", x, dtype=dtype, mode="eager")
    a, b = (fw.to_tensor(x[k], dtype, "cpu") for k in ("A", "B"))
    med = interleaved_medians({"prepared": run, "bare": _bare_frobenius(fw_name, a, b)})
    return {"framework": fw_name, "n": n, "dtype": dtype, "prepared_s": med["prepared"], "bare_s": med["bare"],
            "ratio": med["prepared"] / med["bare"]}


def compile_cost(fw_name: str, loss: str, n: int, dtype: str = "float64") -> list[dict]:
    fw = get_framework(fw_name)
    x = get_loss(loss).sample(n, dtype=dtype)
    out = []
    for backward in (False, True):
        try:
            run = fw.prepare(loss, x, dtype=dtype, mode="compiled", backward=backward)
        except Unsupported as exc:
            out.append({"framework": fw_name, "loss": loss, "backward": backward, "error": exc.reason})
            continue
        steady = interleaved_medians({"run": run}, rounds=30, inner=5)["run"]
        out.append({"framework": fw_name, "loss": loss, "n": n, "backward": backward,
                    "first_call_s": run.first_call_seconds, "steady_s": steady,
                    "first_over_steady": run.first_call_seconds / steady})
    return out
