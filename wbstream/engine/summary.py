"""Summaries over the trials of one matchup: failure rate, its Wilson interval, costs.

>>> from wbstream.engine.result import GameResult
>>> rs = [GameResult("p", "a", "b", "white-box", s, failed=s < 3, first_failure_round=2 if s < 3 else None,
...                  update_ns_median=100.0 + s, space_state_bits=64, space_key_bits=32) for s in range(10)]
>>> s = summarize(rs)
>>> s.failures, s.trials, s.median_rounds_to_failure, round(s.failure_ci[0], 3)
(3, 10, 2.0, 0.108)
"""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict, dataclass, field

import numpy as np

from .result import GameResult
from .stats import wilson_interval


@dataclass
class TrialSummary:
    """What ``wbstream play`` prints, as one record (see :func:`summarize` for an example)."""

    problem: str
    algorithm: str
    adversary: str
    threat: str
    trials: int
    failures: int
    failure_rate: float
    failure_ci: tuple[float, float]
    median_rounds_to_failure: float | None
    space_state_bits: int
    space_key_bits: int
    update_ns_median: float | None
    query_ns_median: float | None
    failure_kinds: dict[str, int] = field(default_factory=dict)
    stop_reasons: dict[str, int] = field(default_factory=dict)
    seeds: list[int] = field(default_factory=list)
    final_details: list[str | None] = field(default_factory=list)  # the referee on each game's last answer
    extra: dict[str, object] = field(default_factory=dict)  # further named figures (e.g. distributed bits)

    def to_dict(self) -> dict:
        d = asdict(self)
        d["failure_ci"] = list(self.failure_ci)
        return d


def _median(values) -> float | None:
    values = [v for v in values if v is not None]
    return float(np.median(values)) if values else None


def summarize(results: list[GameResult]) -> TrialSummary:
    """Aggregate the games of one matchup (same specs and threat)."""
    if not results:
        raise ValueError("no results to summarize")
    first = results[0]
    failures = sum(r.failed for r in results)
    return TrialSummary(
        problem=first.problem, algorithm=first.algorithm, adversary=first.adversary, threat=first.threat,
        trials=len(results), failures=failures, failure_rate=failures / len(results),
        failure_ci=wilson_interval(failures, len(results)),
        median_rounds_to_failure=_median([r.first_failure_round for r in results if r.failed]),
        space_state_bits=int(np.median([r.space_state_bits for r in results])),
        space_key_bits=int(np.median([r.space_key_bits for r in results])),
        update_ns_median=_median([r.update_ns_median for r in results]),
        query_ns_median=_median([r.query_ns_median for r in results]),
        failure_kinds=dict(Counter(r.failure_kind for r in results if r.failed)),
        stop_reasons=dict(Counter(r.stop_reason for r in results)),
        seeds=[r.seed for r in results],
        final_details=[r.final_detail for r in results],
    )
