"""matloss_ref: the reference for linear-algebra losses — definitions, closed-form gradients, exact truth.

>>> import matloss_ref
>>> spec = matloss_ref.get_loss("logdet")
>>> x = spec.sample(8, kappa=1e6)
>>> value, grads = spec.exact(**x)

This package is the reference and only that: the loss specs (one file per loss in
``matloss_ref.losses``, plus plugins of the ``matloss.losses`` entry point group), the exact
backend (:mod:`~matloss_ref.exact`), the matrix generators (:mod:`~matloss_ref.matrices`), the
error metrics (:mod:`~matloss_ref.metrics`) and input validation. It imports nothing of the
harness (the ``matloss`` package) and no framework.
"""

from __future__ import annotations

from .registry import get_loss, list_losses
from .spec import Arg, LossSpec

__all__ = ["Arg", "LossSpec", "get_loss", "list_losses"]
__version__ = "0.1.0"
