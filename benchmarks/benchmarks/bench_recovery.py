"""The relaxed recoveries on their own: vandermonde's O(k) update against the expander's D buckets."""

from wbstream.bench import common, recovery

KS = [1, 10, 100, 1000]
N, M = 1 << 20, 1 << 20


class RecoveryUpdateAgainstK:
    """Time of one batch of 256 updates to the recovery alone (no tester), n = 2^20."""

    params = (["vandermonde", "expander", "expander D=33"], KS)
    param_names = ["recovery", "k"]

    def setup(self, name, k):
        decs = recovery.decoders(N, k, M)
        if name not in decs:  # the D = 33 twin exists only where fjw24 builds the identity
            raise NotImplementedError
        self.dec = decs[name]
        self.batch = common.random_batch(N, 256, 1, seed=k)

    def time_batch_update(self, name, k):
        self.dec.update(self.batch.indices, self.batch.deltas)


class RecoveryReport:
    """Decode time on a k-sparse vector at n = 2^20."""

    params = (["vandermonde", "expander"], [10, 100])
    param_names = ["recovery", "k"]

    def setup(self, name, k):
        self.dec = recovery.decoders(N, k, M)[name]
        b = common.random_batch(N, k, M, seed=k)
        self.dec.update(b.indices, b.deltas)

    def time_decode(self, name, k):
        self.dec.decode()
