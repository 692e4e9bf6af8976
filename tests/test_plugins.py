"""Adversary plugins (entry-point group ``wbstream.adversaries``) and isolated adversaries' notes.

A hostile plugin is installed-like (a dist-info with its entry point, on the path
of a fresh interpreter): its module code patches the judge and marks the game
module on import. Under isolation none of that reaches the referee; in-process it does.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import warnings

import pytest
from hostile import Misbehave, Noter

from wbstream.engine import landlock, plugins
from wbstream.engine.errors import AdversaryError, ReplayMismatch
from wbstream.engine.game import Budget, Game
from wbstream.engine.replay import replay_from_seed
from wbstream.engine.sandbox_wire import decode

SPARSE = "sparse-recovery(n=512, k=2, M=1024)"
CS = "countsketch(rows=5, cols=16)"
SECRET = bytes(range(32))

EVIL = '''
import os

import wbstream.engine.game as game
from wbstream.engine.adversary import Adversary
from wbstream.engine.problems import SparseRecovery, Verdict
from wbstream.engine.registry import adversary_registry
from wbstream.engine.stream import Batch
from wbstream.engine.threat import ADAPTIVE

# module code of a hostile plugin: mark the referee, make every answer correct, say where it ran
game.TOUCHED_BY_PLUGIN = os.getpid()
SparseRecovery.judge = lambda self, answer: Verdict(True, None, "patched by a plugin")
try:  # a child's OS sandbox refuses the write
    with open(os.environ["EVIL_MARK"], "a") as mark:
        mark.write(f"{os.getpid()}\\n")
except OSError:
    pass


@adversary_registry.register
class EvilPlug(Adversary):
    """Inserts 1 at index r in round r."""

    name = "evil-plug"
    needs = ADAPTIVE

    def __init__(self, *, rounds: int = 5, label: str | None = None):
        if rounds < 1:
            raise ValueError("rounds must be positive")
        self.rounds, self.played = rounds, 0

    def applies_to(self, algorithm_cls, problem_cls):
        return problem_cls.name == "sparse-recovery", "it attacks only sparse recovery"

    def act(self, obs):
        if obs.round > self.rounds:
            return None
        self.played += 1
        return Batch.single(obs.round, 1)

    def notes(self):
        return f"played {self.played} rounds"
'''

REFEREE = '''
import json, os, sys
import wbstream.engine.game as game
from wbstream.cli.catalogue import catalogue
from wbstream.engine.errors import WbstreamError
from wbstream.engine.game import Game
from wbstream.engine.problems import SparseRecovery

judge = SparseRecovery.judge


def look(**kw):
    try:
        r = Game("sparse-recovery(n=64, k=1, M=1024)", "countsketch(rows=1, cols=2)", "evil-plug(rounds=3)", "adaptive",
                 seed=1, secret=bytes(32), **kw).play()
        played = {"failed": r.failed, "rounds": r.rounds, "notes": r.adversary_notes}
    except WbstreamError as exc:
        played = {"error": f"{type(exc).__name__}: {exc}"}
    return {"touched": hasattr(game, "TOUCHED_BY_PLUGIN"), "imported": "evil_plugin" in sys.modules,
            "judge_patched": SparseRecovery.judge is not judge, **played}


def refused(*args, **kw):
    try:
        Game(*args, isolation="process", **kw)
    except WbstreamError as exc:
        return f"{type(exc).__name__}: {exc}"


if __name__ == "__main__":
    listed = [a for a in catalogue()["adversaries"] if a["name"] == "evil-plug"]
    out = {"pid": os.getpid(), "listed": listed, "after_list": look(isolation="process"),
           "not_applicable": refused("f2(n=64, M=8, eps=0.5)", "exact", "evil-plug", "adaptive"),
           "bad_option": refused("sparse-recovery(n=64, k=1, M=1024)", "exact", "evil-plug(rounds=0)", "adaptive"),
           "bad_type": refused("sparse-recovery(n=64, k=1, M=1024)", "exact", "evil-plug(rounds='x')", "adaptive"),
           "below_level": refused("sparse-recovery(n=64, k=1, M=1024)", "exact", "evil-plug", "oblivious")}
    from wbstream.engine.replay import replay_from_seed
    record = Game("sparse-recovery(n=64, k=1, M=1024)", "exact", "evil-plug(rounds=4)", "adaptive", seed=2,
                  isolation="process").play()
    out["replayed"] = {"notes": replay_from_seed(record).adversary_notes, "imported": "evil_plugin" in sys.modules}
    out["in_process"] = look(isolation="none")
    from click.testing import CliRunner
    from wbstream.cli import main
    run = CliRunner().invoke(main, ["play", "--problem", "sparse-recovery(n=64, k=1, M=1024)", "--algorithm", "exact",
                                    "--adversary", "evil-plug", "--threat", "adaptive", "--trials", "1", "--json"])
    out["cli_warning"] = " ".join(run.stderr.split())
    print(json.dumps(out))
'''


def install_evil(root) -> None:
    """An installed-like distribution: the module and a dist-info declaring it in ``wbstream.adversaries``."""
    (root / "evil_plugin.py").write_text(EVIL)
    info = root / "evil_plugin-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: evil-plugin\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text("[wbstream.adversaries]\nevil = evil_plugin\n")


def test_a_hostile_plugins_module_code_never_runs_in_an_isolated_referee(tmp_path):
    install_evil(tmp_path)
    (tmp_path / "referee.py").write_text(REFEREE)
    mark = tmp_path / "mark"
    mark.touch()
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(tmp_path), *sys.path]), "EVIL_MARK": str(mark)}
    run = subprocess.run([sys.executable, str(tmp_path / "referee.py")], env=env, capture_output=True, text=True,
                         timeout=240, cwd=tmp_path)
    assert run.returncode == 0, run.stderr[-2000:]
    out = json.loads(run.stdout)
    # described from a child: name, level and options, without importing the module here
    [listed] = out["listed"]
    assert listed["needs"] == "adaptive" and [p["name"] for p in listed["parameters"]] == ["rounds", "label"]
    assert listed["summary"] == "Inserts 1 at index r in round r." and listed["plugin"]
    # the isolated game: the real judge caught countsketch(rows=1, cols=2) (3 inserts are not 1-sparse), the
    # plugin's notes came back, and its module code touched nothing of the referee
    isolated = out["after_list"]
    assert isolated == {"touched": False, "imported": False, "judge_patched": False, "failed": True,
                        "rounds": isolated["rounds"], "notes": f"played {isolated['rounds']} rounds"}
    assert out["not_applicable"] == ("NotApplicableError: adversary 'evil-plug' cannot attack 'exact': "
                                     "it attacks only sparse recovery")
    assert out["bad_option"] == "SpecError: adversary 'evil-plug': rounds must be positive"
    assert out["bad_type"] == "SpecError: adversary 'evil-plug': option rounds='x' should be int"
    assert out["below_level"].startswith("ThreatModelError: adversary 'evil-plug' needs the adaptive threat model")
    # a replay from the seed plays it from a child too, and checks its notes
    assert out["replayed"] == {"notes": "played 4 rounds", "imported": False}
    # its module code did run: in children (describing, checking, playing), never in the referee; under the OS
    # sandbox those children could not write the mark ...
    pids = [int(p) for p in mark.read_text().split()]
    if landlock.abi_version():
        assert pids == [out["pid"]]
    else:
        assert len(pids) >= 3 and out["pid"] not in pids[:-1]
    # ... until an in-process game imported it: then it patched the judge (no protection in-process)
    assert pids[-1] == out["pid"]
    assert out["cli_warning"] == ("warning: the adversary plugin 'evil-plug' plays in this process (no --isolate): "
                                  "its code can reach the truth and the coins")
    assert out["in_process"] == {"touched": True, "imported": True, "judge_patched": True, "failed": False,
                                 "rounds": 3, "notes": "played 3 rounds"}


def describe(**changes) -> dict:
    d = {"name": "evil", "needs": "adaptive", "stream_kind": "entries", "arena_rounds": None, "summary": "s",
         "parameters": [{"name": "rounds", "type": "int", "required": False, "default": "5", "computed": None}]}
    return {**d, **changes}


def test_a_well_described_plugin_becomes_a_stand_in_that_runs_nothing():
    cls = plugins._stand_in("evil_mod", describe())
    assert plugins.is_plugin(cls) and cls.needs.name == "adaptive" and cls._wbstream_plugin.module == "evil_mod"
    [p] = plugins.adversaries.parameters(cls)
    assert (p.name, p.annotation, p.default, p.required) == ("rounds", int, 5, False)
    with pytest.raises(AdversaryError, match="plays only from its own process"):
        cls(rounds=3).act(None)


@pytest.mark.parametrize("changes,match", [
    ({"needs": "root"}, "unknown level 'root'"),
    ({"name": "a b; rm"}, "not a registry name"),
    ({"name": 7}, "a name is not a string"),
    ({"stream_kind": "pickles"}, "unknown kind"),
    ({"arena_rounds": True}, "arena_rounds is not a positive integer"),
    ({"summary": "x" * 5000}, "a summary is not a string of at most 400"),
    ({"extra": 1}, "not described by exactly"),
    ({"parameters": [{"name": "rounds", "type": "int", "required": False, "default": "__import__('os')",
                      "computed": None}]}, "its default is not a literal"),
    ({"parameters": [{"name": "x.y", "type": "int", "required": True, "default": None, "computed": None}]},
     "not an identifier"),
    ({"parameters": [describe()["parameters"][0]] * 2}, "described twice"),
])
def test_a_malformed_description_is_refused_with_one_line(changes, match):
    with pytest.raises(ValueError, match=match):
        plugins._stand_in("evil_mod", describe(**changes))


@pytest.mark.parametrize("reply,match", [
    (b"not json", "describing it failed"),
    (json.dumps([{"module": "other_mod", "adversaries": []}]).encode(), "describing it failed"),
    (json.dumps([{"module": "evil_mod", "adversaries": [describe(needs="god")]}]).encode(), "unknown level"),
    (json.dumps([{"module": "evil_mod", "adversaries": [describe(name="dense")]}]).encode(),
     "the name 'dense' is already registered"),
    (json.dumps([{"module": "evil_mod", "error": "ImportError: no"}]).encode(), "importing it raised ImportError"),
])
def test_a_plugin_that_describes_itself_wrongly_is_left_out_with_a_warning(monkeypatch, reply, match):
    class EntryPoint:
        module = "evil_mod"

    before = plugins.adversaries.names()  # the registry loaded before the plugins are faked
    monkeypatch.setattr(plugins.metadata, "entry_points", lambda group: [EntryPoint()] if group == plugins.GROUP else [])
    monkeypatch.setattr(plugins, "run_forked_bytes", lambda *a, **k: reply)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert plugins.register_stand_ins() == []
    assert [str(w.message) for w in caught if w.category is plugins.PluginWarning] and match in str(caught[-1].message)
    assert plugins.adversaries.names() == before


# -- notes of isolated adversaries ---------------------------------------------------------------
@pytest.mark.parametrize("threat,budget,every", [
    ("adaptive", Budget(rounds=100), 3),  # in blocks up to each query's round: answers seen 0,0,0,1,1,1,2
    ("adaptive", Budget(rounds=100), 1),  # one round trip per round
    ("oblivious", Budget(rounds=100), 1),  # rounds in blocks: the child ran ahead; notes are the 7th round's
    ("oblivious", Budget(rounds=4), 1),  # the game ends mid-block
    ("white-box", Budget(updates=5), 2),
])
def test_isolated_games_record_the_in_process_notes(threat, budget, every):
    records = [Game(SPARSE, CS, Noter, threat, seed=3, isolation=iso, budget=budget, query_every=every, secret=SECRET,
                    adversary_options={"rounds": 7}, stop_on_failure=False).play() for iso in ("none", "process")]
    assert records[0].adversary_notes.startswith("acted ")
    assert records[1].adversary_notes == records[0].adversary_notes
    if threat == "adaptive" and every == 3:
        assert records[1].adversary_notes.endswith("answers seen 0,0,0,1,1,1,2,2")


def test_replay_checks_an_isolated_games_notes():
    from wbstream.engine.registry import adversaries

    adversaries.register(Noter)
    try:
        result = Game(SPARSE, CS, "noter(rounds=5)", "adaptive", seed=1, isolation="process", secret=SECRET).play()
        assert result.adversary_notes == "acted 6 times, last round 6, answers seen 0,1,2,3,4,5"
        replay_from_seed(result)
        result.adversary_notes = "acted 2 times"
        with pytest.raises(ReplayMismatch, match="adversary_notes: recorded 'acted 2 times'"):
            replay_from_seed(result)
    finally:
        adversaries.unregister("noter")


@pytest.mark.parametrize("kind", ["long", "bytes"])
@pytest.mark.parametrize("isolation", ["none", "process"])
def test_notes_that_are_not_a_bounded_string_end_the_game_with_one_line(kind, isolation):
    with pytest.raises(AdversaryError, match="must return None or a string of at most 4,096 characters"):
        Game(SPARSE, CS, Noter, "adaptive", seed=1, isolation=isolation, adversary_options={"notes": kind}).play()


@pytest.mark.parametrize("data,match", [
    (b"O", "neither None nor a bounded string"),
    (b"O\x02abc", "neither None nor a bounded string"),
    (b"O\x00x", "neither None nor a bounded string"),
    (b"O\x01\xff\xfe", "not UTF-8"),
    (b"O\x01" + "é".encode() * 4097, "notes of 4,097 characters"),
])
def test_malformed_notes_on_the_wire_are_refused(data, match):
    with pytest.raises(AdversaryError, match=match):
        decode(data, cap=0)


def test_notes_sent_in_place_of_a_batch_are_refused():
    with pytest.raises(AdversaryError, match="sent notes in round 3, which it was not asked for"):
        Game(SPARSE, CS, Misbehave, "adaptive", seed=1, isolation="process",
             adversary_options={"how": "notes"}).play()


def test_the_arena_isolates_a_plugin_whatever_module_it_names():
    from wbstream.arena.matchups import Matchup

    cls = plugins._stand_in("wbstream.looks_builtin", describe(name="lookalike", needs="oblivious"))
    plugins.adversaries.register(cls)
    try:
        assert Matchup(SPARSE, CS, "lookalike", "oblivious").isolation_mode() == "process"
        assert Matchup(SPARSE, CS, "dense", "oblivious").isolation_mode() == "none"
    finally:
        plugins.adversaries.unregister("lookalike")
