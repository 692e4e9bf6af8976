"""The report pages: ``leaderboard.md`` and a self-contained ``report.html``.

Both open on the separation matrix, then the flags, (in HTML) the figures, the claims
once per algorithm, and every matchup collapsed in a ``<details>``.

>>> page = to_html([], [], {})
>>> page.startswith("<!DOCTYPE html>") and "<script" not in page and "://" not in page
True
>>> to_markdown([], []).splitlines()[0]
'# wbstream arena leaderboard'
"""

from __future__ import annotations

import base64
import html

from .flags import FLAG_TITLES, Flag
from .leaderboard import LeaderRow
from .tables import CELL_CLASS, COLUMNS, NUMERIC, cells, claims

def _md(text: str) -> str:
    return text.replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ")



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
    lines += ["", "## Claimed guarantees", ""] + [f"- **{_md(n)}**: {_md(c)}" for n, c in claims(board).items()]
    lines += ["", f"## Every matchup ({len(board)})", "",
              "Failure rate with its Wilson 95% interval; medians over the finished games.", "",
              f"<details><summary>{len(board)} matchups</summary>", "",
              "| " + " | ".join(COLUMNS) + " |",
              "|" + "|".join("---:" if c in NUMERIC and c != "Wilson 95% CI" else "---" for c in COLUMNS) + "|"]
    for lr in board:
        lines.append("| " + " | ".join(_md(c) for c in cells(lr)) + " |")
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
    parts += [f"<li><b>{_h(n)}</b>: {_h(c)}</li>" for n, c in claims(board).items()]
    parts.append("</ul>")
    parts += [f"<h2>Every matchup ({len(board)})</h2>",
              "<p>The measured failure rate with its Wilson 95% interval; medians over the finished games.</p>",
              f"<details><summary>Show all {len(board)} matchups</summary>",
              '<div class="scroll"><table class="full"><thead><tr>']
    parts += [f"<th>{_h(c)}</th>" for c in COLUMNS]
    parts.append("</tr></thead><tbody>")
    for lr in board:
        texts = cells(lr)
        rate = lr.failure_rate
        cls = "" if rate is None else "high" if rate > 0.5 else "some" if lr.failures else "none"
        tds = []
        for col, cell in zip(COLUMNS, texts):
            classes = " ".join(c for c in ("num" if col in NUMERIC else "", CELL_CLASS.get(col, ""),
                                           cls if col == "failure rate" else "") if c)
            tds.append(f'<td class="{classes}">{_h(cell)}</td>' if classes else f"<td>{_h(cell)}</td>")
        parts.append("<tr>" + "".join(tds) + "</tr>")
    parts.append("</tbody></table></div></details>")
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"

