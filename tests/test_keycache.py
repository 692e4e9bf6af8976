"""The key cache: large keys drawn once from the coins, checked by SHA-256, memory-mapped, evicted by age."""

from __future__ import annotations

import copy
import os
import pickle

import numpy as np
import pytest

import wbstream.crypto.keycache as keycache
from wbstream.crypto.gsw import GswParams, eval_cols
from wbstream.crypto.keycache import cached_words, evict, sample_key
from wbstream.engine.coins import Coins
from wbstream.engine.errors import SpecError
from wbstream.engine.observation import frozen_view

P = GswParams(n_lwe=3, base_bits=16, L=3, t_star=2, log_q=128)


def coins():
    return Coins.from_seed(5, "keycache")


def plain_key():
    return sample_key(P, coins(), "k", min_bytes=10**12)


def key_files(d):
    return sorted(d.glob("*.key"))


def test_a_cached_key_is_the_coins_draw_and_is_read_only(tmp_path):
    c = coins()
    key = sample_key(P, c, "k", min_bytes=1, directory=tmp_path)
    want = plain_key()
    assert key.mapped and not want.mapped and not key.C.flags.writeable
    assert np.array_equal(key.C, want.C)
    with pytest.raises(ValueError):
        key.C.flags.writeable = True
    # the draw is logged (without a copy) and the keystream moved on exactly as a plain draw would
    assert c.log[-1].label == "k" and np.array_equal(c.log[-1].values, want.C)
    ref = coins()
    ref.words("k", P.key_shape)
    assert np.array_equal(c.words("k", 4), ref.words("k", 4))
    assert np.array_equal(eval_cols(key, np.arange(8)), eval_cols(want, np.arange(8)))
    assert len(key_files(tmp_path)) == 1


def test_a_hit_does_not_regenerate(tmp_path, monkeypatch):
    sample_key(P, coins(), "k", min_bytes=1, directory=tmp_path)
    monkeypatch.setattr(keycache, "_generate", lambda *a: pytest.fail("regenerated a valid cached key"))
    again = sample_key(P, coins(), "k", min_bytes=1, directory=tmp_path)
    assert np.array_equal(again.C, plain_key().C)
    other = Coins.from_seed(6, "keycache")  # other coins: another file
    monkeypatch.undo()
    assert not np.array_equal(sample_key(P, other, "k", min_bytes=1, directory=tmp_path).C, again.C)
    assert len(key_files(tmp_path)) == 2


@pytest.mark.parametrize("damage", ["flip", "truncate", "checksum", "drop-checksum"])
def test_a_corrupt_or_truncated_key_is_regenerated_never_used(tmp_path, damage):
    sample_key(P, coins(), "k", min_bytes=1, directory=tmp_path)
    path = key_files(tmp_path)[0]
    if damage == "flip":
        raw = bytearray(path.read_bytes())
        raw[len(raw) // 2] ^= 1
        path.write_bytes(bytes(raw))
    elif damage == "truncate":
        with open(path, "r+b") as f:
            f.truncate(path.stat().st_size - 8)
    elif damage == "checksum":
        path.with_suffix(".sha256").write_text("0" * 64 + f" {path.stat().st_size}\n")
    else:
        path.with_suffix(".sha256").unlink()
    key = sample_key(P, coins(), "k", min_bytes=1, directory=tmp_path)
    assert np.array_equal(key.C, plain_key().C)
    assert keycache._valid(path, path.with_suffix(".sha256"), path.stat().st_size)


def test_eviction_keeps_the_cache_bounded_and_the_key_in_use(tmp_path):
    paths = []
    for seed in range(3):
        c = Coins.from_seed(seed, "evict")
        cached_words(c, "k", (100,), directory=tmp_path, max_bytes=10**9)
        paths.append(key_files(tmp_path))
    files = key_files(tmp_path)
    assert len(files) == 3
    for i, f in enumerate(sorted(files, key=lambda f: f.stat().st_mtime)):
        os.utime(f, (1000 + i, 1000 + i))
    newest = max(files, key=lambda f: f.stat().st_mtime)
    gone = evict(tmp_path, keep=newest, max_bytes=1700)  # room for two 800-byte keys
    assert len(gone) == 1 and len(key_files(tmp_path)) == 2 and newest.exists()
    assert not gone[0].with_suffix(".sha256").exists()
    evict(tmp_path, keep=newest, max_bytes=0)  # the key in use stays even over budget
    assert key_files(tmp_path) == [newest]


def test_environment_settings(tmp_path, monkeypatch):
    monkeypatch.setenv("WBSTREAM_CACHE", str(tmp_path / "env"))
    monkeypatch.setenv("WBSTREAM_KEY_CACHE_MIN_BYTES", "1")
    assert sample_key(P, coins(), "k").mapped
    assert len(key_files(tmp_path / "env")) == 1
    monkeypatch.setenv("WBSTREAM_KEY_CACHE_MIN_BYTES", "lots")
    with pytest.raises(SpecError, match="WBSTREAM_KEY_CACHE_MIN_BYTES"):
        sample_key(P, coins(), "k")


def test_a_mapped_key_is_shared_not_copied(tmp_path):
    key = sample_key(P, coins(), "k", min_bytes=1, directory=tmp_path)
    assert copy.deepcopy(key).C is key.C
    assert frozen_view({"key": key.C})["key"] is key.C  # the white-box view: read-only already, no copy
    c = coins()
    sample_key(P, c, "k", min_bytes=1, directory=tmp_path)
    draw = pickle.loads(pickle.dumps(c.log[-1]))  # the mapping pickles as its path
    assert np.array_equal(draw.values, c.log[-1].values) and not draw.values.flags.writeable


def test_a_killed_writers_partial_file_is_swept_and_a_live_ones_kept(tmp_path):
    import subprocess
    import sys
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    stale = tmp_path / f"abc-2x3.key.{int(dead.stdout)}.tmp"
    live = tmp_path / f"def-2x3.key.{os.getppid()}.tmp"
    for f in (stale, live):
        f.write_bytes(b"\0" * 64)
    cached_words(coins(), "k", (4, 5), directory=tmp_path)
    assert not stale.exists() and live.exists()


def test_drawing_checking_and_a_failed_checksum_are_announced(tmp_path, caplog):
    caplog.set_level("INFO", logger="wbstream.keycache")
    sample_key(P, coins(), "k", min_bytes=1, directory=tmp_path)
    sample_key(P, coins(), "k", min_bytes=1, directory=tmp_path)
    key = next(tmp_path.glob("*.key"))
    key.write_bytes(b"\1" * key.stat().st_size)
    sample_key(P, coins(), "k", min_bytes=1, directory=tmp_path)
    said = [r.getMessage().split(" key")[0] for r in caplog.records]
    assert said == ["drawing a 0.00 GiB", "checking the cached 0.00 GiB", "checking the cached 0.00 GiB",
                    "the cached", "drawing a 0.00 GiB"]


def test_the_command_line_announces_the_draw_on_stderr_only(tmp_path):
    import subprocess
    import sys
    env = {**os.environ, "WBSTREAM_CACHE": str(tmp_path), "WBSTREAM_KEY_CACHE_MIN_BYTES": "1"}
    run = subprocess.run([sys.executable, "-m", "wbstream.cli", "play", "--problem", "sparse-recovery(n=64, k=1, M=8)",
                          "--algorithm", "fjw24", "--adversary", "dense(rounds=2)", "--threat", "oblivious",
                          "--trials", "1", "--seed", "1"], capture_output=True, text=True, env=env)
    assert run.returncode == 0, run.stderr
    assert run.stderr.startswith(f"wbstream: drawing a 0.00 GiB key into {tmp_path}")
    assert "drawing" not in run.stdout
