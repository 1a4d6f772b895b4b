"""Error metrics (docs/accuracy.md): value error, gradient error and the LAPACK-style ratio R.

- value error: relative ``|v − v*|/|v*|``; absolute for log-determinants (it is the relative
  error of det), against max(1, |v*|); ``|v − v*| / Σ|terms|`` for losses whose value can be ≈ 0 (``value_metric="scaled"``);
- gradient error: ``‖G − G*‖_F / ‖G*‖_F`` per input, symmetrised for symmetric inputs and
  projected onto the lower triangle for triangular ones (the domain of the input), the max
  over inputs being the headline number; absolute (``‖G‖_F``) where ``G* = 0``;
- ``R = err / (u·(n + κ))``, comparable across dtypes, sizes and conditions (LAPACK fails at R > 30).
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np

from .spec import LossSpec

UNIT_ROUNDOFF = {"float32": 2.0**-24, "float64": 2.0**-53}


def unit_roundoff(dtype: str) -> float:
    try:
        return UNIT_ROUNDOFF[np.dtype(dtype).name]
    except KeyError:
        raise ValueError(f"dtype must be one of {sorted(UNIT_ROUNDOFF)}, got {dtype!r}") from None


def project(spec: LossSpec, name: str, g: np.ndarray) -> np.ndarray:
    """The part of a gradient the comparison sees: sym(G) for SPD inputs, tril(G) for triangular ones."""
    kind = spec.arg(name).kind
    g = np.asarray(g, dtype=np.float64)
    if kind == "spd":
        return (g + np.swapaxes(g, -1, -2)) / 2
    if kind == "tril":
        return np.tril(g)
    return g


def value_error(spec: LossSpec, value: float, exact_value: float, scale: float) -> float:
    """Error of a value against the exact one; ``scale`` is ``ExactResult.scale``."""
    v, t = float(value), float(exact_value)
    if math.isnan(v):
        return math.nan
    if math.isinf(t) or math.isinf(v):
        return 0.0 if v == t else math.inf
    if scale == 0:
        return 0.0 if v == t else math.inf
    return abs(v - t) / scale


def grad_errors(spec: LossSpec, grads: Mapping[str, np.ndarray], exact_grads: Mapping[str, np.ndarray]) -> dict[str, float]:
    """Relative Frobenius error of each input's gradient (NaN where the exact gradient is undefined)."""
    out = {}
    for name in spec.inputs:
        ref = project(spec, name, exact_grads[name])
        got = project(spec, name, grads[name])
        if np.any(np.isnan(ref)):
            out[name] = math.nan
            continue
        if not np.all(np.isfinite(got)):
            out[name] = math.inf
            continue
        # both scaled by their largest entry first: ‖G‖_F of a gradient with entries near the top of
        # the float range overflows although the relative error is an ordinary number
        scale = max(float(np.max(np.abs(ref), initial=0.0)), float(np.max(np.abs(got), initial=0.0)))
        if scale == 0:
            out[name] = 0.0
            continue
        den = np.linalg.norm(ref / scale)
        diff = np.linalg.norm(got / scale - ref / scale)
        out[name] = float(diff / den) if den > 0 else float(diff * scale)
    return out


def grad_error(spec: LossSpec, grads: Mapping[str, np.ndarray], exact_grads: Mapping[str, np.ndarray]) -> float:
    """Max over inputs of :func:`grad_errors`."""
    errs = list(grad_errors(spec, grads, exact_grads).values())
    return math.nan if any(math.isnan(e) for e in errs) else max(errs)


def ratio(err: float, dtype: str, n: int, kappa: float) -> float:
    """The LAPACK-style ratio ``R = err / (u·(n + κ))``."""
    return err / (unit_roundoff(dtype) * (n + kappa))
