"""The leaderboard as text: cells shared by every format, and the terminal view.

>>> from wbstream.arena.leaderboard import LeaderRow
>>> lr = LeaderRow("ams", "dense", "oblivious", "f2", "m", trials=4, failures=1, failure_rate=0.25,
...                failure_ci=(0.05, 0.7), median_rounds_to_failure=3.0, state_bits=64.0, key_bits=0.0,
...                update_ns_median=1234.0, errors=0, guarantee="")
>>> cells(lr)[6:10]
['25.0%', '[5.0%, 70.0%]', '3', '64']
>>> claims([lr])
{'ams': '(not registered)'}
"""

from __future__ import annotations

from .flags import FLAG_TITLES, Flag
from .leaderboard import LeaderRow
from .rows import spec_name

def pct(x: float | None) -> str:
    return "-" if x is None else f"{x:.1%}"


def ci(lr: LeaderRow) -> str:
    return "-" if lr.failure_rate is None else f"[{lr.failure_ci[0]:.1%}, {lr.failure_ci[1]:.1%}]"


def _num(x: float | None, unit: str = "") -> str:
    return "-" if x is None else f"{x:,.0f}{unit}"


def _g(x: float | None) -> str:
    return "-" if x is None else f"{x:g}"


NUMERIC = {"trials", "failures", "failure rate", "state bits", "key bits", "ns/update", "errors",
            "median rounds to failure", "Wilson 95% CI"}
CELL_CLASS = {"algorithm": "spec", "adversary": "spec", "problem": "spec"}

COLUMNS = ("algorithm", "adversary", "threat", "problem", "trials", "failures", "failure rate", "Wilson 95% CI",
           "median rounds to failure", "state bits", "key bits", "ns/update", "errors")


def cells(lr: LeaderRow) -> list[str]:
    return [lr.algorithm, lr.adversary, lr.threat, lr.problem, str(lr.trials), str(lr.failures), pct(lr.failure_rate),
            ci(lr), _g(lr.median_rounds_to_failure), _num(lr.state_bits), _num(lr.key_bits),
            _num(lr.update_ns_median), str(lr.errors)]


def _full_table(board: list[LeaderRow]):
    from rich.markup import escape
    from rich.table import Table

    t = Table(title="Every matchup (measured failure rate; claimed guarantees below)", title_justify="left")
    for name in ("algorithm", "adversary", "threat", "problem", "failed", "rate", "Wilson 95%", "rounds to fail",
                 "state+key bits", "ns/update", "errors"):
        t.add_column(name, no_wrap=True, justify="left" if name in ("algorithm", "adversary", "threat", "problem",
                                                                    "Wilson 95%") else "right")
    previous = None
    for lr in board:
        if previous is not None and lr.algorithm != previous:
            t.add_section()
        previous = lr.algorithm
        rate = lr.failure_rate
        colour = "dim" if rate is None else "red" if rate > 0.5 else "yellow" if lr.failures else "green"
        bits = "-" if lr.state_bits is None else f"{lr.state_bits:,.0f}+{lr.key_bits:,.0f}"
        t.add_row(escape(lr.algorithm), escape(lr.adversary), escape(lr.threat), escape(lr.problem),
                  f"{lr.failures}/{lr.trials}", f"[{colour}]{pct(rate)}[/]", ci(lr),
                  _g(lr.median_rounds_to_failure), bits, _num(lr.update_ns_median),
                  f"[red]{lr.errors}[/]" if lr.errors else "0")
    return t


def render_terminal(console, board: list[LeaderRow], flag_list: list[Flag], top: int = 10,
                    sweep_games: int = 0) -> None:
    """Print the separation matrix first, then every matchup (or, when that table is wider than the
    console, the ``top`` worst matchups and a pointer to the report files), the claims, and the flags;
    ``sweep_games`` (the scaling sweep's, not judged) get a line that points to their figures.

    Nothing is cut to fit: a table that does not fit is replaced by plain lines.
    """
    from rich.markup import escape
    from rich.measure import Measurement

    from .matrix_view import render_matrix
    from .verdicts import separation_matrix, top_failures

    render_matrix(console, separation_matrix(board))
    table = _full_table(board)
    if Measurement.get(console, console.options.update_width(1_000_000), table).maximum <= console.width:
        console.print(table)
    else:
        worst = top_failures(board, top)
        console.print(f"[bold]Top {len(worst)} failures[/] (of {len(board)} matchups; every matchup is in "
                      f"leaderboard.md and report.html beside results.sqlite)")
        for lr in worst:
            console.print(f"  {pct(lr.failure_rate)} {ci(lr)} ({lr.failures}/{lr.trials}): {escape(lr.label)}")
    if sweep_games:
        console.print(f"[bold]scaling sweep:[/] {sweep_games} games measured, not judged; update time against k "
                      f"and space against n are plotted in report.html")
    claimed = claims(board)
    if claimed:
        console.print("[bold]claimed guarantees:[/]")
        for name, claim in claimed.items():
            console.print(f"  {escape(name)}: {escape(claim)}")
    if flag_list:
        console.print(f"[bold yellow]{len(flag_list)} flag(s):[/]")
        for f in flag_list:
            console.print(f"  [yellow]![/] {escape(FLAG_TITLES.get(f.kind, f.kind))}: {escape(f.message)}")
    else:
        console.print("[green]no flags[/]")



def claims(board: list[LeaderRow]) -> dict[str, str]:
    claims: dict[str, str] = {}
    for lr in board:
        claims.setdefault(spec_name(lr.algorithm), lr.guarantee or "(not registered)")
    return claims
