"""The loss catalog of LOSSES.md: one module per family; importing this package registers every loss.

The modules are imported in catalog order (the order of ``list_losses()``); a new family is a new
module here and a new name in ``FAMILIES``.
"""

import importlib

FAMILIES = ("determinant", "norms", "divergence", "orthogonality", "gaussian", "conditioning", "regularisers")

for _family in FAMILIES:
    importlib.import_module(f"{__name__}.{_family}")
