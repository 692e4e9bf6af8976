"""The round loop: the compiled build and the pure-Python source play identical games."""

from __future__ import annotations

import os
import warnings
from dataclasses import asdict

import numpy as np
import pytest

from wbstream.algorithms.exact import Exact
from wbstream.engine import game as game_module
from wbstream.engine import loop
from wbstream.engine.adversary import Adversary
from wbstream.engine.game import Budget, Game
from wbstream.engine.errors import StreamError
from wbstream.engine.problems import F2Estimation
from wbstream.engine.stream import Batch

TIMING = {"update_ns_median", "update_ns_p99", "query_ns_median", "adversary_seconds", "wall_seconds",
          "commit", "version"}


class Mixed(Adversary):
    """Single updates, batches, an empty batch and a pair, so every path of the loop runs."""

    name = "mixed"

    def act(self, obs):
        r = obs.round
        if r > 1500:
            return None
        if r % 97 == 0:
            return Batch(np.array([r % 50, (r + 1) % 50]), np.array([1, -1]))
        if r % 211 == 0:
            return Batch(np.zeros(0, np.int64), np.zeros(0, np.int64))
        if r % 5 == 0:
            return (np.array([r % 50]), np.array([-1 if (r // 5) % 2 else 1]))  # a plain pair
        return Batch.single(r % 50, 1 if (r // 50) % 2 == 0 else -1)


GAMES = [
    dict(problem="f2(n=64, M=64, eps=0.5)", algorithm="exact", adversary=Mixed, threat="adaptive",
         query_every=7),
    dict(problem="distinct-elements(n=64, M=64, eps=0.1)", algorithm="exact", adversary=Mixed,
         threat="adaptive", query_every=1, budget=Budget(rounds=1200)),
    dict(problem="f2(n=64, M=64, eps=0.5)", algorithm="exact", adversary=Mixed, threat="oblivious",
         budget=Budget(updates=900)),
    dict(problem="sparse-recovery(n=512, k=2, M=1024)", algorithm="countsketch(rows=5, cols=16)",
         adversary="random-sparse(rounds=30)", threat="oblivious", record_transcript=True),
    dict(problem="sparse-recovery(n=512, k=2, M=1024)", algorithm="countsketch(rows=5, cols=16)",
         adversary="kernel-injection", threat="white-box"),
    dict(problem="f2(n=2048, M=1024, eps=0.5)", algorithm="ams(means=16, medians=5)",
         adversary="dense(rounds=20)", threat="oblivious", query_every=3, stop_on_failure=False),
]


def outcome(result) -> dict:
    d = asdict(result)
    return {k: v for k, v in d.items() if k not in TIMING}


@pytest.mark.parametrize("spec", GAMES, ids=range(len(GAMES)))
def test_compiled_and_pure_python_loops_play_the_same_game(spec, monkeypatch):
    spec = dict(spec)
    problem, algorithm, adversary, threat = (spec.pop(k) for k in ("problem", "algorithm", "adversary", "threat"))
    selected = Game(problem, algorithm, adversary, threat, seed=4, **spec).play()
    monkeypatch.setattr(game_module, "play_rounds", loop.play_rounds)
    pure = Game(problem, algorithm, adversary, threat, seed=4, **spec).play()
    assert outcome(selected) == outcome(pure)
    assert selected.rounds > 0


def test_the_compiled_loop_is_used_when_built():
    cloop = pytest.importorskip("wbstream.engine._cloop", reason="built without Cython")
    assert cloop.COMPILED and not loop.COMPILED
    assert game_module.play_rounds is cloop.play_rounds


def test_a_stale_build_falls_back_to_the_source_with_a_warning(monkeypatch):
    cloop = pytest.importorskip("wbstream.engine._cloop", reason="built without Cython")
    real = os.path.getmtime
    monkeypatch.setattr(os.path, "getmtime", lambda p: real(p) - (1e6 if p == cloop.__file__ else 0))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        chosen = loop.select_play_rounds()
    assert chosen is loop.play_rounds
    assert any("older than loop.py" in str(w.message) for w in caught)


def test_huge_budgets_are_clamped_not_overflowed():
    r = Game("f2(n=64, M=64, eps=0.5)", "exact", Mixed, "oblivious",
             budget=Budget(rounds=10**30, updates=10**30)).play()
    assert r.stop_reason == "adversary-stopped" and r.rounds == 1500


# -- what reaches the loop: only checked batches, never more than max_batch ---------------------

class Unchecked(Batch):
    """A Batch subclass that skips the checks of the constructor."""

    def __post_init__(self):
        pass


class Sends(Adversary):
    """Sends ``first`` in round 1 and ``then`` in round 2, nothing checked on the way."""

    name = "sends"

    def __init__(self, *, first=None, then=None):
        self.first, self.then = first, then

    def act(self, obs):
        return {1: self.first, 2: self.then}.get(obs.round)


LOOPS = {"selected": game_module.play_rounds, "pure": loop.play_rounds}
SEEN: dict = {}


class WatchedExact(Exact):
    """The exact algorithm, keeping a hand on itself and on every update it is given."""

    def __init__(self, params, coins):
        super().__init__(params, coins)
        self.updates: list = []
        SEEN["alg"] = self

    def update(self, indices, deltas):
        self.updates.append((np.array(indices), np.array(deltas)))
        super().update(indices, deltas)


class WatchedF2(F2Estimation):
    def __init__(self):
        super().__init__(n=64, M=64, eps=0.5)
        SEEN["problem"] = self


def play_with(loop_name, monkeypatch, **kwargs):
    monkeypatch.setattr(game_module, "play_rounds", LOOPS[loop_name])
    return Game(WatchedF2, WatchedExact, Sends, "oblivious", record_transcript=True, seed=1,
                adversary_options=kwargs.pop("options"), **kwargs)


@pytest.mark.parametrize("loop_name", sorted(LOOPS))
@pytest.mark.parametrize("then", [Unchecked(np.array([5]), np.array([2.5])),                 # one float delta
                                  Unchecked(np.array([5, 6]), np.array([2.5, 1.0])),         # a batch of them
                                  Unchecked(np.array([5.5]), np.array([1])),                 # a float index
                                  Unchecked(np.array([5]), np.array([1, 2])),                # mismatched
                                  Unchecked([5], ["1"])], ids=range(5))                      # strings
def test_an_unchecked_batch_subclass_is_refused_before_anything_changes(loop_name, then, monkeypatch):
    with pytest.raises(StreamError):
        play_with(loop_name, monkeypatch, options={"first": Batch.single(5, 3), "then": then}).play()
    alg, problem = SEEN["alg"], SEEN["problem"]
    assert len(alg.updates) == 1  # round 1 only: the refused batch never reached the algorithm
    assert alg.updates[0][1].dtype == np.int64
    expected = np.zeros(64, np.int64)
    expected[5] = 3
    np.testing.assert_array_equal(alg.x, expected)
    np.testing.assert_array_equal(problem.x, expected)
    assert problem.x.dtype == np.int64 and problem.nnz == 1 and problem.sumsq == 9


@pytest.mark.parametrize("loop_name", sorted(LOOPS))
def test_unchecked_subclasses_holding_lists_play_like_batches(loop_name, monkeypatch):
    plain = play_with(loop_name, monkeypatch, options={"first": Batch.single(5, 3),
                                                       "then": Batch(np.array([5, 9]), np.array([-1, 4]))}).play()
    lists = play_with(loop_name, monkeypatch, options={"first": Unchecked([5], [3]),
                                                       "then": Unchecked([5, 9], [-1, 4])}).play()
    assert outcome(plain) == outcome(lists) and lists.rounds == 2
    assert lists.transcript.batches == [(1, [5], [3]), (2, [5, 9], [-1, 4])]


@pytest.mark.parametrize("loop_name", sorted(LOOPS))
@pytest.mark.parametrize("size", [1, 2])
def test_a_batch_over_max_batch_is_refused_and_changes_nothing(loop_name, size, monkeypatch):
    first = Batch(np.arange(size, dtype=np.int64), np.ones(size, np.int64))
    big = Batch(np.arange(size + 1, dtype=np.int64), np.ones(size + 1, np.int64))
    fits = play_with(loop_name, monkeypatch, options={"first": first, "then": first},
                     budget=Budget(max_batch=size)).play()
    assert fits.updates == 2 * size
    with pytest.raises(StreamError, match=f"round 2: a batch of {size + 1} updates exceeds the budget's "
                                          f"max_batch = {size}"):
        play_with(loop_name, monkeypatch, options={"first": first, "then": big}, budget=Budget(max_batch=size)).play()
