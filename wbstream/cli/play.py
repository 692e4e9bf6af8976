"""``wbstream play``: play attack games and summarise them."""

from __future__ import annotations

import json
import time
from pathlib import Path
from statistics import median

import click
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from wbstream.arena.textfit import fit_print
from wbstream.cli import err, main, out, refuse
from wbstream.engine import keys
from wbstream.engine.errors import SpecError, WbstreamError
from wbstream.engine.game import Budget, Game
from wbstream.engine.keys import fill_secret_file, read_secret_file, reserve_secret_file
from wbstream.engine.plugins import is_plugin
from wbstream.engine.registry import adversaries, parse_spec
from wbstream.engine.result import GameResult
from wbstream.engine.summary import TrialSummary, summarize
from wbstream.engine.threat import ThreatModel


#: Show a progress bar once a run has taken this long and is not finished.
PROGRESS_AFTER_SECONDS = 1.5


def _fmt_ns(ns: float | None) -> str:
    return "-" if ns is None else f"{ns:,.0f} ns"


def _print_summary(s: TrialSummary) -> None:
    t = Table(title=f"{s.algorithm} vs {s.adversary} ({s.threat})", title_justify="left", show_header=False)
    t.add_column("metric", style="bold")
    t.add_column("value")
    lo, hi = s.failure_ci
    colour = "red" if s.failure_rate > 0.5 else "yellow" if s.failures else "green"
    t.add_row("problem", s.problem)
    t.add_row("failure rate", f"[{colour}]{s.failure_rate:.1%}[/] ({s.failures}/{s.trials}), "
                              f"Wilson 95% CI [{lo:.1%}, {hi:.1%}]")
    if s.failure_kinds:
        t.add_row("failure kinds", ", ".join(f"{k}: {v}" for k, v in s.failure_kinds.items()))
    t.add_row("median rounds to first failure",
              "-" if s.median_rounds_to_failure is None else f"{s.median_rounds_to_failure:g}")
    t.add_row("space", f"{s.space_state_bits:,} state bits + {s.space_key_bits:,} key bits")
    t.add_row("update time (median)", _fmt_ns(s.update_ns_median) + " per update")
    t.add_row("query time (median)", _fmt_ns(s.query_ns_median))
    t.add_row("games ended by", ", ".join(f"{k}: {v}" for k, v in s.stop_reasons.items()))
    for name, value in s.extra.items():
        t.add_row(name, f"{value:,}" if isinstance(value, int) else str(value))
    fit_print(out, t)


def run_trials(game: Game, seeds: list[int], *, show_progress: bool = True) -> list[GameResult]:
    """Play one game per seed; a progress bar appears if the run is not quick."""
    results: list[GameResult] = []
    start = time.perf_counter()
    progress = None
    try:
        for seed in seeds:
            game.seed = seed
            results.append(game.play())
            if progress is None and show_progress and len(results) < len(seeds) \
                    and time.perf_counter() - start > PROGRESS_AFTER_SECONDS:
                progress = Progress(TextColumn("games"), BarColumn(), MofNCompleteColumn(),
                                    TimeRemainingColumn(), console=err, transient=True)
                progress.start()
                task = progress.add_task("games", total=len(seeds), completed=len(results))
            elif progress is not None:
                progress.update(task, completed=len(results))
    finally:
        if progress is not None:
            progress.stop()
    return results


def _fill(path: Path, secret: bytes) -> None:
    try:
        fill_secret_file(path, secret)
    except OSError as exc:
        raise SpecError(f"cannot write the secret to {path}: {exc.strerror}") from None


@main.command()
@click.option("--problem", "problem", default="sparse-recovery", show_default=True, help="Problem spec.")
@click.option("--algorithm", "algorithm", required=True, help='Algorithm spec, e.g. "countsketch(rows=5, cols=32)".')
@click.option("--adversary", "adversary", required=True, help='Adversary spec, e.g. "kernel-injection".')
@click.option("--threat", default="white-box", show_default=True,
              type=click.Choice([t.name for t in ThreatModel.levels()]), help="Threat model.")
@click.option("--trials", default=10, show_default=True, type=click.IntRange(min=1), help="Games to play.")
@click.option("--seed", default=0, show_default=True, type=click.IntRange(min=0), help="Seed of the first game.")
@click.option("--query-every", default=1, show_default=True, type=click.IntRange(min=1), help="Rounds between queries.")
@click.option("--max-rounds", default=100_000, show_default=True, type=int, help="Round budget per game.")
@click.option("--max-updates", default=10_000_000, show_default=True, type=int, help="Update budget per game.")
@click.option("--max-seconds", default=None, type=float, help="Wall-clock budget per game.")
@click.option("--max-batch", default=1_000_000, show_default=True, type=int,
              help="Most updates in one batch; a bigger batch is refused.")
@click.option("--keep-going", is_flag=True, help="Keep playing after the first failure.")
@click.option("--json", "as_json", is_flag=True, help="Print the summary as one JSON object.")
@click.option("--out", "out_path", type=click.Path(dir_okay=False, path_type=Path),
              help="Write every game record (JSON lines, with transcripts) to this file.")
@click.option("--servers", default=0, show_default=True, type=click.IntRange(min=0),
              help="Play the distributed game with this many servers and a coordinator (0: one stream).")
@click.option("--aggregation", default="plain", show_default=True, type=click.Choice(["plain", "bfv"]),
              help="Distributed: servers send plain sketches, or BFV ciphertexts summed by an aggregator.")
@click.option("--executor", "server_executor", default="process", show_default=True,
              type=click.Choice(["process", "dask", "inline"]), help="Distributed: where the servers run.")
@click.option("--scheduler", default=None, help="Distributed, --executor dask: the scheduler (default: a local cluster).")
@click.option("--secret", "secret_path", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="File of the run secret (64 hex digits) that keys every coin, for an exact re-run "
                   "(default: a fresh secret from the OS).")
@click.option("--save-secret", "save_secret", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Write this run's secret to a new file (mode 0600), to re-run it later with --secret; "
                   "the file is made before the games and the secret written into it after them.")
@click.option("--isolate", is_flag=True,
              help="Run the adversary in its own process; it sees only its level's views. Without it the adversary "
                   "runs in this process: no protection against hostile code (an adversary plugin is imported here).")
def play(problem, algorithm, adversary, threat, trials, seed, query_every, max_rounds, max_updates,
         max_seconds, max_batch, keep_going, as_json, out_path, servers, aggregation, server_executor, scheduler,
         secret_path, save_secret, isolate):
    """Play TRIALS games (seeds SEED, SEED+1, ...) and summarise them.

    Coins come from a secret, not from the seed: each run draws a fresh secret, so
    the same seed plays other coins unless --secret gives the same secret again.

    With --servers S the game is distributed (FJW'24's model): the adversary drives S
    servers that share the sketch's keys, a coordinator merges their messages and
    answers, and the summary adds the bits each server sent.
    """
    try:  # a bad budget is bad input too: a clear message, not a traceback
        secret = read_secret_file(secret_path) if secret_path is not None else keys.new_secret()
        if save_secret is not None:  # reserved now, so a bad path fails before the games; written after them
            try:
                reserve_secret_file(save_secret)
            except OSError as exc:
                raise SpecError(f"cannot write the secret to {save_secret}: {exc.strerror}") from None
        started = False
        try:
            options = dict(budget=Budget(updates=max_updates, rounds=max_rounds, seconds=max_seconds,
                                         max_batch=max_batch),
                           query_every=query_every, seed=seed, stop_on_failure=not keep_going,
                           record_transcript=out_path is not None, secret=secret)
            if servers:
                from wbstream.distributed.game import DistributedGame

                game = DistributedGame(problem, algorithm, adversary, threat, servers=servers, aggregation=aggregation,
                                       executor=server_executor, scheduler=scheduler, **options)
            else:
                game = Game(problem, algorithm, adversary, threat, isolation="process" if isolate else "none",
                            **options)
            if game.isolation == "none" and is_plugin(adversaries.get(parse_spec(adversary).name)):
                err.print(f"warning: the adversary plugin {game.adv_cls.name!r} plays in this process "
                          f"({'distributed games are not isolated' if servers else 'no --isolate'}): "
                          f"its code can reach the truth and the coins")
            started = True
            results = run_trials(game, list(range(seed, seed + trials)), show_progress=not as_json)
        finally:  # the games are over (or stopped): no adversary runs that could read it
            if save_secret is not None and started:
                _fill(save_secret, secret)
            elif save_secret is not None:  # refused before any game: nothing to re-run, and the path stays free
                Path(save_secret).unlink(missing_ok=True)
    except WbstreamError as exc:
        raise refuse(exc) from None
    summary = summarize(results)
    if servers:
        summary.extra["servers"] = servers
        summary.extra["bits sent per game, all servers (median)"] = int(median(r.comm_bits_total for r in results))
        summary.extra["bits sent per server (median)"] = int(median(b for r in results for b in r.comm_bits_per_server))
        summary.extra["coordinator seconds per game (median)"] = round(median(r.coordinator_seconds
                                                                              for r in results), 4)
    if out_path is not None:
        with out_path.open("w") as fh:
            for r in results:
                fh.write(r.to_json() + "\n")
    if as_json:
        click.echo(json.dumps(summary.to_dict()))
    else:
        _print_summary(summary)
        if out_path is not None:
            err.print(f"wrote {len(results)} game records to {out_path}")
