"""The pytest-benchmark suite reuses the asv suites' case builder (suites/common.py).

When it times (``--benchmark-enable``), every numerical library gets the asv runs' thread count
(``MATLOSS_BENCH_THREADS``, default 1; see suites/__init__.py). That works when numpy and the
frameworks are not imported yet, i.e. when ``tests/benchmarks`` is run on its own.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


def pytest_configure(config):
    timing = config.getoption("benchmark_enable", default=False) or not config.getoption("benchmark_disable", default=False)
    if timing:
        import suites

        suites.apply_thread_settings()
