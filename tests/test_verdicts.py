"""Verdicts at a glance: claims and security estimates, the separation matrix, oblivious adversaries once, width."""

import os
import inspect
import re
import subprocess
import sys

import pytest

from wbstream.arena.matchups import suite
from wbstream.arena.report import flags, leaderboard
from wbstream.arena.verdicts import LEVELS, judge, separation_matrix, top_failures
from wbstream.engine.coins import Coins
from wbstream.engine.registry import adversaries, algorithms, parse_spec, problems
from wbstream.engine.result import GameResult
from wbstream.engine.stats import wilson_interval
from wbstream.engine.threat import ADAPTIVE, OBLIVIOUS, STATE_ONLY, WHITE_BOX

SPARSE = "sparse-recovery(n=512, k=2, M=1024)"


def row(algorithm, adversary, threat, seed, failed, problem=SPARSE, bits=64):
    r = GameResult(problem, algorithm, adversary, threat, seed, failed=failed, first_failure_round=1 if failed else None,
                   rounds=3, updates=3, stop_reason="round-budget", space_state_bits=bits, space_key_bits=0,
                   update_ns_median=10.0)
    return {"algorithm": algorithm, "adversary": adversary, "threat": threat, "problem": problem, "status": "ok",
            "result": r}


def plays(algorithm, adversary, threat, fails, trials=5, **kw):
    return [row(algorithm, adversary, threat, s, s < fails, **kw) for s in range(trials)]


def test_every_registered_algorithm_claims_what_its_guarantee_says():
    for name in algorithms.names():
        cls = algorithms.get(name)
        text = cls.guarantee
        if name in ("vandermonde", "naive-rank"):  # no detection; a negative control
            assert cls.claims is None, name
        elif "against adaptive adversaries" in text:  # sketch switching, DP aggregation: answers only
            assert cls.claims is ADAPTIVE, name
        elif "oblivious" in text:
            assert cls.claims is OBLIVIOUS, name
        elif "do not see the coins" in text:
            assert cls.claims is STATE_ONLY, name
        else:
            assert re.search(r"white-box|deterministic|any stream|always correct", text), name
            assert cls.claims is WHITE_BOX, name


@pytest.mark.parametrize("name", ["fw23", "fjw24", "robust-l0", "robust-rank", "robust-rank-approx"])
def test_security_of_an_instance_matches_its_spec_and_presets_order(name):
    cls = algorithms.get(name)
    spec = parse_spec(cls.arena_problem)
    params = problems.get(spec.name)(**spec.options).params
    options = parse_spec(f"{name}({cls.arena_options})").options
    alg = cls(params, Coins.from_seed(0, "t"), **options)  # the arena's options: toy
    assert alg.security() == cls.security_for(params, **options) == cls.security_for(params, preset="toy")
    assert alg.security().preset == "toy" and alg.security().bits < 64
    assert cls.security_for(params, preset="sec128").bits >= 64
    assert cls.security_for(params, preset="nosuch") is None
    default = inspect.signature(cls.__init__).parameters["preset"].default
    assert cls.security_for(params).preset == default
    assert algorithms.get("countsketch").security_for(params) is None


def test_the_matrix_cells_are_the_worst_rate_at_or_below_each_level():
    cs = "countsketch(rows=5, cols=16)"
    rows = (plays(cs, "random-sparse", "oblivious", 1) + plays(cs, "adaptive-probe", "adaptive", 2)
            + plays(cs, "kernel-injection", "white-box", 5) + plays(cs, "kernel-injection", "state-only", 0))
    [v] = separation_matrix(leaderboard(rows))
    expected = {"oblivious": ("random-sparse", 1), "adaptive": ("adaptive-probe", 2),
                "state-only": ("adaptive-probe", 2), "white-box": ("kernel-injection", 5)}
    for level in LEVELS:
        c = v.cells[level]
        adversary, fails = expected[level]
        assert (c.adversary, c.failures, c.trials) == (adversary, fails, 5)
        assert c.ci == wilson_interval(fails, 5) and c.rate == fails / 5
    # 2/5 is significant (Wilson lower end 11.8% > 5%), 1/5 is not: countsketch claims oblivious, and holds
    assert v.claims == "oblivious" and v.verdict == "claim holds" and not v.broken and v.survived == "oblivious"
    only_oblivious = separation_matrix(leaderboard(plays(cs, "dense", "oblivious", 0)))[0]
    assert [only_oblivious.cells[level].adversary for level in LEVELS] == ["dense"] * 4


def test_verdicts_tie_broken_claims_to_parameters():
    toy = plays("fw23(preset='toy')", "lattice", "white-box", 5)
    high = plays("fw23(preset='high')", "lattice", "white-box", 5)
    ams = plays("ams", "dense", "oblivious", 5, problem="f2(n=64, M=16, eps=0.5)")
    by = {v.algorithm: v for v in separation_matrix(leaderboard(toy + high + ams))}
    assert by["fw23(preset='toy')"].verdict.startswith("below claimed security (toy, λ ≈ ")
    assert not by["fw23(preset='toy')"].broken
    assert by["fw23(preset='high')"].verdict == "claim broken" and by["fw23(preset='high')"].broken
    assert by["ams"].verdict == "claim broken"
    broken = [f for f in flags(toy + high + ams) if f.kind == "claim-broken"]
    assert [f.matchup.split(" on ")[0] for f in broken] == ["ams", "fw23(preset='high')"]
    assert "claims white-box but fails 100% of games (5/5) against lattice (white-box)" in broken[1].message
    assert "λ ≈ " in broken[1].message
    # the threshold is the suite's: at 1000 bits even the high preset is "below claimed security"
    high_row = separation_matrix(leaderboard(high), threshold_bits=1000)[0]
    assert high_row.verdict.startswith("below claimed security (high") and not high_row.broken
    assert judge({level: None for level in LEVELS}, "white-box", None) == ("not tested at the claimed level", False)
    assert separation_matrix(leaderboard(plays("vandermonde", "finite-difference", "white-box", 5)))[0].verdict \
        == "no claim"


def test_rows_rank_by_level_survived_then_space_then_time():
    rows = (plays("countsketch", "dense", "oblivious", 0, bits=100) + plays("countsketch", "ki", "white-box", 5)
            + plays("exact", "dense", "oblivious", 0, bits=10_000) + plays("exact", "ki", "white-box", 0)
            + plays("fw23", "dense", "oblivious", 0, bits=5000) + plays("fw23", "ki", "white-box", 0)
            + plays("ams", "dense", "oblivious", 5, problem="f2(n=64, M=16, eps=0.5)"))
    matrix = separation_matrix(leaderboard(rows))
    assert [(v.family, v.algorithm) for v in matrix] == [
        ("f2", "ams"), ("sparse-recovery", "fw23"), ("sparse-recovery", "exact"),
        ("sparse-recovery", "countsketch")]
    assert [v.survived for v in matrix] == [None, "white-box", "white-box", "state-only"]
    worst = top_failures(leaderboard(rows + plays("exact", "half", "adaptive", 2)), 3)
    assert [(lr.algorithm, lr.adversary) for lr in worst] == [("ams", "dense"), ("countsketch", "ki"), ("exact", "half")]


def test_the_standard_suite_plays_an_oblivious_adversary_once():
    standard, quick = suite("standard"), suite("quick")
    oblivious = {n for n in adversaries.names() if adversaries.get(n).needs is OBLIVIOUS}
    assert oblivious
    for m in standard:
        if m.adversary in oblivious:
            assert m.threat == "oblivious", m
    # the separation's own games (wbstream.arena.separation) are added to standard by design
    from wbstream.arena.separation import separation_matchups
    separation = {(m.algorithm, m.adversary) for m in separation_matchups() if m.adversary in oblivious}
    assert {(m.algorithm, m.adversary) for m in standard if m.adversary in oblivious} == \
        {(m.algorithm, m.adversary) for m in quick if m.adversary in oblivious} | separation
    once = [(m.algorithm, m.problem, m.adversary) for m in standard if m.adversary in oblivious and not m.sweep]
    assert len(once) == len(set(once))
    assert any(m.threat == "white-box" and adversaries.get(m.adversary).needs is not WHITE_BOX for m in standard)


def _names_whole(text: str, names) -> list[str]:
    return [n for n in names if not re.search(rf"(?<![\w-]){re.escape(n)}(?![\w-])", text)]


def test_arena_output_keeps_every_name_whole_at_80_columns_and_piped(tmp_path):
    """`wbstream arena --suite quick` piped (full width), then the same run resumed as an 80-column terminal."""
    env = {**os.environ, "COLUMNS": "80"}
    env.pop("FORCE_COLOR", None)
    cmd = [sys.executable, "-m", "wbstream.cli", "arena", "--suite", "quick", "--trials", "1", "--out",
           str(tmp_path / "run")]
    names = [n for n in algorithms.names() if not getattr(algorithms.get(n), "unavailable", lambda: False)()]
    piped = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=600)
    assert piped.returncode == 0, piped.stderr
    assert _names_whole(piped.stdout, names) == [] and "…" not in piped.stdout
    assert piped.stdout.index("Separation matrix") < piped.stdout.index("Every matchup")
    assert max(len(line) for line in piped.stdout.splitlines()) > 80  # full width, not wrapped at 80
    term = subprocess.run(cmd, env={**env, "FORCE_COLOR": "1"}, capture_output=True, text=True, timeout=600)
    assert term.returncode == 0, term.stderr
    text = re.sub(r"\x1b\[[0-9;]*m", "", term.stdout)
    assert "played 0," in text  # the run resumed: only the report was printed again
    assert _names_whole(text, names) == [] and "…" not in text
    assert text.index("Separation matrix") < text.index("Top 10 failures") and "leaderboard.md" in text
    assert max(len(line) for line in text.splitlines()) <= 80


def test_list_keeps_every_name_whole_in_an_80_column_terminal():
    env = {**os.environ, "COLUMNS": "80", "FORCE_COLOR": "1"}
    res = subprocess.run([sys.executable, "-m", "wbstream.cli", "list"], env=env, capture_output=True, text=True,
                         timeout=120)
    assert res.returncode == 0, res.stderr
    text = re.sub(r"\x1b\[[0-9;]*m", "", res.stdout)
    assert "…" not in text
    assert _names_whole(text, adversaries.names() + algorithms.names() + problems.names()) == []
