"""Engine measurements: the game's own overhead, process isolation, batching, first matchups.

Each function measures both sides of a ratio in the same run.
"""

from __future__ import annotations

import numpy as np

from wbstream.engine.adversary import Adversary
from wbstream.engine.algorithm import Space, StreamingAlgorithm
from wbstream.engine.chunking import unchunked
from wbstream.engine.game import Budget, Game
from wbstream.engine.problems import F2Estimation
from wbstream.engine.stream import Batch
from wbstream.engine.threat import ADAPTIVE, STATE_ONLY

from .common import make_algorithm, random_batch, timed


class NoOpAlgorithm(StreamingAlgorithm):
    """Does nothing; answers 0. Isolates the engine's own cost."""

    name = "noop"
    problem = F2Estimation

    def update(self, indices, deltas):
        return None

    def query(self):
        return 0.0

    def state(self):
        return {}

    def space(self):
        return Space(0, 0, 0)


class NoOpAdversary(Adversary):
    """Sends the same pre-built single update (delta 0) every round."""

    name = "noop"

    def __init__(self):
        self.batch = Batch(np.zeros(1, np.int64), np.zeros(1, np.int64))

    def act(self, obs):
        return self.batch


def engine_overhead(rounds: int = 100_000, query_every: int = 1, repeats: int = 5) -> dict:
    """Seconds for an adaptive no-op game vs a bare loop calling the same two methods.

    The two are timed alternately, ``repeats`` times each, and the best of each is kept,
    so both see the same machine state.
    """
    game = Game("f2(n=16, M=4, eps=0.5)", NoOpAlgorithm, NoOpAdversary, ADAPTIVE,
                budget=Budget(updates=None, rounds=rounds), query_every=query_every, seed=0)

    def bare():
        alg = NoOpAlgorithm(None, None)
        update = unchunked(alg)  # what the game calls for a single update
        adv = NoOpAdversary()
        obs = None
        for _ in range(rounds):
            b = adv.act(obs)
            update(b.indices, b.deltas)

    best_game = best_bare = float("inf")
    for _ in range(repeats):
        best_game = min(best_game, timed(game.play))
        best_bare = min(best_bare, timed(bare))
    return {"rounds": rounds, "game_s": best_game, "bare_s": best_bare, "ratio": best_game / best_bare}


class AlternatingBatches(Adversary):
    """Sends one pre-built batch of distinct indices, +1 then -1 in turn (the vector stays within 1)."""

    name = "alternating-batches"
    needs = ADAPTIVE

    def __init__(self, *, size: int = 10_000):
        self.size = size

    def reset(self, params, rng):
        super().reset(params, rng)
        idx = np.arange(self.size, dtype=np.int64) * (params.n // self.size)
        self.up, self.down = Batch(idx, np.ones(self.size, np.int64)), Batch(idx, -np.ones(self.size, np.int64))

    def act(self, obs):
        return self.up if obs.round % 2 else self.down


def isolation_overhead(repeats: int = 3) -> list[dict]:
    """Isolated (``isolation="process"``) against in-process games, timed alternately in one run.

    Five cases: an adaptive adversary sending batches of 10^4 updates to
    countsketch; single-update adaptive rounds of the no-op game with one query at
    the end (the child plays up to each query's round in a block), then with a query
    every round (one round trip per round); single-update state-only rounds (one
    round trip per round: the state changes with every update); and the oblivious
    level (rounds in blocks).
    """
    noop = ("f2(n=16, M=4, eps=0.5)", NoOpAlgorithm, NoOpAdversary)
    cases = [
        ("batches of 10^4 updates, adaptive, countsketch(rows=5, cols=64)",
         ("sparse-recovery(n=100000, k=8, M=1024)", "countsketch(rows=5, cols=64)", AlternatingBatches, ADAPTIVE),
         200, None),
        ("single-update adaptive rounds, one query at the end, no-op game", (*noop, ADAPTIVE), 20_000, None),
        ("single-update adaptive rounds, a query every round, no-op game", (*noop, ADAPTIVE), 20_000, 1),
        ("single-update state-only rounds, no-op game", (*noop, STATE_ONLY), 20_000, None),
        ("single-update oblivious rounds (blocks), no-op game", (*noop, "oblivious"), 100_000, None),
    ]
    out = []
    for label, (problem, alg, adv, threat), rounds, every in cases:
        games = {iso: Game(problem, alg, adv, threat, budget=Budget(updates=None, rounds=rounds),
                           query_every=every or rounds, seed=0, isolation=iso) for iso in ("none", "process")}
        best = {iso: float("inf") for iso in games}
        for _ in range(repeats):
            for iso, game in games.items():
                best[iso] = min(best[iso], timed(game.play))
        out.append({"case": label, "rounds": rounds, "in_process_s": best["none"], "isolated_s": best["process"],
                    "ratio": best["process"] / best["none"]})
    return out


def batch_speedup(spec: str = "countsketch(rows=5, cols=64)",
                  problem_spec: str = "sparse-recovery(n=100000, k=8, M=1024)",
                  batch: int = 10_000, singles: int = 2_000, repeats: int = 3) -> dict:
    """Updates per second in batches of ``batch`` vs one update per call."""
    alg, problem = make_algorithm(spec, problem_spec)
    b = random_batch(problem.n, batch, 1)
    t_batch = min(timed(lambda: alg.update(b.indices, b.deltas)) for _ in range(repeats))
    idx, dlt = b.indices[:singles], b.deltas[:singles]
    one = [(idx[j:j + 1], dlt[j:j + 1]) for j in range(singles)]

    def singly():
        for i, d in one:
            alg.update(i, d)

    t_single = min(timed(singly) for _ in range(repeats))
    batch_rate, single_rate = len(b) / t_batch, singles / t_single
    return {"batch_updates_per_s": batch_rate, "single_updates_per_s": single_rate,
            "ratio": batch_rate / single_rate}


#: The standard first matchups: (problem, algorithm, white-box adversary, oblivious adversary, query_every).
MATCHUPS = {
    "countsketch": ("sparse-recovery(n=512, k=2, M=1024)", "countsketch(rows=5, cols=16)",
                    "random-sparse(rounds=20)", 1),
    "ams": ("f2(n=2048, M=1024, eps=0.5)", "ams(means=16, medians=5)", "dense(rounds=20, batch=256)", 20),
}


def failure_rate(algorithm: str, adversary: str, trials: int = 20) -> float:
    """Failure rate over seeds 0..trials-1; ``adversary`` is 'kernel-injection' or 'oblivious'."""
    problem, spec, oblivious, every = MATCHUPS[algorithm]
    if adversary == "kernel-injection":
        game = Game(problem, spec, "kernel-injection", "white-box", seed=0)
    else:
        game = Game(problem, spec, oblivious, "oblivious", query_every=every, seed=0)
    failures = 0
    for seed in range(trials):
        game.seed = seed
        failures += game.play().failed
    return failures / trials


def matchup_failure_rate(matchup, trials: int = 5) -> float:
    """Failure rate of an arena matchup over seeds 0..trials-1 (games that error count as failures)."""
    failures = 0
    for seed in range(trials):
        try:
            failures += matchup.game(seed).play().failed
        except Exception:
            failures += 1
    return failures / trials
