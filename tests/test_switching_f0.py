"""Sketch switching for F0: right on an oblivious growing stream within the flip number, refuses
too few copies, and falls to hash-search reading the active copy's key."""

from __future__ import annotations

import numpy as np
import pytest

from wbstream.algorithms.distinct.switching_f0 import SwitchingF0, f0_flip_number
from wbstream.engine.coins import Coins
from wbstream.engine.errors import OutsideGuaranteeError
from wbstream.engine.game import Game
from wbstream.engine.problems import DistinctElements
from wbstream.engine.stream import as_batch

SPEC = dict(n=1 << 14, alpha=2, insertion_only=True)


def test_a_growing_stream_is_answered_within_the_factor_and_the_flip_number():
    p = DistinctElements(**SPEC)
    alg = SwitchingF0(p.params, Coins.from_seed(0, "f0-test"))
    order = np.random.default_rng(1).permutation(SPEC["n"])
    start = 0
    for size in np.unique(np.geomspace(1, SPEC["n"], 60).astype(int)):
        items = order[start:size]
        start = size
        p.apply(as_batch(items, np.ones(len(items), dtype=np.int64)))
        alg.update(items, np.ones(len(items), dtype=np.int64))
        assert p.judge(alg.query()).correct
    assert 0 < alg.switches < f0_flip_number(p.params) and not alg.exhausted


def test_an_unchanged_stream_is_not_a_new_reveal():
    alg = SwitchingF0(DistinctElements(**SPEC).params, Coins.from_seed(0, "f0-test"))
    alg.update(np.arange(500), np.ones(500, dtype=np.int64))
    first = alg.query()
    alg.update(np.arange(500), np.ones(500, dtype=np.int64))  # repeats: no copy changes
    assert alg.query() == first and alg.active == 0


def test_harmless_items_leave_the_active_copy_unchanged():
    alg = SwitchingF0(DistinctElements(**SPEC).params, Coins.from_seed(0, "f0-test"))
    alg.update(np.arange(3000), np.ones(3000, dtype=np.int64))
    alg.query()
    candidates = np.arange(3000, 8000)
    harmless = candidates[SwitchingF0.harmless_items(alg.params, alg.state(), candidates)]
    before = alg.minima[alg.active].copy()
    alg.update(harmless, np.ones(len(harmless), dtype=np.int64))
    assert len(harmless) > 1000 and np.array_equal(alg.minima[alg.active], before)


def test_too_few_copies_or_minima_are_refused_naming_the_bound():
    params = DistinctElements(**SPEC).params
    with pytest.raises(OutsideGuaranteeError, match="flip number"):
        SwitchingF0(params, Coins.from_seed(0, "t"), copies=3)
    with pytest.raises(OutsideGuaranteeError, match="minima per copy"):
        SwitchingF0(params, Coins.from_seed(0, "t"), k=16)
    assert SwitchingF0(params, Coins.from_seed(0, "t"), copies=3, allow_outside_guarantee=True).copies == 3


def test_hash_search_reads_the_active_copy_and_breaks_it_where_oblivious_streams_do_not():
    spec = "distinct-elements(n=16384, M=1024, alpha=2, insertion_only=True)"
    for seed in range(2):
        assert not Game(spec, "switching-f0", "dense", "oblivious", seed=seed).play().failed
        r = Game(spec, "switching-f0", "hash-search(rounds=6)", "white-box", seed=seed).play()
        assert r.failed and r.failure_kind == "out-of-factor"
