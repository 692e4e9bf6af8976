"""Reports over an arena's stored games: a leaderboard, AutoAttack-style flags, terminal/Markdown/HTML.

The leaderboard has one row per matchup (algorithm spec, adversary spec, threat,
problem spec) and puts each algorithm's *claimed* guarantee beside the measured
failure rate, as RobustBench puts the reported accuracy beside the AutoAttack one.
Flags, as AutoAttack's ``checks.py`` raises them, mark evaluations that look too
weak to trust: an oblivious stream beating a white-box attack, an attack that
never streamed anything or only ran out of time, and games that errored.

>>> from wbstream.engine.result import GameResult
>>> def row(seed, failed, threat="white-box", adversary="kernel-injection"):
...     r = GameResult("f2(n=8)", "ams(means=4)", adversary, threat, seed, failed=failed,
...                    first_failure_round=3 if failed else None, rounds=5, updates=5, stop_reason="round-budget")
...     return {"matchup": adversary, "problem": r.problem, "algorithm": r.algorithm, "adversary": adversary,
...             "threat": threat, "seed": seed, "status": "ok", "error": None, "result": r}
>>> rows = [row(s, s < 1) for s in range(4)] + [row(s, s < 3, "oblivious", "dense") for s in range(4)]
>>> [(r.adversary, r.failures, r.trials, r.median_rounds_to_failure) for r in leaderboard(rows)]
[('kernel-injection', 1, 4, 3.0), ('dense', 3, 4, 3.0)]
>>> [f.kind for f in flags(rows)]  # ams claims oblivious streams: 3 failures in 4 break it
['oblivious-beats-white-box', 'claim-broken']
"""

from __future__ import annotations

import base64
import html
import statistics
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from wbstream.engine.errors import WbstreamError
from wbstream.engine.result import GameResult
from wbstream.engine.stats import wilson_interval
from wbstream.engine.threat import ThreatModel

from .rows import group_rows, result_of as _result, spec_name

LEVEL_RANK = {t.name: i for i, t in enumerate(ThreatModel.levels())}


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
    for (algorithm, adversary, threat, problem), group in group_rows(rows).items():
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


def _adversary_needs(spec: str) -> str | None:
    from wbstream.engine.registry import adversaries

    try:
        needs = getattr(adversaries.get(spec_name(spec)), "needs", None)
    except (WbstreamError, ValueError):
        return None
    return getattr(needs, "name", None if needs is None else str(needs))


def flags(rows) -> list[Flag]:
    """Warnings, as AutoAttack raises them, that some evaluation looks too weak (see the module docstring)."""
    rows = list(rows)
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


# -- formatting ---------------------------------------------------------------------------------

def _pct(x: float | None) -> str:
    return "-" if x is None else f"{x:.1%}"


def _ci(lr: LeaderRow) -> str:
    return "-" if lr.failure_rate is None else f"[{lr.failure_ci[0]:.1%}, {lr.failure_ci[1]:.1%}]"


def _num(x: float | None, unit: str = "") -> str:
    return "-" if x is None else f"{x:,.0f}{unit}"


def _g(x: float | None) -> str:
    return "-" if x is None else f"{x:g}"


_NUMERIC = {"trials", "failures", "failure rate", "state bits", "key bits", "ns/update", "errors",
            "median rounds to failure", "Wilson 95% CI"}
_CELL_CLASS = {"algorithm": "spec", "adversary": "spec", "problem": "spec"}

COLUMNS = ("algorithm", "adversary", "threat", "problem", "trials", "failures", "failure rate", "Wilson 95% CI",
           "median rounds to failure", "state bits", "key bits", "ns/update", "errors")


def _cells(lr: LeaderRow) -> list[str]:
    return [lr.algorithm, lr.adversary, lr.threat, lr.problem, str(lr.trials), str(lr.failures), _pct(lr.failure_rate),
            _ci(lr), _g(lr.median_rounds_to_failure), _num(lr.state_bits), _num(lr.key_bits),
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
                  f"{lr.failures}/{lr.trials}", f"[{colour}]{_pct(rate)}[/]", _ci(lr),
                  _g(lr.median_rounds_to_failure), bits, _num(lr.update_ns_median),
                  f"[red]{lr.errors}[/]" if lr.errors else "0")
    return t


def render_terminal(console, board: list[LeaderRow], flag_list: list[Flag], top: int = 10) -> None:
    """Print the separation matrix first, then every matchup (or, when that table is wider than the
    console, the ``top`` worst matchups and a pointer to the report files), the claims, and the flags.

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
            console.print(f"  {_pct(lr.failure_rate)} {_ci(lr)} ({lr.failures}/{lr.trials}): {escape(lr.label)}")
    claims = {}
    for lr in board:
        claims.setdefault(spec_name(lr.algorithm), lr.guarantee)
    if claims:
        console.print("[bold]claimed guarantees:[/]")
        for name, claim in claims.items():
            console.print(f"  {escape(name)}: {escape(claim or '(not registered)')}")
    if flag_list:
        console.print(f"[bold yellow]{len(flag_list)} flag(s):[/]")
        for f in flag_list:
            console.print(f"  [yellow]![/] {escape(FLAG_TITLES.get(f.kind, f.kind))}: {escape(f.message)}")
    else:
        console.print("[green]no flags[/]")


def _md(text: str) -> str:
    return text.replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ")


def _claims(board: list[LeaderRow]) -> dict[str, str]:
    claims: dict[str, str] = {}
    for lr in board:
        claims.setdefault(spec_name(lr.algorithm), lr.guarantee or "(not registered)")
    return claims


def to_markdown(board: list[LeaderRow], flag_list: list[Flag]) -> str:
    """The separation matrix, the flags, the claims once per algorithm, then every matchup (collapsed)."""
    from .matrix_view import matrix_markdown
    from .verdicts import separation_matrix

    lines = ["# wbstream arena leaderboard", ""] + matrix_markdown(separation_matrix(board))
    lines += ["", f"## Flags ({len(flag_list)})", ""]
    if flag_list:
        lines += [f"- **{FLAG_TITLES.get(f.kind, f.kind)}**: {_md(f.message)}" for f in flag_list]
    else:
        lines.append("None.")
    lines += ["", "## Claimed guarantees", ""] + [f"- **{_md(n)}**: {_md(c)}" for n, c in _claims(board).items()]
    lines += ["", f"## Every matchup ({len(board)})", "",
              "Failure rate with its Wilson 95% interval; medians over the finished games.", "",
              f"<details><summary>{len(board)} matchups</summary>", "",
              "| " + " | ".join(COLUMNS) + " |",
              "|" + "|".join("---:" if c in _NUMERIC and c != "Wilson 95% CI" else "---" for c in COLUMNS) + "|"]
    for lr in board:
        lines.append("| " + " | ".join(_md(c) for c in _cells(lr)) + " |")
    lines += ["", "</details>"]
    return "\n".join(lines) + "\n"


def _h(text: str) -> str:
    """HTML-escaped text that never spells a URL scheme, so the page stays free of external addresses."""
    return html.escape(str(text)).replace("://", "&#58;//")


_CSS = """
body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; margin: 1.2em; color: #222; background: #fff; }
h1 { font-size: 1.6em; } h2 { font-size: 1.25em; margin-top: 1.6em; }
.scroll { overflow-x: auto; }
table { border-collapse: collapse; font-size: 0.85em; }
td.spec { min-width: 7em; max-width: 14em; overflow-wrap: anywhere; }
td.claim { min-width: 12em; max-width: 22em; font-size: 0.92em; color: #333; }
th, td { border: 1px solid #ccc; padding: 4px 8px; vertical-align: top; }
th { background: #f0f0f0; text-align: left; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
tr:nth-child(even) td { background: #fafafa; }
.high { color: #b00020; font-weight: bold; } .some { color: #a06000; } .none { color: #1b7f1b; }
.flags li { margin: 0.3em 0; } .flag-kind { font-weight: bold; color: #a06000; }
figure { display: inline-block; margin: 0.8em; vertical-align: top; }
figure img { max-width: 560px; border: 1px solid #ddd; }
figcaption { font-size: 0.85em; color: #555; }
"""


def to_html(board: list[LeaderRow], flag_list: list[Flag], figures=None) -> str:
    """A self-contained page: inline CSS, no scripts, no external URLs. The separation matrix comes first,
    then the flags, the figures (``{name: (png, caption)}`` or ``{name: png}``, as base64 data URIs),
    the claims, and every matchup in a collapsed ``<details>``."""
    from .matrix_view import MATRIX_CSS, matrix_html
    from .verdicts import separation_matrix

    parts = ["<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
             "<title>wbstream arena report</title>", f"<style>{_CSS}{MATRIX_CSS}</style></head><body>",
             "<h1>wbstream arena report</h1>"]
    parts += matrix_html(separation_matrix(board))
    parts.append(f"<h2>Flags ({len(flag_list)})</h2>")
    if flag_list:
        parts.append('<ul class="flags">')
        parts += [f'<li><span class="flag-kind">{_h(FLAG_TITLES.get(f.kind, f.kind))}</span>: {_h(f.message)}</li>'
                  for f in flag_list]
        parts.append("</ul>")
    else:
        parts.append("<p>None.</p>")
    if figures:
        parts.append("<h2>Figures</h2>")
        for name, fig in figures.items():
            png, caption = fig if isinstance(fig, tuple) else (fig, name)
            data = base64.b64encode(png).decode("ascii")
            parts.append(f'<figure><img alt="{_h(caption)}" src="data:image/png;base64,{data}">'
                         f"<figcaption>{_h(caption)}</figcaption></figure>")
    parts.append("<h2>Claimed guarantees</h2><ul>")
    parts += [f"<li><b>{_h(n)}</b>: {_h(c)}</li>" for n, c in _claims(board).items()]
    parts.append("</ul>")
    parts += [f"<h2>Every matchup ({len(board)})</h2>",
              "<p>The measured failure rate with its Wilson 95% interval; medians over the finished games.</p>",
              f"<details><summary>Show all {len(board)} matchups</summary>",
              '<div class="scroll"><table class="full"><thead><tr>']
    parts += [f"<th>{_h(c)}</th>" for c in COLUMNS]
    parts.append("</tr></thead><tbody>")
    for lr in board:
        cells = _cells(lr)
        rate = lr.failure_rate
        cls = "" if rate is None else "high" if rate > 0.5 else "some" if lr.failures else "none"
        tds = []
        for col, cell in zip(COLUMNS, cells):
            classes = " ".join(c for c in ("num" if col in _NUMERIC else "", _CELL_CLASS.get(col, ""),
                                           cls if col == "failure rate" else "") if c)
            tds.append(f'<td class="{classes}">{_h(cell)}</td>' if classes else f"<td>{_h(cell)}</td>")
        parts.append("<tr>" + "".join(tds) + "</tr>")
    parts.append("</tbody></table></div></details>")
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"


def write_reports(store, out_dir) -> dict[str, Path]:
    """Write DIR/leaderboard.md and DIR/report.html from a ResultStore (or the path of one); return the paths."""
    from .store import ResultStore, StoreError

    if isinstance(store, ResultStore):
        rows = store.rows()
    else:
        path = Path(store)
        if not path.is_file():
            raise StoreError(f"no result store at {path}")
        with ResultStore(path) as opened:
            rows = opened.rows()
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    board, flag_list = leaderboard(rows), flags(rows)
    try:
        from .plots import all_figures
    except ImportError:  # matplotlib is the optional 'plots' extra: the tables still get written
        figures: dict[str, bytes] = {}
    else:
        figures = all_figures(rows)
    paths = {"markdown": out_dir / "leaderboard.md", "html": out_dir / "report.html"}
    paths["markdown"].write_text(to_markdown(board, flag_list))
    paths["html"].write_text(to_html(board, flag_list, figures))
    return paths
