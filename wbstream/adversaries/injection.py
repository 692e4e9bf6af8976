"""What the injection attacks share: a random sparse target and streaming ``target + z``.

>>> from wbstream.engine.problems import SparseRecovery
>>> rng = np.random.default_rng(0)
>>> support, values = sparse_target(rng, SparseRecovery(n=100, k=3, M=10).params)
>>> len(support), bool((np.abs(values) <= 5).all() and (values != 0).all())
(3, True)
>>> b = target_plus(rng, support, values, np.array([50, 60, 70]), np.array([1, 0, -1]))
>>> len(b), int(b.deltas.sum()) == int(values.sum())
(5, True)
"""

from __future__ import annotations

import numpy as np

from wbstream.adversaries.reduction import fpylll_available
from wbstream.engine.problems import Params
from wbstream.engine.stream import Batch

NO_FPYLLL = "lattice reduction needs fpylll: pip install 'wbstream[attacks]'"


def lattice_ready() -> tuple[bool, str]:
    """``(True, "")`` when fpylll can be imported, else ``(False, why)``."""
    return (True, "") if fpylll_available() else (False, NO_FPYLLL)


def sparse_target(rng: np.random.Generator, params: Params) -> tuple[np.ndarray, np.ndarray]:
    """A random target with ``k`` non-zeros (none if the problem has no k) in ``±[1, M/2]``."""
    k, n, M = params.get("k", 0), params.n, params.M
    support = rng.choice(n, size=min(k, n - 1), replace=False).astype(np.int64)
    values = rng.integers(1, max(1, M // 2) + 1, size=len(support)) * rng.choice([-1, 1], size=len(support))
    return support, values.astype(np.int64)


def target_plus(rng: np.random.Generator, support: np.ndarray, values: np.ndarray,
                columns: np.ndarray, z: np.ndarray) -> Batch:
    """One batch streaming the target plus ``z`` (on ``columns``, disjoint from the target), shuffled."""
    nz = np.flatnonzero(z)
    idx = np.r_[support, columns[nz]].astype(np.int64)
    dlt = np.r_[values, z[nz]].astype(np.int64)
    order = rng.permutation(len(idx))
    return Batch(idx[order], dlt[order])
