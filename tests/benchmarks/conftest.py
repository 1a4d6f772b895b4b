"""The pytest-benchmark suite times the same cases as asv (``matloss.cases.prepared``).

When it times (``--benchmark-enable``), every numerical library gets the asv runs' thread count
(``MATLOSS_BENCH_THREADS``, default 1; see ``matloss.threads``). That works when numpy and the
frameworks are not imported yet, i.e. when ``tests/benchmarks`` is run on its own.
"""

from __future__ import annotations


def pytest_configure(config):
    timing = config.getoption("benchmark_enable", default=False) or not config.getoption("benchmark_disable", default=False)
    if timing:
        from matloss.threads import apply_bench_threads

        apply_bench_threads()
