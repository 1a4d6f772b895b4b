"""asv benchmark suites of matloss (``benchmark_dir`` in asv.conf.json). See README "Speed benchmarks".

Under asv (its runner, ``asv_runner``, imports this package; asv's ``ASV=true`` variable is not
set with ``--python=same``) every numerical library gets ``MATLOSS_BENCH_THREADS`` threads,
default 1: on a small shared machine a library's own pool of one thread per core mostly measures
the other load (a 2-thread OpenMP region waits for its slower thread; two full runs of one
commit with the libraries' defaults differed by up to 68x here). ``MATLOSS_BENCH_THREADS=default``
keeps each library's own default; a number sets it. This package is imported before any suite
module, so before numpy and the frameworks read the variables.
"""

import os
import sys


def apply_thread_settings() -> None:
    """Set the thread-count variables (unless already set) the way the asv runs do."""
    threads = os.environ.get("MATLOSS_BENCH_THREADS", "1")
    if threads == "default":
        return
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "TF_NUM_INTRAOP_THREADS", "TF_NUM_INTEROP_THREADS"):
        os.environ.setdefault(var, threads)
    if threads == "1":
        os.environ.setdefault("XLA_FLAGS", "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1")


if "asv_runner" in sys.modules or os.environ.get("ASV") == "true":
    apply_thread_settings()
