"""Relaxed k-sparse recovery plus a linear hash tester: the shape of FW'23 and FJW'24.

Report (docs/references.md#fjw24): decode with the deterministic relaxed recovery; answer
``NOT_SPARSE`` if decoding fails, the candidate has more than k entries or an
entry outside ``[-M, M]``; otherwise return the candidate only if its hash equals
the running hash of the stream. Completeness is deterministic: on a k-sparse x
the decoder returns x and the hashes agree. A wrong answer needs a collision
``H(x - x̂) = 0`` with ``|x - x̂|_inf <= 2M``, which is what the tester makes hard.

The two algorithms differ only in the tester, an object with this interface:

* ``zero()``: the hash of the zero vector;
* ``add(h, indices, deltas)``: the running hash after a batch;
* ``hash_of(indices, values)``: the hash of a sparse vector;
* ``state()``, ``state_bits``, ``key_bits``: what it stores and how much;
* ``modulus``: the hash's modulus (merged sketches add their hashes mod it).
"""

from __future__ import annotations

import numpy as np

from wbstream.algorithms.sparse.vandermonde import SyndromeDecoder
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


def add_in_chunks(tester, h, indices, deltas):
    """The tester's running hash after a batch, pushed through ``TESTER_CHUNK`` updates at a time."""
    if len(indices) <= TESTER_CHUNK:
        return tester.add(h, indices, deltas)
    for start in range(0, len(indices), TESTER_CHUNK):
        h = tester.add(h, indices[start:start + TESTER_CHUNK], deltas[start:start + TESTER_CHUNK])
    return h


class TestedSparseRecovery(TestedRecovery):
    """Base class: a :class:`SyndromeDecoder` and a tester built by :meth:`make_tester`."""

    problem = SparseRecovery
    relaxed_recovery = "vandermonde"
    arena_problem = "sparse-recovery(n=1024, k=2, M=1048576)"

    def __init__(self, params, coins, *, p: int = 0):
        super().__init__(params, coins)
        self.decoder = SyndromeDecoder(params.n, params.k, params.M, p or default_prime(params.n, params.M))
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
        return {"syndromes": self.decoder.s, "p": self.decoder.p, "hash": self.h, **self.tester.state()}

    def merge_moduli(self):
        """Syndromes add mod p; the running hash adds mod the tester's modulus."""
        return {"syndromes": self.decoder.p, "hash": self.tester.modulus}

    def space(self):
        recovery_bits = 2 * self.params.k * max(1, (self.decoder.p - 1).bit_length())
        return Space(recovery_bits + self.tester.state_bits, self.tester.key_bits, nbytes_of(self.state()))

    @classmethod
    def recovery_columns(cls, params, state, columns):
        p = int(state["p"])
        return SyndromeDecoder(params.n, params.k, params.M, p).columns(np.asarray(columns, np.int64)), p
