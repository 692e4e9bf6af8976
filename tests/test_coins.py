"""Coins are reproducible, label-independent and keyed in secret; Observation gates what an adversary reads."""

from __future__ import annotations

import copy
import hashlib
import pickle

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from wbstream.algorithms.exact import Exact
from wbstream.algorithms.norms.ams import AMS
from wbstream.algorithms.sparse.countsketch import CountSketchRecovery
from wbstream.engine.adversary import Adversary
from wbstream.engine.coins import CoinDraw, Coins
from wbstream.engine.answers import SparseVector
from wbstream.engine.errors import SpecError, ThreatModelError
from wbstream.engine.game import Game
from wbstream.engine.keys import derive
from wbstream.engine.observation import AlgorithmInfo, Observation
from wbstream.engine.problems import F2Estimation, SparseRecovery
from wbstream.engine.stream import Batch
from wbstream.engine.threat import ADAPTIVE, OBLIVIOUS, WHITE_BOX, ThreatModel


PURPOSES = st.text(alphabet="abcdefghijklmnopqrstuvwxyz/-_0123456789 éλ", min_size=1, max_size=12)


def key_of(seed: int, purpose: str) -> bytes:
    """The key Coins.from_seed derives, recomputed independently (only to look for leaks)."""
    return hashlib.sha256(f"wbstream/coins/{purpose}/{seed}".encode()).digest()


def draw_all(coins: Coins) -> list:
    return [coins.integers("i", -5, 1000, size=7), coins.random("r", size=3), coins.signs("s", 5),
            coins.words("w", (2, 3)), coins.bytes("b", 11), coins.integers("i", 0, 2**40), coins.random("r")]


def same(a, b) -> bool:
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        return np.array_equal(a, b) and np.asarray(a).dtype == np.asarray(b).dtype
    return a == b


# -- reproducibility ---------------------------------------------------------------

@given(st.integers(0, 2**32), PURPOSES)
def test_same_seed_and_purpose_give_the_same_draws(seed, purpose):
    a, b = draw_all(Coins.from_seed(seed, purpose)), draw_all(Coins.from_seed(seed, purpose))
    assert all(same(x, y) for x, y in zip(a, b))


@given(st.integers(0, 2**32), PURPOSES, PURPOSES)
def test_a_different_purpose_or_seed_gives_different_draws(seed, p1, p2):
    base = Coins.from_seed(seed, p1).words("w", 4)
    if p1 != p2:
        assert not np.array_equal(base, Coins.from_seed(seed, p2).words("w", 4))
    assert not np.array_equal(base, Coins.from_seed(seed + 1, p1).words("w", 4))


def test_the_key_must_be_32_bytes():
    with pytest.raises(ValueError, match="32 bytes"):
        Coins(b"short")
    assert Coins(bytes(32)).words("w", 1).shape == (1,)


# -- label independence ---------------------------------------------------------------

OPS = st.lists(st.tuples(st.sampled_from(["A", "B", "C"]),
                         st.sampled_from(["integers", "random", "signs", "words", "bytes"]),
                         st.integers(1, 9)), min_size=1, max_size=12)


def run(coins: Coins, op):
    label, kind, size = op
    if kind == "integers":
        return coins.integers(label, -size, 3 * size + 1, size=size)
    if kind == "random":
        return coins.random(label, size=size)
    if kind == "signs":
        return coins.signs(label, size)
    if kind == "words":
        return coins.words(label, size)
    return coins.bytes(label, size)


@given(OPS, st.integers(0, 1000))
def test_draws_under_one_label_do_not_shift_another(ops, seed):
    mixed = Coins.from_seed(seed, "labels")
    results = [run(mixed, op) for op in ops]
    for label in {op[0] for op in ops}:
        alone = Coins.from_seed(seed, "labels")
        for op, got in zip(ops, results):
            if op[0] == label:
                assert same(run(alone, op), got), op


@given(st.lists(st.integers(1, 20), min_size=1, max_size=6))
def test_a_label_is_one_contiguous_keystream(sizes):
    pieces = Coins.from_seed(3, "stream")
    parts = [pieces.words("w", s) for s in sizes]
    whole = Coins.from_seed(3, "stream").words("w", sum(sizes))
    np.testing.assert_array_equal(np.concatenate(parts), whole)
    offsets = [d.offset for d in pieces.log]
    assert offsets == [8 * sum(sizes[:j]) for j in range(len(sizes))]
    assert [d.nbytes for d in pieces.log] == [8 * s for s in sizes]


# -- ranges and uniformity ------------------------------------------------------------

@given(st.integers(-2**40, 2**40), st.integers(1, 12), st.integers(0, 100))
def test_small_ranges_are_covered_and_respected(low, span, seed):
    values = Coins.from_seed(seed, "range").integers("x", low, low + span, size=60 * span)
    assert values.dtype == np.int64
    assert values.min() >= low and values.max() < low + span
    assert set(values.tolist()) == set(range(low, low + span))  # every value is hit


@given(st.integers(-2**63, 2**63 - 1), st.integers(1, 2**63), st.integers(0, 100))
def test_wide_ranges_are_respected(low, span, seed):
    high = min(low + span, 2**63)  # every value of [low, high) fits in int64
    values = Coins.from_seed(seed, "wide").integers("x", low, high, size=50)
    assert values.dtype == np.int64
    as_ints = [int(v) for v in values]
    assert all(low <= v < high for v in as_ints)
    one = Coins.from_seed(seed, "wide").integers("y", low, high)
    assert isinstance(one, int) and low <= one < high


@pytest.mark.parametrize("low, high", [(2**63 - 10, 2**63 + 10), (-2**63 - 5, -2**63 + 5), (2**64, 2**64 + 5)])
def test_ranges_beyond_int64_are_refused_not_wrapped(low, high):
    coins = Coins.from_seed(0, "beyond")
    with pytest.raises(ValueError):
        values = coins.integers("x", low, high, size=20)
        # were it not refused, it would have to be right
        assert all(low <= int(v) < high for v in values), values


def test_range_errors_and_typed_draws():
    coins = Coins.from_seed(0, "types")
    with pytest.raises(ValueError, match="empty range"):
        coins.integers("x", 5, 5)
    with pytest.raises(ValueError, match="2\\*\\*63"):
        coins.integers("x", -2**63, 2**63)
    assert len(coins.log) == 0  # refused draws are not logged
    r = coins.random("r", size=4000)
    assert r.min() >= 0.0 and r.max() < 1.0 and 0.45 < r.mean() < 0.55
    s = coins.signs("s", (40, 50))
    assert s.shape == (40, 50) and set(np.unique(s).tolist()) == {-1, 1} and abs(s.mean()) < 0.1
    bits = np.unpackbits(np.frombuffer(coins.bytes("b", 2000), dtype=np.uint8))
    assert 0.47 < bits.mean() < 0.53
    u = coins.integers("u", 0, 10, size=5000)
    counts = np.bincount(u, minlength=10)
    assert counts.min() > 400 and counts.max() < 600  # expected 500 each, sd ~21


# -- the log ------------------------------------------------------------------------

def test_the_log_records_round_label_and_values_and_grows_only_on_draws():
    coins = Coins.from_seed(1, "log")
    assert coins.log == ()
    a = coins.integers("hash", 0, 100, size=3)
    coins.round = 4
    b = coins.signs("sign", 2)
    c = coins.integers("hash", 0, 100)
    log = coins.log
    assert [(d.round, d.label) for d in log] == [(0, "hash"), (4, "sign"), (4, "hash")]
    np.testing.assert_array_equal(log[0].values, a)
    np.testing.assert_array_equal(log[1].values, b)
    assert int(log[2].values) == c
    assert log[2].offset == log[0].offset + log[0].nbytes  # later draws continue the keystream
    for _ in range(3):  # reading does not draw
        _ = coins.log, repr(coins)
    assert len(coins.log) == 3
    assert isinstance(coins.log, tuple) and all(isinstance(d, CoinDraw) for d in coins.log)
    with pytest.raises(ValueError):
        log[0].values[0] = 7  # logged values are read-only
    drawn = a.copy()
    a[0] = -1  # the caller's array is theirs; the log keeps what was drawn
    np.testing.assert_array_equal(coins.log[0].values, drawn)


class DrawingExact(Exact):
    """Exact, but it draws coins at construction, on every update and on every query."""

    name = "drawing-exact"

    def __init__(self, params, coins):
        super().__init__(params, coins)
        self.drawn = [self.coins.integers("init", 0, 10, size=2)]

    def update(self, indices, deltas):
        self.drawn.append(self.coins.integers("update", 0, 1000, size=3))
        super().update(indices, deltas)

    def query(self):
        self.drawn.append(self.coins.random("query", size=2))
        return super().query()


SEEN: list = []


class CoinWatcher(Adversary):
    """Records what obs.coins shows each round, and checks no view leaks the key."""

    name = "coin-watcher"
    needs = WHITE_BOX

    def __init__(self, *, rounds: int = 7):
        self.rounds = rounds

    def act(self, obs):
        if obs.round > self.rounds:
            return None
        SEEN.append((obs.round, obs.coins, obs.state(), repr(obs.coins), repr(obs.params)))
        return Batch.single(obs.round % 5, 1)


def test_a_white_box_adversary_sees_only_past_coins():
    SEEN.clear()
    seed, every = 11, 2
    result = Game("sparse-recovery(n=16, k=2, M=64)", DrawingExact, CoinWatcher, "white-box",
                  seed=seed, query_every=every).play()
    assert result.rounds == 7 and not result.failed
    assert [r for r, *_ in SEEN] == list(range(1, 8))
    for r, log, *_ in SEEN:
        assert all(d.round <= r for d in log)
        assert all(d.round < r for d in log)  # the adversary acts before the algorithm draws this round
        queries = (r - 1) // every
        assert len(log) == 1 + (r - 1) + queries
        assert [d.label for d in log].count("update") == r - 1
        assert [d.label for d in log].count("query") == queries
        assert sorted({d.round for d in log if d.label == "update"}) == list(range(1, r))
    # what the adversary saw is what the algorithm drew, in order
    final_log = SEEN[-1][1]
    replayed = Coins.for_game(bytes.fromhex(result.game_key))
    redraw = {"init": lambda: replayed.integers("init", 0, 10, size=2),
              "update": lambda: replayed.integers("update", 0, 1000, size=3),
              "query": lambda: replayed.random("query", size=2)}
    for d in final_log:
        assert same(np.asarray(d.values), redraw[d.label]()), d
    assert final_log[0].round == 0 and final_log[0].label == "init"


def test_the_key_never_appears_in_a_view():
    SEEN.clear()
    seed = 5
    result = Game("sparse-recovery(n=16, k=2, M=64)", DrawingExact, CoinWatcher, "white-box", seed=seed).play()
    game_key = bytes.fromhex(result.game_key)
    key = derive(game_key, "algorithm")
    # sanity: this really is the key (same draws), so the search below is meaningful
    assert SEEN[0][1][0].values.tolist() == Coins(key).integers("init", 0, 10, size=2).tolist()
    for _, log, state, log_repr, params_repr in SEEN:
        for text in (log_repr, params_repr, repr(state)):
            for secret in (key, game_key):
                assert secret.hex() not in text and repr(secret) not in text
        for d in log:
            assert key not in np.ascontiguousarray(d.values).tobytes()
            assert key.hex() not in repr(d)
        for v in state.values():
            assert key not in np.ascontiguousarray(v).tobytes()
    coins = Coins(key)
    coins.bytes("b", 64)
    assert key.hex() not in repr(coins) and repr(key) not in repr(coins)
    assert "key hidden" in repr(coins)
    assert all(key not in d.values.tobytes() for d in coins.log)


def test_coins_refuse_copy_deepcopy_and_pickle():
    coins = Coins.from_seed(0, "secret")
    with pytest.raises(TypeError, match="never copied"):
        copy.deepcopy(coins)
    with pytest.raises(TypeError, match="never pickled"):
        pickle.dumps(coins)
    with pytest.raises(TypeError):
        copy.copy(coins)
    p = SparseRecovery(n=32, k=2, M=8)
    alg = CountSketchRecovery(p.params, coins, rows=3, cols=8)
    with pytest.raises(TypeError):
        pickle.dumps(alg)  # the algorithm holds the Coins, so it cannot be pickled either


# -- Observation ---------------------------------------------------------------------

def make_observation(threat, algorithm="countsketch"):
    if algorithm == "countsketch":
        p = SparseRecovery(n=64, k=2, M=16)
        alg = CountSketchRecovery(p.params, Coins.from_seed(2, "algorithm"), rows=3, cols=8)
        cls = CountSketchRecovery
    elif algorithm == "ams":
        p = F2Estimation(n=64, M=16, eps=0.5)
        alg = AMS(p.params, Coins.from_seed(2, "algorithm"), means=4, medians=3)
        cls = AMS
    else:
        p = SparseRecovery(n=64, k=2, M=16)
        alg = Exact(p.params, Coins.from_seed(2, "algorithm"))
        cls = Exact
    alg.update(np.array([1, 5, 9], dtype=np.int64), np.array([3, -2, 7], dtype=np.int64))
    return Observation(threat, p.params, AlgorithmInfo(cls.name, cls.name, cls), alg), alg


@pytest.mark.parametrize("algorithm", ["countsketch", "ams", "exact"])
def test_state_views_are_read_only_and_never_write_into_the_algorithm(algorithm):
    obs, alg = make_observation(WHITE_BOX, algorithm)
    before = {k: np.array(v, copy=True) for k, v in alg.state().items()}
    state = obs.state()
    assert set(state) == set(before)
    for key, view in state.items():
        np.testing.assert_array_equal(view, before[key])
        assert not view.flags.writeable
        with pytest.raises(ValueError):
            view[...] = 0
        with pytest.raises(ValueError):
            view.reshape(-1)[0] = 12345
        with pytest.raises(ValueError):
            np.add(view, 1, out=view)
    with pytest.raises(TypeError):
        state["new"] = np.zeros(1)
    with pytest.raises(TypeError):
        state[next(iter(state))] = np.zeros(1)
    for key, value in alg.state().items():
        np.testing.assert_array_equal(value, before[key], err_msg=key)
    # the live algorithm keeps working; the next round's view reflects its new state
    alg.update(np.array([2], dtype=np.int64), np.array([4], dtype=np.int64))
    obs.round += 1
    for key, value in obs.state().items():
        np.testing.assert_array_equal(value, alg.state()[key])


@pytest.mark.parametrize("algorithm", ["countsketch", "ams", "exact"])
def test_simulate_gives_a_private_copy_with_its_own_coins(algorithm):
    obs, alg = make_observation(WHITE_BOX, algorithm)
    before = {k: np.array(v, copy=True) for k, v in alg.state().items()}
    log_before = len(alg.coins.log)
    sim = obs.simulate(np.random.default_rng(0))
    assert sim is not alg and type(sim) is type(alg)
    assert sim.coins is not alg.coins
    assert isinstance(sim.coins, Coins)
    for key, value in sim.state().items():
        np.testing.assert_array_equal(value, before[key])
        assert not np.shares_memory(value, alg.state()[key])
    sim.update(np.arange(10, dtype=np.int64), np.full(10, 3, dtype=np.int64))
    sim.coins.integers("adversary-tries", 0, 10, size=4)
    for key, value in alg.state().items():
        np.testing.assert_array_equal(value, before[key], err_msg=key)
    assert len(alg.coins.log) == log_before  # draws made on the copy never reach the real log
    assert sim.query() is not None and alg.query() == alg.query()
    # the copy's future coins are the adversary's: independent of the real key
    other = obs.simulate(np.random.default_rng(1)).coins.words("future", 4)
    again = obs.simulate(np.random.default_rng(1)).coins.words("future", 4)
    real = Coins.from_seed(2, "algorithm").words("future", 4)
    np.testing.assert_array_equal(other, again)
    assert not np.array_equal(other, real)


@pytest.mark.parametrize("threat", [OBLIVIOUS, ADAPTIVE])
def test_below_white_box_the_state_coins_and_simulation_are_hidden(threat):
    obs, _ = make_observation(threat)
    with pytest.raises(ThreatModelError, match="state"):
        obs.state()
    with pytest.raises(ThreatModelError, match="coins"):
        _ = obs.coins
    with pytest.raises(ThreatModelError, match="simulation"):
        obs.simulate(np.random.default_rng(0))
    assert obs.params.n == 64 and obs.round == 0  # what every threat model reveals
    if threat is OBLIVIOUS:
        with pytest.raises(ThreatModelError, match="answers"):
            _ = obs.answers
    else:
        assert obs.answers == ()


def test_threat_model_error_is_a_permission_error_and_names_the_model():
    obs, _ = make_observation(OBLIVIOUS)
    with pytest.raises(PermissionError, match="oblivious"):
        obs.state()


class AnswerWatcher(Adversary):
    """An adaptive adversary that records the answers it is shown."""

    name = "answer-watcher"
    needs = ADAPTIVE

    def act(self, obs):
        if obs.round > 6:
            return None
        SEEN.append((obs.round, obs.answers))
        with pytest.raises(ThreatModelError):
            obs.state()
        return Batch.single(obs.round, obs.round)


def test_an_adaptive_adversary_sees_every_past_answer_and_nothing_more():
    SEEN.clear()
    r = Game("sparse-recovery(n=64, k=8, M=64)", "exact", AnswerWatcher, "adaptive", query_every=2).play()
    assert r.rounds == 6 and r.queries == 3 and len(SEEN) == 6
    for rnd, answers in SEEN:
        assert [a for a, _ in answers] == [q for q in (2, 4) if q < rnd]
        for q, answer in answers:  # the answer of round q is x after rounds 1..q
            assert answer == SparseVector(list(range(1, q + 1)), list(range(1, q + 1)))


def test_threat_models_are_ordered_and_parsed():
    assert WHITE_BOX.includes(ADAPTIVE) and ADAPTIVE.includes(OBLIVIOUS) and WHITE_BOX.includes(OBLIVIOUS)
    assert not OBLIVIOUS.includes(ADAPTIVE) and not ADAPTIVE.includes(WHITE_BOX)
    assert [t.name for t in ThreatModel.levels()][:4] == ["oblivious", "adaptive", "state-only", "white-box"]
    for text in ("white-box", "whitebox", "White_Box", " WHITE-BOX "):
        assert ThreatModel.parse(text) is WHITE_BOX
    assert ThreatModel.parse(ADAPTIVE) is ADAPTIVE
    with pytest.raises(SpecError, match="oblivious, adaptive, state-only, white-box"):
        ThreatModel.parse("grey-box")
    assert WHITE_BOX.grants("coins") and not ADAPTIVE.grants("state") and OBLIVIOUS.grants("round")
