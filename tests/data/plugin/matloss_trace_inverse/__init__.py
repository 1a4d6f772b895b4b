"""A matloss loss plugin: one loss, ``trace_inverse`` (see docs/adding-a-loss.md)."""
