"""Framework adapters: one module per framework, one :class:`~.base.Backend` instance each.

Adding a framework means adding a module here that defines a ``Backend`` subclass, and one
line in ``_MODULES``. Importing this package imports no framework: each is imported lazily the
first time it is used, and one that is missing is reported as unavailable with the reason.
"""

from __future__ import annotations

import importlib

from .base import DTYPES, MODES, Backend, Unsupported

_MODULES = {"numpy": "numpy_impl", "torch": "torch_impl", "jax": "jax_impl", "tensorflow": "tensorflow_impl"}
_INSTANCES: dict[str, Backend] = {}

__all__ = ["Backend", "Unsupported", "DTYPES", "MODES", "list_frameworks", "get_framework"]


def list_frameworks(available_only: bool = False) -> list[str]:
    """Every framework name (or only those that import here)."""
    names = list(_MODULES)
    return [n for n in names if get_framework(n).available] if available_only else names


def get_framework(name: str) -> Backend:
    """The adapter of framework ``name``; an unknown name raises ``KeyError`` listing the known ones."""
    if name not in _MODULES:
        raise KeyError(f"unknown framework {name!r}; known frameworks: {', '.join(_MODULES)}")
    if name not in _INSTANCES:
        mod = importlib.import_module(f"{__name__}.{_MODULES[name]}")
        _INSTANCES[name] = mod.BACKEND
    return _INSTANCES[name]
