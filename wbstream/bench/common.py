"""Shared helpers of the benchmark families: timing, and algorithms and batches built from specs.

>>> alg, problem = make_algorithm("countsketch(rows=3, cols=8)", "sparse-recovery(n=64, k=2, M=4)")
>>> b = random_batch(problem.n, 5, 1)
>>> len(b), alg.update(b.indices, b.deltas)
(5, None)
"""

from __future__ import annotations

import time

import numpy as np

from wbstream.engine.coins import Coins
from wbstream.engine.registry import algorithms, problems
from wbstream.engine.stream import Batch, RowBatch


def timed(fn) -> float:
    """Seconds one call of ``fn`` takes."""
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def best_time(fn, repeats: int) -> float:
    """The best of ``repeats`` timings of ``fn``."""
    return min(timed(fn) for _ in range(repeats))


def make_algorithm(spec: str, problem_spec: str, seed: int = 0):
    """An algorithm instance (and its problem) built from specs, as a game would."""
    pcls, popts = problems.resolve(problem_spec)
    problem = pcls(**popts)
    acls, aopts = algorithms.resolve(spec)
    return acls(problem.params, Coins.from_seed(seed, "algorithm"), **aopts), problem


def random_batch(n: int, size: int, bound: int, seed: int = 0) -> Batch:
    """A random batch with distinct indices and small deltas (promise-safe from zero)."""
    rng = np.random.default_rng(seed)
    idx = rng.choice(n, size=min(size, n), replace=False).astype(np.int64)
    return Batch(idx, rng.integers(-bound, bound + 1, size=len(idx)).astype(np.int64))


def arena_batch(problem, size: int, bound: int, seed: int = 0) -> Batch:
    """A promise-safe batch of about ``size`` updates for ``problem``: whole random rows for a row stream."""
    if problem.stream_kind == "rows":
        cols = problem.params.cols
        return RowBatch(np.random.default_rng(seed).uniform(-bound, bound, size=(max(1, size // cols), cols)))
    return random_batch(problem.n, size, bound, seed)
