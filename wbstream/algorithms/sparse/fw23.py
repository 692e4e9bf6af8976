"""FW'23: Vandermonde relaxed recovery plus an SIS tester whose columns come from a random oracle.

The SIS matrix ``A`` has ``rows`` rows mod ``q = 2^log2_q``; column i is
``RO(seed, i)``, instantiated with AES-256-CTR. **This is the random-oracle
heuristic**: the construction is proven only if the columns behave like a random
oracle. The seed is public (it is in the state). FW'23's reduction needs
``rows >= k log2 n``, so update time grows with k (docs/references.md#fw23).
"""

from __future__ import annotations

import math

import numpy as np

from wbstream.algorithms.sparse.tested import TESTER_CHUNK, TestedSparseRecovery
from wbstream.crypto.params import FW23_PRESETS, fw23_bits
from wbstream.crypto.prg import RandomOracleColumns
from wbstream.crypto.sis import SisHash
from wbstream.engine.algorithm import SecurityEstimate
from wbstream.engine.errors import at_least
from wbstream.engine.registry import algorithms
from wbstream.engine.threat import WHITE_BOX


class SisTester:
    """The running SIS hash ``h = A x mod q`` (random-oracle columns)."""

    chunk = TESTER_CHUNK

    def __init__(self, rows: int, log2_q: int, seed: bytes):
        if not 1 <= log2_q <= 64:
            raise ValueError(f"fw23: log2_q must be in [1, 64], got {log2_q}")
        self.sis = SisHash(rows, 1 << log2_q, seed)
        self.seed, self.log2_q = seed, log2_q
        self.modulus = 1 << log2_q
        self.state_bits = rows * log2_q
        self.key_bits = 8 * len(seed)

    def zero(self):
        return np.zeros(self.sis.rows, dtype=np.uint64)

    def add(self, h, indices, deltas):
        return self.sis.add(h, indices, deltas)

    def hash_of(self, indices, values):
        return self.sis.hash_of(indices, values)

    def state(self):
        return {"seed": self.seed, "rows": self.sis.rows, "log2_q": self.log2_q}


@algorithms.register
class FW23(TestedSparseRecovery):
    """Feng–Woodruff 2023: relaxed recovery + SIS tester (random-oracle heuristic).

    >>> from wbstream.engine.coins import Coins
    >>> from wbstream.engine.problems import SparseRecovery
    >>> p = SparseRecovery(n=1000, k=2, M=100)
    >>> alg = FW23(p.params, Coins.from_seed(0, "doc"))
    >>> alg.update(np.array([5, 999]), np.array([7, -100]))
    >>> alg.query()
    SparseVector(indices=[5, 999], values=[7, -100])
    """

    name = "fw23"

    computed_defaults = {"rows": "max(the preset's, k ceil(log2 n)); sec presets: grown to their target",
                         "log2_q": "the preset's", "p": "2^31 - 1",
                         "degree": "33 with recovery='expander', the expander's left degree"}
    guarantee = ("x exactly when nnz(x) <= k, else NOT_SPARSE, against PPT white-box adversaries (SIS, random "
                 "oracle) at sec64/sec128 (64/128 bits); toy breaks")
    claims = WHITE_BOX

    @classmethod
    def security_for(cls, params, *, preset: str = "toy", rows: int = 0, log2_q: int = 0, **_):
        if preset not in FW23_PRESETS:
            return None
        return SecurityEstimate(preset, fw23_bits(params.n, params.k, params.M, preset, rows, log2_q))

    def security(self):
        return self.security_for(self.params, preset=self.preset, rows=self.rows, log2_q=self.log2_q)

    def __init__(self, params, coins, *, preset: str = "toy", rows: int = 0, log2_q: int = 0, p: int = 0,
                 recovery: str = "vandermonde", degree: int = 0):
        if preset not in FW23_PRESETS:
            raise ValueError(f"fw23: preset must be one of {', '.join(FW23_PRESETS)}, got {preset!r}")
        chosen = FW23_PRESETS[preset]
        at_least("fw23", rows=(rows, 0), log2_q=(log2_q, 0))
        self.preset = preset
        floor = params.k * max(1, math.ceil(math.log2(params.n)))
        if rows and rows < floor:
            raise ValueError(f"fw23: rows = {rows} is below k log2 n = {floor}, which FW'23's reduction needs")
        self.rows = rows or chosen.sis_rows(params.n, params.k, params.M)
        self.log2_q = log2_q or chosen.log2_q
        if (1 << self.log2_q) <= 2 * params.M:
            raise ValueError(f"fw23: q = 2^{self.log2_q} must exceed 2M = {2 * params.M}, "
                             f"or x + q e_i would hash like x (the wrap-around attack)")
        super().__init__(params, coins, p=p, recovery=recovery, degree=degree)

    def make_tester(self):
        return SisTester(self.rows, self.log2_q, self.coins.bytes("fw23/seed", 32))

    @classmethod
    def tester_columns(cls, params, state, columns):
        q = 1 << int(state["log2_q"])
        oracle = RandomOracleColumns(bytes(state["seed"]), int(state["rows"]), q)
        return oracle.columns(np.asarray(columns, np.int64)), q
