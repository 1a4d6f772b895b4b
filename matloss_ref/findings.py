"""Findings: the structured cases of ACCURACY.md through every framework, compared with the exact truth.

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
import os
import re
import tempfile
from collections.abc import Callable, Iterable
from pathlib import Path

import numpy as np
import pandas as pd

from . import get_loss, list_losses, matrices
from .cli import arg, command
from .frameworks import Unsupported, get_framework, list_frameworks
from .metrics import grad_errors, unit_roundoff, value_error

RESULTS_DIR = Path("results") / "findings"


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
    cols = ["framework", "version", "loss", "case", "dtype", "n", "mode", "verdict", "returned",
            "value", "exact_value", "value_error", "grad_error", "detail"]
    df = pd.DataFrame(rows)
    return df.reindex(columns=cols)


def save(df: pd.DataFrame, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
    with os.fdopen(fd, "w") as f:
        df.to_csv(f, index=False)
    os.replace(tmp, path)
    return path


@command("findings", "run the structured cases through every framework; print and save the verdicts")
@arg("--framework", action="append", help="only these frameworks (repeatable)")
@arg("--loss", action="append", help="only these losses (repeatable)")
@arg("--case", action="append", choices=list(CASES), help="only these cases (repeatable)")
@arg("--dtype", action="append", choices=["float32", "float64"], help="default: both")
@arg("-n", type=int, action="append", help="matrix size (repeatable; default 4)")
@arg("--compiled", action="store_true", help="also run the compiled mode")
@arg("--all", action="store_true", help="print every row, not only failures and undefined cases")
@arg("--out", default=str(RESULTS_DIR / "findings.csv"), help="CSV path (default results/findings/findings.csv)")
def cmd_findings(ns) -> int:
    import sys

    df = run(
        ns.framework, ns.loss, ns.case, ns.dtype or ("float64", "float32"), ns.n or (4,),
        ("eager", "compiled") if ns.compiled else ("eager",),
        progress=lambda s: print(s, file=sys.stderr),
    )
    path = save(df, Path(ns.out))
    shown = df if ns.all else df[df["verdict"].isin(["fail", "undefined"])]
    cols = ["framework", "loss", "case", "dtype", "verdict", "returned", "detail"]
    with pd.option_context("display.max_rows", None, "display.max_colwidth", 90, "display.width", 250):
        print(shown[cols].to_string(index=False))
    counts = df["verdict"].value_counts().to_dict()
    print(f"\n{len(df)} rows: " + ", ".join(f"{v} {k}" for k, v in sorted(counts.items())))
    print(f"findings table written to {path}")
    return 0
