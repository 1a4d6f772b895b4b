"""Input checks shared by every loss, run before any computation.

Each failure raises ``ValueError("<loss>: <arg> <problem>")``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import numpy as np
import scipy.linalg.lapack as lapack

if TYPE_CHECKING:
    from .spec import LossSpec


def fail(loss: str, arg: str, problem: str) -> None:
    raise ValueError(f"{loss}: {arg} {problem}")


def _as_float_array(loss: str, name: str, value: Any) -> np.ndarray:
    try:
        arr = np.asarray(value)
    except Exception as exc:  # e.g. ragged nested lists
        fail(loss, name, f"cannot be converted to an array ({exc})")
    if arr.dtype.kind == "c":
        fail(loss, name, f"has complex dtype {arr.dtype}; only real floating dtypes are supported")
    if arr.dtype.kind != "f":
        fail(loss, name, f"has non-floating dtype {arr.dtype}; pass float32 or float64")
    return arr


def check_inputs(spec: LossSpec, inputs: Mapping[str, Any]) -> tuple[dict[str, np.ndarray], tuple[int, ...]]:
    """Shape, dtype, finiteness and kind checks; returns the arrays and the common batch shape."""
    loss = spec.name
    names = spec.inputs
    missing = [n for n in names if n not in inputs]
    extra = [n for n in inputs if n not in names]
    if extra:
        fail(loss, extra[0], f"is not an input of this loss (inputs: {', '.join(names)})")
    if missing:
        fail(loss, missing[0], f"is missing (inputs: {', '.join(names)})")

    arrays: dict[str, np.ndarray] = {}
    sizes: dict[str, tuple[int, str]] = {}
    batch: tuple[int, ...] | None = None
    batch_from = ""
    for a in spec.args:
        arr = _as_float_array(loss, a.name, inputs[a.name])
        core = a.core_ndim
        if arr.ndim < core:
            fail(loss, a.name, f"must have at least {core} dimensions ({a.kind}, shape (*, {', '.join(a.dims)})), got shape {arr.shape}")
        core_shape = arr.shape[arr.ndim - core :]
        if 0 in arr.shape:
            fail(loss, a.name, f"is empty (shape {arr.shape})")
        if a.kind in ("square", "spd", "tril") and core_shape[0] != core_shape[1]:
            fail(loss, a.name, f"must be square, got shape {arr.shape}")
        for letter, size in zip(a.dims, core_shape):
            if letter in sizes and sizes[letter][0] != size:
                other_size, other = sizes[letter]
                where = "its own" if other == a.name else f"{other}'s"
                fail(loss, a.name, f"has shape {arr.shape}, mismatched with {where} size {other_size} along axis '{letter}'")
            sizes.setdefault(letter, (size, a.name))
        b = arr.shape[: arr.ndim - core]
        if batch is None:
            batch, batch_from = b, a.name
        elif b != batch:
            fail(loss, a.name, f"has batch shape {b}, mismatched with {batch_from}'s batch shape {batch}")
        if not np.all(np.isfinite(arr)):
            bad = "NaN" if np.isnan(arr).any() else "inf"
            first = np.argwhere(np.isnan(arr) if bad == "NaN" else ~np.isfinite(arr))[0]
            where = f" (batch index {tuple(int(i) for i in first[: len(b)])})" if b else ""
            fail(loss, a.name, f"contains {bad} entries{where}")
        arrays[a.name] = arr
    assert batch is not None

    for a in spec.args:
        arr = arrays[a.name]
        for idx in np.ndindex(*batch):
            where = f" (batch index {idx})" if batch else ""
            _check_kind(loss, a.name, a.kind, arr[idx], where)
    return arrays, batch


def _check_kind(loss: str, name: str, kind: str, x: np.ndarray, where: str) -> None:
    if kind == "spd":
        x64 = x.astype(np.float64)
        asym = np.max(np.abs(x64 - x64.T))
        tol = 64 * np.finfo(x.dtype).eps * np.max(np.abs(x64))
        if asym > tol:
            fail(loss, name, f"is not symmetric (max |S - S^T| = {asym:.3g}){where}")
        info = cholesky_info(x64)
        if info:
            fail(loss, name, f"is not positive definite (Cholesky failed at column {info}){where}")
    elif kind == "tril":
        upper = np.triu(x, 1)
        if np.any(upper != 0):
            i, j = np.argwhere(upper != 0)[0]
            fail(loss, name, f"is not lower-triangular (entry [{i}, {j}] = {x[i, j]:.3g}){where}")
        d = np.diag(x)
        if np.any(d <= 0):
            i = int(np.argmax(d <= 0))
            fail(loss, name, f"must have a positive diagonal (entry [{i}, {i}] = {d[i]:.3g}){where}")


def cholesky_info(s: np.ndarray) -> int:
    """0 if float64 Cholesky of ``s`` succeeds, else the 1-based column where it failed."""
    _, info = lapack.dpotrf(np.asarray(s, dtype=np.float64), lower=True)
    return int(info)
