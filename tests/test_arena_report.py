"""Arena reports: leaderboard numbers against a brute-force recount, flags, Markdown/HTML/plots, `wbstream report`."""

import base64
import io
import re
import shutil
import statistics
import subprocess

import pytest
from click.testing import CliRunner
from rich.console import Console

from wbstream.arena import plots
from wbstream.arena.report import flags, leaderboard, render_terminal, to_html, to_markdown, write_reports
from wbstream.arena.store import ResultStore, StoreError
from wbstream.cli import main
from wbstream.engine.game import Game
from wbstream.engine.registry import algorithms
from wbstream.engine.result import GameResult
from wbstream.engine.stats import wilson_interval

SPARSE = "sparse-recovery(n=512, k=2, M=1024)"
SPARSE4 = "sparse-recovery(n=1024, k=4, M=1024)"
CS = "countsketch(rows=5, cols=16)"
F2 = "f2(n=2048, M=1024, eps=0.5)"
AMS = "ams(means=16, medians=5)"
MATCHUPS = [
    ("cs-ki", SPARSE, CS, "kernel-injection", "white-box"),
    ("cs-rand", SPARSE, CS, "random-sparse(rounds=20)", "oblivious"),
    ("cs4-ki", SPARSE4, CS, "kernel-injection", "white-box"),
    ("ams-dense", F2, AMS, "dense", "oblivious"),
    ("ams-ki", F2, AMS, "kernel-injection", "white-box"),
]
PNG = b"\x89PNG\r\n\x1a\n"
#: A fixed run secret, so the real games (and their rare oblivious failures) are the same on every run.
SECRET = bytes(range(32))


def row(result: GameResult, matchup: str, status="ok", error=None, specs=None):
    """A store row; ``specs`` are the matchup's own (problem, algorithm, adversary, threat), as the arena writes."""
    problem, algorithm, adversary, threat = specs or (result.problem, result.algorithm, result.adversary, result.threat)
    return {"key": f"{matchup}/{result.seed}", "matchup": matchup, "problem": problem,
            "algorithm": algorithm, "adversary": adversary, "threat": threat,
            "seed": result.seed, "status": status, "error": error,
            "result": result if status == "ok" else None, "failed": result.failed if status == "ok" else None}


def fake(adversary, threat, seed, *, failed=False, algorithm=CS, problem=SPARSE, stop="round-budget", updates=10,
         first=None):
    return GameResult(problem, algorithm, adversary, threat, seed, failed=failed,
                      first_failure_round=(first or 2) if failed else None, rounds=10, updates=updates,
                      stop_reason=stop, update_ns_median=100.0 + seed, space_state_bits=64, space_key_bits=32)


@pytest.fixture(scope="module")
def real_rows():
    rows = []
    for mid, problem, alg, adv, threat in MATCHUPS:
        for seed in (1, 2, 3):
            game = Game(problem, alg, adv, threat, seed=seed, secret=SECRET)
            rows.append(row(game.play(), mid, specs=(problem, alg, adv, threat)))
    rows.append(row(fake("kernel-injection", "white-box", 4), "cs-ki", status="error", error="RuntimeError: boom"))
    return rows


@pytest.fixture(scope="module")
def store_dir(tmp_path_factory, real_rows):
    d = tmp_path_factory.mktemp("arena")
    with ResultStore(d / "results.sqlite") as store:
        for r in real_rows:
            f = {k: r[k] for k in ("matchup", "problem", "algorithm", "adversary", "threat", "seed", "status")}
            store.add(r["key"], **f, result=r["result"], error=r["error"])
    return d


def test_leaderboard_matches_a_brute_force_recount(real_rows):
    board = leaderboard(real_rows)
    assert len(board) == len(MATCHUPS)
    assert [lr.algorithm for lr in board] == sorted(lr.algorithm for lr in board)
    for alg in {lr.algorithm for lr in board}:
        rates = [lr.failure_rate for lr in board if lr.algorithm == alg]
        assert rates == sorted(rates)
    for lr in board:
        mine = [r for r in real_rows if (r["algorithm"], r["adversary"], r["threat"], r["problem"])
                == (lr.algorithm, lr.adversary, lr.threat, lr.problem)]
        ok = [r["result"] for r in mine if r["status"] == "ok"]
        fails = [g for g in ok if g.failed]
        assert (lr.trials, lr.failures) == (len(ok), len(fails))
        assert lr.failure_rate == len(fails) / len(ok)
        assert lr.failure_ci == wilson_interval(len(fails), len(ok))
        assert lr.median_rounds_to_failure == (statistics.median(g.first_failure_round for g in fails) if fails else None)
        assert lr.state_bits == statistics.median(g.space_state_bits for g in ok)
        assert lr.key_bits == statistics.median(g.space_key_bits for g in ok)
        assert lr.update_ns_median == statistics.median(g.update_ns_median for g in ok)
        assert lr.errors == sum(r["status"] != "ok" for r in mine)
        assert lr.guarantee == algorithms.get(lr.algorithm.split("(")[0]).guarantee
    by = {(lr.algorithm, lr.adversary): lr for lr in board}
    assert by[CS, "kernel-injection"].failure_rate == 1.0 and by[CS, "kernel-injection"].errors == 1
    assert by[CS, "random-sparse(rounds=20)"].failure_rate == 0.0
    assert "oblivious streams only" in by[AMS, "dense"].guarantee
    assert leaderboard([row(fake("x", "white-box", 1, algorithm="nosuch(a=1)"), "m")])[0].guarantee == ""


def test_a_clean_evaluation_raises_only_the_error_flag(real_rows):
    got = flags(real_rows)
    assert [f.kind for f in got] == ["errors"]
    assert got[0].message.startswith("1 of 4 games errored: RuntimeError: boom")
    assert flags([r for r in real_rows if r["status"] == "ok"]) == []


def test_oblivious_beats_white_box_flag():
    rows = [row(fake("random-sparse", "oblivious", s, failed=s < 3), "obl") for s in range(4)]
    weak = [row(fake("kernel-injection", "white-box", s, failed=s < 1), "wb") for s in range(4)]
    got = flags(rows + weak)
    # countsketch claims oblivious streams: failing 3 of 4 of them also breaks its claim
    assert [f.kind for f in got] == ["oblivious-beats-white-box", "claim-broken"]
    got = [f for f in got if f.kind != "claim-broken"]
    assert "oblivious beats white-box" in got[0].message and "75%" in got[0].message and "25%" in got[0].message
    assert "kernel-injection" in got[0].matchup
    equal = [row(fake("kernel-injection", "white-box", s, failed=s < 3), "wb") for s in range(4)]
    assert [f.kind for f in flags(rows + equal)] == ["claim-broken"]
    # an adversary that does not need white-box, or another algorithm/problem, is not compared
    dense_wb = [row(fake("dense", "white-box", s), "dwb") for s in range(4)]
    other_problem = [row(fake("kernel-injection", "white-box", s, problem=SPARSE4), "wb4") for s in range(4)]
    assert [f.kind for f in flags(rows + dense_wb + other_problem)] == ["claim-broken"]


def test_attack_never_used_its_budget_flags():
    gave_up = [row(fake("kernel-injection", "white-box", s, stop="adversary-stopped", updates=0), "g")
               for s in range(3)]
    got = flags(gave_up)
    assert [f.kind for f in got] == ["attack-gave-up"] and "0 updates" in got[0].message
    one_streamed = gave_up[:2] + [row(fake("kernel-injection", "white-box", 2, stop="adversary-stopped"), "g")]
    assert flags(one_streamed) == []
    timed = [row(fake("kernel-injection", "white-box", s, stop="time-budget"), "t") for s in range(3)]
    got = flags(timed)
    assert [f.kind for f in got] == ["attack-timed-out"] and "time budget" in got[0].message
    assert flags(timed[:2] + [row(fake("kernel-injection", "white-box", 2, stop="round-budget"), "t")]) == []
    budgets = [row(fake("kernel-injection", "white-box", s, stop=stop), "b")
               for s, stop in enumerate(["round-budget", "update-budget"])]
    assert flags(budgets) == []


def test_error_flag_counts_errors_and_timeouts():
    rows = [row(fake("dense", "oblivious", 0), "e"),
            row(fake("dense", "oblivious", 1), "e", status="timeout", error="timed out after 5 s"),
            row(fake("dense", "oblivious", 2), "e", status="error", error="later")]
    got = flags(rows)
    assert [f.kind for f in got] == ["errors"]
    assert got[0].message.startswith("2 of 3 games errored: timed out after 5 s")
    only_errors = leaderboard(rows[1:])
    assert only_errors[0].trials == 0 and only_errors[0].failure_rate is None and only_errors[0].errors == 2


def test_markdown_terminal_and_html(real_rows):
    board, fl = leaderboard(real_rows), flags(real_rows)
    md = to_markdown(board, fl)
    assert md.index("## Separation matrix") < md.index("## Flags") < md.index("## Every matchup")
    matrix = md[md.index("## Separation matrix"):md.index("## Flags")]
    # one row per (algorithm, problem): ams on f2, countsketch on two sparse-recovery problems
    assert len([line for line in matrix.splitlines() if line.startswith("|")]) == 2 + 3
    full = md[md.index("## Every matchup"):]
    table = [line for line in full.splitlines() if line.startswith("|")]
    assert len(table) == 2 + len(MATCHUPS)
    assert all(line.count(" | ") == table[0].count(" | ") for line in table[2:])
    assert "<details>" in full and "games errored" in md and "Wilson 95% CI" in md
    # each claim once, not once per matchup
    assert md.count("against oblivious streams only") == 2
    console = Console(record=True, width=250, file=io.StringIO())
    render_terminal(console, board, fl)
    text = console.export_text()
    assert text.index("Separation matrix") < text.index("Every matchup")
    assert "kernel-injection" in text and "1 of 4 games errored" in text and "100.0%" in text
    figures = {"failure_vs_rounds": plots.failure_vs_rounds(real_rows), "other": plots.failure_vs_rounds(real_rows)[0]}
    page = to_html(board, fl, figures)
    assert "http://" not in page and "https://" not in page and "<script" not in page.lower()
    assert "<link" not in page and "<style>" in page
    images = re.findall(r'src="data:image/png;base64,([A-Za-z0-9+/=]+)"', page)
    assert len(images) == 2 and all(base64.b64decode(i).startswith(PNG) for i in images)
    assert figures["failure_vs_rounds"][1] in page  # the caption
    assert page.index('id="matrix"') < page.index("<h2>Flags") < page.index("<details>") < page.index('class="full"')
    assert page[page.index('class="full"'):].count("<tr>") == 1 + len(MATCHUPS)
    evil = [row(fake("dense", "oblivious", 0), "e", status="error", error="<b>see https://example.org</b>")]
    page = to_html(leaderboard(evil), flags(evil), {})
    assert "https://" not in page and "<b>see" not in page and "&lt;b&gt;" in page


def test_plots_draw_only_with_data(real_rows):
    figs = plots.all_figures(real_rows)
    # failures on two problem families; no preset= specs; no sweep, so no time or space figure (countsketch
    # played at two k and two n in judged games does not make one: their batches are the adversaries')
    assert set(figs) == {"failure_vs_rounds/sparse-recovery", "failure_vs_rounds/f2"}
    for png, caption in figs.values():
        assert png.startswith(PNG) and len(png) > 10_000 and caption and "\n" not in caption
    assert plots.all_figures([]) == {}
    one_preset = [row(fake("lattice", "white-box", s, failed=True, algorithm="fw23(preset='toy')"), "t")
                  for s in range(3)]
    assert plots.attack_success_vs_preset(one_preset) is None  # nothing to compare
    presets = [row(fake(adv, "white-box", s, failed=s < f, algorithm=f"fw23(preset={p!r})"), f"{p}-{adv}")
               for p, f in [("toy", 3), ("moderate", 1)] for adv in ("kernel-injection", "lattice")
               for s in range(4)]
    png, caption = plots.attack_success_vs_preset(presets)
    assert png.startswith(PNG) and "64 bits" in caption
    junk = [row(fake("dense", "oblivious", 0, problem="not a spec((", algorithm="(("), "j"),
            row(fake("dense", "oblivious", 1), "e", status="error", error="x")]
    assert plots.all_figures(junk) == {}


def test_failure_plot_has_at_most_eight_series_and_counts_an_oblivious_adversary_once():
    rows = [row(fake(f"adv{i}", "white-box", s, failed=True, first=i + 1), f"m{i}")
            for i in range(12) for s in range(2)]
    rows += [row(fake("dense", threat, s, failed=True), f"d-{threat}") for threat in ("oblivious", "white-box")
             for s in range(2)]
    plays = plots._weakest_plays(rows)
    assert len(plays) == 13 and plays[SPARSE, CS, "dense"][0] == "oblivious"
    png, caption = plots.failure_vs_rounds(rows, "sparse-recovery")
    assert "5 more failing matchups not drawn" in caption
    import matplotlib.pyplot as plt
    drawn = []
    original = plt.Axes.step
    try:
        plt.Axes.step = lambda self, *a, **k: drawn.append(k.get("label")) or original(self, *a, **k)
        plots.failure_vs_rounds(rows, "sparse-recovery")
    finally:
        plt.Axes.step = original
    assert len(drawn) == plots.MAX_SERIES == 8


def test_write_reports_and_the_report_command(store_dir, tmp_path):
    paths = write_reports(store_dir / "results.sqlite", tmp_path / "out")
    assert set(paths) == {"markdown", "html"}
    assert paths["markdown"] == tmp_path / "out" / "leaderboard.md" and paths["html"].name == "report.html"
    assert paths["html"].read_text().count("data:image/png;base64,") == 2  # 2 failure families
    with pytest.raises(StoreError, match="no result store"):
        write_reports(tmp_path / "missing.sqlite", tmp_path / "out2")
    res = CliRunner().invoke(main, ["report", str(store_dir)])
    assert res.exit_code == 0, res.output
    assert "Separation matrix" in res.output and "games errored" in res.output
    assert "leaderboard.md" in res.output and "report.html" in res.output
    assert (store_dir / "leaderboard.md").is_file() and (store_dir / "report.html").is_file()
    missing = CliRunner().invoke(main, ["report", str(tmp_path / "nowhere")])
    assert missing.exit_code != 0 and "no result store at" in missing.output


def _chromium_shot(page, tmp_path, width, height):
    shot = tmp_path / f"shot-{width}x{height}.png"
    subprocess.run(["chromium", "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                    "--disable-background-networking", "--disable-component-update", "--disable-sync",
                    "--hide-scrollbars", f"--user-data-dir={tmp_path / 'profile'}", f"--screenshot={shot}",
                    f"--window-size={width},{height}", f"file://{page}"], capture_output=True, timeout=120, check=False)
    assert shot.is_file(), "chromium wrote no screenshot"
    return shot


def _pixels(shot):
    import matplotlib.image

    return (matplotlib.image.imread(shot)[..., :3] * 255).round().astype(int)


#: report.html of `wbstream arena --suite standard --trials 1` on main before the separation matrix (296 matchups),
#: measured as below: the lowest non-white pixel row of a 1400 x 60000 chromium screenshot.
HEIGHT_BEFORE = 29_417


@pytest.mark.skipif(shutil.which("chromium") is None, reason="chromium is not installed")
def test_chromium_renders_the_self_contained_report(store_dir, tmp_path):
    page = write_reports(store_dir / "results.sqlite", tmp_path / "rep")["html"]
    text = page.read_text()
    assert "http://" not in text and "https://" not in text
    data = _chromium_shot(page, tmp_path, 1200, 1600).read_bytes()
    assert data.startswith(PNG) and len(data) > 20_000 and len(set(data)) > 200


@pytest.mark.skipif(shutil.which("chromium") is None, reason="chromium is not installed")
def test_the_standard_suites_report_opens_on_the_matrix_and_is_a_quarter_of_the_old_height(tmp_path):
    """Rows of the shape of the standard suite (every matchup, one game each) rendered by chromium."""
    import numpy as np

    from wbstream.arena.matchups import suite

    rows = []
    for i, m in enumerate(suite("standard")):
        failed = m.threat == "white-box" and i % 3 != 0
        r = GameResult(m.problem, m.algorithm, m.adversary, m.threat, 0, failed=failed,
                       first_failure_round=1 + i % 40 if failed else None, rounds=50, updates=50,
                       stop_reason="round-budget", update_ns_median=100.0, space_state_bits=64, space_key_bits=32)
        rows.append(row(r, m.id))  # the sweep's games keep their sweep- ids, as the arena stores them
    out = tmp_path / "std"
    out.mkdir()
    with ResultStore(out / "results.sqlite") as store:
        for r in rows:
            f = {k: r[k] for k in ("matchup", "problem", "algorithm", "adversary", "threat", "seed", "status")}
            store.add(r["key"], **f, result=r["result"], error=None)
    page = write_reports(out / "results.sqlite", out)["html"]
    text = page.read_text()
    assert text.index("<h2") == text.index('<h2 id="matrix">')  # the matrix is the first section
    first = _pixels(_chromium_shot(page, tmp_path, 1400, 900))
    family_row = np.array([0xE8, 0xEE, 0xF6])  # the matrix's problem-family rows
    failed_cell = np.array([0xFD, 0xE8, 0xE8])
    assert (first == family_row).all(axis=2).sum() > 1000, "no matrix row on the first screen"
    assert (first == failed_cell).all(axis=2).sum() > 1000, "no matrix cell on the first screen"
    tall = _pixels(_chromium_shot(page, tmp_path, 1400, 8_000))  # taller than the bound: a longer page fills it
    content = np.flatnonzero((tall < 247).any(axis=(1, 2)))
    assert 1000 < content.max() + 1 <= HEIGHT_BEFORE / 4


def test_preset_plot_copes_with_all_failed_and_none_failed_groups():
    """Wilson bounds at 0 failures once rounded to +5.6e-17, a negative error bar that matplotlib refused."""

    from wbstream.arena.plots import attack_success_vs_preset
    from wbstream.engine.result import GameResult

    def row(failed, preset):
        r = GameResult("p", f"fjw24(preset='{preset}')", "lattice", "white-box", 0, failed=failed)
        return {"status": "ok", "result": r, "algorithm": r.algorithm, "adversary": "lattice",
                "threat": "white-box", "problem": "p"}

    rows = [row(True, "toy") for _ in range(7)] + [row(False, "moderate") for _ in range(3)]
    png, _ = attack_success_vs_preset(rows)
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 5000
