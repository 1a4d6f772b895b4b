"""Print every loss (built-in and plugin) with its inputs and formula."""

from __future__ import annotations

HELP = "print every loss with its inputs and formula"
ORDER = 0


def add_arguments(p) -> None:
    p.add_argument("--verbose", "-v", action="store_true", help="also the gradient, metric, κ-governance, where it is non-smooth")


def run(ns) -> int:
    from matloss_ref import get_loss, list_losses
    from matloss_ref.registry import origin, plugin_errors

    names = list_losses()
    width = max(map(len, names))
    for name in names:
        spec = get_loss(name)
        ins = ", ".join(f"{a.name}{'(sym)' if a.symmetric else ''}" for a in spec.args)
        print(f"{name:<{width}}  ({ins})  {spec.formula}")
        if ns.verbose:
            extra = [f"gradient: {spec.gradient}", f"value metric={spec.value_metric}",
                     f"kappa-governed={'yes' if spec.kappa_governed else 'no'}", f"non-smooth at: {spec.nonsmooth_at}",
                     f"implemented in: numpy, {', '.join(spec.implementations)}", f"defined in {origin(name)}"]  # fmt: skip
            if spec.naive_of:
                extra.append(f"naive form of {spec.naive_of.name}")
            print(" " * (width + 2) + "; ".join(extra))
    print(f"{len(names)} losses")
    for ep, err in plugin_errors().items():
        print(f"plugin {ep} failed to load: {err}")
    return 0
