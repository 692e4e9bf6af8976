"""Coins: the engine-owned, keyed PRG from which every algorithm draws.

Each draw names a label; each label is its own AES-256-CTR keystream (nonce from
the label), so draws under one label do not shift those under another. Every
draw is logged with the round it happened in. The log is what a white-box
adversary sees: all past coins. The key never appears in a view, so coins not
yet drawn stay unknown. A game keys its Coins from its game key
(:meth:`Coins.for_game`, see :mod:`wbstream.engine.keys`), which follows from a
secret; :meth:`Coins.from_seed` is for examples and benchmarks only, since anyone
who knows the seed knows every coin.

The log cannot be changed by its readers: it is a tuple of :class:`CoinDraw`
tuples whose ``values`` are rebuilt on each read from immutable bytes.

>>> coins = Coins.from_seed(7, "algorithm")
>>> a = coins.integers("hash", 0, 100, size=3)
>>> b = Coins.from_seed(7, "algorithm").integers("hash", 0, 100, size=3)
>>> bool((a == b).all()), len(coins.log)
(True, 1)
>>> coins.log[0].label, coins.log[0].round
('hash', 0)
"""

from __future__ import annotations

import hashlib
from typing import NamedTuple

import numpy as np
from Crypto.Cipher import AES

from .keys import derive


class CoinDraw(NamedTuple):
    """One logged draw: when, under which label, which keystream bytes, what values.

    A tuple, so no field can be reassigned; ``values`` is a fresh read-only view of
    immutable bytes on every read, so no reader can change what another reads.

    >>> d = CoinDraw.of(3, "h", 0, 16, np.array([5, 7]))
    >>> d.values.tolist(), d.values.flags.writeable
    ([5, 7], False)
    >>> d.values.flags.writeable = True
    Traceback (most recent call last):
    ...
    ValueError: cannot set WRITEABLE flag to True of this array
    """

    round: int
    label: str
    offset: int
    nbytes: int
    raw: bytes
    dtype: str
    shape: tuple

    @classmethod
    def of(cls, round: int, label: str, offset: int, nbytes: int, values: np.ndarray) -> CoinDraw:
        values = np.asarray(values)  # tobytes() is in C order, whatever the layout
        return cls(int(round), label, offset, nbytes, values.tobytes(), values.dtype.str, values.shape)

    @property
    def values(self) -> np.ndarray:
        return frozen_array(self.raw, self.dtype, self.shape)


def frozen_array(raw: bytes, dtype, shape) -> np.ndarray:
    """A read-only array over immutable bytes: it has no writable base, and ``writeable`` cannot be set."""
    return np.frombuffer(raw, dtype=dtype).reshape(shape)


class Coins:
    """Labelled AES-CTR randomness with a log of past draws.

    Each draw is logged with ``clock.round``. The clock is the Coins object itself
    (set ``round`` by hand) unless a game points it at its round counter.
    """

    __slots__ = ("__key", "_offsets", "_log", "round", "clock")

    def __init__(self, key: bytes):
        if len(key) != 32:
            raise ValueError("a Coins key is 32 bytes (AES-256)")
        self.__key = bytes(key)
        self._offsets: dict[str, int] = {}
        self._log: list[CoinDraw] = []
        self.round = 0
        self.clock = self

    @classmethod
    def for_game(cls, game_key: bytes) -> Coins:
        """The algorithm's coins in the game with this key (:func:`wbstream.engine.keys.game_key`)."""
        return cls(derive(game_key, "algorithm"))

    @classmethod
    def from_seed(cls, seed: int, purpose: str) -> Coins:
        """Coins keyed by SHA-256 of a seed and a purpose, for examples and benchmarks.

        Never for a game: anyone who knows the seed can rebuild every coin.
        """
        return cls(hashlib.sha256(f"wbstream/coins/{purpose}/{int(seed)}".encode()).digest())

    @classmethod
    def from_rng(cls, rng: np.random.Generator) -> Coins:
        """Coins keyed from someone else's generator (e.g. an adversary's simulation)."""
        return cls(rng.bytes(32))

    def __repr__(self) -> str:
        return f"Coins(<key hidden>, draws={len(self._log)})"

    def __deepcopy__(self, memo):
        raise TypeError("Coins are never copied: a copy would carry the key")

    def __reduce__(self):
        raise TypeError("Coins are never pickled: that would reveal the key")

    @property
    def log(self) -> tuple[CoinDraw, ...]:
        """Every draw so far, oldest first."""
        return tuple(self._log)

    # -- raw keystream -------------------------------------------------------
    def _keystream(self, label: str, nbytes: int) -> tuple[int, bytes]:
        offset = self._offsets.get(label, 0)
        first_block, skip = divmod(offset, 16)
        nonce = hashlib.sha256(label.encode()).digest()[:8]
        cipher = AES.new(self.__key, AES.MODE_CTR, nonce=nonce, initial_value=first_block)
        stream = cipher.encrypt(bytes(skip + nbytes))[skip:]
        self._offsets[label] = offset + nbytes
        return offset, stream

    def _record(self, label: str, offset: int, nbytes: int, values: np.ndarray) -> np.ndarray:
        self._log.append(CoinDraw.of(self.clock.round, label, offset, nbytes, values))
        return values

    def _words(self, label: str, count: int) -> tuple[int, np.ndarray]:
        offset, raw = self._keystream(label, 8 * count)
        return offset, np.frombuffer(raw, dtype="<u8").astype(np.uint64)

    # -- typed draws ---------------------------------------------------------
    def bytes(self, label: str, nbytes: int) -> bytes:
        offset, raw = self._keystream(label, nbytes)
        self._record(label, offset, nbytes, np.frombuffer(raw, dtype=np.uint8))
        return raw

    def words(self, label: str, size) -> np.ndarray:
        """Uniform uint64 words of the given shape."""
        count = int(np.prod(size))
        offset, w = self._words(label, count)
        return self._record(label, offset, 8 * count, w.reshape(size))

    def integers(self, label: str, low: int, high: int, size=None) -> np.ndarray | int:
        """Uniform integers in ``[low, high)``, exactly (rejection sampling)."""
        if high <= low:
            raise ValueError(f"empty range [{low}, {high})")
        if low < -2**63 or high > 2**63:
            raise ValueError(f"range [{low}, {high}) does not fit in int64")
        span = high - low
        if span > 2**63:
            raise ValueError("range wider than 2**63")
        shape = () if size is None else size
        count = int(np.prod(shape))
        mask = np.uint64((1 << max(span - 1, 1).bit_length()) - 1)
        start = self._offsets.get(label, 0)
        out = np.empty(0, dtype=np.uint64)
        while len(out) < count:
            need = count - len(out)
            _, w = self._words(label, need + need // 2 + 4)
            w &= mask
            out = np.concatenate([out, w[w < np.uint64(span)][:need]])
        values = (out.astype(np.int64) + low).reshape(shape)
        self._record(label, start, self._offsets[label] - start, values)
        return int(values) if size is None else values

    def random(self, label: str, size=None) -> np.ndarray | float:
        """Uniform floats in ``[0, 1)`` with 53 random bits each."""
        shape = () if size is None else size
        count = int(np.prod(shape))
        offset, w = self._words(label, count)
        values = ((w >> np.uint64(11)).astype(np.float64) * 2.0**-53).reshape(shape)
        self._record(label, offset, 8 * count, values)
        return float(values) if size is None else values

    def adopt(self, label: str, data: bytes) -> bytes:
        """Log randomness a library drew for itself, as a draw under ``label``; returns ``data``.

        For keys that cannot come from this keystream (TenSEAL generates its BFV keys
        from the OS and cannot be seeded): the generated secret is logged like any
        coin, so the white-box view still holds every past coin and can re-derive the
        key. Such a draw has ``offset = -1`` and is not replayable from the seed.

        >>> c = Coins.from_seed(0, "doc")
        >>> c.adopt("he/secret", b"key") == b"key", c.log[0].offset, bytes(c.log[0].values)
        (True, -1, b'key')
        """
        return bytes(self._record(label, -1, len(data), np.frombuffer(bytes(data), dtype=np.uint8)))

    # -- draws too large for RAM (wbstream.crypto.keycache) --------------------
    def fingerprint(self, label: str) -> str:
        """SHA-256 naming the next draw under ``label``: the label, its offset and the next 64 keystream bytes.

        Nothing is drawn or logged. Equal fingerprints mean the same keystream from here on.
        """
        offset = self._offsets.get(label, 0)
        _, head = self._keystream(label, 64)
        self._offsets[label] = offset
        return hashlib.sha256(f"{label}\0{offset}\0".encode() + head).hexdigest()

    def stream_words(self, label: str, count: int, block: int = 1 << 21):
        """Yield the next ``count`` words under ``label`` in blocks, unlogged: the caller logs them with :meth:`log_mapped`."""
        for start in range(0, count, block):
            yield self._words(label, min(block, count - start))[1]

    def skip(self, label: str, nbytes: int) -> int:
        """Advance ``label``'s keystream by ``nbytes`` without computing it (a cached draw); returns the old offset."""
        offset = self._offsets.get(label, 0)
        self._offsets[label] = offset + nbytes
        return offset

    def log_mapped(self, label: str, offset: int, raw, dtype: str, shape: tuple) -> np.ndarray:
        """Log a draw whose bytes live in a read-only buffer (a memory-mapped file): nothing is copied.

        The logged values are a read-only view of ``raw``; ``raw`` must not be writable.
        """
        if not memoryview(raw).readonly:
            raise ValueError("a mapped draw must be read-only")
        nbytes = int(np.prod(shape)) * np.dtype(dtype).itemsize
        draw = CoinDraw(int(self.clock.round), label, int(offset), nbytes, raw, np.dtype(dtype).str, tuple(shape))
        self._log.append(draw)
        return draw.values

    def signs(self, label: str, size) -> np.ndarray:
        """Uniform ±1 as int64."""
        count = int(np.prod(size))
        offset, w = self._words(label, count)
        values = (1 - 2 * (w & np.uint64(1)).astype(np.int64)).reshape(size)
        return self._record(label, offset, 8 * count, values)


class DetachedCoins:
    """The coins of a detached copy of an algorithm: the past log, read-only, and no key.

    Any draw raises :class:`DetachedCoinsError`: a detached copy must be given the
    adversary's own coins (``attach_coins``) before it can draw. It pickles (there is
    no secret in it), so a copy can travel to an isolated adversary.

    >>> real = Coins.from_seed(1, "doc"); _ = real.integers("h", 0, 9, size=2)
    >>> d = DetachedCoins(real.log)
    >>> len(d.log), d.log[0].label
    (1, 'h')
    >>> d.integers("h", 0, 9)
    Traceback (most recent call last):
    ...
    wbstream.engine.errors.DetachedCoinsError: a detached copy has no coins (drawing 'h'): attach the adversary's own with attach_coins(Coins.from_rng(rng))
    """

    __slots__ = ("_log", "round", "clock")

    def __init__(self, log=()):
        self._log = tuple(log)  # draws hold immutable bytes: shared, never written
        self.round = 0
        self.clock = self

    def __repr__(self) -> str:
        return f"DetachedCoins(draws={len(self._log)})"

    def __reduce__(self):
        return (DetachedCoins, (self._log,))

    def __deepcopy__(self, memo):
        return DetachedCoins(self._log)  # the draws are immutable: shared, not copied

    @property
    def log(self) -> tuple[CoinDraw, ...]:
        """The draws of the algorithm this copy was detached from, up to the moment of the copy."""
        return self._log

    def _refuse(self, label, *args, **kwargs):
        from .errors import DetachedCoinsError

        raise DetachedCoinsError(f"a detached copy has no coins (drawing {label!r}): attach the adversary's "
                                 f"own with attach_coins(Coins.from_rng(rng))")

    bytes = words = integers = random = adopt = signs = _refuse

