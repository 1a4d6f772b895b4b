"""Speed of every loss in every framework: forward, forward + backward, peak memory.

Every benchmark times the warm, synchronised callable of ``fw.prepare`` (compilation and the
first call happen in ``setup``, outside the timing); see ``common.py`` for the grid and the cache.
"""

from __future__ import annotations

from matloss import cases as common
from matloss import relative


class _Speed:
    params = common.GRID
    param_names = common.GRID_NAMES
    backward = False
    timeout = 600.0  # a cold torch.compile of a backward can take minutes on 2 cores
    # one process per case (setup compiles; a second round, asv's ``rounds = 2``, halved the median
    # disagreement of two runs of the default subset, but the full run took over an hour: docs/speed.md),
    # 5 to 10 samples of ~10 ms (see common.calls_per_sample), stopping after 1 s once there are
    # 5; no extra warm-up: the callable is warm from prepare() and the calibration calls in setup
    rounds = 1
    repeat = (5, 10, 1.0)
    warmup_time = 0.0

    def setup_cache(self):
        # one directory per run, shared by every case: the sampled inputs are written there once
        import os

        return os.getcwd()

    def setup(self, input_dir, *case):
        # asv_runner re-runs setup (its own and this one) before every timed call, and what runs
        # there slows a µs-scale call that follows (1.3-1.8x for µs-scale cases: docs/speed.md,
        # "µs-scale cases"): once a case is set up, return at once, and time the calls in batches
        if self.__dict__.get("_ready") == case:
            return
        self.step = common.prepared(*case, backward=self.backward, input_dir=input_dir)
        calls = common.calls_per_sample(self.step)
        # a timed call of the time_ case runs the step ``batch`` times in a row (about BATCH_TIME),
        # and asv's documented ``timer`` attribute reads the clock divided by ``batch``, so what
        # asv records stays seconds per call of the step, as timeit's loop would read it
        self.batch = max(1, int(calls * common.BATCH_TIME / common.SAMPLE_TIME))
        self.timer = common.per_call_timer(self.batch)
        self.number = max(1, round(calls / self.batch))
        if case[2] == "cpu":  # the relative time of this case, for the track_ case below (once per process)
            relative.record(input_dir, case, self.backward, self.step, calls)
        self._ready = case

    def run_step(self):
        """The timed body of the time_ cases: ``batch`` calls of the step."""
        step = self.step
        for _ in range(self.batch):
            step()


class _Relative(_Speed):
    """A CPU case's time in units of a reference workload timed beside it (``matloss.relative``):
    beside the raw time, for repeatability on a machine whose speed level moves. Measured in the
    ``time_`` case's process (asv runs it first: same cache, sorted names) or, without it, here."""

    unit = "reference workloads"
    rounds = 1  # after every round of the time_ case (asv runs the last round first): reads each process's record

    def setup(self, input_dir, *case):
        if case[2] != "cpu":
            raise NotImplementedError("relative time is CPU only: the reference workload runs on the CPU")
        got = relative.lookup(input_dir, case, self.backward)
        if got is None:
            step = common.prepared(*case, backward=self.backward, input_dir=input_dir)
            got = relative.record(input_dir, case, self.backward, step, common.calls_per_sample(step))
        self.value = got["relative"]


class ForwardRelative(_Relative):
    version = "65fdd2076c23e77d7aef37da24781704653a17cfa3777c948d39fa0170f3aab7"
    def track_forward_relative(self, input_dir, *case):
        return self.value


class BackwardRelative(_Relative):
    version = "2b6e1b178affcdd388476562659507cc1126cdf3937fb5fb7407ed8ced0960ee"
    backward = True

    def track_backward_relative(self, input_dir, *case):
        return self.value


#: asv shows a benchmark's results only where their ``version`` equals the current one, by default a
#: hash of the benchmark's code, setup included. Recording relative time in setup changes nothing
#: the timed call does, so the timing benchmarks keep the versions asv computed
#: before them and the committed history stays on one graph. Every benchmark of the suites carries
#: an explicit version (tests/test_history.py holds the newest committed results to it); change
#: one when what it measures changes. The four timing versions changed when every benchmark
#: process was put on one CPU (suites/_cpus.py): jax's and TensorFlow's times changed by up to
#: 1.8x, so their series start again there (the results before keep the versions they were
#: recorded under: forward 5a3b8b6b, backward 014a77a7, forward_relative e92362d1, backward_relative 1671b393).
TIMING_VERSIONS = {"forward": "3c5db8337aa93686eb55596ebf1fb70792a05466329d72b248c13387e1c422ce",
                   "backward": "8a157738617cb89df5115c3c37873528d5854eb157e58d5f37cd4bf092314ce5"}


class Forward(_Speed):
    version = TIMING_VERSIONS["forward"]

    def time_forward(self, input_dir, *case):
        self.run_step()


class Backward(_Speed):
    backward = True
    version = TIMING_VERSIONS["backward"]

    def time_backward(self, input_dir, *case):
        self.run_step()


class Memory(_Speed):
    version = "5d73e4503c41d313489d6cb377129a07a51c891a42f854a4021637c234339b70"
    """Peak process RSS of forward + backward at each loss's largest size, float64, CPU."""

    params = [common.LOSSES, common.FRAMEWORKS, common.MODES]
    param_names = ["loss", "framework", "mode"]
    rounds = 1

    def setup(self, input_dir, loss, framework, mode):
        shape = common.largest_shape(loss)
        self.step = common.prepared(loss, framework, "cpu", "float64", shape, mode, backward=True, input_dir=input_dir)

    def peakmem_backward(self, input_dir, loss, framework, mode):
        self.step()


class GpuMemory(_Speed):
    version = "1d2534c30cccb13d1ea17171300f63900c89edf7f474c3d6f98a458f06c435d5"
    """Peak GPU memory (the framework allocator's own statistic, bytes) of forward + backward at
    each loss's largest size, float64; skipped without a GPU."""

    params = [common.LOSSES, common.FRAMEWORKS, common.MODES]
    param_names = ["loss", "framework", "mode"]
    unit = "bytes"
    rounds = 1

    def setup(self, input_dir, loss, framework, mode):
        shape = common.largest_shape(loss)
        self.step = common.prepared(loss, framework, "cuda", "float64", shape, mode, backward=True, input_dir=input_dir)

    def track_gpu_peakmem_backward(self, input_dir, loss, framework, mode):
        return common.gpu_peak_bytes(framework, self.step)
