"""torch: eager calls and ``torch.compile``, autograd for the backward pass.

The losses are written in each loss file (its ``torch()`` factory, with ``torch.linalg``
built-ins, batched over leading axes and summed). Framework behaviour that the catalog lists as a
finding (e.g. the zero ``linalg.det`` gradient at an exactly singular A) is left as it is: it is
data.

Precision: ``setup()`` turns TF32 off for CUDA matmuls and cuDNN and sets
``torch.set_float32_matmul_precision("highest")``.

Modes
-----
- eager: plain calls; the backward pass is ``torch.autograd.grad`` of the scalar w.r.t. fresh
  leaves (``t.detach().requires_grad_()``: a new leaf sharing storage, so the caller's tensors are
  never touched and no copy is timed).
- compiled: ``torch.compile(fn, dynamic=True, fullgraph=True)``, default inductor backend. The
  backward pass compiles the *forward* and calls ``torch.autograd.grad`` on its output: that is
  how torch users compile a training step, and AOTAutograd traces the joint graph and hands
  inductor a compiled backward too. ``torch.compile(torch.func.grad_and_value(fn))`` was tried
  and rejected: under torch 2.13 it re-specialised on every matrix size despite
  ``dynamic=True``, and every loss shares functorch's one ``wrapper`` code object, so the
  recompile limit is shared by every loss (it was hit after 64 compiles).

Compile configuration (chosen to keep the CPU conformance run fast, not to change results):

- ``dynamic=True``: sizes are symbolic from the first compile, so n = 2, 3, 8, ... and any batch
  size > 1 share one graph; only a new dtype, device, number of batch axes or grad mode
  compiles again (size-1 axes are specialised by dynamo, as always). Each loss therefore costs
  two graphs (unbatched, batched) per dtype and device, each a forward + a backward.
- ``fullgraph=True``: no built-in loss has a graph break (checked with
  ``torch._dynamo.explain``), and a future one must fail loudly rather than run partly eager.
- one compiled callable per loss function, cached on the backend, shared by ``forward_fn`` and
  ``value_and_grad_fn``. Inductor's on-disk FX-graph and AOTAutograd caches (on by default,
  under ``$TORCHINDUCTOR_CACHE_DIR``, default ``/tmp/torchinductor_$USER``) let a later process
  reuse the generated kernels: on a 2-core CPU a cold compile costs seconds per graph (g++ of
  the generated C++ dominates), a cached one a fraction of a second.
- ``torch._dynamo.config.recompile_limit`` raised to 64 (per loss: 2 dtypes x 2 devices x
  batched/unbatched x grad/no-grad already exceeds the default 8) and
  ``fail_on_recompile_limit_hit = True``, so that hitting the limit raises instead of silently
  running eager.
- a failure to compile (a ``torch._dynamo`` exception: backend compiler failure, graph break
  under ``fullgraph``, recompile limit) is raised as :class:`~.base.Unsupported` with the reason;
  runtime errors of the loss itself (e.g. ``LinAlgError`` from a non-PD Cholesky) propagate
  unchanged, in either mode.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import numpy as np

from .base import Backend, Unsupported

RECOMPILE_LIMIT = 64
COMPILE_OPTIONS: dict[str, Any] = {"dynamic": True, "fullgraph": True}


def _leaves(out: Any):
    if isinstance(out, (tuple, list)):
        for o in out:
            yield from _leaves(o)
    elif isinstance(out, dict):
        for o in out.values():
            yield from _leaves(o)
    else:
        yield out


class TorchBackend(Backend):
    name = "torch"
    import_name = "torch"

    def __init__(self) -> None:
        self._compiled: dict[Callable, Callable] = {}

    # -- a standalone reproducer's framework code (matloss.findings.repro) ------------------------
    REPRO = """
import torch

torch.backends.cuda.matmul.allow_tf32 = False
torch.set_float32_matmul_precision("highest")


def value_and_grad(fn, *arrays):
    step = torch.compile(fn, dynamic=True, fullgraph=True) if COMPILED else fn
    leaves = [torch.tensor(a, device=DEVICE, requires_grad=True) for a in arrays]
    value = step(*leaves)
    grads = torch.autograd.grad(value, leaves)
    return float(value), [g.detach().cpu().numpy() for g in grads]
"""

    def setup(self) -> None:
        import torch

        torch.backends.cuda.matmul.allow_tf32 = False
        torch.backends.cudnn.allow_tf32 = False
        torch.set_float32_matmul_precision("highest")

    @functools.cached_property
    def _dynamo_configured(self) -> bool:
        """Dynamo's settings, on the first compile (importing torch._dynamo takes ~2.5 s here: eager
        work should not pay it)."""
        import torch._dynamo

        cfg = torch._dynamo.config
        cfg.recompile_limit = max(cfg.recompile_limit, RECOMPILE_LIMIT)
        cfg.fail_on_recompile_limit_hit = True
        return True

    def devices(self) -> list[str]:
        torch = self.require()
        return ["cpu", "cuda"] if torch.cuda.is_available() else ["cpu"]

    def settings(self) -> dict[str, Any]:
        torch = self.require()
        out: dict[str, Any] = {
            "torch": torch.__version__,
            "cuda_matmul_allow_tf32": torch.backends.cuda.matmul.allow_tf32,
            "cudnn_allow_tf32": torch.backends.cudnn.allow_tf32,
            "float32_matmul_precision": torch.get_float32_matmul_precision(),
            "num_threads": torch.get_num_threads(),
            "compile": {"backend": "inductor", **COMPILE_OPTIONS},
            "gradient": "torch.autograd.grad (compiled mode: of the compiled forward, AOTAutograd backward)",
        }
        if torch.cuda.is_available():
            out["cuda_device"] = torch.cuda.get_device_name()
            out["cuda_version"] = torch.version.cuda
        return out

    def to_tensor(self, x: np.ndarray, dtype: str, device: str) -> Any:
        torch = self.require()
        return torch.tensor(x, dtype=getattr(torch, dtype), device=device)

    def to_numpy(self, t: Any) -> np.ndarray:
        return t.detach().cpu().numpy()

    def sync(self, out: Any) -> Any:
        torch = self.require()
        if any(isinstance(t, torch.Tensor) and t.is_cuda for t in _leaves(out)):
            torch.cuda.synchronize()
        return out

    def syncer(self, device: str) -> Callable[[Any], Any]:
        """CPU kernels run synchronously: a CPU result is complete when the call returns."""
        return (lambda out: out) if device == "cpu" else self.sync

    # -- eager / compiled ----------------------------------------------------------------------
    def _compile_errors(self) -> tuple[type[BaseException], ...]:
        """The exceptions that mean "torch.compile could not build this", as opposed to runtime errors."""
        self.require()
        import torch._dynamo.exc as dynamo_exc

        return (dynamo_exc.TorchDynamoException, dynamo_exc.FailOnRecompileLimitHit)

    def _compile(self, fn: Callable) -> Callable:
        """The compiled form of ``fn`` (one per loss function, cached); compile failures raise Unsupported."""
        if fn not in self._compiled:
            torch = self.require()
            _ = self._dynamo_configured  # the settings above, once
            compiled = torch.compile(fn, **COMPILE_OPTIONS)
            errors = self._compile_errors()
            loss = getattr(fn, "loss", getattr(fn, "__name__", "loss"))
            framework = self.name

            def run(*tensors):
                try:
                    return compiled(*tensors)
                except errors as exc:
                    raise Unsupported(framework, f"torch.compile of {loss} failed: {type(exc).__name__}: {exc}") from exc

            run.loss = loss  # type: ignore[attr-defined]
            self._compiled[fn] = run
        return self._compiled[fn]

    def forward_fn(self, fn: Callable, mode: str, n_inputs: int) -> Callable:
        return self._compile(fn) if mode == "compiled" else fn

    def value_and_grad_fn(self, fn: Callable, mode: str, n_inputs: int) -> Callable:
        torch = self.require()
        compiled = mode == "compiled"
        forward = self._compile(fn) if compiled else fn
        errors = self._compile_errors() if compiled else ()
        framework = self.name
        loss = getattr(fn, "loss", "loss")

        def vg(*tensors):
            leaves = [t.detach().requires_grad_(True) for t in tensors]
            value = forward(*leaves)
            try:
                grads = torch.autograd.grad(value, leaves)
            except errors as exc:  # a compiled backward that failed to build
                raise Unsupported(framework, f"torch.compile backward of {loss} failed: {type(exc).__name__}: {exc}") from exc
            return value.detach(), grads

        return vg


BACKEND = TorchBackend()
