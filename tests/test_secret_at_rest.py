"""No run secret on disk while games play: the arena and ``play --save-secret`` write it when they end.

The isolated adversary runs as the referee's user. ``play`` referees in this process, so the
test turns the OS sandbox off (the probe says "no Landlock") and what keeps the secret from the
adversary is only that no file holds it; the arena referees in its workers (their own probe,
their own sandbox), so the test looks for the file itself after every game.
"""

from __future__ import annotations

import pytest
from click.testing import CliRunner
from hostile import Escaped, Snoop

from wbstream.arena.arena import SECRET_LOG_NAME, SECRET_NAME, run_arena
from wbstream.arena.executors import SerialExecutor
from wbstream.arena.matchups import Matchup
from wbstream.arena.store import ResultStore, StoreError
from wbstream.engine import landlock
from wbstream.engine.keys import game_key, read_secret_file, secret_id
from wbstream.engine.registry import adversaries

SPARSE = "sparse-recovery(n=512, k=2, M=1024)"
CS = "countsketch(rows=5, cols=16)"


@pytest.fixture
def snoop(monkeypatch):
    monkeypatch.setattr(landlock, "abi_version", lambda: 0)
    monkeypatch.setattr(landlock, "_warned", True)
    adversaries.register(Snoop)
    yield
    adversaries.unregister("snoop")


def snooping(where) -> Matchup:
    return Matchup(SPARSE, CS, f"snoop(route='secret-file', path='{where}')", "adaptive", isolation="all")


def statuses(out) -> list[str]:
    with ResultStore(out / "results.sqlite") as store:
        return [row["status"] for row in store.rows()]


def test_no_secret_file_while_a_run_or_a_resumed_one_plays(tmp_path, snoop):
    m = snooping(tmp_path)
    on_disk = []

    def progress(done, total):
        on_disk.append((tmp_path / SECRET_NAME).exists())

    run_arena([m], trials=1, seed=0, out_dir=tmp_path, executor=SerialExecutor(), progress=progress)
    secret = read_secret_file(tmp_path / SECRET_NAME)  # written once the run ended, owner-only
    assert (tmp_path / SECRET_NAME).stat().st_mode & 0o777 == 0o600
    run_arena([m], trials=3, seed=0, out_dir=tmp_path, executor=SerialExecutor(), progress=progress)  # resumes
    assert on_disk == [False] * 3 and statuses(tmp_path) == ["ok"] * 3
    assert read_secret_file(tmp_path / SECRET_NAME) == secret
    with ResultStore(tmp_path / "results.sqlite") as store:
        for r in store.results():
            assert r.game_key == game_key(secret, m.game(r.seed).matchup, r.seed).hex()
    with pytest.raises(Escaped, match="a secret in"):  # the route is real: between runs it finds the file
        Snoop(route="secret-file", path=str(tmp_path)).act(None)


def test_the_secret_is_written_when_a_run_stops_on_an_error(tmp_path, snoop):
    class Broken(SerialExecutor):
        def run(self, tasks, timeout, warm=False):
            next(iter(tasks))
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run_arena([snooping(tmp_path)], trials=2, seed=0, out_dir=tmp_path, executor=Broken())
    assert len(read_secret_file(tmp_path / SECRET_NAME)) == 32


@pytest.mark.fresh_secret
def test_a_run_killed_before_it_wrote_its_secret_resumes_under_a_fresh_one_recorded_as_such(tmp_path, snoop):
    m = snooping(tmp_path)
    run_arena([m], trials=1, seed=0, out_dir=tmp_path, executor=SerialExecutor())
    first = read_secret_file(tmp_path / SECRET_NAME)
    (tmp_path / SECRET_NAME).unlink()  # as a SIGKILL during the next run would leave it
    with pytest.raises(StoreError, match="games of another run's secret"):  # a given secret must be that run's
        run_arena([m], trials=2, seed=0, out_dir=tmp_path, executor=SerialExecutor(), secret=bytes(32))
    assert statuses(tmp_path) == ["ok"] and not (tmp_path / SECRET_NAME).exists()  # refused: nothing changed
    notices = []
    run_arena([m], trials=2, seed=0, out_dir=tmp_path, executor=SerialExecutor(), on_notice=notices.append)
    fresh = read_secret_file(tmp_path / SECRET_NAME)
    assert fresh != first and len(notices) == 1 and "secret is lost" in notices[0]
    log = (tmp_path / SECRET_LOG_NAME).read_text().splitlines()
    assert [line.split()[1:3] for line in log] == [[secret_id(first), "new"], [secret_id(fresh), "fresh:"]]
    with ResultStore(tmp_path / "results.sqlite") as store:  # each game keeps the key of its own secret
        assert [r.game_key for r in store.results()] == [game_key(s, m.game(seed).matchup, seed).hex()
                                                         for s, seed in ((first, 0), (fresh, 1))]
    (tmp_path / SECRET_NAME).unlink()
    run_arena([m], trials=3, seed=0, out_dir=tmp_path, executor=SerialExecutor(), secret=fresh)  # given back: resumes
    assert statuses(tmp_path) == ["ok"] * 3 and len((tmp_path / SECRET_LOG_NAME).read_text().splitlines()) == 2


def test_play_save_secret_reserves_the_file_and_writes_it_after_the_games(tmp_path, snoop):
    from wbstream.cli import main

    path = tmp_path / "kept"
    args = ["play", "--problem", SPARSE, "--algorithm", CS, "--adversary",
            f"snoop(route='secret-file', path='{tmp_path}')", "--threat", "adaptive", "--trials", "2", "--isolate",
            "--json", "--out", str(tmp_path / "games.jsonl"), "--save-secret", str(path)]
    run = CliRunner().invoke(main, args)
    assert run.exit_code == 0, run.output
    assert path.stat().st_mode & 0o777 == 0o600 and len(read_secret_file(path)) == 32
    again = CliRunner().invoke(main, args)  # the file exists: refused before any game
    assert again.exit_code != 0 and "cannot write the secret" in again.output and "Traceback" not in again.output
    missing = CliRunner().invoke(main, args[:-1] + [str(tmp_path / "no" / "such")])
    assert missing.exit_code != 0 and "No such file or directory" in missing.output


def test_a_refused_play_leaves_no_secret_file_and_the_corrected_one_writes_it(tmp_path):
    from wbstream.cli import main
    target = tmp_path / "secret"
    args = ["play", "--problem", "f2(n=64, M=8, eps=0.5)", "--adversary", "dense(rounds=2)", "--threat", "oblivious",
            "--save-secret", str(target), "--algorithm"]
    bad = CliRunner().invoke(main, args + ["nosuch"])
    assert bad.exit_code == 2 and not target.exists()
    good = CliRunner().invoke(main, args + ["exact"])
    assert good.exit_code == 0, good.output
    assert len(read_secret_file(target)) == 32


def test_a_given_secret_that_no_stored_game_can_check_is_recorded_as_unchecked(tmp_path, snoop):
    m = snooping(tmp_path)
    run_arena([m], trials=1, seed=0, out_dir=tmp_path, executor=SerialExecutor())
    (tmp_path / SECRET_NAME).unlink()  # lost, as after a SIGKILL
    other = Matchup(m.problem, m.algorithm, m.adversary, m.threat, rounds=7)  # none of its games is stored
    run_arena([other], trials=1, seed=0, out_dir=tmp_path, executor=SerialExecutor(), secret=bytes(32))
    last = (tmp_path / SECRET_LOG_NAME).read_text().splitlines()[-1].split()
    assert last[1] == secret_id(bytes(32)) and last[2:4] == ["given,", "unchecked:"]
