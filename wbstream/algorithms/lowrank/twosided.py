"""NEGATIVE CONTROL: the naive relaxed rank-k recovery from two one-sided sketches.

The state is ``W = S X``, ``Y = X T`` and ``Z = S X T`` mod p, with public
Vandermonde matrices ``S[i, r] = (r + 1)^i`` (2k x rows) and ``T[c, i] = (c + 1)^i``
(cols x 2k). When ``rank(Z) = rank(X)`` the decoder returns ``X = Y Z^+ W``
(through an r x r non-singular block of Z). It is **not** a for-all recovery
(docs/references.md#fjw24): a rank-one ``X = u v^T`` with ``S u = 0`` and ``T^T v = 0`` (e.g. u, v
finite differences of order 2k) has ``W = Y = Z = 0``, and the decoder returns the
zero matrix. Behind a tester that is a completeness failure: ``NOT_LOW_RANK`` on a
rank-one matrix. It is registered as ``naive-rank`` to show exactly that.
"""

from __future__ import annotations

import numpy as np

from wbstream.algorithms.sparse.vandermonde import vandermonde_columns
from wbstream.linalg.fp import row_echelon
from wbstream.engine.matrix_problems import check_matrix_shape

from .field import field_prime
from .gabidulin import UPDATE_CHUNK

#: Products of residues are below 2^52; this many summed stay below 2^63.
_MATMUL_CHUNK = 1 << 11


class TwoSidedSketch:
    """``S X``, ``X T`` and ``S X T`` mod p, and the decoder ``Y Z^+ W`` (not for-all).

    >>> dec = TwoSidedSketch(rows=6, cols=6, k=1, M=100)
    >>> X = np.outer([1, 2, 0, 0, 1, 3], [1, 0, 2, 0, 0, 1])
    >>> idx = np.flatnonzero(X); dec.update(idx, X.ravel()[idx])
    >>> bool((dec.decode() == X).all())
    True
    >>> u = v = np.array([1, -2, 1, 0, 0, 0])                  # S u = 0 and T^T v = 0 for k = 1
    >>> hidden = TwoSidedSketch(rows=6, cols=6, k=1, M=100)
    >>> Xu = np.outer(u, v); idx = np.flatnonzero(Xu); hidden.update(idx, Xu.ravel()[idx])
    >>> int(np.abs(hidden.decode()).max())                    # the zero matrix, for a rank-one X
    0
    """

    def __init__(self, rows: int, cols: int, k: int, M: int, p: int = 0):
        check_matrix_shape(rows, cols, k)
        self.rows, self.cols, self.k, self.M = int(rows), int(cols), int(k), int(M)
        self.p = int(p) or field_prime(1, max(2 * self.M, self.rows, self.cols))
        if self.p <= max(2 * self.M, self.rows, self.cols):
            raise ValueError(f"p = {self.p} must exceed 2M = {2 * self.M}, rows and cols")
        t = 2 * self.k
        self.S = vandermonde_columns(np.arange(self.rows), t, self.p)      # t x rows
        self.Tt = vandermonde_columns(np.arange(self.cols), t, self.p)     # t x cols (T transposed)
        self.W = np.zeros((t, self.cols), dtype=np.int64)
        self.Y = np.zeros((self.rows, t), dtype=np.int64)
        self.Z = np.zeros((t, t), dtype=np.int64)

    def _bincount(self, flat, values, size):
        return np.bincount(flat.ravel(), weights=values.ravel(), minlength=size).astype(np.int64)

    def update(self, indices, deltas) -> None:
        t, p = 2 * self.k, self.p
        for start in range(0, len(indices), UPDATE_CHUNK):
            r, c = np.divmod(np.asarray(indices[start:start + UPDATE_CHUNK], np.int64), self.cols)
            d = np.asarray(deltas[start:start + UPDATE_CHUNK], np.int64) % p
            Sd = self.S[:, r] * d[None, :] % p                             # t x b
            Tc = self.Tt[:, c]                                             # t x b
            lanes = np.arange(t, dtype=np.int64)[:, None]
            self.W = (self.W + self._bincount(lanes * self.cols + c[None, :], Sd, self.W.size)
                      .reshape(self.W.shape)) % p
            Td = Tc * d[None, :] % p
            self.Y = (self.Y + self._bincount(r[None, :] * t + lanes, Td, self.Y.size).reshape(self.Y.shape)) % p
            for a in range(0, len(d), _MATMUL_CHUNK):
                self.Z = (self.Z + Sd[:, a:a + _MATMUL_CHUNK] @ Tc[:, a:a + _MATMUL_CHUNK].T) % p

    def columns(self, indices) -> np.ndarray:
        """The sketch matrix on entries ``indices``: rows are vec(W), vec(Y), vec(Z)."""
        r, c = np.divmod(np.asarray(indices, np.int64), self.cols)
        t, b = 2 * self.k, len(r)
        W = np.zeros((t, self.cols, b), dtype=np.int64)
        W[:, c, np.arange(b)] = self.S[:, r]
        Y = np.zeros((self.rows, t, b), dtype=np.int64)
        Y[r, :, np.arange(b)] = self.Tt[:, c].T
        Z = self.S[:, r][:, None, :] * self.Tt[:, c][None, :, :] % self.p
        return np.concatenate([W.reshape(-1, b), Y.reshape(-1, b), Z.reshape(-1, b)])

    def decode(self) -> np.ndarray | None:
        """``Y Z^+ W`` lifted to [-M, M] if it re-encodes to the state, else None."""
        p = self.p
        _, cols_J = row_echelon(self.Z, p)
        _, rows_I = row_echelon(self.Z.T, p)
        r = len(cols_J)
        if r == 0:
            X = np.zeros((self.rows, self.cols), dtype=np.int64)
        else:
            block = self.Z[np.ix_(rows_I, cols_J)]
            inv = row_echelon(np.hstack([block, np.eye(r, dtype=np.int64)]), p)[0][:, r:]
            X = ((self.Y[:, cols_J] @ inv) % p @ self.W[rows_I]) % p
            X = np.where(X > p // 2, X - p, X)
        if np.abs(X).max() > self.M:
            return None
        check = TwoSidedSketch(self.rows, self.cols, self.k, self.M, p)
        idx = np.flatnonzero(X)
        check.update(idx, X.ravel()[idx])
        if not (np.array_equal(check.W, self.W) and np.array_equal(check.Y, self.Y)
                and np.array_equal(check.Z, self.Z)):
            return None
        return X

    def state_bits(self) -> int:
        return (self.W.size + self.Y.size + self.Z.size) * max(1, (self.p - 1).bit_length())
