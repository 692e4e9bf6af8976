"""The race at equal security (``wbstream bench sparse``): the preset choice, the refusal, the crossover."""

from __future__ import annotations

import subprocess
import sys

import pytest

from wbstream.bench.sparse_race import (DEFAULT_TARGET_BITS, RaceError, check_equal_security, crossover,
                                        default_race_preset, race_estimates, security_floor, sparse_race)
from wbstream.crypto.params import FJW24_PRESETS, FW23_PRESETS

N, M = 1 << 16, 1 << 20


def test_the_default_preset_is_the_lowest_at_64_bits_for_both():
    chosen = default_race_preset(N, M)
    floors = {p: security_floor(race_estimates(p, N, M)) for p in FW23_PRESETS if p in FJW24_PRESETS}
    assert min(floors[chosen]) >= DEFAULT_TARGET_BITS
    assert all(min(f) >= min(floors[chosen]) for f in floors.values() if min(f) >= DEFAULT_TARGET_BITS)


def test_unequal_estimates_are_refused_in_one_line():
    estimates = [{"k": 1, "fw23_bits": 80.0, "fjw24_bits": 64.0}, {"k": 10, "fw23_bits": 90.0, "fjw24_bits": 64.0}]
    with pytest.raises(RaceError, match="fw23 is estimated at 80.0 bits and fjw24 at 64.0 bits") as exc:
        check_equal_security("x", estimates, tolerance=8)
    assert "\n" not in str(exc.value)
    check_equal_security("x", estimates, tolerance=16)  # within the tolerance: no error


def test_an_unknown_preset_is_refused():
    with pytest.raises(RaceError, match="one of .*toy"):
        race_estimates("nosuch", N, M)


def test_the_crossover_is_measured_in_range_and_extrapolated_beyond():
    assert crossover([1, 10, 100], [1.0, 5.0, 50.0], [20.0, 20.0, 20.0]) == (100, "measured")
    k, how = crossover([1, 10, 100], [1.0, 10.0, 100.0], [1000.0, 1000.0, 1000.0])
    assert how == "extrapolated" and k == pytest.approx(1000.0)


def test_a_small_race_at_toy_measures_every_k():
    race = sparse_race("toy", n=1024, ks=(1, 10), batch=8, repeats=1)
    assert [r["k"] for r in race["rows"]] == [1, 10]
    for r in race["rows"]:
        assert r["fw23_ns"] > 0 and r["fjw24_ns"] > 0
        assert r["fjw24_key_bits"] == FJW24_PRESETS["toy"].key_bits(1024) and r["fw23_key_bits"] == 256
        assert r["fw23_state_bits"] > 0 and r["fjw24_state_bits"] > 0
    assert race["crossover"].startswith(("measured", "extrapolated"))


def test_the_cli_refuses_unequal_security_with_one_line_and_status_2(monkeypatch):
    from click.testing import CliRunner

    from wbstream.bench import sparse_race as race
    from wbstream.cli import main

    monkeypatch.setattr(race, "race_estimates", lambda preset, n, M, ks=race.RACE_KS: [
        {"k": k, "fw23_bits": 100.0, "fjw24_bits": 70.0} for k in ks])
    result = CliRunner().invoke(main, ["bench", "sparse", "--race-only", "--preset", "toy"])
    assert result.exit_code == 2
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and "not equal security: fw23 is estimated at 100.0 bits and fjw24 at 70.0" in lines[0]


def test_the_cli_refuses_an_unknown_preset():
    out = subprocess.run([sys.executable, "-m", "wbstream.cli", "bench", "sparse", "--race-only", "--preset", "nosuch"],
                         capture_output=True, text=True)
    assert out.returncode == 2 and len(out.stderr.strip().splitlines()) == 1 and "nosuch" in out.stderr


def test_the_plain_bench_says_why_the_race_was_not_run_and_succeeds(monkeypatch):
    from click.testing import CliRunner

    from wbstream.bench import sparse_race as race
    from wbstream.cli import bench as bench_cli
    from wbstream.cli import main

    tables = []
    monkeypatch.setattr(bench_cli, "_sparse_tables", lambda: tables.append(1))  # the other figures: not timed here
    monkeypatch.setattr(race, "race_estimates", lambda preset, n, M, ks=race.RACE_KS: [
        {"k": k, "fw23_bits": 100.0, "fjw24_bits": 70.0} for k in ks])
    result = CliRunner().invoke(main, ["bench", "sparse"])
    assert result.exit_code == 0 and tables == [1]
    assert "race at equal security not run: " in result.output and "not equal security" in result.output


def test_a_preset_is_raced_only_where_it_binds():
    from wbstream.bench.sparse_race import race_preset

    assert race_preset(None, n=1 << 16, M=1 << 10) == "sec64"  # the sec presets bind for M <= 2^10
    with pytest.raises(RaceError, match=r"does not bind at n = 65536, M = 1048576 .* --M 1048576\)$"):
        race_preset("sec64", n=1 << 16, M=1 << 20)


def test_no_race_skips_it_and_excludes_race_only(monkeypatch):
    from click.testing import CliRunner

    from wbstream.cli import bench, main

    tables = []
    monkeypatch.setattr(bench, "_sparse_tables", lambda: tables.append(1))
    result = CliRunner().invoke(main, ["bench", "sparse", "--no-race"])
    assert result.exit_code == 0 and tables == [1] and "race" not in result.output
    result = CliRunner().invoke(main, ["bench", "sparse", "--no-race", "--race-only"])
    assert result.exit_code == 2 and result.output.strip().count("\n") == 0 and "exclude" in result.output


def test_a_universe_smaller_than_the_largest_k_is_refused_in_one_line():
    from click.testing import CliRunner

    from wbstream.cli import main
    result = CliRunner().invoke(main, ["bench", "sparse", "--race-only", "--n", "3"])
    assert result.exit_code == 2
    assert result.output.strip() == "Error: the race plays k = 1, 10, 100, 1000: n = 3 must be at least 1000"
