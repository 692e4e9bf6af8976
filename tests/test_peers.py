"""Apache DataSketches peers: exactly the package's estimates, and the same attacks through them.

Every attack test plays a real game on ``distinct-elements(n=10^6, eps=0.2, insertion_only=True)``
against the package's own sketch, through the adapter, and checks the estimate is held at a
stated value while the truth grows by a stated amount.
"""

from __future__ import annotations

import struct

import datasketches as ds
import mmh3
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from wbstream.adversaries.hash_attacks import HashSearch, PatersonRaynal2022, Reviriego2021
from wbstream.algorithms.distinct.murmur3 import murmur3_int64
from wbstream.algorithms.distinct.peers import DsCpc, DsHll, DsTheta, hll8_cells
from wbstream.algorithms.heavy.ds_count_min import DsCountMin, table_of
from wbstream.engine.adversary import Adversary
from wbstream.engine.coins import Coins
from wbstream.engine.errors import NotApplicableError, StreamError
from wbstream.engine.game import Game
from wbstream.engine.problems import DistinctElements, HeavyHitters
from wbstream.engine.stream import Batch
from wbstream.reproduce import play_recorded, run_markelon

PROBLEM = "distinct-elements(n=1000000, M=1024, eps=0.2, insertion_only=True)"
INSERTION = DistinctElements(n=10**6, insertion_only=True)

DIRECT = {  # the same sketch built straight from the package, as its users do
    DsHll: lambda o: ds.hll_sketch(o.get("lg_k", 10), getattr(ds, o.get("tgt_type", "HLL_4"))),
    DsCpc: lambda o: ds.cpc_sketch(o.get("lg_k", 10)),
    DsTheta: lambda o: ds.update_theta_sketch(lg_k=o.get("lg_k", 10), seed=o.get("seed", 9001)),
}
ADAPTERS = [(DsHll, {}), (DsHll, {"lg_k": 8, "tgt_type": "HLL_8"}), (DsHll, {"lg_k": 12, "tgt_type": "HLL_6"}),
            (DsCpc, {}), (DsCpc, {"lg_k": 6}), (DsTheta, {}), (DsTheta, {"lg_k": 5, "seed": 17}),
            (DsTheta, {"seed": 2**40 + 3})]


@given(st.lists(st.integers(0, 10**6 - 1), max_size=3000), st.integers(1, 5))
@settings(max_examples=25, deadline=None)
@pytest.mark.parametrize("cls, options", ADAPTERS)
def test_adapters_give_exactly_the_package_estimates(cls, options, items, pieces):
    alg = cls(INSERTION.params, Coins.from_seed(0, "t"), **options)
    direct = DIRECT[cls](options)
    for chunk in np.array_split(np.asarray(items, dtype=np.int64), pieces):
        alg.update(chunk, np.ones(len(chunk), dtype=np.int64))
        for item in chunk.tolist():
            direct.update(item)
        assert alg.query() == direct.get_estimate()


@pytest.mark.parametrize("cls, options", ADAPTERS)
def test_adapters_are_accurate_on_oblivious_streams_and_show_their_image(cls, options):
    items = np.random.default_rng(3).choice(10**6, size=20_000, replace=False)
    alg = cls(INSERTION.params, Coins.from_seed(0, "t"), **options)
    alg.update(items, np.ones(len(items), dtype=np.int64))
    lg_k = options.get("lg_k", 10)
    assert abs(alg.query() / 20_000 - 1) < 4 * 1.04 / np.sqrt(2**lg_k)
    state = alg.state()
    assert set(state) == {"image", "seed", "lg_k"} and state["lg_k"] == lg_k
    assert state["seed"] == options.get("seed", 9001)
    assert alg.space().state_bits == 8 * len(state["image"]) and alg.space().key_bits == 0


@given(st.lists(st.integers(-2**63, 2**63 - 1), min_size=1, max_size=50), st.integers(0, 2**32 - 1))
@settings(max_examples=50)
def test_murmur3_matches_the_reference_implementation(items, seed):
    h1, h2 = murmur3_int64(np.array(items, dtype=np.int64), seed)
    for item, a, b in zip(items, h1.tolist(), h2.tolist()):
        assert mmh3.hash128(struct.pack("<q", item), seed, True, False) % 2**128 == a | b << 64


@pytest.mark.parametrize("cls, options", [(DsHll, {}), (DsHll, {"tgt_type": "HLL_8"}), (DsTheta, {}),
                                          (DsTheta, {"seed": 2**40 + 3}), (DsCpc, {})])
def test_harmless_predictions_leave_the_image_byte_identical(cls, options):
    alg = cls(INSERTION.params, Coins.from_seed(0, "t"), **options)
    alg.update(np.arange(5000), np.ones(5000, dtype=np.int64))
    state = alg.state()
    cand = np.arange(10**5, 2 * 10**5)
    if cls is DsCpc:
        mask = cls.harmless_items(INSERTION.params, state, cand[:3000])
        cand = cand[:3000]
    else:
        mask = cls.harmless(INSERTION.params, state, cls.hash_items(INSERTION.params, state, cand))
    assert 0.05 < mask.mean() < 0.999  # a real split, not all or nothing
    alg.update(cand[mask], np.ones(int(mask.sum()), dtype=np.int64))
    assert alg.state()["image"] == state["image"]
    harmful = cand[~mask][:1]
    alg.update(harmful, np.ones(1, dtype=np.int64))
    assert alg.state()["image"] != state["image"]


def test_hll_cells_read_list_set_and_hll_modes():
    for count, mode in [(3, "list"), (60, "set"), (5000, "hll")]:
        alg = DsHll(INSERTION.params, Coins.from_seed(0, "t"), lg_k=10)
        items = np.arange(count)
        alg.update(items, np.ones(count, dtype=np.int64))
        coupons, registers = hll8_cells(alg.state()["image"], 10)
        bucket, rho = DsHll.cells(INSERTION.params, alg.state(), items)
        if mode == "hll":
            expected = np.zeros(1024, dtype=np.int64)
            np.maximum.at(expected, bucket, rho)
            assert coupons is None and np.array_equal(registers, expected)
        else:
            hashes = DsHll.hash_items(INSERTION.params, alg.state(), items)
            assert registers is None and set(coupons.tolist()) == set(hashes.tolist())


# -- the attacks, through the package ---------------------------------------------------------

@pytest.mark.parametrize("tgt_type", ["HLL_4", "HLL_8"])
def test_paterson_raynal_s4_freezes_datasketches_hll(tgt_type):
    result, adv = play_recorded(PROBLEM, f"ds-hll(lg_k=10, tgt_type='{tgt_type}')", PatersonRaynal2022,
                                variant="S4", rounds=21, batch=500, preload=1000)
    est = adv.history
    assert adv.inserted == 11_000 and adv.chosen == 10_000 and adv.warmups == 0
    assert result.failed and result.first_failure_round == 2
    assert max(est) == min(est) <= 1300, est  # frozen near 1,000 while the truth reaches 11,000


def test_paterson_raynal_s2_caps_datasketches_hll_without_the_registers():
    result, adv = play_recorded(PROBLEM, "ds-hll(lg_k=10)", PatersonRaynal2022, variant="S2",
                                rounds=41, batch=500, preload=1000)
    est = adv.history
    assert adv.inserted == 21_000 and result.failure_kind == "out-of-factor"
    assert est[-1] == est[-15] <= 2_600 and 8 * est[-1] < 21_000, est


def test_reviriego_deflate_freezes_the_theta_sketch():
    result, adv = play_recorded(PROBLEM, "ds-theta(lg_k=8)", Reviriego2021, rounds=20, batch=500, preload=1000)
    est = adv.history
    assert result.failed and result.failure_kind == "out-of-factor"
    assert adv.inserted == 10_500 and adv.warmups == 0
    assert max(est) == min(est) <= 1300, est


def test_hash_search_freezes_cpc_by_replaying_the_package():
    result, adv = play_recorded(PROBLEM, "ds-cpc(lg_k=10)", HashSearch, rounds=20, batch=500, preload=1000)
    est = adv.history
    assert result.failed and adv.inserted == 10_500 and adv.warmups == 0
    assert max(est) == min(est) <= 1300, est


def test_inflation_is_refused_for_theta_and_peers_refuse_turnstile_and_bad_options():
    with pytest.raises(NotApplicableError, match="inflation attacks KMV only"):
        Game(PROBLEM, "ds-theta", "reviriego-2021(mode='inflate')", "white-box")
    with pytest.raises(NotApplicableError, match="not one"):
        Game(PROBLEM, "ds-hll", "reviriego-2021", "white-box")
    turnstile = DistinctElements(n=100).params
    for cls in (DsHll, DsCpc, DsTheta):
        with pytest.raises(ValueError, match="insertion-only"):
            cls(turnstile, Coins.from_seed(0, "t"))
        with pytest.raises(ValueError, match="lg_k"):
            cls(INSERTION.params, Coins.from_seed(0, "t"), lg_k=30)
    with pytest.raises(ValueError, match="tgt_type"):
        DsHll(INSERTION.params, Coins.from_seed(0, "t"), tgt_type="HLL_5")
    with pytest.raises(ValueError, match="seed"):
        DsTheta(INSERTION.params, Coins.from_seed(0, "t"), seed=-1)


LIVE: list = []


class LiveTheta(DsTheta):
    def __init__(self, *a, **k):
        super().__init__(*a, **k)
        LIVE.append(self)


class BadOnRoundTwo(Adversary):
    name = "bad-on-round-two"

    def __init__(self, *, bad: str = "negative"):
        self.bad = bad

    def act(self, obs):
        if obs.round == 1:
            return Batch(np.arange(100, dtype=np.int64), np.ones(100, dtype=np.int64))
        if self.bad == "negative":
            return Batch(np.array([500, 7], dtype=np.int64), np.array([1, -1], dtype=np.int64))
        return Batch(np.array([500, 10**6], dtype=np.int64), np.array([1, 1], dtype=np.int64))


@pytest.mark.parametrize("bad, message", [("negative", "not positive"), ("range", "outside the universe")])
def test_a_refused_batch_leaves_the_package_sketch_untouched(bad, message):
    LIVE.clear()
    with pytest.raises(StreamError, match=message):
        Game(PROBLEM, LiveTheta, BadOnRoundTwo, "oblivious", adversary_options={"bad": bad}).play()
    reference = ds.update_theta_sketch(lg_k=10)
    for item in range(100):
        reference.update(item)
    assert LIVE[-1].state()["image"] == bytes(reference.compact().serialize())


# -- DataSketches' Count-Min, for heavy hitters ---------------------------------------------------

HH = "heavy-hitters(n=20000, M=1048576, eps=0.05)"


@given(st.lists(st.tuples(st.integers(0, 999), st.integers(1, 50)), max_size=300), st.integers(1, 4))
@settings(max_examples=25, deadline=None)
def test_ds_count_min_gives_exactly_the_package_estimates_and_reports_by_them(updates, pieces):
    p = HeavyHitters(n=1000, M=20_000, eps=0.1)
    alg = DsCountMin(p.params, Coins.from_seed(0, "t"), num_hashes=3, num_buckets=32)
    direct = ds.count_min_sketch(3, 32, 9001)
    idx = np.array([i for i, _ in updates], dtype=np.int64)
    dlt = np.array([d for _, d in updates], dtype=np.int64)
    for part in np.array_split(np.arange(len(idx)), pieces):
        alg.update(idx[part], dlt[part])
        for i, d in zip(idx[part].tolist(), dlt[part].tolist()):
            direct.update(i, float(d))
    estimates = np.array([direct.get_estimate(i) for i in range(1000)])
    np.testing.assert_array_equal(alg.estimate(np.arange(1000)), estimates)
    m = float(dlt.sum())
    expected = np.flatnonzero(estimates >= 0.1 * m) if m else np.zeros(0, dtype=np.int64)
    np.testing.assert_array_equal(alg.query(), expected)


def test_ds_count_min_row_cells_are_where_the_package_puts_each_item():
    p = HeavyHitters(n=10**6, M=100, eps=0.05)
    alg = DsCountMin(p.params, Coins.from_seed(0, "t"), num_hashes=5, num_buckets=300)
    keys = np.random.default_rng(0).choice(10**6, size=120, replace=False)
    cells = DsCountMin.row_cells(p.params, alg.state(), keys)
    for j in (0, 51, 52, 119):  # both sides of a 52-item probe boundary
        single = ds.count_min_sketch(5, 300, 9001)
        single.update(int(keys[j]), 1.0)
        table = table_of(bytes(single.serialize()), 5, 300)
        assert [int(np.flatnonzero(row)[0]) for row in table] == cells[:, j].tolist()


@pytest.mark.parametrize("seed", range(3))
def test_the_cover_set_breaks_datasketches_count_min_and_zipf_does_not(seed):
    r = Game(HH, "ds-count-min", "markelon-2023", "white-box", seed=seed).play()
    assert r.failed and r.failure_kind == "false-heavy" and r.first_failure_round == 1, r.failure_detail
    assert not Game(HH, "ds-count-min", "zipf", "oblivious", seed=seed).play().failed


def test_ds_count_min_reproduces_the_markelon_figure():
    r = run_markelon(2048, 4, seed=0, algorithm="ds-count-min")
    assert r["f_target"] == 0 and r["estimate"] == (1 << 20) // 4 and r["verdict"] == "false-heavy"


def test_ds_count_min_refuses_bad_options():
    for options in ({"num_hashes": -1}, {"num_buckets": 1}, {"seed": -3}):
        with pytest.raises(ValueError, match="ds-count-min needs"):
            DsCountMin(HeavyHitters(n=10).params, Coins.from_seed(0, "t"), **options)
