"""Low-rank sketches: robust-rank against k and size, row sketches against numpy's SVD. Thin calls into wbstream."""

import numpy as np

from wbstream.bench import common, lowrank

SIZES = ["16x16", "32x32", "64x64"]
KS = [1, 2, 4, 8]


def _shape(size):
    rows, cols = map(int, size.split("x"))
    return rows, cols


class RobustRankUpdate:
    """One batch of 256 entry updates (tester included), for each matrix size and k."""

    params = (SIZES, KS)
    param_names = ["size", "k"]

    def setup(self, size, k):
        rows, cols = _shape(size)
        self.alg, _ = common.make_algorithm("robust-rank(preset='toy')", f"rank-recovery(rows={rows}, cols={cols}, k={k})")
        self.batch = common.random_batch(rows * cols, 256, 1, seed=k)

    def time_batch_update(self, size, k):
        self.alg.update(self.batch.indices, self.batch.deltas)


class RobustRankReport:
    """A query on a matrix of rank exactly k."""

    params = (SIZES, KS)
    param_names = ["size", "k"]

    def setup(self, size, k):
        rows, cols = _shape(size)
        self.alg, _ = common.make_algorithm("robust-rank(preset='toy')",
                                          f"rank-recovery(rows={rows}, cols={cols}, k={k}, M={1 << 20})")
        X = lowrank.planted(rows, cols, k, 1 << 19)
        idx = np.flatnonzero(X)
        self.alg.update(idx, X.ravel()[idx])

    def time_query(self, size, k):
        self.alg.query()


class RobustRankSpace:
    """Declared bits of the Gabidulin syndromes (lower is better)."""

    params = (SIZES, KS)
    param_names = ["size", "k"]
    unit = "bits"

    def track_syndrome_bits(self, size, k):
        rows, cols = _shape(size)
        alg, _ = common.make_algorithm("robust-rank(preset='toy')", f"rank-recovery(rows={rows}, cols={cols}, k={k})")
        return alg.decoder.state_bits()


class RowSketchesAgainstSvd:
    """Seconds of a row sketch over a 4096 x 64 stream divided by numpy's SVD of the whole matrix."""

    params = [list(lowrank.ROW_SKETCHES)]
    param_names = ["algorithm"]
    unit = "ratio"
    timeout = 300

    def track_time_ratio_to_svd(self, spec):
        return lowrank.row_sketch_vs_svd(spec, repeats=2)["ratio"]
