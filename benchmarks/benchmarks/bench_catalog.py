"""Every registered algorithm: batch update time, query time, space, failure rate per adversary.

Parameters come from the registry and the arena's quick suite, so a newly registered
algorithm or adversary is benchmarked without editing this file. Bodies are thin.
"""

from wbstream.bench import common, engine
from wbstream.arena.matchups import suite
from wbstream.engine.registry import algorithms

ALGORITHMS = algorithms.names()
MATCHUPS = {f"{m.algorithm.split('(')[0]} vs {m.adversary.split('(')[0]}": m for m in suite("quick")}


class Update:
    """Time of one batch of 256 updates on the algorithm's arena problem."""

    params = ALGORITHMS
    param_names = ["algorithm"]

    def setup(self, name):
        self.alg, problem = common.make_algorithm(name, algorithms.get(name).arena_problem)
        self.batch = common.arena_batch(problem, 256, 1)

    def time_batch_update(self, name):
        self.alg.update(self.batch.indices, self.batch.deltas)


class Query:
    """Time of a query after one batch of 256 updates."""

    params = ALGORITHMS
    param_names = ["algorithm"]

    def setup(self, name):
        self.alg, problem = common.make_algorithm(name, algorithms.get(name).arena_problem)
        b = common.arena_batch(problem, 256, 1)
        self.alg.update(b.indices, b.deltas)

    def time_query(self, name):
        self.alg.query()


class SpaceBits:
    """Declared bits on the arena problem (lower is better)."""

    params = ALGORITHMS
    param_names = ["algorithm"]
    unit = "bits"

    def track_state_bits(self, name):
        return common.make_algorithm(name, algorithms.get(name).arena_problem)[0].space().state_bits

    def track_key_bits(self, name):
        return common.make_algorithm(name, algorithms.get(name).arena_problem)[0].space().key_bits


class FailureRate:
    """Failure rate over seeds 0..4 of every quick-suite matchup (lower is better)."""

    params = list(MATCHUPS)
    param_names = ["matchup"]
    unit = "fraction"
    timeout = 600

    def track_failure_rate(self, label):
        return engine.matchup_failure_rate(MATCHUPS[label], trials=5)
