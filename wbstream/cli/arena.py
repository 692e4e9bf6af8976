"""``wbstream arena``: play a suite of matchups into a result store, and report."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import click
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from wbstream.cli import err, main, out, refuse
from wbstream.engine.errors import WbstreamError
from wbstream.engine.keys import read_secret_file


def _executor(serial: bool, workers, scheduler, dask_local):
    from wbstream.arena.executors import DaskExecutor, PoolExecutor, SerialExecutor

    if scheduler or dask_local:
        return DaskExecutor(scheduler=scheduler, local_workers=dask_local)
    return SerialExecutor() if serial else PoolExecutor(workers)


@main.command()
@click.option("--suite", "suite_name", default="standard", show_default=True,
              help="quick, standard, separation, paper, or a TOML file of [[matchup]] tables.")
@click.option("--trials", type=click.IntRange(min=1), default=None, help="Games per matchup (default: the suite's).")
@click.option("--seed", default=0, show_default=True, type=click.IntRange(min=0), help="Seed of the first trial.")
@click.option("--out", "out_dir", default="results", show_default=True,
              type=click.Path(file_okay=False, path_type=Path), help="Directory of results.sqlite and the reports.")
@click.option("--serial", is_flag=True, help="One game at a time, in one worker process, instead of a pool.")
@click.option("--workers", type=click.IntRange(min=1), default=None, help="Process-pool size (default: CPUs).")
@click.option("--scheduler", default=None, help="Run on an existing Dask cluster, e.g. tcp://host:8786.")
@click.option("--dask-local", type=click.IntRange(min=1), default=None, help="Start a Dask LocalCluster of N workers.")
@click.option("--timeout", default=300.0, show_default=True, type=click.FloatRange(min=0.1),
              help="Seconds a game may run; then its process is killed and it is recorded as a timeout.")
@click.option("--no-report", is_flag=True, help="Store the games but write no reports.")
@click.option("--secret", "secret_path", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="File of a run secret (64 hex digits) for a new OUT directory, e.g. another run's "
                   "OUT/secret, to play its games again (default: a fresh secret kept in OUT/secret).")
@click.option("--isolate", "isolate", default="auto", show_default=True, type=click.Choice(["auto", "all", "none"]),
              help="Run adversaries in their own process: auto (those from outside the package, plugins included), "
                   "all, or none (no protection against hostile code: plugins are imported into the workers).")
def arena(suite_name, trials, seed, out_dir, serial, workers, scheduler, dask_local, timeout, no_report,
          secret_path, isolate):
    """Play a suite of matchups, store every game in OUT/results.sqlite, and report.

    A run that was stopped (even by SIGKILL) resumes: only the missing games are played.
    The secret is written to OUT/secret when a run ends; after a SIGKILL it is lost, and the
    missing games play under a fresh one (said on stderr, recorded in OUT/secrets.log).
    A second arena on the same OUT waits for the first to finish, then plays what is missing.
    Every game's coins follow from the run secret kept in OUT/secret (mode 0600).
    """
    from wbstream.arena.arena import run_arena
    from wbstream.arena.matchups import SUITE_TRIALS, load_toml, suite

    try:
        if suite_name.endswith(".toml"):
            matchups, file_trials = load_toml(suite_name)
        else:
            matchups, file_trials = suite(suite_name), None
        if isolate != "auto":
            matchups = [dataclasses.replace(m, isolation=isolate) for m in matchups]
        trials = trials or file_trials or SUITE_TRIALS.get(suite_name, 3)
        secret = read_secret_file(secret_path) if secret_path is not None else None
        executor = _executor(serial, workers, scheduler, dask_local)
        progress = Progress(TextColumn("games"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
                            console=err, transient=True)
        with progress:
            task = progress.add_task("games", total=sum(m.trials(trials) for m in matchups))
            try:
                run = run_arena(matchups, trials=trials, seed=seed, out_dir=out_dir, executor=executor,
                                timeout=timeout, progress=lambda done, total: progress.update(task, completed=done),
                                secret=secret, on_wait=lambda why: err.print(why, markup=False, highlight=False),
                                on_notice=lambda why: err.print(f"warning: {why}", markup=False, highlight=False))
            finally:
                executor.close()
    except WbstreamError as exc:
        raise refuse(exc) from None
    if suite_name == "paper":
        from wbstream.arena.paper import preset_skips
        for skip in preset_skips():
            out.print(f"skipped {skip}", markup=False, highlight=False)
    out.print(f"{len(matchups)} matchups x {trials} trials on {executor.name}: played {run.played}, "
              f"already stored {run.skipped}, errors {run.errors}, {run.wall_seconds:.1f} s")
    out.print(f"arena overhead per game on top of the game itself: {run.overhead_fraction:.1%} "
              f"({run.overhead_seconds:.2f} s over {run.game_seconds:.2f} s of games)")
    if not no_report:
        from wbstream.arena.report import render_terminal, write_reports
        from wbstream.arena.rows import sweep_rows
        from wbstream.arena.store import ResultStore

        paths = write_reports(run.store, out_dir)
        with ResultStore(run.store) as store:
            from wbstream.arena.report import flags, leaderboard
            rows = store.rows()
        if suite_name == "separation":
            from wbstream.arena.separation import separation_rows
            from wbstream.arena.separation_view import render_separation
            render_separation(out, separation_rows(rows))
        render_terminal(out, leaderboard(rows), flags(rows), sweep_games=len(sweep_rows(rows)))
        for label, path in paths.items():
            out.print(f"wrote {label}: {path}")
