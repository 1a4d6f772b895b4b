"""The framework adapter: availability, unsupported cases, prepared (warm, synchronised) callables."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from matloss.frameworks import Backend, Unsupported, get_framework, list_frameworks
from matloss_ref import get_loss


def test_list_and_get():
    assert list_frameworks() == ["numpy", "torch", "jax", "tensorflow"]
    with pytest.raises(KeyError, match="numpy, torch, jax, tensorflow"):
        get_framework("mxnet")


def test_import_matloss_ref_imports_no_framework():
    code = (
        "import sys, matloss, matloss_ref; matloss_ref.list_losses(); matloss.list_frameworks(); matloss.get_framework('torch');"
        "print(sorted(m for m in ('torch', 'jax', 'tensorflow') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


class _Missing(Backend):
    name = "missing"
    import_name = "matloss_no_such_framework_xyz"


def test_unavailable_framework_is_reported_not_raised():
    fw = _Missing()
    assert fw.available is False
    assert "ModuleNotFoundError" in fw.reason and "matloss_no_such_framework_xyz" in fw.reason
    x = get_loss("det").sample(3)
    with pytest.raises(Unsupported, match="not installed"):
        fw.value_and_grad("det", x, dtype="float64")
    with pytest.raises(Unsupported):
        fw.prepare("det", x, dtype="float64")
    assert "unavailable" in repr(fw)


@pytest.mark.parametrize("name", ["torch", "jax", "tensorflow"])
def test_real_framework_unavailable_when_import_fails(name, monkeypatch):
    """Simulate an uninstalled framework: its import fails, and the adapter says so instead of raising."""
    import importlib

    mod = importlib.import_module(f"matloss.frameworks.{name}_adapter")
    monkeypatch.setitem(sys.modules, name, None)  # `import name` now raises ImportError
    fresh = type(mod.BACKEND)()
    assert not fresh.available
    assert "ImportError" in fresh.reason or "ModuleNotFoundError" in fresh.reason


def test_unsupported_cases_are_clear():
    fw = get_framework("numpy")
    x = get_loss("frobenius").sample(4)
    with pytest.raises(Unsupported, match="numpy: no compiled mode"):
        fw.prepare("frobenius", x, dtype="float64", mode="compiled")
    with pytest.raises(Unsupported, match="device 'cuda' not present"):
        fw.value_and_grad("frobenius", x, dtype="float64", device="cuda")
    with pytest.raises(ValueError, match="dtype must be one of"):
        fw.value_and_grad("frobenius", x, dtype="float16")
    assert isinstance(Unsupported("x", "y"), NotImplementedError)  # asv skips NotImplementedError


def test_bad_input_raises_before_the_framework_runs():
    fw = get_framework("numpy")
    with pytest.raises(ValueError, match="logdet_spd: S is not positive definite"):
        fw.value_and_grad("logdet_spd", {"S": -np.eye(3)}, dtype="float64")


def _available(name):
    fw = get_framework(name)
    if not fw.available:
        pytest.skip(f"{name} unavailable: {fw.reason}")
    return fw


@pytest.mark.parametrize("name", list_frameworks())
def test_devices_modes_settings(name):
    fw = _available(name)
    assert "cpu" in fw.devices()
    assert set(fw.modes) <= {"eager", "compiled"} and "eager" in fw.modes
    assert isinstance(fw.settings(), dict) and fw.settings()


def test_precision_is_pinned():
    torch = _available("torch").settings()
    assert "highest" in str(torch).lower()
    jx = _available("jax").settings()
    assert "x64" in str(jx).lower() and "true" in str(jx).lower()
    import jax.numpy as jnp

    assert jnp.asarray(np.ones(2)).dtype == jnp.float64


@pytest.mark.parametrize("mode", ["eager", "compiled"])
@pytest.mark.parametrize("name", list_frameworks())
def test_prepare_returns_warm_synchronised_callable(name, mode):
    fw = _available(name)
    if mode not in fw.modes:
        pytest.skip(f"{name} has no {mode} mode")
    x = get_loss("logdet_divergence").sample(6, seed=1)
    for backward in (False, True):
        run = fw.prepare("logdet_divergence", x, dtype="float64", mode=mode, backward=backward)
        assert run.first_call_seconds > 0
        out = run()
        if name == "jax":
            import jax

            assert all(leaf.is_ready() for leaf in jax.tree_util.tree_leaves(out)), "pending async work after sync"
        value = out[0] if backward else out
        assert float(fw.to_numpy(value)) == pytest.approx(get_loss("logdet_divergence").value(**x), rel=1e-10)
