"""Replay of untrusted records: forged outcomes, runaway rounds, hostile JSON, and HE state sizes."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from wbstream.arena.arena import run_arena
from wbstream.arena.executors import SerialExecutor
from wbstream.arena.matchups import Matchup
from wbstream.cli import main
from wbstream.engine.errors import RecordError, ReplayMismatch, WbstreamError
from wbstream.engine.game import Budget, Game
from wbstream.engine.replay import OUTCOME_FIELDS, replay, replay_from_seed
from wbstream.engine.result import GameResult

CS = ("sparse-recovery(n=512, k=2, M=1024)", "countsketch(rows=5, cols=16)")


@pytest.fixture(scope="module")
def broken():
    """A game that fails (kernel injection breaks CountSketch), with its transcript."""
    r = Game(*CS, "kernel-injection", "white-box", seed=0, record_transcript=True).play()
    assert r.failed and r.failure_kind == "missed-not-sparse"
    return r


@pytest.fixture(scope="module")
def holds():
    """A game that does not fail, queried every round."""
    r = Game("f2(n=64, M=8, eps=0.5)", "exact", "dense(rounds=6)", "oblivious", seed=2,
             record_transcript=True).play()
    assert not r.failed and r.rounds == 6
    return r


def forge(result: GameResult, **changes) -> GameResult:
    data = result.to_dict()
    data.update(changes)
    return GameResult.from_dict(data)


# -- forged outcomes -----------------------------------------------------------------

@pytest.mark.parametrize("changes", [
    dict(failed=False), dict(failure_kind="false-not-sparse"), dict(first_failure_round=7),
    dict(rounds=5), dict(updates=3), dict(failure_detail="nothing to see"), dict(failed_queries=0),
    dict(queries=9), dict(stop_reason="round-budget"), dict(space_state_bits=1), dict(space_key_bits=0),
])
def test_a_forged_outcome_of_a_failed_game_does_not_replay(broken, changes):
    name = next(iter(changes))
    with pytest.raises(ReplayMismatch, match=f"{name}: recorded"):
        replay(forge(broken, **changes))


@pytest.mark.parametrize("changes", [dict(failed=True, failure_kind="out-of-factor", first_failure_round=3),
                                     dict(rounds=7), dict(updates=1), dict(final_detail="forged")])
def test_a_game_that_held_cannot_be_recorded_as_failed(holds, changes):
    with pytest.raises(ReplayMismatch, match="exact vs dense"):
        replay(forge(holds, **changes))


def test_genuine_records_replay_every_outcome_field(broken, holds):
    for r in (broken, holds):
        again = replay(GameResult.from_json(r.to_json()))
        assert {f: getattr(again, f) for f in OUTCOME_FIELDS} == {f: getattr(r, f) for f in OUTCOME_FIELDS}


def test_records_stopped_by_a_budget_replay():
    for budget in (Budget(updates=300), Budget(rounds=4), Budget(seconds=60)):
        r = Game("f2(n=64, M=8, eps=0.5)", "exact", "dense(rounds=6)", "oblivious", seed=1, budget=budget,
                 record_transcript=True, stop_on_failure=False).play()
        assert replay(GameResult.from_json(r.to_json())).rounds == r.rounds


# -- runaway and malformed transcripts ---------------------------------------------------

def test_a_batch_far_beyond_the_budget_is_refused_before_anything_is_played(holds):
    data = holds.to_dict()
    data["transcript"]["batches"].append([10**15, [1], [1]])
    with pytest.raises(RecordError, match="1000000000000000"):
        replay(GameResult.from_dict(data))
    data = holds.to_dict()
    data["transcript"]["batches"].append([7, [1], [1]])  # the next round, but over the round budget
    data["budget_rounds"] = 6
    with pytest.raises(RecordError, match="round budget 6"):
        replay(GameResult.from_dict(data))


@pytest.mark.parametrize("rounds", [[2, 1, 3, 4, 5, 6], [1, 1, 2, 3, 4, 5], [1, 2, 3, 4, 5, 5]])
def test_rounds_must_increase_one_by_one(holds, rounds):
    data = json.loads(holds.to_json())
    for b, r in zip(data["transcript"]["batches"], rounds):
        b[0] = r
    with pytest.raises(RecordError, match="rounds must run 1, 2, 3"):
        replay(GameResult.from_dict(data))


def test_transcripts_over_the_update_or_batch_budget_are_refused(holds):
    with pytest.raises(RecordError, match="update budget 10"):
        replay(forge(holds, budget_updates=10))
    with pytest.raises(RecordError, match="max_batch 5"):
        replay(forge(holds, budget_max_batch=5))


def test_a_recorded_batch_the_referee_refuses_names_its_round(holds):
    data = holds.to_dict()
    data["transcript"]["batches"][3][2][0] = 100  # |x_i| <= M = 8 broken
    with pytest.raises(RecordError, match=r"round 4: update 0: delta 100 cannot keep \|x_i\| <= M = 8"):
        replay(GameResult.from_dict(data))


HOSTILE = ["missing key", "null record", "bare number", "index 2^64", "delta 2^70", "string round", "deep nesting",
           "deep nesting inside", "transcript a number", "seed a bool", "not json", "budget 1e300 seconds",
           "answer not a triple", "ragged lengths"]


def hostile_records(good: dict) -> dict[str, str]:
    """Ways to break a record, each as the text of a JSON line."""
    def edit(fn):
        d = json.loads(json.dumps(good))
        fn(d)
        return json.dumps(d)

    return {
        "missing key": edit(lambda d: d.pop("problem")),
        "null record": "null",
        "bare number": "42",
        "index 2^64": edit(lambda d: d["transcript"]["batches"][0][1].__setitem__(0, 2**64)),
        "delta 2^70": edit(lambda d: d["transcript"]["batches"][0][2].__setitem__(0, 2**70)),
        "string round": edit(lambda d: d["transcript"]["batches"][0].__setitem__(0, "1")),
        "deep nesting": "[" * 100_000 + "]" * 100_000,
        "deep nesting inside": edit(lambda d: d["transcript"]["batches"][0].__setitem__(1, "@")).replace(
            '"@"', "[" * 100_000 + "]" * 100_000),
        "transcript a number": edit(lambda d: d.__setitem__("transcript", 3)),
        "seed a bool": edit(lambda d: d.__setitem__("seed", True)),
        "not json": '{"problem": ',
        "budget 1e300 seconds": edit(lambda d: d.__setitem__("budget_seconds", 1e300)),
        "answer not a triple": edit(lambda d: d["transcript"]["answers"].__setitem__(0, [1, 2])),
        "ragged lengths": edit(lambda d: d["transcript"]["batches"][0][2].append(1)),
    }


@pytest.fixture(scope="module")
def hostile(holds):
    cases = hostile_records(holds.to_dict())
    assert list(cases) == HOSTILE
    return cases


@pytest.mark.parametrize("case", HOSTILE)
def test_hostile_records_are_one_line_errors(hostile, case):
    text = hostile[case]
    with pytest.raises(WbstreamError) as info:
        replay(GameResult.from_json(text))
    assert "\n" not in str(info.value)


@pytest.mark.parametrize("case", ["missing key", "null record", "index 2^64", "delta 2^70", "string round",
                                  "deep nesting", "deep nesting inside", "budget 1e300 seconds"])
def test_the_cli_refuses_hostile_records_in_one_line(hostile, case, tmp_path):
    path = tmp_path / "games.jsonl"
    path.write_text(hostile[case] + "\n")
    res = CliRunner().invoke(main, ["replay", str(path)])
    assert res.exit_code == 2 and isinstance(res.exception, SystemExit), res.output
    assert res.output.startswith("Error: ") and res.output.count("\n") == 1, res.output


def test_the_cli_refuses_a_file_that_is_not_text(tmp_path):
    path = tmp_path / "games.jsonl"
    path.write_bytes(b"\xff\xfe\x00garbage\n")
    res = CliRunner().invoke(main, ["replay", str(path)])
    assert res.exit_code == 2 and "Traceback" not in res.output and res.output.startswith("Error: ")


# -- replay from the seed -------------------------------------------------------------------

def test_replay_from_seed_names_the_game_and_the_field(broken):
    with pytest.raises(ReplayMismatch, match=r"countsketch\(rows=5, cols=16\) vs kernel-injection.*seed 0: "
                                             r"first_failure_round: recorded 2"):
        replay_from_seed(forge(broken, first_failure_round=2))
    with pytest.raises(RecordError, match="time budget"):
        replay_from_seed(forge(broken, budget_seconds=5.0))


HE = Matchup("sparse-recovery(n=512, k=2, M=1024)", "encrypted-countsketch(rows=3, cols=16, poly_degree=4096)",
             "random-sparse(rounds=2)", "oblivious")


def test_an_arena_of_encrypted_countsketch_replays_within_the_stated_tolerance(tmp_path):
    run_arena([HE], trials=2, seed=0, out_dir=tmp_path, executor=SerialExecutor())
    res = CliRunner().invoke(main, ["replay", str(tmp_path)])
    assert res.exit_code == 0, res.output
    assert "replayed 2 stored game(s)" in res.output


def test_a_he_state_size_beyond_the_tolerance_names_the_game_and_the_field():
    r = HE.game(5).play()
    assert replay_from_seed(GameResult.from_json(r.to_json())).rounds == r.rounds
    forged = forge(r, space_state_bits=int(r.space_state_bits * 1.05))
    with pytest.raises(ReplayMismatch, match=r"seed 5: space_state_bits: recorded .* \(tolerance 1%\)"):
        replay_from_seed(forged)


def test_the_cli_names_the_stored_game_that_does_not_replay(tmp_path):
    import sqlite3

    from wbstream.arena.store import ResultStore

    m = Matchup(*CS, "kernel-injection", "white-box")
    run_arena([m], trials=1, seed=3, out_dir=tmp_path, executor=SerialExecutor())
    with ResultStore(tmp_path / "results.sqlite") as store:
        row = store.rows(status="ok")[0]
    key = row["key"]
    with sqlite3.connect(tmp_path / "results.sqlite") as conn:
        conn.execute("UPDATE games SET result = ?", (forge(row["result"], rounds=40).to_json(),))
    res = CliRunner().invoke(main, ["replay", str(tmp_path)])
    assert res.exit_code == 1 and f"game {key}" in res.output and "rounds: recorded 40" in res.output


# -- the game key -----------------------------------------------------------------------------------

def test_replay_plays_the_recorded_game_key(broken):
    assert len(broken.game_key) == 64
    assert replay(GameResult.from_json(broken.to_json())).game_key == broken.game_key
    with pytest.raises(ReplayMismatch):  # other coins: the recorded kernel vector no longer fools the sketch
        replay(forge(broken, game_key="00" * 32))
    with pytest.raises(RecordError, match="no game key"):
        replay(forge(broken, game_key=None))
    with pytest.raises(RecordError, match="no game key"):
        replay_from_seed(forge(broken, game_key=None))


@pytest.mark.parametrize("key", ["zz" * 32, "00" * 31, "00" * 33, "0x" + "00" * 31, " " * 64])
def test_a_game_key_must_be_64_hex_digits(broken, key):
    with pytest.raises(RecordError, match="game_key.*64 hex digits"):
        forge(broken, game_key=key)
    r = GameResult.from_json(broken.to_json())
    r.game_key = key  # changed after it was read: checked again before replay
    with pytest.raises(RecordError, match="game_key.*64 hex digits"):
        replay(r)
