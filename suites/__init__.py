"""asv benchmark suites of matloss (``benchmark_dir`` in asv.conf.json); the machinery is in ``matloss.cases``.

Under asv every numerical library gets ``MATLOSS_BENCH_THREADS`` threads, default 1 (see
``matloss.threads``). This package is imported before any suite module, so before numpy and the
frameworks read the variables. In asv's forkserver every framework is imported once
(``matloss.cases.preload``), so that each forked case does not pay for it.
"""

import sys

from matloss.threads import apply_bench_threads

apply_bench_threads()

if sys.argv[1:2] == ["run_server"]:  # asv_runner's forkserver (asv/benchmark.py run_server DIR SOCKET)
    from matloss.cases import preload

    preload()
