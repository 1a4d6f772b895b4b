"""What the samplers and the governing-matrix helpers promise, against closed forms."""

from __future__ import annotations

import numpy as np
import pytest

from matloss_ref import get_loss
from matloss_ref.spec import sigma1_separated


def test_mvn_nll_governing_kappa_is_that_of_the_covariance():
    spec = get_loss("mvn_nll")
    L = np.diag([1.0, 2.0, 8.0])  # κ(L) = 8, κ(LLᵀ) = 64
    x = {"x": np.zeros(3), "mu": np.zeros(3), "L": L}
    assert spec.true_kappa(**x) == pytest.approx(64.0)


@pytest.mark.parametrize("loss", ["mvn_nll", "mvn_nll_naive"])
def test_the_weak_sampler_puts_x_minus_mu_along_the_weakest_direction_of_L(loss):
    x = get_loss(loss).sample(6, kappa=1e3, seed=1, variant="weak")
    r = x["x"] - x["mu"]
    u, s, _ = np.linalg.svd(x["L"])
    assert abs(u[:, -1] @ r) == pytest.approx(np.linalg.norm(r), rel=1e-12)
    assert np.linalg.norm(r) == pytest.approx(s[-1] * np.sqrt(6), rel=1e-12)


def test_sigma1_separation_of_two_matrices_is_that_of_their_difference():
    a = np.diag([3.0, 1.0])  # σ₁ of A alone is well separated
    b = np.diag([1.0, -1.0])  # A − B = diag(2, 2): a tie
    assert sigma1_separated(1e-16, a)
    assert not sigma1_separated(1e-16, a, b)
    assert sigma1_separated(1e-16, a, np.zeros((2, 2)))


def test_the_default_seed_is_zero():
    """``spec.sample(n)`` is the documented ``seed=0`` draw, so a default call is reproducible across releases."""
    spec = get_loss("logdet")
    np.testing.assert_array_equal(spec.sample(5)["A"], spec.sample(5, seed=0)["A"])
    assert not np.array_equal(spec.sample(5)["A"], spec.sample(5, seed=1)["A"])
