"""matloss_ref: reference definitions, closed-form gradients and exact truth for linear-algebra losses.

>>> import matloss_ref
>>> spec = matloss_ref.get_loss("logdet")
>>> x = spec.sample(8, kappa=1e6)
>>> value, grads = spec.exact(**x)
"""

from __future__ import annotations

from .frameworks import Unsupported, get_framework, list_frameworks
from .registry import Arg, LossSpec, get_loss, list_losses

__all__ = ["Arg", "LossSpec", "Unsupported", "get_framework", "get_loss", "list_frameworks", "list_losses"]
__version__ = "0.1.0"
