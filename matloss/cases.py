"""Speed cases: the grid, read from the registry, and the one builder of a case's warm,
synchronised callable (cached per process). The asv suites (``suites/``), the pytest-benchmark
suite and the paired speed gate all time what :func:`prepared` returns.

A *case* is ``(loss, framework, device, dtype, shape, mode)``. Losses and frameworks come from
``matloss_ref``; nothing here names one. The grid is the same whatever is installed: a case a
framework cannot run (not installed, no GPU, no compiled mode, a compile failure) raises
``NotImplementedError`` (the adapter's ``Unsupported``) from ``setup`` and asv records it as
skipped.

``shape`` is a string: ``"16"``, ``"128"``, ``"512"`` are one n x n problem (one n-vector for the
vector inputs); ``"256x8"`` is a batch of 256 problems of size 8 in one call. SVD-based losses
(``spec.svd_based``) stop at ``SVD_MAX_N``: their ``"512"`` case is skipped (an n = 512 SVD
backward takes about a second per call here, and the run must stay under 45 minutes).
"""

from __future__ import annotations

import importlib
import os
import sys
import tempfile
import time
from collections.abc import Callable
from typing import Any

import numpy as np

from matloss_ref import get_loss, list_losses

from .frameworks import DTYPES as _DTYPES
from .frameworks import MODES as _MODES
from .frameworks import get_framework, list_frameworks
from .threads import persistent_compile_caches

# jax keeps compiled programs on disk only when asked (torch's inductor does by default): every
# case runs in a fresh process, so without it each jax case recompiles every op it touches (~1 s).
# Compiling happens in setup, outside the timing. (Importing matloss imports no framework.)
persistent_compile_caches()

LOSSES: list[str] = list_losses()
FRAMEWORKS: list[str] = list_frameworks()
DEVICES: list[str] = ["cpu", "cuda"]
DTYPES: list[str] = list(_DTYPES)
SHAPES: list[str] = ["16", "128", "512", "256x8"]
MODES: list[str] = list(_MODES)
SVD_MAX_N = 128
KAPPA = 100.0  # condition number of the governing matrix of every speed input
SEED = 0

#: ``params`` / ``param_names`` of the timing benchmarks
GRID: list[list[str]] = [LOSSES, FRAMEWORKS, DEVICES, DTYPES, SHAPES, MODES]
GRID_NAMES: list[str] = ["loss", "framework", "device", "dtype", "shape", "mode"]

#: target length of one timing sample (asv's own default ``sample_time``)
SAMPLE_TIME = 0.01
#: target length of one timed call of a suite's ``time_`` case: the step's calls in a row, as in
#: timeit's loop; asv_runner re-runs setup only between such batches (``per_call_timer``)
BATCH_TIME = 0.001


def parse_shape(loss: str, shape: str) -> tuple[int, tuple[int, ...]]:
    """``(n, batch)`` of a shape label; ``NotImplementedError`` where the loss's grid stops lower."""
    batch_text, _, n_text = shape.rpartition("x")
    n, batch = int(n_text), ((int(batch_text),) if batch_text else ())
    if get_loss(loss).svd_based and n > SVD_MAX_N:
        raise NotImplementedError(f"{loss} is SVD-based: the speed grid stops at n = {SVD_MAX_N}")
    return n, batch


def largest_shape(loss: str) -> str:
    """The largest single-problem shape of ``loss`` in the grid (for the memory benchmarks)."""
    sizes = [s for s in SHAPES if "x" not in s]
    ok = [s for s in sizes if not get_loss(loss).svd_based or int(s) <= SVD_MAX_N]
    return max(ok, key=int)


# -- inputs ---------------------------------------------------------------------------------
_INPUTS: dict[tuple, dict[str, np.ndarray]] = {}


def inputs(loss: str, n: int, dtype: str, batch: tuple[int, ...] = (), input_dir: str | None = None) -> dict[str, np.ndarray]:
    """``spec.sample(n, kappa=KAPPA, dtype=dtype, seed=SEED, batch=batch)``, sampled once.

    Kept per process, and in ``input_dir`` (asv's ``setup_cache`` directory, shared by every
    case of one run) so the n = 512 samples (about a second each) are drawn once per run, by the
    code of the commit under test, not once per case.
    """
    key = (loss, n, dtype, batch)
    if key not in _INPUTS:
        path = None
        if input_dir is not None:
            tag = "x".join(map(str, batch)) or "1"
            path = os.path.join(input_dir, f"inputs-{loss}-{n}-{dtype}-{tag}.npz")
        if path is not None and os.path.exists(path):
            with np.load(path) as f:
                x = {k: f[k] for k in f.files}
        else:
            x = get_loss(loss).sample(n, kappa=KAPPA, dtype=dtype, seed=SEED, batch=batch)
            if path is not None:  # atomic: write a temporary file, then rename
                fd, tmp = tempfile.mkstemp(dir=input_dir, suffix=".tmp")
                with os.fdopen(fd, "wb") as f:
                    np.savez(f, **x)
                os.replace(tmp, path)
        _INPUTS[key] = x
    return _INPUTS[key]


# -- the prepared callable of a case --------------------------------------------------------
_PREPARED: dict[tuple, Any] = {}


def check_case(framework: str, device: str, mode: str) -> None:
    """Raise ``NotImplementedError`` before any sampling for a case that cannot run here."""
    fw = get_framework(framework)
    if not fw.available:
        raise NotImplementedError(f"{framework} is not available: {fw.reason}")
    if mode not in fw.modes:
        raise NotImplementedError(f"{framework} has no {mode} mode")
    if device not in fw.devices():
        raise NotImplementedError(f"{framework}: no {device} device here")


def prepared(
    loss: str, framework: str, device: str, dtype: str, shape: str, mode: str, *, backward: bool, input_dir: str | None = None
) -> Callable[[], Any]:
    """The warm, synchronised ``fw.prepare(...)`` callable of a case, built once per process.

    asv runs ``setup`` before every timed call, so a second call for the same case is a dict
    lookup. A skip (``NotImplementedError``) is remembered and raised again.
    """
    key = (loss, framework, device, dtype, shape, mode, backward)
    hit = _PREPARED.get(key)
    if hit is None:
        t0 = time.perf_counter()
        try:
            n, batch = parse_shape(loss, shape)
            check_case(framework, device, mode)
            x = inputs(loss, n, dtype, batch, input_dir)
            hit = get_framework(framework).prepare(loss, x, dtype=dtype, device=device, mode=mode, backward=backward)
        except NotImplementedError as exc:
            hit = exc
        _PREPARED[key] = hit
        _log_setup(key, time.perf_counter() - t0, hit)
    if isinstance(hit, NotImplementedError):
        raise hit
    return hit


def _log_setup(key: tuple, seconds: float, hit: Any) -> None:
    """With ``MATLOSS_SETUP_LOG=FILE``, append one JSON line per case built: where a run's time goes
    (inputs, compile, warm-up), outside what asv times. ``experiments/setup_costs.py`` sums them."""
    path = os.environ.get("MATLOSS_SETUP_LOG")
    if not path:
        return
    import json

    status = "skip" if isinstance(hit, NotImplementedError) else "ok"
    line = json.dumps({"case": list(key[:-1]), "backward": key[-1], "seconds": round(seconds, 4), "status": status})
    with open(path, "a") as f:  # one short write per line: processes of one run may share the file
        f.write(line + "\n")


_NUMBER: dict[int, int] = {}


def calls_per_sample(step: Callable[[], Any], sample_time: float = SAMPLE_TIME) -> int:
    """How many calls of ``step`` make one ``sample_time`` sample (at least 1); measured once.

    asv_runner >= 0.3 times one call per sample when a benchmark has a ``setup`` (it re-runs
    setup before every call); setting ``number`` from setup batches the individually timed calls
    of a µs-scale case into ~10 ms samples again, so their median is as steady as asv's
    auto-calibrated one.
    """
    if id(step) not in _NUMBER:
        t0, k = time.perf_counter(), 0
        while True:
            step()
            k += 1
            elapsed = time.perf_counter() - t0
            if elapsed >= 2 * sample_time and k >= 2 or elapsed >= 1.0:
                break
        _NUMBER[id(step)] = max(1, int(sample_time / (elapsed / k)))
    return _NUMBER[id(step)]


def per_call_timer(batch: int) -> Callable[[], float]:
    """A clock for asv's ``timer`` attribute that reads ``time.perf_counter() / batch``: a timed
    call that runs the step ``batch`` times then measures seconds per call of the step."""
    if batch < 1:
        raise ValueError(f"batch must be >= 1, got {batch}")
    if batch == 1:
        return time.perf_counter
    return lambda: time.perf_counter() / batch


# -- GPU memory -----------------------------------------------------------------------------
def _torch_peak(step: Callable[[], Any]) -> int:
    import torch

    torch.cuda.reset_peak_memory_stats()
    step()
    return int(torch.cuda.max_memory_allocated())


def _tensorflow_peak(step: Callable[[], Any]) -> int:
    import tensorflow as tf

    tf.config.experimental.reset_memory_stats("GPU:0")
    step()
    return int(tf.config.experimental.get_memory_info("GPU:0")["peak"])


def _jax_peak(step: Callable[[], Any]) -> int:
    import jax

    step()  # jax has no reset: the peak since this (one-case, spawned) process started
    return int(jax.devices("gpu")[0].memory_stats()["peak_bytes_in_use"])


#: peak device memory of one call, by the framework's own allocator statistics
GPU_PEAK: dict[str, Callable[[Callable[[], Any]], int]] = {"torch": _torch_peak, "tensorflow": _tensorflow_peak, "jax": _jax_peak}


def gpu_peak_bytes(framework: str, step: Callable[[], Any]) -> int:
    try:
        probe = GPU_PEAK[get_framework(framework).import_name.split(".")[0]]
    except KeyError:
        raise NotImplementedError(f"{framework}: no GPU memory statistics") from None
    return probe(step)


# -- asv's forkserver -----------------------------------------------------------------------
#: modules ``torch.compile`` imports lazily on first use; imported once in the forkserver they
#: save each forked compiled case about a second (a module this torch lacks is skipped)
_TORCH_COMPILE_IMPORTS = """
    torch._dynamo.backends.inductor torch._dynamo.backends.cudagraphs torch._dynamo.backends.distributed
    torch._dynamo.backends.onnxrt torch._dynamo.backends.tensorrt torch._dynamo.backends.torchxla
    torch._dynamo.backends.tvm torch._dynamo.dce_extra_outputs torch._dynamo.repro.after_dynamo
    torch._export.db torch._export.passes.add_runtime_assertions_for_constraints_pass
    torch._export.passes.collect_tracepoints_pass torch._functorch._aot_autograd.subclass_codegen
    torch._higher_order_ops.passes.inline_invoke_subgraph torch._inductor.codegen.cpp_wrapper_cpu_array_ref
    torch._inductor.codegen.cpp_wrapper_gpu torch._inductor.codegen.cpp_wrapper_mps
    torch._inductor.codegen.cuda_combined_scheduling torch._inductor.codegen.cutedsl.cutedsl_scheduling
    torch._inductor.codegen.cutlass.scheduling torch._inductor.codegen.halide torch._inductor.codegen.memory_planning
    torch._inductor.codegen.mps torch._inductor.codegen.nv_universal_gemm torch._inductor.codegen.pallas
    torch._inductor.codegen.python_wrapper_mtia torch._inductor.codegen.rocm.rocm_cpp_scheduling
    torch._inductor.codegen.wrapper_fxir torch._inductor.codegen.xpu.xpu_combined_scheduling
    torch._inductor.compiler_bisector torch._inductor.hooks torch._subclasses.schema_check_mode
    torch.distributed.tensor.experimental torch.export._trace torch.export._unlift torch.fx.experimental.validator
    torch.utils._cpp_embed_headers sympy.combinatorics sympy.tensor.tensor multiprocessing.synchronize
""".split()


def preload() -> None:
    """Import every framework, and what its first compile would import, once in asv's forkserver.

    With ``launch_method: forkserver`` asv imports the suite once and forks a process per case.
    Imports and per-process probes done here are inherited by every forked case (no device work
    and no thread pools happen here, so forking stays safe); under ``spawn`` (GPU runs) each case
    imports only the framework it runs.
    """
    for name in FRAMEWORKS:
        fw = get_framework(name)
        if fw.available:  # import + precision settings, and every loss's function (jax imports jax.scipy.linalg)
            for loss in LOSSES:
                try:
                    fw.implementation(loss)
                except NotImplementedError:
                    pass
    if "torch" not in sys.modules:
        return
    for mod in _TORCH_COMPILE_IMPORTS:
        try:
            importlib.import_module(mod)
        except Exception:  # noqa: BLE001 (absent in this torch, or needs an absent extra)
            pass
    try:  # inductor's per-process probes: the hash of its own sources, the CPU vector ISA (compiles a test program)
        from torch._inductor import codecache, cpu_vec_isa

        codecache.torch_key()
        cpu_vec_isa.pick_vec_isa()
    except Exception:  # noqa: BLE001 (private API: only a speed-up)
        pass



# -- the timing benchmarks' names -----------------------------------------------------------
#: asv's name of each timing benchmark of ``suites/bench_speed.py`` and whether it runs the backward pass
TIMING_BENCHMARKS: dict[str, bool] = {"bench_speed.Forward.time_forward": False, "bench_speed.Backward.time_backward": True}


def asv_name(benchmark: str, case: tuple[str, ...]) -> str:
    """asv's name of one case of a parameterised benchmark: ``bench(p1, p2, ...)`` with reprs."""
    return f"{benchmark}({', '.join(map(repr, case))})"


def timing_cases():
    """Every (asv name, case, backward) of the timing benchmarks, in asv's order (what ``-b`` regexes match)."""
    from itertools import product

    for bench, backward in TIMING_BENCHMARKS.items():
        for case in product(*GRID):
            yield asv_name(bench, case), case, backward
