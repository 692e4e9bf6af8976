"""``wbstream separation``: play the separation suite and print its matrix with the pattern check."""

from __future__ import annotations

import json
from pathlib import Path

import click

from wbstream.cli import err, main, out, refuse
from wbstream.engine.errors import WbstreamError
from wbstream.engine.keys import read_secret_file

#: Games per matchup by default: 3/3 failures already put the Wilson interval above 5%.
DEFAULT_TRIALS = 3


def play_separation(out_dir: Path, trials: int, seed: int, secret: bytes | None, workers: int | None,
                    progress_console=None):
    """Play the separation's games into ``out_dir`` (resuming), return the store's rows."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    from wbstream.arena.arena import run_arena
    from wbstream.arena.executors import PoolExecutor
    from wbstream.arena.separation import separation_matchups
    from wbstream.arena.store import ResultStore

    matchups = separation_matchups()
    executor = PoolExecutor(workers)
    progress = Progress(TextColumn("games"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
                        console=progress_console or err, transient=True)
    try:
        with progress:
            task = progress.add_task("games", total=sum(m.trials(trials) for m in matchups))
            run = run_arena(matchups, trials=trials, seed=seed, out_dir=out_dir, executor=executor,
                            progress=lambda done, total: progress.update(task, completed=done), secret=secret,
                            on_wait=lambda why: err.print(why, markup=False, highlight=False))
    finally:
        executor.close()
    with ResultStore(run.store) as store:
        return run, store.rows()


@main.command()
@click.option("--trials", type=click.IntRange(min=1), default=DEFAULT_TRIALS, show_default=True,
              help="Games per matchup.")
@click.option("--seed", default=0, show_default=True, type=click.IntRange(min=0), help="Seed of the first trial.")
@click.option("--secret", "secret_path", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="File of a run secret (64 hex digits) for a new OUT directory (default: a fresh one in OUT/secret).")
@click.option("--out", "out_dir", default="results", show_default=True,
              type=click.Path(file_okay=False, path_type=Path),
              help="Directory of results.sqlite; games already there are not played again.")
@click.option("--workers", type=click.IntRange(min=1), default=None, help="Process-pool size (default: CPUs).")
@click.option("--json", "as_json", is_flag=True, help="Print the matrix and its games as JSON.")
def separation(trials, seed, secret_path, out_dir, workers, as_json):
    """Play, for F2, distinct elements, heavy hitters and sparse recovery, an oblivious-only, an
    adaptive-robust and a white-box-robust algorithm against the strongest adversary at each threat
    level, and print who fails where, with Wilson intervals and a check of the expected pattern.

    The games are stored in OUT/results.sqlite like the arena's (the separation is also the arena suite
    `separation`, and in `standard`), so a stopped run resumes.
    """
    from wbstream.arena.separation import separation_rows, tally
    from wbstream.arena.separation_view import as_json as to_json, render_games, render_separation

    try:
        secret = read_secret_file(secret_path) if secret_path is not None else None
        out_dir.mkdir(parents=True, exist_ok=True)  # a path that cannot be a directory is a bad --out
    except (WbstreamError, OSError) as exc:
        raise refuse(exc, "--out or --secret: " if isinstance(exc, OSError) else "") from None
    try:
        run, rows = play_separation(out_dir, trials, seed, secret, workers)
    except (WbstreamError, OSError) as exc:
        raise refuse(exc) from None
    matrix, counts = separation_rows(rows), tally(rows)
    if as_json:
        click.echo(json.dumps(to_json(matrix, counts), indent=2))
        return
    render_separation(out, matrix)
    render_games(out, matrix, counts)
    differs = sum(1 for r in matrix if not r.matches)
    out.print(f"{len(matrix)} rows, {differs} differ from the expected pattern; played {run.played} games, "
              f"{run.skipped} already stored, {run.errors} errors, {run.wall_seconds:.1f} s; store: {run.store}",
              markup=False, highlight=False)
