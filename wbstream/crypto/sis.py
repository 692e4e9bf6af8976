"""The SIS hash of FW'23: ``h(x) = A x mod q`` with random-oracle columns.

``A`` is ``rows × n``; column ``i`` is read from :class:`RandomOracleColumns`
(the random-oracle heuristic). A collision ``A x = A x' (mod q)`` between two
bounded vectors is a short SIS solution ``A (x - x') = 0``. The hash is linear,
so a stream maintains it with ``h += delta * a_i``.

Arithmetic is exact for every modulus in ``[2, 2^64]``:

- ``q = 2^64``: ``uint64`` wrap-around, values taken in two's complement;
- ``q <= 2^32``: ``uint64`` with each product reduced mod ``q`` (batches of at
  most ``2^32`` updates, far beyond any real batch);
- ``2^32 < q < 2^64``: Python integers (object arrays), exact but slower.

>>> sis = SisHash(rows=4, modulus=2**64, seed=b"public")
>>> h = sis.add(sis.zero(), np.array([7, 2]), np.array([3, -1]))
>>> bool((h == sis.hash_of(np.array([2, 7]), np.array([-1, 3]))).all())
True
"""

from __future__ import annotations

import numpy as np

from wbstream.crypto.prg import RandomOracleColumns

Q64 = 1 << 64
SMALL_MODULUS = 1 << 32


class SisHash:
    """The SIS tester of FW'23: ``rows`` random-oracle columns mod ``modulus``.

    >>> sis = SisHash(rows=3, modulus=2**31 - 1, seed=b"s")
    >>> x, y = np.array([1, -2]), np.array([5, 4])
    >>> idx = np.array([10, 11])
    >>> lhs = sis.add(sis.hash_of(idx, x), idx, y)
    >>> bool((lhs == sis.hash_of(idx, x + y)).all()), lhs.dtype
    (True, dtype('uint64'))
    """

    __slots__ = ("rows", "modulus", "oracle")

    def __init__(self, rows: int, modulus: int, seed: bytes):
        if not isinstance(rows, (int, np.integer)) or rows < 1:
            raise ValueError(f"rows must be an integer >= 1, got {rows!r}")
        if not isinstance(modulus, (int, np.integer)) or not 2 <= modulus <= Q64:
            raise ValueError(f"modulus must be an integer in [2, 2^64], got {modulus!r}")
        self.rows = int(rows)
        self.modulus = int(modulus)
        self.oracle = RandomOracleColumns(seed, self.rows, self.modulus)

    def __repr__(self) -> str:
        return f"SisHash(rows={self.rows}, modulus={self.modulus})"

    @property
    def state_bits(self) -> int:
        """Bits of one hash value."""
        return self.rows * (self.modulus - 1).bit_length()

    def zero(self) -> np.ndarray:
        """The hash of the zero vector."""
        return np.zeros(self.rows, dtype=np.uint64)

    def _residues(self, values: np.ndarray) -> np.ndarray:
        v = np.asarray(values)
        if not np.issubdtype(v.dtype, np.integer):
            raise ValueError(f"values must be integers, got dtype {v.dtype}")
        q = self.modulus
        signed = np.issubdtype(v.dtype, np.signedinteger)
        if q == Q64:
            return v.astype(np.int64).view(np.uint64) if signed else v.astype(np.uint64)
        if q <= SMALL_MODULUS:
            return (np.mod(v.astype(np.int64), q) if signed else v % np.uint64(q)).astype(np.uint64)
        return v.astype(object) % q

    def hash_of(self, indices: np.ndarray, values: np.ndarray) -> np.ndarray:
        """``A[:, indices] @ values mod modulus``, ``uint64`` ``(rows,)``."""
        idx = np.asarray(indices)
        v = np.asarray(values)
        if idx.ndim != 1 or v.shape != idx.shape:
            raise ValueError(f"indices and values must be 1-D of the same length, "
                             f"got shapes {idx.shape} and {v.shape}")
        if idx.size == 0:
            return self.zero()
        cols = self.oracle.columns(idx)
        r = self._residues(v)
        q = self.modulus
        if q == Q64:
            return cols @ r  # uint64 matmul wraps mod 2^64
        if q <= SMALL_MODULUS:
            return (cols * r[None, :] % np.uint64(q)).sum(axis=1, dtype=np.uint64) % np.uint64(q)
        return (np.asarray(cols.astype(object) @ r, dtype=object) % q).astype(np.uint64)

    def add(self, h: np.ndarray, indices: np.ndarray, deltas: np.ndarray) -> np.ndarray:
        """The running hash after the updates ``x[indices] += deltas`` (a new array)."""
        h = np.asarray(h)
        if h.dtype != np.uint64 or h.shape != (self.rows,):
            raise ValueError(f"h must be uint64 of shape ({self.rows},), got {h.dtype} {h.shape}")
        d = self.hash_of(indices, deltas)
        if self.modulus == Q64:
            return h + d
        q = np.uint64(self.modulus)
        if (h >= q).any():
            raise ValueError(f"h has entries >= modulus {self.modulus}")
        s = h + d  # h, d < q, so one subtraction of q reduces; the wrap flags s >= 2^64
        return np.where((s < h) | (s >= q), s - q, s)
