"""Closed-form gradients against high-precision central differences, and the float64 reference against exact.

Central differences are taken at 400 bits with h = 2^-80 along random directions that stay in the
loss's domain (symmetric for SPD inputs, lower-triangular for L), so truncation and rounding are
far below the 1e-12 tolerance even at κ = 1e8 — float64 finite differences could not judge this.
"""

from __future__ import annotations

import numpy as np
import pytest
from flint import arb

from matloss_ref import exact, get_loss, list_losses
from matloss_ref.metrics import grad_errors, ratio, value_error

FD_BITS = 400
H_EXP = -80


def _direction(spec, x, rng):
    d = {}
    for a in spec.args:
        r = rng.standard_normal(x[a.name].shape)
        if a.kind == "spd":
            r = (r + r.T) / 2
        elif a.kind == "tril":
            r = np.tril(r)
        d[a.name] = r
    return d


def _shift(hx, hd, t):
    out = {}
    for k, v in hx.items():
        if isinstance(v, list):
            out[k] = [vi + di * t for vi, di in zip(v, hd[k])]
        else:
            out[k] = v + hd[k] * t
    return out


def _inner(g, d) -> arb:
    total = arb(0)
    for k, gk in g.items():
        pairs = zip(gk, d[k]) if isinstance(gk, list) else [(gk, d[k])]
        for gm, dm in pairs:
            total += sum((a * b for a, b in zip(gm.entries(), dm.entries())), arb(0))
    return total


RECTANGULAR = [name for name in list_losses() if any(a.kind in ("matrix", "stack") for a in get_loss(name).args)]


@pytest.mark.parametrize("kappa", [10.0, 1e8])
@pytest.mark.parametrize("loss, m", [(name, None) for name in list_losses()] + [(name, 7) for name in RECTANGULAR])
def test_closed_form_gradient_matches_high_precision_central_differences(loss, m, kappa):
    spec = get_loss(loss)
    x = spec.sample(4, m=m, kappa=kappa, seed=11)
    rng = np.random.default_rng(5)
    with exact.precision(FD_BITS):
        hx = exact.hp_inputs(spec, x)
        _, g = spec.hp_fn(**hx)
        assert g is not None, f"{loss}: gradient undefined at a generic sample"
        g = {k: v for k, v in g.items()}
        h = arb(2) ** H_EXP
        for _ in range(3):
            d = _direction(spec, x, rng)
            hd = exact.hp_inputs(spec, d)
            fp, _ = spec.hp_fn(**_shift(hx, hd, h))
            fm, _ = spec.hp_fn(**_shift(hx, hd, -h))
            fd = (fp - fm) / (2 * h)
            closed = _inner(g, hd)
            scale = float(closed.mid().abs_lower()) + 1e-300
            norm = (float(_inner(g, g).mid()) * float(_inner(hd, hd).mid())) ** 0.5
            err = abs(float((fd - closed).mid()))
            assert err <= 1e-12 * max(scale, norm), f"{loss} κ={kappa:g}: fd {fd} vs closed form {closed}"


KAPPAS = [1.0, 1e2, 1e4, 1e8, 1e12]


@pytest.mark.parametrize("loss", list_losses())
def test_float64_reference_within_lapack_bound(loss):
    """value/grad agree with exact within 30·u·(n + κ) (the R ≤ 30 rule of docs/accuracy.md)."""
    spec = get_loss(loss)
    n = 6
    bad = []
    for k in KAPPAS:
        for seed in range(2):
            x = spec.sample(n, kappa=k, seed=seed)
            res = spec.exact_result(**x)
            kap = max(k, 1.0)
            r_val = ratio(value_error(spec, spec.value(**x), res.value, res.scale), "float64", n, kap)
            if not r_val <= 30:
                bad.append(f"κ={k:g} seed={seed}: value R={r_val:.3g}")
            if not spec.gradient_well_posed(**x):
                continue  # e.g. all σ equal at κ = 1: the top singular vector is rounding noise
            errs = grad_errors(spec, spec.grad(**x), res.grads)
            for name, e in errs.items():
                r = ratio(e, "float64", n, kap)
                if not r <= 30:
                    bad.append(f"κ={k:g} seed={seed}: ∂{name} R={r:.3g}")
    assert not bad, f"{loss}: " + "; ".join(bad)


@pytest.mark.parametrize("n, m", [(1, None), (3, 5), (5, 3)])
@pytest.mark.parametrize("loss", list_losses())
def test_float64_reference_edge_shapes(loss, n, m):
    """n = 1 and rectangular inputs (tall and wide where the loss allows them)."""
    spec = get_loss(loss)
    if m is not None and loss not in RECTANGULAR:
        pytest.skip("square-only loss")
    try:
        x = spec.sample(n, m=m, kappa=10.0, seed=3)
        spec.validate(x)
    except ValueError as exc:
        pytest.skip(f"shape outside the domain: {exc}")
    res = spec.exact_result(**x)
    assert value_error(spec, spec.value(**x), res.value, res.scale) <= 1e-13
    if spec.gradient_well_posed(**x):
        assert max(grad_errors(spec, spec.grad(**x), res.grads).values()) <= 1e-12


def test_float32_det_gradient_at_n128_does_not_overflow():
    """The SVD adjugate's exclusive products Π_{j≠i} σⱼ used to be running products, which overflow
    float32 long before the result does (|det| = 1, κ = 1e3, n = 128: 16 NaN cells of the sweep)."""
    spec = get_loss("det")
    for kappa in (1e3, 1e6):
        x = spec.sample(128, kappa=kappa, dtype="float32", seed=0)
        g = spec.grad_fn(A=x["A"])["A"]  # the numpy framework's float32 closed form
        assert g.dtype == np.float32 and np.isfinite(g).all()
        err = grad_errors(spec, {"A": g}, spec.exact_result(**x).grads)["A"]
        assert ratio(err, "float32", 128, kappa) <= 30, (kappa, err)


def test_exclusive_products_handle_zeros_and_large_values():
    from matloss_ref.losses.det import exclusive_products

    np.testing.assert_allclose(exclusive_products(np.array([2.0, 3.0, 4.0])), [12.0, 8.0, 6.0], rtol=1e-15)
    np.testing.assert_allclose(exclusive_products(np.array([2.0, 0.0, 5.0])), [0.0, 10.0, 0.0], rtol=1e-15)
    np.testing.assert_array_equal(exclusive_products(np.array([0.0, 3.0, 0.0])), [0.0, 0.0, 0.0])
    big = np.array([1e20, 1e20, 1e-30], dtype=np.float32)  # the running product 1e40 would overflow float32
    with np.errstate(over="ignore"):
        got = exclusive_products(big)
    np.testing.assert_allclose(got[:2], [1e-10, 1e-10], rtol=1e-5)  # representable: computed
    assert got[2] == np.inf  # 1e40 is not representable in float32
