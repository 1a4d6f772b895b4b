"""The sub-commands of ``matloss``: one module each, with ``HELP``, ``add_arguments(parser)`` and ``run(ns) -> int``."""
