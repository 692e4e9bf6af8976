"""The leaderboard: one row per matchup, its measured failure rate beside the claimed guarantee.

A matchup is (algorithm spec, adversary spec, threat, problem spec). As RobustBench puts
the reported accuracy beside the AutoAttack one, each row puts the algorithm's *claimed*
guarantee beside the failure rate measured over its games, with a Wilson interval.
Games of the scaling sweep (:mod:`wbstream.arena.sweep`) measure cost, not robustness:
they are left out.

>>> from wbstream.engine.result import GameResult
>>> def row(seed, failed, threat="white-box", adversary="kernel-injection"):
...     r = GameResult("f2(n=8)", "ams(means=4)", adversary, threat, seed, failed=failed,
...                    first_failure_round=3 if failed else None, rounds=5, updates=5, stop_reason="round-budget")
...     return {"matchup": adversary, "problem": r.problem, "algorithm": r.algorithm, "adversary": adversary,
...             "threat": threat, "seed": seed, "status": "ok", "error": None, "result": r}
>>> rows = [row(s, s < 1) for s in range(4)] + [row(s, s < 3, "oblivious", "dense") for s in range(4)]
>>> [(r.adversary, r.failures, r.trials, r.median_rounds_to_failure) for r in leaderboard(rows)]
[('kernel-injection', 1, 4, 3.0), ('dense', 3, 4, 3.0)]
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from dataclasses import dataclass, field

from wbstream.engine.errors import WbstreamError
from wbstream.engine.stats import wilson_interval

from .rows import group_rows, result_of as _result, spec_name, verdict_rows

@dataclass
class LeaderRow:
    """One matchup of the leaderboard: measured failure rate next to the claimed guarantee."""

    algorithm: str
    adversary: str
    threat: str
    problem: str
    matchup: str
    trials: int
    failures: int
    failure_rate: float | None  # None when no game finished (only errors)
    failure_ci: tuple[float, float]
    median_rounds_to_failure: float | None
    state_bits: float | None
    key_bits: float | None
    update_ns_median: float | None
    errors: int
    guarantee: str
    stop_reasons: dict[str, int] = field(default_factory=dict)
    queries: int = 0  # answers judged over the finished games, and how many of them were wrong
    failed_queries: int = 0

    @property
    def label(self) -> str:
        return f"{self.algorithm} vs {self.adversary} ({self.threat}) on {self.problem}"



def _median(values) -> float | None:
    values = [v for v in values if v is not None]
    return float(statistics.median(values)) if values else None


def claimed_guarantee(algorithm_spec: str) -> str:
    """The registered algorithm's ``guarantee``, or "" if it is not registered."""
    from wbstream.engine.registry import algorithms

    try:
        return str(getattr(algorithms.get(spec_name(algorithm_spec)), "guarantee", "") or "")
    except (WbstreamError, ValueError):
        return ""


def leaderboard(rows) -> list[LeaderRow]:
    """One LeaderRow per matchup over the stored rows, sorted by algorithm then failure rate (most robust first)."""
    out = []
    guarantees: dict[str, str] = {}
    for (algorithm, adversary, threat, problem), group in group_rows(verdict_rows(rows)).items():
        ok = [_result(r) for r in group if r.get("status", "ok") == "ok" and _result(r) is not None]
        errors = sum(1 for r in group if r.get("status") in ("error", "timeout"))
        failures = sum(1 for r in ok if r.failed)
        if algorithm not in guarantees:
            guarantees[algorithm] = claimed_guarantee(algorithm)
        stops: dict[str, int] = defaultdict(int)
        for r in ok:
            stops[r.stop_reason] += 1
        out.append(LeaderRow(
            algorithm=algorithm, adversary=adversary, threat=threat, problem=problem,
            matchup=str(group[0].get("matchup") or ""), trials=len(ok), failures=failures,
            failure_rate=failures / len(ok) if ok else None, failure_ci=wilson_interval(failures, len(ok)),
            median_rounds_to_failure=_median([r.first_failure_round for r in ok if r.failed]),
            state_bits=_median([r.space_state_bits for r in ok]), key_bits=_median([r.space_key_bits for r in ok]),
            update_ns_median=_median([r.update_ns_median for r in ok]), errors=errors,
            guarantee=guarantees[algorithm], stop_reasons=dict(stops),
            queries=sum(r.queries for r in ok), failed_queries=sum(r.failed_queries for r in ok)))
    out.sort(key=lambda r: (r.algorithm, r.failure_rate is None, -1 if r.failure_rate is None else r.failure_rate,
                            r.adversary, r.threat, r.problem))
    return out

