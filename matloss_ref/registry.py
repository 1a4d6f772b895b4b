"""The loss registry: one :class:`LossSpec` per loss, the single source every suite and test reads.

A spec carries everything about a loss (think PyTorch's OpInfo): its inputs and their roles,
the float64 reference value and closed-form gradient, the exact high-precision value and
gradient, the domain checks, which inputs are symmetric, how its value error is measured and
whether κ governs its sensitivity. Adding a loss is one :func:`register` call in a module of
:mod:`matloss_ref.losses`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

from . import validation

ArgKind = Literal["matrix", "square", "spd", "tril", "vector", "stack"]
ValueMetric = Literal["relative", "absolute", "scaled"]

#: core number of axes per argument kind (leading axes beyond these are batch axes)
CORE_NDIM: dict[str, int] = {"matrix": 2, "square": 2, "spd": 2, "tril": 2, "vector": 1, "stack": 3}


@dataclass(frozen=True)
class Arg:
    """One input of a loss.

    ``dims`` names its core axes with letters; the same letter in two arguments must be the
    same size (``A: "mn", B: "mn"``; ``x: "d", L: "dd"``).
    """

    name: str
    kind: ArgKind
    dims: str
    role: str = ""

    @property
    def symmetric(self) -> bool:
        return self.kind == "spd"


@dataclass(frozen=True, eq=False)
class LossSpec:
    """Everything about one loss. Build it with :func:`register`; read it with :func:`get_loss`."""

    name: str
    family: str
    formula: str
    args: tuple[Arg, ...]
    #: float64/float32 value of one (unbatched) case, computed in the dtype it is given
    value_fn: Callable[..., float]
    #: closed-form gradient of one case: a dict keyed by argument name, in the input dtype
    grad_fn: Callable[..., dict[str, np.ndarray]]
    #: high-precision (value, {arg: gradient or None if undefined}) of one case, in flint arb
    #: arithmetic at the working precision; see :mod:`matloss_ref.exact`
    hp_fn: Callable[..., Any]
    #: draws the inputs of one case: (n, m, kappa, mode, seed) -> dict of float64 arrays
    sampler: Callable[..., dict[str, np.ndarray]]
    kappa_governed: bool
    value_metric: ValueMetric = "relative"
    #: float64 magnitude of the terms whose sum is the value (for ``value_metric="scaled"``)
    terms_fn: Callable[..., float] | None = None
    #: extra domain checks beyond those implied by the argument kinds: fn(loss, arrays) raising ValueError
    domain_check: Callable[[str, dict[str, np.ndarray]], None] | None = None
    svd_based: bool = False
    #: fn(u, **one case) -> bool: is the gradient well posed here in a dtype of unit roundoff u
    #: (e.g. σ₁ separated from σ₂, no entry of ΦᵀΦ − I at rounding level)? None: always.
    well_posed_fn: Callable[..., bool] | None = None
    #: the stable loss this one is the naive form of (same math, same exact truth)
    naive_of: str | None = None
    nonsmooth_at: str = "smooth"
    #: fn(kappa, **one case) -> true condition number of the governing matrix, given ``kappa``:
    #: the exact 2-norm κ of a matrix (:func:`matloss_ref.exact.kappa`). None: the first input.
    governing_fn: Callable[..., float] | None = None
    constants: Mapping[str, float] = field(default_factory=dict)

    # -- descriptive properties -------------------------------------------------------------
    @property
    def inputs(self) -> tuple[str, ...]:
        """Argument names, in order."""
        return tuple(a.name for a in self.args)

    @property
    def symmetric(self) -> frozenset[str]:
        """Names of the inputs that are symmetric (SPD) matrices."""
        return frozenset(a.name for a in self.args if a.symmetric)

    @property
    def expected_value_slope(self) -> float:
        """Slope of log value error against log κ expected by LOSSES.md (1 or 0)."""
        return 1.0 if self.kappa_governed else 0.0

    def arg(self, name: str) -> Arg:
        for a in self.args:
            if a.name == name:
                return a
        raise KeyError(f"{self.name} has no input {name!r}; inputs: {', '.join(self.inputs)}")

    def __repr__(self) -> str:
        return f"LossSpec({self.name!r}, inputs={self.inputs})"

    # -- the public API ---------------------------------------------------------------------
    def validate(self, inputs: Mapping[str, Any]) -> tuple[dict[str, np.ndarray], tuple[int, ...]]:
        """Check ``inputs`` against the loss's domain; return them as arrays and the batch shape.

        Raises ``ValueError`` naming the loss, the argument and the problem; nothing is computed
        before every check has passed.
        """
        arrays, batch = validation.check_inputs(self, inputs)
        if self.domain_check is not None:
            for idx in np.ndindex(*batch):
                self.domain_check(self.name, {k: v[idx] for k, v in arrays.items()})
        return arrays, batch

    def sample(
        self,
        n: int,
        *,
        kappa: float = 100.0,
        dtype: str = "float64",
        seed: int = 0,
        batch: Sequence[int] = (),
        mode: int = 3,
        m: int | None = None,
    ) -> dict[str, np.ndarray]:
        """Valid inputs of size ``n`` whose governing matrix has condition number ``kappa``.

        ``m`` sets the row count of rectangular inputs (default ``n``). Same arguments, same bits.
        """
        from .matrices import _check_dtype, _check_kappa, rng_for

        dt = _check_dtype(dtype)
        _check_kappa(kappa)
        if int(n) < 1:
            raise ValueError(f"{self.name}: n must be >= 1, got {n!r}")
        batch = tuple(int(b) for b in batch)
        count = int(np.prod(batch)) if batch else 1
        cases = [
            self.sampler(int(n), int(m) if m is not None else int(n), float(kappa), int(mode), rng_for(seed, i))
            for i in range(count)
        ]
        out = {}
        for name in self.inputs:
            stacked = np.stack([c[name] for c in cases]).reshape(batch + cases[0][name].shape)
            out[name] = np.ascontiguousarray(stacked.astype(dt))
        return out

    @property
    def reference(self) -> LossSpec:
        """The spec whose float64 formulas serve as this loss's reference.

        A ``_naive`` loss is the same mathematical function as its stable sibling, computed the
        naive way: its reference value and gradient are the stable ones (its ``value_fn`` and
        ``grad_fn`` stay naive: they are what the numpy backend runs).
        """
        return get_loss(self.naive_of) if self.naive_of else self

    def value(self, **inputs: Any) -> float:
        """float64 numpy reference value, summed over batch axes."""
        arrays, batch = self.validate(inputs)
        f64 = {k: v.astype(np.float64) for k, v in arrays.items()}
        fn = self.reference.value_fn
        return float(sum(fn(**{k: v[i] for k, v in f64.items()}) for i in np.ndindex(*batch)))

    def grad(self, **inputs: Any) -> dict[str, np.ndarray]:
        """float64 closed-form gradient (never autodiff, never finite differences)."""
        arrays, batch = self.validate(inputs)
        return batched_grad(self.reference, {k: v.astype(np.float64) for k, v in arrays.items()}, batch)

    def gradient_well_posed(self, dtype: str = "float64", **inputs: Any) -> bool:
        """False where the gradient exists only in exact arithmetic (a kink or a σ tie within rounding)."""
        if self.well_posed_fn is None:
            return True
        arrays, batch = self.validate(inputs)
        u = float(np.finfo(np.dtype(dtype)).eps) / 2
        f64 = {k: v.astype(np.float64) for k, v in arrays.items()}
        return all(self.well_posed_fn(u, **{k: v[i] for k, v in f64.items()}) for i in np.ndindex(*batch))

    def exact(self, **inputs: Any) -> tuple[float, dict[str, np.ndarray]]:
        """Value and gradient from the exact bits of ``inputs``, in high precision, rounded to float64.

        Accepts ``cache_dir=`` (or the ``MATLOSS_CACHE_DIR`` environment variable) and
        ``cache=False``. Where the gradient is undefined (e.g. ``logdet`` at a singular A)
        its entries are NaN; where the value is infinite it is ``inf``.
        """
        res = self.exact_result(**inputs)
        return res.value, res.grads

    def exact_result(self, *, cache_dir: str | None = None, cache: bool = True, **inputs: Any):
        """Like :meth:`exact`, returning an :class:`matloss_ref.exact.ExactResult` (with scale and precision)."""
        from . import exact

        arrays, batch = self.validate(inputs)
        return exact.compute(self, arrays, batch, cache_dir=cache_dir, use_cache=cache)

    def true_kappa(self, *, cache_dir: str | None = None, **inputs: Any) -> float:
        """The exact condition number of the governing matrix of ``inputs`` (the max over a batch).

        The nominal ``kappa`` of :meth:`sample` is only a label; this is recomputed from the bits.
        """
        from . import exact

        arrays, batch = self.validate(inputs)

        def kappa(a: np.ndarray) -> float:
            return exact.kappa_cached(a, cache_dir=cache_dir)

        fn = self.governing_fn or (lambda k, **x: k(x[self.inputs[0]]))
        return max(float(fn(kappa, **{k: v[i] for k, v in arrays.items()})) for i in np.ndindex(*batch))

    def value_scale(self, **inputs: Any) -> float:
        """The denominator of the value error metric at ``inputs`` (see :mod:`matloss_ref.metrics`)."""
        arrays, batch = self.validate(inputs)
        if self.value_metric == "absolute":
            return 1.0
        if self.value_metric == "scaled":
            assert self.terms_fn is not None
            f64 = {k: v.astype(np.float64) for k, v in arrays.items()}
            return float(sum(self.terms_fn(**{k: v[i] for k, v in f64.items()}) for i in np.ndindex(*batch)))
        return abs(self.exact(**inputs)[0])


def batched_grad(spec: LossSpec, arrays: Mapping[str, np.ndarray], batch: tuple[int, ...]) -> dict[str, np.ndarray]:
    """Apply ``spec.grad_fn`` to every batch element of already-validated ``arrays``."""
    out = {k: np.empty_like(v) for k, v in arrays.items()}
    for i in np.ndindex(*batch):
        g = spec.grad_fn(**{k: v[i] for k, v in arrays.items()})
        for k in out:
            out[k][i] = g[k]
    return out


_REGISTRY: dict[str, LossSpec] = {}


def register(spec: LossSpec) -> LossSpec:
    if spec.name in _REGISTRY:
        raise ValueError(f"loss {spec.name!r} is registered twice")
    _REGISTRY[spec.name] = spec
    return spec


def list_losses() -> list[str]:
    """Names of every registered loss, in catalog order."""
    from . import losses  # noqa: F401  (registers the catalog)

    return list(_REGISTRY)


def get_loss(name: str) -> LossSpec:
    """The spec of loss ``name``; an unknown name raises ``KeyError`` listing the known ones."""
    known = list_losses()
    try:
        return _REGISTRY[name]
    except KeyError:
        raise KeyError(f"unknown loss {name!r}; known losses: {', '.join(known)}") from None
