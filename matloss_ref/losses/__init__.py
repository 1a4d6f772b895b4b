"""The loss catalog of LOSSES.md; importing this package registers every loss, in catalog order."""

from . import conditioning, determinant, divergence, gaussian, norms, orthogonality, regularisers  # noqa: F401
