"""One thread per process for every numerical library, for runs that parallelise over processes.

Set in the environment of a child process before it imports numpy / torch / jax / tensorflow: with
several processes per core each library's own thread pool only oversubscribes the machine (a
128 x 128 SVD was seen to take 0.24 s instead of a few ms).
"""

from __future__ import annotations

SINGLE_THREAD_ENV: dict[str, str] = {
    "OMP_NUM_THREADS": "1",
    "OPENBLAS_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
    "TF_NUM_INTRAOP_THREADS": "1",
    "TF_NUM_INTEROP_THREADS": "1",
    "XLA_FLAGS": "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1",
}
