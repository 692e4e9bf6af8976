"""Relaxed k-sparse recovery plus a linear hash tester: the shape of FW'23 and FJW'24.

Report (docs/references.md#fjw24): decode with the deterministic relaxed recovery; answer
``NOT_SPARSE`` if decoding fails, the candidate has more than k entries or an
entry outside ``[-M, M]``; otherwise return the candidate only if its hash equals
the running hash of the stream. Completeness is deterministic: on a k-sparse x
the decoder returns x and the hashes agree. A wrong answer needs a collision
``H(x - x̂) = 0`` with ``|x - x̂|_inf <= 2M``, which is what the tester makes hard.

The relaxed recovery is ``recovery="vandermonde"`` (2k syndromes, O(k) update) or
``recovery="expander"`` (bucket sums on a public lossless expander, D = 33 buckets an
update whatever k is, or ``degree=D`` for another odd D; :mod:`.expander`). Both are linear mod the same prime p, so a
white-box reader rebuilds either matrix from the state (:meth:`recovery_columns`).

The two algorithms differ only in the tester, an object with this interface:

* ``zero()``: the hash of the zero vector;
* ``add(h, indices, deltas)``: the running hash after a batch;
* ``hash_of(indices, values)``: the hash of a sparse vector;
* ``state()``, ``state_bits``, ``key_bits``: what it stores and how much;
* ``modulus``: the hash's modulus (merged sketches add their hashes mod it);
* ``chunk``: the most updates pushed through ``add`` at once (bounds temporary memory).
"""

from __future__ import annotations

import numpy as np

from wbstream.algorithms.sparse.expander import ExpanderDecoder, expander_columns
from wbstream.algorithms.sparse.expander_graph import DEFAULT_DEGREE, GraphShape
from wbstream.algorithms.sparse.vandermonde import SyndromeDecoder, vandermonde_columns
from wbstream.engine.algorithm import Space, TestedRecovery, nbytes_of
from wbstream.engine.answers import NOT_SPARSE
from wbstream.engine.problems import SparseRecovery

#: Largest number of updates pushed through a tester at once (bounds temporary memory).
TESTER_CHUNK = 512

#: The Vandermonde prime used when none is given: 2^31 - 1.
DEFAULT_PRIME = (1 << 31) - 1


def default_prime(n: int, M: int) -> int:
    if DEFAULT_PRIME > max(n, 2 * M):
        return DEFAULT_PRIME
    raise ValueError(f"n = {n} or 2M = {2 * M} is too large for the 31-bit Vandermonde prime 2^31 - 1")


#: The relaxed recoveries a tested recovery can run on.
RECOVERIES = ("vandermonde", "expander")


def make_decoder(name: str, recovery: str, params, p: int, degree: int = 0):
    """The relaxed recovery ``recovery`` for ``params`` (k-sparse recovery's n, k, M) mod p (0: 2^31 - 1).

    ``degree`` is the expander's left degree (0: :data:`DEFAULT_DEGREE`); the Vandermonde
    recovery has none.
    """
    if recovery not in RECOVERIES:
        raise ValueError(f"{name}: recovery must be one of {', '.join(RECOVERIES)}, got {recovery!r}")
    p = p or default_prime(params.n, params.M)
    if recovery == "expander":
        return ExpanderDecoder(params.n, params.k, params.M, p, degree=degree or DEFAULT_DEGREE)
    if degree:
        raise ValueError(f"{name}: degree={degree} is an expander option; recovery='vandermonde' has no graph")
    return SyndromeDecoder(params.n, params.k, params.M, p)


def decoder_state(decoder) -> dict:
    """What a state shows of the relaxed recovery: its sums and what rebuilds its matrix."""
    if isinstance(decoder, ExpanderDecoder):
        return {"buckets": decoder.s, "p": decoder.p, "degree": decoder.shape.degree, "width": decoder.shape.width}
    return {"syndromes": decoder.s, "p": decoder.p}


def recovery_matrix(state, columns) -> tuple[np.ndarray, int]:
    """The relaxed recovery's matrix on ``columns`` and its modulus p, from a state alone."""
    p, columns = int(state["p"]), np.asarray(columns, np.int64)
    if "buckets" in state:
        shape = GraphShape(int(state["degree"]), int(state["width"]), float("nan"))
        return expander_columns(shape, columns, p), p
    return vandermonde_columns(columns, len(state["syndromes"]), p), p


def add_in_chunks(tester, h, indices, deltas):
    """The tester's running hash after a batch, pushed through ``tester.chunk`` updates at a time."""
    chunk = tester.chunk
    if len(indices) <= chunk:
        return tester.add(h, indices, deltas)
    for start in range(0, len(indices), chunk):
        h = tester.add(h, indices[start:start + chunk], deltas[start:start + chunk])
    return h


class TestedSparseRecovery(TestedRecovery):
    """Base class: a relaxed recovery (``recovery``) and a tester built by :meth:`make_tester`.

    ``relaxed_recovery`` names the class's default recovery; an instance's attribute
    names the one it runs.
    """

    problem = SparseRecovery
    relaxed_recovery = "vandermonde"
    #: Every recovery the ``recovery`` option accepts (attacks that target one check this).
    relaxed_recoveries = RECOVERIES
    arena_problem = "sparse-recovery(n=1024, k=2, M=1048576)"

    def __init__(self, params, coins, *, p: int = 0, recovery: str = "", degree: int = 0):
        super().__init__(params, coins)
        self.relaxed_recovery = recovery or type(self).relaxed_recovery
        self.decoder = make_decoder(getattr(self, "name", "tested recovery"), self.relaxed_recovery, params, p, degree)
        self.tester = self.make_tester()
        self.h = self.tester.zero()

    def make_tester(self):
        raise NotImplementedError

    def update(self, indices, deltas):
        h = add_in_chunks(self.tester, self.h, indices, deltas)
        self.decoder.update(indices, deltas)
        self.h = h

    def query(self):
        xhat = self.decoder.decode()
        if xhat is None or len(xhat) > self.params.k or (len(xhat) and np.abs(xhat.values).max() > self.params.M):
            return NOT_SPARSE
        if not np.array_equal(self.tester.hash_of(xhat.indices, xhat.values), self.h):
            return NOT_SPARSE
        return xhat

    def state(self):
        return {**decoder_state(self.decoder), "hash": self.h, **self.tester.state()}

    def merge_moduli(self):
        """Syndromes (or bucket sums) add mod p; the running hash adds mod the tester's modulus."""
        sums = "buckets" if isinstance(self.decoder, ExpanderDecoder) else "syndromes"
        return {sums: self.decoder.p, "hash": self.tester.modulus}

    def space(self):
        recovery_bits = self.decoder.rows * max(1, (self.decoder.p - 1).bit_length())
        return Space(recovery_bits + self.tester.state_bits, self.tester.key_bits, nbytes_of(self.state()))

    @classmethod
    def recovery_columns(cls, params, state, columns):
        return recovery_matrix(state, columns)
