"""The same ~2 µs call four ways: whether the class has a ``setup``, and how its calls are batched."""

import time

import numpy as np

X = np.ones(16)


class NoSetup:
    """The array is a module global: asv_runner batches calls as timeit does."""

    def time_sum(self):
        X.sum()


class WithSetup:
    """The same call, the array made in ``setup``: asv_runner >= 0.3 re-runs setup before every
    timed call (asv#966), so each sample is one call between two clock reads."""

    def setup(self):
        self.x = X

    def time_sum(self):
        self.x.sum()


class WithSetupAndNumber:
    """As ``WithSetup``, with an explicit ``number``: asv_runner times the calls one by one, setup
    between them, and sums them into a sample (its ``_SetupInterleavedTimer``)."""

    number = 2000

    def setup(self):
        self.x = X

    def time_sum(self):
        self.x.sum()


class WithSetupAndBatch:
    """As ``WithSetupAndNumber``, but each timed call runs the call ``BATCH`` times in a row and the
    documented ``timer`` attribute reads the clock divided by ``BATCH``: asv_runner still re-runs
    setup before every timed call, now once per batch, and still records seconds per call."""

    BATCH = 200
    number = 10

    def setup(self):
        self.x = X

    @staticmethod
    def timer():
        return time.perf_counter() / WithSetupAndBatch.BATCH

    def time_sum(self):
        x = self.x
        for _ in range(self.BATCH):
            x.sum()
