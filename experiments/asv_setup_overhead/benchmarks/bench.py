"""The same ~2 µs call three ways; only whether the class has a ``setup`` differs."""

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
