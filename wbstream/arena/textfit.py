"""Print a rich Table only if it fits whole; otherwise as plain lines, so no name or number is ever cut.

rich shrinks a table wider than the console by wrapping, then by cutting cells short
("paterson-raynal-20…", "108,294,6…"). :func:`fit_print` measures the narrowest width
at which every cell stays whole and, when the console is narrower, prints each row as
``column: value`` pairs instead.

>>> from rich.console import Console
>>> from rich.table import Table
>>> t = Table(title="T"); t.add_column("name"); t.add_column("ns/update", justify="right")
>>> t.add_row("paterson-raynal-2022", "108,294,645")
>>> import io
>>> c = Console(width=20, record=True, color_system=None, file=io.StringIO())
>>> fit_print(c, t)
False
>>> text = c.export_text()
>>> "paterson-raynal-2022" in text.split() and "108,294,645" in text.split()
True
"""

from __future__ import annotations

from rich.measure import Measurement
from rich.text import Text


def min_width(console, renderable) -> int:
    """The narrowest width at which rich renders ``renderable`` without cutting a word short."""
    return Measurement.get(console, console.options.update_width(1_000_000), renderable).minimum


def _plain(cell) -> str:
    if isinstance(cell, Text):
        return cell.plain
    return Text.from_markup(cell).plain if isinstance(cell, str) else str(cell)


def fit_print(console, table) -> bool:
    """Print ``table`` if it fits the console whole (True); else its title and one plain line per row (False)."""
    if min_width(console, table) <= console.width:
        console.print(table)
        return True
    if table.title:
        console.print(_plain(table.title), markup=False, highlight=False)
    headers = [_plain(col.header) for col in table.columns]
    cells = [list(col.cells) for col in table.columns]
    for i in range(table.row_count):
        pairs = [f"{h}: {_plain(c[i])}" for h, c in zip(headers, cells) if i < len(c) and _plain(c[i])]
        console.print(Text("  " + "; ".join(pairs)), highlight=False)
    return False
