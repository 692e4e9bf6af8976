"""A fixed public bipartite graph that is a lossless expander except with probability <= 2^-40.

Left vertices are the n indices, right vertices m = D * width buckets in D blocks of
``width``; index i has one neighbour in each block, ``t * width + floor(width * h_t(i) / 2^64)``, so its D
neighbours are distinct. ``h_t`` is SplitMix64 keyed by block from one public
constant, :data:`GRAPH_SEED` (the first 8 bytes of SHA-256 of ``b"wbstream/expander/v1"``):
nothing comes from a game's coins. An adversary knows the graph, which is fine: the
decoder's guarantee is for every k-sparse vector, not for most.

**The guarantee needs a (2k, eps) lossless expander** — every set S of at most 2k
indices has ``|N(S)| >= (1 - eps) D |S|`` — with ``eps = (D - 1) / (4D)`` for odd D
(docs/references.md#xu-hassibi). A graph drawn at random fails to be one with
probability at most (union bound over S, and over the ``c = floor(eps D s) + 1``
edges that must land on an already hit bucket: the standard probabilistic argument,
docs/references.md#guv09):

    sum_{s=2}^{2k} C(n, s) * min( C(Ds, c) (Ds/m)^c,  C(m, Ds - c) ((Ds - c)/m)^(Ds) )

:func:`failure_log2` computes it and :func:`graph_shape` picks the smallest width
with bound <= 2^-40 for the given degree (33 by default). The graph here is one
pseudorandom draw; treating SplitMix64 as random is the modelling step. When those
m buckets would reach n, the identity graph (D = 1, one bucket per index: a
lossless expander with eps = 0) is used instead, and nothing is left to chance.

>>> shape = graph_shape(n=1 << 20, k=100)
>>> shape.degree, shape.width, shape.buckets, shape.failure_log2 <= -40
(33, 6565, 216645, True)
>>> graph_shape(n=1024, k=2)
GraphShape(degree=1, width=1024, failure_log2=-inf)
>>> GraphShape(5, 11, -3.0).neighbours(np.array([0, 7]))
array([[ 4, 15, 23, 34, 49],
       [ 2, 14, 25, 41, 46]])
"""

from __future__ import annotations

import functools
import hashlib
import math
from typing import NamedTuple

import numpy as np

__all__ = ["GRAPH_SEED", "GraphShape", "DEFAULT_DEGREE", "TARGET_FAILURE_LOG2", "failure_log2", "graph_shape"]

#: The public seed of every block hash: SHA-256(b"wbstream/expander/v1")[:8], big-endian.
GRAPH_SEED = int.from_bytes(hashlib.sha256(b"wbstream/expander/v1").digest()[:8], "big")
#: Left degree D (odd, so the voting threshold (D + 1) / 2 is a strict majority).
DEFAULT_DEGREE = 33
#: The union bound the chosen width must meet: the graph is not an expander w.p. <= 2^-40.
TARGET_FAILURE_LOG2 = -40.0

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_MIX1, _MIX2 = np.uint64(0xBF58476D1CE4E5B9), np.uint64(0x94D049BB133111EB)


def splitmix64(x: np.ndarray) -> np.ndarray:
    """SplitMix64's output function on uint64 (wrap-around arithmetic)."""
    z = x + _GOLDEN
    z = (z ^ (z >> np.uint64(30))) * _MIX1
    z = (z ^ (z >> np.uint64(27))) * _MIX2
    return z ^ (z >> np.uint64(31))


@functools.lru_cache(maxsize=16)
def _block_keys(degree: int) -> np.ndarray:
    """The D block keys: SplitMix64 of GRAPH_SEED + t * golden ratio (uint64 arrays wrap silently)."""
    keys = splitmix64(np.uint64(GRAPH_SEED) + np.arange(degree, dtype=np.uint64) * _GOLDEN)
    keys.setflags(write=False)
    return keys


def _scale(h: np.ndarray, width: int) -> np.ndarray:
    """The top 32 bits of h scaled to [0, width) (multiply-shift; width < 2^32)."""
    return (((h >> np.uint64(32)) * np.uint64(width)) >> np.uint64(32)).astype(np.int64)


@functools.lru_cache(maxsize=16)
def _offsets(degree: int, width: int) -> np.ndarray:
    out = np.arange(degree, dtype=np.int64) * width
    out.setflags(write=False)
    return out


class GraphShape(NamedTuple):
    """Degree D, block width (m = D * width buckets) and log2 of the union bound on failure."""

    degree: int
    width: int
    failure_log2: float

    @property
    def buckets(self) -> int:
        return self.degree * self.width

    @property
    def threshold(self) -> int:
        """Votes a variable needs: a strict majority ``(D + 1) // 2`` of its neighbours."""
        return (self.degree + 1) // 2

    def neighbours(self, indices) -> np.ndarray:
        """The ``len(indices) x D`` bucket numbers of ``indices`` (row i: D distinct buckets, one per block)."""
        idx = np.asarray(indices, dtype=np.int64).reshape(-1)
        if self.degree == 1:
            return idx.reshape(-1, 1).copy()
        h = splitmix64(idx.astype(np.uint64)[:, None] ^ _block_keys(self.degree)[None, :])
        return _scale(h, self.width) + _offsets(self.degree, self.width)

    def neighbour_in_block(self, indices: np.ndarray, blocks: np.ndarray) -> np.ndarray:
        """For each pair, the bucket of ``indices[j]`` in block ``blocks[j]``."""
        if self.degree == 1:
            return np.asarray(indices, dtype=np.int64).copy()
        keys = _block_keys(self.degree)[np.asarray(blocks, dtype=np.int64)]
        h = splitmix64(np.asarray(indices, dtype=np.int64).astype(np.uint64) ^ keys)
        return _scale(h, self.width) + np.asarray(blocks, dtype=np.int64) * self.width


#: Above this, ``lgamma(a + 1) - lgamma(a - b + 1)`` cancels away (lgamma(2^62) ~ 2^67.5, so
#: its last bit is worth 2^15 nats): the falling factorial is summed term by term instead.
_LGAMMA_EXACT_BELOW = 1 << 40


def _log_comb(a: float, b: float) -> float:
    """Natural log of C(a, b), accurate for universes up to 2^63.

    >>> round(_log_comb(1 << 62, 200) / math.log(2), 1), round(math.log2(math.comb(1 << 62, 200)), 1)
    (11154.6, 11154.6)
    """
    if a >= _LGAMMA_EXACT_BELOW and float(b).is_integer() and b < a / 2:
        a, b = int(a), int(b)
        return math.fsum(math.log(a - i) for i in range(b)) - math.lgamma(b + 1)
    return math.lgamma(a + 1) - math.lgamma(b + 1) - math.lgamma(a - b + 1)


def failure_log2(n: int, K: int, degree: int, buckets: int) -> float:
    """log2 of the union bound on the probability that a random D-left-regular graph
    ``[n] -> [buckets]`` is not a (K, (D - 1) / (4D)) lossless expander.

    >>> round(failure_log2(1 << 20, 200, 33, 216645), 1)
    -40.3
    >>> failure_log2(1 << 20, 2, 33, 33 * 10) > 0        # ten buckets a block: hopeless
    True
    """
    total = -math.inf
    log_sets = _log_comb(n, 1)  # log C(n, s), one factor at a time: summing it afresh for every s is quadratic
    for s in range(2, min(K, n) + 1):
        log_sets += math.log(n - s + 1) - math.log(s)
        edges = degree * s
        c = (degree - 1) * s // 4 + 1  # collisions beyond eps * D * s
        if edges - c >= buckets:
            term = 0.0
        else:
            by_edges = _log_comb(edges, c) + c * math.log(edges / buckets)
            by_sets = _log_comb(buckets, edges - c) + edges * math.log((edges - c) / buckets)
            term = min(by_edges, by_sets, 0.0)
        t = log_sets + term
        total = t if total == -math.inf else max(total, t) + math.log1p(math.exp(-abs(total - t)))
    return total / math.log(2)


@functools.lru_cache(maxsize=64)
def graph_shape(n: int, k: int, degree: int = DEFAULT_DEGREE, target_log2: float = TARGET_FAILURE_LOG2,
                identity: bool = True) -> GraphShape:
    """The smallest block width at ``degree`` whose union bound is <= 2^target_log2, or (if ``identity``)
    the identity graph when that would need n buckets or more.

    >>> graph_shape(1 << 20, 1000, identity=False).buckets > 1 << 20     # why k = 1000 gets the identity
    True
    """
    if degree < 1 or degree % 2 == 0:
        raise ValueError(f"expander degree must be odd and >= 1 (a strict-majority vote), got {degree}")
    K = 2 * k
    hi = -(-n // degree)
    if identity and (degree == 1 or failure_log2(n, K, degree, degree * hi) > target_log2):
        return GraphShape(1, n, -math.inf)
    while failure_log2(n, K, degree, degree * hi) > target_log2:
        hi *= 2
    lo = 1
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if failure_log2(n, K, degree, degree * mid) <= target_log2:
            hi = mid
        else:
            lo = mid
    if identity and degree * hi >= n:
        return GraphShape(1, n, -math.inf)
    return GraphShape(degree, hi, failure_log2(n, K, degree, degree * hi))
