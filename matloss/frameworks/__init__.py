"""Framework adapters: one module per framework (``<name>_adapter.py``), each defining ``BACKEND``.

Adapters are discovered, as losses are: adding a framework is adding its adapter module (and its
implementation in each loss file). Importing this package imports no framework: each is imported
lazily the first time it is used, and one that is missing is reported as unavailable with the
reason, never an ImportError.
"""

from __future__ import annotations

import importlib
import pkgutil

from .base import DTYPES, MODES, Backend, Unsupported

__all__ = ["Backend", "Unsupported", "DTYPES", "MODES", "list_frameworks", "get_framework"]

_SUFFIX = "_adapter"
_INSTANCES: dict[str, Backend] = {}


def _adapters() -> dict[str, str]:
    """{framework name: adapter module}, in each adapter's ``order``."""
    found = {}
    for info in pkgutil.iter_modules(__path__):
        if info.name.endswith(_SUFFIX):
            found[info.name.removesuffix(_SUFFIX)] = f"{__name__}.{info.name}"
    return found


_MODULES = _adapters()


def _order(name: str) -> tuple[int, str]:
    from matloss_ref.spec import FRAMEWORKS

    return (FRAMEWORKS.index(name) if name in FRAMEWORKS else len(FRAMEWORKS), name)


def list_frameworks(available_only: bool = False) -> list[str]:
    """Every framework name (or only those that import here)."""
    names = sorted(_MODULES, key=_order)
    return [n for n in names if get_framework(n).available] if available_only else names


def get_framework(name: str) -> Backend:
    """The adapter of framework ``name``; an unknown name raises ``KeyError`` listing the known ones."""
    if name not in _MODULES:
        raise KeyError(f"unknown framework {name!r}; known frameworks: {', '.join(list_frameworks())}")
    if name not in _INSTANCES:
        _INSTANCES[name] = importlib.import_module(_MODULES[name]).BACKEND
    return _INSTANCES[name]
