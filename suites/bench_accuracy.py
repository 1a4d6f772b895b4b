"""Accuracy as asv ``track_*`` benchmarks, so the dashboard graphs error across commits.

For a fixed small grid (n = 8, randsvd mode 3, seeds 0-2, eager), every (loss, framework, dtype,
κ decade) reports the median and the max over seeds of the LAPACK ratio R = err / (u·(n + κ)) of
the value and of the gradient (docs/accuracy.md). asv treats ``track_*`` values as lower-is-better, so
``asv continuous`` flags an accuracy regression as it flags a slowdown.

A case where the framework returned NaN/inf, an all-zero gradient where the true one is not, or
raised, counts as ``R = 1e6`` (a finite marker asv can graph). The whole grid is computed once per
run in ``setup_cache``, shared by both classes (asv keys it by its source line); the exact
references come from the on-disk cache of ``matloss_ref.exact``.
"""

import math

from matloss.accuracy import Chunk, run_chunk
from matloss.frameworks import get_framework, list_frameworks
from matloss_ref import list_losses

N = 8
SEEDS = 3
DECADES = [0, 3, 6, 12]
MAX_DECADE = {"float64": 15, "float32": 6}
FAILED = 1e6


def _r(row, key):
    if row.get("status") != "ok":
        return FAILED
    v = row.get(key)
    return FAILED if v is None or not math.isfinite(v) else v


class _Accuracy:
    params = [list_losses(), list_frameworks(), ["float64", "float32"], DECADES]
    param_names = ["loss", "framework", "dtype", "kappa_decade"]
    timeout = 3600
    unit = "R"

    def setup_cache(self):
        out = {}
        for fw in list_frameworks():
            if not get_framework(fw).available:
                continue
            for dtype in ("float64", "float32"):
                kappas = [10.0**d for d in DECADES if d <= MAX_DECADE[dtype]]
                for loss in list_losses():
                    for row in run_chunk(Chunk(fw, "cpu", dtype, "eager", loss, N, 3), kappas, SEEDS):
                        key = (loss, fw, dtype, int(row["kappa_decade"]))
                        out.setdefault(key, []).append((_r(row, "R_value"), _r(row, "R_grad") if row.get("grad_well_posed") else math.nan))
        return out

    def setup(self, cache, *key):
        if tuple(key) not in cache:
            raise NotImplementedError(f"{key[1]} unavailable, or κ = 1e{key[3]} beyond the {key[2]} grid")

    @staticmethod
    def _values(cache, key, which):
        return [v[which] for v in cache[tuple(key)] if not math.isnan(v[which])]


class ValueAccuracy(_Accuracy):
    """R of the loss value."""

    def track_R_value_median(self, cache, *key):
        return _median(self._values(cache, key, 0))

    def track_R_value_max(self, cache, *key):
        return max(self._values(cache, key, 0))


class GradientAccuracy(_Accuracy):
    """R of the gradient; skipped where the gradient is not well posed at these inputs (e.g. the
    σ-based losses at κ = 1, where singular values tie and the loss is not differentiable)."""

    def setup(self, cache, *key):
        super().setup(cache, *key)
        if not self._values(cache, key, 1):
            raise NotImplementedError("gradient not well posed at these inputs")

    def track_R_grad_median(self, cache, *key):
        return _median(self._values(cache, key, 1))

    def track_R_grad_max(self, cache, *key):
        return max(self._values(cache, key, 1))


def _median(vals):
    s = sorted(vals)
    k = len(s) // 2
    return s[k] if len(s) % 2 else 0.5 * (s[k - 1] + s[k])
