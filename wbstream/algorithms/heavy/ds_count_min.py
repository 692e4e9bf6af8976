"""Apache DataSketches' ``count_min_sketch`` as a heavy-hitters peer.

The adapter feeds the package one ``update(item, weight)`` call per update and
answers the heavy-hitters problem by asking the package for every item's
estimate (``get_estimate``) and reporting those at or above ``eps * m``. Its
state is the package's serialized image plus the public seed, ``num_hashes`` and
``num_buckets``.

The package derives its row hashes from the seed internally and does not expose
them. A white-box adversary does not need them spelled out: it runs the
package's own code on candidate items and reads from the image which counter
each one lands in (:meth:`DsCountMin.row_cells`). That is all the cover-set
attack (``markelon-2023``) needs.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np

from wbstream.algorithms.datasketches_lib import datasketches
from wbstream.algorithms.distinct.murmur3 import DEFAULT_SEED
from wbstream.algorithms.heavy.count_min import FALSE_REPORT_PROBABILITY
from wbstream.engine.algorithm import Space, StreamingAlgorithm, nbytes_of
from wbstream.engine.errors import NotApplicableError
from wbstream.engine.problems import HeavyHitters, Params
from wbstream.engine.registry import algorithms
from wbstream.engine.threat import OBLIVIOUS

#: Header bytes of a non-empty serialized count_min_sketch; the table of doubles follows.
_HEADER = 24
#: Items located per probe sketch: weights 2^0 .. 2^51 stay exact in a double's 53 bits.
_PROBE_ITEMS = 52


def table_of(image: bytes, depth: int, width: int) -> np.ndarray:
    """The ``depth x width`` table of doubles in a count_min_sketch image (zeros if it is empty)."""
    if len(image) < _HEADER + 8 * depth * width:
        return np.zeros((depth, width))
    return np.frombuffer(image, dtype="<f8", count=depth * width, offset=_HEADER).reshape(depth, width)


@algorithms.register
class DsCountMin(StreamingAlgorithm):
    """DataSketches ``count_min_sketch(num_hashes, num_buckets, seed)``; defaults as ``count-min``'s.

    ``num_hashes`` (0: ``ceil(ln(n/0.05))``), ``num_buckets`` (0: ``2 ceil(e/eps)``), ``seed``.

    >>> from wbstream.engine.coins import Coins
    >>> p = HeavyHitters(n=1000, M=100, eps=0.2)
    >>> cm = DsCountMin(p.params, Coins.from_seed(0, "doc"))
    >>> cm.update(np.array([7, 300, 7, 12]), np.array([50, 2, 10, 1]))
    >>> cm.num_hashes, cm.num_buckets, cm.query()
    (10, 28, array([7]))
    >>> import datasketches as ds
    >>> direct = ds.count_min_sketch(10, 28, 9001)
    >>> for i, d in [(7, 50), (300, 2), (7, 10), (12, 1)]: direct.update(i, d)
    >>> cm.sketch.get_estimate(7) == direct.get_estimate(7)
    True
    """

    name = "ds-count-min"

    computed_defaults = {"num_hashes": "ceil(ln(n / 0.05))", "num_buckets": "2 ceil(e / eps)"}
    problem = HeavyHitters
    claims = OBLIVIOUS
    guarantee = ("Apache DataSketches' Count-Min: every heavy hitter reported; no false one w.h.p. against "
                 "oblivious streams only (its seed is public)")
    arena_problem = "heavy-hitters(n=20000, M=1048576, eps=0.05)"

    def __init__(self, params, coins, *, num_hashes: int = 0, num_buckets: int = 0, seed: int = DEFAULT_SEED):
        super().__init__(params, coins)
        num_hashes = num_hashes or math.ceil(math.log(params.n / FALSE_REPORT_PROBABILITY))
        num_buckets = num_buckets or 2 * math.ceil(math.e / params.eps)
        if num_hashes < 1 or num_buckets < 2 or not 0 <= seed < 2**63:
            raise ValueError(f"ds-count-min needs num_hashes >= 1, num_buckets >= 2 and 0 <= seed < 2^63, got "
                             f"num_hashes={num_hashes}, num_buckets={num_buckets}, seed={seed}")
        self.num_hashes, self.num_buckets, self.seed = int(num_hashes), int(num_buckets), int(seed)
        self.sketch = datasketches().count_min_sketch(self.num_hashes, self.num_buckets, self.seed)

    def __getstate__(self):  # the package's sketch neither copies nor pickles: its image does
        if self.seed != DEFAULT_SEED:
            raise NotApplicableError(f"a ds-count-min sketch with seed {self.seed} cannot be copied: the package reads "
                            f"images back only under its default seed {DEFAULT_SEED}")
        return {**self.__dict__, "sketch": bytes(self.sketch.serialize())}

    def __setstate__(self, state):
        self.__dict__.update(state)
        self.sketch = datasketches().count_min_sketch.deserialize(state["sketch"])

    def update(self, indices, deltas):
        update = self.sketch.update
        for item, weight in zip(indices.tolist(), deltas.tolist()):  # the package takes one item per call
            update(item, float(weight))

    def estimate(self, indices) -> np.ndarray:
        """The package's estimate of each index's count."""
        return np.array([self.sketch.get_estimate(int(i)) for i in np.asarray(indices).tolist()])

    def query(self):
        m = self.sketch.total_weight
        if m <= 0:
            return np.zeros(0, dtype=np.int64)
        estimate = self.sketch.get_estimate
        threshold = self.params.eps * m
        return np.array([i for i in range(self.params.n) if estimate(i) >= threshold], dtype=np.int64)

    def state(self):
        return {"image": bytes(self.sketch.serialize()), "seed": self.seed,
                "num_hashes": self.num_hashes, "num_buckets": self.num_buckets}

    def space(self):
        state = self.state()
        return Space(8 * len(state["image"]), 0, nbytes_of(state))

    # -- the cover-set interface (markelon-2023) ------------------------------------------------
    @classmethod
    def row_cells(cls, params: Params, state: Mapping, keys: np.ndarray) -> np.ndarray:
        """The bucket of each key in each row, read from images of probe sketches the package builds.

        Each probe inserts up to 52 keys with weights 2^0 .. 2^51; in every row the
        bucket holding bit j of its (exact) double is key j's.
        """
        ds = datasketches()
        depth, width, seed = int(state["num_hashes"]), int(state["num_buckets"]), int(state["seed"])
        keys = np.asarray(keys, dtype=np.int64)
        out = np.empty((depth, len(keys)), dtype=np.int64)
        for start in range(0, len(keys), _PROBE_ITEMS):
            chunk = keys[start:start + _PROBE_ITEMS].tolist()
            probe = ds.count_min_sketch(depth, width, seed)
            for j, key in enumerate(chunk):
                probe.update(key, float(2 ** j))
            table = table_of(bytes(probe.serialize()), depth, width).astype(np.uint64)
            bits = (table[:, :, None] >> np.arange(len(chunk), dtype=np.uint64)) & np.uint64(1)
            out[:, start:start + len(chunk)] = bits.argmax(axis=1)
        return out

    @staticmethod
    def rows_to_cover(depth: int) -> int:
        return depth  # a min over rows: every row
