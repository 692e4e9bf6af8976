"""Distinct-element sketches (KMV, HLL): accurate on oblivious streams, frozen or inflated by hash attacks.

The attack tests play real Games on ``distinct-elements(n=10^6, eps=0.2, insertion_only=True)``
with ``stop_on_failure=False`` so every round's estimate is recorded, and check the estimate
is held at a stated value while the truth grows by a stated amount.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from wbstream.adversaries.hash_attacks import HashSearch, PatersonRaynal2022, Reviriego2021
from wbstream.algorithms.distinct.hashing64 import KeyedHash64
from wbstream.algorithms.distinct.hll import HyperLogLog, bucket_and_rho, clz64
from wbstream.algorithms.distinct.kmv import KMV
from wbstream.algorithms.distinct.peers import DsCpc, DsHll, DsTheta
from wbstream.algorithms.norms.ams import AMS
from wbstream.engine.adversary import Adversary
from wbstream.engine.coins import Coins
from wbstream.engine.errors import NotApplicableError, StreamError
from wbstream.engine.game import Game
from wbstream.engine.problems import DistinctElements, F2Estimation
from wbstream.engine.stream import Batch, as_batch

from wbstream.reproduce import play_recorded

PROBLEM = "distinct-elements(n=1000000, M=1024, eps=0.2, insertion_only=True)"
TURNSTILE = "distinct-elements(n=1000000, M=1024, eps=0.2)"
INSERTION = DistinctElements(n=10**7, insertion_only=True).params


def feed(alg, items, pieces=10):
    for chunk in np.array_split(np.asarray(items, dtype=np.int64), pieces):
        alg.update(chunk, np.ones(len(chunk), dtype=np.int64))


# -- the hash and the bit tricks --------------------------------------------------------------

def test_keyed_hash_is_a_keyed_bijection_and_matches_a_python_reference():
    h = KeyedHash64(0xDEADBEEF)
    items = np.arange(-5, 100_000, dtype=np.int64)
    v = h(items)
    assert v.dtype == np.uint64 and len(np.unique(v)) == len(items)
    assert not (KeyedHash64(0xDEADBEEE)(items) == v).any()
    # top bits are uniform: each of 16 top-nibble buckets gets 1/16 of the items, within 5%
    counts = np.bincount((v >> np.uint64(60)).astype(np.int64), minlength=16)
    assert np.all(np.abs(counts / len(items) * 16 - 1) < 0.05)

    mask = (1 << 64) - 1

    def fmix(z):
        for c in (0xFF51AFD7ED558CCD, 0xC4CEB9FE1A85EC53):
            z ^= z >> 33
            z = (z * c) & mask
        return z ^ (z >> 33)

    k1, k2 = h.key, int(h._k2)
    ref = [fmix(fmix(((x & mask) ^ k1) + k2 & mask) ^ k1) for x in items[:50].tolist()]
    assert v[:50].tolist() == ref


def test_clz_and_rho_agree_with_python_bit_length():
    rng = np.random.default_rng(0)
    x = np.r_[rng.integers(0, 2**63, size=2000, dtype=np.int64).astype(np.uint64) >> rng.integers(0, 64, 2000).astype(np.uint64),
              np.array([0, 1, 2**63, 2**64 - 1], dtype=np.uint64)]
    assert clz64(x).tolist() == [64 - int(v).bit_length() for v in x.tolist()]
    b, r = bucket_and_rho(x, 10)
    for h, bb, rr in zip(x.tolist()[:200], b.tolist(), r.tolist()):
        rest = (h << 10) & ((1 << 64) - 1)
        assert bb == h >> 54 and rr == min(64 - rest.bit_length(), 54) + 1


# -- accuracy against oblivious streams -------------------------------------------------------

def rms_relative_error(cls, options, seeds=range(20), distinct=50_000):
    errs = []
    for s in seeds:
        alg = cls(INSERTION, Coins.from_seed(s, "algorithm"), **options)
        items = np.random.default_rng(s).choice(10**7, distinct, replace=False)
        feed(alg, np.r_[items, items[: distinct // 5]])  # repeats must not count
        errs.append(alg.query() / distinct - 1)
    return math.sqrt(float(np.mean(np.square(errs))))


def test_hll_rms_error_matches_1_04_over_sqrt_m():
    # p = 10, 20 seeds, 50,000 distinct items: measured 0.0364 = 1.12 x 1.04/sqrt(1024)
    rms = rms_relative_error(HyperLogLog, {"p": 10})
    assert 0.5 * 1.04 / 32 <= rms <= 1.5 * 1.04 / 32, rms


def test_kmv_rms_error_is_about_1_over_sqrt_k():
    # k = 256, 20 seeds, 50,000 distinct items: measured 0.072 = 1.15 x 1/sqrt(254)
    rms = rms_relative_error(KMV, {"k": 256})
    assert 0.5 / math.sqrt(254) <= rms <= 1.5 / math.sqrt(254), rms


@st.composite
def insertion_streams(draw):
    """(seed, items, deltas): random distinct items (some repeated) in random batches."""
    distinct = draw(st.integers(1000, 20_000))
    seed = draw(st.integers(0, 2**20))
    rng = np.random.default_rng(seed)
    items = rng.choice(10**7, distinct, replace=False)
    repeats = rng.choice(items, draw(st.integers(0, distinct)))
    stream = rng.permutation(np.r_[items, repeats]).astype(np.int64)
    deltas = rng.integers(1, 4, size=len(stream)).astype(np.int64)
    return seed, stream, deltas, distinct


@pytest.mark.parametrize("cls, options", [(KMV, {"k": 256}), (HyperLogLog, {"p": 10}), (DsHll, {"lg_k": 10}),
                                          (DsCpc, {"lg_k": 10}), (DsTheta, {"lg_k": 8})],
                         ids=["kmv", "hll", "ds-hll", "ds-cpc", "ds-theta"])
@given(case=insertion_streams(), pieces=st.integers(1, 20))
def test_estimates_within_half_of_the_truth_on_oblivious_insertion_streams(cls, options, case, pieces):
    seed, stream, deltas, distinct = case
    p = DistinctElements(n=10**7, M=10**6, eps=0.5, insertion_only=True)
    alg = cls(p.params, Coins.from_seed(seed, "algorithm"), **options)
    for idx, dlt in zip(np.array_split(stream, pieces), np.array_split(deltas, pieces)):
        p.apply(as_batch(idx, dlt))
        alg.update(idx, dlt)
    assert p.nnz == distinct
    assert 0.5 * distinct <= alg.query() <= 1.5 * distinct
    assert p.judge(alg.query()).correct


def test_kmv_is_exact_below_k_and_hll_is_zero_when_empty():
    kmv = KMV(INSERTION, Coins.from_seed(0, "a"), k=64)
    assert kmv.query() == 0.0
    feed(kmv, [5, 6, 7, 5, 5], pieces=3)
    assert kmv.query() == 3.0
    assert HyperLogLog(INSERTION, Coins.from_seed(0, "a")).query() == 0.0


def test_state_and_space():
    kmv = KMV(INSERTION, Coins.from_seed(0, "a"), k=128)
    hll = HyperLogLog(INSERTION, Coins.from_seed(0, "a"), p=12)
    feed(kmv, np.arange(5000))
    feed(hll, np.arange(5000))
    assert set(kmv.state()) == {"hash_key", "k", "minima"} and len(kmv.state()["minima"]) == 128
    assert np.all(np.diff(kmv.state()["minima"].astype(np.float64)) > 0)
    assert set(hll.state()) == {"hash_key", "p", "registers"} and len(hll.state()["registers"]) == 4096
    assert (kmv.space().state_bits, kmv.space().key_bits) == (128 * 64, 64)
    assert (hll.space().state_bits, hll.space().key_bits) == (4096 * 6, 64)
    # the key is drawn from the coins: same seed, same key; the coin log shows it
    again = KMV(INSERTION, Coins.from_seed(0, "a"), k=128)
    assert again.state()["hash_key"] == kmv.state()["hash_key"]
    assert [d.label for d in kmv.coins.log] == ["kmv/hash-key"]


def test_the_classmethods_rebuild_the_hash_and_predict_harmlessness():
    for alg in (KMV(INSERTION, Coins.from_seed(4, "a"), k=64), HyperLogLog(INSERTION, Coins.from_seed(4, "a"), p=6)):
        feed(alg, np.arange(3000))
        state = {k: (v.copy() if isinstance(v, np.ndarray) else v) for k, v in alg.state().items()}
        items = np.arange(10_000, 12_000, dtype=np.int64)
        hashes = type(alg).hash_items(INSERTION, state, items)
        assert np.array_equal(hashes, alg.hash(items))
        harmless = type(alg).harmless(INSERTION, state, hashes)
        assert 0 < harmless.sum() < len(items)
        before = alg.query()
        alg.update(items[harmless], np.ones(int(harmless.sum()), dtype=np.int64))
        after = alg.state()
        for k, v in state.items():
            assert np.array_equal(np.asarray(after[k]), np.asarray(v))
        assert alg.query() == before
        alg.update(items[~harmless][:1], np.ones(1, dtype=np.int64))
        assert alg.query() != before  # one harmful item changes the state


# -- refusals ----------------------------------------------------------------------------------

@pytest.mark.parametrize("cls", [KMV, HyperLogLog])
def test_sketches_refuse_turnstile_problems(cls):
    with pytest.raises(ValueError, match="insertion_only must be True"):
        cls(DistinctElements(n=100).params, Coins.from_seed(0, "a"))
    with pytest.raises(ValueError, match="cannot delete"):
        Game(TURNSTILE, cls.name, "hash-search", "white-box").play()


@pytest.mark.parametrize("cls, options", [(KMV, {"k": 0}), (KMV, {"k": 1}), (HyperLogLog, {"p": 3}),
                                          (HyperLogLog, {"p": 19})])
def test_sketches_refuse_bad_options(cls, options):
    with pytest.raises(ValueError):
        cls(INSERTION, Coins.from_seed(0, "a"), **options)


ATTACKS = [(Reviriego2021, {}, KMV), (Reviriego2021, {"mode": "inflate"}, KMV),
           (PatersonRaynal2022, {}, HyperLogLog), (PatersonRaynal2022, {"variant": "S2"}, HyperLogLog),
           (HashSearch, {}, KMV), (HashSearch, {}, HyperLogLog)]


@pytest.mark.parametrize("adv, options, target", ATTACKS)
def test_attacks_refuse_turnstile_problems_wrong_problems_and_other_algorithms(adv, options, target):
    a = adv(**options)
    assert a.applies_to(target, DistinctElements) == (True, "")
    ok, why = a.applies_to(AMS, DistinctElements)
    assert not ok and "'ams'" in why
    ok, why = a.applies_to(target, F2Estimation)
    assert not ok and "'f2' is not a distinct-elements problem" in why
    with pytest.raises(NotApplicableError, match="insertion-only"):
        a.reset(DistinctElements(n=10**6).params, np.random.default_rng(0))
    a.reset(INSERTION, np.random.default_rng(0))  # fine


def test_paper_attacks_refuse_the_other_sketch_in_a_game():
    with pytest.raises(NotApplicableError, match="not one"):
        Game(PROBLEM, "kmv", "paterson-raynal-2022", "white-box")
    with pytest.raises(NotApplicableError, match="KMV"):
        Game(PROBLEM, "hll", "reviriego-2021", "white-box")
    with pytest.raises(ValueError, match="variant"):
        PatersonRaynal2022(variant="S3")
    with pytest.raises(ValueError, match="mode"):
        Reviriego2021(mode="shrink")


LIVE: list = []


class CountingHLL(HyperLogLog):
    def __init__(self, *a, **k):
        super().__init__(*a, **k)
        self.calls = 0
        LIVE.append(self)

    def update(self, indices, deltas):
        self.calls += 1
        super().update(indices, deltas)


class BadOnRoundTwo(Adversary):
    name = "bad-on-round-two"

    def act(self, obs):
        if obs.round == 1:
            return Batch(np.arange(100, dtype=np.int64), np.ones(100, dtype=np.int64))
        return Batch(np.array([500, 7], dtype=np.int64), np.array([1, -1], dtype=np.int64))


def test_a_negative_delta_is_refused_by_the_referee_before_the_sketch_sees_it():
    LIVE.clear()
    game = Game(PROBLEM, CountingHLL, BadOnRoundTwo, "oblivious", stop_on_failure=False)
    LIVE.clear()
    with pytest.raises(StreamError, match="^update 1: delta -1 is not positive.*insertion-only"):
        game.play()
    (alg,) = LIVE
    assert alg.calls == 1
    reference = HyperLogLog(alg.params, Coins.for_game(game.key_for(0)))
    feed(reference, np.arange(100), pieces=1)
    assert np.array_equal(alg.registers, reference.registers)


# -- the attacks, in real games -----------------------------------------------------------------

@pytest.mark.parametrize("seed", [0, 1])
def test_paterson_raynal_s4_freezes_hll_over_10000_real_insertions(seed):
    result, adv = play_recorded(PROBLEM, "hll(p=10)", PatersonRaynal2022, variant="S4", rounds=21, batch=500, preload=1000, seed=seed)
    est = adv.history
    assert adv.inserted == 11_000 and adv.chosen == 10_000 and adv.warmups == 0
    assert result.failed and result.failure_kind == "out-of-factor" and result.first_failure_round == 2
    assert len(est) == 21 and all(e <= est[0] for e in est), est  # never above the post-preload estimate
    assert max(est) == min(est) and est[0] <= 1300  # frozen near 1,000 while the truth reaches 10,500


def test_paterson_raynal_s2_caps_hll_without_reading_the_registers():
    result, adv = play_recorded(PROBLEM, "hll(p=10)", PatersonRaynal2022, variant="S2", rounds=41, batch=500, preload=1000)
    est = adv.history
    assert adv.inserted == 21_000 and result.failure_kind == "out-of-factor"
    # rho = 1 items can only fill empty registers: while some are empty, linear counting tracks the
    # truth (capped at m ln m ~ 7,098); once none is empty the estimate drops to ~2m and freezes.
    # Measured (seed 0): 994, 1520, ..., 6388, then 2047 from round 13 to round 41.
    assert max(est) <= 1024 * math.log(1024) + 1, est
    assert est[-1] == est[-15] <= 2_200 and 10 * est[-1] < 20_500, est


def test_reviriego_deflate_freezes_kmv_while_the_truth_grows_tenfold():
    result, adv = play_recorded(PROBLEM, "kmv(k=256)", Reviriego2021, mode="deflate", rounds=20, batch=500, preload=1000)
    est = adv.history
    assert result.failed and result.failure_kind == "out-of-factor" and result.first_failure_round == 2
    assert adv.inserted == 10_500 >= 10 * 1000
    assert all(abs(e / est[0] - 1) <= 0.10 for e in est), est
    assert max(est) == min(est)


def test_reviriego_inflate_makes_kmv_report_over_100x_the_truth():
    result, adv = play_recorded(PROBLEM, "kmv(k=256)", Reviriego2021, mode="inflate")
    assert result.updates == 256 and result.rounds == 1 and result.failure_kind == "out-of-factor"
    est = adv.history[-1]
    assert est >= 100 * 256, est  # about n = 10^6 for 256 real items


@pytest.mark.parametrize("algorithm", ["kmv(k=256)", "hll(p=10)"])
def test_hash_search_freezes_both_sketches(algorithm):
    result, adv = play_recorded(PROBLEM, algorithm, HashSearch, rounds=20, batch=500, preload=1000)
    est = adv.history
    assert result.failed and result.failure_kind == "out-of-factor"
    assert adv.inserted == 10_500 and adv.warmups == 0
    assert max(est) == min(est) <= 1300, est


def test_hash_search_warms_up_an_empty_sketch_with_honest_items():
    result, adv = play_recorded(PROBLEM, "kmv(k=256)", HashSearch, rounds=6, batch=100, preload=0)
    est = adv.history
    # rounds 1-3 find nothing harmless (fewer than k = 256 kept), so they insert honest items;
    # from round 4 on the sketch is full and frozen
    assert adv.warmups == 3 and est[:2] == [100.0, 200.0]
    assert est[2] == est[3] == est[4] == est[5] and adv.inserted == 600
