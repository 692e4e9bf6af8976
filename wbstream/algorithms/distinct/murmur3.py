"""MurmurHash3_x64_128 of 64-bit integer keys, batched in numpy.

Apache DataSketches hashes an integer item as the 8 little-endian bytes of an
``int64`` with MurmurHash3_x64_128 and a public seed (9001 by default). A
white-box adversary recomputes that hash for millions of candidate items, so it
is written here once, vectorised; ``mmh3`` (one item per call) is the reference
the tests check it against.

>>> h1, h2 = murmur3_int64(np.array([0, 1, -1]), seed=9001)
>>> [hex(int(v)) for v in h1[:2]]
['0x40890191dcc2d7cb', '0xb430d7b96fbf22b']
"""

from __future__ import annotations

import numpy as np

DEFAULT_SEED = 9001

from .hashing64 import fmix64

_C1 = np.uint64(0x87C37B91114253D5)
_C2 = np.uint64(0x4CF5AD432745937F)


def _rotl(x: np.ndarray, r: int) -> np.ndarray:
    return (x << np.uint64(r)) | (x >> np.uint64(64 - r))


def murmur3_int64(items: np.ndarray, seed: int = DEFAULT_SEED) -> tuple[np.ndarray, np.ndarray]:
    """The two 64-bit halves ``(h1, h2)`` of MurmurHash3_x64_128 of each int64 item's 8 bytes."""
    with np.errstate(over="ignore"):
        k1 = np.asarray(items, dtype=np.int64).astype("<i8").view(np.uint64)
        k1 = _rotl(k1 * _C1, 31) * _C2          # an 8-byte key is all tail: only k1 is mixed
        h1 = np.full(k1.shape, seed, dtype=np.uint64) ^ k1
        h2 = np.full(k1.shape, seed, dtype=np.uint64)
        h1 ^= np.uint64(8)                       # the key length
        h2 ^= np.uint64(8)
        h1 += h2
        h2 += h1
        h1, h2 = fmix64(h1), fmix64(h2)
        h1 += h2
        h2 += h1
    return h1, h2
