"""Findings: the structured cases (docs/findings.md) through every framework, compared with the exact truth.

Each row is one (framework, version, loss, case, dtype, n): what came back (value, gradient
error, NaN/inf, an all-zero gradient, or the exception) and a verdict:

- ``pass`` — value and gradient agree with the exact ones (within ``√u``, loose on purpose:
  the structured cases are about wrong answers, not last bits);
- ``fail`` — a wrong value or gradient where both are mathematically defined (a zero gradient
  at a rank-(n−1) matrix, NaN, a raise), or input outside the domain (non-PD) accepted silently;
- ``undefined`` — the gradient does not exist there (e.g. ``logdet`` at a singular A, ``spectral``
  at a repeated σ₁): the value is still checked, the gradient only recorded;
- ``refused`` — the input is outside this loss's domain (non-PD) and the framework rightly raised;
- ``unrepresentable`` — the true value or gradient over/underflows the dtype, nothing to compare;
- ``unsupported`` — the framework is not installed or cannot run the case.

The run never stops on a framework error: exceptions become rows.
"""

from __future__ import annotations

import math
import re
import warnings
from collections.abc import Callable, Iterable
from pathlib import Path

import numpy as np
import pandas as pd

from matloss_ref import get_loss, list_losses, matrices
from matloss_ref.metrics import grad_errors, unit_roundoff, value_error

from . import tables
from .frameworks import Unsupported, get_framework, list_frameworks

#: the columns that name one row: a re-run of the same (framework, loss, case, dtype, n, mode) replaces it
KEY = ["framework", "loss", "case", "dtype", "n", "mode"]
COLUMNS = ["framework", "version", "loss", "case", "dtype", "n", "mode", "verdict", "returned",
           "value", "exact_value", "value_error", "grad_error", "detail"]


# -- cases ------------------------------------------------------------------------------------
def _general(make: Callable[[int, str], np.ndarray]):
    """A case on the loss's main general (non-SPD, non-triangular) matrix input; other inputs are neutral."""

    def build(spec, n: int, dtype: str) -> dict[str, np.ndarray] | None:
        kinds = [a.kind for a in spec.args]
        if kinds[0] not in ("square", "matrix", "stack"):
            return None
        m = make(n, dtype)
        first = spec.args[0]
        if first.kind == "stack":
            x = {first.name: np.ascontiguousarray(np.stack([m] * 2, axis=1))}
        else:
            x = {first.name: m}
        for a in spec.args[1:]:  # B = 0, so that A − B is the structured matrix
            x[a.name] = np.zeros_like(m)
        return x

    return build


def _spd_or_tril(make_diag: Callable[[int], np.ndarray], rotate: bool):
    """A case on the SPD / triangular inputs: ``diag(d)``, conjugated by a Haar Q for SPD inputs if ``rotate``.

    Without rotation the matrix stays exact, so a zero eigenvalue survives rounding.
    """

    def build(spec, n: int, dtype: str) -> dict[str, np.ndarray] | None:
        kinds = {a.name: a.kind for a in spec.args}
        if not any(k in ("spd", "tril") for k in kinds.values()):
            return None
        d = make_diag(n)
        q = matrices.orthogonal(n, seed=1) if rotate else np.eye(n)
        x: dict[str, np.ndarray] = {}
        first_special = True
        for a in spec.args:
            if a.kind == "spd":
                if first_special:
                    s = (q * d) @ q.T
                    x[a.name] = ((s + s.T) / 2).astype(dtype)
                    first_special = False
                else:
                    x[a.name] = np.eye(n, dtype=dtype)
            elif a.kind == "tril":
                lo = np.tril(np.ones((n, n)) * 0.25, -1) + np.diag(np.sign(d) * np.sqrt(np.abs(d)))
                x[a.name] = lo.astype(dtype)
            else:
                x[a.name] = np.full(n, 0.5, dtype=dtype)
        return x

    return build


def _diag(values: Callable[[int], list[float]]):
    return lambda n: np.asarray(values(n), dtype=np.float64)


CASES: dict[str, Callable] = {
    "singular_first": _general(lambda n, dt: matrices.singular(n, "first", dtype=dt)),
    "singular_middle": _general(lambda n, dt: matrices.singular(n, "middle", dtype=dt)),
    "singular_last": _general(lambda n, dt: matrices.singular(n, "last", dtype=dt)),
    "singular_dense": _general(lambda n, dt: matrices.singular(n, "middle", dense=True, seed=2, dtype=dt)),
    "rank_n_minus_2": _general(lambda n, dt: matrices.rank_deficient(n, n - 2, seed=2, dtype=dt)),
    "repeated_sigma1": _general(lambda n, dt: matrices.repeated_sigma1(n, seed=2, dtype=dt)),
    "zero": _general(lambda n, dt: matrices.zero(n, dtype=dt)),
    "tiny": _general(lambda n, dt: matrices.badly_scaled(n, "tiny", seed=2, dtype=dt)),
    "huge": _general(lambda n, dt: matrices.badly_scaled(n, "huge", seed=2, dtype=dt)),
    "non_pd": _spd_or_tril(_diag(lambda n: [1.0] * (n - 1) + [-1.0]), rotate=True),
    "psd_singular": _spd_or_tril(_diag(lambda n: [1.0] * (n - 1) + [0.0]), rotate=False),
}


# -- one row ----------------------------------------------------------------------------------
def _describe(g: dict[str, np.ndarray]) -> str:
    arr = np.concatenate([np.ravel(v) for v in g.values()])
    if np.isnan(arr).any():
        return "NaN gradient"
    if np.isinf(arr).any():
        return "inf gradient"
    if not arr.any():
        return "zero gradient"
    return "finite gradient"


def _exception_text(exc: BaseException) -> str:
    """``Type: first line of the message``, without TF's ``{{function_node ...}}`` noise."""
    msg = re.sub(r"\{\{[^}]*\}\}\s*", "", str(exc)).strip()
    msg = msg.splitlines()[0] if msg else ""
    return f"{type(exc).__name__}: {msg[:120]}"


def _overflows(value: float, grads: dict[str, np.ndarray], grad_defined: bool, dtype: str) -> bool:
    """The true value or gradient lies outside the dtype's range: it overflows, or a nonzero value
    underflows to 0 (an infinite value is fine where it is the loss's true value at a point where its
    gradient is undefined, e.g. logdet at a singular A)."""
    info = np.finfo(np.dtype(dtype))
    big, small = float(info.max), float(info.smallest_subnormal)
    for g in grads.values():
        top = np.max(np.abs(np.nan_to_num(g, nan=0.0)), initial=0.0)
        if top > big or 0 < top < small:
            return True
    if 0 < abs(value) < small:
        return True
    return abs(value) > big and (grad_defined or math.isfinite(value))


def run_case(fw_name: str, loss: str, case: str, dtype: str, n: int, mode: str = "eager") -> dict | None:
    """One row; ``None`` where the case does not apply to the loss's inputs. The inputs are singular,
    tied or badly scaled on purpose: the warnings numpy and scipy give about them are silenced."""
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        return _run_case(fw_name, loss, case, dtype, n, mode)


def _run_case(fw_name: str, loss: str, case: str, dtype: str, n: int, mode: str) -> dict | None:
    spec = get_loss(loss)
    x = CASES[case](spec, n, dtype)
    if x is None:
        return None
    fw = get_framework(fw_name)
    row = {
        "framework": fw_name,
        "version": fw.settings().get(fw_name, fw.settings().get("version", "")),
        "loss": loss,
        "case": case,
        "dtype": dtype,
        "n": n,
        "mode": mode,
    }
    try:
        spec.validate(x)
        in_domain, why = True, ""
    except ValueError as exc:
        in_domain, why = False, str(exc)
    tol = math.sqrt(unit_roundoff(dtype))
    ex_v = ex_g = scale = None
    if in_domain:
        res = spec.exact_result(**x)
        ex_v, ex_g, scale = res.value, res.grads, res.scale
    got_v = got_g = None
    error = ""
    try:
        got_v, got_g = fw.value_and_grad(loss, x, dtype=dtype, mode=mode, validate=False)
    except Unsupported as exc:
        row.update(returned="unsupported", verdict="unsupported", detail=exc.reason)
        return row
    except Exception as exc:  # the framework raised: that is a finding, not a crash
        error = _exception_text(exc)
        try:
            got_v = fw.value(loss, x, dtype=dtype, mode=mode, validate=False)
        except Exception:
            got_v = None
    row.update(value=got_v, exact_value=ex_v)

    if not in_domain:
        raised = bool(error) or got_v is None
        row.update(
            returned=error or ("NaN value" if got_v is not None and math.isnan(got_v) else f"value {got_v!r}"),
            verdict="refused" if raised else "fail",
            detail=("rejected, as it should be: " if raised else "accepted silently: ") + why,
        )
        return row

    if math.isnan(ex_v):  # the loss itself has no value here (e.g. an inverse of a singular matrix)
        returned = error or (f"value {got_v!r}" if got_v is not None else "nothing")
        row.update(returned=returned, verdict="undefined", detail=f"the loss has no value here; returned {returned}")
        return row
    grad_defined = not any(np.isnan(g).any() for g in ex_g.values())
    if _overflows(ex_v, ex_g, grad_defined, dtype):
        row.update(returned=error or _describe(got_g) if got_g else error, verdict="unrepresentable",
                   detail=f"the exact value or gradient is not representable in {dtype}")
        return row
    v_err = value_error(spec, got_v, ex_v, scale) if got_v is not None else math.inf
    g_err = math.nan
    if got_g is not None:
        errs = grad_errors(spec, got_g, ex_g)
        g_err = max(errs.values()) if grad_defined else math.nan
    row.update(value_error=v_err, grad_error=g_err)
    returned = error or _describe(got_g)
    if got_v is not None and not math.isfinite(got_v):
        returned = f"value {got_v}; {returned}"
    row["returned"] = returned
    value_ok = v_err <= tol
    if not grad_defined:
        row.update(verdict="undefined" if value_ok else "fail",
                   detail=("gradient undefined here; " if value_ok else f"value error {v_err:.3g}; ") + f"returned {returned}")
        return row
    grad_ok = got_g is not None and g_err <= tol
    if value_ok and grad_ok:
        row.update(verdict="pass", detail="")
    else:
        what = []
        if not value_ok:
            what.append(f"value error {v_err:.3g}")
        if error:
            what.append(f"raised {error}")
        elif not grad_ok:
            what.append(f"{_describe(got_g)} with error {g_err:.3g} where the gradient is defined")
        row.update(verdict="fail", detail="; ".join(what))
    return row


def run(
    frameworks: Iterable[str] | None = None,
    losses: Iterable[str] | None = None,
    cases: Iterable[str] | None = None,
    dtypes: Iterable[str] = ("float64", "float32"),
    sizes: Iterable[int] = (4,),
    modes: Iterable[str] = ("eager",),
    progress: Callable[[str], None] | None = None,
) -> pd.DataFrame:
    rows = []
    for fw_name in frameworks or list_frameworks():
        fw = get_framework(fw_name)
        if not fw.available:
            rows.append({"framework": fw_name, "returned": "unavailable", "verdict": "unsupported", "detail": fw.reason})
            continue
        for loss in losses or list_losses():
            for case in cases or CASES:
                for dtype in dtypes:
                    for n in sizes:
                        for mode in modes:
                            if mode not in fw.modes:
                                continue
                            row = run_case(fw_name, loss, case, dtype, n, mode)
                            if row is not None:
                                rows.append(row)
        if progress:
            progress(f"{fw_name}: done")
    return pd.DataFrame(rows).reindex(columns=COLUMNS)


def save(df: pd.DataFrame, path: Path) -> pd.DataFrame:
    """Merge ``df`` into the table at ``path``: its rows replace those with the same :data:`KEY`,
    every other row is kept (a filtered run never destroys what it did not recompute)."""
    return tables.merge(path, df, KEY)
