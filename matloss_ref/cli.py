"""The ``matloss`` command line front end.

Each sub-command is a small function registered in ``COMMANDS``; ``matloss --help`` lists them.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable, Sequence

from . import get_loss, list_losses

COMMANDS: dict[str, tuple[Callable[[argparse.ArgumentParser], None], Callable[[argparse.Namespace], int], str]] = {}


def command(name: str, help: str):
    def wrap(fn):
        def add_args(p: argparse.ArgumentParser) -> None:
            for args, kwargs in getattr(fn, "_args", []):
                p.add_argument(*args, **kwargs)

        COMMANDS[name] = (add_args, fn, help)
        return fn

    return wrap


def arg(*args, **kwargs):
    def wrap(fn):
        fn._args = [(args, kwargs)] + getattr(fn, "_args", [])
        return fn

    return wrap


@command("list", "print every loss with its inputs and formula")
@arg("--verbose", "-v", action="store_true", help="also show family, metric, κ-governance and where it is non-smooth")
def cmd_list(ns: argparse.Namespace) -> int:
    names = list_losses()
    width = max(map(len, names))
    for name in names:
        spec = get_loss(name)
        ins = ", ".join(f"{a.name}{'(sym)' if a.symmetric else ''}" for a in spec.args)
        print(f"{name:<{width}}  ({ins})  {spec.formula}")
        if ns.verbose:
            extra = [
                f"family={spec.family}",
                f"value metric={spec.value_metric}",
                f"kappa-governed={'yes' if spec.kappa_governed else 'no'}",
                f"non-smooth at: {spec.nonsmooth_at}",
            ]
            if spec.naive_of:
                extra.append(f"naive form of {spec.naive_of}")
            print(" " * (width + 2) + "; ".join(extra))
    return 0


@command("exact", "exact value and gradient of one sampled case (and the float64 reference beside it)")
@arg("loss", choices=list_losses(), metavar="LOSS")
@arg("-n", type=int, default=8, help="size (default 8)")
@arg("--kappa", type=float, default=100.0, help="condition number of the governing matrix (default 100)")
@arg("--dtype", default="float64", choices=["float32", "float64"])
@arg("--seed", type=int, default=0)
@arg("--mode", type=int, default=3, help="randsvd singular-value mode 1-5 (default 3, geometric)")
@arg("--cache-dir", default=None, help="exact-result cache (default $MATLOSS_CACHE_DIR or ~/.cache/matloss/exact)")
def cmd_exact(ns: argparse.Namespace) -> int:
    import numpy as np

    from .metrics import grad_error, value_error

    spec = get_loss(ns.loss)
    x = spec.sample(ns.n, kappa=ns.kappa, dtype=ns.dtype, seed=ns.seed, mode=ns.mode)
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


@command("exact-bench", "time the exact backend per loss: cold (no cache), then a cache hit")
@arg("--n", type=int, default=128, help="size for the LU/Cholesky-based losses (default 128)")
@arg("--n-svd", type=int, default=64, help="size for the SVD-based losses (default 64)")
@arg("--kappa", type=float, default=1e8)
@arg("--loss", action="append", help="only these losses (repeatable)")
def cmd_exact_bench(ns: argparse.Namespace) -> int:
    import tempfile

    print(f"{'loss':<25} {'n':>4} {'cold s':>8} {'bits':>6} {'hit ms':>8}")
    with tempfile.TemporaryDirectory() as tmp:
        for name in ns.loss or list_losses():
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
            print(f"{name:<25} {n:>4} {cold:>8.3f} {res.prec:>6} {warm * 1e3:>8.2f}")
    return 0


def _register_optional() -> None:
    """Sub-commands that live in their own modules register themselves on import."""
    import importlib

    for mod in ("findings", "accuracy", "gate", "overhead", "compare"):
        try:
            importlib.import_module(f"{__package__}.{mod}")
        except ModuleNotFoundError as exc:
            if exc.name != f"{__package__}.{mod}":
                raise


def build_parser() -> argparse.ArgumentParser:
    _register_optional()
    parser = argparse.ArgumentParser(prog="matloss", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, (add_args, _, help) in COMMANDS.items():
        p = sub.add_parser(name, help=help, description=help)
        add_args(p)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    ns = parser.parse_args(argv)
    return COMMANDS[ns.command][1](ns)


if __name__ == "__main__":  # python -m matloss_ref.cli: run the registered module, not this __main__ copy
    from matloss_ref.cli import main as _main

    sys.exit(_main())
