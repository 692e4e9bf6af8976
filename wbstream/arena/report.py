"""Reports over an arena's stored games: the terminal view, ``leaderboard.md`` and ``report.html``.

The parts live in their own modules: :mod:`.leaderboard` (one row per matchup),
:mod:`.flags` (evaluations too weak to trust), :mod:`.verdicts` (the separation
matrix), :mod:`.tables` (text cells and the terminal), :mod:`.pages` (Markdown and
HTML) and :mod:`.plots` (figures). This module writes the report files and re-exports
the names the CLI uses.

>>> import tempfile
>>> from pathlib import Path
>>> from wbstream.arena.store import ResultStore
>>> with tempfile.TemporaryDirectory() as d:
...     with ResultStore(Path(d) / "results.sqlite") as store:
...         paths = write_reports(store, d)
...     sorted(p.name for p in paths.values())
['leaderboard.md', 'report.html']
"""

from __future__ import annotations

from pathlib import Path

from .flags import FLAG_TITLES, Flag, flags
from .leaderboard import LeaderRow, claimed_guarantee, leaderboard
from .pages import to_html, to_markdown
from .tables import render_terminal

__all__ = ["FLAG_TITLES", "Flag", "LeaderRow", "claimed_guarantee", "flags", "leaderboard", "render_terminal",
           "to_html", "to_markdown", "write_reports"]


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
