"""TF32 is off where the harness says so: a float32 matmul through the harness is at float32 level.

TF32 rounds matmul inputs to 10 mantissa bits (u ≈ 5e-4): a float32 product of two 512 × 512
Gaussian matrices is then off by about 1e-3 relative (in norm), true float32 by about 1e-7. On
``MATLOSS_TEST_DEVICE`` (default cpu; ``./dev gpu-check`` sets ``cuda``) the harness's float32
product must be below 1e-5; with torch's TF32 switched on deliberately the same measure must
exceed 1e-4, which shows the check can see TF32 at all (GPU only).
"""

from __future__ import annotations

import os

import numpy as np
import pytest

from matloss.frameworks import get_framework

DEVICE = os.environ.get("MATLOSS_TEST_DEVICE", "cpu")
N = 512


def _product_error(fw, device: str) -> float:
    """Relative error of a float32 matmul on ``device`` through the framework, against float64."""
    rng = np.random.default_rng(0)
    a = rng.standard_normal((N, N)).astype(np.float32)
    b = rng.standard_normal((N, N)).astype(np.float32)
    exact = a.astype(np.float64) @ b.astype(np.float64)
    ta, tb = fw.to_tensor(a, "float32", device), fw.to_tensor(b, "float32", device)
    got = fw.to_numpy(fw.sync(ta @ tb)).astype(np.float64)
    return float(np.linalg.norm(got - exact) / np.linalg.norm(exact))


@pytest.mark.parametrize("fw_name", ["torch", "jax"])
def test_float32_matmuls_are_not_tf32(fw_name):
    fw = get_framework(fw_name)
    if not fw.available:
        pytest.skip(f"{fw_name} unavailable: {fw.reason}")
    if DEVICE not in fw.devices():
        pytest.skip(f"{fw_name} has no {DEVICE} device here")
    err = _product_error(fw, DEVICE)
    assert err < 1e-5, f"{fw_name} float32 matmul on {DEVICE}: relative error {err:.2e} (TF32 gives ~1e-3)"


def test_the_check_sees_tf32_when_it_is_on():
    fw = get_framework("torch")
    if not fw.available or DEVICE == "cpu" or DEVICE not in fw.devices():
        pytest.skip("needs torch with a GPU (MATLOSS_TEST_DEVICE=cuda)")
    import torch

    if torch.cuda.get_device_capability()[0] < 8:
        pytest.skip("TF32 needs an Ampere or newer GPU")
    torch.backends.cuda.matmul.allow_tf32 = True
    torch.set_float32_matmul_precision("high")
    try:
        err = _product_error(fw, DEVICE)
    finally:
        fw.setup()  # the harness's settings back
    assert err > 1e-4, f"TF32 on, yet the error is {err:.2e}: the check could not see TF32"
