"""High-precision ground truth: python-flint ball arithmetic, mpmath where flint lacks a routine.

The float inputs are converted to arb matrices *exactly* (a float is a dyadic rational), each
loss's ``hp_fn`` computes its value and closed-form gradient in ball arithmetic, and the working
precision is doubled until every ball is tight enough that the float64 rounding of its midpoint
has relative error below 1e-15 (absolute against the loss's term scale where the value is ≈ 0).

Results are cached on disk, keyed by a hash of the loss and of the input bits, in
``cache_dir`` / ``$MATLOSS_CACHE_DIR`` / ``$XDG_CACHE_HOME/matloss/exact`` / ``~/.cache/matloss/exact``.
"""

from __future__ import annotations

import hashlib
import math
import os
import tempfile
import time
from collections.abc import Iterable, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from flint import acb_mat, arb, arb_mat, ctx, fmpq, fmpq_mat, fmpz

if TYPE_CHECKING:
    from .spec import LossSpec

#: bump when an exact algorithm changes, so stale cache entries are not reused
CACHE_VERSION = 3
#: a ball is accepted when its radius is below this fraction of the value (2^-58 ≈ 3.5e-18)
TOL = 2.0**-58
MAX_PREC = 1 << 14


class NeedsPrecision(Exception):
    """Raised by a high-precision routine that cannot decide at the current precision."""


class Undefined(ArithmeticError):
    """The loss has no value at this input (e.g. an inverse of an exactly singular matrix)."""


@dataclass
class ExactResult:
    value: float
    grads: dict[str, np.ndarray]
    #: the denominator of the value error: |value|, 1 (absolute metric) or the term scale
    scale: float
    prec: int
    seconds: float
    cached: bool = False
    #: log2 of |value| and of the largest |gradient entry|, from the exact balls: they tell whether
    #: the truth is representable in a dtype even where float64 over/underflows (-inf: exactly 0)
    log2_value: float = math.nan
    log2_grad: float = math.nan

    def representable(self, dtype: str) -> bool:
        """The true value and gradient lie within the finite range of ``dtype`` (no overflow, and no
        nonzero magnitude below its smallest subnormal)."""
        info = np.finfo(np.dtype(dtype))
        top, bottom = math.log2(float(info.max)), math.log2(float(info.smallest_subnormal))
        for e, value_like in ((self.log2_value, True), (self.log2_grad, False)):
            if math.isnan(e) or e == -math.inf:
                continue
            if e == math.inf:  # an infinite value is the true value where the loss is +-inf (logdet at a singular A)
                if value_like:
                    continue
                return False
            if e > top or e < bottom:
                return False
        return True


# ---------------------------------------------------------------------------------------
# precision and conversion
# ---------------------------------------------------------------------------------------
@contextmanager
def precision(bits: int):
    """Set flint's working precision (and mpmath's) for the duration of a block."""
    import mpmath

    old = ctx.prec
    ctx.prec = int(bits)
    try:
        with mpmath.workprec(int(bits)):
            yield
    finally:
        ctx.prec = old


def to_arb(x: np.ndarray) -> arb_mat:
    """An exact arb matrix from a float array; a vector becomes a column."""
    x = np.asarray(x, dtype=np.float64)
    if x.ndim == 1:
        x = x[:, None]
    return arb_mat(x.shape[0], x.shape[1], x.ravel().tolist())


def from_arb(m: arb_mat) -> tuple[np.ndarray, np.ndarray]:
    """(midpoints rounded to float64, radii rounded up) of an arb matrix."""
    ents = m.entries()
    mid = np.array([float(e.mid()) for e in ents]).reshape(m.nrows(), m.ncols())
    rad = np.array([float(e.rad()) for e in ents]).reshape(m.nrows(), m.ncols())
    return mid, rad


def hp_inputs(spec: LossSpec, arrays: Mapping[str, np.ndarray]) -> dict[str, Any]:
    """Unbatched float arrays -> the high-precision form ``hp_fn`` takes (``stack`` -> list over axis 1)."""
    out: dict[str, Any] = {}
    for a in spec.args:
        x = np.asarray(arrays[a.name], dtype=np.float64)
        out[a.name] = [to_arb(x[:, i, :]) for i in range(x.shape[1])] if a.kind == "stack" else to_arb(x)
    return out


def identity(n: int) -> arb_mat:
    return arb_mat(n, n, [1 if i == j else 0 for i in range(n) for j in range(n)])


def fro2(m: arb_mat) -> arb:
    """Squared Frobenius norm."""
    return sum((e * e for e in m.entries()), arb(0))


def diag_entries(m: arb_mat) -> list[arb]:
    return [m[i, i] for i in range(min(m.nrows(), m.ncols()))]


def diag_from(values: list[arb]) -> arb_mat:
    n = len(values)
    return arb_mat(n, n, [values[i] if i == j else 0 for i in range(n) for j in range(n)])


def exact_rational(m: arb_mat) -> fmpq_mat:
    """The exact rational matrix of an arb matrix with exact (zero-radius) entries."""
    ents = m.entries()
    if any(not e.is_exact() for e in ents):
        raise NeedsPrecision("matrix entries are not exact")
    vals = []
    for e in ents:
        man, exp = e.mid().man_exp()
        man, exp = int(man), int(exp)
        vals.append(fmpq(man * 2**exp) if exp >= 0 else fmpq(man, 2 ** (-exp)))
    return fmpq_mat(m.nrows(), m.ncols(), vals)


def det(m: arb_mat) -> arb:
    """Determinant; when the ball holds 0, fall back to exact rational arithmetic (a true 0 is exact)."""
    d = m.det()
    if d.contains(0):
        exact = exact_rational(m).det()
        if exact == 0:
            return arb(0)
        raise NeedsPrecision("determinant not resolved")
    return d


def _singular_or_imprecise(m: arb_mat, exc: ZeroDivisionError) -> Exception:
    """An exactly singular ``m`` has no inverse (:class:`Undefined`); otherwise more precision will tell."""
    if all(e.is_exact() for e in m.entries()) and exact_rational(m).det() == 0:
        return Undefined("the matrix is exactly singular")
    return NeedsPrecision(str(exc))


def inv(m: arb_mat) -> arb_mat:
    try:
        return m.inv()
    except ZeroDivisionError as exc:
        raise _singular_or_imprecise(m, exc) from None


def solve(a: arb_mat, b: arb_mat) -> arb_mat:
    try:
        return a.solve(b)
    except ZeroDivisionError as exc:
        raise _singular_or_imprecise(a, exc) from None


def sym_eig(g: arb_mat) -> tuple[list[arb], arb_mat]:
    """Eigenvalues (descending) and unit eigenvectors (columns) of a symmetric arb matrix.

    flint's verified eigensolver when every eigenvalue can be isolated; when some cannot (an
    exact tie), mpmath's ``eigsy`` at this precision and at 64 more bits, the difference of the
    two serving as the radius (so the driver raises precision while they disagree).
    """
    n = g.nrows()
    try:
        evals, r = acb_mat(g).eig(right=True)
    except ValueError:
        return _sym_eig_mpmath(g)
    lam = [e.real for e in evals]
    cols = []
    for j in range(n):
        v = [r[i, j].real for i in range(n)]
        nrm = sum((x * x for x in v), arb(0)).sqrt()
        cols.append([x / nrm for x in v])
    # fix the sign so the largest-magnitude entry is positive, and sort descending
    order = sorted(range(n), key=lambda j: -float(lam[j].mid()))
    vecs = []
    for j in order:
        c = cols[j]
        k = max(range(n), key=lambda i: abs(float(c[i].mid())))
        vecs.append([-x for x in c] if float(c[k].mid()) < 0 else c)
    mat = arb_mat(n, n, [vecs[j][i] for i in range(n) for j in range(n)])
    return [lam[j] for j in order], mat


def _sym_eig_mpmath(g: arb_mat) -> tuple[list[arb], arb_mat]:
    import mpmath

    n = g.nrows()
    if n > 64:
        raise NeedsPrecision("eigenvalues could not be isolated and the mpmath fallback is limited to n <= 64")
    runs = []
    for extra in (0, 64):
        with mpmath.workprec(ctx.prec + extra):
            a = mpmath.matrix([[_arb_to_mpf(g[i, j]) for j in range(n)] for i in range(n)])
            e, q = mpmath.eigsy(a)
            order = sorted(range(n), key=lambda j: -e[j])
            lam = [e[j] for j in order]
            cols = []
            for j in order:
                c = [q[i, j] for i in range(n)]
                k = max(range(n), key=lambda i: abs(c[i]))
                cols.append([-x for x in c] if c[k] < 0 else c)
            runs.append((lam, cols))
    (l0, c0), (l1, c1) = runs

    def ball(a, b) -> arb:
        return arb(_mpf_to_arb(b), abs(float(a - b)) * 2)

    lam = [ball(a, b) for a, b in zip(l0, l1)]
    mat = arb_mat(n, n, [ball(c0[j][i], c1[j][i]) for i in range(n) for j in range(n)])
    return lam, mat


def _arb_to_mpf(x: arb):
    import mpmath

    man, exp = x.mid().man_exp()
    return mpmath.mpf((int(man), int(exp)))


def _mpf_to_arb(x) -> arb:
    sign, man, exp, _ = x._mpf_
    return arb(fmpz(int(-man if sign else man))) * arb(2) ** int(exp)


def is_simple_top(lam: list[arb]) -> bool:
    """True when the top eigenvalue is certainly larger than the next."""
    return len(lam) < 2 or not lam[0].overlaps(lam[1])


def tied_top(g: arb_mat, by_magnitude: bool = False) -> tuple[arb, arb_mat, int] | None:
    """At an exact tie of the top eigenvalue of the symmetric ``g``: (that eigenvalue, the projector
    onto its eigenspace, its multiplicity k ≥ 2); None where the top eigenvalue is simple.

    The eigenvectors of a tied eigenvalue are not determined, but the projector onto their span is
    (it only needs the gap to the next eigenvalue). Computed with mpmath's ``eigsy`` at this
    precision and at 64 bits more; the difference is the radius. ``by_magnitude``: the top of |λ|
    (all the tied eigenvalues must then have one sign, else None).
    """
    import mpmath

    n = g.nrows()
    runs = []
    for extra in (0, 64):
        with mpmath.workprec(ctx.prec + extra):
            a = mpmath.matrix([[_arb_to_mpf(g[i, j]) for j in range(n)] for i in range(n)])
            e, q = mpmath.eigsy(a)
            key = (lambda j: -abs(e[j])) if by_magnitude else (lambda j: -e[j])
            order = sorted(range(n), key=key)
            top = e[order[0]]
            tol = mpmath.mpf(2) ** (-(ctx.prec // 2)) * max(abs(top), 1)
            tied = [j for j in order if abs(abs(e[j]) - abs(top) if by_magnitude else e[j] - top) <= tol]
            if len(tied) < 2 or (by_magnitude and len({mpmath.sign(e[j]) for j in tied}) > 1):
                return None
            proj = [[mpmath.fsum(q[i, j] * q[k, j] for j in tied) for k in range(n)] for i in range(n)]
            runs.append((top, proj, len(tied)))
    (t0, p0, k0), (t1, p1, k1) = runs
    if k0 != k1:
        raise NeedsPrecision("the tied cluster differs between precisions")

    floor = 2.0 ** (8 - ctx.prec)

    def ball(a, b) -> arb:
        return arb(_mpf_to_arb(b), abs(float(a - b)) * 2 + floor * max(1.0, abs(float(b))))

    return ball(t0, t1), arb_mat(n, n, [ball(p0[i][j], p1[i][j]) for i in range(n) for j in range(n)]), k1


def const(x: float) -> arb:
    """A decimal constant such as λ = 0.1, read as the decimal it is written as, at the working precision."""
    return arb(repr(float(x)))


def gram(a: arb_mat) -> tuple[arb_mat, bool]:
    """(the ν×ν Gram matrix: AᵀA for a tall or square A, AAᵀ for a wide one, tall?)."""
    tall = a.nrows() >= a.ncols()
    return (a.transpose() * a if tall else a * a.transpose()), tall


def top_direction(a: arb_mat) -> tuple[arb, arb_mat | None]:
    """σ₁² of ``a`` and ``σ₁·u₁v₁ᵀ`` (i.e. ``A v vᵀ`` or ``u uᵀ A``); None when σ₁ is not simple."""
    g, tall = gram(a)
    lam, vecs = sym_eig(g)
    if not is_simple_top(lam):
        return lam[0], None
    n = g.nrows()
    v = arb_mat(n, 1, [vecs[i, 0] for i in range(n)])
    return lam[0], (a * v * v.transpose() if tall else v * v.transpose() * a)


def is_zero(m: arb_mat) -> bool:
    return all(e.is_zero() for e in m.entries())


def tril(m: arb_mat) -> arb_mat:
    """The lower triangle of a square arb matrix (the rest set to 0)."""
    n = m.nrows()
    return arb_mat(n, n, [m[i, j] if j <= i else 0 for i in range(n) for j in range(n)])


# ---------------------------------------------------------------------------------------
# the driver
# ---------------------------------------------------------------------------------------
def _start_prec(arrays: Mapping[str, np.ndarray], gram: bool = False) -> int:
    """64 guard bits plus the bits κ can destroy (twice that for Gram-matrix methods, where κ(AᵀA) = κ²)."""
    bits = 0.0
    for x in arrays.values():
        x = np.asarray(x, dtype=np.float64)
        if x.ndim >= 2 and min(x.shape[-2:]) > 1:
            with np.errstate(all="ignore"):
                c = float(np.max(np.linalg.cond(x.reshape((-1,) + x.shape[-2:]))))
            bits = max(bits, math.log2(c) if math.isfinite(c) and c > 0 else 96.0)
    return int(64 + (2 if gram else 1) * min(bits, 4000) + 8)


def _ball_ok(mid: float, rad: float, floor: float) -> bool:
    return rad <= TOL * max(abs(mid), floor)


def _rounds_uniquely(balls: Iterable[arb]) -> bool:
    """Every ball's endpoints round to the same float64 (e.g. values far below the underflow threshold)."""
    return all(float(b.lower()) == float(b.upper()) for b in balls)


def log2_abs(x: arb) -> float:
    """log2 of the upper end of |x| (-inf for a ball holding 0, inf for an infinite or NaN ball): far outside float64."""
    if x.contains(0):
        return -math.inf
    if not x.is_finite():
        return math.inf
    man, exp = x.abs_upper().mid().man_exp()  # the upper end of |x|: a ball around 0 gives its radius
    return int(exp) + math.log2(int(man)) if int(man) else -math.inf


def _finish(spec: LossSpec, raw: tuple, shapes: Mapping[str, tuple[int, ...]], scale: float):
    """Check the balls of one evaluation; return (value, scale, grads, log2|value|, log2 max|grad|) or None if too wide."""
    value, grads = raw
    v = value if isinstance(value, arb) else arb(value)
    if not v.is_finite():
        vmid, vrad = (math.inf if float(v.mid()) >= 0 or v.is_nan() else -math.inf), 0.0
        if v.is_nan():
            vmid = math.nan
    else:
        vmid, vrad = float(v.mid()), float(v.rad())
    if spec.value_metric == "absolute":
        floor = 1.0
    elif spec.value_metric == "scaled":
        floor = scale
    else:
        floor = 0.0
    if math.isfinite(vmid) and not _ball_ok(vmid, vrad, floor) and not _rounds_uniquely([v]):
        return None
    out: dict[str, np.ndarray] = {}
    log2_grad = math.nan
    for a in spec.args:
        g = grads.get(a.name) if grads is not None else None
        shape = shapes[a.name]
        if g is None:
            out[a.name] = np.full(shape, np.nan)
            continue
        entries = [e for gi in (g if a.kind == "stack" else [g]) for e in gi.entries()]
        log2_grad = max([log2_grad if not math.isnan(log2_grad) else -math.inf] + [log2_abs(e) for e in entries])
        if a.kind == "stack":
            parts = [from_arb(gi) for gi in g]
            mid = np.stack([p[0] for p in parts], axis=1)
            rad = np.stack([p[1] for p in parts], axis=1)
        else:
            mid, rad = from_arb(g)
        mid, rad = mid.reshape(shape), rad.reshape(shape)
        with np.errstate(over="ignore", under="ignore"):
            tight = np.linalg.norm(rad) <= TOL * np.linalg.norm(mid)
        if not tight and not _rounds_uniquely(entries):
            return None
        out[a.name] = mid
    if spec.value_metric == "relative":
        floor = abs(vmid)
    return vmid, floor, out, log2_abs(v), log2_grad


def evaluate_one(
    spec: LossSpec, arrays: Mapping[str, np.ndarray], fn=None
) -> tuple[float, float, dict[str, np.ndarray], int, float, float]:
    """Exact value, error scale and gradient of one unbatched case, raising precision as needed.

    Where the loss has no value (:class:`Undefined`) the value and every gradient entry are NaN.
    ``fn`` evaluates another high-precision function of the spec's signature instead of ``hp_fn``
    (``spec.split_fn``, for one).
    """
    shapes = {k: np.shape(v) for k, v in arrays.items()}
    scale = 1.0
    if spec.value_metric == "scaled":
        assert spec.terms_fn is not None, f"{spec.name}: a scaled value metric needs terms_fn"
        scale = float(spec.terms_fn(**{k: np.asarray(v, dtype=np.float64) for k, v in arrays.items()}))
    prec = _start_prec(arrays, gram=spec.svd_based)
    last = "precision limit reached"
    while prec <= MAX_PREC:
        with precision(prec):
            try:
                raw = (fn or spec.hp_fn)(**hp_inputs(spec, arrays))
                if raw is None:
                    raise Undefined(f"{spec.name}: no value here")
                done = _finish(spec, raw, shapes, scale)
            except NeedsPrecision as exc:
                done, last = None, str(exc)
            except Undefined:
                return math.nan, scale, {k: np.full(v, np.nan) for k, v in shapes.items()}, prec, math.nan, math.nan
        if done is not None:
            v, floor, grads, log2_v, log2_g = done
            return v, floor, grads, prec, log2_v, log2_g
        prec *= 2
    raise ArithmeticError(f"{spec.name}: exact evaluation did not converge by {MAX_PREC} bits ({last})")


# ---------------------------------------------------------------------------------------
# cache
# ---------------------------------------------------------------------------------------
def default_cache_dir() -> Path:
    env = os.environ.get("MATLOSS_CACHE_DIR")
    if env:
        return Path(env)
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "matloss" / "exact"


def cache_key(spec: LossSpec, arrays: Mapping[str, np.ndarray]) -> str:
    h = hashlib.sha256(f"{spec.name}|v{CACHE_VERSION}|{sorted(spec.constants.items())}".encode())
    for name in spec.inputs:
        x = np.ascontiguousarray(arrays[name], dtype=np.float64)
        h.update(f"|{name}{x.shape}|".encode())
        h.update(x.tobytes())
    return h.hexdigest()


def _cache_path(root: Path, key: str) -> Path:
    return root / key[:2] / f"{key}.npz"


def _load(path: Path, spec: LossSpec) -> ExactResult | None:
    try:
        with np.load(path) as z:
            return ExactResult(
                value=float(z["value"]),
                grads={n: z[f"grad_{n}"] for n in spec.inputs},
                scale=float(z["scale"]),
                prec=int(z["prec"]),
                seconds=float(z["seconds"]),
                cached=True,
                log2_value=float(z["log2_value"]),
                log2_grad=float(z["log2_grad"]),
            )
    except (OSError, KeyError, ValueError):
        return None


def _store(path: Path, res: ExactResult) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            np.savez(
                f,
                value=res.value,
                scale=res.scale,
                prec=res.prec,
                seconds=res.seconds,
                log2_value=res.log2_value,
                log2_grad=res.log2_grad,
                **{f"grad_{k}": v for k, v in res.grads.items()},
            )
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def compute(
    spec: LossSpec,
    arrays: Mapping[str, np.ndarray],
    batch: tuple[int, ...],
    *,
    cache_dir: str | os.PathLike | None = None,
    use_cache: bool = True,
) -> ExactResult:
    """Exact value (summed over the batch) and gradient of validated ``arrays``."""
    root = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    key = cache_key(spec, arrays)
    path = _cache_path(root, key)
    if use_cache and path.exists():
        hit = _load(path, spec)
        if hit is not None:
            return _absolute_scale(spec, hit)
    t0 = time.perf_counter()
    grads = {k: np.empty(np.shape(v), dtype=np.float64) for k, v in arrays.items()}
    total, scale, prec = 0.0, 0.0, 0
    values, log2_values, log2_grads = [], [], []
    for idx in np.ndindex(*batch):
        v, s, g, p, log2_v, log2_g = evaluate_one(spec, {k: x[idx] for k, x in arrays.items()})
        values.append(v)
        log2_values.append(log2_v)
        log2_grads.append(log2_g)
        scale += s
        prec = max(prec, p)
        for k in grads:
            grads[k][idx] = g[k]
    # the batch sum of correctly rounded terms: math.fsum rounds the exact sum of the floats
    total = math.fsum(values) if all(math.isfinite(v) for v in values) else sum(values)
    if spec.value_metric == "relative":
        scale = abs(total)
    if len(values) == 1:
        log2_value = log2_values[0]
    elif total != 0 and math.isfinite(total):
        log2_value = math.log2(abs(total))
    else:  # the sum under/overflows float64: bounded by its largest term
        log2_value = max(log2_values)
    res = ExactResult(total, grads, scale, prec, time.perf_counter() - t0, log2_value=log2_value,
                      log2_grad=max((e for e in log2_grads if not math.isnan(e)), default=math.nan))
    if use_cache:
        _store(path, res)
    return _absolute_scale(spec, res)


def _absolute_scale(spec: LossSpec, res: ExactResult) -> ExactResult:
    """An absolute error (the log-determinants') is taken against max(1, |v*|): it is the relative error
    of det near |det| = 1, and no float result of a large log-determinant is closer than u·|v*|."""
    if spec.value_metric == "absolute" and math.isfinite(res.value):
        res.scale = max(1.0, abs(res.value))
    return res


# ---------------------------------------------------------------------------------------
# condition numbers of exact inputs
# ---------------------------------------------------------------------------------------
def kappa(a: np.ndarray) -> float:
    """True 2-norm condition number of the exact bits of ``a`` (one matrix), to ~n·u relative.

    σ₁ is computed in float64 (singular values are perfectly conditioned); 1/σ_ν is the 2-norm
    of the inverse (of AᵀA for a rectangular A) computed in ball arithmetic and then rounded.
    """
    a = np.asarray(a, dtype=np.float64)
    if a.ndim != 2:
        raise ValueError(f"kappa: a must be a matrix, got shape {a.shape}")
    tall = a if a.shape[0] >= a.shape[1] else a.T
    s1 = np.linalg.norm(tall, 2)
    if s1 == 0:
        return math.inf
    prec = _start_prec({"a": tall}, gram=tall.shape[0] != tall.shape[1])
    while prec <= MAX_PREC:
        with precision(prec):
            m = to_arb(tall)
            g = m if tall.shape[0] == tall.shape[1] else m.transpose() * m
            try:
                if det(g) == 0:
                    return math.inf
                gi, rad = from_arb(g.inv())
            except (NeedsPrecision, ZeroDivisionError):
                gi, rad = None, None
        if gi is not None and np.all(np.isfinite(gi)) and np.linalg.norm(rad) <= 1e-20 * np.linalg.norm(gi):
            inv_norm = np.linalg.norm(gi, 2)
            if tall.shape[0] != tall.shape[1]:
                inv_norm = math.sqrt(inv_norm)
            return float(s1 * inv_norm)
        prec *= 2
    raise ArithmeticError("kappa: did not converge")


def kappa_cached(a: np.ndarray, *, cache_dir: str | os.PathLike | None = None) -> float:
    """:func:`kappa`, cached on disk like the exact losses (keyed by the bits of ``a``)."""
    a = np.ascontiguousarray(a, dtype=np.float64)
    root = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    h = hashlib.sha256(f"kappa|v{CACHE_VERSION}|{a.shape}|".encode())
    h.update(a.tobytes())
    path = root / "kappa" / f"{h.hexdigest()}.txt"
    try:
        return float(path.read_text())
    except (OSError, ValueError):
        pass
    k = kappa(a)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
    with os.fdopen(fd, "w") as f:
        f.write(repr(k))
    os.replace(tmp, path)
    return k
