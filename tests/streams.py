"""k-sparse turnstile streams for completeness tests: extremes, clusters, ends, runs back to 0."""

from __future__ import annotations

import numpy as np


def _walk(rng, final: int, M: int) -> list[int]:
    """Deltas taking one coordinate from 0 to ``final`` through values in [-M, M] (extremes and 0 included)."""
    steps = int(rng.integers(1, 6))
    points = []
    for _ in range(steps - 1):
        r = rng.random()
        points.append(M if r < 0.2 else -M if r < 0.4 else 0 if r < 0.5 else int(rng.integers(-M, M + 1)))
    values = [0, *points, final]
    return [b - a for a, b in zip(values, values[1:]) if b != a] or ([final] if final else [])


def make_stream(n: int, k: int, M: int, size: int, shape: str, seed: int):
    """A turnstile stream whose final vector has ``size <= k`` non-zeros, plus its random batch split."""
    rng = np.random.default_rng(seed)
    size = min(size, n)
    if shape == "cluster":
        start = int(rng.integers(0, n - size + 1))
        support = start + rng.choice(min(n - start, 2 * size + 1), size=size, replace=False)
    elif shape == "ends":
        ends = np.array([0, n - 1][:size])
        others = rng.choice(n, size=min(n, size + 2), replace=False)
        support = np.unique(np.r_[ends, np.setdiff1d(others, ends)][:size])
    else:
        support = rng.choice(n, size=size, replace=False)
    x = np.zeros(n, dtype=np.int64)
    for i in support:
        r = rng.random()
        x[i] = M if r < 0.25 else -M if r < 0.5 else int(rng.integers(1, M + 1)) * int(rng.choice([-1, 1]))
    noise = np.setdiff1d(rng.choice(n, size=min(n, 6), replace=False), support)  # up and back to exactly 0
    sequences = [(int(i), _walk(rng, int(x[i]), M)) for i in support] + \
                [(int(i), _walk(rng, 0, M)) for i in noise]
    # interleave at random, keeping each coordinate's own order (so |x_i| <= M at all times)
    total = sum(len(s) for _, s in sequences)
    slots = rng.permutation(total)
    idx = np.zeros(total, dtype=np.int64)
    dlt = np.zeros(total, dtype=np.int64)
    used = 0
    for i, seq in sequences:
        where = np.sort(slots[used:used + len(seq)])
        used += len(seq)
        idx[where], dlt[where] = i, seq
    cuts = np.sort(rng.integers(0, total + 1, size=int(rng.integers(0, 5))))
    bounds = [0, *cuts.tolist(), total]
    batches = [(idx[a:b], dlt[a:b]) for a, b in zip(bounds, bounds[1:])]
    return x, batches
