"""The referee cannot be stalled, fooled or crashed: deadlines, dead workers, orphans, the store, suites."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time
import uuid
from dataclasses import replace
from pathlib import Path

import pytest
from click.testing import CliRunner

import arena_hostile as hostile
from wbstream.arena.arena import STORE_NAME, arena_lock, run_arena
from wbstream.arena.executors import SerialExecutor, _outcome_from_json, play_task_forked
from wbstream.arena.matchups import Matchup, SuiteError, load_toml
from wbstream.arena.store import ResultStore, StoreError
from wbstream.cli import main

TESTS = Path(__file__).parent
MINI = Matchup("sparse-recovery(n=512, k=2, M=1024)", "countsketch(rows=5, cols=16)", "kernel-injection",
               "white-box")
HANG_GUARD = 180  # seconds: only a hung arena (the bug) gets near this


def hostile_env(marker: str = "WBSTREAM_TEST_RUN=1") -> dict:
    """The environment of a subprocess arena: tests/ importable, and a marker its descendants inherit."""
    key, value = marker.split("=")
    return {**os.environ, "PYTHONPATH": os.pathsep.join([str(TESTS), os.environ.get("PYTHONPATH", "")]), key: value}


def hostile_arena(tmp_path: Path, names, *args) -> list[str]:
    suite = tmp_path / "hostile.toml"
    suite.write_text(hostile.toml_suite(names))
    return [sys.executable, "-c", hostile.CLI, "arena", "--suite", str(suite), "--no-report",
            "--out", str(tmp_path / "out"), *args]


@pytest.mark.parametrize("mode, segfault", [
    (["--serial", "--isolate", "none"], "the game's process died while playing it (killed by SIGSEGV)"),
    (["--workers", "2"], "the isolated adversary 'test-segfaults' exited in round 1 (exit code -11)"),
], ids=["serial-in-the-worker", "pool-isolated-adversaries"])
def test_no_game_can_stretch_its_deadline_or_take_the_arena_down(tmp_path, mode, segfault):
    """Played in the worker itself (``--isolate none``) or from an isolated child, the same guarantees."""
    names = ["test-swallows", "test-blocks-in-c", "test-disarms", "test-segfaults", "test-fine"]
    marker = f"WBSTREAM_TEST_RUN={uuid.uuid4().hex}"
    cmd = hostile_arena(tmp_path, names, "--timeout", "1", *mode)
    done = subprocess.run(cmd, capture_output=True, text=True, env=hostile_env(marker), timeout=HANG_GUARD)
    survivors = _outlive(marker)
    assert done.returncode == 0, done.stderr
    assert "played 5, already stored 0, errors 4" in done.stdout
    with ResultStore(tmp_path / "out" / STORE_NAME) as store:
        rows = {r["adversary"]: r for r in store.rows()}
    for name in ("test-swallows", "test-blocks-in-c", "test-disarms"):
        assert rows[name]["status"] == "timeout", rows[name]
        assert "1 s limit (its process was killed)" in rows[name]["error"]
    assert rows["test-segfaults"]["status"] == "error"
    assert segfault in rows["test-segfaults"]["error"]
    assert rows["test-fine"]["status"] == "ok"
    assert not survivors, f"processes outlived the arena: {sorted(survivors)}"


def test_the_arena_never_unpickles_what_a_game_process_sends(tmp_path):
    planted = tmp_path / "unpickled"
    m = Matchup("f2(n=8, M=4, eps=0.5)", "exact", f"test-forges(path={str(planted)!r})", "oblivious",
                isolation="none")  # the game process itself is hostile here
    hostile.register()
    try:
        run = run_arena([m, replace(m, adversary="test-fine")], trials=2, seed=0,
                        out_dir=tmp_path / "out", executor=SerialExecutor())
    finally:
        hostile.unregister()
    assert not planted.exists()
    assert (run.played, run.errors) == (4, 2)
    with ResultStore(tmp_path / "out" / STORE_NAME) as store:
        forged = [r for r in store.rows() if r["adversary"].startswith("test-forges")]
    assert [r["error"] for r in forged] == ["the game's process sent a malformed outcome"] * 2


def _marked(marker: str) -> set[int]:
    """Live (non-zombie) processes whose environment carries ``marker``."""
    found = set()
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/environ", "rb") as f:
                if marker.encode() not in f.read():
                    continue
            with open(f"/proc/{entry}/stat") as f:
                state = f.read().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if state not in ("Z", "X"):
            found.add(int(entry))
    return found


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_workers_die_with_a_killed_arena(tmp_path):
    marker = f"WBSTREAM_TEST_RUN={uuid.uuid4().hex}"
    cmd = hostile_arena(tmp_path, ["test-hangs"] * 1, "--workers", "2", "--timeout", "600",
                        "--trials", "4")
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=hostile_env(marker))
    try:
        deadline = time.time() + 60
        while time.time() < deadline and len(_marked(marker) - {proc.pid}) < 2:  # (a fork server and) 2 workers
            time.sleep(0.1)
        assert len(_marked(marker) - {proc.pid}) >= 2, "the arena never started its workers"
        time.sleep(1.0)  # let both workers take a (never-ending) game
    finally:
        proc.kill()
        proc.wait()
    survivors = _outlive(marker)
    assert not survivors, f"processes outlived the arena: {sorted(survivors)}"


def _outlive(marker: str) -> set[int]:
    """Processes carrying ``marker`` still alive 10 s from now (then killed, not to leave them behind)."""
    deadline = time.time() + 10
    while time.time() < deadline and _marked(marker):
        time.sleep(0.1)
    survivors = _marked(marker)
    for pid in survivors:
        os.kill(pid, signal.SIGKILL)
    return survivors


def test_the_dask_path_kills_its_game_at_the_deadline():
    endless = Matchup("f2(n=8, M=4, eps=0.5)", "exact", "dense(rounds=1000000000)", "oblivious",
                      rounds=None, updates=None)
    box = []
    t = threading.Thread(target=lambda: box.append(play_task_forked(endless, 0, 1.0)))  # as in a Dask worker
    t.start()
    t.join(HANG_GUARD)
    outcome = _outcome_from_json(box[0])
    assert outcome.status == "timeout" and "1 s limit" in outcome.error


def _corrupt_a_leaf_page(db: Path) -> int:
    """Overwrite one table-leaf page (not the first) with junk; its page number."""
    data = bytearray(db.read_bytes())
    page_size = int.from_bytes(data[16:18], "big")
    for page in range(1, len(data) // page_size):  # 0-based; page 0 holds the schema
        if data[page * page_size] == 0x0D:
            data[page * page_size:(page + 1) * page_size] = bytes([0x5A]) * page_size
            db.write_bytes(bytes(data))
            return page + 1
    raise AssertionError("no table-leaf page found")


def test_a_damaged_store_is_refused_and_left_byte_identical(tmp_path):
    db = tmp_path / STORE_NAME
    run_arena([MINI], trials=40, seed=0, out_dir=tmp_path, executor=SerialExecutor())
    _corrupt_a_leaf_page(db)
    before = db.read_bytes()
    with pytest.raises(StoreError, match=r"is damaged: SQLite's integrity check reports .*left unchanged"):
        run_arena([MINI], trials=41, seed=0, out_dir=tmp_path, executor=SerialExecutor())
    res = CliRunner().invoke(main, ["report", str(tmp_path)])
    assert res.exit_code == 1 and "is damaged" in res.output and "Traceback" not in res.output
    assert db.read_bytes() == before


def test_tasks_are_made_as_workers_ask_for_them(tmp_path, monkeypatch):
    made = []
    key = Matchup.key
    monkeypatch.setattr(Matchup, "key", lambda self, seed: made.append(seed) or key(self, seed))

    class Enough(Exception):
        pass

    def stop(done, total):
        assert total == 10**7
        raise Enough

    with pytest.raises(Enough):
        run_arena([MINI], trials=10**7, seed=0, out_dir=tmp_path, executor=SerialExecutor(), progress=stop)
    assert len(made) <= 4  # the played game's task, its store key, and the next task or two
    with ResultStore(tmp_path / STORE_NAME) as store:
        assert store.count() == 1


def test_a_second_arena_waits_for_the_first_then_skips_what_it_stored(tmp_path):
    run_arena([MINI], trials=2, seed=0, out_dir=tmp_path, executor=SerialExecutor())
    waited, box = [], []
    with arena_lock(tmp_path):  # as another arena holds it
        t = threading.Thread(target=lambda: box.append(
            run_arena([MINI], trials=3, seed=0, out_dir=tmp_path, executor=SerialExecutor(), on_wait=waited.append)))
        t.start()
        deadline = time.time() + 30
        while not waited and time.time() < deadline:
            time.sleep(0.01)
        assert waited and "waiting for it to finish" in waited[0] and str(os.getpid()) in waited[0]
        time.sleep(0.2)
        with ResultStore(tmp_path / STORE_NAME) as store:
            assert store.count() == 2  # nothing played while it waits
    t.join(HANG_GUARD)
    assert (box[0].skipped, box[0].played) == (2, 1)


def test_two_concurrent_arenas_on_one_directory_both_finish_with_a_consistent_store(tmp_path):
    suite = tmp_path / "two.toml"
    suite.write_text("trials = 6\n[[matchup]]\n" + "\n".join(
        f"{k} = {v!r}".replace("'", '"') for k, v in (("problem", MINI.problem), ("algorithm", MINI.algorithm),
                                                      ("adversary", MINI.adversary), ("threat", MINI.threat)))
        + '\n[[matchup]]\nproblem = "f2(n=2048, M=1024, eps=0.5)"\nalgorithm = "ams(means=16, medians=5)"\n'
          'adversary = "dense(rounds=200)"\nthreat = "oblivious"\n')
    cmd = [sys.executable, "-m", "wbstream.cli", "arena", "--suite", str(suite), "--serial", "--no-report",
           "--out", str(tmp_path / "out")]
    procs = [subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(2)]
    outs = [p.communicate(timeout=HANG_GUARD) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], [err for _, err in outs]
    counts = [tuple(map(int, re.search(r"played (\d+), already stored (\d+)", out).groups())) for out, _ in outs]
    assert sum(played for played, _ in counts) == 12
    with ResultStore(tmp_path / "out" / STORE_NAME) as store:
        keys = [r["key"] for r in store.rows()]
        assert store.integrity_ok()
    assert len(keys) == len(set(keys)) == 12


def test_suite_files_that_cannot_be_played_are_refused_up_front(tmp_path):
    deep = tmp_path / "deep.toml"
    deep.write_text("x = " + "[" * 5000 + "]" * 5000 + "\n")
    with pytest.raises(SuiteError, match="nest too deeply"):
        load_toml(deep)
    bad = tmp_path / "bad.toml"
    bad.write_text('[[matchup]]\nproblem = "sparse-recovery(n=1024, k=2, M=1048576)"\n'
                   'algorithm = "fjw24(preset=\'nosuch\')"\nadversary = "random-sparse"\nthreat = "oblivious"\n')
    with pytest.raises(SuiteError, match="matchup 1 cannot be played: .*preset must be one of toy, moderate, sec64, sec128, sec128-wide, got 'nosuch'"):
        load_toml(bad)
    for suite in (deep, bad):
        res = CliRunner().invoke(main, ["arena", "--suite", str(suite), "--out", str(tmp_path / "out"), "--serial"])
        assert res.exit_code == 2 and res.output.startswith("Error: ") and "Traceback" not in res.output
        assert len(res.output.strip().splitlines()) == 1
    assert not (tmp_path / "out").exists()
    typed = tmp_path / "typed.toml"
    typed.write_text('[[matchup]]\nproblem = 3\nalgorithm = "exact"\nadversary = "dense"\nthreat = "oblivious"\n')
    with pytest.raises(SuiteError, match="problem must be a spec string"):
        load_toml(typed)
