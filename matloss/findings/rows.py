"""One row per (framework, device, loss, case, dtype, n, mode): what came back, compared with the exact truth.

The row's ``verdict``:

- ``pass`` — value and gradient agree with the exact ones (within √u, loose on purpose: these
  cases are about wrong answers, not last bits), or at an exact tie the gradient is the even split;
- ``fail`` — a wrong value or gradient where both are defined (a zero gradient at a rank-(n−1)
  matrix, NaN, a raise), or an input outside the loss's domain accepted silently;
- ``undefined`` — the gradient (or the loss) does not exist there, or is not determined in the
  dtype (a σ₁ tie broken only by rounding): what can be judged is judged, the rest recorded;
- ``refused`` — the input is outside the loss's domain and the framework rightly raised;
- ``unrepresentable`` — the true value or gradient over/underflows the dtype;
- ``unsupported`` — the framework is not installed or cannot run the case.

and its ``class``, what it means for a framework maintainer (empty for pass / refused / unsupported):

- ``defect`` — a wrong value or gradient where both are defined, or an error raised where the
  math is defined;
- ``silent-nan`` — an out-of-domain input accepted (NaN or a value) instead of an error: a policy;
- ``ieee`` — the true result, or the products the case builds, leave the dtype's normal range;
- ``undefined`` — the gradient does not exist (or is not determined in the dtype) there.

``what`` says what went wrong in a few words ("zero gradient", "raised InvalidArgumentError"):
the findings are grouped on it. A framework error is a row, never a crash of the run.
"""

from __future__ import annotations

import math
import re
import warnings
from collections.abc import Callable, Iterable

import numpy as np
import pandas as pd

from matloss_ref import get_loss, list_losses
from matloss_ref.exact import evaluate_one
from matloss_ref.metrics import grad_errors, unit_roundoff, value_error

from .. import tables
from ..frameworks import Unsupported, get_framework, list_frameworks
from .cases import CASES, build

#: the columns that name one row: a re-run of the same case replaces it
KEY = ["framework", "device", "loss", "case", "dtype", "n", "mode"]
COLUMNS = ["framework", "version", "device", "loss", "case", "kind", "dtype", "n", "mode", "verdict", "class", "what",
           "returned", "value", "exact_value", "value_error", "grad_error", "detail"]  # fmt: skip
#: the default coverage (n = 2, 3 take jax's closed-form det paths, 4 and 8 its LU path)
SIZES = (2, 3, 4, 8)
DTYPES = ("float64", "float32")
MODES = ("eager", "compiled")
#: the cases built at the edge of the dtype's range: a failure there is IEEE arithmetic
EDGE_KINDS = {"near underflow", "near overflow"}


def _describe(g: dict[str, np.ndarray]) -> str:
    arr = np.concatenate([np.ravel(v) for v in g.values()])
    if np.isnan(arr).any():
        return "NaN gradient"
    if np.isinf(arr).any():
        return "inf gradient"
    if not arr.any():
        return "zero gradient"
    return "finite gradient"


def _value_word(v: float | None) -> str:
    if v is None:
        return "no value"
    return "NaN value" if math.isnan(v) else "inf value" if math.isinf(v) else "finite value"


def exception_text(exc: BaseException) -> str:
    """``Type: first line of the message``, without TF's ``{{function_node ...}}`` noise."""
    msg = re.sub(r"\{\{[^}]*\}\}\s*", "", str(exc)).strip()
    msg = msg.splitlines()[0] if msg else ""
    return f"{type(exc).__name__}: {msg[:120]}"


def _version(fw) -> str:
    s = fw.settings()
    return str(s.get(fw.name, s.get("version", "")))


def split_result(spec, x: dict[str, np.ndarray]):
    """The exact even-split subgradient at a tie (``spec.split_fn``): (value, grads) or None."""
    if spec.split_fn is None:
        return None
    value, _, grads, _, _, _ = evaluate_one(spec, x, fn=spec.split_fn)
    return None if math.isnan(value) else (value, grads)


def run_case(fw_name: str, loss: str, case: str, dtype: str, n: int, mode: str = "eager", device: str = "cpu") -> dict | None:
    """One row; ``None`` where the case does not apply to the loss's inputs. The inputs are singular,
    tied or badly scaled on purpose: the warnings numpy and scipy give about them are silenced."""
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        try:
            return _run_case(fw_name, loss, case, dtype, n, mode, device)
        except Exception as exc:  # matloss's own failure on this case: a row that says so, and the run goes on
            return dict(framework=fw_name, device=device, loss=loss, case=case, kind=CASES[case].kind, dtype=dtype, n=n,
                        mode=mode, verdict="error", returned="", detail=f"matloss could not judge this case: {exception_text(exc)}")


def _run_case(fw_name: str, loss: str, case: str, dtype: str, n: int, mode: str, device: str) -> dict | None:
    spec = get_loss(loss)
    x = build(case, spec, n, dtype)
    if x is None:
        return None
    fw = get_framework(fw_name)
    row = dict(framework=fw_name, version=_version(fw), device=device, loss=loss, case=case, kind=CASES[case].kind,
               dtype=dtype, n=n, mode=mode, **{"class": ""}, what="")  # fmt: skip
    try:
        spec.validate(x)
        in_domain, why = True, ""
    except ValueError as exc:
        in_domain, why = False, str(exc)
    tol = math.sqrt(unit_roundoff(dtype))
    res = spec.exact_result(**x) if in_domain else None
    got_v = got_g = None
    error = ""
    try:
        got_v, got_g = fw.value_and_grad(loss, x, dtype=dtype, device=device, mode=mode, validate=False)
    except Unsupported as exc:
        row.update(returned="unsupported", verdict="unsupported", detail=exc.reason)
        return row
    except Exception as exc:  # the framework raised: that is a finding, not a crash
        error = exception_text(exc)
        try:
            got_v = fw.value(loss, x, dtype=dtype, device=device, mode=mode, validate=False)
        except Exception:
            got_v = None
    returned = error or (f"{_value_word(got_v)}; {_describe(got_g)}" if got_g is not None else _value_word(got_v))
    row.update(value=got_v, returned=returned)
    if not in_domain:
        raised = bool(error) or got_v is None
        row.update(
            verdict="refused" if raised else "fail",
            detail=("rejected, as it should be: " if raised else "accepted silently: ") + why,
        )
        if not raised:
            row.update(**{"class": "silent-nan"}, what=f"accepted: {_value_word(got_v)}")
        return row

    row["exact_value"] = res.value
    if math.isnan(res.value):  # the loss itself has no value here (e.g. an inverse of a singular matrix)
        row.update(verdict="undefined", **{"class": "undefined"}, what="the loss has no value",
                   detail=f"the loss has no value here; returned {returned}")  # fmt: skip
        return row
    if not res.representable(dtype):
        row.update(verdict="unrepresentable", **{"class": "ieee"}, what="true result outside the dtype's range",
                   detail=f"the exact value or gradient is not representable in {dtype} (log2 |value| = "
                          f"{res.log2_value:.0f}, log2 max |gradient| = {res.log2_grad:.0f}); returned {returned}")  # fmt: skip
        return row
    v_err = value_error(spec, got_v, res.value, res.scale) if got_v is not None else math.inf
    value_ok = v_err <= tol
    grad_defined = not any(np.isnan(g).any() for g in res.grads.values())
    g_err = math.nan
    if got_g is not None and grad_defined:
        g_err = max(grad_errors(spec, got_g, res.grads).values())
    row.update(value_error=v_err, grad_error=g_err)

    wrong = []  # what went wrong, in the words the findings group on
    if error:
        wrong.append(f"raised {error.split(':')[0]}")
    elif not value_ok:
        wrong.append(_value_word(got_v) if got_v is None or not math.isfinite(got_v) else "wrong value")

    if not grad_defined:  # no gradient here: at an exact tie the even split is the expected subgradient
        split = split_result(spec, x) if got_g is not None else None
        if split is not None:
            s_err = max(grad_errors(spec, got_g, split[1]).values())
            if s_err <= tol and value_ok:
                row.update(verdict="pass", grad_error=s_err, detail="tie: the gradient is the even split, a valid subgradient")
                return row
            tie_note = f"tie: the gradient is not the even split (error {s_err:.3g} against it)"
        else:
            tie_note = "gradient undefined here"
        if not value_ok:  # the value is defined and wrong: a defect whatever the gradient
            return _failed(row, [w for w in wrong if not w.startswith("raised")] or wrong,
                           f"value error {v_err:.3g}; {tie_note}; returned {returned}")
        what = f"raised {error.split(':')[0]}" if error else f"returned {returned}"  # raising where no gradient exists is fine
        row.update(verdict="undefined", **{"class": "undefined"}, what=what, detail=f"{tie_note}; returned {returned}")
        return row
    if got_g is not None and not spec.gradient_well_posed(dtype, **x):
        note = f"the gradient is not determined in {dtype} here (a tie or kink within rounding)"
        if wrong:
            return _failed(row, wrong, f"{'; '.join(wrong)} (error {v_err:.3g}); {note}")
        row.update(verdict="undefined", **{"class": "undefined"}, what=f"returned {returned}", detail=f"{note}; returned {returned}")
        return row
    grad_ok = got_g is not None and g_err <= tol
    if got_g is not None and not grad_ok:
        word = _describe(got_g)
        wrong.append(word if word != "finite gradient" else "wrong gradient")
    if not wrong:
        row.update(verdict="pass", detail="")
        return row
    parts = []
    if not value_ok:
        parts.append(f"value error {v_err:.3g}")
    if error:
        parts.append(f"raised {error}")
    elif got_g is not None and not grad_ok:
        parts.append(f"{_describe(got_g)} with error {g_err:.3g} where the gradient is defined")
    return _failed(row, wrong, "; ".join(parts))


def _failed(row: dict, wrong: list[str], detail: str) -> dict:
    edge = row["kind"] in EDGE_KINDS
    if edge:
        detail += "; the case puts the products of its entries at the edge of the dtype's range"
    row.update(verdict="fail", **{"class": "ieee" if edge else "defect"}, what=", ".join(wrong), detail=detail)
    return row


def run(
    frameworks: Iterable[str] | None = None,
    losses: Iterable[str] | None = None,
    cases: Iterable[str] | None = None,
    dtypes: Iterable[str] = DTYPES,
    sizes: Iterable[int] = SIZES,
    modes: Iterable[str] = MODES,
    devices: Iterable[str] | None = None,
    progress: Callable[[str], None] | None = None,
) -> pd.DataFrame:
    """Every applicable row of the grid; ``devices`` default: every device each framework has here."""
    rows = []
    for fw_name in frameworks or list_frameworks():
        fw = get_framework(fw_name)
        if not fw.available:
            rows.append({"framework": fw_name, "returned": "unavailable", "verdict": "unsupported", "detail": fw.reason})
            continue
        for device in devices or fw.devices():
            if device not in fw.devices():
                continue
            for mode in modes:
                if mode not in fw.modes:
                    continue
                for loss in losses or list_losses():
                    for case in cases or CASES:
                        for dtype in dtypes:
                            for n in sizes:
                                row = run_case(fw_name, loss, case, dtype, n, mode, device)
                                if row is not None:
                                    rows.append(row)
                if progress:
                    progress(f"{fw_name} {device} {mode}: done")
    return pd.DataFrame(rows).reindex(columns=COLUMNS)


def save(df: pd.DataFrame, path) -> pd.DataFrame:
    """Merge ``df`` into the table at ``path``: its rows replace those with the same :data:`KEY`,
    every other row is kept (a filtered run never destroys what it did not recompute)."""
    return tables.merge(path, df, KEY)
