"""The losses, discovered: every module of :mod:`matloss_ref.losses`, and every plugin.

A loss is one file that builds one :class:`~matloss_ref.spec.LossSpec` and names it ``LOSS``.
Built-in losses are the modules of the ``matloss_ref.losses`` package (names starting with ``_``
are helpers, not losses). A user's own losses come from their own package through the entry
point group ``matloss.losses``; an entry point names either a module with a ``LOSS`` attribute or
a ``LossSpec`` object::

    [project.entry-points."matloss.losses"]
    trace_inverse = "my_losses.trace_inverse"

Nothing here lists a loss: adding one is adding its file (docs/adding-a-loss.md). A plugin that
fails to load is reported with a warning (and by :func:`plugin_errors`); the other losses stay.
"""

from __future__ import annotations

import importlib
import pkgutil
import warnings
from importlib.metadata import entry_points

from . import losses as _builtin
from .spec import LossSpec

GROUP = "matloss.losses"

_REGISTRY: dict[str, LossSpec] = {}
_ORIGIN: dict[str, str] = {}
_ERRORS: dict[str, str] = {}
_LOADED = False


def _spec_of(obj: object, where: str) -> LossSpec:
    spec = obj if isinstance(obj, LossSpec) else getattr(obj, "LOSS", None)
    if not isinstance(spec, LossSpec):
        raise TypeError(f"{where} defines no LOSS (a matloss_ref.spec.LossSpec)")
    return spec


def _add(spec: LossSpec, origin: str) -> None:
    if spec.name in _REGISTRY:
        raise ValueError(f"loss {spec.name!r} is defined twice: by {_ORIGIN[spec.name]} and by {origin}")
    _REGISTRY[spec.name] = spec
    _ORIGIN[spec.name] = origin


def _load() -> None:
    global _LOADED
    if _LOADED:
        return
    found: list[tuple[LossSpec, str]] = []
    for info in pkgutil.iter_modules(_builtin.__path__):
        if info.name.startswith("_"):
            continue
        mod = importlib.import_module(f"{_builtin.__name__}.{info.name}")
        found.append((_spec_of(mod, mod.__name__), mod.__name__))
    for ep in entry_points(group=GROUP):
        where = f"entry point {ep.name!r} ({ep.value})"
        try:
            found.append((_spec_of(ep.load(), where), where))
        except Exception as exc:  # a broken plugin must not take the built-in losses down with it
            _ERRORS[ep.name] = f"{type(exc).__name__}: {exc}"
            warnings.warn(f"matloss: the loss plugin {where} failed to load: {_ERRORS[ep.name]}", stacklevel=3)
    for spec, origin in sorted(found, key=lambda f: f[0].name):
        _add(spec, origin)
    _LOADED = True


def list_losses() -> list[str]:
    """Names of every loss, built-in and plugin, sorted."""
    _load()
    return list(_REGISTRY)


def get_loss(name: str) -> LossSpec:
    """The spec of loss ``name``; an unknown name raises ``KeyError`` listing the known ones."""
    _load()
    try:
        return _REGISTRY[name]
    except KeyError:
        raise KeyError(f"unknown loss {name!r}; known losses: {', '.join(_REGISTRY)}") from None


def origin(name: str) -> str:
    """Where loss ``name`` was defined (a module of matloss_ref.losses, or a plugin's entry point)."""
    get_loss(name)
    return _ORIGIN[name]


def plugin_errors() -> dict[str, str]:
    """Entry points of ``matloss.losses`` that failed to load: {name: error}."""
    _load()
    return dict(_ERRORS)
