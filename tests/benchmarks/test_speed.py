"""Forward and forward + backward timings through pytest-benchmark, one group per loss.

The same cases as the asv suites (built by ``suites.common.prepared``: the warm, synchronised
``fw.prepare`` callable, so compilation and the first call stay out of the timing) on a small
default grid: every loss x framework x mode, CPU, float64, n = 16. Widen it with environment
variables, comma-separated: ``MATLOSS_BENCH_SHAPES`` (e.g. ``16,128,256x8``),
``MATLOSS_BENCH_DTYPES``, ``MATLOSS_BENCH_DEVICES`` (``cpu,cuda``).

The default test run passes ``--benchmark-disable`` (pyproject.toml): each case then runs once and
its result is checked (finite value, one gradient per input of the right shape), not timed.
``pytest tests/benchmarks --benchmark-enable`` times them.
"""

from __future__ import annotations

import itertools
import os

import numpy as np
import pytest

from matloss import cases as common


def _env_list(name: str, default: str) -> list[str]:
    return [v.strip() for v in os.environ.get(name, default).split(",") if v.strip()]


SHAPES = _env_list("MATLOSS_BENCH_SHAPES", "16")
DTYPES = _env_list("MATLOSS_BENCH_DTYPES", "float64")
DEVICES = _env_list("MATLOSS_BENCH_DEVICES", "cpu")
CASES = list(itertools.product(common.LOSSES, common.FRAMEWORKS, DEVICES, DTYPES, SHAPES, common.MODES))


@pytest.mark.parametrize("backward", [False, True], ids=["forward", "backward"])
@pytest.mark.parametrize("case", CASES, ids=["-".join(c) for c in CASES])
def test_speed(benchmark, case, backward):
    loss, framework, device, dtype, shape, mode = case
    try:
        step = common.prepared(*case, backward=backward)
    except NotImplementedError as exc:
        pytest.skip(str(exc))
    benchmark.group = loss
    benchmark.extra_info.update(dict(zip(common.GRID_NAMES, case), backward=backward))
    out = benchmark(step)

    fw = common.get_framework(framework)
    value = float(fw.to_numpy(out[0] if backward else out))
    assert np.isfinite(value), (case, value)
    if backward:
        n, batch = common.parse_shape(loss, shape)
        x = common.inputs(loss, n, dtype, batch)
        grads = [fw.to_numpy(g) for g in out[1]]
        assert [g.shape for g in grads] == [x[k].shape for k in common.get_loss(loss).inputs]
        assert all(np.isfinite(g).all() for g in grads)
