"""Presets by target: claims are checked (binding over the claimed range, the estimate), refused outside them."""

import inspect
import math

import numpy as np
import pytest

from wbstream.algorithms.sparse.fjw24 import FJW24
from wbstream.arena.verdicts import Cell, judge, security_of
from wbstream.crypto.binding import FIRST, SECOND
from wbstream.crypto.crosscheck import FIGURES, TOLERANCE, gap, model_beta
from wbstream.crypto.design import design_fjw24
from wbstream.crypto.params import (FJW24_PRESETS, FW23_PRESETS, collision_security_bits, fw23_bits, gsw_bits,
                                    lwe_security_bits, require_binding)
from wbstream.engine.coins import Coins
from wbstream.engine.errors import SpecError
from wbstream.engine.game import Game
from wbstream.engine.problems import SparseRecovery
from wbstream.engine.registry import algorithms

CLAIMING = [name for name, p in FJW24_PRESETS.items() if p.claims_security]


def test_there_are_presets_at_64_and_128_bits_and_toy_is_breakable():
    assert {"sec64", "sec128"} <= set(CLAIMING) and "high" not in FJW24_PRESETS
    assert FJW24_PRESETS["toy"].breakable and FJW24_PRESETS["moderate"].breakable
    assert {"sec64", "sec128"} <= set(FW23_PRESETS)


@pytest.mark.parametrize("name", CLAIMING)
def test_a_preset_that_claims_security_binds_over_its_whole_range_and_meets_its_target(name):
    p = FJW24_PRESETS[name]
    for n in sorted({2, 3, 1000, p.n_max // 3, p.n_max - 1, p.n_max}):
        for M in sorted({1, 7, p.M_max // 2, p.M_max}):
            b = p.binding(n, M)
            assert b.holds and b.margin_bits > 0, (n, M, b.describe())
    assert not p.binding(4 * p.n_max, 4 * p.M_max).holds  # the range is not understated by far
    assert p.target_bits <= lwe_security_bits(p.n_lwe, p.log_q, p.sigma) < p.target_bits + 8
    assert collision_security_bits(p.n_lwe + 1, p.log_q, 2 * p.M_max, 2 * 31) >= p.target_bits
    assert gsw_bits(1, p.M_max, name) >= p.target_bits


@pytest.mark.parametrize("name", CLAIMING)
def test_the_presets_are_what_the_design_search_picks(name):
    p = FJW24_PRESETS[name]
    d = design_fjw24(p.target_bits, n_max=p.n_max, M_max=p.M_max)
    assert (d.log_q, d.base_bits, d.n_lwe, 2.0 ** d.log2_sigma) == (p.log_q, p.base_bits, p.n_lwe, p.sigma)
    assert p.key_bits(p.n_max) == d.key_bits


def test_the_sec64_key_fits_this_machine_at_n_2_16_and_sec128_is_larger():
    gib = 8 * 2 ** 30
    assert FJW24_PRESETS["sec64"].key_bits(2 ** 16) / gib < 12
    assert FJW24_PRESETS["sec128"].key_bits(2 ** 16) > FJW24_PRESETS["sec64"].key_bits(2 ** 16)


@pytest.mark.parametrize("name", ["sec64", "sec128"])
@pytest.mark.parametrize("n, k, M", [(2 ** 10, 1, 2 ** 10), (2 ** 16, 10, 2 ** 10), (2 ** 16, 2, 2 ** 20),
                                      (2 ** 20, 100, 2 ** 20)])
def test_fw23_sec_presets_reach_the_same_target_with_the_fewest_rows(name, n, k, M):
    p = FW23_PRESETS[name]
    rows = p.sis_rows(n, k, M)
    assert fw23_bits(n, k, M, name) >= p.target_bits
    floor = k * math.ceil(math.log2(n))
    if rows > max(p.rows, floor):  # grown past the floor: one row fewer misses the target
        assert collision_security_bits(rows - 1, p.log2_q, 2 * M, 2 * k * 31) < p.target_bits


@pytest.mark.parametrize("f", FIGURES, ids=[f.name for f in FIGURES])
def test_the_model_lands_within_tolerance_of_published_lattice_estimator_figures(f):
    assert 0 <= gap(f) <= TOLERANCE, (f.name, model_beta(f), f.beta)


def test_a_claiming_preset_outside_its_range_is_refused_in_one_line_naming_the_inequality():
    params = SparseRecovery(n=2 ** 12, k=2, M=2 ** 20).params
    with pytest.raises(SpecError, match=r"B_g\^t\* > 2\*Y\*B_eval fails") as err:
        FJW24(params, Coins.from_seed(0, "t"), preset="sec64")
    assert "\n" not in str(err.value) and "n <= 2^16, M <= 2^10" in str(err.value)
    with pytest.raises(SpecError, match="does not bind") as err:
        Game("sparse-recovery(n=4096, k=2, M=1048576)", "fjw24(preset='sec64')", "random-sparse").play()
    assert "\n" not in str(err.value)


def test_overrides_that_break_binding_are_refused_too():
    assert not FJW24_PRESETS["sec64"].binding(2 ** 16, 2 ** 10, n_lwe=2600).holds
    with pytest.raises(SpecError, match="B_g"):
        require_binding("fjw24", n=2 ** 16, M=2 ** 10, preset="sec64", n_lwe=2600)
    with pytest.raises(SpecError, match=SECOND.replace("*", r"\*").replace("^", r"\^").replace("+", r"\+")):
        require_binding("robust-rank", n=256, M=2 ** 20, preset="sec64", n_lwe=8)
    assert require_binding("fjw24", n=256, M=2 ** 20, preset="toy").failed == FIRST  # toy claims nothing


def test_allow_unproven_plays_it_and_the_estimate_and_verdict_say_so():
    spec = "fjw24(preset='sec64', n_lwe=8, allow_unproven=True)"
    problem = "sparse-recovery(n=256, k=2, M=1048576)"
    alg = FJW24(SparseRecovery(n=256, k=2, M=2 ** 20).params, Coins.from_seed(0, "t"), preset="sec64", n_lwe=8,
                allow_unproven=True)
    alg.update(np.array([3, 7]), np.array([5, -9]))
    assert alg.query().indices.tolist() == [3, 7]
    est = alg.security()
    assert est == security_of(spec, problem) and est.unproven == SECOND + " fails"
    assert "unproven" in est.label
    bad = Cell(5, 5, 1.0, (0.57, 1.0), "lattice", "white-box")
    assert judge({"white-box": bad}, "white-box", est) == (f"below claimed security ({est.label})", False)
    proven = security_of("fjw24(preset='sec64')", "sparse-recovery(n=256, k=2, M=1024)")
    assert proven.unproven == "" and proven.bits >= 64
    assert judge({"white-box": bad}, "white-box", proven) == ("claim broken", True)


@pytest.mark.parametrize("name", ["robust-l0", "robust-rank", "robust-rank-approx"])
def test_robust_defaults_claim_security_and_their_claims_name_preset_and_bits(name):
    cls = algorithms.get(name)
    default = inspect.signature(cls.__init__).parameters["preset"].default
    p = FJW24_PRESETS[default]
    assert p.claims_security
    bits = round(lwe_security_bits(p.n_lwe, p.log_q, p.sigma))
    assert f"{default} (λ ≈ {bits} bits" in cls.guarantee and "binding proven for" in cls.guarantee
    assert cls.arena_options == "preset='toy'"  # the built-in suites stay fast


def test_fjw24_names_the_presets_that_carry_its_claim_with_their_bits():
    for name in ("sec64", "sec128"):
        p = FJW24_PRESETS[name]
        assert f"{name} (λ ≈ {round(lwe_security_bits(p.n_lwe, p.log_q, p.sigma))} bits)" in FJW24.guarantee
    assert "toy is breakable" in FJW24.guarantee


def _run_presets(args, monkeypatch=None, width=None):
    import io

    from click.testing import CliRunner
    from rich.console import Console

    from wbstream.cli import main
    buf = None
    if width is not None:
        buf = io.StringIO()
        monkeypatch.setattr("wbstream.cli.presets.out", Console(width=width, file=buf, color_system=None))
    res = CliRunner().invoke(main, ["presets", *args])
    return res, (buf.getvalue() if buf is not None else res.output)


def test_wbstream_presets_fits_80_columns_and_keeps_every_name_and_figure_whole(monkeypatch):
    res, text = _run_presets(["--estimate-only"], monkeypatch, width=80)
    assert res.exit_code == 0, res.output
    assert all(len(line) <= 80 for line in text.splitlines())
    for name in FJW24_PRESETS:
        assert f"fjw24 {name}" in text
    assert "yes +0.3" in text and "est." in text and "10.1GiB" in text  # sec64: binding margin, key


def test_wbstream_presets_piped_prints_one_row_per_preset_and_json_has_every_field():
    res, text = _run_presets(["--estimate-only", "--n", "65536", "--M", "1048576"])
    assert res.exit_code == 0, res.output
    assert "n = 2^16, M = 2^20" in text and "no -" in text  # sec64 does not bind at M = 2^20
    res, text = _run_presets(["--estimate-only", "--json"])
    import json
    rows = json.loads(text)
    assert {(r["algorithm"], r["preset"]) for r in rows} >= {("fjw24", "sec64"), ("fw23", "sec64")}
    for r in rows:
        assert {"lwe_bits", "collision_bits", "binding", "key_bits", "state_bits", "update_ns"} <= r.keys()


@pytest.mark.parametrize("args, words", [(["--k", "0"], "--k"), (["--n", "1"], "--n"),
                                         (["--n", str(2 ** 70)], "--n"), (["--n", "64", "--k", "100"], "exceeds"),
                                         (["--M", "-3"], "--M")])
def test_wbstream_presets_refuses_bad_values_in_one_line_with_status_2(args, words):
    res, text = _run_presets(args)
    assert res.exit_code == 2
    errors = [line for line in text.splitlines() if line.startswith("Error:")]
    assert len(errors) == 1 and words in errors[0]
