"""The separation matrix as text: a rich table or plain lines for terminals, Markdown, HTML.

Names are never cut: the terminal gets the table only when its natural width fits,
and otherwise plain lines, one algorithm per block, that wrap between words.

>>> from wbstream.arena.verdicts import Cell, Verdict
>>> c = Cell(3, 5, 0.6, (0.23, 0.88), "kernel-injection", "white-box")
>>> cell_text(c, starred=True)
'60% [23–88%]* kernel-injection'
>>> cell_text(None)
'not played'
"""

from __future__ import annotations

import html

from .verdicts import LEVELS, Cell, Verdict

TITLE = "Separation matrix"
INTRO = ("Worst failure rate at each threat level (Wilson 95% interval) and the adversary that reached it; "
         "a game at a weaker level counts at every stronger one. * marks the level the algorithm claims. "
         "Within a problem, rows rank by the highest level survived, then space, then update time.")


def _pct(x: float) -> str:
    return f"{x:.0%}"


def cell_text(cell: Cell | None, starred: bool = False) -> str:
    if cell is None:
        return "not played"
    star = "*" if starred else ""
    return f"{_pct(cell.rate)} [{_pct(cell.ci[0]).rstrip('%')}–{_pct(cell.ci[1])}]{star} {cell.adversary}"


def _families(verdicts: list[Verdict]) -> dict[str, list[Verdict]]:
    out: dict[str, list[Verdict]] = {}
    for v in verdicts:
        out.setdefault(v.family, []).append(v)
    return out


def _style(v: Verdict) -> str:
    return "red" if v.broken else "green" if v.verdict == "claim holds" else "yellow" \
        if v.verdict.startswith("below") else "dim"


def _table(verdicts: list[Verdict]):
    from rich.markup import escape
    from rich.table import Table

    t = Table(title=f"{TITLE} (* = claimed level)", title_justify="left")
    t.add_column("algorithm", no_wrap=True)
    for level in LEVELS:
        t.add_column(level, no_wrap=True)
    t.add_column("verdict", no_wrap=True)
    for family, vs in _families(verdicts).items():
        t.add_section()
        t.add_row(f"[bold]{escape(family)}[/]")
        for v in vs:
            cells = []
            for level in LEVELS:
                c = v.cells[level]
                text = escape(cell_text(c, level == v.claims))
                colour = "dim" if c is None else "red" if c.significant() else "green"
                cells.append(f"[{colour}]{text}[/]")
            t.add_row("  " + escape(v.name), *cells, f"[{_style(v)}]{escape(v.verdict)}[/]")
    return t


def render_matrix(console, verdicts: list[Verdict]) -> bool:
    """Print the matrix; True if as a table, False if as plain lines (the table is wider than the console)."""
    from rich.markup import escape
    from rich.measure import Measurement

    table = _table(verdicts)
    natural = Measurement.get(console, console.options.update_width(1_000_000), table).maximum
    if natural <= console.width:
        console.print(table)
        return True
    console.print(f"[bold]{TITLE}[/] (worst failure rate per threat level, Wilson 95%, and the adversary)")
    for family, vs in _families(verdicts).items():
        console.print(f"[bold]{escape(family)}[/]")
        for rank, v in enumerate(vs, 1):
            claim = f" (claims {v.claims})" if v.claims else ""
            console.print(f"  {rank}. {escape(v.name)}{claim}: [{_style(v)}]{escape(v.verdict)}[/]")
            for levels, text in _runs(v):
                span = levels[0] if len(levels) == 1 else f"{levels[0]} to {levels[-1]}"
                console.print(f"       {span}: {escape(text)}")
    return False


def _runs(v: Verdict) -> list[tuple[list[str], str]]:
    """Consecutive levels with the same cell, merged: an oblivious result shows once for all its levels."""
    runs: list[tuple[list[str], str]] = []
    for level in LEVELS:
        text = cell_text(v.cells[level])
        if runs and runs[-1][1] == text and v.cells[level] is not None:
            runs[-1][0].append(level)
        else:
            runs.append(([level], text))
    return runs


def _md(text: str) -> str:
    return text.replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ")


def matrix_markdown(verdicts: list[Verdict]) -> list[str]:
    lines = [f"## {TITLE}", "", INTRO, "",
             "| problem | algorithm | " + " | ".join(LEVELS) + " | verdict |",
             "|---|---|" + "---|" * len(LEVELS) + "---|"]
    for v in verdicts:
        cells = [cell_text(v.cells[level], level == v.claims) for level in LEVELS]
        lines.append("| " + " | ".join(_md(c) for c in [v.family, v.name, *cells, v.verdict]) + " |")
    return lines


def _h(text: str) -> str:
    return html.escape(str(text)).replace("://", "&#58;//")


MATRIX_CSS = """
table.matrix td { white-space: nowrap; } table.matrix td.name { font-weight: 600; }
table.matrix td.claimed { outline: 2px solid #555; outline-offset: -2px; }
table.matrix tr.family td { background: #e8eef6; font-weight: bold; }
td.fail { background: #fde8e8 !important; } td.pass { background: #eaf6ea !important; }
td.untested { color: #888; }
.verdict-broken { color: #b00020; font-weight: bold; } .verdict-holds { color: #1b7f1b; }
.verdict-below { color: #a06000; } .adv { display: block; font-size: 0.85em; color: #444; }
"""


def matrix_html(verdicts: list[Verdict]) -> list[str]:
    parts = [f'<h2 id="matrix">{TITLE}</h2>', f"<p>{_h(INTRO)}</p>",
             '<div class="scroll"><table class="matrix"><thead><tr><th>algorithm</th>']
    parts += [f"<th>{_h(level)}</th>" for level in LEVELS]
    parts.append("<th>verdict</th></tr></thead><tbody>")
    for family, vs in _families(verdicts).items():
        parts.append(f'<tr class="family"><td colspan="{len(LEVELS) + 2}">{_h(family)}</td></tr>')
        for v in vs:
            tds = [f'<td class="name">{_h(v.name)}</td>']
            for level in LEVELS:
                c = v.cells[level]
                cls = ["untested" if c is None else "fail" if c.significant() else "pass"]
                if level == v.claims:
                    cls.append("claimed")
                if c is None:
                    body = "not played"
                else:
                    body = (f"{_pct(c.rate)} [{_pct(c.ci[0]).rstrip('%')}–{_pct(c.ci[1])}]"
                            f"{'*' if level == v.claims else ''}<span class=\"adv\">{_h(c.adversary)}</span>")
                tds.append(f'<td class="{" ".join(cls)}">{body}</td>')
            kind = "broken" if v.broken else "holds" if v.verdict == "claim holds" else "below" \
                if v.verdict.startswith("below") else "none"
            tds.append(f'<td class="verdict-{kind}">{_h(v.verdict)}</td>')
            parts.append("<tr>" + "".join(tds) + "</tr>")
    parts.append("</tbody></table></div>")
    return parts
