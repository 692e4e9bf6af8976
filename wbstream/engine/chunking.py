"""A bounded working set for every algorithm's update, whatever the batch length.

The referee's budget limits how many updates a game may send, not how many one
batch holds: a single in-budget batch of 10^7 updates would make a sketch that
builds a ``rows x batch`` matrix (AMS's signs, CountSketch's cells) allocate
gigabytes. Every :class:`~wbstream.engine.algorithm.StreamingAlgorithm` subclass
that defines ``update`` has it wrapped by :func:`bounded_update`, which feeds a
long batch through in consecutive chunks of ``update_chunk`` updates (whole rows
for a row-insertion problem). Each algorithm picks its chunk so its extra memory
stays near :data:`WORKING_SET_BYTES`; a batch no longer than one chunk goes
straight through, so short batches cost one length check.

>>> idx, dlt = np.arange(10), np.ones(10, dtype=np.int64)
>>> [(i.tolist(), int(d.sum())) for i, d in update_chunks(idx, dlt, 4)]
[([0, 1, 2, 3], 4), ([4, 5, 6, 7], 4), ([8, 9], 2)]
>>> [len(i) for i, _ in update_chunks(idx, dlt, 4, unit=3)]  # whole 3-wide rows: 3 entries per chunk
[3, 3, 3, 1]
"""

from __future__ import annotations

import functools
from collections.abc import Iterator

import numpy as np

#: The extra memory an algorithm's update should stay near, whatever the batch length (bytes).
WORKING_SET_BYTES = 64 << 20
#: Updates per chunk unless an algorithm says otherwise: a few hundred bytes of temporaries per update fit.
DEFAULT_CHUNK = 1 << 16


def chunk_for(bytes_per_update: int) -> int:
    """Updates per chunk for an update that allocates ``bytes_per_update`` of temporaries per update.

    >>> chunk_for(8 * 80 * 3), chunk_for(10**9)
    (34952, 1)
    """
    return max(1, WORKING_SET_BYTES // max(1, int(bytes_per_update)))


def update_chunks(indices, deltas, size: int, unit: int = 1) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """``(indices, deltas)`` in consecutive slices of at most ``size`` updates (views, no copies).

    ``unit`` > 1 keeps every slice a whole number of ``unit``-wide rows (a row batch's
    entries); a slice is never shorter than one row.
    """
    step = max(unit, size - size % unit)
    for start in range(0, len(indices), step):
        yield indices[start:start + step], deltas[start:start + step]


def bounded_update(update):
    """Wrap an algorithm's ``update`` so a batch longer than ``self.update_chunk`` goes through in chunks."""
    if getattr(update, "__isabstractmethod__", False) or getattr(update, "bounded", False):
        return update

    @functools.wraps(update)
    def chunked(self, indices, deltas):
        if len(indices) <= self.update_chunk:  # the common case: one length check
            return update(self, indices, deltas)
        for i, d in update_chunks(indices, deltas, self.update_chunk, self.update_unit()):
            update(self, i, d)
        return None

    chunked.bounded = True
    return chunked
