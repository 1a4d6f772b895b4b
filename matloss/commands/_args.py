"""Argument types shared by the sub-commands: each rejects a bad value with a message naming the problem.

argparse turns a ``argparse.ArgumentTypeError`` raised here into ``argument -n: <message>``; a
:class:`UsageError` raised by a command before it starts work is printed the same way (exit 2).
"""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable, Iterable


class UsageError(Exception):
    """A bad argument found by a command before it started any work."""


def int_at_least(low: int) -> Callable[[str], int]:
    def parse(text: str) -> int:
        try:
            v = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"must be a whole number, got {text!r}") from None
        if v < low:
            raise argparse.ArgumentTypeError(f"must be >= {low}, got {v}")
        return v

    return parse


positive_int = int_at_least(1)
nonnegative_int = int_at_least(0)


def float_at_least(low: float, *, strict: bool = False) -> Callable[[str], float]:
    def parse(text: str) -> float:
        try:
            v = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"must be a number, got {text!r}") from None
        if not math.isfinite(v):
            raise argparse.ArgumentTypeError(f"must be finite, got {text!r}")
        if v < low or (strict and v == low):
            raise argparse.ArgumentTypeError(f"must be {'>' if strict else '>='} {low:g}, got {text}")
        return v

    return parse


def fraction(text: str) -> float:
    v = float_at_least(0.0, strict=True)(text)
    if v >= 1:
        raise argparse.ArgumentTypeError(f"must be between 0 and 1, got {text}")
    return v


def one_of(what: str, known: Callable[[], Iterable[str]]) -> Callable[[str], list[str]]:
    """A comma-separated list of names, each one of ``known()`` (read when parsing, so plugins count)."""

    def parse(text: str) -> list[str]:
        allowed = list(known())
        names = [v.strip() for v in text.split(",") if v.strip()]
        if not names:
            raise argparse.ArgumentTypeError(f"no {what} given")
        for v in names:
            if v not in allowed:
                raise argparse.ArgumentTypeError(f"unknown {what} {v!r}; known: {', '.join(allowed)}")
        return names

    return parse


def flatten(values: list[list] | None) -> list | None:
    """The values of a repeatable comma-separated option, in order, each once (None if not given)."""
    if not values:
        return None
    out = []
    for group in values:
        for v in group:
            if v not in out:
                out.append(v)
    return out


def losses(text: str) -> list[str]:
    from matloss_ref import list_losses

    return one_of("loss", list_losses)(text)


def frameworks(text: str) -> list[str]:
    from matloss.frameworks import list_frameworks

    return one_of("framework", list_frameworks)(text)


dtypes = one_of("dtype", lambda: ("float32", "float64"))
modes = one_of("mode", lambda: ("eager", "compiled"))
devices = one_of("device", lambda: ("cpu", "cuda"))


def sizes(text: str) -> list[int]:
    out = []
    for v in text.split(","):
        if v.strip():
            out.append(positive_int(v.strip()))
    if not out:
        raise argparse.ArgumentTypeError("no size given")
    return out
