"""What a loss is: :class:`Arg` (one input) and :class:`LossSpec` (everything about one loss).

A spec carries everything about a loss, the way PyTorch's OpInfo carries everything about an
operator: its inputs and their roles, the float reference value and closed-form gradient, the
exact high-precision value and gradient, the domain checks, the sampler of valid inputs, how its
value error is measured, whether κ governs its sensitivity, and the idiomatic implementation of
the loss in each framework. One file per loss under :mod:`matloss_ref.losses` (or in a plugin
package, see :mod:`matloss_ref.registry`) builds one spec and names it ``LOSS``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

from . import validation
from .matrices import check_dtype, check_kappa, rng_for

ArgKind = Literal["matrix", "square", "spd", "tril", "vector", "stack"]
ValueMetric = Literal["relative", "absolute", "scaled"]

#: core number of axes per argument kind (leading axes beyond these are batch axes)
CORE_NDIM: dict[str, int] = {"matrix": 2, "square": 2, "spd": 2, "tril": 2, "vector": 1, "stack": 3}

#: frameworks a loss file may implement (numpy's implementation is the spec's own value_fn / grad_fn)
FRAMEWORKS = ("numpy", "torch", "jax", "tensorflow")


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

    @property
    def core_ndim(self) -> int:
        return CORE_NDIM[self.kind]


#: a framework implementation is a factory: called once (it imports its framework), it returns
#: ``fn(*tensors) -> scalar tensor`` taking the inputs in ``spec.inputs`` order, batched over
#: leading axes and summed
Factory = Callable[[], Callable[..., Any]]


@dataclass(frozen=True, eq=False)
class LossSpec:
    """Everything about one loss."""

    name: str
    family: str
    formula: str
    args: tuple[Arg, ...]
    #: value of one (unbatched) case, computed in the dtype it is given (numpy / scipy)
    value_fn: Callable[..., float]
    #: closed-form gradient of one case: a dict keyed by argument name, in the input dtype
    grad_fn: Callable[..., dict[str, np.ndarray]]
    #: high-precision (value, {arg: gradient} or None where the gradient is undefined) of one case,
    #: in python-flint arb arithmetic at the working precision; see :mod:`matloss_ref.exact`
    hp_fn: Callable[..., Any]
    #: draws the inputs of one case: (n, m, kappa, mode, rng) -> dict of float64 arrays
    sampler: Callable[..., dict[str, np.ndarray]]
    kappa_governed: bool
    #: the closed-form gradient, as text (for ``matloss list`` and the catalog)
    gradient: str = ""
    value_metric: ValueMetric = "relative"
    #: float64 magnitude of the terms whose sum is the value (for ``value_metric="scaled"``)
    terms_fn: Callable[..., float] | None = None
    #: extra domain checks beyond those implied by the argument kinds: fn(loss, arrays) raising ValueError
    domain_check: Callable[[str, dict[str, np.ndarray]], None] | None = None
    svd_based: bool = False
    #: fn(u, **one case) -> bool: is the gradient well posed here in a dtype of unit roundoff u
    #: (e.g. σ₁ separated from σ₂, no entry of ΦᵀΦ − I at rounding level)? None: always.
    well_posed_fn: Callable[..., bool] | None = None
    #: where σ₁ (or the top |eigenvalue|) is exactly tied and the gradient does not exist: the
    #: high-precision subgradient that splits the cotangent evenly over the tie (what autodiff of a
    #: ``max`` returns), or None where no even split is meaningful; same signature as ``hp_fn``
    split_fn: Callable[..., Any] | None = None
    #: the stable loss this one is the naive form of (same math, same exact truth)
    naive_of: LossSpec | None = None
    nonsmooth_at: str = "smooth"
    #: fn(kappa, **one case) -> true condition number of the governing matrix, given ``kappa``:
    #: the exact 2-norm κ of a matrix (:func:`matloss_ref.exact.kappa`). None: the first input.
    governing_fn: Callable[..., float] | None = None
    #: expected log-log slope of the value error against κ (None: 1 if κ-governed, else 0), and of
    #: the gradient error; both derived in docs/losses.md
    value_slope: float | None = None
    grad_slope: float | None = None
    #: the scale axis: these inputs are multiplied by 2^k together, which changes log2 |det| of the
    #: governing matrix by ``scale_power · n · k`` (1 for A or S; 2 for L, whose covariance is LLᵀ)
    scale_inputs: tuple[str, ...] = ()
    scale_power: int = 1
    #: other samplers, by name, for inputs the default sampler cannot produce (same signature)
    variants: Mapping[str, Callable[..., dict[str, np.ndarray]]] = field(default_factory=dict)
    #: the expected (value, gradient) slopes of a variant where they differ from the default sampler's
    variant_slopes: Mapping[str, tuple[float, float]] = field(default_factory=dict)
    constants: Mapping[str, float] = field(default_factory=dict)
    #: {framework: factory} — the idiomatic implementation in each framework (see :data:`Factory`)
    implementations: Mapping[str, Factory] = field(default_factory=dict)

    def __post_init__(self) -> None:
        unknown = set(self.implementations) - set(FRAMEWORKS)
        if unknown:
            raise ValueError(f"{self.name}: implementations for unknown frameworks {sorted(unknown)}; known: {', '.join(FRAMEWORKS)}")

    # -- descriptive properties -------------------------------------------------------------
    @property
    def inputs(self) -> tuple[str, ...]:
        """Argument names, in order."""
        return tuple(a.name for a in self.args)

    @property
    def symmetric(self) -> frozenset[str]:
        """Names of the inputs that are symmetric (SPD) matrices."""
        return frozenset(a.name for a in self.args if a.symmetric)

    def expected_value_slope(self, variant: str = "default") -> float:
        """Slope of log value error against log κ that the catalog derives (docs/losses.md)."""
        if variant in self.variant_slopes:
            return self.variant_slopes[variant][0]
        if self.value_slope is not None:
            return self.value_slope
        return 1.0 if self.kappa_governed else 0.0

    def expected_grad_slope(self, variant: str = "default") -> float:
        """Slope of log gradient error against log κ that the catalog derives (docs/losses.md)."""
        if variant in self.variant_slopes:
            return self.variant_slopes[variant][1]
        return self.grad_slope if self.grad_slope is not None else self.expected_value_slope(variant)

    def scale_exponent(self, n: int, log10_det: float) -> int:
        """The k of the scale axis that puts log10 |det| of the governing matrix at ``log10_det``, or
        as near as a power of two allows without going past it (from |det| = 1, which every sampler gives)."""
        if not self.scale_inputs:
            raise ValueError(f"{self.name} has no scale axis")
        return int(log10_det / (self.scale_power * n * np.log10(2.0)))  # toward 0: never past the target

    def scaled(self, inputs: Mapping[str, np.ndarray], k: int) -> dict[str, np.ndarray]:
        """``inputs`` with the scale-axis inputs multiplied by 2^k: exact in floating point (a power of two)."""
        return {name: (np.ldexp(v, k).astype(v.dtype) if name in self.scale_inputs else v) for name, v in inputs.items()}

    def arg(self, name: str) -> Arg:
        for a in self.args:
            if a.name == name:
                return a
        raise KeyError(f"{self.name} has no input {name!r}; inputs: {', '.join(self.inputs)}")

    def __repr__(self) -> str:
        return f"LossSpec({self.name!r}, inputs={self.inputs})"

    @property
    def reference(self) -> LossSpec:
        """The spec whose float64 formulas serve as this loss's reference.

        A ``_naive`` loss is the same mathematical function as its stable sibling, computed the
        naive way: its reference value and gradient are the stable ones (its ``value_fn`` and
        ``grad_fn`` stay naive: they are what the numpy backend runs).
        """
        return self.naive_of or self

    # -- the public API ---------------------------------------------------------------------
    def validate(self, inputs: Mapping[str, Any]) -> tuple[dict[str, np.ndarray], tuple[int, ...]]:
        """Check ``inputs`` against the loss's domain; return them as arrays and the batch shape.

        Raises ``ValueError`` naming the loss, the argument, the problem and (for a batch) the
        batch index; nothing is computed before every check has passed.
        """
        arrays, batch = validation.check_inputs(self, inputs)
        if self.domain_check is not None:
            for idx in np.ndindex(*batch):
                try:
                    self.domain_check(self.name, {k: v[idx] for k, v in arrays.items()})
                except ValueError as exc:
                    if not batch:
                        raise
                    raise ValueError(f"{exc} (batch index {idx})") from None
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
        variant: str = "default",
    ) -> dict[str, np.ndarray]:
        """Valid inputs of size ``n`` whose governing matrix has condition number ``kappa``.

        ``m`` sets the row count of rectangular inputs (default ``n``); ``variant`` names one of
        ``variants`` instead of the default sampler. Same arguments, same bits.
        """
        dt = check_dtype(dtype)
        check_kappa(kappa)
        if int(n) < 1:
            raise ValueError(f"{self.name}: n must be >= 1, got {n!r}")
        batch = tuple(int(b) for b in batch)
        count = int(np.prod(batch)) if batch else 1
        if variant != "default" and variant not in self.variants:
            raise ValueError(f"{self.name}: variant must be one of default, {', '.join(self.variants)}; got {variant!r}")
        sampler = self.sampler if variant == "default" else self.variants[variant]
        cases = [sampler(int(n), int(m) if m is not None else int(n), float(kappa), int(mode), rng_for(seed, i)) for i in range(count)]
        out = {}
        for name in self.inputs:
            stacked = np.stack([c[name] for c in cases]).reshape(batch + cases[0][name].shape)
            out[name] = np.ascontiguousarray(stacked.astype(dt))
        return out

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

    def value_scale(self, **inputs: Any) -> float:
        """The denominator of the value error at ``inputs``, from the float64 reference: |value|
        (``relative``), 1 (``absolute``) or the magnitude of the summed terms (``scaled``)."""
        if self.value_metric == "absolute":
            return 1.0
        if self.value_metric == "relative":
            return abs(self.value(**inputs))
        arrays, batch = self.validate(inputs)
        f64 = {k: v.astype(np.float64) for k, v in arrays.items()}
        return float(sum(self.terms_fn(**{k: v[i] for k, v in f64.items()}) for i in np.ndindex(*batch)))

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


def batched_grad(spec: LossSpec, arrays: Mapping[str, np.ndarray], batch: tuple[int, ...]) -> dict[str, np.ndarray]:
    """Apply ``spec.grad_fn`` to every batch element of already-validated ``arrays``."""
    out = {k: np.empty_like(v) for k, v in arrays.items()}
    for i in np.ndindex(*batch):
        g = spec.grad_fn(**{k: v[i] for k, v in arrays.items()})
        for k in out:
            out[k][i] = g[k]
    return out


def sigma1_separated(u: float, *mats: np.ndarray) -> bool:
    """σ₁ of the matrix (or of the difference of two) is separated from σ₂ by far more than rounding:
    the gradient of a σ₁-based loss is well posed there in a dtype of unit roundoff ``u``."""
    d = mats[0] - mats[1] if len(mats) == 2 else mats[0]
    s = np.linalg.svd(d, compute_uv=False)
    return s.size < 2 or (s[0] - s[1]) > 1e4 * u * max(s[0], np.finfo(float).tiny) * max(d.shape)
