"""Scenario S1 of Paterson and Raynal (EuroS&P 2022): filter items through a shadow HyperLogLog.

The attacker owns a shadow device running the same software as the target
(for ``redis-hll``: a key on a Redis server of its own) and may only reset it,
insert into it and read its count; it never computes the hash. To find items
that all land in about B registers it walks a candidate list through the shadow:

* reset the shadow, then insert the candidates in order, reading the count after each;
* keep an item if the count is still at most the target ``m ln(m / (m - B))`` (the
  first items fill B registers) or did not change (it fell in an occupied register);
  discard an item that raised the count past the target;
* once the count passes ``2.5 m`` the shadow is too polluted by discarded items
  (they stay inserted): reset and walk the filtered list again;
* stop after a walk that discards nothing.

This follows the paper's procedure. Two departures keep it fast and change no
decision: the candidates are probed in pipelined chunks (a chunk's counts are
read at once; the decisions depend only on the counts, and probes past a reset
point are discarded with the polluted shadow), and the prefix of the list that a
walk kept before its first discard is re-inserted in bulk on the next walk
(its counts would repeat exactly, since the shadow starts empty each time).
"""

from __future__ import annotations

import math

import numpy as np

#: Candidates probed per pipelined round trip.
PROBE_CHUNK = 2048
#: Walks after which the filter gives up (it converges long before on any reachable input).
MAX_WALKS = 100_000


def target_count(m: int, buckets: int) -> int:
    """The count of a sketch whose items fill ``buckets`` of ``m`` registers (linear counting).

    >>> target_count(256, 128), target_count(16384, 8192)
    (177, 11356)
    """
    return int(m * math.log(m / (m - buckets)))


def shadow_filter(shadow, items: np.ndarray, buckets: int, clean: int = 0) -> tuple[np.ndarray, int, int]:
    """The items of ``items`` (in order) that the shadow says land in about ``buckets`` registers.

    ``items[:clean]`` is the output of an earlier call (kept by a walk that discarded
    nothing), re-inserted in bulk. Returns ``(kept, resets, probes)``: the resets and
    single-item probes it spent.
    """
    m = shadow.m
    target, reset_at = target_count(m, buckets), int(2.5 * m)
    items = np.asarray(items, dtype=np.int64)
    resets, probes = 0, 0
    for _ in range(MAX_WALKS):
        shadow.reset()
        resets += 1
        shadow.add(items[:clean])
        count = shadow.count()
        keep = np.ones(len(items), dtype=bool)
        first_discard, polluted = None, False
        pos = clean
        while pos < len(items):
            chunk = items[pos:pos + PROBE_CHUNK]
            counts = shadow.probe(chunk)
            probes += len(chunk)
            over = np.flatnonzero(counts > reset_at)
            decided = int(over[0]) if len(over) else len(chunk)  # the item that crossed is tried again
            previous = np.concatenate(([count], counts[:-1]))
            ok = ((counts <= target) | (counts == previous))[:decided]
            keep[pos:pos + decided] = ok
            if first_discard is None and not ok.all():
                first_discard = pos + int(np.argmin(ok))
            if len(over):
                polluted = True
                break
            count = int(counts[-1])
            pos += len(chunk)
        if first_discard is None and not polluted:
            return items, resets - 1, probes  # the first reset is the start, not a reset
        if first_discard is not None:
            clean = int(keep[:first_discard].sum())
        items = items[keep]
    raise RuntimeError(f"the shadow filter did not converge in {MAX_WALKS} walks")
