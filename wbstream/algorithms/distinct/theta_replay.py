"""Rebuild a DataSketches ``update_theta_sketch`` exactly, from the items it retains.

The package serializes only a *compact* theta sketch, which cannot be updated
again; its Python API has no way to load an updatable one. Its logical state is
theta and the set of retained hashes (every hash below theta), so the adapter
keeps one item per hash at or below theta, and a copy replays them: when theta
was lowered by a rebuild, the ``k`` smallest, the item whose hash is theta, and
fillers hashing above theta trigger the package's own rebuild at the same theta;
the other retained items follow. The result answers every later update as the
original does.

>>> import datasketches as ds
>>> from wbstream.algorithms.distinct.peers import DsTheta
>>> live = ds.update_theta_sketch(lg_k=5, seed=9001)
>>> items = np.arange(300)
>>> for i in items.tolist(): live.update(i)
>>> hashes = DsTheta.hash_items(None, {"seed": 9001}, items)
>>> copy = rebuild_theta(ds, 5, 9001, live.theta64, items, hashes)
>>> copy.theta64 == live.theta64, copy.get_estimate() == live.get_estimate()
(True, True)
"""

from __future__ import annotations

import numpy as np

#: The package's rebuild threshold: a full table (at 2^(lg_k+1) slots) holds 15/16 of its slots.
_REBUILD_FRACTION = 15 / 16


def capacity(lg_k: int) -> int:
    """Entries a full update sketch holds before it rebuilds down to ``2^lg_k``."""
    return int(_REBUILD_FRACTION * (1 << (lg_k + 1)))


def rebuild_theta(ds, lg_k: int, seed: int, theta: int, items: np.ndarray, hashes: np.ndarray):
    """A fresh updatable sketch with this ``theta`` retaining exactly the ``hashes`` below it.

    ``items`` and ``hashes`` (their 63-bit theta hashes) must include every retained
    item and, when theta was lowered, the item whose hash equals theta.
    """
    from wbstream.algorithms.distinct.peers import DsTheta

    sketch = ds.update_theta_sketch(lg_k=lg_k, seed=seed)
    full = sketch.theta64
    hashes, first = np.unique(np.asarray(hashes, np.uint64), return_index=True)  # sorted, one item per hash
    items = np.asarray(items, np.int64)[first]
    below = items[hashes < np.uint64(theta)]
    if theta != full:
        at = items[hashes == np.uint64(theta)]
        k = 1 << lg_k
        if not at.size or len(below) < k:
            raise ValueError("the kept items do not determine this theta sketch")
        need = capacity(lg_k) - k
        fillers = np.zeros(0, np.int64)
        start = -1
        while len(fillers) < need:  # negative items never collide with a stream's (indices are >= 0)
            cand = np.arange(start, start - 4 * need - 16, -1, dtype=np.int64)
            start -= len(cand)
            h = DsTheta.hash_items(None, {"seed": seed}, cand)
            fillers = np.concatenate([fillers, cand[h > np.uint64(theta)]])
        for item in np.concatenate([below[:k], at[:1], fillers[:need]]).tolist():
            sketch.update(item)
        below = below[k:]
    for item in below.tolist():
        sketch.update(item)
    if sketch.theta64 != theta:
        raise ValueError("the replayed theta sketch does not reach the original theta")
    return sketch
