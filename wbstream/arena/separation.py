"""The field's central separation as data: per problem, one algorithm of each robustness class.

For each problem (F2, distinct elements, heavy hitters, sparse recovery) the table
:data:`SEPARATION` names an *oblivious-only* algorithm, an *adaptive-robust* one
(or ``None``: none is built) and a *white-box-robust* one, each with the games it
plays: the strongest adversary the package has at each threat level that applies to
it. The expected pattern [BJWY20, HKMMS20, CLNSSS22]: oblivious-only fails at
adaptive; adaptive-robust holds at adaptive and fails at white-box; white-box-robust
holds at every level. :func:`separation_rows` reads the stored games back into that
matrix and says, cell by cell, where the measurement differs from the pattern.

A cell counts games (failed/played, Wilson 95% interval), and, as in the arena's
separation matrix, a game played at a weaker level counts at every stronger one (an
adversary that may see more need not look). Rounds are sized per game so the suite
runs in a couple of minutes: the games' own rounds are listed with them. A game the standard suite
already plays keeps the standard suite's rounds (``random-sparse`` stops by itself after 20), so
both suites share its id and its stored games.

>>> len({e.family for e in SEPARATION}), len(SEPARATION)
(4, 12)
>>> [e.role for e in SEPARATION if e.algorithm is None]
['adaptive-robust']
>>> ms = separation_matchups()
>>> len({m.id for m in ms}) == len(ms)
True
>>> expected("adaptive-robust")
{'oblivious': False, 'adaptive': False, 'white-box': True}
"""

from __future__ import annotations

from dataclasses import dataclass, field

from wbstream.engine.stats import wilson_interval

from .matchups import Matchup
from .rows import ok_results
from .verdicts import DELTA, Cell, security_of

#: The matrix's columns: the three rungs of the ladder (state-only sits between adaptive and white-box).
LEVELS = ("oblivious", "adaptive", "white-box")
ROLES = ("oblivious-only", "adaptive-robust", "white-box-robust")
FAMILIES = ("F2", "distinct elements", "heavy hitters", "sparse recovery")
#: The weakest level at which each role is expected to fail (None: it holds everywhere).
FAILS_FROM = {"oblivious-only": "adaptive", "adaptive-robust": "white-box", "white-box-robust": None}
_RANK = {"oblivious": 0, "adaptive": 1, "state-only": 2, "white-box": 3}


def expected(role: str) -> dict[str, bool]:
    """Whether the pattern expects ``role`` to fail at each level."""
    first = FAILS_FROM[role]
    return {level: first is not None and _RANK[level] >= _RANK[first] for level in LEVELS}


@dataclass(frozen=True)
class Entry:
    """One algorithm of the separation: its problem family, its role, and the games it plays."""

    family: str
    role: str
    algorithm: str | None  # None: no algorithm of this role is built for the problem
    games: tuple[Matchup, ...] = ()
    #: What the reader must know beside the numbers (space, why a level has no attack of its own).
    note: str = ""
    #: Problem and algorithm spec of the instance whose security estimate is shown (its first game's).
    security: tuple[str, str] | None = field(default=None)


def _g(problem: str, algorithm: str, adversary: str, threat: str, rounds: int) -> Matchup:
    return Matchup(problem, algorithm, adversary, threat, rounds=rounds)


F2_SMALL = "f2(n=32, M=1024, alpha=8)"
F2_WIDE = "f2(n=4096, M=16, alpha=4)"
AMS = "ams(means=8, medians=3)"
#: hardt-woodruff-2013 spends one copy per insert-then-delete query: 1,501 copies cover 3,000 rounds.
SWITCHING_ADAPTIVE = "switching-f2(copies=1501, means=8, medians=3)"
SWITCHING_WIDE = "switching-f2(copies=8)"
F0 = "distinct-elements(n=100000, M=1024, eps=0.2, insertion_only=True)"
F0_SWITCH = "distinct-elements(n=65536, M=1024, alpha=2, insertion_only=True)"
L0 = "distinct-elements(n=1024, M=1048576, alpha=32)"
HH2 = "l2-heavy-hitters(n=1024, M=1048576, eps=0.5)"
HH2_WIDE = "l2-heavy-hitters(n=16384, M=1048576, eps=0.5)"
HH1 = "heavy-hitters(n=20000, M=1048576, eps=0.05)"
CSL2 = "countsketch-l2"
SR = "sparse-recovery(n=512, k=2, M=1024)"
SR_WIDE = "sparse-recovery(n=1024, k=2, M=1048576)"

SEPARATION: tuple[Entry, ...] = (
    Entry("F2", "oblivious-only", AMS, (
        _g(F2_SMALL, AMS, "gaussian-queries", "oblivious", 1000),
        _g(F2_SMALL, AMS, "hardt-woodruff-2013", "adaptive", 10_000),
        _g(F2_SMALL, AMS, "kernel-injection", "white-box", 10))),
    Entry("F2", "adaptive-robust", "switching-f2", (
        _g(F2_WIDE, SWITCHING_WIDE, "dense", "oblivious", 8),
        _g(F2_SMALL, SWITCHING_ADAPTIVE, "hardt-woodruff-2013", "adaptive", 3000),
        _g(F2_WIDE, SWITCHING_WIDE, "copy-cancellation", "white-box", 10)),
        note="adaptive games: 3,000 rounds (1,501 copies, one per query)"),
    Entry("F2", "white-box-robust", "exact", (
        _g(F2_SMALL, "exact", "gaussian-queries", "oblivious", 1000),
        _g(F2_SMALL, "exact", "hardt-woodruff-2013", "adaptive", 3000)),
        note="linear space (keeps x); no white-box attack applies"),
    Entry("distinct elements", "oblivious-only", "hll", (
        _g(F0, "hll", "random-sparse", "oblivious", 10_000),
        _g(F0, "hll", "paterson-raynal-2022", "white-box", 10_000)),
        note="no adaptive attack on distinct elements is built"),
    Entry("distinct elements", "adaptive-robust", "switching-f0", (
        _g(F0_SWITCH, "switching-f0", "random-sparse", "oblivious", 10_000),
        _g(F0_SWITCH, "switching-f0", "hash-search", "white-box", 10_000)),
        note="no adaptive attack on distinct elements is built"),
    Entry("distinct elements", "white-box-robust", "robust-l0(preset='toy')", (
        _g(L0, "robust-l0(preset='toy')", "random-sparse", "oblivious", 10_000),
        _g(L0, "robust-l0(preset='toy')", "lattice", "white-box", 10_000),
        _g(L0, "robust-l0(preset='toy')", "wrap-around", "white-box", 10_000)),
        note="no adaptive attack on distinct elements is built"),
    Entry("heavy hitters", "oblivious-only", CSL2, (
        _g(HH2, CSL2, "dense", "oblivious", 10_000),
        _g(HH2, CSL2, "cohen-2022", "adaptive", 10_000)),
        note="l2 heavy hitters; no white-box attack of its own applies"),
    Entry("heavy hitters", "adaptive-robust", "bucket-countsketch", (
        _g(HH2_WIDE, "bucket-countsketch", "dense", "oblivious", 10),
        _g(HH2_WIDE, "bucket-countsketch", "cohen-2022", "adaptive", 10),
        _g(HH2_WIDE, "bucket-countsketch", "alignment-injection", "white-box", 10)),
        note="l2 heavy hitters; 10 rounds, the queries its guarantee covers"),
    Entry("heavy hitters", "white-box-robust", "robust-sampler", (
        _g(HH1, "robust-sampler", "zipf", "oblivious", 10_000),
        _g(HH1, "robust-sampler", "counter-starver", "white-box", 10_000)),
        note="l1 heavy hitters (insertion-only): no adaptive attack applies"),
    Entry("sparse recovery", "oblivious-only", "countsketch", (
        _g(SR, "countsketch", "random-sparse", "oblivious", 10_000),
        _g(SR, "countsketch", "kernel-injection", "white-box", 10_000)),
        note="no adaptive attack on sparse recovery is built"),
    Entry("sparse recovery", "adaptive-robust", None, note="none built"),
    Entry("sparse recovery", "white-box-robust", "fjw24", (
        _g(SR_WIDE, "fjw24", "random-sparse", "oblivious", 10_000),
        _g(SR_WIDE, "fjw24", "lattice", "white-box", 10_000),
        _g(SR_WIDE, "fjw24", "wrap-around", "white-box", 10_000)),
        note="no adaptive attack on sparse recovery is built"),
)


def separation_matchups() -> list[Matchup]:
    """Every game of the separation, once each."""
    seen: dict[str, Matchup] = {}
    for e in SEPARATION:
        for m in e.games:
            seen.setdefault(m.id, m)
    return list(seen.values())


@dataclass
class Row:
    """One measured row: cells per level, the pattern check, and the security estimate of a cryptographic instance."""

    entry: Entry
    cells: dict[str, Cell | None]
    pattern: str
    matches: bool
    security: str | None

    @property
    def name(self) -> str:
        if self.entry.algorithm is None:
            return "none built"
        return self.entry.algorithm + (f" [{self.security}]" if self.security else "")


def tally(store_rows) -> dict[str, tuple[int, int]]:
    """(failed, played) games per matchup id, over the finished games of the store's rows."""
    out: dict[str, list[int]] = {}
    for row in store_rows:
        if row.get("status", "ok") != "ok":
            continue
        [r] = ok_results([row]) or [None]
        if r is None:
            continue
        t = out.setdefault(str(row.get("matchup")), [0, 0])
        t[0] += bool(r.failed)
        t[1] += 1
    return {k: (f, n) for k, (f, n) in out.items()}


def _cell(entry: Entry, level: str, counts: dict[str, tuple[int, int]]) -> Cell | None:
    """The worst game of ``entry`` at ``level`` or any weaker level (rate, then the interval's lower end)."""
    best = None
    for m in entry.games:
        if _RANK[m.threat] > _RANK[level] or not counts.get(m.id, (0, 0))[1]:
            continue
        failures, trials = counts[m.id]
        ci = wilson_interval(failures, trials)
        key = (failures / trials, ci[0], failures)
        if best is None or key > best[0]:
            best = (key, Cell(failures, trials, failures / trials, ci, m.adversary, m.threat))
    return None if best is None else best[1]


def check(role: str, cells: dict[str, Cell | None], delta: float = DELTA) -> tuple[str, bool]:
    """The pattern text and whether every played cell follows the pattern.

    A cell *fails* when its Wilson interval's lower end is above ``delta``.

    >>> bad = Cell(3, 3, 1.0, (0.44, 1.0), "hash-search", "white-box")
    >>> ok = Cell(0, 3, 0.0, (0.0, 0.56), "dense", "oblivious")
    >>> check("adaptive-robust", {"oblivious": ok, "adaptive": ok, "white-box": bad})
    ('as expected', True)
    >>> check("oblivious-only", {"oblivious": ok, "adaptive": ok, "white-box": bad})
    ('differs: expected a failure at adaptive, 0/3 measured', False)
    >>> check("white-box-robust", {"oblivious": ok, "adaptive": ok, "white-box": bad})
    ('differs: expected it to hold at white-box, 3/3 failed', False)
    """
    want = expected(role)
    diffs = []
    for level in LEVELS:
        c = cells.get(level)
        if c is None:
            diffs.append(f"not played at {level}")
            continue
        failed = c.ci[0] > delta
        if want[level] and not failed:
            diffs.append(f"expected a failure at {level}, {c.failures}/{c.trials} measured")
        elif failed and not want[level]:
            diffs.append(f"expected it to hold at {level}, {c.failures}/{c.trials} failed")
    return ("as expected", True) if not diffs else ("differs: " + "; ".join(diffs), False)


def separation_rows(store_rows, entries: tuple[Entry, ...] | None = None, delta: float = DELTA) -> list[Row]:
    """The measured matrix over an arena store's rows (games of other matchups are ignored); every stored
    game of a separation matchup counts, whatever its seed."""
    counts = tally(store_rows)
    out = []
    for e in SEPARATION if entries is None else entries:
        if e.algorithm is None:
            out.append(Row(e, {level: None for level in LEVELS}, "none built", True, None))
            continue
        cells = {level: _cell(e, level, counts) for level in LEVELS}
        pattern, matches = check(e.role, cells, delta)
        first = e.games[0]
        sec = security_of(first.algorithm, first.problem)
        out.append(Row(e, cells, pattern, matches, sec.label if sec else None))
    return out
