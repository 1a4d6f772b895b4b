"""A loss computed in the dtype it was given: float32 in, float32 value and gradients out.

A silent promotion to float64 inside a framework implementation (an ``eye`` or a constant created
without the input's dtype) passes every accuracy test — the result is only more accurate — but
it is a different, slower computation from the float32 one the suites claim to time.
"""

from __future__ import annotations

import numpy as np
import pytest

from matloss.frameworks import get_framework, list_frameworks
from matloss_ref import get_loss, list_losses


@pytest.mark.parametrize("fw_name", list_frameworks())
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_value_and_gradients_keep_the_input_dtype(fw_name, dtype):
    fw = get_framework(fw_name)
    if not fw.available:
        pytest.skip(f"{fw_name} unavailable: {fw.reason}")
    wrong = []
    for loss in list_losses():
        spec = get_loss(loss)
        x = spec.sample(3, kappa=10.0, dtype=dtype, seed=0)
        step, tensors = fw._case_step(loss, x, dtype=dtype, device="cpu", mode="eager", backward=True)
        value, grads = fw.sync(step(*tensors))
        got = {"value": fw.to_numpy(value).dtype, **{k: fw.to_numpy(g).dtype for k, g in zip(spec.inputs, grads)}}
        bad = {k: str(d) for k, d in got.items() if d != np.dtype(dtype)}
        if bad:
            wrong.append(f"{loss}: {bad}")
    assert not wrong, f"{fw_name} {dtype}: outputs not in {dtype}:\n" + "\n".join(wrong)
