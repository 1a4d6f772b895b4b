"""The registry: losses are discovered (built-in files and plugins), each spec is consistent, sampling is seeded.

Nothing here lists the catalog: every assertion holds for any set of loss files.
"""

from __future__ import annotations

import dataclasses
import pkgutil

import numpy as np
import pytest

import matloss_ref
from matloss.frameworks import Unsupported, get_framework, list_frameworks
from matloss_ref import get_loss, list_losses, registry
from matloss_ref import losses as builtin


def test_every_loss_file_is_discovered_once_and_sorted():
    files = sorted(m.name for m in pkgutil.iter_modules(builtin.__path__) if not m.name.startswith("_"))
    names = list_losses()
    assert names == sorted(names) and len(set(names)) == len(names)
    assert set(files) <= set(names)  # one file per loss, the file named after the loss
    for f in files:
        assert registry.origin(f) == f"matloss_ref.losses.{f}"


def test_unknown_loss_lists_known_ones():
    with pytest.raises(KeyError) as err:
        get_loss("no_such_loss")
    msg = str(err.value)
    assert "no_such_loss" in msg and all(name in msg for name in list_losses())


@pytest.mark.parametrize("name", list_losses())
def test_spec_is_consistent(name):
    spec = get_loss(name)
    assert len(set(spec.inputs)) == len(spec.inputs)
    assert spec.symmetric == frozenset(a.name for a in spec.args if a.kind == "spd")
    assert spec.formula and spec.gradient and spec.family
    if spec.value_metric == "scaled":
        assert spec.terms_fn is not None, "a scaled value metric needs the magnitude of the terms"
    if spec.naive_of is not None:
        assert spec.naive_of.name in list_losses() and spec.naive_of.inputs == spec.inputs
    x = spec.sample(3, kappa=10.0)
    for a in spec.args:  # core axes as the letters say, equal letters equal sizes
        assert x[a.name].ndim == a.core_ndim
        sizes = dict(zip(a.dims, x[a.name].shape))
        for b in spec.args:
            for letter, size in zip(b.dims, x[b.name].shape):
                if letter in sizes:
                    assert sizes[letter] == size, (a.name, b.name, letter)


@pytest.mark.parametrize("framework", list_frameworks())
@pytest.mark.parametrize("name", list_losses())
def test_every_loss_is_implemented_in_every_installed_framework(name, framework):
    """A loss file must carry an implementation for each framework that is installed here."""
    fw = get_framework(framework)
    if not fw.available:
        pytest.skip(f"{framework} not installed: {fw.reason}")
    spec = get_loss(name)
    if framework != "numpy":  # numpy's implementation is the spec's own value_fn / grad_fn
        assert framework in spec.implementations, f"{name} has no {framework} implementation"
    fn = fw.implementation(name)
    assert callable(fn)


def test_a_missing_implementation_affects_only_that_loss(monkeypatch):
    fw = get_framework("torch")
    if not fw.available:
        pytest.skip("torch not installed")
    spec = get_loss("tikhonov")
    lacking = dataclasses.replace(spec, implementations={k: v for k, v in spec.implementations.items() if k != "torch"})
    monkeypatch.setitem(registry._REGISTRY, "tikhonov", lacking)
    monkeypatch.setattr(fw, "_fns", {}, raising=False)
    with pytest.raises(Unsupported, match="tikhonov has no torch implementation"):
        fw.value_and_grad("tikhonov", lacking.sample(3), dtype="float64")
    x = get_loss("frobenius").sample(3)
    value, _ = fw.value_and_grad("frobenius", x, dtype="float64")  # every other loss still runs
    assert value == pytest.approx(get_loss("frobenius").value(**x), rel=1e-12)


def test_implementations_for_unknown_frameworks_are_refused():
    spec = get_loss("tikhonov")
    with pytest.raises(ValueError, match="unknown frameworks"):
        dataclasses.replace(spec, implementations={"mxnet": lambda: None})


def test_two_losses_with_one_name_are_refused(monkeypatch):
    monkeypatch.setattr(registry, "_REGISTRY", dict(registry._REGISTRY))
    monkeypatch.setattr(registry, "_ORIGIN", dict(registry._ORIGIN))
    with pytest.raises(ValueError, match="defined twice"):
        registry._add(get_loss("det"), "a plugin")


def test_a_broken_plugin_is_reported_and_the_rest_stays(monkeypatch):
    class _EP:
        name, value = "broken", "no_such_module_xyz:LOSS"

        def load(self):
            raise ModuleNotFoundError("No module named 'no_such_module_xyz'")

    for attr, fresh in (("_REGISTRY", {}), ("_ORIGIN", {}), ("_ERRORS", {}), ("_LOADED", False)):
        monkeypatch.setattr(registry, attr, fresh)
    monkeypatch.setattr(registry, "entry_points", lambda group: [_EP()] if group == registry.GROUP else [])
    with pytest.warns(UserWarning, match="broken"):
        names = registry.list_losses()
    assert "det" in names and "broken" in registry.plugin_errors()


@pytest.mark.parametrize("name", list_losses())
def test_sample_is_deterministic_valid_and_seeded(name):
    spec = get_loss(name)
    a = spec.sample(5, kappa=1e3, seed=7, batch=(2,))
    b = spec.sample(5, kappa=1e3, seed=7, batch=(2,))
    c = spec.sample(5, kappa=1e3, seed=8, batch=(2,))
    assert set(a) == set(spec.inputs)
    for k in spec.inputs:
        assert a[k].dtype == np.float64 and a[k].shape[0] == 2
        assert a[k].tobytes() == b[k].tobytes(), "same seed must give the same bits"
    assert any(a[k].tobytes() != c[k].tobytes() for k in spec.inputs), "different seeds must differ"
    spec.validate(a)  # the samples lie in the loss's domain
    f32 = spec.sample(5, kappa=1e3, seed=7, dtype="float32")
    assert all(v.dtype == np.float32 for v in f32.values())
    spec.validate(f32)


@pytest.mark.parametrize("kappa", [10.0, 1e6, 1e12])
@pytest.mark.parametrize("name", list_losses())
def test_sample_has_requested_kappa(name, kappa):
    """The governing matrix of the sample (recomputed exactly from its bits) has the requested κ."""
    spec = get_loss(name)
    x = spec.sample(6, kappa=kappa, seed=1)
    assert spec.true_kappa(**x) == pytest.approx(kappa, rel=0.01)


def test_package_exports():
    assert matloss_ref.list_losses is list_losses
    assert "formula" in matloss_ref.LossSpec.__dataclass_fields__
