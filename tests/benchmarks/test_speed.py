"""Forward and forward + backward timings through pytest-benchmark, one group per loss.

The same cases as the asv suites (built by ``suites.common.prepared``: the warm, synchronised
``fw.prepare`` callable, so compilation and the first call stay out of the timing) on a small
default grid: every loss x framework x mode, CPU, float64, n = 16. Widen it with environment
variables, comma-separated: ``MATLOSS_BENCH_SHAPES`` (e.g. ``16,128,256x8``),
``MATLOSS_BENCH_DTYPES``, ``MATLOSS_BENCH_DEVICES`` (``cpu,cuda``).

The default test run passes ``--benchmark-disable`` (pyproject.toml): each case then runs once and
its result is checked against the float64 reference (value and every gradient, to the dtype's
tolerance), not timed.
``pytest tests/benchmarks --benchmark-enable`` times them.
"""

from __future__ import annotations

import itertools
import os

import pytest

from matloss import cases as common
from matloss_ref.metrics import grad_errors, value_error

#: agreement with the float64 reference expected of a well-conditioned (κ = 100) speed input
TOL = {"float64": 1e-9, "float32": 1e-3}


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
    spec = common.get_loss(loss)
    n, batch = common.parse_shape(loss, shape)
    x = common.inputs(loss, n, dtype, batch)
    tol = TOL[dtype]
    value = float(fw.to_numpy(out[0] if backward else out))
    assert value_error(spec, value, spec.value(**x), spec.value_scale(**x)) <= tol, (case, value, spec.value(**x))
    if backward:
        grads = dict(zip(spec.inputs, (fw.to_numpy(g) for g in out[1])))
        assert {k: g.shape for k, g in grads.items()} == {k: x[k].shape for k in spec.inputs}
        errors = grad_errors(spec, grads, spec.grad(**x))
        assert all(e <= tol for e in errors.values()), (case, errors)
