"""The separation (:mod:`wbstream.arena.separation`) as text: a table when it fits, plain lines otherwise.

Names are never cut: the table is printed only when its natural width fits the console
(piped output is wide, see :data:`wbstream.cli.PIPED_WIDTH`); otherwise one block per
algorithm, one line per level. Then the games themselves, with their problem and rounds.

>>> from wbstream.arena.verdicts import Cell
>>> cell_text(Cell(3, 3, 1.0, (0.44, 1.0), "hardt-woodruff-2013", "adaptive"), "adaptive")
'3/3 [44–100%] hardt-woodruff-2013'
>>> cell_text(Cell(0, 3, 0.0, (0.0, 0.56), "dense", "oblivious"), "white-box")
'0/3 [0–56%] dense (oblivious)'
"""

from __future__ import annotations

from .separation import LEVELS, Row
from .verdicts import Cell

TITLE = "The separation: failed games / played, Wilson 95%, and the strongest adversary"
INTRO = ("Each cell counts the worst game at that level or a weaker one (named in brackets when weaker). "
         "Expected: oblivious-only fails at adaptive; adaptive-robust holds at adaptive and fails at white-box; "
         "white-box-robust holds at every level.")


def cell_text(cell: Cell | None, level: str) -> str:
    if cell is None:
        return "not played"
    lo, hi = cell.ci
    where = "" if cell.played_at == level else f" ({cell.played_at})"
    return f"{cell.failures}/{cell.trials} [{lo:.0%}–{hi:.0%}".replace("%–", "–", 1) + f"] {cell.adversary}{where}"


def _cell_markup(cell: Cell | None, level: str, delta: float) -> str:
    from rich.markup import escape

    colour = "dim" if cell is None else "red" if cell.ci[0] > delta else "green"
    return f"[{colour}]{escape(cell_text(cell, level))}[/]"


def _pattern_markup(row: Row) -> str:
    from rich.markup import escape

    colour = "dim" if row.entry.algorithm is None else "green" if row.matches else "yellow"
    return f"[{colour}]{escape(row.pattern)}[/]"


def _table(rows: list[Row], delta: float):
    from rich.markup import escape
    from rich.table import Table

    t = Table(title=TITLE, title_justify="left")
    for name in ("role", "algorithm", *LEVELS, "pattern", "note"):
        t.add_column(name, no_wrap=True)
    family = None
    for r in rows:
        if r.entry.family != family:
            family = r.entry.family
            t.add_section()
            t.add_row(f"[bold]{escape(family)}[/]")
        levels = ([_cell_markup(r.cells[level], level, delta) for level in LEVELS] if r.entry.algorithm
                  else ["[dim]-[/]"] * len(LEVELS))
        t.add_row("  " + r.entry.role, escape(r.name), *levels, _pattern_markup(r), escape(r.entry.note))
    return t


def render_separation(console, rows: list[Row], delta: float = 0.05) -> bool:
    """Print the matrix; True if as a table, False if as plain lines (the table is wider than the console)."""
    from rich.markup import escape
    from rich.measure import Measurement

    table = _table(rows, delta)
    if Measurement.get(console, console.options.update_width(1_000_000), table).maximum <= console.width:
        console.print(table)
        console.print(INTRO, markup=False, highlight=False)
        return True
    console.print(f"[bold]{escape(TITLE)}[/]")
    console.print(INTRO, markup=False, highlight=False)
    family = None
    for r in rows:
        if r.entry.family != family:
            family = r.entry.family
            console.print(f"[bold]{escape(family)}[/]")
        console.print(f"  {r.entry.role}: {escape(r.name)}")
        if r.entry.algorithm is not None:
            for level in LEVELS:
                console.print(f"    {level}: {_cell_markup(r.cells[level], level, delta)}")
        console.print(f"    pattern: {_pattern_markup(r)}")
        if r.entry.note and r.entry.note != r.pattern:
            console.print(f"    note: {escape(r.entry.note)}")
    return False


def render_games(console, rows: list[Row], counts: dict[str, tuple[int, int]]) -> None:
    """The games behind the cells: problem, algorithm, adversary, threat, rounds, failed/played."""
    from rich.table import Table

    from .textfit import fit_print

    t = Table(title="Games (each matchup's problem and round budget)", title_justify="left")
    for name in ("problem", "algorithm", "adversary", "threat", "rounds", "failed"):
        t.add_column(name, no_wrap=True)
    for r in rows:
        for m in r.entry.games:
            f, n = counts.get(m.id, (0, 0))
            t.add_row(m.problem, m.algorithm, m.adversary, m.threat, f"{m.rounds:,}", f"{f}/{n}")
    fit_print(console, t)


def as_json(rows: list[Row], counts: dict[str, tuple[int, int]]) -> list[dict]:
    """The matrix as plain data, games included."""
    def cell(c: Cell | None):
        return None if c is None else {"failures": c.failures, "trials": c.trials, "rate": c.rate,
                                       "wilson95": list(c.ci), "adversary": c.adversary, "played_at": c.played_at}

    return [{"family": r.entry.family, "role": r.entry.role, "algorithm": r.entry.algorithm,
             "security": r.security, "cells": {level: cell(r.cells[level]) for level in LEVELS},
             "pattern": r.pattern, "matches": r.matches, "note": r.entry.note,
             "games": [{"problem": m.problem, "algorithm": m.algorithm, "adversary": m.adversary,
                        "threat": m.threat, "rounds": m.rounds, "failed": counts.get(m.id, (0, 0))[0],
                        "played": counts.get(m.id, (0, 0))[1]} for m in r.entry.games]}
            for r in rows]
