"""The OS sandbox of an isolated adversary (wbstream/engine/landlock.py): what its process can reach.

Each route of ``Snoop`` (tests/hostile.py) works in-process and from an isolated child
without the sandbox (the probe monkeypatched to "no Landlock"), so the tests are real;
under the sandbox it fails and the game's record is the plain one.
"""

from __future__ import annotations

import os
import warnings

import pytest
from hostile import Escaped, Plain, Snoop

from wbstream.engine import landlock
from wbstream.engine.errors import AdversaryError
from wbstream.engine.game import Game
from wbstream.engine.replay import OUTCOME_FIELDS
from wbstream.engine.threat import ADAPTIVE, WHITE_BOX

SPARSE = "sparse-recovery(n=512, k=2, M=1024)"
CS = "countsketch(rows=5, cols=16)"
SECRET = bytes(range(32))
needs_landlock = pytest.mark.skipif(not landlock.abi_version(), reason="the kernel offers no Landlock")

ROOT = os.geteuid() == 0


def outcome(result) -> dict:
    return {name: getattr(result, name) for name in OUTCOME_FIELDS}


def play(adversary, threat, isolation, options=None):
    return Game(SPARSE, CS, adversary, threat, seed=4, isolation=isolation, adversary_options=options,
                stop_on_failure=False, secret=SECRET).play()


@pytest.fixture
def no_landlock(monkeypatch):
    monkeypatch.setattr(landlock, "abi_version", lambda: 0)
    monkeypatch.setattr(landlock, "_warned", True)


def routes(tmp_path):
    cache = tmp_path / "cache"
    cache.mkdir()
    (cache / "0123-4x4.key").write_bytes(bytes(range(64)))
    (tmp_path / "secret").write_text(SECRET.hex() + "\n")
    me = os.getpid()
    # route: (options, reached from an unsandboxed child of this user?) - /proc needs root once the referee is
    # not dumpable; a non-root child reads neither its memory nor its environment
    return {"key-cache": ({"path": str(cache)}, True), "secret-file": ({"path": str(tmp_path)}, True),
            "proc-mem": ({"pid": me}, ROOT), "environ": ({"pid": me}, ROOT),
            "write": ({"path": str(tmp_path)}, True), "signal": ({"pid": me}, True), "connect": ({}, True)}


ROUTES = ["key-cache", "secret-file", "proc-mem", "environ", "write", "signal", "connect"]


@pytest.mark.parametrize("route", ROUTES)
@needs_landlock
def test_every_os_route_fails_under_the_sandbox_and_changes_nothing(tmp_path, route):
    options, _ = routes(tmp_path)[route]
    plain = outcome(play(Plain, ADAPTIVE, "none"))
    assert outcome(play(Snoop, ADAPTIVE, "process", {"route": route, **options})) == plain
    assert not list(tmp_path.glob("written-*"))


@pytest.mark.parametrize("route", ROUTES)
def test_the_same_routes_work_in_process(tmp_path, route):
    options, _ = routes(tmp_path)[route]
    with pytest.raises(Escaped):
        play(Snoop, ADAPTIVE, "none", {"route": route, **options})


@pytest.mark.parametrize("route", ROUTES)
def test_the_same_routes_work_from_an_isolated_child_without_the_sandbox(tmp_path, no_landlock, route):
    options, reached = routes(tmp_path)[route]
    if reached:
        with pytest.raises(AdversaryError, match="raised in round 1: Escaped"):
            play(Snoop, ADAPTIVE, "process", {"route": route, **options})
    else:  # not root: the referee's PR_SET_DUMPABLE 0 alone closes /proc/<pid>/mem and environ
        assert outcome(play(Snoop, ADAPTIVE, "process", {"route": route, **options})) == \
            outcome(play(Plain, ADAPTIVE, "none"))


@needs_landlock
def test_a_white_box_child_reads_the_keys_it_is_sent_and_no_other(tmp_path):
    # the key the referee maps reaches it (tests/test_mapped_transport.py); an unmapped one in the cache does not
    options, _ = routes(tmp_path)["key-cache"]
    plain = outcome(play(Plain, WHITE_BOX, "none"))
    assert outcome(play(Snoop, WHITE_BOX, "process", {"route": "key-cache", **options})) == plain


@needs_landlock
@pytest.mark.parametrize("abi,signal_scoped", [(1, False), (3, False), (6, True)])
def test_older_abis_still_sandbox_files_and_scope_signals_from_abi_6(tmp_path, monkeypatch, abi, signal_scoped):
    monkeypatch.setattr(landlock, "abi_version", lambda: abi)
    plain = outcome(play(Plain, ADAPTIVE, "none"))
    cache, _ = routes(tmp_path)["key-cache"]
    assert outcome(play(Snoop, ADAPTIVE, "process", {"route": "key-cache", **cache})) == plain
    signal = {"route": "signal", "pid": os.getpid()}
    if signal_scoped:
        assert outcome(play(Snoop, ADAPTIVE, "process", signal)) == plain
    else:
        with pytest.raises(AdversaryError, match="Escaped: may signal"):
            play(Snoop, ADAPTIVE, "process", signal)


def test_without_landlock_the_game_plays_and_says_so_once(monkeypatch):
    monkeypatch.setattr(landlock, "abi_version", lambda: 0)
    monkeypatch.setattr(landlock, "_warned", False)
    with pytest.warns(landlock.SandboxWarning, match="no Landlock"):
        first = play(Plain, ADAPTIVE, "process")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        second = play(Plain, ADAPTIVE, "process")
    assert outcome(first) == outcome(second) == outcome(play(Plain, ADAPTIVE, "none"))


def test_the_referee_is_not_dumpable_once_it_isolates():
    import ctypes

    play(Plain, ADAPTIVE, "process")
    assert ctypes.CDLL(None).prctl(3, 0, 0, 0, 0) == 0  # PR_GET_DUMPABLE


def test_a_plugins_describing_and_checking_children_are_sandboxed_too(tmp_path, monkeypatch):
    from hostile import read_bytes

    from wbstream.engine import plugins

    secret = tmp_path / "secret"
    secret.write_text(SECRET.hex())
    if landlock.abi_version():
        with pytest.raises(RuntimeError, match="the child process died"):
            plugins._sandboxed(read_bytes, str(secret), seconds=30, maxlength=100)
    monkeypatch.setattr(landlock, "abi_version", lambda: 0)
    monkeypatch.setattr(landlock, "_warned", True)
    assert plugins._sandboxed(read_bytes, str(secret), seconds=30, maxlength=100) == SECRET.hex().encode()


def test_the_childs_private_directory_goes_with_its_game_and_a_dead_referees_is_swept(tmp_path, monkeypatch):
    import subprocess
    import tempfile

    from wbstream.engine import sandbox

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    dead = subprocess.Popen(["true"])
    dead.wait()
    stale = tmp_path / f"{sandbox.PRIVATE_PREFIX}{dead.pid}-x"
    stale.mkdir()
    (stale / "listener").write_text("")
    play(Plain, ADAPTIVE, "process")
    assert not stale.exists() and not list(tmp_path.glob(f"{sandbox.PRIVATE_PREFIX}*"))


def _run_script(tmp_path, code: str):
    import subprocess
    import sys
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    return subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=env, capture_output=True, text=True,
                          timeout=300)


def test_an_isolated_attack_imports_wbstream_under_the_sandbox_outside_the_checkout(tmp_path):
    # no checkout on sys.path (as pytest puts it there): under `pip install -e` the package lives outside
    # sys.path and sys.prefix, and the lattice attack's own fork server imports wbstream after the sandbox
    run = _run_script(tmp_path, "from wbstream.engine.game import Game\n"
                                "r = Game('sparse-recovery(n=256, k=2, M=1048576)', \"fjw24(recovery='vandermonde')\", "
                                "'lattice', 'white-box', seed=4, isolation='process').play()\n"
                                "print('failed', r.failed)\n")
    assert run.returncode == 0, run.stderr[-2000:]
    assert run.stdout.strip().splitlines()[-1] == "failed True"


def test_an_isolated_child_cannot_write_into_the_referees_output(tmp_path):
    code = ("import os\n"
            "from wbstream.engine.adversary import Adversary\n"
            "from wbstream.engine.game import Game\n"
            "from wbstream.engine.registry import adversaries\n"
            "from wbstream.engine.stream import Batch\n"
            "import numpy as np\n"
            "class Spoof(Adversary):\n"
            "    name = 'spoof-output'\n"
            "    def act(self, obs):\n"
            "        for fd in range(3, 64):  # every descriptor but its own wire (garbage there ends the game)\n"
            "            if fd == getattr(getattr(obs, '_conn', None), 'fileno', lambda: -1)():\n"
            "                continue\n"
            "            try:\n"
            "                os.write(fd, b'SPOOF\\n')\n"
            "            except OSError:\n"
            "                pass\n"
            "        os.write(1, b'SPOOF\\n'); os.write(2, b'SPOOF\\n')\n"
            "        return None\n"
            "import __main__; __main__.Spoof = Spoof\n"
            "if __name__ == '__main__':\n"
            "    r = Game('f2(n=64, M=8, eps=0.5)', 'exact', Spoof, 'oblivious', seed=1, isolation='process').play()\n"
            "    print('stopped', r.stop_reason)\n")
    script = tmp_path / "spoof.py"
    script.write_text(code)
    import subprocess
    import sys
    run = subprocess.run([sys.executable, str(script)], cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr[-2000:]
    assert "SPOOF" not in run.stdout and "SPOOF" not in run.stderr
    assert run.stdout.strip() == "stopped adversary-stopped"


def test_a_dead_referees_plugin_probe_directory_is_swept_too(tmp_path, monkeypatch):
    import subprocess
    import sys
    import tempfile

    from wbstream.engine import plugins
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    stale = tmp_path / f"{plugins.PLUGIN_PREFIX}{dead.stdout.strip()}-x"
    stale.mkdir()
    assert plugins._sandboxed(bytes, 2, seconds=30, maxlength=16) == b"\0\0"
    assert not stale.exists() and not list(tmp_path.glob(f"{plugins.PLUGIN_PREFIX}*"))
