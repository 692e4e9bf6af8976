"""The scaling sweep: real games of the standard suite, drawn as update time against k and space against n."""

import hashlib
import json
import os
import re
import subprocess
import sys
from dataclasses import asdict

import pytest

from wbstream.arena import plots
from wbstream.arena.arena import run_arena
from wbstream.arena.executors import SerialExecutor
from wbstream.arena.matchups import Matchup, SuiteError, load_toml, suite
from wbstream.arena.report import flags, leaderboard, write_reports
from wbstream.arena.rows import sweep_option
from wbstream.arena.store import ResultStore
from wbstream.arena.sweep import SWEEP_ROUNDS, SWEEPS, Sweep, sweep_matchups
from wbstream.arena.verdicts import separation_matrix
from wbstream.engine.registry import algorithms, adversaries, parse_spec, problems
from wbstream.engine.result import GameResult

SECRET = bytes(range(32))
#: A sweep small enough for a test: two algorithms, two k, two n.
SMALL = (Sweep("sparse-recovery", "k", (2, 8), "sparse-recovery(n=256, k=2, M=1024)", {"n": 256}),
         Sweep("sparse-recovery", "n", (256, 4096), "sparse-recovery(n=256, k=2, M=1024)", {"k": 2}))
JUDGED = Matchup("sparse-recovery(n=256, k=2, M=1024)", "countsketch(rows=5, cols=16)", "kernel-injection", "white-box")
TIME_CAPTION = "time per update against k"
SPACE_CAPTION = "bits kept against n"


def store_rows(d):
    with ResultStore(d / "results.sqlite") as store:
        return store.rows()


@pytest.fixture(scope="module")
def sweep_store(tmp_path_factory):
    d = tmp_path_factory.mktemp("sweep")
    small = [m for m in sweep_matchups(SMALL) if m.algorithm in ("countsketch", "vandermonde")]
    run = run_arena(small + [JUDGED], trials=2, seed=0, out_dir=d, executor=SerialExecutor(), secret=SECRET)
    assert run.errors == 0 and run.played == 2 * (len(small) + 1)
    return d


def test_a_report_with_sweep_games_shows_both_plots_with_their_captions(sweep_store, tmp_path):
    paths = write_reports(sweep_store / "results.sqlite", tmp_path)
    page = paths["html"].read_text()
    figures = re.findall(r'<figure><img alt="([^"]*)" src="data:image/png;base64,[A-Za-z0-9+/=]+">'
                         r"<figcaption>([^<]*)</figcaption></figure>", page)
    captions = [c for _, c in figures]
    assert sum(TIME_CAPTION in c for c in captions) == 1 and sum(SPACE_CAPTION in c for c in captions) == 1
    assert all(c.startswith("sparse-recovery: ") for c in captions if "against" in c)
    # the sweep's games are measured, not judged: only the judged matchup reaches the tables and the matrix
    rows = store_rows(sweep_store)
    assert {sweep_option(r) for r in rows} == {None, "k", "n"}
    board = leaderboard(rows)
    assert [(lr.algorithm, lr.adversary) for lr in board] == [(JUDGED.algorithm, JUDGED.adversary)]
    assert [v.algorithm for v in separation_matrix(board)] == [JUDGED.algorithm]
    assert not any("dense" in f.message for f in flags(rows))
    assert "dense" not in paths["markdown"].read_text()


def test_the_plots_are_drawn_from_the_games_measurements(sweep_store):
    rows = store_rows(sweep_store)
    series = plots._sweep_series(rows, "k", lambda r: r.update_ns_median)["sparse-recovery"]
    assert set(series) == {"countsketch", "vandermonde"} and set(series["vandermonde"]) == {2, 8}
    stored = sorted(r["result"].update_ns_median for r in rows
                    if r["algorithm"] == "vandermonde" and sweep_option(r) == "k" and "k=8" in r["problem"])
    assert sorted(series["vandermonde"][8]) == stored and len(stored) == 2
    space = plots._sweep_series(rows, "n", lambda r: r.space_state_bits + r.space_key_bits)["sparse-recovery"]
    # vandermonde keeps 2k syndromes whatever n is; countsketch's hash keys grow with log n
    assert len(set(space["vandermonde"][256] + space["vandermonde"][4096])) == 1
    assert max(space["countsketch"][4096]) > max(space["countsketch"][256])


def test_without_sweep_games_there_is_no_plot_and_no_placeholder(sweep_store, tmp_path):
    judged = [r for r in store_rows(sweep_store) if sweep_option(r) is None]
    assert plots.update_time_vs_k(judged) == {} and plots.space_vs_n(judged) == {}
    bare = tmp_path / "bare"
    with ResultStore(bare / "results.sqlite") as store:
        for r in judged:
            f = {k: r[k] for k in ("matchup", "problem", "algorithm", "adversary", "threat", "seed", "status")}
            store.add(r["key"], **f, result=r["result"], error=r["error"])
    page = write_reports(bare / "results.sqlite", bare)["html"].read_text().lower()
    for text in (TIME_CAPTION, SPACE_CAPTION, "against k", "against n", "placeholder", "no data", "not enough"):
        assert text not in page
    # one point per algorithm is no line either
    one_k = [r for r in store_rows(sweep_store) if sweep_option(r) == "k" and "k=2," in r["problem"]]
    assert one_k and plots.update_time_vs_k(one_k) == {}


def _fake(algorithm, k, ns):
    r = GameResult(f"sparse-recovery(n=256, k={k}, M=1024)", algorithm, "dense", "oblivious", 0,
                   update_ns_median=ns, space_state_bits=64, space_key_bits=0)
    return {"matchup": f"sweep-k-{algorithm}{k}", "problem": r.problem, "algorithm": algorithm, "adversary": "dense",
            "threat": "oblivious", "status": "ok", "result": r}


def test_at_most_eight_series_and_the_caption_says_how_many_more():
    rows = [_fake(f"alg{i}", k, 100.0 * (i + 1)) for i in range(10) for k in (2, 4)]
    import matplotlib.pyplot as plt

    drawn = []
    original = plt.Axes.plot
    try:
        plt.Axes.plot = lambda self, *a, **k: drawn.append(k.get("label")) or original(self, *a, **k)
        figs = plots.update_time_vs_k(rows)
    finally:
        plt.Axes.plot = original
    png, caption = figs["sparse-recovery"]
    assert len(drawn) == plots.MAX_SERIES == 8 and "(2 more algorithms not drawn)" in caption
    assert "\n" not in caption and png.startswith(b"\x89PNG")


def test_the_standard_suite_holds_the_sweep_and_the_other_suites_do_not():
    standard = suite("standard")
    swept = [m for m in standard if m.sweep]
    assert {m.sweep for m in swept} == {"k", "n"} and not any(m.sweep for m in suite("quick"))
    assert len({m.id for m in standard}) == len(standard)
    assert len(sweep_matchups()) == len(swept)
    for s in SWEEPS:
        ms = [m for m in swept if m.sweep == s.option and problems.canonical(m.problem).startswith(s.family)]
        by_alg: dict[str, list] = {}
        for m in ms:
            by_alg.setdefault(m.algorithm, []).append(parse_spec(m.problem).options)
        assert len(by_alg) >= 2, f"the {s.option} sweep of {s.family} has fewer than two algorithms"
        for name, options in by_alg.items():
            assert sorted(o[s.option] for o in options) == sorted(s.values), name
            # only the swept option changes within an algorithm's line
            rest = {json.dumps({k: v for k, v in o.items() if k != s.option}, sort_keys=True) for o in options}
            assert len(rest) == 1, name
        assert all(adversaries.get(parse_spec(m.adversary).name).needs.name == "oblivious" for m in ms)
        assert all(m.query_every == SWEEP_ROUNDS for m in ms)
    # exact answers every problem: it joins both families' sweeps
    assert {problems.canonical(m.problem).split("(")[0] for m in swept if m.algorithm == "exact"} == {
        "sparse-recovery", "distinct-elements"}
    assert all(algorithms.resolve(m.algorithm) for m in swept)
    # the sweep plays what the arena plays (robust-l0 at toy, not its multi-GiB default key)
    assert all(m.algorithm == algorithms.get(parse_spec(m.algorithm).name).arena_spec() for m in swept)
    assert "robust-l0(preset='toy')" in {m.algorithm for m in swept}


def test_a_judged_matchups_id_is_as_it_was_before_the_sweep_and_max_trials_fields():
    m = Matchup("sparse-recovery(n=256, k=2, M=1024)", "countsketch", "dense", "oblivious")
    fields = asdict(m)
    for name in ("secret", "isolation", "sweep", "max_trials"):
        del fields[name]
    fields["problem"] = problems.canonical(m.problem)
    fields["algorithm"] = algorithms.canonical(m.algorithm)
    fields["adversary"] = adversaries.canonical(m.adversary)
    assert m.id == hashlib.sha256(json.dumps(fields, sort_keys=True).encode()).hexdigest()[:16]
    assert m.id == "3e3bf26da93d5f03"  # as stored by earlier runs: new fields must not move old games' ids
    swept = Matchup(m.problem, m.algorithm, m.adversary, m.threat, sweep="k")
    assert swept.id == f"sweep-k-{m.id}"


def test_a_suite_file_can_sweep_and_a_bad_sweep_is_one_line(tmp_path):
    good = tmp_path / "good.toml"
    good.write_text('[[matchup]]\nproblem = "sparse-recovery(n=256, k=4, M=1024)"\nalgorithm = "countsketch"\n'
                    'adversary = "dense(rounds=2)"\nthreat = "oblivious"\nsweep = "k"\n')
    [m], _ = load_toml(good)
    assert m.sweep == "k" and m.id.startswith("sweep-k-")
    for value in ("3", '"not an option"', "true"):
        bad = tmp_path / "bad.toml"
        bad.write_text(good.read_text().replace('sweep = "k"', f"sweep = {value}"))
        with pytest.raises(SuiteError, match=r"matchup 1: sweep must name the problem option it varies") as exc:
            load_toml(bad)
        assert "\n" not in str(exc.value)


def test_the_report_points_to_the_sweep_figures_at_80_columns_and_piped(sweep_store):
    env = {**os.environ, "COLUMNS": "80"}
    env.pop("FORCE_COLOR", None)
    cmd = [sys.executable, "-m", "wbstream.cli", "report", str(sweep_store)]
    games = sum(1 for r in store_rows(sweep_store) if sweep_option(r))
    line = (f"scaling sweep: {games} games measured, not judged; update time against k and space against n are "
            f"plotted in report.html")
    piped = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300)
    assert piped.returncode == 0, piped.stderr
    assert line in piped.stdout.splitlines()  # one line, whole: piped output is not wrapped
    term = subprocess.run(cmd, env={**env, "FORCE_COLOR": "1"}, capture_output=True, text=True, timeout=300)
    assert term.returncode == 0, term.stderr
    text = re.sub(r"\x1b\[[0-9;]*m", "", term.stdout)
    assert max(len(t) for t in text.splitlines()) <= 80
    assert " ".join(text.split()).count(line) == 1  # wrapped at word boundaries, nothing cut
