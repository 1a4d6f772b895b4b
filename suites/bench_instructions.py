"""Instructions of one warm call of each CPU speed case, beside its time (``matloss.instructions``).

One valgrind batch per run: ``setup_cache`` counts every case of the channel (twice, in two
processes) and both classes read that one table (asv shares a cache between classes that inherit
the same ``setup_cache``). A case whose two counts differ by more than 0.1 %, or that failed,
is skipped with the reason (asv shows n/a).
"""

from __future__ import annotations

from matloss import cases as common
from matloss import instructions


class _Channel:
    params = [common.LOSSES, common.FRAMEWORKS, list(instructions.DTYPES), list(instructions.SHAPES), common.MODES]
    param_names = ["loss", "framework", "dtype", "shape", "mode"]
    unit = "instructions"
    timeout = 3600.0  # the whole batch runs in setup_cache
    backward = False

    def setup_cache(self):
        return instructions.table(instructions.measure(instructions.grid()))

    def setup(self, table, *case):
        row = table.get((*case, self.backward))
        if row is None or row["status"] != "ok":
            raise NotImplementedError(row["reason"] if row else "not in the channel")
        self.count = row["instructions"]


# explicit asv versions (see bench_speed.TIMING_VERSIONS), changed only when what is counted
# changes: a new version starts a new series on the dashboard. The series up to 4212989 (glibc's
# allocator, a pool thread's idle polling counted) stays in results/ under the asv-derived versions
# d3733e98… and 244f4104…; from then on jemalloc is the allocator and idle polling is left out
# (docs/instructions.md), which moves every count ("instructions-2", 33f5421 to 41dd70a); from
# "instructions-3" on, jax dispatches each computation inline on the calling thread (jax's counts
# moved by up to 3.8 %, the other frameworks' stayed); from "instructions-4" on, the count is the
# least of 6 calls after 2 warm ones (was 10 after 5), with instrumentation switched on once per
# batch: numpy's counts moved by up to 0.3 % (median 0.02 %). Seeding sympy in torch's compiled
# batch (after deffbd2) left the series as it was: it changes what the preparation builds, not what a
# call does; torch's compiled counts may move by as much as two processes read apart before (up to
# 0.4 %), below the 1 % step that alerts and the gate act on. From "instructions-5" on, jemalloc's
# thread-cache garbage collection is off (matloss.instructions.ALLOCATOR_CONF): counts stop moving
# with the bytes allocated before a call, and every count may move once. From "instructions-6" on,
# one process per framework counts its eager cases, then its compiled ones, and one warm call
# precedes the six counted (was two): TensorFlow's eager counts moved by up to 1.3 % with the
# merge alone (a longer case list in the process), so the series restarts.
VERSION = "instructions-6 (one process per framework, eager then compiled; 1 warm call, least of 6; jemalloc without thread-cache gc)"


class Forward(_Channel):
    version = VERSION
    def track_forward(self, table, *case):
        return self.count


class Backward(_Channel):
    version = VERSION
    backward = True

    def track_backward(self, table, *case):
        return self.count
