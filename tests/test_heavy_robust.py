"""Heavy hitters: every algorithm against the exact answer, and which ones a white-box adversary breaks.

Misra–Gries (deterministic) and the Ajtai et al. sampler (fresh coins) survive the white-box
counter-starver; Count-Min and CountSketch fall to cover sets read from their hash seeds.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from wbstream.algorithms.heavy.count_min import CountMin
from wbstream.algorithms.heavy.countsketch_hh import CountSketchHH
from wbstream.algorithms.heavy.ds_count_min import DsCountMin
from wbstream.algorithms.heavy.misra_gries import MisraGries
from wbstream.algorithms.heavy.robust_sampler import MorrisCounter, RobustSampler
from wbstream.engine.coins import Coins
from wbstream.engine.game import Game
from wbstream.engine.problems import HeavyHitters
from wbstream.engine.stream import Batch

ARENA = "heavy-hitters(n=100000, M=1048576, eps=0.05)"
ALGORITHMS = [MisraGries, CountMin, CountSketchHH, RobustSampler, DsCountMin]


@st.composite
def planted_streams(draw):
    """A stream with a few clearly heavy items (>= 2 eps m) and a light tail (<= eps m / 4 each)."""
    eps = draw(st.sampled_from([0.05, 0.1, 0.2]))
    heavy = draw(st.integers(0, int(0.4 / eps)))
    tail = draw(st.integers(200, 3000))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    items = rng.choice(20_000, size=heavy + tail, replace=False).astype(np.int64)
    tail_counts = rng.integers(1, 5, size=tail)
    # each heavy item gets 2 eps of the final m: m = tail_mass / (1 - 2 eps heavy)
    m = int(math.ceil(tail_counts.sum() / (1 - 2 * eps * heavy)))
    counts = np.r_[np.full(heavy, math.ceil(2 * eps * m)), tail_counts].astype(np.int64)
    stream = np.repeat(items, counts)
    return eps, seed, rng.permutation(stream), draw(st.integers(1, 8))


@pytest.mark.parametrize("cls", ALGORITHMS, ids=lambda c: c.name)
@given(case=planted_streams())
@settings(max_examples=15, deadline=None)
def test_exact_heavy_hitters_on_oblivious_planted_streams(cls, case):
    eps, seed, stream, pieces = case
    p = HeavyHitters(n=20_000, M=1 << 20, eps=eps)
    alg = cls(p.params, Coins.from_seed(seed, "algorithm"))
    for part in np.array_split(stream, pieces):
        b = Batch(part, np.ones(len(part), dtype=np.int64))
        p.apply(b)
        alg.update(b.indices, b.deltas)
    answer = alg.query()
    assert p.judge(answer).correct, p.judge(answer).detail
    np.testing.assert_array_equal(np.sort(answer), p.exact_answer(p.x))  # the margins leave no grey zone


# -- the sampler ----------------------------------------------------------------------------

def test_morris_counter_is_unbiased_and_small():
    rng = np.random.default_rng(0)
    estimates, xs = [], []
    for _ in range(300):
        c = MorrisCounter(a=1 / 16)
        for _ in range(20):
            c.add(5_000, rng)
        estimates.append(c.estimate())
        xs.append(c.x)
    assert abs(np.mean(estimates) / 100_000 - 1) < 0.03
    assert 0.1 < np.std(estimates) / 100_000 < 0.25  # about sqrt(a/2) = 0.18
    assert max(xs).bit_length() <= 8  # log2 log_{1+a}(a m) bits
    with pytest.raises(ValueError, match="0 < a <= 1"):
        MorrisCounter(a=0)


def test_sampler_thins_on_long_streams_and_stays_correct():
    r = Game("heavy-hitters(n=100000, M=4194304, eps=0.1)", "robust-sampler", "zipf(length=2000000)",
             "oblivious", seed=1).play()
    assert not r.failed, r.failure_detail
    p = HeavyHitters(n=100_000, M=1 << 22, eps=0.1)
    s = RobustSampler(p.params, Coins.from_seed(0, "t"))
    for _ in range(20):
        s.update(np.random.default_rng(0).integers(0, 100, size=100_000), np.ones(100_000, dtype=np.int64))
    assert s.level >= 6 and s.summary.m <= 2 * s.samples
    # each counter needs about log2(2T) bits, against log2(m) = 21 for Misra–Gries on the whole stream
    assert int(s.summary.counts.max()).bit_length() <= (2 * s.samples).bit_length() < (2_000_000).bit_length()


def test_sampler_draws_fresh_coins_per_batch_after_the_batch_is_committed():
    coins = Coins.from_seed(0, "t")
    p = HeavyHitters(n=1000, M=1000, eps=0.1)
    s = RobustSampler(p.params, coins)
    for r in (1, 2, 3):
        coins.round = r  # the engine's clock: draws are logged with the round they happen in
        s.update(np.array([1, 2]), np.array([3, 4]))
    draws = [d for d in coins.log if d.label == "robust-sampler/batch"]
    assert [d.round for d in draws] == [1, 2, 3] and len({d.offset for d in draws}) == 3
    assert s.state().keys() == {"keys", "counts", "sampled", "level", "morris"}  # no key: nothing to steal
    assert s.space().key_bits == 0


def test_same_seed_same_game():
    a = Game(ARENA, "robust-sampler", "counter-starver(rounds=10, batch=5000)", "white-box", seed=4,
             record_transcript=True).play()
    b = Game(ARENA, "robust-sampler", "counter-starver(rounds=10, batch=5000)", "white-box", seed=4,
             record_transcript=True).play()
    assert a.transcript.answers == b.transcript.answers and a.transcript.batches == b.transcript.batches


def test_thinning_keeps_the_summary_consistent():
    p = HeavyHitters(n=100, M=10**6, eps=0.1)
    mg = MisraGries(p.params, None, counters=5)
    mg.update(np.arange(20), np.arange(1, 21) * 100)
    before = mg.m
    mg.thin(np.random.default_rng(0))
    assert (mg.counts > 0).all() and mg.counts.sum() <= mg.m and abs(mg.m / before - 0.5) < 0.05


@pytest.mark.parametrize("options", [{"counters": -1}, {"samples": -2}, {"morris_base": 2.0}])
def test_sampler_refuses_bad_options(options):
    with pytest.raises(ValueError):
        RobustSampler(HeavyHitters(n=10).params, Coins.from_seed(0, "t"), **options)


def test_countsketch_hh_refuses_bad_options():
    with pytest.raises(ValueError, match="width must be >= 2, got width=1"):
        CountSketchHH(HeavyHitters(n=10).params, Coins.from_seed(0, "t"), width=1)


# -- the separation --------------------------------------------------------------------------

@pytest.mark.parametrize("algorithm", ["misra-gries", "robust-sampler"])
@pytest.mark.parametrize("seed", range(3))
def test_counter_summaries_survive_the_white_box_starver(algorithm, seed):
    r = Game(ARENA, algorithm, "counter-starver(rounds=40, batch=5000)", "white-box", seed=seed).play()
    assert not r.failed, r.failure_detail
    assert r.updates == 200_000 and r.queries == 40


@pytest.mark.parametrize("seed", range(5))
def test_countsketch_falls_to_a_signed_cover_set(seed):
    r = Game(ARENA, "countsketch-hh", "markelon-2023", "white-box", seed=seed).play()
    assert r.failed and r.failure_kind == "false-heavy" and r.first_failure_round == 1, r.failure_detail
