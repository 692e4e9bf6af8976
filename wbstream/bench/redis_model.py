"""Checks redis-hll's numpy model of Redis's hashing against a real server, on many random items.

``python -m wbstream.bench.redis_model 1000000`` prints whether the model predicts
every register of a real Redis HLL after that many random items (the tests check
10^5; this is the 10^6 figure quoted in docs/distinct-heavy.md).
"""

from __future__ import annotations

import sys

import numpy as np

from wbstream.algorithms.distinct import redis_format as fmt
from wbstream.algorithms.distinct.redis_hll import RedisHll
from wbstream.engine.problems import DistinctElements


def check_model(count: int, seed: int = 0) -> bool:
    """Whether the numpy model predicts a real server's registers exactly on ``count`` random items."""
    items = np.random.default_rng(seed).integers(0, 2**63 - 1, count, dtype=np.int64)
    sketch = RedisHll(DistinctElements(n=2, insertion_only=True).params, None)
    sketch.update(items, np.ones(count, dtype=np.int64))
    index, rho = fmt.cells(fmt.murmur64a(items))
    predicted = np.zeros(fmt.P_REGISTERS, dtype=np.uint8)
    np.maximum.at(predicted, index, rho.astype(np.uint8))
    return bool(np.array_equal(predicted, sketch.state()["registers"]))


if __name__ == "__main__":
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 10**6
    print(f"model == Redis registers on {n:,} random items: {check_model(n)}")
