"""`wbstream separation`: the table covers every problem and role, the pattern check tells differences,
the matrix fits 80 columns and pipes whole, bad values exit 2 in one line."""

from __future__ import annotations

import io

import pytest
from click.testing import CliRunner
from rich.console import Console

from wbstream.arena import separation as sep
from wbstream.arena.matchups import Matchup, suite
from wbstream.arena.separation import FAMILIES, ROLES, SEPARATION, Entry, separation_matchups, separation_rows
from wbstream.cli import main
from wbstream.engine.registry import algorithms, parse_spec
from wbstream.engine.result import GameResult

CLAIMS = {"oblivious-only": "oblivious", "adaptive-robust": "adaptive", "white-box-robust": "white-box"}


def test_every_problem_has_every_role_once():
    assert {(e.family, e.role) for e in SEPARATION} == {(f, r) for f in FAMILIES for r in ROLES}
    assert len(SEPARATION) == len(FAMILIES) * len(ROLES)


@pytest.mark.parametrize("entry", [e for e in SEPARATION], ids=lambda e: f"{e.family}-{e.role}")
def test_each_entry_plays_its_own_algorithm_and_claims_its_role(entry):
    if entry.algorithm is None:
        assert entry.note == "none built" and not entry.games
        return
    name = parse_spec(entry.algorithm).name
    assert algorithms.get(name).claims.name == CLAIMS[entry.role]
    assert {parse_spec(m.algorithm).name for m in entry.games} == {name}
    threats = {m.threat for m in entry.games}
    assert "oblivious" in threats and threats & {"adaptive", "white-box"}


def test_the_standard_suite_plays_every_separation_game():
    standard = {m.id for m in suite("standard")}
    assert [m for m in separation_matchups() if m.id not in standard] == []
    assert {m.id for m in suite("separation")} == {m.id for m in separation_matchups()}


def _rows(entry: Entry, failed_by_adversary: dict[str, bool], trials: int = 3) -> list[dict]:
    out = []
    for m in entry.games:
        for s in range(trials):
            r = GameResult(m.problem, m.algorithm, m.adversary, m.threat, s,
                           failed=failed_by_adversary.get(m.adversary, False))
            out.append({"matchup": m.id, "status": "ok", "result": r})
    return out


def _entry(family, role):
    [e] = [e for e in SEPARATION if e.family == family and e.role == role]
    return e


def test_the_pattern_check_passes_the_expected_cells_and_flags_a_differing_one():
    ams = _entry("F2", "oblivious-only")
    [row] = separation_rows(_rows(ams, {"hardt-woodruff-2013": True, "kernel-injection": True}), (ams,))
    assert row.matches and row.pattern == "as expected"
    assert row.cells["adaptive"].failures == 3 and row.cells["adaptive"].adversary == "hardt-woodruff-2013"
    # the adaptive attack "fails" to break it in every game: the command must say so
    [row] = separation_rows(_rows(ams, {"kernel-injection": True}), (ams,))
    assert not row.matches
    assert row.pattern == "differs: expected a failure at adaptive, 0/3 measured"
    robust = _entry("distinct elements", "white-box-robust")
    [row] = separation_rows(_rows(robust, {"wrap-around": True}), (robust,))
    assert row.pattern == "differs: expected it to hold at white-box, 3/3 failed"


def test_a_weaker_levels_failure_counts_at_stronger_levels_and_errors_are_not_games():
    sw = _entry("F2", "adaptive-robust")
    rows = _rows(sw, {"dense": True})
    rows.append({"matchup": sw.games[0].id, "status": "error", "result": None})
    [row] = separation_rows(rows, (sw,))
    assert row.cells["white-box"].played_at == "oblivious" and row.cells["white-box"].trials == 3
    assert "expected it to hold at oblivious, 3/3 failed" in row.pattern


TINY = (
    Entry("sparse recovery", "oblivious-only", "countsketch(rows=5, cols=16)", (
        Matchup("sparse-recovery(n=512, k=2, M=1024)", "countsketch(rows=5, cols=16)", "random-sparse", "oblivious",
                rounds=3),
        Matchup("sparse-recovery(n=512, k=2, M=1024)", "countsketch(rows=5, cols=16)", "kernel-injection",
                "white-box", rounds=3)),
        note="no adaptive attack on sparse recovery is built"),
    Entry("sparse recovery", "adaptive-robust", None, note="none built"),
)


@pytest.fixture
def tiny(monkeypatch):
    monkeypatch.setattr(sep, "SEPARATION", TINY)


def test_the_command_fits_80_columns_and_keeps_names_whole(tiny, tmp_path, monkeypatch):
    import wbstream.cli.separation as cmd

    buf = io.StringIO()
    monkeypatch.setattr(cmd, "out", Console(width=80, file=buf, color_system=None))
    res = CliRunner().invoke(main, ["separation", "--trials", "2", "--out", str(tmp_path), "--workers", "1"])
    assert res.exit_code == 0, res.output
    text = buf.getvalue()
    assert max(len(line) for line in text.splitlines()) <= 80
    assert "countsketch(rows=5, cols=16)" in text and "none built" in text
    assert "differs: expected a failure at adaptive, 0/2 measured" in " ".join(text.split())
    assert "kernel-injection" in text


def test_the_command_piped_prints_the_whole_table(tiny, tmp_path):
    res = CliRunner().invoke(main, ["separation", "--trials", "1", "--out", str(tmp_path), "--workers", "1"])
    assert res.exit_code == 0, res.output
    header = [line for line in res.output.splitlines() if "pattern" in line and "oblivious" in line]
    assert header, res.output  # one table line holds every column: nothing was wrapped
    assert "sparse-recovery(n=512, k=2, M=1024)" in res.output
    again = CliRunner().invoke(main, ["separation", "--trials", "1", "--out", str(tmp_path), "--json"])
    import json
    data = json.loads(again.output)
    assert [d["pattern"] for d in data][1] == "none built"
    assert data[0]["cells"]["white-box"]["failures"] == 1 and data[0]["games"][0]["played"] == 1


@pytest.mark.parametrize("args", [["--trials", "0"], ["--seed", "-1"], ["--secret", "/nonexistent/secret"],
                                  ["--workers", "0"]])
def test_bad_values_exit_2_in_one_line(tiny, tmp_path, args):
    res = CliRunner().invoke(main, ["separation", "--out", str(tmp_path / "o"), *args])
    assert res.exit_code == 2
    lines = [line for line in res.output.strip().splitlines() if line.startswith("Error")]
    assert len(lines) == 1
    assert not (tmp_path / "o" / "results.sqlite").exists()


def test_an_out_path_that_is_a_file_exits_2_in_one_line(tiny, tmp_path):
    f = tmp_path / "file"
    f.write_text("x")
    res = CliRunner().invoke(main, ["separation", "--out", str(f / "sub")])
    assert res.exit_code == 2 and res.output.strip().count("\n") == 0, res.output
