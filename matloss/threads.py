"""Thread counts of the numerical libraries, for runs that time or parallelise over processes.

Each setting must be in the environment before the library is imported (numpy's BLAS, torch's
and TF's pools, XLA read them once). On a small shared machine a library's own pool of one thread
per core mostly measures the other load (a 2-thread OpenMP region waits for its slower thread;
two full asv runs of one commit with the libraries' defaults differed by up to 68x here), and
several processes per core each with their own pool oversubscribe it (a 128 x 128 SVD took 0.24 s
instead of a few ms).
"""

from __future__ import annotations

import os

SINGLE_THREAD_ENV: dict[str, str] = {
    "OMP_NUM_THREADS": "1",
    "OPENBLAS_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
    "TF_NUM_INTRAOP_THREADS": "1",
    "TF_NUM_INTEROP_THREADS": "1",
    "XLA_FLAGS": "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1",
}

_POOL_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "TF_NUM_INTRAOP_THREADS", "TF_NUM_INTEROP_THREADS")


def apply_bench_threads() -> None:
    """Give every library ``MATLOSS_BENCH_THREADS`` threads (default 1) unless a variable is set already.

    ``MATLOSS_BENCH_THREADS=default`` keeps each library's own default; a number sets it.
    """
    threads = os.environ.get("MATLOSS_BENCH_THREADS", "1")
    if threads == "default":
        return
    for var in _POOL_VARS:
        os.environ.setdefault(var, threads)
    if threads == "1":
        os.environ.setdefault("XLA_FLAGS", SINGLE_THREAD_ENV["XLA_FLAGS"])


def persistent_compile_caches() -> None:
    """Keep jax's compiled programs on disk (torch's inductor does so by default), unless the user
    set these variables: a fresh process then reuses the previous processes' compilations. Must run
    before jax is imported."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    os.environ.setdefault("JAX_COMPILATION_CACHE_DIR", os.path.join(base, "matloss", "jax-compilation"))
    os.environ.setdefault("JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS", "0")
    os.environ.setdefault("JAX_PERSISTENT_CACHE_MIN_ENTRY_SIZE_BYTES", "0")
