"""The structured inputs of the findings: where implementations of a loss differ most.

Each case has a *kind* (what kind of input it is, the unit a finding is reported for: "rank n-1"
holds the zero pivot first, middle, last and a dense one) and a builder
``build(spec, n, dtype) -> inputs | None`` (None: the case does not apply to the loss's inputs).
Every input is exact in the dtype it is built in, so a zero pivot or a tie survives rounding.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from matloss_ref import matrices


@dataclass(frozen=True)
class Case:
    kind: str
    build: Callable[..., dict[str, np.ndarray] | None]
    description: str


def _general(make: Callable[[int, str], np.ndarray]):
    """A case on the loss's main general (non-SPD, non-triangular) matrix input; other inputs are neutral."""

    def build(spec, n: int, dtype: str) -> dict[str, np.ndarray] | None:
        kinds = [a.kind for a in spec.args]
        if kinds[0] not in ("square", "matrix", "stack"):
            return None
        m = make(n, dtype)
        first = spec.args[0]
        if first.kind == "stack":
            x = {first.name: np.ascontiguousarray(np.stack([m] * 2, axis=1))}
        else:
            x = {first.name: m}
        for a in spec.args[1:]:  # B = 0, so that A − B is the structured matrix
            x[a.name] = np.zeros_like(m)
        return x

    return build


def _spd_or_tril(make_diag: Callable[[int], np.ndarray], rotate: bool):
    """A case on the SPD / triangular inputs: ``diag(d)``, conjugated by a Haar Q for SPD inputs if ``rotate``.

    Without rotation the matrix stays exact, so a zero eigenvalue survives rounding.
    """

    def build(spec, n: int, dtype: str) -> dict[str, np.ndarray] | None:
        kinds = {a.name: a.kind for a in spec.args}
        if not any(k in ("spd", "tril") for k in kinds.values()):
            return None
        d = make_diag(n)
        q = matrices.orthogonal(n, seed=1) if rotate else np.eye(n)
        x: dict[str, np.ndarray] = {}
        first_special = True
        for a in spec.args:
            if a.kind == "spd":
                if first_special:
                    s = (q * d) @ q.T
                    x[a.name] = ((s + s.T) / 2).astype(dtype)
                    first_special = False
                else:
                    x[a.name] = np.eye(n, dtype=dtype)
            elif a.kind == "tril":
                lo = np.tril(np.ones((n, n)) * 0.25, -1) + np.diag(np.sign(d) * np.sqrt(np.abs(d)))
                x[a.name] = lo.astype(dtype)
            else:
                x[a.name] = np.full(n, 0.5, dtype=dtype)
        return x

    return build


def _diag(values: Callable[[int], list[float]]):
    return lambda n: np.asarray(values(n), dtype=np.float64)


CASES: dict[str, Case] = {
    "singular_first": Case("rank n-1", _general(lambda n, dt: matrices.singular(n, "first", dtype=dt)),
                           "diag(1, ..., n) with the first entry 0"),
    "singular_middle": Case("rank n-1", _general(lambda n, dt: matrices.singular(n, "middle", dtype=dt)),
                            "diag(1, ..., n) with the middle entry 0"),
    "singular_last": Case("rank n-1", _general(lambda n, dt: matrices.singular(n, "last", dtype=dt)),
                          "diag(1, ..., n) with the last entry 0"),
    "singular_dense": Case("rank n-1", _general(lambda n, dt: matrices.singular(n, "middle", dense=True, seed=2, dtype=dt)),
                           "a dense Lo·D·Up of rank n-1 (entries multiples of 1/4; its LU is exact)"),
    "rank_n_minus_2": Case("rank n-2", _general(lambda n, dt: matrices.rank_deficient(n, n - 2, seed=2, dtype=dt)),
                           "a dense Lo·D·Up of rank n-2 (entries multiples of 1/4; its LU is exact)"),
    "repeated_sigma1": Case("tied sigma_1", _general(lambda n, dt: matrices.repeated_sigma1(n, seed=2, dtype=dt)),
                            "a signed permutation of diag(2, 2, 1, 1/2, ...): an exact tie sigma_1 = sigma_2"),
    "rounding_tie": Case("sigma_1 tie broken by rounding",
                         _general(lambda n, dt: matrices.repeated_sigma1(n, exact=False, seed=2, dtype=dt)),
                         "U·diag(2, 2, 1, ...)·Vᵀ rounded: sigma_1 and sigma_2 differ by rounding only"),
    "zero": Case("zero matrix", _general(lambda n, dt: matrices.zero(n, dtype=dt)), "the zero matrix"),
    "tiny": Case("near underflow", _general(lambda n, dt: matrices.badly_scaled(n, "tiny", seed=2, dtype=dt)),
                 "a randsvd matrix scaled by 2^-500 (float64) / 2^-60 (float32)"),
    "huge": Case("near overflow", _general(lambda n, dt: matrices.badly_scaled(n, "huge", seed=2, dtype=dt)),
                 "a randsvd matrix scaled by 2^500 (float64) / 2^60 (float32)"),
    "non_pd": Case("not positive definite", _spd_or_tril(_diag(lambda n: [1.0] * (n - 1) + [-1.0]), rotate=True),
                   "an SPD input with one eigenvalue -1 (L with one negative diagonal entry)"),
    "psd_singular": Case("singular positive semidefinite", _spd_or_tril(_diag(lambda n: [1.0] * (n - 1) + [0.0]), rotate=False),
                         "an SPD input with one eigenvalue exactly 0 (L with a zero on the diagonal)"),
}  # fmt: skip


def build(case: str, spec, n: int, dtype: str) -> dict[str, np.ndarray] | None:
    """The inputs of ``case`` for ``spec`` (None where the case does not apply to its inputs)."""
    return CASES[case].build(spec, n, dtype)
