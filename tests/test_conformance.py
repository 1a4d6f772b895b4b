"""Every loss in every available framework, eager and compiled, float32 and float64, against the exact truth.

On the device ``MATLOSS_TEST_DEVICE`` names (default ``cpu``; ``./dev gpu-check`` sets ``cuda``);
a framework without that device skips with the reason."""

from __future__ import annotations

import os

import numpy as np
import pytest

from matloss.frameworks import Unsupported, get_framework, list_frameworks
from matloss_ref import get_loss, list_losses
from matloss_ref.metrics import grad_errors, value_error

TOL = {"float64": 1e-10, "float32": 1e-4}
SIZES = (2, 3, 8)
DEVICE = os.environ.get("MATLOSS_TEST_DEVICE", "cpu")
BATCHES = ((), (3,))
RECTANGULAR = ("matrix", "stack")  # the argument kinds whose core may be m × n with m != n


def _cases():
    for fw in list_frameworks():
        for mode in ("eager", "compiled"):
            for dtype in ("float64", "float32"):
                yield pytest.param(fw, mode, dtype, id=f"{fw}-{mode}-{dtype}")


def _orthogonality_ok(spec, x) -> bool:
    """orthogonality_l1 is compared only where no entry of ΦᵢᵀΦᵢ − I is within 1e-6 of zero."""
    if spec.name != "orthogonality_l1":
        return True
    phi = x["Phi"].astype(np.float64)
    g = np.einsum("...lmn,...lmk->...mnk", phi, phi) - np.eye(phi.shape[-1])
    return bool(np.min(np.abs(g)) > 1e-6)


@pytest.mark.parametrize("fw_name, mode, dtype", list(_cases()))
@pytest.mark.parametrize("loss", list_losses())
def test_value_and_grad_match_exact(loss, fw_name, mode, dtype):
    fw = get_framework(fw_name)
    if not fw.available:
        pytest.skip(f"{fw_name} unavailable: {fw.reason}")
    if mode not in fw.modes:
        pytest.skip(f"{fw_name} has no {mode} mode")
    if DEVICE not in fw.devices():
        pytest.skip(f"{fw_name} has no {DEVICE} device here")
    spec = get_loss(loss)
    failures = []
    shapes = [(n, None, batch) for n in SIZES for batch in BATCHES]
    if any(a.kind in RECTANGULAR for a in spec.args):  # tall and wide too, and a batch of them
        shapes += [(3, 5, ()), (5, 3, ()), (5, 3, (2,)), (3, 5, (2,))]
    for n, m, batch in shapes:
        for seed in range(20):
            x = spec.sample(n, m=m, kappa=10.0, dtype=dtype, seed=seed, batch=batch)
            if _orthogonality_ok(spec, x):
                break
        else:
            pytest.fail("no orthogonality_l1 sample away from the kinks")
        res = spec.exact_result(**x)
        try:
            v, g = fw.value_and_grad(loss, x, dtype=dtype, mode=mode, device=DEVICE)
        except Unsupported as exc:
            failures.append(f"n={n} m={m} batch={batch}: {exc}")
            continue
        verr = value_error(spec, v, res.value, res.scale)
        gerr = grad_errors(spec, g, res.grads)
        for k, arr in g.items():
            assert arr.shape == x[k].shape, f"{k}: gradient shape {arr.shape} != input shape {x[k].shape}"
        if not verr <= TOL[dtype]:
            failures.append(f"n={n} m={m} batch={batch}: value error {verr:.3g} (got {v!r}, exact {res.value!r})")
        bad = {k: e for k, e in gerr.items() if not e <= TOL[dtype]}
        if bad:
            failures.append(f"n={n} m={m} batch={batch}: gradient error {bad}")
    assert not failures, f"{fw_name}/{mode}/{dtype}/{loss}:\n" + "\n".join(failures)
