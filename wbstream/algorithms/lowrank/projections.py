"""Projection sketches for low-rank approximation of a row stream: Gaussian and CountSketch (Clarkson–Woodruff).

Both keep ``B = S A`` (``size x cols``) for a random ``size x rows`` matrix S whose
column r is generated from a key in the state when row r arrives, and answer the
top-k right singular vectors V of B. For a projection-cost-preserving S (Gaussian
with ``size = O(k / eps^2)``, CountSketch with ``O(k^2 / eps^2)``; Cohen–Elder–Musco–
Musco–Persu 2015, Clarkson–Woodruff 2013), ``||A - A V V^T||_F^2 <= (1 + eps) ||A - A_k||_F^2``
with good probability against a stream fixed in advance.

The key is in the state, so a white-box adversary computes the columns of S for
the rows it is about to send (:meth:`RowProjectionSketch.sketch_rows`), picks u with
``S u = 0`` on them and sends ``A = beta u v^T + noise``: B never sees v
(``projection-kernel``).
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np

from wbstream.algorithms.hashing import PolynomialHash
from wbstream.crypto.prg import RandomOracleColumns
from wbstream.engine.algorithm import Space, StreamingAlgorithm, nbytes_of
from wbstream.engine.matrix_problems import LowRankApproximation, RowProjection
from wbstream.engine.problems import Params
from wbstream.engine.registry import algorithms
from wbstream.engine.threat import OBLIVIOUS

#: The low-rank-approximation problem the arena plays row sketches on.
ROW_ARENA_PROBLEM = "low-rank-approx(cols=16, k=2, ell=8, eps=0.5, M=1000000)"


def top_right_singular(B: np.ndarray, k: int) -> np.ndarray:
    """An orthonormal ``cols x k`` basis of B's top-k right singular subspace.

    >>> top_right_singular(np.diag([1.0, 3.0, 2.0]), 1).ravel().tolist()
    [0.0, 1.0, 0.0]
    """
    _, _, vt = np.linalg.svd(B, full_matrices=True)
    return np.ascontiguousarray(vt[:k].T)


class RowProjectionSketch(StreamingAlgorithm):
    """Base: ``B = S A`` with S's columns rebuilt from the state; answers the top-k right singular vectors.

    >>> from wbstream.engine.coins import Coins
    >>> p = LowRankApproximation(cols=8, k=2, eps=1.0)
    >>> [cls(p.params, Coins.from_seed(0, "doc")).size for cls in (GaussianProjection, CountSketchProjection)]
    [6, 8]
    """

    problem = LowRankApproximation
    arena_problem = ROW_ARENA_PROBLEM

    def __init__(self, params, coins, *, size: int = 0):
        super().__init__(params, coins)
        self.size = int(size) or self.default_size(params.k, params.eps)
        if self.size < params.k:
            raise ValueError(f"{self.name}: sketch size {self.size} must be >= k = {params.k}")
        self.B = np.zeros((self.size, params.cols), dtype=np.float64)
        self.row_count = 0

    @staticmethod
    def default_size(k: int, eps: float) -> int:
        raise NotImplementedError

    def update(self, indices, deltas):
        rows = np.asarray(deltas, dtype=np.float64).reshape(-1, self.params.cols)
        if not len(rows):
            return
        self.accumulate(rows, np.arange(self.row_count, self.row_count + len(rows)))
        self.row_count += len(rows)

    def accumulate(self, rows: np.ndarray, row_ids: np.ndarray) -> None:
        """``B += S[:, row_ids] @ rows``."""
        self.B += self.sketch_rows(self.params, self.state(), row_ids) @ rows

    def query(self):
        return RowProjection(top_right_singular(self.B, self.params.k))

    def key_state(self) -> dict:
        raise NotImplementedError

    def state(self):
        return {"B": self.B, "row_count": self.row_count, **self.key_state()}

    def space(self):
        key = sum(8 * len(v) if isinstance(v, bytes) else 31 * v.size
                  for v in self.key_state().values() if isinstance(v, (bytes, np.ndarray)))
        return Space(self.B.size * 64 + 64, key, nbytes_of(self.state()))

    @classmethod
    def sketch_rows(cls, params: Params, state: Mapping, rows: np.ndarray) -> np.ndarray:
        """Columns ``S[:, rows]`` (``size x len(rows)``) as a reader of the state rebuilds them."""
        raise NotImplementedError


@algorithms.register
class GaussianProjection(RowProjectionSketch):
    """Gaussian projection: S has i.i.d. N(0, 1/size) entries, column r from AES-CTR on a stored seed.

    >>> from wbstream.engine.coins import Coins
    >>> from wbstream.engine.stream import RowBatch
    >>> p = LowRankApproximation(cols=6, k=1, ell=3, eps=0.5, M=100)
    >>> alg = GaussianProjection(p.params, Coins.from_seed(0, "doc"))
    >>> rows = np.outer(np.arange(1.0, 9.0), [0, 0, 1.0, 0, 0, 0])
    >>> b = RowBatch(rows); alg.update(b.indices, b.deltas)
    >>> np.abs(alg.query().V.ravel()).round(6).tolist()
    [0.0, 0.0, 1.0, 0.0, 0.0, 0.0]
    """

    name = "gaussian-projection"

    computed_defaults = {"size": "max(2k + 2, ceil(3k / eps^2))"}
    claims = OBLIVIOUS
    guarantee = "projection cost within (1 + eps) OPT_k w.h.p. against oblivious streams only (S from a stored seed)"

    def __init__(self, params, coins, *, size: int = 0):
        super().__init__(params, coins, size=size)
        self.seed = coins.bytes("gaussian-projection/seed", 32)

    @staticmethod
    def default_size(k, eps):
        return max(2 * k + 2, math.ceil(3 * k / eps ** 2))

    def key_state(self):
        return {"seed": self.seed}

    @classmethod
    def sketch_rows(cls, params, state, rows):
        size = state["B"].shape[0]
        words = RandomOracleColumns(bytes(state["seed"]), 2 * size, 1 << 64,
                                    "gaussian-projection/columns").columns(np.asarray(rows, np.int64))
        u1 = ((words[:size] >> np.uint64(11)).astype(np.float64) + 0.5) * 2.0**-53
        u2 = (words[size:] >> np.uint64(11)).astype(np.float64) * 2.0**-53
        return np.sqrt(-2.0 * np.log(u1)) * np.cos(2 * np.pi * u2) / math.sqrt(size)


@algorithms.register
class CountSketchProjection(RowProjectionSketch):
    """CountSketch (Clarkson–Woodruff): row r goes, times a 4-wise independent sign, to a 4-wise hashed bucket.

    >>> from wbstream.engine.coins import Coins
    >>> from wbstream.engine.stream import RowBatch
    >>> p = LowRankApproximation(cols=6, k=1, ell=3, eps=0.5, M=100)
    >>> alg = CountSketchProjection(p.params, Coins.from_seed(0, "doc"))
    >>> S = alg.sketch_rows(alg.params, alg.state(), np.arange(5))
    >>> S.shape, np.abs(S).sum(axis=0).tolist()
    ((8, 5), [1.0, 1.0, 1.0, 1.0, 1.0])
    """

    name = "countsketch-projection"

    computed_defaults = {"size": "max(2k + 2, ceil(2k^2 / eps^2))"}
    claims = OBLIVIOUS
    guarantee = "projection cost within (1 + eps) OPT_k w.h.p. against oblivious streams only (hash keys in the state)"

    def __init__(self, params, coins, *, size: int = 0):
        super().__init__(params, coins, size=size)
        self.buckets = PolynomialHash.draw(coins, "countsketch-projection/buckets", rows=1, independence=4)
        self.signs = PolynomialHash.draw(coins, "countsketch-projection/signs", rows=1, independence=4)

    @staticmethod
    def default_size(k, eps):
        return max(2 * k + 2, math.ceil(2 * k * k / eps ** 2))

    def key_state(self):
        return {"bucket_coefficients": self.buckets.coefficients, "sign_coefficients": self.signs.coefficients}

    def accumulate(self, rows, row_ids):
        np.add.at(self.B, self.buckets.buckets(row_ids, self.size)[0], self.signs.signs(row_ids)[0][:, None] * rows)

    @classmethod
    def sketch_rows(cls, params, state, rows):
        size = state["B"].shape[0]
        rows = np.asarray(rows, np.int64)
        b = PolynomialHash(np.asarray(state["bucket_coefficients"])).buckets(rows, size)[0]
        s = PolynomialHash(np.asarray(state["sign_coefficients"])).signs(rows)[0]
        S = np.zeros((size, len(rows)), dtype=np.float64)
        S[b, np.arange(len(rows))] = s
        return S
