"""Findings: the structured cases through every framework, compared with the exact truth (docs/findings.md).

- :mod:`.cases` — the structured inputs and their kinds;
- :mod:`.rows` — one row per (framework, device, loss, case, dtype, n, mode), its verdict and class;
- :mod:`.grouping` — one finding per (framework, loss, kind of input, what went wrong, mode), with the
  upstream report it is known as (or ``new``);
- :mod:`.repro` — a standalone reproducer per defect;
- :mod:`.page` — the findings page of the published site.
"""

from .cases import CASES
from .grouping import group, load_upstream
from .rows import COLUMNS, KEY, run, run_case, save

__all__ = ["CASES", "COLUMNS", "KEY", "group", "load_upstream", "run", "run_case", "save"]
