"""The ``wbstream`` command: list the catalogue, play attack games, replay them."""

from __future__ import annotations

import dataclasses
import json
import os
import sys
import time
from statistics import median
from pathlib import Path

import click
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from wbstream.engine.errors import SpecError, WbstreamError
from wbstream.engine.game import Budget, Game
from wbstream.engine import keys
from wbstream.engine.keys import read_secret_file, write_secret_file
from wbstream.engine.replay import replay, replay_from_seed
from wbstream.engine.registry import Registry, adversaries, algorithms, problems
from wbstream.engine.result import GameResult
from wbstream.engine.summary import TrialSummary, summarize
from wbstream.engine.threat import ThreatModel
from wbstream.arena.textfit import fit_print
from wbstream.bench.sparse import preset_table

#: Width of output that is not a terminal (`wbstream ... > log`): wide enough that nothing wraps or is cut.
PIPED_WIDTH = 10_000


class _Console(Console):
    """A Console at full width when its output is not a terminal, so logs keep whole names and numbers."""

    @property
    def size(self):
        size = super().size
        return size if self.is_terminal else size._replace(width=PIPED_WIDTH)

    @size.setter
    def size(self, new_size):
        Console.size.fset(self, new_size)


out = _Console()
err = _Console(stderr=True)

class InputError(click.ClickException):
    """Bad input from the command line: ``Error: ...`` on one line, exit status 2 (as click's usage errors)."""

    exit_code = 2


def _refuse(exc: Exception, prefix: str = "") -> click.ClickException:
    """The one-line error to exit with: status 2 for bad input (a spec, budget, record or suite), else 1."""
    text = prefix + _one_line(exc)
    return InputError(text) if getattr(exc, "bad_input", False) or isinstance(exc, OSError) else click.ClickException(text)


#: Show a progress bar once a run has taken this long and is not finished.
PROGRESS_AFTER_SECONDS = 1.5


def _first_line(cls) -> str:
    return (cls.__doc__ or "").strip().splitlines()[0] if cls.__doc__ else ""


def _params(cls) -> list[dict]:
    return [{"name": p.name, "type": p.type_name(), "default": None if p.required else p.default,
             "shown": p.default_text(), **({"computed": p.computed} if p.computed else {})}
            for p in Registry.parameters(cls)]


def _unavailable(cls) -> str:
    """Why an algorithm cannot run here ('' if it can): e.g. redis-hll without a Redis server."""
    check = getattr(cls, "unavailable", None)
    return check() if callable(check) else ""


def _params_text(cls) -> str:
    return ", ".join(f"{p['name']}={p['shown']}" for p in _params(cls)) or "-"


def catalogue() -> dict:
    """The registered problems, algorithms, adversaries and threat models, as plain data."""
    return {
        "problems": [{"name": n, "summary": _first_line(c), "parameters": _params(c)}
                     for n in problems.names() for c in [problems.get(n)]],
        "algorithms": [{"name": n, "problem": c.problem.name if hasattr(c.problem, "name") else "any",
                        "summary": _first_line(c), "guarantee": c.guarantee, "parameters": _params(c),
                        "unavailable": _unavailable(c)}
                       for n in algorithms.names() for c in [algorithms.get(n)]],
        "adversaries": [{"name": n, "needs": c.needs.name, "summary": _first_line(c), "parameters": _params(c)}
                        for n in adversaries.names() for c in [adversaries.get(n)]],
        "threat_models": [{"name": t.name, "sees": t.description} for t in ThreatModel.levels()],
    }


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="wbstream")
@click.option("--redis", "redis_url", default=None, metavar="URL",
              help="Run redis-hll on this Redis server (redis://host:port or unix:///path) instead of an "
                   "embedded one per process (sets $WBSTREAM_REDIS, so worker processes use it too).")
def main(redis_url):
    """wbstream: white-box adversaries against streaming algorithms."""
    if redis_url:
        os.environ["WBSTREAM_REDIS"] = redis_url


@main.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print the catalogue as JSON.")
def list_cmd(as_json: bool):
    """Show the problems, algorithms, adversaries and threat models."""
    cat = catalogue()
    if as_json:
        click.echo(json.dumps(cat, indent=2, default=repr))
        return
    def table(title: str, columns: tuple[str, ...], rows) -> None:
        t = Table(title=title, title_justify="left")
        for i, col in enumerate(columns):  # names whole; the longer texts wrap between words
            t.add_column(col, no_wrap=i == 0)
        for row in rows:
            t.add_row(*row)
        fit_print(out, t)

    table("Problems", ("name", "parameters", "what is judged"),
          [(n, _params_text(c), _first_line(c)) for n in problems.names() for c in [problems.get(n)]])
    table("Algorithms", ("name", "problem", "parameters", "claimed guarantee"),
          [(n + (" [red](unavailable)[/]" if _unavailable(c) else ""), getattr(c.problem, "name", "any"),
            _params_text(c), f"unavailable: {_unavailable(c)}" if _unavailable(c) else c.guarantee)
           for n in algorithms.names() for c in [algorithms.get(n)]])
    table("Adversaries", ("name", "needs", "parameters", "what it does"),
          [(n, c.needs.name, _params_text(c), _first_line(c)) for n in adversaries.names() for c in [adversaries.get(n)]])
    table("Threat models (each sees everything the one above sees)", ("name", "the adversary sees each round"),
          [(level.name, level.description) for level in ThreatModel.levels()])


def _bits(value: float) -> str:
    return "beyond the model" if value == float("inf") else f"{value:.0f} bits"


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
              help="Write this run's secret to a new file (mode 0600), to re-run it later with --secret.")
@click.option("--isolate", is_flag=True, help="Run the adversary in its own process; it sees only its level's views.")
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
        if save_secret is not None:
            try:
                write_secret_file(save_secret, secret)
            except OSError as exc:
                raise SpecError(f"cannot write the secret to {save_secret}: {exc.strerror}") from None
        options = dict(budget=Budget(updates=max_updates, rounds=max_rounds, seconds=max_seconds,
                                     max_batch=max_batch),
                       query_every=query_every, seed=seed, stop_on_failure=not keep_going,
                       record_transcript=out_path is not None, secret=secret)
        if servers:
            from wbstream.distributed.game import DistributedGame

            game = DistributedGame(problem, algorithm, adversary, threat, servers=servers, aggregation=aggregation,
                                   executor=server_executor, scheduler=scheduler, **options)
        else:
            game = Game(problem, algorithm, adversary, threat, isolation="process" if isolate else "none", **options)
        results = run_trials(game, list(range(seed, seed + trials)), show_progress=not as_json)
    except WbstreamError as exc:
        raise _refuse(exc) from None
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


@main.command()
@click.option("--n", "n", default=10**6, show_default=True, type=click.IntRange(min=2), help="Universe size.")
@click.option("--k", "k", default=100, show_default=True, type=click.IntRange(min=1), help="Sparsity.")
@click.option("--M", "M", default=2**20, show_default=True, type=click.IntRange(min=1), help="Entry bound.")
@click.option("--json", "as_json", is_flag=True, help="Print the table as JSON.")
def presets(n, k, M, as_json):
    """The fw23 and fjw24 parameter presets: space and security estimates (core-SVP)."""
    rows = preset_table(n, k, M)
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    t = Table(title=f"Presets at n = {n:,}, k = {k}, M = {M:,} (estimates, core-SVP model; see docs/sparse-recovery.md)",
              title_justify="left")
    for col in ("algorithm", "preset", "parameters", "state bits", "key bits", "collision", "LWE"):
        t.add_column(col)
    for r in rows:
        t.add_row(r["algorithm"], r["preset"], r["parameters"], f"{r['state_bits']:,}", f"{r['key_bits']:,}",
                  _bits(r["collision_bits"]), "-" if r["lwe_bits"] is None else _bits(r["lwe_bits"]))
    fit_print(out, t)
    for r in rows:
        out.print(f"  {r['algorithm']} {r['preset']}: {r['label']}")
    out.print(f"storing x exactly: {n * max(1, (2 * M).bit_length()):,} bits")


def _executor(serial: bool, workers, scheduler, dask_local):
    from wbstream.arena.executors import DaskExecutor, PoolExecutor, SerialExecutor

    if scheduler or dask_local:
        return DaskExecutor(scheduler=scheduler, local_workers=dask_local)
    return SerialExecutor() if serial else PoolExecutor(workers)


@main.command()
@click.option("--suite", "suite_name", default="standard", show_default=True,
              help="quick, standard, paper, or a TOML file of [[matchup]] tables.")
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
              help="Run adversaries in their own process: auto (those from outside the package), all, or none.")
def arena(suite_name, trials, seed, out_dir, serial, workers, scheduler, dask_local, timeout, no_report,
          secret_path, isolate):
    """Play a suite of matchups, store every game in OUT/results.sqlite, and report.

    A run that was stopped (even by SIGKILL) resumes: only the missing games are played.
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
            task = progress.add_task("games", total=len(matchups) * trials)
            try:
                run = run_arena(matchups, trials=trials, seed=seed, out_dir=out_dir, executor=executor,
                                timeout=timeout, progress=lambda done, total: progress.update(task, completed=done),
                                secret=secret, on_wait=lambda why: err.print(why, markup=False, highlight=False))
            finally:
                executor.close()
    except WbstreamError as exc:
        raise _refuse(exc) from None
    out.print(f"{len(matchups)} matchups x {trials} trials on {executor.name}: played {run.played}, "
              f"already stored {run.skipped}, errors {run.errors}, {run.wall_seconds:.1f} s")
    out.print(f"arena overhead per game on top of the game itself: {run.overhead_fraction:.1%} "
              f"({run.overhead_seconds:.2f} s over {run.game_seconds:.2f} s of games)")
    if not no_report:
        from wbstream.arena.report import render_terminal, write_reports
        from wbstream.arena.store import ResultStore

        paths = write_reports(run.store, out_dir)
        with ResultStore(run.store) as store:
            from wbstream.arena.report import flags, leaderboard
            rows = store.rows()
            render_terminal(out, leaderboard(rows), flags(rows))
        for label, path in paths.items():
            out.print(f"wrote {label}: {path}")


@main.group()
def bench():
    """Print performance figures, each side measured in the same run."""


@bench.command("engine")
def bench_engine():
    """Engine overhead against a bare loop, the batch path against single updates, and isolation's cost."""
    from wbstream.bench.engine import batch_speedup, engine_overhead, isolation_overhead

    for label, every in [("no queries until the end", 100_000), ("a query every round", 1)]:
        e = engine_overhead(rounds=100_000, query_every=every)
        out.print(f"engine overhead, adaptive no-op game of {e['rounds']:,} single-update rounds, {label}: "
                  f"game {e['game_s']:.3f} s vs bare loop {e['bare_s']:.3f} s -> {e['ratio']:.1f}x")
    b = batch_speedup()
    out.print(f"batch path, countsketch(rows=5, cols=64), n=100000: batches of 10^4 {b['batch_updates_per_s']:,.0f} "
              f"updates/s vs one per call {b['single_updates_per_s']:,.0f} updates/s -> {b['ratio']:.0f}x")
    for row in isolation_overhead():
        out.print(f"isolation, {row['case']}, {row['rounds']:,} rounds: isolated {row['isolated_s']:.3f} s vs "
                  f"in-process {row['in_process_s']:.3f} s -> {row['ratio']:.2f}x")


@bench.command("arena")
@click.option("--trials", default=3, show_default=True, type=click.IntRange(min=1))
def bench_arena(trials):
    """The quick suite serially and on the process pool: throughput ratio and the arena's overhead."""
    import tempfile

    from wbstream.arena.arena import run_arena
    from wbstream.arena.executors import PoolExecutor, SerialExecutor
    from wbstream.arena.matchups import suite

    matchups = suite("quick")
    runs = {}
    for name, executor in (("serial", SerialExecutor()), ("pool", PoolExecutor())):
        with tempfile.TemporaryDirectory() as d:
            runs[name] = run_arena(matchups, trials=trials, seed=0, out_dir=d, executor=executor)
    s, p = runs["serial"], runs["pool"]
    out.print(f"quick suite, {s.total} games: serial {s.wall_seconds:.1f} s, pool of {PoolExecutor().workers} "
              f"{p.wall_seconds:.1f} s -> {s.wall_seconds / p.wall_seconds:.2f}x throughput")
    out.print(f"arena overhead per game on top of the game itself: serial {s.overhead_fraction:.1%}, "
              f"pool {p.overhead_fraction:.1%}")


@bench.command("distributed")
def bench_distributed():
    """BFV aggregation costs against s and sketch size; distributed communication and coordinator time against k."""
    from wbstream.bench.distributed import communication_vs_k, he_costs

    rows = he_costs()
    t = Table(title=f"BFV encrypted CountSketch (rows=5, n = 2^16, M = 2^10, N = 4096, t = {rows[0]['t']})",
              title_justify="left")
    for col in ("s", "entries", "limbs x bits", "cts", "encrypt ms/server", "add ms/server", "decrypt+report ms",
                "plain merge+report ms", "ct bytes", "plain bytes", "ct / plain", "ct / declared"):
        t.add_column(col, justify="right")
    for r in rows:
        t.add_row(str(r["servers"]), str(r["entries"]), f"{r['limbs']} x {r['digit_bits']}", str(r["ciphertexts"]),
                  f"{r['encrypt_s'] * 1e3:.2f}", f"{r['add_s'] * 1e3:.2f}", f"{r['report_s'] * 1e3:.1f}",
                  f"{r['plain_report_s'] * 1e3:.1f}", f"{r['ciphertext_bytes']:,}", f"{r['plain_bytes']:,}",
                  f"{r['ciphertext_bytes'] / r['plain_bytes']:.1f}", f"{r['ciphertext_bytes'] / r['declared_bytes']:.1f}")
    fit_print(out, t)
    t = Table(title="Distributed game, 4 server processes, plain aggregation: bits per server against the Õ(k) bound "
                    "k (log2 n + log2 nM) (n = 2^16, M = 2^10)", title_justify="left")
    for col in ("algorithm", "k", "correct", "message bits", "declared bits", "bound bits", "message / bound",
                "coordinator ms", "server ms"):
        t.add_column(col, justify="right")
    for r in communication_vs_k():
        t.add_row(r["algorithm"], str(r["k"]), "yes" if not r["failed"] else "NO", f"{r['message_bits']:,}",
                  f"{r['declared_bits']:,}", f"{r['bound_bits']:,}", f"{r['ratio']:.1f}",
                  f"{r['coordinator_s'] * 1e3:.1f}", f"{r['server_s'] * 1e3:.2f}")
    fit_print(out, t)


@bench.command("sparse")
def bench_sparse():
    """FW'23 vs FJW'24: update time against k, the tester's BLAS share, space, report time."""
    from wbstream.bench.sparse import fjw24_blas_share, sparse_report_vs_k, sparse_update_vs_k

    rows = sparse_update_vs_k()
    t = Table(title="Update time against k (n = 2^20, M = 2^20, batches of 256, toy presets)", title_justify="left")
    for col in ("k", "fw23 ns/update", "fjw24 ns/update", "fw23 tester", "fjw24 tester", "fw23 / fjw24"):
        t.add_column(col, justify="right")
    by = {(r["algorithm"], r["k"]): r for r in rows}
    for k in sorted({r["k"] for r in rows}):
        fw, fj = by["fw23", k], by["fjw24", k]
        t.add_row(str(k), f"{fw['update_ns']:,.0f}", f"{fj['update_ns']:,.0f}", f"{fw['tester_ns']:,.0f}",
                  f"{fj['tester_ns']:,.0f}", f"{fw['update_ns'] / fj['update_ns']:.2f}")
    fit_print(out, t)
    ks = sorted({r["k"] for r in rows})
    out.print(f"growth from k = {ks[0]} to k = {ks[-1]}: fw23 x{by['fw23', ks[-1]]['update_ns'] / by['fw23', ks[0]]['update_ns']:.1f}, "
              f"fjw24 tester x{by['fjw24', ks[-1]]['tester_ns'] / by['fjw24', ks[0]]['tester_ns']:.2f}")
    b = fjw24_blas_share()
    out.print(f"\nfjw24 moderate tester, batch of {b['batch']}: {b['update_s'] * 1e3:.1f} ms for {b['levels']} levels of "
              f"({b['N']}x{b['width']})@({b['width']}x{b['batch']}) mod 2^64; one float64 matmul of that shape "
              f"{b['matmul_s'] * 1e3:.2f} ms")
    out.print(f"  same-shape throughput ratio {b['same_shape_ratio']:.0%} (ceiling 50%: two 32-bit limbs per product); "
              f"share of time in BLAS at full speed {b['blas_share']:.0%}")
    t = Table(title="Report time against k (n = 2^16, M = 2^10)", title_justify="left")
    t.add_column("k", justify="right")
    names = ["vandermonde", "fw23", "fjw24"]
    for name in names:
        t.add_column(f"{name} ms", justify="right")
    rep = {(r["algorithm"], r["k"]): r["query_ms"] for r in sparse_report_vs_k()}
    for k in ks:
        t.add_row(str(k), *[f"{rep[name, k]:.2f}" for name in names])
    fit_print(out, t)
    n, k, M = 10**6, 100, 1 << 20
    t = Table(title=f"Space at n = 10^6, k = {k}, M = 2^20 (storing x exactly: {n * (2 * M).bit_length():,} bits)",
              title_justify="left")
    for col in ("algorithm", "preset", "state bits", "key bits"):
        t.add_column(col, justify="right")
    for r in preset_table(n, k, M):
        t.add_row(r["algorithm"], r["preset"], f"{r['state_bits']:,}", f"{r['key_bits']:,}")
    fit_print(out, t)


@bench.command("distinct")
@click.option("--items", default=10**6, show_default=True, type=click.IntRange(1000), help="Items per throughput run.")
def bench_distinct(items: int):
    """hll and kmv against Apache DataSketches on the same items; space of every F0 and heavy-hitters sketch."""
    from wbstream.bench.distinct import f0_throughput, redis_throughput, space_table

    t = Table(title=f"Update throughput on the same {items:,} distinct items (ours: one batch; DataSketches: "
                    f"one Python update(int) call per item)", title_justify="left")
    for col in ("ours", "DataSketches", "ours items/s", "theirs items/s", "ours / theirs", "estimates ours / theirs"):
        t.add_column(col, justify="right")
    for r in f0_throughput(items=items):
        t.add_row(r["ours"], r["theirs"], f"{r['ours_per_s']:,.0f}", f"{r['theirs_per_s']:,.0f}",
                  f"{r['ratio']:.2f}x", f"{r['ours_estimate']:,.0f} / {r['theirs_estimate']:,.0f}")
    fit_print(out, t)
    redis_rows = redis_throughput(items=items)
    if redis_rows:
        t = Table(title=f"2^14-register HLLs on the same {items:,} items: real Redis against ours and DataSketches",
                  title_justify="left")
        for col in ("sketch", "how", "items/s", "vs redis-hll", "estimate"):
            t.add_column(col, justify="right")
        for r in redis_rows:
            t.add_row(r["sketch"], r["how"], f"{r['per_s']:,.0f}", f"{r['vs_redis']:.2f}x", f"{r['estimate']:,.0f}")
        fit_print(out, t)
    else:
        from wbstream.algorithms.distinct.redis_hll import RedisHll

        out.print(f"redis-hll skipped: {RedisHll.unavailable()}")
    t = Table(title="Space after 2,000,000 Zipf(1.1) insertions (robust-l0: 1,000 non-zeros), n = 10^6",
              title_justify="left")
    for col in ("algorithm", "state bits", "key bits", "bound", "bound bits", "state / bound"):
        t.add_column(col, justify="right")
    for r in space_table():
        t.add_row(r["algorithm"], f"{r['state_bits']:,}", f"{r['key_bits']:,}", r["bound"],
                  f"{r['bound_bits']:,.0f}", f"{r['state_bits'] / r['bound_bits']:.2f}")
    fit_print(out, t)


@main.command("reproduce")
@click.argument("paper", type=click.Choice(["paterson-raynal", "markelon", "cohen-2022", "all"]), default="all")
@click.option("--seeds", default=3, show_default=True, type=click.IntRange(1), help="Games averaged per row.")
@click.option("--ells", default="100,200,300", show_default=True,
              help="cohen-2022: the depths ℓ of figure 2 (the paper: 100,200,...,1000).")
@click.option("--rounds", default=4000, show_default=True, type=click.IntRange(10),
              help="cohen-2022: rounds of figure 1 (the paper: 10000).")
@click.option("--plot", "plot_path", default=None, type=click.Path(dir_okay=False, path_type=Path),
              help="cohen-2022: write both figures to this PNG (needs matplotlib).")
def reproduce_cmd(paper: str, seeds: int, ells: str, rounds: int, plot_path):
    """Published attack figures beside ours (Paterson–Raynal, Markelon et al.: real games; Cohen et al.: their simulation)."""
    from wbstream.reproduce import markelon_rows, not_reproduced, paterson_raynal_rows

    if paper in ("cohen-2022", "all"):
        try:
            ell_list = [int(e) for e in ells.split(",") if e.strip()]
        except ValueError:
            raise InputError(f"--ells must be comma-separated integers, got {ells!r}") from None
        if not ell_list or min(ell_list) < 1:
            raise InputError("--ells needs at least one positive depth")
        from wbstream.reproduce_cohen import print_cohen

        print_cohen(out, ells=ell_list, rounds=rounds, repetitions=seeds, plot_path=plot_path)
        if paper == "cohen-2022":
            return

    if paper in ("paterson-raynal", "all"):
        t = Table(title=f"Paterson–Raynal 2022, HyperLogLog: 2^20 candidate items unless noted (paper: 50-run "
                        f"means; ours: {seeds}-seed means)", title_justify="left")
        for col in ("case", "m", "paper sketch", "our sketch", "before paper / ours", "after paper / ours",
                    "inserted paper / ours", "S1 resets paper / ours"):
            t.add_column(col, justify="right")
        for r in paterson_raynal_rows(seeds=seeds):
            before = "—" if r["paper_before"] is None else f"{r['paper_before']:,}"
            case = r["case"] + ("" if r["pool"] == 1 << 20 else f" (pool 2^{r['pool'].bit_length() - 1})")
            resets = "" if r["paper_resets"] is None else f"{r['paper_resets']:,} / {r['resets']:,.0f}"
            t.add_row(case, f"{r['m']:,}", r["paper_sketch"], r["sketch"], f"{before} / {r['before']:,.0f}",
                      f"{r['paper_after']:,} / {r['after']:,.0f}",
                      f"{r['paper_inserted']:,} / {r['inserted']:,.0f}", resets)
        fit_print(out, t)
        for case, why in not_reproduced().items():
            out.print(f"not reproduced: {case}: {why}")
    if paper in ("markelon", "all"):
        t = Table(title=f"Markelon–Filić–Shrimpton 2023, Count-Min cover set, 2^20 insertions "
                        f"(paper: 100 trials; ours: {seeds} seeds)", title_justify="left")
        for col in ("width x depth", "our sketch", "error on target paper / ours", "≈ 2^20/depth",
                    "hash evaluations paper / ours", "cover paper / ours"):
            t.add_column(col, justify="right")
        for r in markelon_rows(seeds=seeds):
            t.add_row(f"{r['width']} x {r['depth']}", r["sketch"], f"{r['paper_error']:,} / {r['error']:,.0f}",
                      f"{(1 << 20) // r['depth']:,}", f"{r['paper_evaluations']:,} / {r['evaluations']:,.0f}",
                      f"{r['paper_cover']} / {r['cover']:.0f}")
        fit_print(out, t)


@bench.command("lowrank")
@click.option("--repeats", default=3, show_default=True, type=click.IntRange(min=1))
def bench_lowrank(repeats):
    """robust-rank update/report time and space against k and size; row sketches against numpy's SVD."""
    from wbstream.bench.lowrank import print_lowrank

    print_lowrank(out, repeats=repeats)


@main.command("report")
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
def report_cmd(directory: Path):
    """Regenerate DIRECTORY's leaderboard.md and report.html from its results.sqlite."""
    from wbstream.arena.report import flags, leaderboard, render_terminal, write_reports
    from wbstream.arena.store import ResultStore

    path = directory / "results.sqlite"
    if not path.is_file():
        raise click.ClickException(f"no result store at {path}: run `wbstream arena` with that directory first")
    try:
        with ResultStore(path) as store:
            rows = store.rows()
            render_terminal(out, leaderboard(rows), flags(rows))
            written = write_reports(store, directory)
    except (WbstreamError, OSError) as exc:
        raise click.ClickException(str(exc)) from None
    for kind, p in written.items():
        out.print(f"wrote {kind}: {p}")


@main.command("replay")
@click.argument("path", type=click.Path(exists=True, path_type=Path))
@click.option("--game", "index", default=0, show_default=True, type=int,
              help="Which record of a `play --out` file (0-based).")
@click.option("--key", default=None, help="Which game of an arena directory (its store key); default: every game.")
def replay_cmd(path: Path, index: int, key):
    """Replay recorded games and check they come out identical.

    PATH is a `wbstream play --out` file (replayed batch by batch from its transcript)
    or an arena directory (each stored game played again from its seed).
    """
    try:
        if path.is_dir():
            from wbstream.arena.store import ResultStore

            store_path = path / "results.sqlite"
            if not store_path.exists():
                raise InputError(f"{path} holds no results.sqlite")
            with ResultStore(store_path) as store:
                rows = [r for r in store.rows(status="ok") if key is None or r["key"] == key]
            if not rows:
                raise InputError(f"no stored game {'with key ' + key if key else ''} in {path}")
            for r in rows:
                try:
                    replay_from_seed(r["result"])
                except WbstreamError as exc:
                    raise _refuse(exc, f"game {r['key']}: ") from None
            out.print(f"[green]replayed[/] {len(rows)} stored game(s) from their seeds: every outcome identical "
                      f"(HE state sizes within each algorithm's stated tolerance)")
            return
        with path.open("rb") as fh:
            lines = fh.read().splitlines()
        if not 0 <= index < len(lines):
            raise InputError(f"{path} holds {len(lines)} games; --game {index} is out of range")
        recorded = GameResult.from_json(lines[index])
        again = replay(recorded)
    except (WbstreamError, ValueError, OSError) as exc:  # a plain ValueError: a record that is not JSON
        raise (_refuse(exc) if isinstance(exc, WbstreamError) else InputError(_one_line(exc))) from None
    out.print(f"[green]replayed[/] {again.rounds} rounds, {again.queries} queries: every answer matches, "
              f"and every outcome field (failed={again.failed}, first failure round={again.first_failure_round})")


def _one_line(exc: Exception) -> str:
    text = " ".join(str(exc).split())
    return text if len(text) <= 500 else text[:497] + "..."


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
