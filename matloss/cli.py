"""The ``matloss`` command: one sub-command per module of :mod:`matloss.commands`.

Every bad argument is one line naming the argument and the problem, exit status 2, before any
work starts (``matloss <command>: error: argument -n: must be >= 1, got -3``); ``matloss --help``
lists the commands, ``matloss <command> --help`` their options.
"""

from __future__ import annotations

import argparse
import importlib
import os
import pkgutil
import sys
from collections.abc import Sequence

from . import commands
from .commands._args import UsageError
from .threads import SINGLE_THREAD_ENV


class Parser(argparse.ArgumentParser):
    """argparse, with its errors as one line (no usage block) and exit status 2."""

    def error(self, message: str):  # type: ignore[override]
        self.exit(2, f"{self.prog}: error: {message}\n")


def _modules():
    for info in pkgutil.iter_modules(commands.__path__):
        if not info.name.startswith("_"):
            yield info.name.replace("_", "-"), importlib.import_module(f"{commands.__name__}.{info.name}")


def build_parser() -> Parser:
    parser = Parser(prog="matloss", description="matloss: benchmark and regression-test harness for linear-algebra losses")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND", parser_class=Parser)
    for name, mod in sorted(_modules(), key=lambda m: getattr(m[1], "ORDER", 99)):
        p = sub.add_parser(name, help=mod.HELP, description=mod.__doc__)
        p.set_defaults(_run=mod.run)
        mod.add_arguments(p)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    # one thread per numerical library (unless set): results do not depend on how a pool split a
    # reduction, and timings do not measure the other load (before numpy or a framework is imported)
    for k, v in SINGLE_THREAD_ENV.items():
        os.environ.setdefault(k, v)
    parser = build_parser()
    # what follows a bare ``--`` goes to the tool a command wraps (``bench``: asv run) untouched:
    # argparse would hand it to the nearest positional argument (``bench``'s commits)
    argv = list(sys.argv[1:] if argv is None else argv)
    tail: list[str] | None = None
    if "--" in argv:
        at = argv.index("--")
        argv, tail = argv[:at], argv[at + 1:]
    try:
        ns = parser.parse_args(argv)
    except SystemExit as exc:  # a bad argument (exit 2, its one line already printed) or --help (0)
        return int(exc.code or 0)
    if tail is not None:
        if not hasattr(ns, "passthrough"):
            print(f"matloss {ns.command}: error: argument --: this command passes nothing on, got {' '.join(tail)!r}", file=sys.stderr)
            return 2
        ns.passthrough = tail
    try:
        return int(ns._run(ns) or 0)
    except UsageError as exc:  # a bad value found before any work started
        print(f"matloss {ns.command}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"matloss {ns.command}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
