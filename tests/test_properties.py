"""Property-based conformance: every loss in every installed framework, eager and compiled,
float32 and float64, on inputs hypothesis draws across the shapes the loss admits, against the
exact backend.

Drawn per example: the loss, the dtype, the core sizes (1 to 8; rectangular arguments take every
m × n, square, tall and wide, where the loss's domain admits it), a batch shape of rank 0 to 2, κ
and the sampling seed. A failure is shrunk to a minimal example and reported with the
``spec.sample`` call that rebuilds its inputs bit for bit and hypothesis's seed. Bounded by the
profile (tests/conftest.py): ``ci`` by default, ``--hypothesis-profile=deep`` for a long run.
"""

from __future__ import annotations

import numpy as np
import pytest

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import given, note, reject  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from matloss.frameworks import Unsupported, get_framework, list_frameworks  # noqa: E402
from matloss_ref import get_loss, list_losses  # noqa: E402
from matloss_ref.metrics import grad_errors, value_error  # noqa: E402

#: the conformance bound: at κ ≤ 10 and n ≤ 8 every implementation is far inside it when right
TOL = {"float64": 1e-10, "float32": 1e-4}
RECTANGULAR = ("matrix", "stack")


def _fw_modes():
    for fw in list_frameworks():
        for mode in ("eager", "compiled"):
            yield pytest.param(fw, mode, id=f"{fw}-{mode}")


def _kink_free(spec, x) -> bool:
    """orthogonality_l1 is |·| of the entries of ΦᵢᵀΦᵢ − I: an entry within 1e-6 of 0 is a kink."""
    if spec.name != "orthogonality_l1":
        return True
    phi = x["Phi"].astype(np.float64)
    g = np.einsum("...lmn,...lmk->...mnk", phi, phi) - np.eye(phi.shape[-1])
    return bool(np.min(np.abs(g)) > 1e-6)


@st.composite
def cases(draw):
    loss = draw(st.sampled_from(list_losses()))
    spec = get_loss(loss)
    n = draw(st.integers(1, 8), label="n")
    rect = any(a.kind in RECTANGULAR for a in spec.args)
    m = draw(st.integers(1, 8), label="m") if rect else None
    batch = tuple(draw(st.lists(st.integers(1, 3), min_size=0, max_size=2), label="batch"))
    return {
        "loss": loss,
        "n": n,
        "m": m,
        "batch": batch,
        "kappa": draw(st.sampled_from([2.0, 10.0]), label="kappa"),
        "dtype": draw(st.sampled_from(["float64", "float32"]), label="dtype"),
        "seed": draw(st.integers(0, 2**16), label="seed"),
    }


@pytest.mark.parametrize("fw_name, mode", list(_fw_modes()))
@given(case=cases())
def test_any_admitted_input_matches_exact(fw_name, mode, case):
    fw = get_framework(fw_name)
    if not fw.available:
        pytest.skip(f"{fw_name} unavailable: {fw.reason}")
    if mode not in fw.modes:
        pytest.skip(f"{fw_name} has no {mode} mode")
    spec = get_loss(case["loss"])
    dtype = case["dtype"]
    call = (f"get_loss({case['loss']!r}).sample({case['n']}, m={case['m']}, kappa={case['kappa']}, "
            f"dtype={dtype!r}, seed={case['seed']}, batch={case['batch']})")
    note(f"inputs: {call}; run: get_framework({fw_name!r}).value_and_grad({case['loss']!r}, x, dtype={dtype!r}, mode={mode!r})")
    try:
        x = spec.sample(case["n"], m=case["m"], kappa=case["kappa"], dtype=dtype, seed=case["seed"], batch=case["batch"])
        spec.validate(x)
    except ValueError:
        reject()  # a shape outside the loss's domain (e.g. a wide W for srip)
    if not _kink_free(spec, x) or not spec.gradient_well_posed(dtype, **x):
        reject()
    res = spec.exact_result(**x)
    try:
        v, g = fw.value_and_grad(case["loss"], x, dtype=dtype, mode=mode)
    except Unsupported as exc:
        pytest.fail(f"{call}: {exc}")
    assert sorted(g) == sorted(spec.inputs)
    for k, arr in g.items():
        assert arr.shape == x[k].shape, f"{k}: gradient shape {arr.shape} != input shape {x[k].shape}"
    verr = value_error(spec, v, res.value, res.scale)
    assert verr <= TOL[dtype], f"value error {verr:.3g}: got {v!r}, exact {res.value!r}"
    gerr = grad_errors(spec, g, res.grads)
    bad = {k: e for k, e in gerr.items() if not e <= TOL[dtype]}
    assert not bad, f"gradient error {bad}"
