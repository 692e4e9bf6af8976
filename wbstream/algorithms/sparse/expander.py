"""Deterministic relaxed k-sparse recovery on a lossless expander: polylog update, no scan of n.

Each of the m buckets of a fixed public graph (:mod:`.expander_graph`, left degree D)
keeps two sums mod a prime p, over the indices i it is adjacent to:

    s0[b] = sum x_i,    s1[b] = sum i * x_i     (mod p).

An update touches its D buckets, whatever k is. The decoder is the voting rule of
Xu–Hassibi and Jafarpour et al. (docs/references.md#xu-hassibi): give index i the
value v when at least ``(D + 1) / 2`` of its neighbours carry the residual s0 gap v,
and repeat. Candidates come from the buckets alone: a bucket holding one index of
the residual names it, ``i = s1 / s0 mod p``. What is proven (docs/sparse-recovery.md):
if the graph is a (2k, (D - 1)/(4D)) lossless expander, the decoder returns x for
*every* k-sparse x, in at most kD steps (each step removes at least one non-zero
s0 gap, and the residual never reaches 2k non-zeros). When x is not k-sparse it
returns ``None`` or some vector with the same sums, which the tester must catch.
The graph is an expander except with probability <= 2^-40 over its one public draw.

All arithmetic is in int64 with ``p < 2^31``, as for :class:`~.vandermonde.SyndromeDecoder`.
"""

from __future__ import annotations

import operator

import numpy as np

from wbstream.algorithms.sparse.expander_graph import DEFAULT_DEGREE, GraphShape, failure_log2, graph_shape
from wbstream.crypto.modular import is_prime
from wbstream.engine.answers import SparseVector

__all__ = ["ExpanderDecoder", "expander_columns"]

_P_LIMIT = 1 << 31
#: Updates hashed at once (bounds the temporary B x D bucket matrix).
_UPDATE_CHUNK = 1 << 16


def _inverse_mod(a: np.ndarray, p: int) -> np.ndarray:
    """Elementwise ``a^(p-2) mod p`` (a non-zero residues, p prime < 2^31): products stay < 2^62."""
    if len(a) < 256:  # Python's pow beats 31 rounds of numpy calls on short arrays
        return np.array([pow(int(v), -1, p) for v in a], dtype=np.int64)
    result = np.ones_like(a)
    base = a % p
    e = p - 2
    while e:
        if e & 1:
            result = result * base % p
        base = base * base % p
        e >>= 1
    return result


def expander_columns(shape: GraphShape, indices, p: int) -> np.ndarray:
    """The ``2m x len(indices)`` measurement matrix on ``indices``: rows 0..m-1 count x_i once
    in each neighbour bucket, rows m..2m-1 weigh it by ``i mod p``.

    >>> expander_columns(GraphShape(1, 3, float("-inf")), [0, 2], 7)
    array([[1, 0],
           [0, 0],
           [0, 1],
           [0, 0],
           [0, 0],
           [0, 2]])
    """
    idx = np.asarray(indices, dtype=np.int64).reshape(-1)
    m = shape.buckets
    out = np.zeros((2 * m, len(idx)), dtype=np.int64)
    nb = shape.neighbours(idx)
    cols = np.repeat(np.arange(len(idx)), nb.shape[1])
    out[nb.ravel(), cols] = 1
    out[m + nb.ravel(), cols] = np.repeat(idx % p, nb.shape[1])
    return out


class ExpanderDecoder:
    """Bucket sums on a public lossless expander, and the voting decoder exact on k-sparse x.

    Same contract as :class:`~.vandermonde.SyndromeDecoder` (``update``, ``decode``,
    ``columns``, ``copy``) with the same checks on p; ``degree`` and ``width`` override
    the graph (by default the smallest width meeting the 2^-40 bound at degree 33,
    or the identity when that needs n buckets or more).

    >>> dec = ExpanderDecoder(n=1 << 20, k=3, M=100, p=(1 << 31) - 1)
    >>> dec.shape.degree, dec.shape.buckets
    (33, 15180)
    >>> dec.update(np.array([5, 999_999, 5]), np.array([40, -7, 2]))
    >>> dec.decode()
    SparseVector(indices=[5, 999999], values=[42, -7])
    >>> dec.update(np.arange(100, 140), np.ones(40, dtype=np.int64))   # 42 non-zeros
    >>> dec.decode() is None
    True
    """

    def __init__(self, n: int, k: int, M: int, p: int, *, degree: int = DEFAULT_DEGREE, width: int = 0):
        n, k, M, p = (operator.index(v) for v in (n, k, M, p))
        degree, width = operator.index(degree), operator.index(width)
        if n < 1 or k < 1 or M < 1:
            raise ValueError(f"expander: n, k and M must be >= 1, got n = {n}, k = {k}, M = {M}")
        if not (is_prime(p) and max(n, 2 * M) < p < _P_LIMIT):
            raise ValueError(f"expander: p = {p} must be a prime with max(n, 2M) = {max(n, 2 * M)} < p < 2^31 "
                             f"(indices named mod p, centred values, int64 products)")
        if width < 0:
            raise ValueError(f"expander: width must be >= 0 (0: from the 2^-40 bound), got {width}")
        if width:
            if degree < 1 or degree % 2 == 0:
                raise ValueError(f"expander: degree must be odd and >= 1, got {degree}")
            self.shape = GraphShape(degree, width, failure_log2(n, 2 * k, degree, degree * width))
        else:
            self.shape = graph_shape(n, k, degree)
        self.n, self.k, self.M, self.p = n, k, M, p
        self.rows = 2 * self.shape.buckets
        self.s = np.zeros((2, self.shape.buckets), dtype=np.int64)

    def copy(self) -> ExpanderDecoder:
        twin = object.__new__(ExpanderDecoder)
        twin.__dict__.update(self.__dict__)
        twin.s = self.s.copy()
        return twin

    def columns(self, indices) -> np.ndarray:
        """The measurement matrix on ``indices`` (:func:`expander_columns`), int64 mod p."""
        return expander_columns(self.shape, indices, self.p)

    def _accumulate(self, out: np.ndarray, indices, deltas) -> None:
        indices = np.asarray(indices, dtype=np.int64).reshape(-1)
        deltas = np.asarray(deltas, dtype=np.int64).reshape(-1)
        p, m, D = self.p, self.shape.buckets, self.shape.degree
        flat = out.reshape(-1)
        for start in range(0, len(indices), _UPDATE_CHUNK):
            idx = indices[start:start + _UPDATE_CHUNK]
            v0 = deltas[start:start + _UPDATE_CHUNK] % p
            v1 = v0 * (idx % p) % p
            nb = self.shape.neighbours(idx).ravel()
            where = np.concatenate([nb, nb + m])
            # a chunk adds < 2^16 * D residues < 2^31 to a bucket: < 2^63 for D < 2^16
            np.add.at(flat, where, np.concatenate([np.repeat(v0, D), np.repeat(v1, D)]))
            flat[where] %= p

    def update(self, indices, deltas) -> None:
        """Add a batch ``x[indices] += deltas``: D buckets per update."""
        self._accumulate(self.s, indices, deltas)

    def sums_of(self, indices, values) -> np.ndarray:
        """The ``2 x m`` bucket sums of the vector with ``values`` at ``indices``."""
        out = np.zeros_like(self.s)
        self._accumulate(out, indices, values)
        return out

    def _candidates(self, g0: np.ndarray, g1: np.ndarray):
        """(index, value) named by the buckets with a non-zero s0 gap, de-duplicated, or None."""
        p, shape = self.p, self.shape
        nz = np.flatnonzero(g0)
        if len(nz) == 0:
            return None
        v = g0[nz]
        cand = g1[nz] * _inverse_mod(v, p) % p
        ok = cand < self.n
        ok[ok] = shape.neighbour_in_block(cand[ok], nz[ok] // shape.width) == nz[ok]
        key = np.unique(cand[ok] * p + v[ok])  # < 2^62
        return key // p, key % p

    def decode(self) -> SparseVector | None:
        """x if it is k-sparse; otherwise ``None`` or some vector with the same bucket sums."""
        p, tau, k = self.p, self.shape.threshold, self.k
        g0, g1 = self.s[0].copy(), self.s[1].copy()
        found_idx, found_val = [], []
        budget = k * self.shape.degree  # the proof's bound on steps for a k-sparse x
        while g0.any():
            named = self._candidates(g0, g1)
            if named is None or len(named[0]) == 0:
                return None
            cand, val = named
            nb = self.shape.neighbours(cand)
            votes = (g0[nb] == val[:, None]).sum(axis=1) >= tau
            cand, val, nb = cand[votes], val[votes], nb[votes]
            if len(cand) == 0:
                return None
            # candidates whose buckets no other candidate touches commute: apply them at once
            free = (np.bincount(nb.ravel(), minlength=self.shape.buckets)[nb] == 1).all(axis=1)
            steps = int(free.sum())
            if steps:
                rows, v = nb[free], val[free][:, None]
                g0[rows] = (g0[rows] - v) % p
                g1[rows] = (g1[rows] - v * cand[free][:, None] % p) % p
                found_idx.append(cand[free])
                found_val.append(val[free])
            for i, v, row in zip(cand[~free].tolist(), val[~free].tolist(), nb[~free]):
                if (g0[row] == v).sum() >= tau:  # re-check: an earlier step may have changed the gaps
                    g0[row] = (g0[row] - v) % p
                    g1[row] = (g1[row] - v * i % p) % p
                    found_idx.append(np.array([i]))
                    found_val.append(np.array([v]))
                    steps += 1
            budget -= steps
            if budget < 0:
                return None
        if g1.any():
            return None
        if not found_idx:
            return SparseVector([], [])
        idx, inverse = np.unique(np.concatenate(found_idx), return_inverse=True)
        total = np.zeros(len(idx), dtype=np.int64)
        np.add.at(total, inverse, np.concatenate(found_val))
        total %= p
        values = np.where(total > p // 2, total - p, total)
        keep = values != 0
        idx, values = idx[keep], values[keep]
        if len(idx) > k or np.abs(values).max(initial=0) > self.M:
            return None
        return SparseVector(idx, values)
