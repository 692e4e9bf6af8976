"""A public random matrix with random access to its columns (AES-256-CTR).

FW'23 needs a ``rows × n`` matrix whose columns look independent and uniform
but cannot afford to store it; it reads column ``i`` from a random oracle. Here
the oracle is AES-256 in counter mode keyed by SHA-256 of a public seed: the
*random-oracle heuristic* of FW'23, labelled as such. It is not a proof: nothing
reduces its security to AES.

Column ``i`` is the keystream from counter block ``i * blocks_per_column``, so
any set of columns is one AES-ECB call over the counter blocks (ECB over counter
blocks is the CTR keystream, with random access).

>>> ro = RandomOracleColumns(b"public seed", rows=3, modulus=2**64)
>>> ro.columns(np.array([5, 0])).shape
(3, 2)
"""

from __future__ import annotations

import hashlib

import numpy as np
from Crypto.Cipher import AES

Q64 = 1 << 64


class RandomOracleColumns:
    """Columns of a public ``rows × n`` matrix, uniform mod ``modulus`` (random-oracle heuristic).

    For ``modulus = 2^64`` an entry is a raw 64-bit keystream word. Otherwise it
    is that word reduced mod ``modulus``: exactly uniform when ``modulus`` is a
    power of two, else at statistical distance at most ``modulus / 2^64`` from
    uniform per entry (e.g. ``2^-33`` for a 31-bit prime).

    >>> ro = RandomOracleColumns(b"seed", rows=4, modulus=2**31 - 1)
    >>> a = ro.columns(np.array([3, 9, 1]))
    >>> bool((a == RandomOracleColumns(b"seed", 4, 2**31 - 1).columns(np.array([3, 9, 1]))).all())
    True
    >>> bool((ro.columns(np.array([9]))[:, 0] == a[:, 1]).all()), bool((a < 2**31 - 1).all())
    (True, True)
    """

    __slots__ = ("_seed", "_rows", "_modulus", "_label", "_nonce", "_cipher", "_blocks")

    def __init__(self, seed: bytes, rows: int, modulus: int, label: str = "fw23/columns"):
        if not isinstance(seed, (bytes, bytearray)):
            raise ValueError(f"seed must be bytes, got {type(seed).__name__}")
        if not isinstance(rows, (int, np.integer)) or rows < 1:
            raise ValueError(f"rows must be an integer >= 1, got {rows!r}")
        if not 2 <= modulus <= Q64:
            raise ValueError(f"modulus must be in [2, 2^64], got {modulus}")
        self._seed = bytes(seed)
        self._rows = int(rows)
        self._modulus = int(modulus)
        self._label = str(label)
        nonce = hashlib.sha256(self._label.encode()).digest()[:8]
        self._nonce = np.frombuffer(nonce, dtype=np.uint8)
        self._cipher = AES.new(hashlib.sha256(self._seed).digest(), AES.MODE_ECB)
        self._blocks = (self._rows + 1) // 2  # two 64-bit words per AES block

    def __reduce__(self):  # the AES object does not copy or pickle: rebuild it from the seed
        return (RandomOracleColumns, (self._seed, self._rows, self._modulus, self._label))

    seed = property(lambda self: self._seed, doc="The public seed.")
    rows = property(lambda self: self._rows, doc="Entries per column.")
    modulus = property(lambda self: self._modulus, doc="Entries are uniform mod this.")
    label = property(lambda self: self._label, doc="Domain separation (the CTR nonce).")
    blocks_per_column = property(lambda self: self._blocks, doc="AES blocks per column.")

    def __repr__(self) -> str:
        return (f"RandomOracleColumns(rows={self._rows}, modulus={self._modulus}, "
                f"label={self._label!r})")

    def columns(self, indices: np.ndarray) -> np.ndarray:
        """``uint64`` ``(rows, len(indices))``: column ``b`` is column ``indices[b]``."""
        idx = np.asarray(indices)
        if idx.ndim != 1 or not (np.issubdtype(idx.dtype, np.integer) or idx.size == 0):
            raise ValueError(f"indices must be a 1-D integer array, got {idx.ndim}-D {idx.dtype}")
        if idx.size and (idx.min() < 0 or int(idx.max()) >= Q64 // self._blocks):
            raise ValueError(f"indices must lie in [0, {Q64 // self._blocks}), "
                             f"got [{idx.min()}, {idx.max()}]")
        bpc = self._blocks
        counters = (idx.astype(np.uint64)[:, None] * np.uint64(bpc)
                    + np.arange(bpc, dtype=np.uint64)[None, :]).ravel()
        blocks = np.empty((counters.size, 16), dtype=np.uint8)
        blocks[:, :8] = self._nonce
        blocks[:, 8:] = counters.astype(">u8").view(np.uint8).reshape(-1, 8)
        stream = self._cipher.encrypt(blocks.tobytes())
        words = np.frombuffer(stream, dtype="<u8").reshape(idx.size, 2 * bpc)[:, :self._rows]
        out = words.T.astype(np.uint64)
        if self._modulus < Q64:
            out %= np.uint64(self._modulus)
        return out
