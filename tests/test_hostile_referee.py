"""The referee against hostile input, property-based: adversaries that return garbage, records mutated at random.

1. An adversary draws, round by round (hypothesis draws inside ``act``, so each game
   is a random walk through the referee's states), either a valid batch in one of
   many disguises (lists, other dtypes, a ``Batch`` subclass that skips the checks,
   integral floats) or garbage (wrong types, NaN, ints beyond int64, mismatched
   lengths, 2-d arrays, promise-breaking deltas, a batch over ``max_batch``, rows
   sent to an integer problem, an unchecked subclass with float deltas). Valid
   batches are applied; garbage ends the game with a one-line ``WbstreamError``
   and nothing else: the truth and the algorithm's state are exactly those after
   the last valid batch. Both round loops (compiled and pure Python) are tried.
2. A real record, mutated at random (values replaced by garbage, keys deleted,
   lists extended, JSON nested 10^5 deep), replays or is refused with a one-line
   ``WbstreamError``; an outcome field that was changed never replays.
"""

from __future__ import annotations

import copy
import json
from unittest import mock

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from wbstream.algorithms.exact import Exact
from wbstream.algorithms.lowrank.frequent_directions import FrequentDirections
from wbstream.algorithms.norms.ams import AMS
from wbstream.algorithms.sparse.countsketch import CountSketchRecovery
from wbstream.engine import game as game_module
from wbstream.engine import loop
from wbstream.engine.adversary import Adversary
from wbstream.engine.errors import ReplayMismatch, WbstreamError
from wbstream.engine.game import Budget, Game
from wbstream.engine.matrix_problems import LowRankApproximation
from wbstream.engine.problems import DistinctElements, F2Estimation, HeavyHitters, SparseRecovery
from wbstream.engine.replay import replay, replay_from_seed
from wbstream.engine.result import GameResult
from wbstream.engine.stream import Batch, RowBatch

N, M, ROUNDS, MAX_BATCH = 24, 6, 6, 8
LOOPS = {"selected": game_module.play_rounds, "pure": loop.play_rounds}
LIVE: dict = {}


class Unchecked(Batch):
    """A subclass that skips every check: whatever it holds, it holds."""

    def __post_init__(self):
        pass


class Hollow(Batch):
    """A subclass that sets nothing at all."""

    def __init__(self):
        pass

    __hash__ = object.__hash__
    __eq__ = object.__eq__

    def __repr__(self):
        return "Hollow()"


class ForgedRows(RowBatch):
    """A row batch whose entries were replaced after the fact; only its rows are real."""

    def __init__(self, rows):
        super().__init__(rows)
        object.__setattr__(self, "deltas", np.full(self.deltas.shape, 1e300))


def tracked_problem(base, **params):
    class Tracked(base):
        def __init__(self):
            super().__init__(**params)
            LIVE["problem"] = self

    Tracked.__name__ = Tracked.__qualname__ = f"Tracked{base.__name__}"
    return Tracked


def snapshot(alg) -> dict:
    return {k: np.array(v, copy=True) for k, v in alg.state().items() if isinstance(v, np.ndarray)}


def tracked_algorithm(base):
    class Tracked(base):
        def __init__(self, params, coins, **options):
            super().__init__(params, coins, **options)
            self.calls, self.snap = 0, snapshot(self)
            LIVE["alg"] = self

        def update(self, indices, deltas):
            self.calls += 1
            super().update(indices, deltas)
            self.snap = snapshot(self)

    Tracked.__name__ = Tracked.__qualname__ = f"Tracked{base.__name__}"
    return Tracked


SETUPS = {
    "sparse-exact": (tracked_problem(SparseRecovery, n=N, k=3, M=M), tracked_algorithm(Exact), {}),
    "sparse-countsketch": (tracked_problem(SparseRecovery, n=N, k=3, M=M), tracked_algorithm(CountSketchRecovery),
                           {"rows": 3, "cols": 8}),
    "f2-ams": (tracked_problem(F2Estimation, n=N, M=M, eps=0.5), tracked_algorithm(AMS), {"means": 4, "medians": 3}),
    "distinct-insertion-only": (tracked_problem(DistinctElements, n=N, M=M, insertion_only=True),
                                tracked_algorithm(Exact), {}),
    "heavy-hitters": (tracked_problem(HeavyHitters, n=N, M=M, eps=0.25), tracked_algorithm(Exact), {}),
}

# -- valid batches, in disguise --------------------------------------------------------------

DISGUISES = {
    "batch": lambda i, d: Batch(np.array(i, np.int64), np.array(d, np.int64)),
    "pair of lists": lambda i, d: (list(i), list(d)),
    "small dtypes": lambda i, d: (np.array(i, np.uint8), np.array(d, np.int8)),
    "big-endian": lambda i, d: (np.array(i, ">i8"), np.array(d, ">i8")),
    "integral floats": lambda i, d: (np.array(i, np.float64), np.array(d, np.float32)),
    "unchecked lists": lambda i, d: Unchecked(list(i), list(d)),
    "unchecked int32": lambda i, d: Unchecked(np.array(i, np.int32), np.array(d, np.int32)),
}


def valid_updates(data, x: np.ndarray, insertion_only: bool, size: int) -> tuple[list, list]:
    """``size`` updates that keep |x_i| <= M at every prefix (deltas > 0 when insertion-only)."""
    x = x.copy()
    idx, dlt = [], []
    for _ in range(size):
        room = np.flatnonzero(x < M) if insertion_only else np.arange(N)
        if not len(room):
            break
        i = int(data.draw(st.sampled_from(room.tolist())))
        lo, hi = (1, M - int(x[i])) if insertion_only else (-M - int(x[i]), M - int(x[i]))
        d = data.draw(st.integers(lo, hi))
        x[i] += d
        idx.append(i)
        dlt.append(d)
    return idx, dlt


# -- garbage -----------------------------------------------------------------------------------

HUGE = [2**63, 2**64, 2**70, -(2**63) - 1, -(2**70)]
NOT_A_BATCH = st.one_of(
    st.integers(), st.floats(), st.text(max_size=3), st.booleans(), st.just(object()), st.just(Ellipsis),
    st.dictionaries(st.integers(0, 3), st.integers(0, 3), max_size=2), st.lists(st.integers(0, 3), max_size=3),
    st.lists(st.lists(st.integers(0, 3), max_size=2), min_size=2, max_size=2),  # a list, not a pair
    st.tuples(st.integers(0, 3)), st.tuples(st.integers(0, 3), st.integers(0, 3), st.integers(0, 3)),
    st.tuples(st.integers(0, 3), st.integers(0, 3)),  # a pair of scalars
    st.builds(Hollow), st.frozensets(st.integers(0, 3), max_size=2))


def garbage(data, x: np.ndarray, insertion_only: bool):
    """Something the referee must refuse, given the truth ``x`` (the first bad update comes last)."""
    kind = data.draw(st.sampled_from([
        "not a batch", "bad index", "bad delta", "promise", "insertion-only", "mismatched", "two-d",
        "over max_batch", "rows to an integer problem", "unchecked float single"]))
    idx, dlt = valid_updates(data, x, insertion_only, data.draw(st.integers(0, 3)))
    wrap = data.draw(st.sampled_from([tuple, lambda p: Unchecked(*p)]))
    if kind == "not a batch":
        return data.draw(NOT_A_BATCH)
    if kind == "bad index":
        bad = data.draw(st.sampled_from([-1, N, 2**63 - 1, -(2**63), "3", None, 1.5, [1]] + HUGE))
        return wrap((idx + [bad], dlt + [1]))
    if kind == "bad delta":
        bad = data.draw(st.sampled_from([0.5, float("nan"), float("inf"), -float("inf"), "1", None, 1j, [1]] + HUGE))
        return wrap((idx + [0], dlt + [bad]))
    if kind == "promise":
        here = x.copy()
        np.add.at(here, np.array(idx, np.int64), np.array(dlt, np.int64))
        i = data.draw(st.integers(0, N - 1))
        d = data.draw(st.one_of(st.integers(M - int(here[i]) + 1, 2**63 - 1),
                                st.integers(-(2**63), -M - int(here[i]) - 1)))
        if insertion_only and d <= 0:
            d = M - int(here[i]) + 1
        return wrap((idx + [i], dlt + [d]))
    if kind == "insertion-only" and insertion_only:
        return wrap((idx + [0], dlt + [data.draw(st.integers(-M, 0))]))
    if kind == "mismatched":
        return wrap((idx + [0], dlt))
    if kind == "two-d":
        return wrap((np.array([idx + [0]]), np.array([dlt + [1]])))
    if kind == "over max_batch":
        return wrap(([j % N for j in range(MAX_BATCH + 1)], [1] * (MAX_BATCH + 1)))
    if kind == "rows to an integer problem":
        return RowBatch(data.draw(st.lists(st.lists(st.floats(-3, 3), min_size=2, max_size=2), min_size=1,
                                           max_size=3)))
    return Unchecked(np.array([0]), np.array([data.draw(st.sampled_from([0.5, -1.25, 2.75]))]))


class Hostile(Adversary):
    """Each round, a valid batch in disguise or (now and then) garbage, drawn by hypothesis."""

    name = "hostile"

    def __init__(self, *, data=None, insertion_only=False, log=None):
        self.data, self.insertion_only, self.log = data, insertion_only, log

    def act(self, obs):
        if self.data is None or obs.round > ROUNDS:
            return None
        x = self.log["x"]
        if self.data.draw(st.integers(0, 3), label="garbage?") == 0:
            self.log["garbage"] = True
            return garbage(self.data, x, self.insertion_only)
        idx, dlt = valid_updates(self.data, x, self.insertion_only, self.data.draw(st.integers(0, 5)))
        np.add.at(x, np.array(idx, np.int64), np.array(dlt, np.int64))
        self.log["accepted"] += 1
        if len(idx) == 1 and self.data.draw(st.booleans()):
            return Batch.single(idx[0], dlt[0])
        return DISGUISES[self.data.draw(st.sampled_from(sorted(DISGUISES)))](idx, dlt)


def assert_nothing_but_the_valid_batches(log: dict, sumsq: bool) -> None:
    problem, alg = LIVE["problem"], LIVE["alg"]
    np.testing.assert_array_equal(problem.x, log["x"])
    assert problem.x.dtype == np.int64
    assert problem.nnz == np.count_nonzero(log["x"])
    if sumsq:
        assert problem.sumsq == int(np.dot(log["x"], log["x"]))
    assert alg.calls == log["accepted"]
    now = snapshot(alg)
    assert now.keys() == alg.snap.keys()
    for key in now:
        np.testing.assert_array_equal(now[key], alg.snap[key], err_msg=key)
    if type(alg).__mro__[1] is Exact:
        np.testing.assert_array_equal(alg.x, log["x"])


@pytest.mark.parametrize("loop_name", sorted(LOOPS))
@pytest.mark.parametrize("setup", sorted(SETUPS))
@settings(suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large], max_examples=30)
@given(data=st.data())
def test_hostile_adversaries_are_refused_and_change_nothing(setup, loop_name, data):
    problem_cls, alg_cls, options = SETUPS[setup]
    insertion_only = problem_cls.insertion_only or setup == "distinct-insertion-only"
    log = {"x": np.zeros(N, np.int64), "accepted": 0, "garbage": False}
    game = Game(problem_cls, alg_cls, Hostile, "oblivious", stop_on_failure=False, algorithm_options=options,
                budget=Budget(max_batch=MAX_BATCH), seed=data.draw(st.integers(0, 3)),
                adversary_options={"data": data, "insertion_only": insertion_only, "log": log})
    LIVE.clear()
    with mock.patch.object(game_module, "play_rounds", LOOPS[loop_name]):
        try:
            game.play()
        except WbstreamError as exc:
            assert log["garbage"], f"a valid batch was refused: {exc}"
            assert "\n" not in str(exc)
        else:
            assert not log["garbage"], "garbage was accepted"
    assert_nothing_but_the_valid_batches(log, problem_cls.tracks_sumsq)


# -- row streams ---------------------------------------------------------------------------------

COLS, ROW_M = 3, 10.0


class HostileRows(Adversary):
    """Row batches (plain, or a subclass with forged entries) or garbage, drawn by hypothesis."""

    name = "hostile-rows"
    stream_kind = "rows"

    def __init__(self, *, data=None, log=None):
        self.data, self.log = data, log

    def act(self, obs):
        if self.data is None or obs.round > ROUNDS:
            return None
        draw = self.data.draw
        row = st.lists(st.floats(-ROW_M, ROW_M, allow_nan=False), min_size=COLS, max_size=COLS)
        if draw(st.integers(0, 3)) == 0:
            self.log["garbage"] = True
            bad = st.sampled_from([float("nan"), float("inf"), ROW_M * 2, -1e300])
            return draw(st.one_of(
                st.builds(lambda r, b: RowBatch([r[:-1] + [b]]), row, bad),
                st.builds(lambda r: RowBatch([r + [1.0]]), row),                     # too wide
                st.builds(lambda r: ForgedRows([r[:-1] + [ROW_M * 3]]), row),        # forged and bad
                st.just(Batch(np.array([0, 1]), np.array([1, 1]))),                  # entries, not rows
                st.just((np.array([0, 1]), np.array([0.5, 1.0]))),
                NOT_A_BATCH.filter(lambda v: not isinstance(v, tuple) or len(v) != 2)))
        rows = draw(st.lists(row, min_size=1, max_size=3))
        self.log["rows"].extend(rows)
        self.log["accepted"] += 1
        return draw(st.sampled_from([RowBatch, ForgedRows]))(rows)


@pytest.mark.parametrize("loop_name", sorted(LOOPS))
@settings(suppress_health_check=[HealthCheck.too_slow], max_examples=30)
@given(data=st.data())
def test_hostile_row_streams_are_refused_and_change_nothing(loop_name, data):
    log = {"rows": [], "accepted": 0, "garbage": False}
    game = Game(tracked_problem(LowRankApproximation, cols=COLS, k=1, ell=2, M=int(ROW_M)),
                tracked_algorithm(FrequentDirections), HostileRows, "oblivious", stop_on_failure=False,
                adversary_options={"data": data, "log": log})
    LIVE.clear()
    with mock.patch.object(game_module, "play_rounds", LOOPS[loop_name]):
        try:
            game.play()
        except WbstreamError as exc:
            assert log["garbage"], f"a valid batch was refused: {exc}"
        else:
            assert not log["garbage"], "garbage was accepted"
    problem, alg = LIVE["problem"], LIVE["alg"]
    expected = np.array(log["rows"]).reshape(-1, COLS)
    np.testing.assert_allclose(problem.G, expected.T @ expected, rtol=1e-12, atol=1e-9)
    assert problem.row_count == len(expected) and alg.calls == log["accepted"]
    for key, value in snapshot(alg).items():
        np.testing.assert_array_equal(value, alg.snap[key], err_msg=key)


# -- hostile records ------------------------------------------------------------------------------

DEEP = "@@deep@@"


def base_records() -> list[dict]:
    games = [Game("f2(n=64, M=8, eps=0.5)", "exact", "dense(rounds=4)", "oblivious", seed=2, record_transcript=True),
             Game("sparse-recovery(n=512, k=2, M=1024)", "countsketch(rows=5, cols=16)", "kernel-injection",
                  "white-box", seed=0, record_transcript=True),
             Game("low-rank-approx(cols=4, k=1, ell=2, M=10)", "frequent-directions", "planted-rows(rounds=3)",
                  "oblivious", seed=1, record_transcript=True)]
    return [g.play().to_dict() for g in games]


BASES = base_records()
GARBAGE_VALUES = st.one_of(
    st.none(), st.booleans(), st.integers(-(2**70), 2**70), st.sampled_from(HUGE + [-1, 0, 1, 2**62, 2**63 - 1]),
    st.floats(), st.text(max_size=5), st.lists(st.integers(-3, 3), max_size=3),
    st.dictionaries(st.text(max_size=3), st.integers(0, 3), max_size=2), st.just(DEEP),
    st.sampled_from(["failure", "round-budget", "adversary-stopped", "f2", "exact", "white-box"]))
#: Outcome fields a mutation may not change and still replay.
STRICT = ("failed", "rounds", "updates", "queries", "failed_queries", "first_failure_round", "failure_kind",
          "space_key_bits")


@st.composite
def mutated(draw, base: dict) -> tuple[str, dict]:
    d = copy.deepcopy(base)
    for _ in range(draw(st.integers(1, 3))):
        if draw(st.booleans()):  # a top-level field, often
            key = draw(st.sampled_from(sorted(d)))
            d[key] = draw(GARBAGE_VALUES) if draw(st.integers(0, 3)) else None
            continue
        parent, key = None, None
        node = d
        while isinstance(node, (dict, list)) and node and (parent is None or draw(st.booleans())):
            key = draw(st.sampled_from(sorted(node) if isinstance(node, dict) else range(len(node))))
            parent, node = node, node[key]
        if parent is None:
            continue
        op = draw(st.sampled_from(["replace", "replace", "delete", "extend"]))
        if op == "replace":
            parent[key] = draw(GARBAGE_VALUES)
        elif op == "delete":
            del parent[key]
        elif isinstance(node, list):
            node.append(draw(GARBAGE_VALUES))
    text = json.dumps(d).replace(f'"{DEEP}"', "[" * 100_000 + "]" * 100_000)
    return text, d


@settings(suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large], max_examples=150)
@given(data=st.data())
def test_mutated_records_replay_or_fail_with_one_line(data):
    base = data.draw(st.sampled_from(BASES))
    text, mutant = data.draw(mutated(base))
    changed = [f for f in STRICT if isinstance(mutant, dict) and mutant.get(f, base[f]) != base[f]]
    for play_again in (replay, replay_from_seed):
        try:
            play_again(GameResult.from_json(text))
        except WbstreamError as exc:
            assert "\n" not in str(exc), str(exc)
        else:
            assert not changed, f"{play_again.__name__} accepted a record whose {changed} changed"


def forged_value(field: str, value):
    if field == "failed":
        return not value
    if field == "failure_kind":
        return "forged"
    return (value or 0) + 12345


def test_a_mutated_outcome_is_a_mismatch_not_a_pass():
    for base in BASES:
        for field in STRICT:
            forged = dict(base, **{field: forged_value(field, base[field])})
            with pytest.raises(ReplayMismatch, match=field):
                replay(GameResult.from_dict(forged))


FIXED_GARBAGE = [None, True, -1, 0, 2**63 - 1, 2**70, -(2**70), float("nan"), float("inf"), 1e300, "", "x", [], {}]


@pytest.mark.parametrize("value", FIXED_GARBAGE, ids=repr)
def test_every_field_of_a_record_refuses_garbage_in_one_line(value):
    base = BASES[0]
    for field in base:
        text = json.dumps(dict(base, **{field: value}))
        for play_again in (replay, replay_from_seed):
            try:
                play_again(GameResult.from_json(text))
            except WbstreamError as exc:
                assert "\n" not in str(exc), str(exc)
