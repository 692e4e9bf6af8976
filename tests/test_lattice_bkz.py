"""The lattice attack's progressive BKZ, its root-Hermite factor beside the model, and the paper suite's presets."""

from __future__ import annotations

import dataclasses
import re

import pytest

from wbstream.adversaries.reduction import fpylll_available
from wbstream.crypto.params import FJW24_PRESETS, FW23_PRESETS, delta_of_beta
from wbstream.engine.errors import ReplayMismatch
from wbstream.engine.game import Game
from wbstream.engine.replay import replay_from_seed

needs_fpylll = pytest.mark.skipif(not fpylll_available(), reason="needs fpylll (wbstream[attacks])")

SPARSE = "sparse-recovery(n=1024, k=2, M=1048576)"
#: How far the achieved root-Hermite factor of BKZ-20 may be from the model's delta(20) at d = 120
#: (docs/sparse-recovery.md: measured 1.0130-1.0143 against 1.0128 over ten games).
DELTA_TOLERANCE = 0.002
NOTES = re.compile(r"root-Hermite factor (\d\.\d+) achieved, (\d\.\d+) by the model")


def deltas(notes: str) -> tuple[float, float]:
    m = NOTES.search(notes)
    assert m, notes
    return float(m.group(1)), float(m.group(2))


@needs_fpylll
def test_progressive_bkz_finds_a_collision_on_toy_and_records_its_root_hermite_factor():
    r = Game(SPARSE, "fjw24(preset='toy', recovery='vandermonde')", "lattice", "white-box", seed=0).play()
    assert r.failed and r.failure_kind is not None
    assert r.adversary_notes.startswith("collision found") and "BKZ 10-20" in r.adversary_notes
    achieved, model = deltas(r.adversary_notes)
    assert model == round(delta_of_beta(20), 4)
    assert 1.0 < achieved < model + DELTA_TOLERANCE  # in small dimension BKZ does at least as well as the model


@needs_fpylll
def test_in_dimension_120_bkz_reaches_the_models_factor_and_lll_falls_short():
    bkz = Game(SPARSE, "fjw24(preset='toy', recovery='vandermonde')", "lattice(columns=120)", "white-box", seed=1).play()
    assert bkz.failed
    achieved, model = deltas(bkz.adversary_notes)
    assert abs(achieved - model) <= DELTA_TOLERANCE, bkz.adversary_notes
    lll = Game(SPARSE, "fjw24(preset='toy', recovery='vandermonde')", "lattice(columns=120, block_size=0)", "white-box", seed=1).play()
    assert deltas(lll.adversary_notes)[0] > achieved + DELTA_TOLERANCE


@needs_fpylll
def test_replay_from_the_seed_checks_the_adversary_notes():
    r = Game(SPARSE, "fw23(preset='toy')", "lattice", "white-box", seed=4).play()
    assert replay_from_seed(r).adversary_notes == r.adversary_notes
    forged = dataclasses.replace(r, adversary_notes=r.adversary_notes.replace("achieved", "reached"))
    with pytest.raises(ReplayMismatch, match="adversary_notes"):
        replay_from_seed(forged)


def test_an_attack_that_gives_up_says_why_and_records_no_factor():
    r = Game(SPARSE, "fw23(preset='high')", "lattice", "white-box", seed=0).play()
    assert not r.failed and r.adversary_notes.startswith("not run: the lattice would have")
    assert "root-Hermite" not in r.adversary_notes


def test_adversaries_without_notes_record_none():
    assert Game(SPARSE, "fw23", "dense", "oblivious", seed=0).play().adversary_notes is None


def test_the_paper_suite_lists_every_preset_as_played_or_skipped():
    from wbstream.arena.matchups import suite
    from wbstream.arena.paper import preset_skips

    played = {m.algorithm for m in suite("paper") if m.adversary == "lattice" and m.threat == "white-box"}
    skipped = {s.algorithm: s.reason for s in preset_skips()}
    wanted = [f"fw23(preset='{p}')" for p in FW23_PRESETS]
    wanted += [f"fjw24(preset='{p}', recovery='vandermonde')" for p in FJW24_PRESETS]
    wanted += [f"robust-rank(preset='{p}')" for p in FJW24_PRESETS]
    for spec in wanted:
        assert (spec in played) != (spec in skipped), spec
    assert all(reason.startswith("key of ") for reason in skipped.values())
    assert {"fw23(preset='toy')", "fjw24(preset='toy', recovery='vandermonde')", "robust-rank(preset='toy')"} <= played


def test_a_preset_whose_key_exceeds_memory_is_skipped_with_its_size():
    from wbstream.arena.paper import key_skip_reason

    assert key_skip_reason(FJW24_PRESETS["toy"].key_bits(1024), 1024, memory_bytes=1 << 30) is None
    reason = key_skip_reason(FJW24_PRESETS["sec64"].key_bits(1024), 1024, memory_bytes=1 << 30)
    assert "would not fit in memory" in reason and "6.31 GiB" in reason


def test_the_arena_prints_the_paper_suites_skips(monkeypatch, tmp_path):
    from click.testing import CliRunner

    from wbstream.arena import matchups, paper
    from wbstream.arena.matchups import Matchup
    from wbstream.cli import main

    one = [Matchup("sparse-recovery(n=64, k=2, M=4)", "vandermonde", "dense", "oblivious", rounds=3)]
    monkeypatch.setattr(matchups, "suite", lambda name: one)  # the suite's games are not what is tested here
    monkeypatch.setattr(paper, "KEY_BUDGET_BITS", 0)  # every GSW preset's key is over budget
    result = CliRunner().invoke(main, ["arena", "--suite", "paper", "--trials", "1", "--serial", "--no-report",
                                       "--out", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    for name in FJW24_PRESETS:
        assert f"skipped fjw24(preset='{name}', recovery='vandermonde') on " in result.output
        assert f"skipped robust-rank(preset='{name}') on " in result.output
    assert "exceeds the sweep budget" in result.output
