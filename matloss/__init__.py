"""matloss: the benchmark and regression-test harness around the reference package ``matloss_ref``.

Framework adapters (:mod:`matloss.frameworks`), speed cases (:mod:`matloss.cases`), the accuracy
sweep, the findings, both gates, ``compare``, the reports and the ``matloss`` command. Importing
this package imports nothing heavy (no numpy, no framework), so thread settings can still be
applied before the numerical libraries load.

>>> from matloss import get_framework
>>> fw = get_framework("torch")
>>> value, grads = fw.value_and_grad("logdet", x, dtype="float32", mode="compiled")
"""

from __future__ import annotations

__all__ = ["Unsupported", "get_framework", "list_frameworks"]


def __getattr__(name: str):
    if name in __all__:
        from . import frameworks

        return getattr(frameworks, name)
    raise AttributeError(f"module 'matloss' has no attribute {name!r}")
