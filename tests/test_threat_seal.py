"""Issue #11, parts 1-2: coins follow from a secret, and the Observation is sealed.

Each test here tries one escape route an outside reviewer found: rebuilding the
coins from the seed, reading the seed out of the adversary's generator, raising
the threat level, writing through a "read-only" view or its base, and editing
the coin log.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys

import numpy as np
import pytest

from wbstream.engine.adversary import Adversary
from wbstream.engine.coins import Coins
from wbstream.engine.errors import ThreatModelError
from wbstream.engine.game import Game
from wbstream.engine.keys import derive, game_key, read_secret_file
from wbstream.engine.observation import AlgorithmInfo, Observation
from wbstream.engine.problems import SparseRecovery
from wbstream.engine.stream import Batch
from wbstream.engine.threat import ADAPTIVE, OBLIVIOUS, STATE_ONLY, WHITE_BOX
from wbstream.algorithms.sparse.countsketch import CountSketchRecovery as CS

PROBLEM = "sparse-recovery(n=256, k=2, M=64)"
ALGORITHM = "countsketch(rows=3, cols=8)"
TIMING = {"wall_seconds", "update_ns_median", "update_ns_p99", "query_ns_median", "adversary_seconds",
          "timed_rounds"}


def outcome(result) -> dict:
    return {k: v for k, v in result.to_dict().items() if k not in TIMING}


def seed_candidates(rng: np.random.Generator) -> set[int]:
    """Every integer an adversary can read out of its own generator's seeding."""
    entropy = rng.bit_generator.seed_seq.entropy
    values = [int(v) for v in np.atleast_1d(np.asarray(entropy, dtype=object)).tolist()]
    words = sum(v << (32 * j) for j, v in enumerate(values))  # uint32 words read as one integer
    found = set(values) | {words, words & (2**64 - 1)}
    return found | set(range(64))  # and the small seeds a brute force would try first


class SeedThief(Adversary):
    """Oblivious: rebuilds 'the algorithm's coins' from anything its generator reveals, then streams."""

    name = "seed-thief"
    needs = OBLIVIOUS
    tried: list = []

    def act(self, obs):
        if obs.round == 1:
            SeedThief.tried = [Coins.from_seed(s, "algorithm") for s in seed_candidates(self.rng)]
        return Batch.single(obs.round, 1) if obs.round <= 3 else None


def test_the_seed_and_the_adversarys_generator_do_not_rebuild_the_coins():
    """Before: the coins key was SHA-256 of the seed and the generator's entropy held the seed."""
    result = Game(PROBLEM, ALGORITHM, SeedThief, "oblivious", seed=4).play()
    real = Coins.for_game(bytes.fromhex(result.game_key))
    truth = real.integers("countsketch/bucket", 0, 2**62, size=8).tolist()
    for fake in SeedThief.tried:
        assert fake.integers("countsketch/bucket", 0, 2**62, size=8).tolist() != truth
    # and the adversary's generator is a different PRF output of the same game key
    assert derive(bytes.fromhex(result.game_key), "adversary") != derive(bytes.fromhex(result.game_key), "algorithm")


class CoinRecorder(Adversary):
    name = "coin-recorder"
    needs = WHITE_BOX
    seen: list = []

    def act(self, obs):
        CoinRecorder.seen.append([d.values.tolist() for d in obs.coins])
        return Batch.single(obs.round, 1) if obs.round <= 2 else None


def test_a_white_box_adversary_cannot_find_the_seed_by_trying_seeds_against_a_logged_draw():
    CoinRecorder.seen.clear()
    Game(PROBLEM, ALGORITHM, CoinRecorder, "white-box", seed=9).play()
    first = CoinRecorder.seen[0][0]
    p = SparseRecovery(n=256, k=2, M=64)
    for seed in range(200):
        alg = CS(p.params, Coins.from_seed(seed, "algorithm"), rows=3, cols=8)
        assert alg.coins.log[0].values.tolist() != first


def test_same_secret_and_seed_give_an_identical_record_and_another_secret_other_coins():
    a, b = (bytes(range(32)), bytes(range(1, 33)))
    first = Game(PROBLEM, ALGORITHM, "random-sparse(rounds=6)", "oblivious", seed=2, secret=a,
                 record_transcript=True).play()
    again = Game(PROBLEM, ALGORITHM, "random-sparse(rounds=6)", "oblivious", seed=2, secret=a,
                 record_transcript=True).play()
    other = Game(PROBLEM, ALGORITHM, "random-sparse(rounds=6)", "oblivious", seed=2, secret=b,
                 record_transcript=True).play()
    assert outcome(first) == outcome(again)
    assert first.game_key != other.game_key
    key = game_key(a, Game(PROBLEM, ALGORITHM, "random-sparse(rounds=6)", "oblivious").matchup, 2)
    assert first.game_key == key.hex()  # the documented derivation
    mine = Coins.for_game(bytes.fromhex(first.game_key)).integers("countsketch/bucket", 0, 8, size=16)
    theirs = Coins.for_game(bytes.fromhex(other.game_key)).integers("countsketch/bucket", 0, 8, size=16)
    assert mine.tolist() != theirs.tolist()


def test_the_game_key_replays_a_game_exactly_without_the_secret():
    first = Game(PROBLEM, ALGORITHM, "kernel-injection", "white-box", seed=3, secret=bytes(32)).play()
    again = Game(PROBLEM, ALGORITHM, "kernel-injection", "white-box", seed=3,
                 game_key=bytes.fromhex(first.game_key)).play()
    assert outcome(first) == outcome(again)


@pytest.mark.fresh_secret
def test_without_a_secret_each_game_object_draws_a_fresh_one():
    one = Game(PROBLEM, ALGORITHM, "random-sparse(rounds=2)", "oblivious", seed=1).play()
    two = Game(PROBLEM, ALGORITHM, "random-sparse(rounds=2)", "oblivious", seed=1).play()
    assert one.game_key != two.game_key


def test_a_bad_secret_is_refused():
    from wbstream.engine.errors import SpecError

    for bad in (b"short", "0" * 64, bytes(33)):
        with pytest.raises(SpecError, match="32 bytes"):
            Game(PROBLEM, ALGORITHM, "random-sparse", "oblivious", secret=bad)


# -- the sealed Observation ----------------------------------------------------------------

def observation(threat):
    p = SparseRecovery(n=64, k=2, M=16)
    alg = CS(p.params, Coins.from_seed(2, "algorithm"), rows=3, cols=8)
    alg.update(np.array([1, 5, 9]), np.array([3, -2, 7]))
    return Observation(threat, p.params, AlgorithmInfo(CS.name, CS.name, CS), alg), alg


def snapshot(alg) -> dict:
    return {k: np.array(v, copy=True) for k, v in alg.state().items()}


@pytest.mark.parametrize("threat", [OBLIVIOUS, ADAPTIVE, STATE_ONLY])
def test_the_threat_level_cannot_be_raised(threat):
    obs, _ = observation(threat)
    with pytest.raises(AttributeError):
        obs.threat = WHITE_BOX
    with pytest.raises(AttributeError):
        object.__setattr__(obs, "threat", WHITE_BOX)
    with pytest.raises(AttributeError):
        obs.extra = 1  # no new attributes either
    # Even the private slot, once forced, leads nowhere: below state-only there is no algorithm here
    object.__setattr__(obs, "_threat", WHITE_BOX)
    if not threat.grants("state"):
        with pytest.raises(ThreatModelError):
            obs.state()
        with pytest.raises(ThreatModelError):
            _ = obs.coins
        with pytest.raises(ThreatModelError):
            obs.simulate(np.random.default_rng(0))


class Escalator(Adversary):
    """Adaptive: tries to raise its own level each round; records what it got."""

    name = "escalator"
    needs = ADAPTIVE
    got: list = []

    def act(self, obs):
        for attempt in (lambda: setattr(obs, "threat", WHITE_BOX),
                        lambda: object.__setattr__(obs, "_threat", WHITE_BOX)):
            try:
                attempt()
            except AttributeError:
                pass
            try:
                Escalator.got.append(obs.state())
            except ThreatModelError:
                pass
        return Batch.single(obs.round, 1) if obs.round <= 3 else None


def test_an_adaptive_adversary_that_escalates_reads_nothing_more():
    Escalator.got.clear()
    Game(PROBLEM, ALGORITHM, Escalator, "adaptive", seed=0).play()
    assert Escalator.got == []


def base_chain(view):
    chain, b = [], view
    while isinstance(b, np.ndarray):
        chain.append(b)
        b = b.base
    return chain, b


@pytest.mark.parametrize("threat", [STATE_ONLY, WHITE_BOX])
def test_state_views_have_no_writable_base_and_cannot_be_made_writable(threat):
    obs, alg = observation(threat)
    before = snapshot(alg)
    for view in obs.state().values():
        if not isinstance(view, np.ndarray):
            continue
        chain, root = base_chain(view)
        assert isinstance(root, bytes)  # immutable all the way down
        for arr in chain:
            assert not arr.flags.writeable
            with pytest.raises(ValueError):
                arr.flags.writeable = True
            with pytest.raises(ValueError):
                arr[...] = 1000
        with pytest.raises(TypeError):
            root[0] = 1
        with pytest.raises(ValueError):  # a new array over the same buffer is read-only too
            np.ndarray(view.shape, view.dtype, buffer=root)[...] = 1000
    for k, v in snapshot(alg).items():
        np.testing.assert_array_equal(v, before[k])


def test_the_coin_log_is_immutable():
    obs, alg = observation(WHITE_BOX)
    log = obs.coins
    first = log[0].values.tolist()
    with pytest.raises(AttributeError):
        log[0].round = 99
    with pytest.raises(AttributeError):
        object.__setattr__(log[0], "raw", b"")
    with pytest.raises(ValueError):
        log[0].values[...] = 0
    with pytest.raises(ValueError):
        log[0].values.flags.writeable = True
    reshaped = log[0].values
    reshaped.shape = (-1,) if reshaped.ndim != 1 else (1, -1)  # in place, on this reader's copy only
    assert obs.coins[0].values.tolist() == first and alg.coins.log[0].values.tolist() == first
    with pytest.raises(AttributeError):
        log.append(None)  # a tuple, not the live list
    assert len(obs.coins) == len(alg.coins.log)


def test_a_state_view_is_a_copy_fixed_at_the_round_it_was_read():
    obs, alg = observation(WHITE_BOX)
    table = obs.state()["table"].copy()
    alg.update(np.array([2]), np.array([4]))
    np.testing.assert_array_equal(obs.state()["table"], table)  # same round: same view
    obs.round += 1
    np.testing.assert_array_equal(obs.state()["table"], alg.state()["table"])


# -- the command line and the arena ---------------------------------------------------------

def run_cli(*args) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "wbstream.cli", *args], capture_output=True, text=True, timeout=120)


def test_play_with_the_same_secret_file_replays_the_same_games(tmp_path):
    secret = tmp_path / "secret"
    common = ["play", "--problem", PROBLEM, "--algorithm", ALGORITHM, "--adversary", "random-sparse(rounds=3)",
              "--threat", "oblivious", "--trials", "2", "--json"]
    first = run_cli(*common, "--save-secret", str(secret), "--out", str(tmp_path / "a.jsonl"))
    assert first.returncode == 0, first.stderr
    assert (secret.stat().st_mode & 0o777) == 0o600
    again = run_cli(*common, "--secret", str(secret), "--out", str(tmp_path / "b.jsonl"))
    fresh = run_cli(*common, "--out", str(tmp_path / "c.jsonl"))
    keys = [[json.loads(line)["game_key"] for line in (tmp_path / f"{n}.jsonl").read_text().splitlines()]
            for n in "abc"]
    assert keys[0] == keys[1] and keys[0] != keys[2]
    bad = tmp_path / "bad"
    bad.write_text("xyz")
    refused = run_cli(*common, "--secret", str(bad))
    assert refused.returncode != 0 and "Traceback" not in refused.stderr
    assert "64 hexadecimal digits" in refused.stderr


def test_the_arena_keeps_its_secret_owner_only_and_resumes_with_it(tmp_path):
    from wbstream.arena.arena import SECRET_NAME, run_arena
    from wbstream.arena.executors import SerialExecutor
    from wbstream.arena.matchups import Matchup
    from wbstream.arena.store import ResultStore, StoreError

    m = Matchup(PROBLEM, ALGORITHM, "random-sparse(rounds=3)", "oblivious")
    run_arena([m], trials=1, seed=0, out_dir=tmp_path, executor=SerialExecutor())
    path = tmp_path / SECRET_NAME
    assert (path.stat().st_mode & 0o777) == 0o600
    secret = read_secret_file(path)
    run_arena([m], trials=2, seed=0, out_dir=tmp_path, executor=SerialExecutor())  # resumes
    with ResultStore(tmp_path / "results.sqlite") as store:
        stored = [r["result"] for r in store.rows()]
    for r in stored:
        assert r.game_key == game_key(secret, m.game(r.seed).matchup, r.seed).hex()
    with pytest.raises(StoreError, match="another run"):
        run_arena([m], trials=1, seed=0, out_dir=tmp_path, executor=SerialExecutor(), secret=bytes(32))


def test_the_secret_is_never_derived_from_public_data():
    # a 256-bit secret per run: two fresh ones differ, and a game key depends on every input
    s = bytes(32)
    base = game_key(s, "m", 1)
    assert len({base, game_key(s, "m", 2), game_key(s, "n", 1), game_key(bytes(31) + b"\1", "m", 1)}) == 4
    assert hashlib.sha256(b"wbstream/coins/algorithm/1").digest() not in (base, derive(base, "algorithm"))
