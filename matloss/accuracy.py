"""The accuracy sweep: error of every framework's value and gradient against the exact truth, versus κ.

One case is (loss, framework, device, dtype, mode, n, singular-value mode, κ, seed). The sweep runs in
two phases over local processes: first the exact references (cached on disk), then the frameworks.
Work is split into chunks — one (framework, device, dtype, mode, loss, n, svd mode) each, all κ
and seeds — and every finished chunk is written atomically to ``<out>/cases/<chunk>.csv``; a re-run
skips the chunks that are there, so an interrupted sweep loses at most the chunks in flight.
The full table is ``<out>.csv``, the summary ``<out>_summary.csv``; a filtered run replaces the rows
and cells it recomputed in both and keeps every other one.

Metrics follow docs/accuracy.md (see :mod:`matloss_ref.metrics`); the summary has, per cell
(framework, device, dtype, loss, n, svd mode, mode), the median / p90 / max of R for values and
gradients, the log-log slope of the median value error against κ below saturation, and the
count of NaN / inf / all-zero gradients / exceptions where the loss is defined.
"""

from __future__ import annotations

import hashlib
import math
import os
import sys
from collections.abc import Iterable, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from multiprocessing import get_context
from pathlib import Path

import numpy as np
import pandas as pd

from matloss_ref import get_loss, list_losses
from matloss_ref.metrics import grad_errors, ratio, unit_roundoff, value_error

from . import tables
from .frameworks import DTYPES, MODES, Unsupported, get_framework, list_frameworks
from .threads import SINGLE_THREAD_ENV

CELL = ["framework", "device", "dtype", "mode", "loss", "n", "svd_mode"]
#: the columns that name one case of the full table
CASE = CELL + ["kappa", "seed"]
SATURATION = 1e-2  # errors at or above this are saturated: left out of the slope fit


# ---------------------------------------------------------------------------------------------
# the grid
# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Grid:
    """The parameters of a sweep. ``Grid.default()`` and ``Grid.quick()`` are the two presets."""

    losses: tuple[str, ...]
    frameworks: tuple[str, ...]
    devices: tuple[str, ...] = ("cpu",)
    dtypes: tuple[str, ...] = ("float64", "float32")
    modes: tuple[str, ...] = ("eager", "compiled")
    sizes: tuple[int, ...] = (8, 32, 128)
    svd_sizes_max: int = 64
    svd_modes: tuple[int, ...] = (3, 5)
    kappas: dict[str, tuple[float, ...]] = field(
        default_factory=lambda: {"float64": tuple(10.0**k for k in range(16)), "float32": tuple(10.0**k for k in range(7))}
    )
    seeds: int = 4

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
        )
        kw.update(over)
        return cls(**kw)

    def __post_init__(self) -> None:
        """Reject unknown names and impossible values before any work starts (``ValueError``)."""
        known = {"losses": list_losses(), "frameworks": list_frameworks(), "dtypes": list(DTYPES), "modes": list(MODES),
                 "devices": ["cpu", "cuda"]}
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

    def inputs(self) -> list[tuple[str, str, int, int]]:
        """The (loss, dtype, n, svd_mode) input families: each holds every κ and seed."""
        return [(loss, dt, n, sm) for loss in self.losses for dt in self.dtypes for n in self.sizes_for(loss) for sm in self.svd_modes]

    def chunks(self) -> list[Chunk]:
        out = []
        for fw_name in self.frameworks:
            fw = get_framework(fw_name)
            for device in self.devices:
                for mode in self.modes:
                    if fw.available and mode not in fw.modes:
                        continue
                    for loss, dt, n, sm in self.inputs():
                        out.append(Chunk(fw_name, device, dt, mode, loss, n, sm))
        return out

    def n_cases(self) -> int:
        return sum(len(self.kappas[c.dtype]) * self.seeds for c in self.chunks())


@dataclass(frozen=True)
class Chunk:
    framework: str
    device: str
    dtype: str
    mode: str
    loss: str
    n: int
    svd_mode: int

    @property
    def key(self) -> str:
        return f"{self.framework}-{self.device}-{self.dtype}-{self.mode}-{self.loss}-n{self.n}-m{self.svd_mode}"


# ---------------------------------------------------------------------------------------------
# one case, one chunk (these run in worker processes)
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


def exact_family(loss: str, dtype: str, n: int, svd_mode: int, kappas: Sequence[float], seeds: int) -> int:
    """Phase 1: compute (and cache) the exact result and true κ of every input of one family."""
    spec = get_loss(loss)
    count = 0
    for k in kappas:
        for seed in range(seeds):
            x = spec.sample(n, kappa=k, dtype=dtype, seed=seed, mode=svd_mode)
            spec.exact_result(**x)
            spec.true_kappa(**x)
            count += 1
    return count


def run_chunk(chunk: Chunk, kappas: Sequence[float], seeds: int) -> list[dict]:
    """Phase 2: every κ and seed of one chunk through its framework."""
    spec = get_loss(chunk.loss)
    fw = get_framework(chunk.framework)
    u = unit_roundoff(chunk.dtype)
    version = fw.settings().get(chunk.framework, "") if fw.available else ""
    rows = []
    for k in kappas:
        for seed in range(seeds):
            x = spec.sample(chunk.n, kappa=k, dtype=chunk.dtype, seed=seed, mode=chunk.svd_mode)
            res = spec.exact_result(**x)
            kap = spec.true_kappa(**x)
            row = dict(asdict(chunk), version=version, kappa=k, kappa_decade=int(round(math.log10(k))), seed=seed,
                       kappa_true=kap, exact_value=res.value)
            value = grads = None
            error = ""
            try:
                value, grads = fw.value_and_grad(chunk.loss, x, dtype=chunk.dtype, device=chunk.device, mode=chunk.mode)
            except Unsupported as exc:
                row.update(status="unsupported", error=exc.reason)
                rows.append(row)
                continue
            except Exception as exc:  # a framework error is a result
                error = f"{type(exc).__name__}: {str(exc).splitlines()[0][:200] if str(exc) else ''}"
            grad_defined = not any(np.isnan(g).any() for g in res.grads.values())
            well_posed = grad_defined and spec.gradient_well_posed(chunk.dtype, **x)
            status = _status(value, grads, res.grads)
            v_err = value_error(spec, value, res.value, res.scale) if value is not None else math.nan
            g_err = math.nan
            if grads is not None and grad_defined:
                g_err = max(grad_errors(spec, grads, res.grads).values())
            n_eff = chunk.n
            row.update(
                value=value, status=status, error=error, grad_defined=grad_defined, grad_well_posed=well_posed,
                value_error=v_err, grad_error=g_err,
                R_value=ratio(v_err, chunk.dtype, n_eff, kap) if math.isfinite(kap) else math.nan,
                R_grad=ratio(g_err, chunk.dtype, n_eff, kap) if math.isfinite(kap) else math.nan,
                u=u,
            )
            rows.append(row)
    return rows


# ---------------------------------------------------------------------------------------------
# the driver
# ---------------------------------------------------------------------------------------------
def _progress(total: int, desc: str):
    try:
        from tqdm import tqdm

        return tqdm(total=total, desc=desc, unit="case", file=sys.stderr, dynamic_ncols=True)
    except ImportError:  # pragma: no cover - tqdm is a dependency; a plain counter otherwise
        class _P:
            def __init__(self):
                self.n = 0

            def update(self, k):
                self.n += k
                print(f"{desc}: {self.n}/{total}", file=sys.stderr)

            def close(self):
                pass

        return _P()


@contextmanager
def _pool(jobs: int):
    """Spawned workers, each single-threaded (the parallelism is the processes).

    The environment is set for the pool's whole life: workers are spawned on demand and read it
    when they first import numpy and the frameworks.
    """
    saved = {k: os.environ.get(k) for k in SINGLE_THREAD_ENV}
    os.environ.update(SINGLE_THREAD_ENV)
    try:
        with ProcessPoolExecutor(max_workers=jobs, mp_context=get_context("spawn")) as pool:
            yield pool
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def sweep(grid: Grid, out: Path, jobs: int | None = None, progress: bool = True) -> pd.DataFrame:
    """Run (or resume) the sweep of ``grid``; return its table. The rows (and summary cells) of
    ``grid`` replace their old versions in ``<out>.csv`` (and ``<out>_summary.csv``); every
    other row there is kept."""
    out = Path(out)
    cases_dir = out / "cases"
    cases_dir.mkdir(parents=True, exist_ok=True)
    jobs = jobs or os.cpu_count() or 1
    todo = [c for c in grid.chunks() if not (cases_dir / f"{c.key}.csv").exists()]
    families = sorted({(c.loss, c.dtype, c.n, c.svd_mode) for c in todo})

    def run_all(tasks: list[tuple], desc: str, on_result=None) -> None:
        """``tasks``: (key, weight, fn, args); runs them over the pool, calling ``on_result(key, result)``."""
        bar = _progress(sum(t[1] for t in tasks), desc) if progress else None
        if jobs == 1:
            results = ((t, t[2](*t[3])) for t in tasks)
            for t, res in results:
                if on_result:
                    on_result(t[0], res)
                if bar:
                    bar.update(t[1])
        else:
            with _pool(jobs) as pool:
                futs = {pool.submit(t[2], *t[3]): t for t in tasks}
                for fut in as_completed(futs):
                    t = futs[fut]
                    if on_result:
                        on_result(t[0], fut.result())
                    if bar:
                        bar.update(t[1])
        if bar:
            bar.close()

    per_family = {dt: len(grid.kappas[dt]) * grid.seeds for dt in grid.dtypes}
    run_all([(f, per_family[f[1]], exact_family, (*f, grid.kappas[f[1]], grid.seeds)) for f in families], "exact references")
    # heavy chunks first so that the pool's tail is short
    todo.sort(key=lambda c: (-c.n, c.framework != "torch", c.key))
    run_all(
        [(c, per_family[c.dtype], run_chunk, (c, grid.kappas[c.dtype], grid.seeds)) for c in todo],
        "framework cases",
        lambda c, rows: tables.write_atomic(pd.DataFrame(rows), cases_dir / f"{c.key}.csv"),
    )

    keys = {c.key for c in grid.chunks()}
    frames = [read_table(p) for p in sorted(cases_dir.glob("*.csv")) if p.stem in keys]
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
def fit_slope(kappas: Iterable[float], errors: Iterable[float], floor: float) -> float:
    """Least-squares slope of log10(error) against log10(κ) over the points below saturation.

    Errors are floored at ``floor`` (an exact 0 has no logarithm); at least three points are needed.
    """
    k = np.asarray(list(kappas), dtype=float)
    e = np.asarray(list(errors), dtype=float)
    ok = np.isfinite(k) & np.isfinite(e) & (e < SATURATION) & (k > 0)
    if ok.sum() < 3 or np.ptp(np.log10(k[ok])) < 2:
        return math.nan
    return float(np.polyfit(np.log10(k[ok]), np.log10(np.maximum(e[ok], floor)), 1)[0])


def _cell_summary(g: pd.DataFrame) -> dict:
    spec = get_loss(g["loss"].iloc[0])
    u = float(g["u"].iloc[0]) if "u" in g else unit_roundoff(g["dtype"].iloc[0])
    defined = g[g["status"] != "unsupported"]
    ok = defined[defined["status"] == "ok"]
    wp = ok[ok["grad_well_posed"].astype(bool)]
    by_decade = ok.groupby("kappa_decade").agg(k=("kappa_true", "median"), e=("value_error", "median"))
    g_decade = wp.groupby("kappa_decade").agg(k=("kappa_true", "median"), e=("grad_error", "median"))
    bad_where_defined = defined[(defined["status"] != "ok") & defined["grad_defined"].astype(bool)]
    return {
        "cases": len(defined),
        "median_R_value": ok["R_value"].median(),
        "p90_R_value": ok["R_value"].quantile(0.9) if len(ok) else math.nan,
        "max_R_value": ok["R_value"].max(),
        "median_R_grad": wp["R_grad"].median(),
        "p90_R_grad": wp["R_grad"].quantile(0.9) if len(wp) else math.nan,
        "max_R_grad": wp["R_grad"].max(),
        "slope_value": fit_slope(by_decade["k"], by_decade["e"], u / 16),
        "expected_slope_value": spec.expected_value_slope,
        "slope_grad": fit_slope(g_decade["k"], g_decade["e"], u / 16),
        "kappa_governed": spec.kappa_governed,
        "n_nan": int((bad_where_defined["status"] == "nan_returned").sum()),
        "n_inf": int((bad_where_defined["status"] == "inf_returned").sum()),
        "n_zero_grad": int((bad_where_defined["status"] == "zero_grad").sum()),
        "n_exception": int((bad_where_defined["status"] == "exception").sum()),
        "n_unsupported": int((g["status"] == "unsupported").sum()),
        "version": g["version"].iloc[0],
    }


def summarize(table: pd.DataFrame) -> pd.DataFrame:
    """Per-cell statistics of a sweep table (see the module docstring)."""
    if table.empty:
        return pd.DataFrame()
    rows = [{**dict(zip(CELL, key)), **_cell_summary(g)} for key, g in table.groupby(CELL, sort=True)]
    return pd.DataFrame(rows)


read_table = tables.read


def load(out: Path) -> pd.DataFrame:
    return read_table(Path(out).with_suffix(".csv"))


def grid_hash(grid: Grid) -> str:
    return hashlib.sha256(repr(grid).encode()).hexdigest()[:12]


def print_summary(summary: pd.DataFrame) -> None:
    if summary.empty:
        print("(empty)")
        return
    cols = CELL + ["cases", "median_R_value", "max_R_value", "median_R_grad", "max_R_grad",
                   "slope_value", "expected_slope_value", "n_nan", "n_inf", "n_zero_grad", "n_exception"]
    with pd.option_context("display.max_rows", None, "display.width", 250, "display.float_format", "{:.3g}".format):
        print(summary[cols].to_string(index=False))


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

    out: dict[tuple, list[tuple[float, float]]] = {}
    for fw in frameworks or list_frameworks():
        if not get_framework(fw).available:
            continue
        for dtype in DTYPES:
            kappas = [10.0**d for d in TRACK_DECADES if d <= TRACK_MAX_DECADE[dtype]]
            for loss in losses or list_losses():
                for row in run_chunk(Chunk(fw, "cpu", dtype, "eager", loss, TRACK_N, 3), kappas, TRACK_SEEDS):
                    key = (loss, fw, dtype, int(row["kappa_decade"]))
                    grad = r(row, "R_grad") if row.get("grad_well_posed") else math.nan
                    out.setdefault(key, []).append((r(row, "R_value"), grad))
    return out
