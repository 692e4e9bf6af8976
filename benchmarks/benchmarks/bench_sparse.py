"""FW'23 vs FJW'24 (and the Vandermonde recovery inside both). Bodies are thin calls into wbstream."""

from wbstream.bench import common, sparse

KS = [1, 10, 100]
SPARSE = ["vandermonde", "fw23(preset='toy')", "fjw24(preset='toy')"]


class UpdateAgainstK:
    """Time of one batch of 256 updates, n = 2^20: fw23 grows with k, fjw24's tester does not."""

    params = (SPARSE, KS)
    param_names = ["algorithm", "k"]

    def setup(self, spec, k):
        self.alg, problem = common.make_algorithm(spec, f"sparse-recovery(n={1 << 20}, k={k}, M={1 << 20})")
        self.batch = common.random_batch(problem.n, 256, 1, seed=k)

    def time_batch_update(self, spec, k):
        self.alg.update(self.batch.indices, self.batch.deltas)


class ReportAgainstK:
    """Time of a query on a k-sparse vector, n = 2^16."""

    params = (SPARSE, KS)
    param_names = ["algorithm", "k"]

    def setup(self, spec, k):
        self.alg, problem = common.make_algorithm(spec, f"sparse-recovery(n={1 << 16}, k={k}, M=1024)")
        b = common.random_batch(problem.n, k, 1024, seed=k)
        self.alg.update(b.indices, b.deltas)

    def time_query(self, spec, k):
        self.alg.query()


class Fjw24Moderate:
    """fjw24's batched tester at the moderate preset: seconds per update (lower is better)."""

    unit = "seconds"
    timeout = 300

    def track_tester_seconds_per_update(self):
        b = sparse.fjw24_blas_share(repeats=1)
        return b["update_s"] / b["batch"]

    def track_blas_idle_fraction(self):
        return 1.0 - sparse.fjw24_blas_share(repeats=1)["blas_share"]

    track_blas_idle_fraction.unit = "fraction"


class SmallBatchMapped:
    """One level product of m columns on 256 rows of a memory-mapped sec64 level: limb path time over integer path."""

    params = [1, 2]
    param_names = ["m"]
    unit = "ratio"
    timeout = 300

    def track_limb_over_integer(self, m):
        return sparse.fjw24_small_batch((m,), big=0, rows=256, repeats=3)["rows_of"][0]["ratio"]


class PresetSpace:
    """Declared bits at n = 10^6, k = 100, M = 2^20, for every preset (lower is better)."""

    params = [f"{a}:{p}" for a in ("fw23", "fjw24") for p in ("toy", "moderate", "sec64", "sec128")]
    param_names = ["preset"]
    unit = "bits"

    def _row(self, preset):
        algorithm, name = preset.split(":")
        return next(r for r in sparse.preset_table(10**6, 100, 1 << 20)
                    if r["algorithm"] == algorithm and r["preset"] == name)

    def track_state_bits(self, preset):
        return self._row(preset)["state_bits"]

    def track_key_bits(self, preset):
        return self._row(preset)["key_bits"]


class Attacks:
    """Failure rate over fixed seeds of the sparse recoveries under their attacks (lower is better)."""

    params = (["vandermonde", "fw23(preset='toy')", "fjw24(preset='toy')"], ["finite-difference", "lattice"])
    param_names = ["algorithm", "adversary"]
    unit = "fraction"
    timeout = 600

    def track_failure_rate(self, spec, adversary):
        if adversary == "lattice" and spec == "vandermonde":
            return float("nan")  # the lattice attack targets a tester; kernel-injection covers vandermonde
        return sparse.attack_failure_rate(spec, adversary, trials=5)
