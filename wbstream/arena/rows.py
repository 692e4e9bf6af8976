"""Reading the arena store's rows: their GameResult, their matchup key, a spec's registry name.

Both the report tables and the plots read rows through these helpers, so neither imports the other.

>>> spec_name("fw23(preset='toy')")
'fw23'
>>> list(group_rows([{"algorithm": "a", "adversary": "b", "threat": "oblivious", "problem": "p"}]))
[('a', 'b', 'oblivious', 'p')]
>>> rows = [{"matchup": "sweep-k-0a1b2c"}, {"matchup": "0a1b2c"}]
>>> verdict_rows(rows), sweep_rows(rows)
([{'matchup': '0a1b2c'}], [{'matchup': 'sweep-k-0a1b2c'}])
"""

from __future__ import annotations

from wbstream.engine.result import GameResult


def result_of(row: dict) -> GameResult | None:
    """The row's GameResult (stored as an object, a dict or JSON), or None."""
    r = row.get("result")
    if r is None or isinstance(r, GameResult):
        return r
    if isinstance(r, dict):
        return GameResult.from_dict(r)
    return GameResult.from_json(r)


#: The matchup ids of the scaling sweep start with this, then the option swept (:mod:`wbstream.arena.sweep`).
SWEEP_PREFIX = "sweep-"


def is_sweep(row: dict) -> bool:
    """Whether the row is a game of the scaling sweep: it measures cost (time, space), not robustness."""
    return str(row.get("matchup") or "").startswith(SWEEP_PREFIX)


def sweep_option(row: dict) -> str | None:
    """The problem option a sweep row varies (``sweep-k-<digest>`` varies k), or None for a judged row.

    >>> sweep_option({"matchup": "sweep-k-0a1b2c"}), sweep_option({"matchup": "0a1b2c"})
    ('k', None)
    """
    if not is_sweep(row):
        return None
    return str(row["matchup"])[len(SWEEP_PREFIX):].rsplit("-", 1)[0]


def verdict_rows(rows) -> list[dict]:
    """The rows the leaderboard, the flags and the separation matrix judge: all but the sweep's."""
    return [row for row in rows if not is_sweep(row)]


def sweep_rows(rows) -> list[dict]:
    """The rows of the scaling sweep, from which the update-time and space plots are drawn."""
    return [row for row in rows if is_sweep(row)]


def spec_name(spec: str | None) -> str:
    return (spec or "").split("(", 1)[0].strip()


def group_key(row: dict) -> tuple[str, str, str, str]:
    """(algorithm, adversary, threat, problem) of a row, from the row or else from its result."""
    r = result_of(row)

    def get(name):
        value = row.get(name)
        return value if value is not None else (getattr(r, name, None) if r else None)

    return (str(get("algorithm") or ""), str(get("adversary") or ""), str(get("threat") or ""),
            str(get("problem") or ""))


def group_rows(rows) -> dict[tuple[str, str, str, str], list[dict]]:
    """Rows by matchup (algorithm, adversary, threat, problem), in first-seen order."""
    groups: dict[tuple[str, str, str, str], list[dict]] = {}
    for row in rows:
        groups.setdefault(group_key(row), []).append(row)
    return groups


def ok_results(rows) -> list[GameResult]:
    """The GameResults of the rows whose game finished."""
    return [r for r in (result_of(row) for row in rows if row.get("status", "ok") == "ok") if r is not None]
