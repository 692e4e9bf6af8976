"""Every registered algorithm has a detached copy: deep, picklable, without coins until it is given some.

The test iterates the registry, so an algorithm registered later cannot skip it.
"""

from __future__ import annotations

import hashlib
import pickle

import numpy as np
import pytest

from wbstream.engine.algorithm import _fingerprint_update
from wbstream.engine.answers import answer_digest
from wbstream.engine.coins import Coins, DetachedCoins
from wbstream.engine.errors import DetachedCoinsError, NotApplicableError
from wbstream.engine.observation import AlgorithmInfo, Observation
from wbstream.engine.registry import algorithms, problems
from wbstream.engine.stream import Batch
from wbstream.engine.threat import WHITE_BOX
from wbstream.bench.common import arena_batch


def _problem(spec: str):
    cls, options = problems.resolve(spec)
    return cls(**options)


def _batches(problem, count: int, size: int = 40) -> list[Batch]:
    """``count`` promise-safe batches from zero: whole rows for a row stream, else small positive updates."""
    if problem.stream_kind == "rows":
        return [arena_batch(problem, 4 * problem.params.cols, 3, seed=s) for s in range(count)]
    rng = np.random.default_rng(7)
    n, M = problem.n, problem.M
    idx = rng.choice(n, size=min(n, size * count), replace=False).astype(np.int64)
    per = len(idx) // count
    return [Batch(idx[j * per:(j + 1) * per], rng.integers(1, min(M, 3) + 1, size=per)) for j in range(count)]


def _state_digest(alg) -> str:
    h = hashlib.sha256()
    _fingerprint_update(h, alg.state())
    return h.hexdigest()


@pytest.mark.parametrize("name", algorithms.names())
def test_a_detached_copy_pickles_draws_nothing_and_then_runs_apart_from_the_original(name):
    cls, options = algorithms.resolve(algorithms.get(name).arena_spec())  # e.g. robust-l0 at toy
    problem = _problem(cls.arena_problem)
    alg = cls(problem.params, Coins.from_seed(0, "algorithm"), **options)
    first, second, third = _batches(problem, 3)
    problem.apply(first)
    alg.update(first.indices, first.deltas)
    before = _state_digest(alg)

    twin = pickle.loads(pickle.dumps(alg.detached_copy()))
    assert isinstance(twin.coins, DetachedCoins)
    assert [(d.label, d.offset, d.values.tobytes()) for d in twin.coins.log] == \
        [(d.label, d.offset, d.values.tobytes()) for d in alg.coins.log]
    with pytest.raises(DetachedCoinsError, match="detached copy has no coins"):
        twin.coins.integers("any", 0, 2)

    twin.attach_coins(Coins.from_rng(np.random.default_rng(1)))
    for b in (second, third):
        twin.update(b.indices, b.deltas)
    assert _state_digest(alg) == before, "updating the copy changed the original"

    drawn = len(alg.coins.log)
    for b in (second, third):
        problem.apply(b)
        alg.update(b.indices, b.deltas)
    if len(alg.coins.log) == drawn:  # no coins drawn during updates: the copy must answer alike
        assert _state_digest(twin) == _state_digest(alg)
        assert answer_digest(twin.query()) == answer_digest(alg.query())


def test_simulate_hands_out_a_detached_copy_with_the_adversarys_coins():
    cls = algorithms.get("fw23")
    problem = _problem(cls.arena_problem)
    alg = cls(problem.params, Coins.from_seed(0, "algorithm"))
    obs = Observation(WHITE_BOX, problem.params, AlgorithmInfo(cls.name, "fw23", cls), alg)
    sim = obs.simulate(np.random.default_rng(3))
    assert isinstance(sim.coins, Coins) and sim.coins is not alg.coins and not sim.coins.log
    sim.update(np.array([5]), np.array([3]))
    assert alg.query() != sim.query()


def test_a_nested_algorithm_gets_the_attached_coins_too():
    cls = algorithms.get("encrypted-countsketch")
    alg = cls(_problem(cls.arena_problem).params, Coins.from_seed(0, "algorithm"), rows=3, cols=8)
    twin = alg.detached_copy()
    assert twin.coordinator.coins is twin.coins
    mine = Coins.from_seed(9, "adversary")
    twin.attach_coins(mine)
    assert twin.coins is mine and twin.coordinator.coins is mine


def test_attach_coins_refuses_an_algorithm_that_has_its_own():
    cls = algorithms.get("countsketch")
    alg = cls(_problem(cls.arena_problem).params, Coins.from_seed(0, "algorithm"))
    with pytest.raises(DetachedCoinsError, match="has coins of its own"):
        alg.attach_coins(Coins.from_seed(1, "x"))


def test_an_algorithm_drawing_during_updates_raises_until_it_has_coins():
    cls = algorithms.get("robust-sampler")
    problem = _problem(cls.arena_problem)
    alg = cls(problem.params, Coins.from_seed(0, "algorithm"))
    twin = alg.detached_copy()
    (b,) = _batches(problem, 1)
    drawn = len(alg.coins.log)
    alg.update(b.indices, b.deltas)
    if len(alg.coins.log) == drawn:
        pytest.fail("robust-sampler no longer draws during updates: pick another algorithm for this test")
    with pytest.raises(DetachedCoinsError):
        twin.update(b.indices, b.deltas)


def test_ds_count_min_under_another_seed_says_why_it_cannot_be_copied():
    cls = algorithms.get("ds-count-min")
    alg = cls(_problem(cls.arena_problem).params, Coins.from_seed(0, "algorithm"), seed=5)
    with pytest.raises(NotApplicableError, match="default seed"):
        alg.detached_copy()


@pytest.mark.parametrize("spec", ["ds-theta(lg_k=5)", "ds-hll(lg_k=5, tgt_type='HLL_4')", "ds-cpc(lg_k=5)"])
def test_a_copy_of_a_datasketches_peer_past_its_rebuilds_answers_like_the_original(spec):
    cls, options = algorithms.resolve(spec)
    problem = _problem(cls.arena_problem)
    alg = cls(problem.params, Coins.from_seed(0, "algorithm"), **options)
    rng = np.random.default_rng(2)
    alg.update(rng.choice(10**5, 700, replace=False), np.ones(700, np.int64))
    alg.update(rng.choice(10**5, 300), np.ones(300, np.int64))  # repeats, some below theta
    twin = pickle.loads(pickle.dumps(alg.detached_copy()))
    for _ in range(5):
        more = rng.choice(10**5, 200)
        alg.update(more, np.ones(200, np.int64))
        twin.update(more, np.ones(200, np.int64))
        assert twin.query() == alg.query()
    assert twin.state()["image"] == alg.state()["image"]
