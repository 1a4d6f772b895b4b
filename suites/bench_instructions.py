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


# explicit asv versions: those of the committed results (see bench_speed.TIMING_VERSIONS)
class Forward(_Channel):
    version = "d3733e9853f623cd1927d3f45bd1161c29e17bef886fae96a80f084bfe0556ab"
    def track_forward(self, table, *case):
        return self.count


class Backward(_Channel):
    version = "244f410421c5fed051b1d80a0863b286b3812cbc555946fd80dca59f13857969"
    backward = True

    def track_backward(self, table, *case):
        return self.count
