"""The arena runs suites on every executor, survives SIGKILL, and records crashes and hangs."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from dataclasses import asdict

import pytest

import arena_hostile as hostile
from wbstream.arena.arena import STORE_NAME, run_arena
from wbstream.arena.executors import DaskExecutor, ExecutorError, PoolExecutor, SerialExecutor
from wbstream.arena.matchups import Matchup, SuiteError, load_toml, suite
from wbstream.arena.store import ResultStore, StoreError
from wbstream.engine.registry import adversaries

MINI = [
    Matchup("sparse-recovery(n=512, k=2, M=1024)", "countsketch(rows=5, cols=16)", "kernel-injection", "white-box"),
    Matchup("sparse-recovery(n=512, k=2, M=1024)", "countsketch(rows=5, cols=16)", "random-sparse(rounds=10)",
            "oblivious"),
    Matchup("f2(n=2048, M=1024, eps=0.5)", "ams(means=16, medians=5)", "dense(rounds=5)", "oblivious", query_every=5),
]
TIMING = {"update_ns_median", "update_ns_p99", "query_ns_median", "adversary_seconds", "wall_seconds", "commit"}


def outcomes(store_path) -> dict:
    with ResultStore(store_path) as store:
        return {r["key"]: (r["status"], {k: v for k, v in asdict(r["result"]).items() if k not in TIMING}
                           if r["result"] is not None else r["error"]) for r in store.rows()}


@pytest.mark.parametrize("make", [lambda: PoolExecutor(2)], ids=["pool"])
def test_the_pool_plays_exactly_what_serial_plays(tmp_path, make):
    secret = bytes(range(32))
    run_arena(MINI, trials=3, seed=7, out_dir=tmp_path / "s", executor=SerialExecutor(), secret=secret)
    run = run_arena(MINI, trials=3, seed=7, out_dir=tmp_path / "p", executor=make(), secret=secret)
    assert run.played == 9 and run.errors == 0
    assert outcomes(tmp_path / "s" / STORE_NAME) == outcomes(tmp_path / "p" / STORE_NAME)


@pytest.mark.slow
def test_a_dask_local_cluster_gives_the_serial_results(tmp_path):
    run_arena(MINI, trials=2, seed=3, out_dir=tmp_path / "s", executor=SerialExecutor())
    executor = DaskExecutor(local_workers=2)
    try:
        run = run_arena(MINI, trials=2, seed=3, out_dir=tmp_path / "d", executor=executor)
    finally:
        executor.close()
    assert run.played == 6 and run.errors == 0
    assert outcomes(tmp_path / "s" / STORE_NAME) == outcomes(tmp_path / "d" / STORE_NAME)


def test_an_unreachable_scheduler_is_a_clear_error():
    with pytest.raises(ExecutorError, match="cannot reach the Dask scheduler"):
        DaskExecutor(scheduler="tcp://127.0.0.1:9")


@pytest.mark.slow
def test_sigkill_mid_run_then_resume_plays_only_the_missing_games(tmp_path):
    out = tmp_path / "arena"
    cmd = [sys.executable, "-m", "wbstream.cli", "arena", "--suite", "quick", "--trials", "2", "--serial",
           "--no-report", "--out", str(out)]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    db = out / STORE_NAME
    deadline = time.time() + 120
    stored = 0
    while time.time() < deadline and proc.poll() is None:
        if db.exists():
            try:
                stored = sqlite3.connect(db).execute("select count(*) from games").fetchone()[0]
            except sqlite3.Error:
                stored = 0
            if stored >= 6:
                break
        time.sleep(0.05)
    assert proc.poll() is None, "the arena finished before it could be killed"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    with ResultStore(db) as store:
        before = store.count()
        assert store.integrity_ok() and before >= 6
    again = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert again.returncode == 0, again.stderr
    # the rerun's own count of the suite (the subprocess sees only the built-in registry)
    import re
    played, stored = map(int, re.search(r"played (\d+), already stored (\d+)", again.stdout).groups())
    assert stored == before and played >= 1
    with ResultStore(db) as store:
        keys = [r["key"] for r in store.rows()]
        assert len(keys) == len(set(keys)) == played + stored
        assert store.integrity_ok()


@pytest.fixture
def misbehaving():
    """Register the test adversaries for one test only (workers receive them by reference)."""
    hostile.register()
    yield
    hostile.unregister()


@pytest.mark.parametrize("make", [SerialExecutor, lambda: PoolExecutor(2)], ids=["serial", "pool"])
def test_crashes_and_hangs_become_error_rows_and_the_arena_goes_on(tmp_path, make, misbehaving):
    ms = [Matchup("f2(n=8, M=4, eps=0.5)", "exact", name, "oblivious") for name in
          ("test-crashing", "test-hangs", "test-fine")]
    run = run_arena(ms, trials=1, seed=0, out_dir=tmp_path, executor=make(), timeout=1.0)
    assert run.played == 3 and run.errors == 2
    with ResultStore(tmp_path / STORE_NAME) as store:
        by_adv = {r["adversary"]: r for r in store.rows()}
    assert by_adv["test-crashing"]["status"] == "error"
    assert "the adversary fell over" in by_adv["test-crashing"]["error"]
    assert by_adv["test-hangs"]["status"] == "timeout" and "1 s limit" in by_adv["test-hangs"]["error"]
    assert by_adv["test-fine"]["status"] == "ok"


def test_bad_suites_and_outputs_are_refused_and_lose_nothing(tmp_path):
    with pytest.raises(SuiteError, match="unknown suite 'nosuch'"):
        suite("nosuch")
    bad = tmp_path / "bad.toml"
    bad.write_text("[[matchup]\nproblem = 1\n")
    with pytest.raises(SuiteError, match="malformed suite file"):
        load_toml(bad)
    unknown = tmp_path / "unknown.toml"
    unknown.write_text('[[matchup]]\nproblem = "f2"\nalgorithm = "exact"\nadversary = "dense"\nthreat = "oblivious"\n'
                       'colour = "red"\n')
    with pytest.raises(SuiteError, match="unknown keys"):
        load_toml(unknown)
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    with pytest.raises(StoreError, match="cannot create the output directory"):
        run_arena(MINI[:1], trials=1, seed=0, out_dir=blocker / "out")
    run_arena(MINI[:1], trials=1, seed=0, out_dir=tmp_path / "ok")
    with pytest.raises(ValueError):
        run_arena(MINI[:1], trials=0, seed=0, out_dir=tmp_path / "ok")
    with ResultStore(tmp_path / "ok" / STORE_NAME) as store:
        assert store.count() == 1


def test_every_registered_algorithm_and_adversary_shows_up_in_the_standard_suite():
    from wbstream.engine.registry import algorithms
    ms = suite("standard")
    assert {m.algorithm.split("(")[0] for m in ms} == set(algorithms.names())
    assert {m.adversary.split("(")[0] for m in ms} == set(adversaries.names())
    assert {m.threat for m in ms} == {"oblivious", "adaptive", "state-only", "white-box"}


def test_stored_arena_games_replay_from_their_seeds(tmp_path):
    from click.testing import CliRunner

    from wbstream.cli import main
    from wbstream.engine.errors import ReplayMismatch
    from wbstream.engine.replay import replay_from_seed

    run_arena(MINI, trials=2, seed=11, out_dir=tmp_path, executor=SerialExecutor())
    res = CliRunner().invoke(main, ["replay", str(tmp_path)])
    assert res.exit_code == 0 and "replayed 6 stored game(s)" in res.output
    with ResultStore(tmp_path / STORE_NAME) as store:
        row = store.rows(status="ok")[0]
    one = CliRunner().invoke(main, ["replay", str(tmp_path), "--key", row["key"]])
    assert one.exit_code == 0 and "replayed 1 stored game(s)" in one.output
    tampered = row["result"]
    tampered.rounds += 1
    with pytest.raises(ReplayMismatch, match="rounds"):
        replay_from_seed(tampered)


def test_a_matchup_capped_at_one_trial_plays_one_game_whatever_the_runs_trials(tmp_path):
    from dataclasses import replace
    capped = replace(MINI[1], max_trials=1)
    assert capped.id == MINI[1].id  # the same games: the cap only says how many
    run = run_arena([MINI[0], capped], trials=3, seed=7, out_dir=tmp_path, executor=SerialExecutor())
    assert (run.total, run.played) == (4, 4)
    with ResultStore(tmp_path / STORE_NAME) as store:
        seeds = sorted(r["seed"] for r in store.rows() if r["matchup"] == capped.id)
    assert seeds == [7]
