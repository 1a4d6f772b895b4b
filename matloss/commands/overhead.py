"""What the timing adapter costs against a bare expression doing the same work, and what compiling
costs (first call against steady state), per framework. Quote the ratios, not the absolute times."""

from __future__ import annotations

from . import _args

HELP = "adapter overhead against a bare expression, and compile (first-call) cost per compiled mode"
ORDER = 40


def add_arguments(p) -> None:
    p.add_argument("--framework", type=_args.frameworks, action="append", help="only these frameworks")
    p.add_argument("--loss", type=_args.losses, action="append", help="losses for the compile cost (default: all)")
    p.add_argument("-n", type=_args.positive_int, default=16, help="size (default 16)")


def run(ns) -> int:
    from matloss.frameworks import get_framework, list_frameworks
    from matloss.overhead import adapter_overhead, compile_cost
    from matloss_ref import list_losses

    frameworks = [f for f in (_args.flatten(ns.framework) or list_frameworks()) if get_framework(f).available]
    print(f"## Adapter overhead: frobenius, n = {ns.n}, float64, eager (median of 200 interleaved samples)\n")
    print("| framework | prepare()() | bare expression | ratio |\n|---|---|---|---|")
    for f in frameworks:
        r = adapter_overhead(f, ns.n)
        print(f"| {f} | {r['prepared_s'] * 1e6:.2f} µs | {r['bare_s'] * 1e6:.2f} µs | {r['ratio']:.2f}× |", flush=True)
    print(f"\n## Compile cost: first call vs steady state, n = {ns.n}, float64\n")
    print("| framework | loss | pass | first call | steady state | first / steady |\n|---|---|---|---|---|---|")
    for f in frameworks:
        if "compiled" not in get_framework(f).modes:
            continue
        for loss in _args.flatten(ns.loss) or list_losses():
            for r in compile_cost(f, loss, ns.n):
                what = "fwd+bwd" if r["backward"] else "forward"
                if "error" in r:
                    print(f"| {f} | {loss} | {what} | unsupported: {r['error'][:60]} | | |", flush=True)
                else:
                    print(f"| {f} | {loss} | {what} | {r['first_call_s'] * 1e3:.1f} ms | {r['steady_s'] * 1e6:.1f} µs "
                          f"| {r['first_over_steady']:.0f}× |", flush=True)
    return 0
