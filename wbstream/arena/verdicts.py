"""The separation matrix: who survives which threat level, against each algorithm's own claim.

One row per (algorithm, problem), grouped by problem family; one column per threat
level (oblivious < adaptive < state-only < white-box). A cell holds the worst failure
rate any adversary reached at that level, with its Wilson 95% interval and the
adversary that reached it. A game played at a weaker level counts at every stronger
one (an adversary that may see more need not look), so an oblivious adversary, played
once, shows under every column.

An algorithm whose guarantee is per query (``StreamingAlgorithm.per_query``: each answer right
with probability ``1 - delta``, as AMS's median of means gives) is judged on the rate of failed
queries instead: its cells count answers (``failures/trials`` are queries). A game asks hundreds
of answers, so judging such a guarantee by failed games would charge it for a union bound it never
claimed.

The verdict compares the cells up to the claimed level (``StreamingAlgorithm.claims``)
with the claim. A failure is *significant* when the Wilson interval's lower end is
above ``delta`` (default 5%: "w.h.p." claims allow rare failures). A significant
failure at or below the claimed level breaks the claim, unless the instance's
cryptographic parameters are estimated below ``threshold_bits`` (default 64), or were
played outside what the proof covers (``allow_unproven=True``): then it is expected, and
the verdict says which preset and how many bits.

Within a problem family, rows rank as RobustBench ranks models: highest level survived,
then fewer bits of space, then less time per update.

>>> from wbstream.arena.report import leaderboard
>>> from wbstream.engine.result import GameResult
>>> def row(adversary, threat, seed, failed, algorithm="countsketch(rows=5, cols=16)"):
...     r = GameResult("sparse-recovery(n=512, k=2, M=1024)", algorithm, adversary, threat, seed, failed=failed)
...     return {"algorithm": algorithm, "adversary": adversary, "threat": threat, "problem": r.problem,
...             "status": "ok", "result": r}
>>> rows = [row("random-sparse", "oblivious", s, False) for s in range(5)]
>>> rows += [row("kernel-injection", "white-box", s, True) for s in range(5)]
>>> [v] = separation_matrix(leaderboard(rows))
>>> v.verdict, v.survived, v.cells["white-box"].adversary, v.cells["adaptive"].adversary
('claim holds', 'state-only', 'kernel-injection', 'random-sparse')
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass

from wbstream.engine.algorithm import SecurityEstimate
from wbstream.engine.errors import WbstreamError
from wbstream.engine.registry import algorithms, parse_spec, problems
from wbstream.engine.stats import wilson_interval
from wbstream.engine.threat import ThreatModel

from wbstream.algorithms.guarantee import claims_waived

from .rows import spec_name

#: The threat levels, weakest first: the matrix's columns.
LEVELS = tuple(t.name for t in ThreatModel.levels())
#: Cryptographic parameters estimated below this many bits are "toy": their failures are expected.
THRESHOLD_BITS = 64.0
#: Failure probability a "w.h.p." claim may show before a failure counts against it.
DELTA = 0.05


@dataclass(frozen=True)
class Cell:
    """The worst result at one threat level: rate, Wilson interval, and who got it (at which level it played)."""

    failures: int
    trials: int
    rate: float
    ci: tuple[float, float]
    adversary: str
    played_at: str

    def significant(self, delta: float = DELTA) -> bool:
        return self.ci[0] > delta


@dataclass
class Verdict:
    """One row of the separation matrix."""

    family: str
    problem: str
    algorithm: str
    claims: str | None
    security: SecurityEstimate | None
    cells: dict[str, Cell | None]
    verdict: str
    broken: bool
    survived: str | None  # the highest level with no significant failure at or below it
    space_bits: float | None
    update_ns: float | None

    @property
    def name(self) -> str:
        """The algorithm spec, with its preset and bits when it has cryptographic parameters."""
        return self.algorithm + (f" [{self.security.label}]" if self.security else "")


def claimed_level(algorithm_spec: str) -> str | None:
    """The registered algorithm's ``claims`` level name, or None (no claim, not registered, or a spec
    played with ``allow_outside_guarantee=True``).

    >>> claimed_level("countsketch(rows=5)"), claimed_level("fjw24"), claimed_level("vandermonde")
    ('oblivious', 'white-box', None)
    >>> claimed_level("switching-f2(copies=3, allow_outside_guarantee=True)") is None
    True
    """
    try:
        spec = parse_spec(algorithm_spec)
        claims = getattr(algorithms.get(spec.name), "claims", None)
    except (WbstreamError, ValueError):
        return None
    if claims_waived(spec.options):
        return None
    return None if claims is None else claims.name


def security_of(algorithm_spec: str, problem_spec: str) -> SecurityEstimate | None:
    """The security estimate of the instance an (algorithm, problem) spec pair builds, without building keys.

    >>> security_of("fw23(preset='moderate')", "sparse-recovery(n=512, k=2, M=1024)").bits >= 64
    True
    >>> security_of("countsketch", "sparse-recovery(n=512, k=2, M=1024)") is None
    True
    """
    try:
        alg = parse_spec(algorithm_spec)
        cls = algorithms.get(alg.name)
        prob = parse_spec(problem_spec)
        params = problems.get(prob.name)(**prob.options).params
        return cls.security_for(params, **alg.options)
    except (WbstreamError, ValueError, TypeError):
        return None


def per_query_claim(algorithm_spec: str) -> bool:
    """Whether the registered algorithm's guarantee is per query (``StreamingAlgorithm.per_query``).

    >>> per_query_claim("ams(means=8)"), per_query_claim("countsketch")
    (True, False)
    """
    try:
        return bool(getattr(algorithms.get(spec_name(algorithm_spec)), "per_query", False))
    except (WbstreamError, ValueError):
        return False


def _cell(board_rows, level: str, per_query: bool = False) -> Cell | None:
    """The worst matchup at ``level``: by failed games, or (``per_query``) by failed queries, so a
    guarantee of ``delta`` per answer is not charged for the hundreds of answers a game asks."""
    rank = LEVELS.index(level)
    best = None
    for lr in board_rows:
        if lr.threat not in LEVELS or LEVELS.index(lr.threat) > rank or not lr.trials:
            continue
        if per_query and lr.queries:
            failures, trials = lr.failed_queries, lr.queries
            rate, ci = failures / trials, wilson_interval(failures, trials)
        else:
            failures, trials, rate, ci = lr.failures, lr.trials, lr.failure_rate, lr.failure_ci
        key = (rate, ci[0], failures)
        if best is None or key > best[0]:
            best = (key, Cell(failures, trials, rate, ci, lr.adversary, lr.threat))
    return None if best is None else best[1]


def _median(values):
    values = [v for v in values if v is not None]
    return float(statistics.median(values)) if values else None


def judge(cells: dict[str, Cell | None], claims: str | None, security: SecurityEstimate | None, *,
          threshold_bits: float = THRESHOLD_BITS, delta: float = DELTA) -> tuple[str, bool]:
    """The verdict text and whether the claim is broken.

    >>> bad = Cell(5, 5, 1.0, (0.57, 1.0), "lattice", "white-box")
    >>> judge({"white-box": bad}, "white-box", SecurityEstimate("toy", 0.0))
    ('below claimed security (toy, λ ≈ 0 bits)', False)
    >>> judge({"white-box": bad}, "white-box", SecurityEstimate("high", 130.0))
    ('claim broken', True)
    >>> judge({"white-box": bad}, "white-box", SecurityEstimate("sec64", 65.0, "2*M*B_g^t* + Y*B_eval < q/2 fails"))[0]
    'below claimed security (sec64, λ ≈ 65 bits, unproven: 2*M*B_g^t* + Y*B_eval < q/2 fails)'
    >>> judge({"oblivious": None, "white-box": bad}, "oblivious", None)
    ('not tested at the claimed level', False)
    """
    if claims is None:
        return "no claim", False
    upto = [cells.get(level) for level in LEVELS[: LEVELS.index(claims) + 1]]
    if all(c is None for c in upto):
        return "not tested at the claimed level", False
    if any(c is not None and c.significant(delta) for c in upto):
        if security is not None and (security.bits < threshold_bits or security.unproven):
            return f"below claimed security ({security.label})", False
        return "claim broken", True
    return "claim holds", False


def separation_matrix(board, *, threshold_bits: float = THRESHOLD_BITS, delta: float = DELTA) -> list[Verdict]:
    """The matrix rows over a leaderboard (:func:`wbstream.arena.report.leaderboard`), ranked within each family."""
    groups: dict[tuple[str, str], list] = {}
    for lr in board:
        groups.setdefault((lr.algorithm, lr.problem), []).append(lr)
    out = []
    for (algorithm, problem), lrs in groups.items():
        per_query = per_query_claim(algorithm)
        cells = {level: _cell(lrs, level, per_query) for level in LEVELS}
        claims = claimed_level(algorithm)
        security = security_of(algorithm, problem)
        verdict, broken = judge(cells, claims, security, threshold_bits=threshold_bits, delta=delta)
        survived = None
        for level in LEVELS:
            c = cells[level]
            if c is None:
                continue
            if c.significant(delta):
                break
            survived = level
        space = _median([None if lr.state_bits is None else lr.state_bits + (lr.key_bits or 0) for lr in lrs])
        out.append(Verdict(spec_name(problem), problem, algorithm, claims, security, cells, verdict, broken,
                           survived, space, _median([lr.update_ns_median for lr in lrs])))
    inf = float("inf")
    out.sort(key=lambda v: (v.family, -(LEVELS.index(v.survived) if v.survived else -1),
                            inf if v.space_bits is None else v.space_bits,
                            inf if v.update_ns is None else v.update_ns, v.algorithm, v.problem))
    return out


def top_failures(board, limit: int = 10) -> list:
    """The matchups with the highest failure rates (ties: more trials first), at most ``limit``."""
    failing = [lr for lr in board if lr.failure_rate]
    failing.sort(key=lambda lr: (-lr.failure_rate, -lr.trials, lr.algorithm, lr.adversary, lr.threat))
    return failing[:limit]
