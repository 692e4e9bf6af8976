"""Rank-k recovery with detection: a relaxed rank-k recovery plus the FJW'24 GSW tester on vec(X).

The template of FW'23 / FJW'24 (docs/references.md#fjw24), with a matrix in place of
a sparse vector. Report: decode with the deterministic relaxed recovery; answer
``NOT_LOW_RANK`` if decoding fails or the candidate has rank > k over Q (checked
exactly); otherwise return the candidate only if its hash equals the running hash
of vec(X). The tester is :class:`~wbstream.algorithms.sparse.fjw24.GswTester` on
the universe of ``rows * cols`` entries, so it keeps ``L = ceil(log2(rows * cols))``
key ciphertexts.

* ``robust-rank``: the relaxed recovery is Gabidulin syndrome decoding
  (:mod:`.gabidulin`), exact on **every** matrix of rank <= k. Completeness is
  deterministic; a wrong answer needs a tester collision ``H(X - X̂) = 0``.
* ``naive-rank`` (NEGATIVE CONTROL): the relaxed recovery is the two one-sided
  sketches of :mod:`.twosided`. A rank-one ``u v^T`` in their kernel decodes to 0,
  the hash disagrees, and the answer is ``NOT_LOW_RANK`` on a rank-one matrix.
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from wbstream.algorithms.sparse.fjw24 import GswPresetSecurity, GswTester, gsw_params, gsw_tester_columns
from wbstream.algorithms.sparse.tested import add_in_chunks
from wbstream.crypto.params import check_binding
from wbstream.engine.algorithm import Space, TestedRecovery, nbytes_of
from wbstream.engine.answers import NOT_LOW_RANK
from wbstream.linalg.fp import rank_exceeds
from wbstream.engine.matrix_problems import RankRecovery
from wbstream.engine.registry import algorithms
from wbstream.engine.threat import WHITE_BOX

from .gabidulin import GabidulinSketch
from .twosided import TwoSidedSketch


class TestedRankRecovery(GswPresetSecurity, TestedRecovery):
    """Base: a relaxed rank-k recovery (``decoder_cls``) and a GSW tester on vec(X).

    >>> from wbstream.engine.coins import Coins
    >>> alg = RobustRank(RankRecovery(rows=4, cols=8, k=1).params, Coins.from_seed(0, "doc"), preset="toy")
    >>> alg.tester.gsw.L, alg.decoder.m                      # L = ceil(log2(4 * 8)), m = max(rows, cols)
    (5, 8)
    """

    problem = RankRecovery
    arena_problem = "rank-recovery(rows=4, cols=4, k=1, M=1024)"
    decoder_cls: ClassVar[type]
    #: The decoder's state entries that are linear in X (they add up when sketches merge).
    merged_decoder_entries: ClassVar[tuple[str, ...]]
    __test__ = False  # not a pytest test class, despite the name

    def __init__(self, params, coins, *, preset: str = "toy", n_lwe: int = 0, base_bits: int = 0,
                 cache_levels: int = 0, p: int = 0, allow_unproven: bool = False):
        super().__init__(params, coins)
        self.decoder = self.decoder_cls(params.rows, params.cols, params.k, params.M, p)
        self.preset = preset
        self.gsw = gsw_params(self.name, params.n, params.M, preset, n_lwe, base_bits, 0, cache_levels)
        check_binding(self.name, preset, self.gsw.binding, allow_unproven=allow_unproven)
        self.tester = GswTester.sample(self.gsw, coins, f"{self.name}/key", cache_levels)
        self.h = self.tester.zero()

    def update(self, indices, deltas):
        h = add_in_chunks(self.tester, self.h, indices, deltas)
        self.decoder.update(indices, deltas)
        self.h = h

    def query(self):
        X = self.decoder.decode()
        if X is None or rank_exceeds(X, self.params.k):
            return NOT_LOW_RANK
        idx = np.flatnonzero(X)
        if not np.array_equal(self.tester.hash_of(idx, X.ravel()[idx]), self.h):
            return NOT_LOW_RANK
        return X

    def decoder_state(self) -> dict:
        raise NotImplementedError

    def merge_moduli(self):
        """The decoder's sketches add mod p (every array of it that holds data); the hash mod the tester's modulus."""
        return {**{key: self.decoder.p for key in self.merged_decoder_entries}, "hash": self.tester.modulus}

    def state(self):
        return {**self.decoder_state(), "p": self.decoder.p, "hash": self.h, **self.tester.state()}

    def space(self):
        return Space(self.decoder.state_bits() + self.tester.state_bits, self.tester.key_bits,
                     nbytes_of(self.state()))

    @classmethod
    def recovery_columns(cls, params, state, columns):
        dec = cls.decoder_cls(params.rows, params.cols, params.k, params.M, int(state["p"]))
        return dec.columns(np.asarray(columns, np.int64)), dec.p

    @classmethod
    def tester_columns(cls, params, state, columns):
        return gsw_tester_columns(state, columns)


@algorithms.register
class RobustRank(TestedRankRecovery):
    """Gabidulin (MRD) relaxed rank-k recovery + the FJW'24 GSW tester on vec(X).

    >>> from wbstream.engine.coins import Coins
    >>> p = RankRecovery(rows=6, cols=7, k=2, M=100)
    >>> alg = RobustRank(p.params, Coins.from_seed(0, "doc"), preset="toy")
    >>> X = np.outer([1, 0, -2, 3, 0, 1], [4, 1, 0, 0, -1, 2, 5])
    >>> idx = np.flatnonzero(X); alg.update(idx, X.ravel()[idx])
    >>> bool((alg.query() == X).all())
    True
    >>> alg.update(np.array([0, 8, 16, 24]), np.array([1, 1, 1, 1]))   # + a rank-4 diagonal
    >>> alg.query()
    NOT_LOW_RANK
    """

    name = "robust-rank"

    computed_defaults = {

        "n_lwe": "the preset's",

        "base_bits": "the preset's",

        "p": "the least prime > 2M with t^m - w irreducible, m = max(rows, cols)",

    }
    relaxed_recovery = "gabidulin"
    decoder_cls = GabidulinSketch
    merged_decoder_entries = ("syndromes",)
    claims = WHITE_BOX
    guarantee = ("X exactly when rank(X) <= k, else NOT_LOW_RANK, against PPT white-box adversaries "
                 "(Gabidulin for-all recovery + FJW'24 tester, LWE) at its default preset sec64 (λ ≈ 65 bits, "
                 "core-SVP; binding proven for rows * cols <= 2^16, M <= 2^10)")
    arena_options = "preset='toy'"
    default_preset = "sec64"

    def __init__(self, params, coins, *, preset: str = "sec64", n_lwe: int = 0, base_bits: int = 0,
                 cache_levels: int = 0, p: int = 0, allow_unproven: bool = False):
        super().__init__(params, coins, preset=preset, n_lwe=n_lwe, base_bits=base_bits, cache_levels=cache_levels,
                         p=p, allow_unproven=allow_unproven)

    def decoder_state(self):
        return {"syndromes": self.decoder.s, "w": self.decoder.field.w}


@algorithms.register
class NaiveRank(TestedRankRecovery):
    """NEGATIVE CONTROL: two one-sided Vandermonde sketches (S X, X T, S X T) + the same tester.

    Not for-all: a rank-one ``u v^T`` with ``S u = 0`` and ``T^T v = 0`` decodes to 0, so
    the answer is ``NOT_LOW_RANK`` on a matrix of rank one (see ``rank-one-kernel``).

    >>> from wbstream.engine.coins import Coins
    >>> p = RankRecovery(rows=6, cols=6, k=1, M=100)
    >>> alg = NaiveRank(p.params, Coins.from_seed(0, "doc"))
    >>> u = np.array([1, -2, 1, 0, 0, 0])
    >>> X = np.outer(u, u); idx = np.flatnonzero(X); alg.update(idx, X.ravel()[idx])
    >>> alg.query()                                      # rank(X) = 1 <= k: a completeness failure
    NOT_LOW_RANK
    """

    name = "naive-rank"

    computed_defaults = {

        "n_lwe": "the preset's",

        "base_bits": "the preset's",

        "p": "the least prime > max(2M, rows, cols)",

    }
    relaxed_recovery = "two-sided"
    decoder_cls = TwoSidedSketch
    merged_decoder_entries = ("SX", "XT", "SXT")
    guarantee = ("NEGATIVE CONTROL: answers NOT_LOW_RANK on rank-one matrices hidden in the kernels "
                 "of its one-sided sketches (docs/references.md#fjw24)")

    def decoder_state(self):
        return {"SX": self.decoder.W, "XT": self.decoder.Y, "SXT": self.decoder.Z}

    @classmethod
    def one_sided_sketches(cls, params, state):
        """``(S, T^T, p)``: the public one-sided sketch matrices, as a reader of the state rebuilds them."""
        dec = TwoSidedSketch(params.rows, params.cols, params.k, params.M, int(state["p"]))
        return dec.S, dec.Tt, dec.p
