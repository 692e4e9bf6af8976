"""Flags, as AutoAttack's ``checks.py`` raises them: evaluations that look too weak to trust.

An oblivious stream beating a white-box attack, an attack that never streamed anything
or only ran out of time, games that errored, and a claim broken on parameters that
should hold it.

>>> from wbstream.engine.result import GameResult
>>> def game(adversary, threat, failed):
...     r = GameResult("f2(n=8)", "ams(means=4)", adversary, threat, 0, failed=failed, rounds=5, updates=5,
...                    first_failure_round=1 if failed else None, stop_reason="round-budget")
...     return {"algorithm": r.algorithm, "adversary": adversary, "threat": threat, "problem": r.problem,
...             "status": "ok", "result": r}
>>> rows = [game("kernel-injection", "white-box", i < 1) for i in range(4)]
>>> rows += [game("dense", "oblivious", i < 3) for i in range(4)]
>>> [f.kind for f in flags(rows)]  # ams claims oblivious streams: 3 failures in 4 break it
['oblivious-beats-white-box', 'claim-broken']
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from wbstream.engine.errors import WbstreamError
from wbstream.engine.threat import ThreatModel

from .leaderboard import LeaderRow, leaderboard
from .rows import group_rows, result_of as _result, spec_name, verdict_rows

LEVEL_RANK = {t.name: i for i, t in enumerate(ThreatModel.levels())}


@dataclass
class Flag:
    """A warning that an evaluation looks too weak, with a readable message."""

    kind: str
    matchup: str
    message: str


FLAG_TITLES = {
    "oblivious-beats-white-box": "oblivious beats white-box",
    "attack-gave-up": "attack never used its budget",
    "attack-timed-out": "attack never used its budget",
    "errors": "games errored",
    "claim-broken": "claim broken",
}


def _adversary_needs(spec: str) -> str | None:
    from wbstream.engine.registry import adversaries

    try:
        needs = getattr(adversaries.get(spec_name(spec)), "needs", None)
    except (WbstreamError, ValueError):
        return None
    return getattr(needs, "name", None if needs is None else str(needs))


def flags(rows) -> list[Flag]:
    """Warnings, as AutoAttack raises them, that some evaluation looks too weak (see the module docstring)."""
    rows = verdict_rows(rows)
    board = leaderboard(rows)
    groups = group_rows(rows)
    out: list[Flag] = []
    # (a) an oblivious stream fails the algorithm more often than a white-box attack does.
    by_target: dict[tuple[str, str], list[LeaderRow]] = defaultdict(list)
    for lr in board:
        by_target[lr.algorithm, lr.problem].append(lr)
    for (algorithm, problem), lrs in by_target.items():
        oblivious = [lr for lr in lrs if lr.threat == "oblivious" and lr.failure_rate is not None]
        if not oblivious:
            continue
        best = max(oblivious, key=lambda lr: lr.failure_rate)
        for lr in lrs:
            if lr.threat != "white-box" or lr.failure_rate is None or _adversary_needs(lr.adversary) != "white-box":
                continue
            if best.failure_rate > lr.failure_rate:
                out.append(Flag("oblivious-beats-white-box", lr.label,
                                f"oblivious beats white-box: on {problem}, {algorithm} fails {best.failure_rate:.0%} of "
                                f"games ({best.failures}/{best.trials}) against the oblivious {best.adversary} but "
                                f"only {lr.failure_rate:.0%} ({lr.failures}/{lr.trials}) against the white-box "
                                f"attack {lr.adversary}: the attack is weaker than a random stream"))
    # (d) an algorithm fails at or below its claimed level, on parameters that should hold there.
    from .verdicts import THRESHOLD_BITS, separation_matrix

    for v in separation_matrix(board):
        if v.broken:
            worst = max((c for level, c in v.cells.items() if c is not None
                         and LEVEL_RANK[level] <= LEVEL_RANK[v.claims]), key=lambda c: c.rate)
            bits = f" ({v.security.label} >= {THRESHOLD_BITS:.0f})" if v.security else ""
            out.append(Flag("claim-broken", f"{v.algorithm} on {v.problem}",
                            f"claim broken: {v.algorithm}{bits} claims {v.claims} but fails {worst.rate:.0%} of games "
                            f"({worst.failures}/{worst.trials}) against {worst.adversary} ({worst.played_at}) "
                            f"on {v.problem}"))
    for lr in board:
        ok = [_result(r) for r in groups[lr.algorithm, lr.adversary, lr.threat, lr.problem]
              if r.get("status", "ok") == "ok" and _result(r) is not None]
        # (b) the attack never used its budget: it gave up at once, or only ran out of time.
        if ok and all(r.stop_reason == "adversary-stopped" and r.updates == 0 for r in ok):
            out.append(Flag("attack-gave-up", lr.label,
                            f"in all {len(ok)} games of {lr.label} the adversary "
                            f"stopped after 0 updates (it gave up without streaming anything)"))
        if ok and all(r.stop_reason == "time-budget" for r in ok):
            out.append(Flag("attack-timed-out", lr.label,
                            f"all {len(ok)} games of {lr.label} ended on the time "
                            f"budget, before the adversary finished or hit its round/update budget"))
        # (c) games that errored or timed out.
        if lr.errors:
            bad = [r for r in groups[lr.algorithm, lr.adversary, lr.threat, lr.problem]
                   if r.get("status") in ("error", "timeout")]
            total = lr.trials + lr.errors
            out.append(Flag("errors", lr.label,
                            f"{lr.errors} of {total} games errored: {bad[0].get('error') or bad[0].get('status')}"
                            f" ({lr.label})"))
    return out

