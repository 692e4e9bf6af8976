"""Engine and first-algorithm benchmarks. Bodies are thin calls into wbstream.bench."""

from wbstream.bench import common, engine

ALGORITHMS = {
    "exact": "sparse-recovery(n=100000, k=8, M=1024)",
    "countsketch(rows=5, cols=64)": "sparse-recovery(n=100000, k=8, M=1024)",
    "ams(means=16, medians=5)": "f2(n=100000, M=1024, eps=0.5)",
}


class BatchUpdate:
    """Time of one batch update of 10^4 updates, per algorithm."""

    params = list(ALGORITHMS)
    param_names = ["algorithm"]

    def setup(self, spec):
        self.alg, problem = common.make_algorithm(spec, ALGORITHMS[spec])
        self.batch = common.random_batch(problem.n, 10_000, 1)

    def time_batch_update(self, spec):
        self.alg.update(self.batch.indices, self.batch.deltas)


class Space:
    """Declared bits of state and key, per algorithm (lower is better)."""

    params = list(ALGORITHMS)
    param_names = ["algorithm"]
    unit = "bits"

    def track_state_bits(self, spec):
        return common.make_algorithm(spec, ALGORITHMS[spec])[0].space().state_bits

    def track_key_bits(self, spec):
        return common.make_algorithm(spec, ALGORITHMS[spec])[0].space().key_bits


class FailureRate:
    """Failure rate over fixed seeds: CountSketch and AMS under the kernel attack and oblivious streams."""

    params = (["countsketch", "ams"], ["kernel-injection", "oblivious"])
    param_names = ["algorithm", "adversary"]
    unit = "fraction"
    timeout = 600

    def track_failure_rate(self, algorithm, adversary):
        return engine.failure_rate(algorithm, adversary, trials=20)


class EngineOverhead:
    """Seconds per round of the no-op adaptive game (engine cost alone)."""

    unit = "seconds"

    def track_engine_seconds_per_round(self):
        e = engine.engine_overhead(rounds=20_000, repeats=1)
        return e["game_s"] / e["rounds"]


class Isolation:
    """Isolated over in-process game time (one run, timed alternately): batches, single-update rounds, blocks."""

    unit = "ratio"
    timeout = 600

    def setup_cache(self):
        return {row["case"]: row["ratio"] for row in engine.isolation_overhead(repeats=1)}

    def track_batches_of_10k(self, ratios):
        return ratios["batches of 10^4 updates, adaptive, countsketch(rows=5, cols=64)"]

    def track_single_update_adaptive(self, ratios):
        return ratios["single-update adaptive rounds, no-op game"]

    def track_oblivious_blocks(self, ratios):
        return ratios["single-update oblivious rounds (blocks), no-op game"]
