"""A memory-mapped key crosses pickles and the isolation wire as its file's name, never as its bytes."""

from __future__ import annotations

import pickle

import numpy as np
import pytest

from wbstream.crypto.gsw import GswParams
from wbstream.crypto.keycache import sample_key
from wbstream.engine import sandbox_wire
from wbstream.engine.coins import Coins
from wbstream.engine.game import Game
from wbstream.engine.sandbox_child import FrozenArray

P = GswParams(n_lwe=3, base_bits=16, L=3, t_star=2, log_q=128)


@pytest.fixture
def mapped_key(tmp_path):
    return sample_key(P, Coins.from_seed(5, "mapped"), "k", min_bytes=1, directory=tmp_path)


def test_a_mapped_key_pickles_as_its_file_and_comes_back_read_only(mapped_key):
    blob = pickle.dumps(mapped_key)
    back = pickle.loads(blob)
    assert len(blob) < 1024 < mapped_key.nbytes
    assert back.mapped and np.array_equal(back.C, mapped_key.C) and not back.C.flags.writeable


def test_an_in_ram_key_still_pickles_its_words():
    key = sample_key(P, Coins.from_seed(5, "mapped"), "k", min_bytes=1 << 40)
    back = pickle.loads(pickle.dumps(key))
    assert not back.mapped and np.array_equal(back.C, key.C)


@pytest.mark.parametrize("view", [lambda C: C, lambda C: C[1], lambda C: C[:, 1:3]])
def test_a_state_array_over_a_mapped_key_is_rebuilt_read_only_and_equal(mapped_key, view):
    array = view(mapped_key.C)
    frozen = pickle.loads(pickle.dumps(FrozenArray(array)))
    rebuilt = frozen.rebuild()
    assert np.array_equal(rebuilt, array) and not rebuilt.flags.writeable
    assert isinstance(frozen.data, tuple) == array.flags.c_contiguous  # a strided view travels as bytes


def test_an_isolated_white_box_game_on_a_mapped_key_never_sends_the_key(tmp_path, monkeypatch):
    monkeypatch.setenv("WBSTREAM_CACHE", str(tmp_path))
    monkeypatch.setenv("WBSTREAM_KEY_CACHE_MIN_BYTES", "1")
    spec = ("sparse-recovery(n=256, k=2, M=1048576)", "fjw24(recovery='vandermonde')", "lattice", "white-box")
    plain = Game(*spec, seed=4).play()
    sizes = []
    send = sandbox_wire.send
    monkeypatch.setattr(sandbox_wire, "send", lambda fd, data, *end: (sizes.append(len(data)), send(fd, data, *end))[1])
    isolated = Game(*spec, seed=4, isolation="process").play()
    key_bytes = sum(f.stat().st_size for f in tmp_path.glob("*.key")) // 2  # the two games' keys
    assert isolated.failed == plain.failed and isolated.adversary_notes == plain.adversary_notes
    assert plain.failed  # the toy preset falls: the adversary did read the key
    assert sizes and max(sizes) < key_bytes // 4
