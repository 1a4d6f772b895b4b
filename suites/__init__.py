"""asv benchmark suites of matloss (``benchmark_dir`` in asv.conf.json); the machinery is in ``matloss.cases``.

Under asv every numerical library gets ``MATLOSS_BENCH_THREADS`` threads, default 1 (see
``matloss.threads``), and every benchmark process runs on one CPU, ``MATLOSS_BENCH_CPUS``, default
the last (``suites/_cpus.py``; docs/speed.md says why). This package is imported before any suite
module, so before numpy and the frameworks read the variables or start a thread. In asv's forkserver every framework is imported once
(``matloss.cases.preload``), so that each forked case does not pay for it.
"""

import sys

from matloss.threads import apply_bench_threads

from ._cpus import pin_bench_cpus

apply_bench_threads()
pin_bench_cpus()  # before the frameworks start their threads (the forkserver's preload below)

if sys.argv[1:2] == ["run_server"]:  # asv_runner's forkserver (asv/benchmark.py run_server DIR SOCKET)
    from matloss.cases import preload

    preload()
