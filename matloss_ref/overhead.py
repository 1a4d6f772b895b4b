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

from . import get_framework, get_loss, list_frameworks, list_losses
from .cli import arg, command
from .frameworks import Unsupported


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


@command("overhead", "adapter overhead against a bare expression, and compile (first-call) cost per compiled mode")
@arg("--framework", action="append", help="only these frameworks")
@arg("--loss", action="append", help="losses for the compile cost (default: all)")
@arg("-n", type=int, default=16, help="size (default 16)")
def cmd_overhead(ns) -> int:
    frameworks = [f for f in (ns.framework or list_frameworks()) if get_framework(f).available]
    print(f"## Adapter overhead: frobenius, n = {ns.n}, float64, eager (median of 200 interleaved samples)\n")
    print("| framework | prepare()() | bare expression | ratio |\n|---|---|---|---|")
    for f in frameworks:
        r = adapter_overhead(f, ns.n)
        print(f"| {f} | {r['prepared_s'] * 1e6:.2f} µs | {r['bare_s'] * 1e6:.2f} µs | {r['ratio']:.2f}× |", flush=True)
    print(f"\n## Compile cost: first call vs steady state, n = {ns.n}, float64\n")
    print("| framework | loss | pass | first call | steady state | first / steady |\n|---|---|---|---|---|---|")
    for f in frameworks:
        if "compiled" not in get_framework(f).modes:
            continue
        for loss in ns.loss or list_losses():
            for r in compile_cost(f, loss, ns.n):
                what = "fwd+bwd" if r["backward"] else "forward"
                if "error" in r:
                    print(f"| {f} | {loss} | {what} | unsupported: {r['error'][:60]} | | |", flush=True)
                else:
                    print(f"| {f} | {loss} | {what} | {r['first_call_s'] * 1e3:.1f} ms | {r['steady_s'] * 1e6:.1f} µs "
                          f"| {r['first_over_steady']:.0f}× |", flush=True)
    return 0
