"""Distinct elements (F0 / L0): hash-based sketches whose hash key sits in the state.

Both sketches here (``kmv``, ``hll``) see only which indices arrive, never the
deltas, so they count F0 of insertion-only streams; on a turnstile stream they
could not forget a deleted item. They refuse problems that are not insertion-only.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from wbstream.engine.errors import SpecError
from wbstream.engine.algorithm import StreamingAlgorithm
from wbstream.engine.problems import DistinctElements, Params

from .hashing64 import KeyedHash64


#: Items per step of the batched update: long uint64 pipelines run faster on chunks that stay in cache.
CHUNK = 1 << 15


def chunks(items: np.ndarray):
    """``items`` in consecutive slices of at most :data:`CHUNK` (views, no copies).

    >>> [len(c) for c in chunks(np.arange(70_000))]
    [32768, 32768, 4464]
    """
    for start in range(0, len(items), CHUNK):
        yield items[start:start + CHUNK]


def require_insertion_only(params, name: str) -> None:
    """Raise a SpecError unless ``params`` describe an insertion-only problem.

    >>> from wbstream.engine.problems import DistinctElements
    >>> require_insertion_only(DistinctElements(n=8).params, "kmv")
    Traceback (most recent call last):
    ...
    wbstream.engine.errors.SpecError: kmv counts F0 of insertion-only streams: it cannot delete, so the problem's insertion_only must be True, got False (turnstile)
    """
    if params is None or not params.get("insertion_only", False):
        raise SpecError(f"{name} counts F0 of insertion-only streams: it cannot delete, so the problem's "
                        f"insertion_only must be True, got False (turnstile)")


class KeyedF0Sketch(StreamingAlgorithm):
    """Base of the F0 sketches here: insertion-only problems and a keyed 64-bit hash.

    The key is drawn from the coins under ``"<name>/hash-key"`` and kept in the state
    as ``hash_key``; :meth:`hash_items` is how a reader of that state rebuilds the hash.
    Subclasses add ``harmless(params, state, hashes)``: which hashes change nothing.
    """

    problem = DistinctElements
    arena_problem = "distinct-elements(n=100000, M=1024, eps=0.2, insertion_only=True)"

    def __init__(self, params, coins):
        require_insertion_only(params, self.name)
        super().__init__(params, coins)
        self.hash = KeyedHash64(KeyedHash64.draw_key(coins, f"{self.name}/hash-key"))

    @classmethod
    def hash_items(cls, params: Params, state: Mapping, items: np.ndarray) -> np.ndarray:
        """The sketch's hash of ``items`` as a reader of the state computes it."""
        return KeyedHash64(int(state["hash_key"]))(items)
