"""The loss catalog of LOSSES.md; importing this package registers every loss, in catalog order."""

from . import determinant, norms, divergence, orthogonality, gaussian, conditioning, regularisers  # noqa: F401
