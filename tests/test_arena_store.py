"""The arena's SQLite result store: exact round trips, refusals, and rows that survive SIGKILL."""

import sqlite3
import subprocess
import sys
import textwrap
import time

import pytest

from wbstream.arena.store import SCHEMA_VERSION, ResultStore, StoreError
from wbstream.engine.game import Game

SPARSE = "sparse-recovery(n=512, k=2, M=1024)"
CS = "countsketch(rows=5, cols=16)"
F2 = "f2(n=2048, M=1024, eps=0.5)"
AMS = "ams(means=16, medians=5)"
MATCHUPS = [
    ("cs-ki", SPARSE, CS, "kernel-injection", "white-box"),
    ("cs-rand", SPARSE, CS, "random-sparse(rounds=20)", "oblivious"),
    ("ams-dense", F2, AMS, "dense", "oblivious"),
    ("ams-ki", F2, AMS, "kernel-injection", "white-box"),
]


@pytest.fixture(scope="module")
def games():
    """(key, fields, GameResult) for two real games of each matchup."""
    out = []
    for mid, problem, alg, adv, threat in MATCHUPS:
        for seed in (1, 2):
            r = Game(problem, alg, adv, threat, seed=seed).play()
            out.append((f"{mid}/{seed}", dict(matchup=mid, problem=problem, algorithm=alg, adversary=adv,
                                               threat=threat, seed=seed), r))
    return out


def fill(store, games):
    for i, (key, f, r) in enumerate(games):
        store.add(key, **f, status="ok", result=r, task_seconds=0.25 * i)


def test_rows_round_trip_exactly(tmp_path, games):
    path = tmp_path / "results.sqlite"
    with ResultStore(path) as store:
        fill(store, games)
        store.add("cs-ki/9", **{**games[0][1], "seed": 9}, status="error", error="ValueError: boom")
        store.add("cs-ki/10", **{**games[0][1], "seed": 10}, status="timeout", error="timed out after 1 s")
    with ResultStore(path) as store:
        assert store.count() == len(games) + 2 == len(store)
        assert store.keys() == {k for k, _, _ in games} | {"cs-ki/9", "cs-ki/10"}
        assert "cs-ki/1" in store and "cs-ki/99" not in store
        assert store.results() == [r for _, _, r in games]
        rows = store.rows()
        assert [row["key"] for row in rows] == [k for k, _, _ in games] + ["cs-ki/9", "cs-ki/10"]
        for row, (key, f, r) in zip(rows, games):
            assert row["result"] == r and row["status"] == "ok" and row["error"] is None
            assert row["failed"] is r.failed and {k: row[k] for k in f} == f
            assert row["created"] > 0
        assert rows[1]["task_seconds"] == 0.25
        assert [row["key"] for row in store.rows("error")] == ["cs-ki/9"]
        timeout = store.rows("timeout")[0]
        assert timeout["result"] is None and timeout["failed"] is None and timeout["error"].startswith("timed out")
        assert store.integrity_ok()
        assert store.conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    con = sqlite3.connect(path)
    assert con.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    con.close()


def test_duplicate_key_is_refused_and_the_first_row_is_intact(tmp_path, games):
    key, f, r = games[0]
    other = games[2][2]
    with ResultStore(tmp_path / "s.sqlite") as store:
        store.add(key, **f, status="ok", result=r)
        with pytest.raises(StoreError, match="already holds game 'cs-ki/1'"):
            store.add(key, **f, status="ok", result=other)
        with pytest.raises(StoreError, match="already holds"):
            store.add(key, **f, status="error", error="x")
        assert store.count() == 1 and store.results() == [r]


def test_bad_rows_are_refused_whole(tmp_path, games):
    key, f, r = games[0]
    with ResultStore(tmp_path / "s.sqlite") as store:
        with pytest.raises(StoreError, match="status must be one of"):
            store.add(key, **f, status="done", result=r)
        with pytest.raises(StoreError, match="needs its GameResult"):
            store.add(key, **f, status="ok")
        with pytest.raises(StoreError, match="has no GameResult"):
            store.add(key, **f, status="error", result=r, error="x")
        assert store.count() == 0


def test_newer_schema_is_refused_and_nothing_is_lost(tmp_path, games):
    path = tmp_path / "results.sqlite"
    with ResultStore(path) as store:
        fill(store, games[:3])
    con = sqlite3.connect(path)
    con.execute("PRAGMA user_version = 99")
    con.commit()
    con.close()
    with pytest.raises(StoreError, match="schema version 99, newer than the version 1"):
        ResultStore(path)
    con = sqlite3.connect(path)
    assert con.execute("PRAGMA user_version").fetchone()[0] == 99
    assert [k for (k,) in con.execute("SELECT key FROM games ORDER BY rowid")] == [k for k, _, _ in games[:3]]
    con.close()


def test_unknown_layouts_and_unwritable_places_are_refused(tmp_path):
    foreign = tmp_path / "foreign.sqlite"
    con = sqlite3.connect(foreign)
    con.execute("CREATE TABLE t (x)")
    con.commit()
    con.close()
    with pytest.raises(StoreError, match="not a wbstream result store"):
        ResultStore(foreign)
    con = sqlite3.connect(foreign)
    assert con.execute("PRAGMA user_version").fetchone()[0] == 0
    con.close()
    wrong = tmp_path / "wrong.sqlite"
    con = sqlite3.connect(wrong)
    con.execute("CREATE TABLE games (key TEXT)")
    con.execute("PRAGMA user_version = 1")
    con.commit()
    con.close()
    with pytest.raises(StoreError, match="expected layout"):
        ResultStore(wrong)
    junk = tmp_path / "junk.sqlite"
    junk.write_bytes(b"this is not a database at all" * 100)
    with pytest.raises(StoreError, match="not a"):
        ResultStore(junk)
    a_file = tmp_path / "a-file"
    a_file.write_text("x")
    with pytest.raises(StoreError, match="cannot create the directory"):
        ResultStore(a_file / "sub" / "results.sqlite")
    with pytest.raises(StoreError, match="not a file"):
        ResultStore(tmp_path)


def test_a_store_killed_mid_write_keeps_whole_rows(tmp_path):
    """SIGKILL a writer in a loop: every stored row is complete and the database is sound."""
    path = tmp_path / "results.sqlite"
    code = textwrap.dedent(f"""
        from wbstream.arena.store import ResultStore
        from wbstream.engine.result import GameResult
        store = ResultStore({str(path)!r})
        i = 0
        while True:
            r = GameResult("f2(n=8)", "exact", "dense", "oblivious", i, rounds=i, update_ns_median=1.5 * i)
            store.add(f"m/{{i}}", matchup="m", problem=r.problem, algorithm=r.algorithm, adversary=r.adversary,
                      threat=r.threat, seed=i, status="ok", result=r)
            i += 1
    """)
    proc = subprocess.Popen([sys.executable, "-c", code])
    try:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            time.sleep(0.1)
            try:
                con = sqlite3.connect(path, timeout=5)
                n = con.execute("SELECT COUNT(*) FROM games").fetchone()[0]
                con.close()
            except sqlite3.Error:
                continue
            if n >= 20:
                break
    finally:
        proc.kill()
        proc.wait()
    with ResultStore(path) as store:
        assert store.integrity_ok()
        rows = store.rows()
        assert len(rows) >= 20
        assert [row["seed"] for row in rows] == list(range(len(rows)))
        assert all(row["result"].seed == row["seed"] and row["result"].rounds == row["seed"] for row in rows)
