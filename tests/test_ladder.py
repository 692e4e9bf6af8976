"""The ladder: real games against scaled-down instances of the security-claiming presets."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from wbstream.adversaries.reduction import fpylll_available
from wbstream.arena.ladder import Ladder, ladders
from wbstream.cli import main
from wbstream.engine.errors import SpecError

needs_fpylll = pytest.mark.skipif(not fpylll_available(), reason="needs fpylll (wbstream[attacks])")


@needs_fpylll
def test_the_smallest_rung_falls_to_the_real_attack_and_records_its_root_hermite_factor():
    lad = Ladder("fjw24", "sec64")
    rung = lad.rungs()[0]
    assert rung.model_falls
    played = lad.play(rung, seeds=1)
    assert (played.seeds, played.broken, played.errors) == (1, 1, 0), played.notes
    assert played.notes[0].startswith("collision found") and len(played.deltas) == 1


@needs_fpylll
def test_a_rung_the_model_says_holds_is_not_broken_by_lll_alone():
    """n_lwe = 6 on 30 columns: LLL is predicted to reach |z|_inf of about 2^30, far above M = 2^10."""
    lad = Ladder("fjw24", "sec64", block_size=0, columns=30)
    rung = lad.rung(6)
    assert not rung.model_falls and rung.model_log2_linf > 20
    played = lad.play(rung, seeds=2)
    assert (played.broken, played.errors) == (0, 0), played.notes
    assert all(n.startswith("no vector with |z|_inf <= M = 1024 (d = 30)") for n in played.notes)


def test_the_rungs_keep_the_preset_and_stop_at_the_work_budget():
    lad = Ladder("fjw24", "sec128-wide", max_dimension=120)
    rungs = lad.rungs()
    assert [r.size for r in rungs] == list(range(1, len(rungs) + 1))
    assert all(r.lattice_rows <= 120 and f"preset='sec128-wide', n_lwe={r.size}," in r.spec for r in rungs)
    assert lad.rung(len(rungs) + 1).lattice_rows > 120
    assert lad.problem == "sparse-recovery(n=1024, k=2, M=1048576)"  # sec128-wide's claimed M
    fw = Ladder("fw23", "sec64", max_dimension=120).rungs()
    assert fw[0].size == 20 and all(b.size - a.size == 4 for a, b in zip(fw, fw[1:]))  # from k log2 n rows


def test_the_model_boundary_and_the_extrapolation_to_the_real_preset():
    lad = Ladder("fw23", "sec64")
    boundary = lad.model_boundary()
    assert lad.rung(boundary).model_falls and not lad.rung(boundary + 4).model_falls
    s = lad.summary([])
    assert s["real_size"] == 267 and s["real_collision_bits"] >= 64 and s["real_beta"] > 200
    assert s["measured_boundary"] is None and s["rungs"] == []


def test_the_cli_prints_the_ladder_as_json_and_as_a_table():
    r = CliRunner().invoke(main, ["ladder", "--preset", "sec64", "--algorithm", "fjw24", "--model-only", "--json",
                                  "--max-dimension", "100"])
    assert r.exit_code == 0, r.output
    (s,) = json.loads(r.output)
    assert (s["algorithm"], s["preset"], s["dimension"]) == ("fjw24", "sec64", "n_lwe")
    assert [x["size"] for x in s["rungs"]] == [1, 2, 3, 4] and s["real_tester_rows"] == 2301
    r = CliRunner().invoke(main, ["ladder", "--preset", "sec64", "--algorithm", "fw23", "--model-only"])
    assert r.exit_code == 0, r.output
    assert "real preset: SIS rows = 267" in r.output and "extrapolated by the model, not attacked" in r.output


@pytest.mark.parametrize("args, message", [
    (["--preset", "toy"], "no security-claiming preset 'toy'"),
    (["--preset", "nosuch", "--algorithm", "fw23"], "no security-claiming preset 'nosuch' of fw23"),
    (["--max-dimension", "5"], "--max-dimension"),
    (["--seeds", "0"], "--seeds"),
])
def test_bad_input_is_refused_on_one_line_with_status_2(args, message):
    r = CliRunner().invoke(main, ["ladder", "--model-only", *args])
    assert r.exit_code == 2 and message in r.output and "Traceback" not in r.output


def test_only_security_claiming_presets_have_a_ladder():
    assert ("fjw24", "sec128-wide") in ladders() and all(p.startswith("sec") for _, p in ladders())
    with pytest.raises(SpecError, match="must be one that claims security"):
        Ladder("fjw24", "moderate")
    with pytest.raises(SpecError, match="fjw24 or fw23"):
        Ladder("vandermonde", "sec64")


def test_the_paper_suite_plays_a_cheap_rung_of_every_kind_of_ladder():
    from wbstream.arena.matchups import suite
    from wbstream.arena.paper import LADDER_ROWS, preset_skips

    rungs = [m for m in suite("paper") if "max_dimension=" in m.adversary]
    assert {m.algorithm.split("(")[0] for m in rungs} == {"fjw24", "fw23"}
    assert all(f"max_dimension={LADDER_ROWS}" in m.adversary and m.threat == "white-box" for m in rungs)
    assert all("ladder" in s.reason for s in preset_skips())
