"""BucketCountSketch with the sign-alignment estimator: right on oblivious streams, refuses parameters
outside its guarantee, falls to the white-box alignment-injection; and the guarantee switches of the
other robust estimators."""

from __future__ import annotations

import numpy as np
import pytest

from wbstream.adversaries.alignment import alignment_vector
from wbstream.algorithms.heavy.bucket_countsketch import BucketCountSketch, layout, margin, min_rows
from wbstream.algorithms.norms.dp_f2 import DPF2
from wbstream.algorithms.norms.switching import SwitchingF2
from wbstream.arena.verdicts import claimed_level
from wbstream.engine.coins import Coins
from wbstream.engine.errors import NotApplicableError, OutsideGuaranteeError, SpecError
from wbstream.engine.game import Game
from wbstream.engine.l2_problems import L2HeavyHitters
from wbstream.engine.problems import F2Estimation
from wbstream.engine.stream import as_batch

SMALL = dict(n=2048, M=1 << 20, eps=0.5)


def _sketch(**options):
    return BucketCountSketch(L2HeavyHitters(**SMALL).params, Coins.from_seed(3, "bcs-test"), queries=2, **options)


def test_the_layout_puts_each_key_in_each_bucket_with_probability_one_over_width():
    indptr, bucket, sign = layout(bytes(range(32)), 3000, 40, 10)
    sizes = np.diff(indptr)
    assert abs(sizes.mean() - 40) < 1.0  # Binomial(400, 1/10) per key
    rows, cols = bucket // 10, bucket % 10
    key = np.repeat(np.arange(3000), sizes)
    assert len(np.unique((key * 40 + rows) * 10 + cols)) == len(bucket)  # distinct buckets per key
    assert np.all(np.bincount(cols, minlength=10) > 0.9 * len(bucket) / 10) and abs(sign.mean()) < 0.02


def test_heavy_keys_are_reported_and_light_ones_not_on_oblivious_vectors():
    p = L2HeavyHitters(**SMALL)
    cs = _sketch()
    rng = np.random.default_rng(5)
    x = rng.integers(-20, 21, size=SMALL["n"])
    x[[11, 900]] = [3000, -2500]  # ||x|| about 4,000: both heavy
    p.apply(as_batch(np.arange(SMALL["n"]), x))
    cs.update(np.arange(SMALL["n"]), x)
    answer = cs.query()
    assert p.judge(answer).correct and set(answer.tolist()) == {11, 900}
    assert cs.query() is answer and cs.queries_made == 1  # an unchanged vector is not re-noised


def test_sparse_and_dense_updates_agree():
    a, b = _sketch(), _sketch()
    idx = np.random.default_rng(2).integers(0, SMALL["n"], size=3000)
    d = np.random.default_rng(3).integers(-9, 10, size=3000)
    a.update(idx, d)
    for i in range(0, 3000, 100):
        b.update(idx[i:i + 100], d[i:i + 100])
    assert np.array_equal(a.table, b.table)


def test_queries_beyond_the_budget_answer_and_say_the_guarantee_is_spent():
    cs = _sketch()
    for v in (5, 6, 7):
        cs.update(np.array([1]), np.array([v]))
        cs.query()
    assert cs.queries_made == 3 and cs.state()["exhausted"] == 1


def test_rows_below_the_bound_are_refused_naming_it():
    least = min_rows(SMALL["n"], 0.5, 512, 2)
    with pytest.raises(OutsideGuaranteeError, match=f"rows=10 < .* = {least} "):
        _sketch(rows=10)
    with pytest.raises(OutsideGuaranteeError, match="width=64 <= 16/eps\\^2"):
        _sketch(width=64)
    assert margin(0.5, 64) == 0
    cs = _sketch(rows=10, allow_outside_guarantee=True)
    assert cs.rows == 10
    with pytest.raises(SpecError, match="outside its guarantee"):  # through a game: one clear error
        Game("l2-heavy-hitters(n=256, M=1024, eps=0.5)", "bucket-countsketch(rows=3)", "dense", "oblivious",
             seed=0).play()


def test_a_waived_guarantee_claims_nothing_in_the_arena():
    assert claimed_level("bucket-countsketch") == "adaptive"
    assert claimed_level("bucket-countsketch(rows=3, allow_outside_guarantee=True)") is None


def test_switching_and_dp_refuse_too_few_copies_on_insertion_only_streams():
    ins = F2Estimation(n=64, M=16, alpha=4, insertion_only=True).params
    with pytest.raises(OutsideGuaranteeError, match="flip number"):
        SwitchingF2(ins, Coins.from_seed(0, "t"), copies=3)
    SwitchingF2(F2Estimation(n=64, M=16, alpha=4).params, Coins.from_seed(0, "t"), copies=3)  # turnstile: no bound
    with pytest.raises(OutsideGuaranteeError, match="privacy budget"):
        DPF2(ins, Coins.from_seed(0, "t"), copies=10)
    assert DPF2(ins, Coins.from_seed(0, "t"), copies=10, allow_outside_guarantee=True).copies.copies == 10


def test_the_alignment_vector_is_zero_on_the_target_and_pushes_its_buckets():
    indptr, bucket, sign = lay = layout(bytes(32), 3000, 30, 16)
    x = alignment_vector(*lay, target=7, M=1000)
    assert x[7] == 0 and np.abs(x).max() == 1000
    table = np.bincount(bucket, weights=sign * x[np.repeat(np.arange(3000), np.diff(indptr))], minlength=30 * 16)
    mine = slice(indptr[7], indptr[8])
    aligned = sign[mine] * table[bucket[mine]]
    assert np.mean(aligned > 0.9 * aligned.max()) >= 0.5  # the chosen half of its buckets hold one value


def test_alignment_injection_breaks_it_in_one_round_where_oblivious_streams_do_not():
    spec = "l2-heavy-hitters(n=8192, M=1024, eps=0.5)"
    alg = "bucket-countsketch(queries=1)"  # inside its guarantee: 168 rows of 512 buckets
    attack = "alignment-injection(tries=3)"
    for seed in range(2):
        control = Game(spec, alg, "random-sparse", "oblivious", seed=seed).play()
        assert not control.failed, control.failure_detail
        r = Game(spec, alg, attack, "white-box", seed=seed).play()
        assert r.failed and r.failure_kind == "false-heavy" and r.first_failure_round == 1


def test_below_its_bound_it_fails_even_oblivious_streams():
    r = Game("l2-heavy-hitters(n=8192, M=1024, eps=0.5)",
             "bucket-countsketch(queries=1, rows=24, width=80, allow_outside_guarantee=True)", "dense", "oblivious",
             seed=0).play()
    assert r.failed  # why the bound is enforced


def test_alignment_injection_refuses_what_it_cannot_attack():
    with pytest.raises(NotApplicableError, match="layout_of"):
        Game("l2-heavy-hitters(n=256, M=1024, eps=0.5)", "countsketch-l2", "alignment-injection", "white-box", seed=0)


def test_cohen_2023_queries_never_look_at_answers_and_its_final_vector_breaks_countsketch():
    from wbstream.adversaries.cohen2023 import Cohen2023

    spec, alg = "l2-heavy-hitters(n=256, M=1048576, eps=0.5)", "countsketch-l2(depth=5, width=32)"
    r = Game(spec, alg, "cohen-2023(tail=200, check_every=20)", "adaptive", seed=1).play()
    assert r.failed and r.failure_kind == "false-heavy"
    # the probes are the same whatever the answers: two adversaries on the same rng send the same queries
    params = L2HeavyHitters(n=256, M=1 << 20, eps=0.5).params
    a, b = Cohen2023(tail=50), Cohen2023(tail=50)
    a.reset(params, np.random.default_rng(7))
    b.reset(params, np.random.default_rng(7))

    class Obs:  # what the adversary reads: the round and the answers so far
        def __init__(self, answer):
            self.round, self.answers = 1, ((1, np.array(answer, dtype=np.int64)),)

    probe_a, probe_b = a.act(Obs([])), b.act(Obs([]))
    assert np.array_equal(probe_a.indices, probe_b.indices) and np.array_equal(probe_a.deltas, probe_b.deltas)
    a.act(Obs([a.h])), b.act(Obs([]))  # different answers: opposite signs in the final vector ...
    assert np.array_equal(a.acc, -b.acc) and a.acc.any()
    next_a, next_b = a.act(Obs([])), b.act(Obs([]))  # ... but the next query is the same
    assert np.array_equal(next_a.indices, next_b.indices) and np.array_equal(next_a.deltas, next_b.deltas)


def test_cohen_2023_refuses_insertion_only_heavy_hitters():
    with pytest.raises(NotApplicableError, match="turnstile"):
        Game("heavy-hitters(n=256, eps=0.1)", "countsketch-hh", "cohen-2023", "adaptive", seed=0)
