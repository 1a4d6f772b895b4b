"""The exact value and gradient of one sampled case, with the float64 reference beside it."""

from __future__ import annotations

import time

from . import _args

HELP = "exact value and gradient of one sampled case (and the float64 reference beside it)"
ORDER = 1


def add_arguments(p) -> None:
    p.add_argument("loss", type=lambda t: _args.losses(t)[0], metavar="LOSS", help="a loss name (matloss list)")
    p.add_argument("-n", type=_args.positive_int, default=8, help="size (default 8)")
    p.add_argument("--kappa", type=_args.float_at_least(1.0), default=100.0, help="condition number of the governing matrix (default 100)")
    p.add_argument("--dtype", default="float64", choices=["float32", "float64"])
    p.add_argument("--seed", type=_args.nonnegative_int, default=0)
    p.add_argument("--mode", type=int, default=3, choices=[1, 2, 3, 4, 5], help="randsvd singular-value mode 1-5 (default 3, geometric)")
    p.add_argument("--cache-dir", default=None, help="exact-result cache (default $MATLOSS_CACHE_DIR or ~/.cache/matloss/exact)")


def run(ns) -> int:
    import numpy as np

    from matloss_ref import get_loss
    from matloss_ref.metrics import grad_error, value_error

    spec = get_loss(ns.loss)
    try:
        x = spec.sample(ns.n, kappa=ns.kappa, dtype=ns.dtype, seed=ns.seed, mode=ns.mode)
    except ValueError as exc:  # e.g. a shape outside the loss's domain
        raise _args.UsageError(str(exc)) from None
    t0 = time.perf_counter()
    res = spec.exact_result(cache_dir=ns.cache_dir, **x)
    dt = time.perf_counter() - t0
    ref_v, ref_g = spec.value(**x), spec.grad(**x)
    print(f"{spec.name} n={ns.n} kappa={ns.kappa:g} dtype={ns.dtype} seed={ns.seed} mode={ns.mode}")
    print(f"  exact value      {res.value!r}   ({'cache hit' if res.cached else f'{res.prec} bits'}, {dt * 1e3:.1f} ms)")
    print(f"  float64 value    {ref_v!r}   error {value_error(spec, ref_v, res.value, res.scale):.3g} ({spec.value_metric})")
    print(f"  float64 gradient error {grad_error(spec, ref_g, res.grads):.3g} (relative Frobenius)")
    for k, g in res.grads.items():
        print(f"  |grad {k}|_F = {np.linalg.norm(g):.6g}")
    return 0
