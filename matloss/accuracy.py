"""The accuracy sweep: error of every framework's value and gradient against the exact truth.

Two axes (docs/accuracy.md):

- **κ**: the condition number of the governing matrix, decades from 1 to ~0.1/u, at |det| = 1;
- **scale**: for the losses that have one (``spec.scale_inputs``: the determinants and the
  Gaussian NLLs), the inputs multiplied by 2^k so that log10 |det| of the governing matrix runs from
  -600 to 600 (float64) or -72 to 72 (float32), at κ = 100: where det under/overflows the naive
  forms leave their stable siblings.

Work is split into tasks, one per (loss, dtype, n): every input point of that family (both axes,
every singular-value mode, sampler variant, κ or scale, seed) is sampled once, validated once, its
exact value, gradient and κ taken from the on-disk cache (computed there when missing), and then
run through every (framework, device, mode) of the grid. So each (loss, framework, dtype, mode,
shape) is compiled once, in one worker, and reused for every κ, scale and seed. Tasks run on
dask.distributed (:mod:`matloss.cluster`): an embedded local cluster by default, or an existing
one. Each finished task is written atomically to ``<out>/cases/<task>.csv`` by the client; a re-run
skips every task whose file holds exactly its rows, so a killed sweep (or a killed worker) loses at
most the tasks in flight. The table is ``<out>.csv``, the summary ``<out>_summary.csv``; a filtered
run replaces only the rows and cells it recomputed.
"""

from __future__ import annotations

import hashlib
import math
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from matloss_ref import get_loss, list_losses
from matloss_ref.metrics import grad_errors, ratio, unit_roundoff, value_error

from . import tables
from .frameworks import DTYPES, MODES, Unsupported, get_framework, list_frameworks

CELL = ["framework", "device", "dtype", "mode", "loss", "n", "svd_mode", "variant", "axis"]
#: the columns that name one case of the full table
CASE = CELL + ["kappa", "log10_det", "seed"]
SATURATION = 1e-2  # errors at or above this are saturated: left out of the slope fit
AXES = ("kappa", "scale")


# ---------------------------------------------------------------------------------------------
# the grid
# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Point:
    """One input of a family: which axis, singular-value mode, sampler variant, κ, scale and seed."""

    axis: str
    svd_mode: int
    variant: str
    kappa: float
    log10_det: float
    seed: int


@dataclass(frozen=True)
class Task:
    """One (loss, dtype, n) family: its input points and the (framework, device, mode) evaluations."""

    loss: str
    dtype: str
    n: int
    points: tuple[Point, ...]
    evaluations: tuple[tuple[str, str, str], ...]
    cache_dir: str | None = None

    @property
    def key(self) -> str:
        """Names the task's file: the family, and a digest of its points, its evaluations and the code
        (so a re-run resumes only work done by the same code on the same grid)."""
        from .cluster import fingerprint

        digest = hashlib.sha256(repr((self.points, self.evaluations, fingerprint())).encode()).hexdigest()[:10]
        return f"{self.loss}-{self.dtype}-n{self.n}-{digest}"

    @property
    def size(self) -> int:
        return len(self.points) * len(self.evaluations)


@dataclass(frozen=True)
class Grid:
    """The parameters of a sweep. ``Grid.default()`` and ``Grid.quick()`` are the two presets."""

    losses: tuple[str, ...]
    frameworks: tuple[str, ...]
    devices: tuple[str, ...] = ("cpu",)
    dtypes: tuple[str, ...] = ("float64", "float32")
    modes: tuple[str, ...] = ("eager", "compiled")
    sizes: tuple[int, ...] = (8, 32, 128)
    svd_sizes_max: int = 32
    svd_modes: tuple[int, ...] = (3, 5)
    kappas: dict[str, tuple[float, ...]] = field(
        default_factory=lambda: {"float64": tuple(10.0**k for k in range(16)), "float32": tuple(10.0**k for k in range(7))}
    )
    seeds: int = 3
    #: log10 |det| of the governing matrix along the scale axis (0, at κ = scale_kappa, is the κ axis's own point)
    scales: dict[str, tuple[float, ...]] = field(
        default_factory=lambda: {"float64": (-600, -450, -300, -150, 150, 300, 450, 600), "float32": (-72, -54, -36, -18, 18, 36, 54, 72)}
    )
    scale_kappa: float = 100.0

    @classmethod
    def default(cls, **over) -> Grid:
        kw = dict(losses=tuple(list_losses()), frameworks=tuple(list_frameworks()))
        kw.update(over)
        return cls(**kw)

    @classmethod
    def quick(cls, **over) -> Grid:
        kw = dict(
            losses=tuple(list_losses()),
            frameworks=tuple(list_frameworks()),
            modes=("eager",),
            sizes=(8,),
            svd_modes=(3,),
            kappas={"float64": (1.0, 1e4, 1e8, 1e12), "float32": (1.0, 1e3, 1e6)},
            seeds=2,
            scales={"float64": (-600, -300, 300, 600), "float32": (-72, -36, 36, 72)},
        )
        kw.update(over)
        return cls(**kw)

    def __post_init__(self) -> None:
        """Reject unknown names and impossible values before any work starts (``ValueError``)."""
        known = {"losses": list_losses(), "frameworks": list_frameworks(), "dtypes": list(DTYPES), "modes": list(MODES),
                 "devices": ["cpu", "cuda"]}  # fmt: skip
        for attr, allowed in known.items():
            for v in getattr(self, attr):
                if v not in allowed:
                    raise ValueError(f"{attr[:-1]}: unknown {attr[:-1]} {v!r}; known: {', '.join(allowed)}")
            if not getattr(self, attr):
                raise ValueError(f"{attr}: empty")
        for v in self.sizes:
            if int(v) < 1:
                raise ValueError(f"size: must be >= 1, got {v}")
        if int(self.seeds) < 1:
            raise ValueError(f"seeds: must be >= 1, got {self.seeds}")

    def sizes_for(self, loss: str) -> tuple[int, ...]:
        return tuple(n for n in self.sizes if not get_loss(loss).svd_based or n <= self.svd_sizes_max)

    def points(self, loss: str, dtype: str) -> tuple[Point, ...]:
        spec = get_loss(loss)
        variants = ("default", *spec.variants)
        pts = [Point("kappa", sm, v, k, 0.0, s) for sm in self.svd_modes for v in variants for k in self.kappas[dtype]
               for s in range(self.seeds)]  # fmt: skip
        if spec.scale_inputs:
            pts += [Point("scale", self.svd_modes[0], v, self.scale_kappa, d, s) for v in variants for d in self.scales[dtype]
                    for s in range(self.seeds)]  # fmt: skip
        return tuple(pts)

    def evaluations(self) -> tuple[tuple[str, str, str], ...]:
        out = []
        for fw_name in self.frameworks:
            fw = get_framework(fw_name)
            for device in self.devices:
                for mode in self.modes:
                    if not fw.available or mode in fw.modes:
                        out.append((fw_name, device, mode))
        return tuple(out)

    def tasks(self, cache_dir: str | None = None) -> list[Task]:
        evals = self.evaluations()
        return [Task(loss, dt, n, self.points(loss, dt), evals, cache_dir)
                for loss in self.losses for dt in self.dtypes for n in self.sizes_for(loss)]  # fmt: skip

    def n_cases(self) -> int:
        return sum(t.size for t in self.tasks())


# ---------------------------------------------------------------------------------------------
# one task (this runs on a worker)
# ---------------------------------------------------------------------------------------------
def _status(value: float | None, grads: dict[str, np.ndarray] | None, exact_grads: dict[str, np.ndarray]) -> str:
    """ok, nan_returned, inf_returned (in the value or the gradient), zero_grad (all zero where the true
    gradient is not), exception."""
    if value is None or grads is None:
        return "exception"
    arrs = list(grads.values())
    if math.isnan(value) or any(np.isnan(g).any() for g in arrs):
        return "nan_returned"
    if math.isinf(value) or any(np.isinf(g).any() for g in arrs):
        return "inf_returned"
    if not any(g.any() for g in arrs) and any(np.any(g != 0) for g in exact_grads.values()):
        return "zero_grad"
    return "ok"


def _versions(evaluations) -> dict[str, str]:
    out = {}
    for fw_name, _, _ in evaluations:
        fw = get_framework(fw_name)
        out[fw_name] = str(fw.settings().get(fw_name, "")) if fw.available else ""
    return out


def run_task(task: Task) -> list[dict]:
    """Every (point × evaluation) row of one family."""
    import warnings

    from .cluster import single_thread

    single_thread()
    spec = get_loss(task.loss)
    versions = _versions(task.evaluations)
    u = unit_roundoff(task.dtype)
    rows = []
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        for p in task.points:
            x0 = spec.sample(task.n, kappa=p.kappa, dtype=task.dtype, seed=p.seed, mode=p.svd_mode, variant=p.variant)
            k = spec.scale_exponent(task.n, p.log10_det) if p.axis == "scale" else 0
            x = spec.scaled(x0, k) if k else x0
            spec.validate(x)  # once per input; the frameworks then take it unchecked
            res = spec.exact_result(cache_dir=task.cache_dir, **x)
            kap = spec.true_kappa(cache_dir=task.cache_dir, **x0)  # a power-of-two scale leaves κ as it is
            grad_defined = not any(np.isnan(g).any() for g in res.grads.values())
            well_posed = grad_defined and spec.gradient_well_posed(task.dtype, **x)
            representable = res.representable(task.dtype)
            base = dict(dtype=task.dtype, loss=task.loss, n=task.n, svd_mode=p.svd_mode, variant=p.variant, axis=p.axis,
                        kappa=p.kappa, kappa_decade=int(round(math.log10(p.kappa))), log10_det=p.log10_det, scale_exp=k,
                        seed=p.seed, kappa_true=kap, exact_value=res.value, u=u, grad_defined=grad_defined,
                        grad_well_posed=well_posed)  # fmt: skip
            for fw_name, device, mode in task.evaluations:
                rows.append(_evaluate(spec, fw_name, device, mode, x, res, kap, grad_defined, representable,
                                      dict(base, framework=fw_name, device=device, mode=mode, version=versions[fw_name])))  # fmt: skip
    return rows


def _evaluate(spec, fw_name, device, mode, x, res, kap, grad_defined, representable, row) -> dict:
    fw = get_framework(fw_name)
    value = grads = None
    error = ""
    try:
        value, grads = fw.value_and_grad(spec.name, x, dtype=row["dtype"], device=device, mode=mode, validate=False)
    except Unsupported as exc:
        row.update(status="unsupported", error=exc.reason)
        return row
    except Exception as exc:  # a framework error is a result
        error = f"{type(exc).__name__}: {str(exc).splitlines()[0][:200] if str(exc) else ''}"
    status = _status(value, grads, res.grads) if representable else "unrepresentable"
    v_err = value_error(spec, value, res.value, res.scale) if value is not None and representable else math.nan
    g_err = math.nan
    if grads is not None and grad_defined and representable:
        g_err = max(grad_errors(spec, grads, res.grads).values())
    finite = math.isfinite(kap)
    row.update(value=value, status=status, error=error, value_error=v_err, grad_error=g_err,
               R_value=ratio(v_err, row["dtype"], row["n"], kap) if finite else math.nan,
               R_grad=ratio(g_err, row["dtype"], row["n"], kap) if finite else math.nan)  # fmt: skip
    return row


# ---------------------------------------------------------------------------------------------
# the driver
# ---------------------------------------------------------------------------------------------
def _progress(total: int, desc: str):
    from tqdm import tqdm

    return tqdm(total=total, desc=desc, unit="case", file=sys.stderr, dynamic_ncols=True)


def _done(path: Path, task: Task) -> bool:
    """The task's file exists and holds exactly its rows (a file from a changed grid is redone)."""
    if not path.exists():
        return False
    try:
        return len(read_table(path)) == task.size
    except (OSError, ValueError, pd.errors.ParserError):
        return False


def sweep(grid: Grid, out: Path, jobs: int | None = None, progress: bool = True, scheduler: str | None = None,
          cache_dir: str | None = None) -> pd.DataFrame:  # fmt: skip
    """Run (or resume) the sweep of ``grid``; return its table. The rows (and summary cells) of
    ``grid`` replace their old versions in ``<out>.csv`` (and ``<out>_summary.csv``); every
    other row there is kept."""
    from .cluster import client

    out = Path(out)
    cases_dir = out / "cases"
    cases_dir.mkdir(parents=True, exist_ok=True)
    tasks = grid.tasks(cache_dir)
    todo = [t for t in tasks if not _done(cases_dir / f"{t.key}.csv", t)]
    if todo:
        todo.sort(key=lambda t: -t.n * t.size)  # the heavy ones first, so that the tail is short
        bar = _progress(sum(t.size for t in todo), "accuracy cases") if progress else None
        with client(jobs, scheduler) as c:
            from distributed import as_completed

            futures = c.map(run_task, todo, key=[f"matloss-accuracy-{t.key}" for t in todo], pure=False)
            by_key = {f.key: t for f, t in zip(futures, todo)}
            for fut, rows in as_completed(futures, with_results=True):
                task = by_key[fut.key]
                tables.write_atomic(pd.DataFrame(rows), cases_dir / f"{task.key}.csv")
                if bar:
                    bar.update(task.size)
        if bar:
            bar.close()
    frames = [read_table(cases_dir / f"{t.key}.csv") for t in tasks]
    table = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
    tables.merge(out.with_suffix(".csv"), table, CASE)
    tables.merge(summary_path(out), summarize(table), CELL)
    return table


def summary_path(out: Path) -> Path:
    """``<out>_summary.csv`` beside the sweep's table."""
    out = Path(out)
    return out.parent / f"{out.name}_summary.csv"


# ---------------------------------------------------------------------------------------------
# summary
# ---------------------------------------------------------------------------------------------
def fit_slope(kappas: Iterable[float], errors: Iterable[float], floor: float, kappa_min: float = 0.0) -> float:
    """Least-squares slope of log10(error) against log10(κ) over the points below saturation.

    Errors are floored at ``floor`` (an exact 0 has no logarithm); at least three points spanning two
    decades are needed. ``kappa_min``: only κ from there on — an error that grows like u·(n + κ)
    has slope 1 only once κ ≫ n (the sweep fits from κ ≥ 10 n).
    """
    k = np.asarray(list(kappas), dtype=float)
    e = np.asarray(list(errors), dtype=float)
    ok = np.isfinite(k) & np.isfinite(e) & (e < SATURATION) & (k > 0) & (k >= kappa_min)
    if ok.sum() < 3 or np.ptp(np.log10(k[ok])) < 2:
        return math.nan
    return float(np.polyfit(np.log10(k[ok]), np.log10(np.maximum(e[ok], floor)), 1)[0])


def _first_bad(g: pd.DataFrame) -> float:
    """The scale axis: the log10 |det| nearest to 0 at which a case is not ok or has R > 30 (NaN: none)."""
    bad = g[(g["status"] != "ok") | (g["R_value"] > 30) | (g["R_grad"] > 30)]
    bad = bad[bad["status"] != "unrepresentable"]
    if bad.empty:
        return math.nan
    d = bad["log10_det"].astype(float)
    return float(d.iloc[int(np.argmin(np.abs(d.to_numpy())))])


def _first_bad_kappa(g: pd.DataFrame) -> float:
    """The κ axis: the smallest nominal κ at which a case where the loss is defined has R > 30 or
    returned NaN / inf / a zero gradient / raised (NaN: none)."""
    defined = g[~g["status"].isin(["unsupported", "unrepresentable"])]
    bad = defined[((defined["status"] != "ok") & defined["grad_defined"].astype(bool)) | (defined["R_value"] > 30)
                  | ((defined["R_grad"] > 30) & defined["grad_well_posed"].astype(bool))]  # fmt: skip
    return float(bad["kappa"].min()) if len(bad) else math.nan


def derived_excess(R: pd.Series, n: int, kappa: pd.Series, slope: float) -> pd.Series:
    """Rule 2's view of each case (docs/gates.md): ``E = max(R / D, 1)`` with ``D = max(1, (n + κ)^(s − 1))``.

    ``R = err / (u·(n + κ))`` prices an error against slope 1; ``D`` is the catalog's derived error
    ``u·(n + κ)^s`` for this form (slope ``s``) in R's units, so ``E`` is the part of the error above
    what the form is derived to make. For ``s ≤ 1`` (every stable form) ``D = 1`` and ``E = max(R, 1)``;
    for the naive forms whose error grows faster (``s = 2``: the explicit inverse) errors below
    ``u·κ²`` are their rounding by design and read 1, whatever factor lies between two hosts' roundings.
    """
    d = np.maximum(1.0, (n + kappa.astype(float)) ** (slope - 1)) if slope > 1 else 1.0  # False for NaN: D = 1
    return np.maximum(R.astype(float) / d, 1.0)


def _cell_summary(g: pd.DataFrame) -> dict:
    spec = get_loss(g["loss"].iloc[0])
    u = float(g["u"].iloc[0]) if "u" in g else unit_roundoff(g["dtype"].iloc[0])
    defined = g[~g["status"].isin(["unsupported", "unrepresentable"])]
    ok = defined[defined["status"] == "ok"]
    wp = ok[ok["grad_well_posed"].astype(bool)]
    kappa_axis = g["axis"].iloc[0] == "kappa"
    variant = str(g["variant"].iloc[0])
    n = int(g["n"].iloc[0])
    bad_where_defined = defined[(defined["status"] != "ok") & defined["grad_defined"].astype(bool)]
    out = {
        "cases": len(g),
        "median_R_value": ok["R_value"].median(),
        "p90_R_value": ok["R_value"].quantile(0.9) if len(ok) else math.nan,
        "max_R_value": ok["R_value"].max(),
        "median_R_grad": wp["R_grad"].median(),
        "p90_R_grad": wp["R_grad"].quantile(0.9) if len(wp) else math.nan,
        "max_R_grad": wp["R_grad"].max(),
        "slope_value": math.nan,
        "expected_slope_value": spec.expected_value_slope(variant) if kappa_axis else math.nan,
        "slope_grad": math.nan,
        "expected_slope_grad": spec.expected_grad_slope(variant) if kappa_axis else math.nan,
        "first_bad_kappa": _first_bad_kappa(g) if kappa_axis else math.nan,
        "first_bad_log10_det": math.nan if kappa_axis else _first_bad(g),
        "kappa_governed": spec.kappa_governed,
        "n_nan": int((bad_where_defined["status"] == "nan_returned").sum()),
        "n_inf": int((bad_where_defined["status"] == "inf_returned").sum()),
        "n_zero_grad": int((bad_where_defined["status"] == "zero_grad").sum()),
        "n_exception": int((bad_where_defined["status"] == "exception").sum()),
        "n_unsupported": int((g["status"] == "unsupported").sum()),
        "n_unrepresentable": int((g["status"] == "unrepresentable").sum()),
        "version": g["version"].iloc[0],
    }
    for what, rows, slope in (("value", ok, out["expected_slope_value"]), ("grad", wp, out["expected_slope_grad"])):
        e = derived_excess(rows[f"R_{what}"], n, rows["kappa_true"], slope).dropna()
        out[f"median_E_{what}"], out[f"p90_E_{what}"] = e.median(), e.quantile(0.9)  # NaN when no case is left
    if kappa_axis:
        by_decade = ok.groupby("kappa_decade").agg(k=("kappa_true", "median"), e=("value_error", "median"))
        g_decade = wp.groupby("kappa_decade").agg(k=("kappa_true", "median"), e=("grad_error", "median"))
        out["slope_value"] = fit_slope(by_decade["k"], by_decade["e"], u / 16, kappa_min=10 * n)
        out["slope_grad"] = fit_slope(g_decade["k"], g_decade["e"], u / 16, kappa_min=10 * n)
    return out


#: columns of tables written before the scale axis and the sampler variants, and what they were
LEGACY_DEFAULTS = {"variant": "default", "axis": "kappa", "log10_det": 0.0, "scale_exp": 0}


def with_defaults(table: pd.DataFrame) -> pd.DataFrame:
    """``table`` with the columns older tables lack, at the values those tables had."""
    missing = {k: v for k, v in LEGACY_DEFAULTS.items() if k not in table}
    return table.assign(**missing) if missing else table


def summarize(table: pd.DataFrame) -> pd.DataFrame:
    """Per-cell statistics of a sweep table (see the module docstring)."""
    if table.empty:
        return pd.DataFrame()
    table = with_defaults(table)
    rows = [{**dict(zip(CELL, key)), **_cell_summary(g)} for key, g in table.groupby(CELL, sort=True)]
    return pd.DataFrame(rows)


read_table = tables.read


def load(out: Path) -> pd.DataFrame:
    return read_table(Path(out).with_suffix(".csv"))


def print_summary(summary: pd.DataFrame) -> None:
    if summary.empty:
        print("(empty)")
        return
    cols = CELL + ["cases", "median_R_value", "max_R_value", "median_R_grad", "max_R_grad", "slope_value", "expected_slope_value",
                   "slope_grad", "expected_slope_grad", "first_bad_kappa", "first_bad_log10_det",
                   "n_nan", "n_inf", "n_zero_grad", "n_exception"]  # fmt: skip
    with pd.option_context("display.max_rows", None, "display.width", 250, "display.float_format", "{:.3g}".format):
        print(summary[[c for c in cols if c in summary]].to_string(index=False))


# ---------------------------------------------------------------------------------------------
# the asv accuracy tracks (suites/bench_accuracy.py)
# ---------------------------------------------------------------------------------------------
#: the fixed small grid of the tracks: n = 8, randsvd mode 3, eager, these κ decades, seeds 0-2
TRACK_N = 8
TRACK_SEEDS = 3
TRACK_DECADES = [0, 3, 6, 12]
TRACK_MAX_DECADE = {"float64": 15, "float32": 6}
#: what a NaN / inf / all-zero gradient / raise counts as in a track (a finite marker asv can graph)
TRACK_FAILED = 1e6


def track_values(frameworks: Iterable[str] | None = None, losses: Iterable[str] | None = None) -> dict[tuple, list[tuple[float, float]]]:
    """{(loss, framework, dtype, κ decade): [(R of the value, R of the gradient or NaN if not well posed)] per seed}."""

    def r(row: dict, key: str) -> float:
        v = row.get(key)
        return TRACK_FAILED if row.get("status") != "ok" or v is None or not math.isfinite(v) else v

    evals = tuple((fw, "cpu", "eager") for fw in (frameworks or list_frameworks()) if get_framework(fw).available)
    out: dict[tuple, list[tuple[float, float]]] = {}
    for dtype in DTYPES:
        kappas = [10.0**d for d in TRACK_DECADES if d <= TRACK_MAX_DECADE[dtype]]
        for loss in losses or list_losses():
            points = tuple(Point("kappa", 3, "default", k, 0.0, s) for k in kappas for s in range(TRACK_SEEDS))
            for row in run_task(Task(loss, dtype, TRACK_N, points, evals)):
                key = (loss, row["framework"], dtype, int(row["kappa_decade"]))
                grad = r(row, "R_grad") if row.get("grad_well_posed") else math.nan
                out.setdefault(key, []).append((r(row, "R_value"), grad))
    return out


def run_cases(loss: str, dtype: str, n: int, points: Sequence[Point], frameworks: Sequence[str], modes: Sequence[str] = ("eager",)):
    """The rows of ``points`` of one family, in this process (for tests and experiments)."""
    evals = tuple((fw, "cpu", m) for fw in frameworks for m in modes if m in get_framework(fw).modes)
    return pd.DataFrame(run_task(Task(loss, dtype, n, tuple(points), evals)))


