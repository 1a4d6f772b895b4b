"""The adapter every consumer (suites, accuracy sweep, tests, findings) uses to run a framework.

A framework adapter subclasses :class:`Backend` and provides:

- ``import_name`` and ``setup()`` — import the library and pin precision (called lazily, once);
- ``to_tensor`` / ``to_numpy`` / ``sync``, ``forward_fn`` / ``value_and_grad_fn`` (eager or compiled),
  ``devices()``, ``settings()``.

The losses themselves are not here: each loss file holds its implementation for every framework
(``spec.implementations[name]``, a factory called once). A loss without one is
:class:`Unsupported` in this framework; no other loss is affected.

What is common — validation, dtype handling, conversion, warm-up, turning failures into
:class:`Unsupported` — lives here, once.
"""

from __future__ import annotations

import importlib
import time
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from matloss_ref import get_loss

DTYPES = ("float32", "float64")
MODES = ("eager", "compiled")


class Unsupported(NotImplementedError):
    """A case this framework cannot run (missing framework, dtype, device or mode; compile failure).

    It subclasses ``NotImplementedError`` so asv turns it into a skipped benchmark.
    """

    def __init__(self, framework: str, reason: str):
        super().__init__(f"unsupported: {framework}: {reason}")
        self.framework = framework
        self.reason = reason


class Backend:
    name: str = ""
    import_name: str = ""
    modes: tuple[str, ...] = MODES
    _lib: Any = None
    _error: str | None = None
    #: the source of ``value_and_grad(fn, *arrays) -> (value, [gradients as numpy])`` written with
    #: this framework alone (``COMPILED``, ``DEVICE`` and ``np`` are defined by the script around it):
    #: what a standalone reproducer of a finding runs. None: no reproducers for this framework.
    REPRO: str | None = None

    # -- availability -----------------------------------------------------------------------
    def _load(self) -> Any:
        if self._lib is None and self._error is None:
            try:
                self._lib = importlib.import_module(self.import_name)
                self.setup()
            except Exception as exc:  # ImportError, or a broken install raising anything else
                self._lib, self._error = None, f"{type(exc).__name__}: {exc}"
        return self._lib

    @property
    def available(self) -> bool:
        return self._load() is not None

    @property
    def reason(self) -> str | None:
        """Why the framework is unavailable (None when it is available)."""
        self._load()
        return self._error

    def require(self) -> Any:
        lib = self._load()
        if lib is None:
            raise Unsupported(self.name, f"not installed or failed to import ({self._error})")
        return lib

    def __repr__(self) -> str:
        state = "available" if self.available else f"unavailable: {self.reason}"
        return f"<framework {self.name} ({state})>"

    # -- to be provided by each framework ---------------------------------------------------
    def setup(self) -> None:
        """Pin precision settings after import (TF32 off, x64 on, ...)."""

    def devices(self) -> list[str]:
        return ["cpu"]

    def settings(self) -> dict[str, Any]:
        return {}

    def to_tensor(self, x: np.ndarray, dtype: str, device: str) -> Any:
        raise NotImplementedError

    def to_numpy(self, t: Any) -> np.ndarray:
        return np.asarray(t)

    def sync(self, out: Any) -> Any:
        """Wait until ``out`` (any nest of tensors) is computed on the device."""
        return out

    def syncer(self, device: str) -> Callable[[Any], Any]:
        """The ``sync`` to use for results on ``device`` (a backend may know a cheaper one)."""
        return self.sync

    def forward_fn(self, fn: Callable, mode: str, n_inputs: int) -> Callable:
        raise NotImplementedError

    def value_and_grad_fn(self, fn: Callable, mode: str, n_inputs: int) -> Callable:
        """A callable ``(*tensors) -> (value, tuple of gradients)``."""
        raise NotImplementedError

    # -- the common adapter -----------------------------------------------------------------
    def implementation(self, loss: str) -> Callable[..., Any]:
        """The loss's function in this framework, built once from the loss file's factory."""
        self.require()
        fns = self.__dict__.setdefault("_fns", {})
        if loss not in fns:
            spec = get_loss(loss)  # an unknown name raises KeyError listing the known ones
            factory = spec.implementations.get(self.name)
            if factory is None:
                raise Unsupported(self.name, f"{loss} has no {self.name} implementation")
            fn = factory()
            fn.loss = loss  # type: ignore[attr-defined]
            fns[loss] = fn
        return fns[loss]

    def _check_case(self, dtype: str, device: str, mode: str) -> None:
        self.require()
        if dtype not in DTYPES:
            raise ValueError(f"dtype must be one of {DTYPES}, got {dtype!r}")
        if mode not in MODES:
            raise ValueError(f"mode must be one of {MODES}, got {mode!r}")
        if mode not in self.modes:
            raise Unsupported(self.name, f"no {mode} mode")
        if device not in self.devices():
            raise Unsupported(self.name, f"device {device!r} not present (have: {', '.join(self.devices())})")

    def _tensors(self, loss: str, inputs: Mapping[str, Any], dtype: str, device: str, validate: bool = True) -> list[Any]:
        spec = get_loss(loss)
        arrays = spec.validate(inputs)[0] if validate else {k: np.asarray(inputs[k]) for k in spec.inputs}
        return [self.to_tensor(np.ascontiguousarray(arrays[k], dtype=dtype), dtype, device) for k in spec.inputs]

    def _case_step(self, loss: str, inputs: Mapping[str, Any], *, dtype: str, device: str, mode: str, backward: bool,
              validate: bool = True) -> tuple[Callable, list[Any]]:
        """The (eager or compiled) step of one case and its inputs on the device; a build failure is Unsupported."""
        self._check_case(dtype, device, mode)
        fn = self.implementation(loss)
        tensors = self._tensors(loss, inputs, dtype, device, validate)
        try:
            step = (self.value_and_grad_fn if backward else self.forward_fn)(fn, mode, len(tensors))
        except Unsupported:
            raise
        except Exception as exc:
            raise Unsupported(self.name, f"{mode} {loss} could not be built: {type(exc).__name__}: {exc}") from exc
        return step, tensors

    def value(self, loss: str, inputs: Mapping[str, Any], *, dtype: str, device: str = "cpu", mode: str = "eager",
              validate: bool = True) -> float:
        """The forward value only (float64)."""
        step, tensors = self._case_step(loss, inputs, dtype=dtype, device=device, mode=mode, backward=False, validate=validate)
        return float(self.to_numpy(self.sync(step(*tensors))))

    def value_and_grad(
        self,
        loss: str,
        inputs: Mapping[str, Any],
        *,
        dtype: str,
        device: str = "cpu",
        mode: str = "eager",
        validate: bool = True,
    ) -> tuple[float, dict[str, np.ndarray]]:
        """Value and autodiff gradient of ``loss`` at ``inputs``, copied back as numpy (float64 value).

        ``validate=False`` hands the inputs to the framework unchecked; only the findings use it,
        to record what a framework does with input outside the loss's domain.
        """
        step, tensors = self._case_step(loss, inputs, dtype=dtype, device=device, mode=mode, backward=True, validate=validate)
        value, grads = self.sync(step(*tensors))
        return float(self.to_numpy(value)), {k: self.to_numpy(g) for k, g in zip(get_loss(loss).inputs, grads)}

    def prepare(
        self,
        loss: str,
        inputs: Mapping[str, Any],
        *,
        dtype: str,
        device: str = "cpu",
        mode: str = "eager",
        backward: bool = False,
    ) -> Callable[[], Any]:
        """A warm callable running one forward (or forward + backward) pass and waiting for the device.

        Inputs are converted and placed on ``device`` here; compilation and the first call happen
        here too, so a timer around the returned callable measures steady-state work.
        """
        step, tensors = self._case_step(loss, inputs, dtype=dtype, device=device, mode=mode, backward=backward)
        sync = self.syncer(device)

        def run() -> Any:
            return sync(step(*tensors))

        try:
            t0 = time.perf_counter()
            run()  # compile + first call
            run.first_call_seconds = time.perf_counter() - t0  # type: ignore[attr-defined]
        except Exception as exc:
            raise Unsupported(self.name, f"{mode} {loss} failed on its first call: {type(exc).__name__}: {exc}") from exc
        return run

