"""Time the exact backend per loss: a cold evaluation (no cache), then a cache hit."""

from __future__ import annotations

import tempfile
import time

from . import _args

HELP = "time the exact backend per loss: cold (no cache), then a cache hit"
ORDER = 2


def add_arguments(p) -> None:
    p.add_argument("--n", type=_args.positive_int, default=128, help="size for the LU/Cholesky-based losses (default 128)")
    p.add_argument("--n-svd", type=_args.positive_int, default=64, help="size for the SVD-based losses (default 64)")
    p.add_argument("--kappa", type=_args.float_at_least(1.0), default=1e8)
    p.add_argument("--loss", type=_args.losses, action="append", help="only these losses (repeatable or comma-separated)")


def run(ns) -> int:
    from matloss_ref import get_loss, list_losses

    print(f"{'loss':<25} {'n':>4} {'cold s':>8} {'bits':>6} {'hit ms':>8}")
    with tempfile.TemporaryDirectory() as tmp:
        for name in _args.flatten(ns.loss) or list_losses():
            spec = get_loss(name)
            n = ns.n_svd if spec.svd_based else ns.n
            x = spec.sample(n, kappa=ns.kappa, seed=0)
            t0 = time.perf_counter()
            res = spec.exact_result(cache_dir=tmp, **x)
            cold = time.perf_counter() - t0
            t0 = time.perf_counter()
            hit = spec.exact_result(cache_dir=tmp, **x)
            warm = time.perf_counter() - t0
            assert hit.cached
            print(f"{name:<25} {n:>4} {cold:>8.3f} {res.prec:>6} {warm * 1e3:>8.2f}", flush=True)
    return 0
