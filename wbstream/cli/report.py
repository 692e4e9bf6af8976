"""``wbstream report``: regenerate an arena directory's reports from its result store."""

from __future__ import annotations

from pathlib import Path

import click

from wbstream.cli import main, out
from wbstream.engine.errors import WbstreamError


@main.command("report")
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
def report_cmd(directory: Path):
    """Regenerate DIRECTORY's leaderboard.md and report.html from its results.sqlite."""
    from wbstream.arena.report import flags, leaderboard, render_terminal, write_reports
    from wbstream.arena.rows import sweep_rows
    from wbstream.arena.store import ResultStore

    path = directory / "results.sqlite"
    if not path.is_file():
        raise click.ClickException(f"no result store at {path}: run `wbstream arena` with that directory first")
    try:
        with ResultStore(path) as store:
            rows = store.rows()
            render_terminal(out, leaderboard(rows), flags(rows), sweep_games=len(sweep_rows(rows)))
            written = write_reports(store, directory)
    except (WbstreamError, OSError) as exc:
        raise click.ClickException(str(exc)) from None
    for kind, p in written.items():
        out.print(f"wrote {kind}: {p}")
