"""The built-in losses: one module per loss, each defining ``LOSS`` (a :class:`~matloss_ref.spec.LossSpec`).

Modules are discovered by :mod:`matloss_ref.registry`; nothing lists them. A module whose name
starts with ``_`` is a helper, not a loss. docs/adding-a-loss.md walks through adding one.
"""
