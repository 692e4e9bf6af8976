"""Oblivious stream generators: they see only public parameters and the round.

Each plans from its own generator, so the stream could be fixed up front.
"""

from __future__ import annotations

import numpy as np

from wbstream.engine.adversary import Adversary
from wbstream.engine.errors import NotApplicableError, SpecError, at_least
from wbstream.engine.registry import adversaries, problems
from wbstream.engine.stream import Batch
from wbstream.engine.threat import OBLIVIOUS


def insertion_only(params) -> bool:
    """Whether the problem accepts only positive deltas (a parameter, or its class's rule)."""
    return bool(params.get("insertion_only", False) or getattr(problems.get(params.kind), "insertion_only", False))


def _nonzero_values(rng: np.random.Generator, size: int, bound: int) -> np.ndarray:
    """Uniform non-zero integers in ``[-bound, bound]``."""
    mag = rng.integers(1, bound + 1, size=size)
    return mag * rng.choice(np.array([-1, 1]), size=size)


@adversaries.register
class RandomSparse(Adversary):
    """A random k-sparse turnstile stream: each round moves x to a fresh sparse vector.

    Every intermediate vector has at most ``sparsity`` non-zeros (default: the
    problem's k), with entries in ``[-M, M]``; supports sometimes cluster, touch
    indices 0 and n-1, or have exactly ``sparsity`` entries. On an insertion-only
    problem x can only grow: each round inserts positive counts on such a support.

    >>> from wbstream.engine.game import Game
    >>> Game("sparse-recovery(n=500, k=4, M=9)", "exact", "random-sparse(rounds=3)", "oblivious").play().rounds
    3
    """

    name = "random-sparse"

    computed_defaults = {"sparsity": "the problem's k"}
    needs = OBLIVIOUS

    def __init__(self, *, rounds: int = 20, sparsity: int = 0):
        at_least("random-sparse", rounds=(rounds, 0), sparsity=(sparsity, 0))
        self.rounds, self.sparsity = rounds, sparsity

    def reset(self, params, rng):
        super().reset(params, rng)
        self.s = self.sparsity or params.get("k", 8)
        self.insertion_only = insertion_only(params)
        self.x = np.zeros(params.n, dtype=np.int64)

    def _support(self, size: int) -> np.ndarray:
        n, rng = self.params.n, self.rng
        size = min(size, n)
        shape = rng.integers(0, 3)
        if shape == 0:  # spread out
            return rng.choice(n, size=size, replace=False)
        if shape == 1:  # a cluster
            start = rng.integers(0, n - size + 1)
            return start + rng.choice(min(n - start, 4 * size), size=size, replace=False)
        ends = np.array([0, n - 1][:size])  # the universe's ends, plus the rest at random
        rest = np.setdiff1d(np.arange(n), ends) if n <= 4096 else None
        extra = rng.choice(rest, size=size - len(ends), replace=False) if rest is not None else \
            np.setdiff1d(rng.choice(np.arange(1, n - 1), size=size + 8, replace=False), ends)[:size - len(ends)]
        return np.unique(np.r_[ends, extra])[:size]

    def act(self, obs):
        if obs.round > self.rounds:
            return None
        size = self.s if self.rng.random() < 0.3 else int(self.rng.integers(1, self.s + 1))
        support = self._support(size)
        if self.insertion_only:
            # insertion-only: x can only grow, so each round inserts into a fresh sparse support
            delta = np.minimum(self.rng.integers(1, self.params.M + 1, size=len(support)), self.params.M - self.x[support])
            keep = delta > 0
            self.x[support[keep]] += delta[keep]
            return Batch(support[keep].astype(np.int64), delta[keep].astype(np.int64))
        new = np.zeros_like(self.x)
        new[support] = _nonzero_values(self.rng, len(support), self.params.M)
        changed = np.flatnonzero(new != self.x)
        changed = self.rng.permutation(changed)
        delta = new[changed] - self.x[changed]
        self.x = new
        return Batch(changed.astype(np.int64), delta.astype(np.int64))


@adversaries.register
class Dense(Adversary):
    """A dense random stream: ``batch`` random coordinates per round, random deltas.

    Deltas are drawn in ``[-M/4, M/4]`` (positive only for insertion-only problems)
    and clipped so the promise ``|x_i| <= M`` always holds.

    >>> from wbstream.engine.game import Game
    >>> r = Game("f2(n=4096, M=64, eps=0.5)", "ams(means=16, medians=5)", "dense(rounds=4, batch=512)",
    ...          "oblivious", query_every=4, seed=1).play()
    >>> r.updates <= 4 * 512, r.failed
    (True, False)
    """

    name = "dense"
    needs = OBLIVIOUS

    def __init__(self, *, rounds: int = 20, batch: int = 256):
        at_least("dense", rounds=(rounds, 0), batch=(batch, 1))
        self.rounds, self.batch = rounds, batch

    def reset(self, params, rng):
        super().reset(params, rng)
        self.x = np.zeros(params.n, dtype=np.int64)
        self.positive = insertion_only(params)

    def act(self, obs):
        if obs.round > self.rounds:
            return None
        n, M = self.params.n, self.params.M
        idx = self.rng.choice(n, size=min(self.batch, n), replace=False).astype(np.int64)
        step = max(1, M // 4)
        if self.positive:
            delta = np.minimum(self.rng.integers(1, step + 1, size=len(idx)), M - self.x[idx])
        else:
            delta = np.clip(_nonzero_values(self.rng, len(idx), step), -M - self.x[idx], M - self.x[idx])
        keep = delta != 0
        idx, delta = idx[keep], delta[keep].astype(np.int64)
        self.x[idx] += delta
        return Batch(idx, delta)


def zipf_stream(rng: np.random.Generator, n: int, length: int, s: float) -> np.ndarray:
    """``length`` unit insertions; the item of rank r has probability ~ 1/r^s; ranks placed at random in [0, n).

    >>> items = zipf_stream(np.random.default_rng(0), 1000, 10_000, 1.2)
    >>> counts = np.bincount(items, minlength=1000)
    >>> len(items), int((counts > 0).sum()) < 1000, int(counts.max()) > 1000
    (10000, True, True)
    """
    p = 1.0 / np.arange(1, n + 1) ** s
    return rng.permutation(n)[rng.choice(n, size=length, p=p / p.sum())].astype(np.int64)


@adversaries.register
class Zipf(Adversary):
    """An insertion-only Zipf(s) stream of ``length`` unit insertions, in ``rounds`` batches.

    The usual oblivious workload for heavy hitters and frequency sketches: a few
    items carry most of the mass, a long tail carries the rest. Counts are capped
    only by the promise, so ``length`` must not exceed M.

    >>> from wbstream.engine.game import Game
    >>> r = Game("heavy-hitters(n=10000, M=100000, eps=0.05)", "misra-gries", "zipf(length=50000)",
    ...          "oblivious", seed=0).play()
    >>> r.failed, r.updates, r.rounds
    (False, 50000, 10)
    """

    name = "zipf"
    needs = OBLIVIOUS

    def __init__(self, *, length: int = 100_000, rounds: int = 10, s: float = 1.1):
        at_least("zipf", length=(length, 1), rounds=(rounds, 1))
        if not s > 0:
            raise SpecError(f"zipf: s must be > 0, got s={s!r}")
        self.length, self.rounds, self.s = length, rounds, s

    def applies_to(self, algorithm_cls, problem_cls):
        from wbstream.engine.problems import HeavyHitters

        if not issubclass(problem_cls, HeavyHitters):
            return False, (f"a Zipf stream is a heavy-hitters workload; {getattr(problem_cls, 'name', problem_cls)!r} "
                           f"streams have other promises (its top counts could pass M)")
        return True, ""

    def reset(self, params, rng):
        super().reset(params, rng)
        if self.length > params.M:
            raise NotApplicableError(f"zipf: length {self.length} > M = {params.M}: the top item's count could "
                                     f"break the promise |x_i| <= M")
        self.parts = np.array_split(zipf_stream(rng, params.n, self.length, self.s), self.rounds)

    def act(self, obs):
        if obs.round > self.rounds:
            return None
        part = self.parts[obs.round - 1]
        return Batch(part, np.ones(len(part), dtype=np.int64))
