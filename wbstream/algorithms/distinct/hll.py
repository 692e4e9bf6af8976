"""HyperLogLog (Flajolet, Fusy, Gandouet, Meunier 2007) on a keyed 64-bit hash.

The register index is the top ``p`` bits of the hash; ``rho`` is the number of
leading zeros of the remaining ``64 - p`` bits plus one. The estimate is the
raw ``alpha_m m^2 / sum 2^-M[j]`` with linear counting ``m ln(m / V)`` in the
small range (``E <= 5m/2`` and ``V`` empty registers). With a 64-bit hash the
paper's large-range correction (for 32-bit hashes) is not needed and is left out.

The key is drawn from the engine coins and kept in the state; a reader of it
can pick items by bucket and rho (``paterson-raynal-2022``). HLL sees only
which indices arrive, so it refuses turnstile problems.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np

from wbstream.algorithms.distinct import KeyedF0Sketch, chunks
from wbstream.algorithms.distinct.hashing64 import KEY_BITS
from wbstream.engine.algorithm import MAX, Space, nbytes_of
from wbstream.engine.problems import Params
from wbstream.engine.registry import algorithms
from wbstream.engine.threat import OBLIVIOUS

REGISTER_BITS = 6


_LOW11 = np.uint64(0x7FF)
_ELEVEN = np.uint64(11)


def clz64(x: np.ndarray) -> np.ndarray:
    """Leading zeros of each uint64 (64 for zero), exactly, through float64 exponents.

    ``x >> 11`` has at most 53 bits, so its float64 conversion is exact and ``frexp``
    gives its bit length; only words below 2^11 need their low bits looked at.

    >>> clz64(np.array([0, 1, 2**63, 2**40 + 5, 2**64 - 1], dtype=np.uint64)).tolist()
    [64, 63, 0, 23, 0]
    """
    x = np.asarray(x, dtype=np.uint64)
    high = x >> _ELEVEN
    bit_length = np.frexp(high.astype(np.float64))[1] + 11
    small = high == 0
    if small.any():
        bit_length[small] = np.frexp((x[small] & _LOW11).astype(np.float64))[1]
    return (64 - bit_length).astype(np.int64)


def bucket_and_rho(hashes: np.ndarray, p: int) -> tuple[np.ndarray, np.ndarray]:
    """Register index (top ``p`` bits) and rho in ``[1, 65 - p]`` of each hash.

    >>> b, r = bucket_and_rho(np.array([2**63 + 2**53, 0], dtype=np.uint64), 10)
    >>> b.tolist(), r.tolist()
    ([512, 0], [1, 55])
    """
    h = np.asarray(hashes, dtype=np.uint64)
    bucket = (h >> np.uint64(64 - p)).astype(np.int64)
    rest = h << np.uint64(p)
    rho = np.minimum(clz64(rest), 64 - p) + 1
    return bucket, rho.astype(np.int64)


def alpha_m(m: int) -> float:
    """The bias constant of Flajolet et al. (2007)."""
    return {16: 0.673, 32: 0.697, 64: 0.709}.get(m, 0.7213 / (1 + 1.079 / m))


def estimate(registers: np.ndarray) -> float:
    """HLL estimate of a register array, with linear counting in the small range."""
    m = len(registers)
    raw = alpha_m(m) * m * m / float(np.ldexp(1.0, -registers.astype(np.int64)).sum())
    if raw <= 2.5 * m:
        empty = int(np.count_nonzero(registers == 0))
        if empty:
            return m * math.log(m / empty)
    return raw


@algorithms.register
class HyperLogLog(KeyedF0Sketch):
    """m = 2^p six-bit registers; relative standard error about 1.04/sqrt(m).

    >>> from wbstream.engine.coins import Coins
    >>> from wbstream.engine.problems import DistinctElements
    >>> p = DistinctElements(n=10**6, insertion_only=True)
    >>> hll = HyperLogLog(p.params, Coins.from_seed(3, "doc"), p=10)
    >>> hll.query()
    0.0
    >>> hll.update(np.arange(20_000), np.ones(20_000, dtype=np.int64))
    >>> 18_000 < hll.query() < 22_000, hll.space().total_bits
    (True, 6208)
    >>> HyperLogLog(DistinctElements(n=10).params, Coins.from_seed(3, "doc"))
    Traceback (most recent call last):
    ...
    wbstream.engine.errors.SpecError: hll counts F0 of insertion-only streams: it cannot delete, so the problem's insertion_only must be True, got False (turnstile)
    """

    name = "hll"
    #: What of the state says how items hash (the Paterson–Raynal S2 adversary reads only this).
    hash_view = ("hash_key", "p")
    claims = OBLIVIOUS
    guarantee = ("F0 within about 1 ± 3·1.04/sqrt(m) w.h.p. against oblivious insertion-only streams; "
                 "a reader of the hash key can hold the estimate down")

    def __init__(self, params, coins, *, p: int = 10):
        super().__init__(params, coins)
        if not 4 <= p <= 18:
            raise ValueError(f"hll needs 4 <= p <= 18 (m = 2^p registers), got p={p}")
        self.p, self.m = int(p), 1 << int(p)
        self.registers = np.zeros(self.m, dtype=np.uint8)

    # -- the white-box interface -----------------------------------------------------------------
    @classmethod
    def cells(cls, params: Params, state: Mapping, items: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Register index and rho of each item; reads only the key and p, never the registers."""
        return bucket_and_rho(cls.hash_items(params, state, items), int(state["p"]))

    @classmethod
    def harmless(cls, params: Params, state: Mapping, hashes: np.ndarray) -> np.ndarray:
        """Which hashes change no register: rho at most the register they land in."""
        registers = np.asarray(state["registers"])
        p = int(len(registers)).bit_length() - 1
        bucket, rho = bucket_and_rho(hashes, p)
        return rho <= registers[bucket]

    # -- the protocol ----------------------------------------------------------------------------
    def update(self, indices, deltas):
        for chunk in chunks(indices):
            bucket, rho = bucket_and_rho(self.hash(chunk), self.p)
            np.maximum.at(self.registers, bucket, rho.astype(np.uint8))

    def query(self) -> float:
        return float(estimate(self.registers))

    def state(self):
        return {"hash_key": self.hash.key, "p": self.p, "registers": self.registers}

    def space(self):
        return Space(self.m * REGISTER_BITS, KEY_BITS, nbytes_of(self.state()))

    def merge_moduli(self):
        """Two HLLs with the same key merge by a register-wise maximum (the sketch of the union)."""
        return {"registers": MAX}
