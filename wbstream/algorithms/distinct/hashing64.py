"""A keyed 64-bit hash for batched numpy use (splitmix64 / murmur fmix64 finaliser).

``h(x) = fmix64(fmix64((x XOR k1) + k2) XOR k1)`` in uint64 wrap-around
arithmetic, where ``k1 = key`` and ``k2`` is derived from the key by one
splitmix64 step. For a fixed key it is a bijection of the 64-bit words, so
distinct items never collide. It is a *mixer*, not a PRF: anyone who knows the
key (a white-box adversary reads it from the state) can evaluate it, and
search items by their hash, as fast as the algorithm can.

>>> h = KeyedHash64(12345)
>>> v = h(np.arange(4, dtype=np.int64))
>>> v.dtype, v.shape, len(set(v.tolist()))
(dtype('uint64'), (4,), 4)
>>> bool((KeyedHash64(12345)(np.arange(4)) == v).all()), bool((KeyedHash64(1)(np.arange(4)) == v).any())
(True, False)
>>> from wbstream.engine.coins import Coins
>>> KeyedHash64.draw_key(Coins.from_seed(0, "doc"), "key") == KeyedHash64.draw_key(Coins.from_seed(0, "doc"), "key")
True
"""

from __future__ import annotations

import numpy as np

_C1 = np.uint64(0xFF51AFD7ED558CCD)
_C2 = np.uint64(0xC4CEB9FE1A85EC53)
_GAMMA = 0x9E3779B97F4A7C15
_MASK = (1 << 64) - 1
KEY_BITS = 64


def fmix64(z: np.ndarray) -> np.ndarray:
    """MurmurHash3's 64-bit finaliser on a uint64 array (a bijection)."""
    z = z ^ (z >> np.uint64(33))
    z = z * _C1
    z = z ^ (z >> np.uint64(33))
    z = z * _C2
    return z ^ (z >> np.uint64(33))


def _splitmix64(x: int) -> int:
    """One splitmix64 output for a Python int (exact, no numpy overflow warnings)."""
    z = (x + _GAMMA) & _MASK
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & _MASK
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & _MASK
    return z ^ (z >> 31)


class KeyedHash64:
    """``items (int64) -> uint64`` under a 64-bit key; fully vectorised."""

    __slots__ = ("key", "_k1", "_k2")

    def __init__(self, key: int):
        key = int(key)
        if not 0 <= key <= _MASK:
            raise ValueError(f"a KeyedHash64 key is a 64-bit unsigned integer, got {key}")
        self.key = key
        self._k1 = np.uint64(key)
        self._k2 = np.uint64(_splitmix64(key))

    @staticmethod
    def draw_key(coins, label: str) -> int:
        """A fresh 64-bit key from the engine coins. The caller keeps it in its state."""
        return int(coins.words(label, (1,))[0])

    def __call__(self, items) -> np.ndarray:
        x = np.asarray(items, dtype=np.int64)
        flat = np.ascontiguousarray(x).reshape(-1).view(np.uint64)
        z = fmix64((flat ^ self._k1) + self._k2)
        z = fmix64(z ^ self._k1)
        return z.reshape(x.shape)

    def __repr__(self) -> str:
        return f"KeyedHash64(key={self.key:#018x})"
