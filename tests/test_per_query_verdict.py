"""A per-query guarantee (ams: each answer right with probability 1 - delta) is judged on the rate of
failed queries, not of failed games: a game of 500 answers would otherwise charge it a union bound."""

from __future__ import annotations

from wbstream.arena.report import leaderboard
from wbstream.arena.verdicts import per_query_claim, separation_matrix
from wbstream.engine.result import GameResult

PROBLEM = "f2(n=2048, M=1024, eps=0.5)"


def _rows(algorithm, failed_queries, queries=1000, games=5):
    out = []
    for seed in range(games):
        r = GameResult(PROBLEM, algorithm, "gaussian-queries", "oblivious", seed, failed=failed_queries > 0,
                       failed_queries=failed_queries, queries=queries)
        out.append({"algorithm": algorithm, "adversary": r.adversary, "threat": r.threat, "problem": PROBLEM,
                    "status": "ok", "result": r})
    return out


def test_every_game_failing_on_rare_queries_keeps_a_per_query_claim():
    [v] = separation_matrix(leaderboard(_rows("ams", failed_queries=3)))
    cell = v.cells["oblivious"]
    assert (cell.failures, cell.trials) == (15, 5000) and v.verdict == "claim holds" and not v.broken


def test_a_per_query_rate_above_delta_breaks_it():
    [v] = separation_matrix(leaderboard(_rows("ams", failed_queries=200)))
    assert v.broken and v.verdict == "claim broken"


def test_a_per_stream_claim_is_still_judged_by_games():
    assert not per_query_claim("countsketch-l2") and per_query_claim("ams(medians=3)")
    [v] = separation_matrix(leaderboard(_rows("countsketch-l2", failed_queries=3)))
    assert v.cells["oblivious"].trials == 5 and v.broken
