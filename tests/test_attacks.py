"""The headline: a white-box kernel attack breaks CountSketch and AMS, which hold up against oblivious streams."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from wbstream.adversaries.kernel import KernelInjection
from wbstream.adversaries.reduction import fpylll_available, short_kernel_vectors
from wbstream.algorithms.norms.ams import AMS
from wbstream.algorithms.sparse.countsketch import CountSketchRecovery
from wbstream.engine.answers import SparseVector
from wbstream.engine.game import Game
from wbstream.engine.stats import wilson_interval

pytestmark = pytest.mark.skipif(not fpylll_available(), reason="the attacks need fpylll (wbstream[attacks])")

TRIALS = range(40)
CS = dict(problem="sparse-recovery(n=512, k=2, M=1024)", algorithm="countsketch(rows=5, cols=16)",
          white_box="kernel-injection", oblivious="random-sparse(rounds=20)", every=1,
          kinds={"missed-not-sparse", "wrong-vector"})
AMS_CFG = dict(problem="f2(n=2048, M=1024, eps=0.5)", algorithm="ams(means=16, medians=5)",
               white_box="kernel-injection", oblivious="dense(rounds=20, batch=256)", every=20,
               kinds={"out-of-factor"})
CONFIGS = [pytest.param(CS, id="countsketch"), pytest.param(AMS_CFG, id="ams")]


# -- the 40-trial comparison ----------------------------------------------------------------

@pytest.mark.slow
@pytest.mark.parametrize("cfg", CONFIGS)
def test_the_kernel_attack_wins_at_least_95_percent_of_trials(cfg):
    results = [Game(cfg["problem"], cfg["algorithm"], cfg["white_box"], "white-box", seed=s).play()
               for s in TRIALS]
    failures = sum(r.failed for r in results)
    assert failures >= 0.95 * len(TRIALS), f"the attack won only {failures}/{len(TRIALS)}"
    for r in results:
        if r.failed:
            assert r.failure_kind in cfg["kinds"], r.failure_detail
            assert (r.first_failure_round, r.rounds, r.stop_reason) == (1, 1, "failure")
    assert wilson_interval(failures, len(TRIALS))[0] > 0.8


@pytest.mark.slow
@pytest.mark.parametrize("cfg", CONFIGS)
def test_oblivious_streams_break_the_sketches_in_at_most_5_percent_of_trials(cfg):
    results = [Game(cfg["problem"], cfg["algorithm"], cfg["oblivious"], "oblivious", seed=s,
                    query_every=cfg["every"]).play() for s in TRIALS]
    failures = sum(r.failed for r in results)
    assert failures <= 0.05 * len(TRIALS), f"oblivious streams broke it {failures}/{len(TRIALS)} times"
    for r in results:
        assert r.rounds == 20 and r.stop_reason in ("adversary-stopped", "failure")
    assert {r.queries for r in results if not r.failed} == ({20} if cfg["every"] == 1 else {1})


# -- what the attack does ----------------------------------------------------------------------

LIVE: list = []


class RecordingKernelInjection(KernelInjection):
    """Kernel injection that remembers its target and the batch it sent."""

    name = "recording-kernel-injection"

    def _target(self):
        self.target = super()._target()
        return self.target

    def act(self, obs):
        batch = super().act(obs)
        if batch is not None:
            self.sent = batch
            self.seen_state = {k: np.array(v, copy=True) for k, v in obs.state().items()}
            LIVE.append(self)
        return batch


def tracked(base):
    class Tracked(base):
        def __init__(self, params, coins, **options):
            super().__init__(params, coins, **options)
            LIVE.append(self)

    return Tracked


@pytest.mark.parametrize("base, cfg, options", [
    (CountSketchRecovery, CS, {"rows": 5, "cols": 16}),
    (AMS, AMS_CFG, {"means": 16, "medians": 5}),
])
@pytest.mark.parametrize("seed", [0, 1])
def test_the_injected_vector_is_in_the_kernel_and_fools_the_sketch(base, cfg, options, seed):
    LIVE.clear()
    result = Game(cfg["problem"], tracked(base), RecordingKernelInjection, "white-box", seed=seed,
                  algorithm_options=options).play()
    alg = next(o for o in LIVE if isinstance(o, base))
    adv = next(o for o in LIVE if isinstance(o, RecordingKernelInjection))
    params = alg.params
    n, M = params.n, params.M
    support, values = adv.target
    target = np.zeros(n, dtype=np.int64)
    target[support] = values
    streamed = np.zeros(n, dtype=np.int64)
    np.add.at(streamed, adv.sent.indices, adv.sent.deltas)
    z = streamed - target
    assert z.any(), "the attack streamed only its target"
    assert np.abs(streamed).max() <= M and np.abs(z).max() <= M
    assert not np.intersect1d(np.flatnonzero(z), support).size  # supports are disjoint
    S = base.sketch_columns(params, adv.seen_state, np.arange(n))
    np.testing.assert_array_equal(S @ z, 0)  # z is in the kernel of the whole sketch matrix
    np.testing.assert_array_equal(alg.sketch(), S @ target)  # so the sketch is the target's
    kv = adv.kernel_vector  # the short vector LLL found, on the adversary's chosen columns
    assert sorted(kv[kv != 0].tolist()) == sorted(z[z != 0].tolist())
    assert result.failed and result.failure_kind in cfg["kinds"]
    answer = alg.query()
    if base is CountSketchRecovery:
        assert np.count_nonzero(streamed) > params.k
        assert answer == SparseVector.from_dense(target)  # it recovers the decoy
        assert result.failure_kind == "missed-not-sparse"
    else:
        assert len(support) == 0 and answer == 0.0  # F2 reported as 0 for a non-zero vector
        assert float(np.dot(streamed, streamed)) > 0


@given(st.integers(1, 4), st.integers(0, 4), st.integers(0, 10**6))
def test_short_kernel_vectors_are_non_zero_kernel_vectors(rows, extra, seed):
    d = rows + 1 + extra
    A = np.random.default_rng(seed).integers(-5, 6, size=(rows, d))
    found = short_kernel_vectors(A)
    rank = np.linalg.matrix_rank(A)
    assert len(found) >= 1 and len(found) <= d - rank
    for z in found:
        assert z.dtype == np.int64 and z.shape == (d,)
        assert z.any()
        np.testing.assert_array_equal(A @ z, 0)
    norms = [int(np.abs(z).max()) for z in found]
    assert norms == sorted(norms)


def test_short_kernel_vectors_on_small_known_matrices():
    A = np.array([[1, 1, 0], [0, 1, 1]])
    (z,) = short_kernel_vectors(A)
    assert sorted(np.abs(z).tolist()) == [1, 1, 1] and not (A @ z).any()
    # a full-rank square matrix has no kernel
    assert short_kernel_vectors(np.array([[2, 1], [1, 1]])) == []
    # modulo q, the kernel vectors only need B z = 0 (mod 7)
    B = np.array([[1, 3, 5]])
    for z in short_kernel_vectors(B, modulus=7):
        assert z.any() and int((B @ z)[0]) % 7 == 0
    assert short_kernel_vectors(B, modulus=7)


def test_kernel_vectors_of_a_real_sketch_matrix():
    from wbstream.engine.coins import Coins
    from wbstream.engine.problems import SparseRecovery
    p = SparseRecovery(n=512, k=2, M=1024)
    cs = CountSketchRecovery(p.params, Coins.from_seed(0, "algorithm"), rows=3, cols=8)
    cols = np.arange(40)
    A = CountSketchRecovery.sketch_columns(p.params, cs.state(), cols)
    found = short_kernel_vectors(A)
    assert found
    z = found[0]
    assert z.any() and not (A @ z).any() and np.abs(z).max() <= p.M
    cs.update(cols[np.flatnonzero(z)], z[np.flatnonzero(z)])
    assert not cs.sketch().any()  # the sketch cannot see z at all
