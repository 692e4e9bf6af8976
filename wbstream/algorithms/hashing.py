"""k-wise independent hashing by polynomials over the prime p = 2^31 - 1.

The coefficients are the whole key: they are drawn from Coins, kept in the
algorithm's state, and enough to rebuild every bucket and sign. Evaluation is
Horner's rule in uint64, exact because every product stays below 2^62.

>>> from wbstream.engine.coins import Coins
>>> h = PolynomialHash.draw(Coins.from_seed(0, "doc"), "h", rows=2, independence=2)
>>> h(np.arange(5)).shape
(2, 5)
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from wbstream.engine.coins import Coins

PRIME = (1 << 31) - 1
KEY_WORD_BITS = 31


@dataclass(frozen=True)
class PolynomialHash:
    """``rows`` independent hash functions, each a random polynomial of degree ``independence - 1``."""

    coefficients: np.ndarray  # (rows, independence), entries in [0, PRIME)

    @classmethod
    def draw(cls, coins: Coins, label: str, *, rows: int, independence: int) -> PolynomialHash:
        return cls(coins.integers(label, 0, PRIME, size=(rows, independence)).astype(np.uint64))

    @property
    def key_bits(self) -> int:
        return self.coefficients.size * KEY_WORD_BITS

    def __call__(self, keys: np.ndarray) -> np.ndarray:
        """Hash values in ``[0, PRIME)``, shape ``(rows, len(keys))``."""
        x = (np.asarray(keys, dtype=np.int64) % PRIME).astype(np.uint64)[None, :]
        coef = np.asarray(self.coefficients, dtype=np.uint64)
        p = np.uint64(PRIME)
        acc = np.repeat(coef[:, :1], x.shape[1], axis=1)
        for j in range(1, coef.shape[1]):
            acc = (acc * x + coef[:, j:j + 1]) % p
        return acc

    def buckets(self, keys: np.ndarray, width: int) -> np.ndarray:
        return (self(keys) % np.uint64(width)).astype(np.int64)

    def signs(self, keys: np.ndarray) -> np.ndarray:
        return 1 - 2 * (self(keys) & np.uint64(1)).astype(np.int64)


def bucket_matrix(buckets: np.ndarray, width: int, values: np.ndarray | int = 1) -> np.ndarray:
    """The matrix of a bucketed sketch on some columns: row ``r*width + buckets[r, j]`` of column j
    holds ``values[r, j]`` (1 for Count-Min, a sign for CountSketch).

    >>> bucket_matrix(np.array([[0, 1], [1, 1]]), 2).tolist()
    [[1, 0], [0, 1], [0, 0], [1, 1]]
    """
    rows, cols = buckets.shape
    S = np.zeros((rows * width, cols), dtype=np.int64)
    S[buckets + (np.arange(rows) * width)[:, None], np.arange(cols)[None, :]] = values
    return S
