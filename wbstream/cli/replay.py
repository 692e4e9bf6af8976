"""``wbstream replay``: replay recorded games and check they come out identical."""

from __future__ import annotations

from pathlib import Path

import click

from wbstream.cli import InputError, main, one_line, out, refuse
from wbstream.engine.errors import WbstreamError
from wbstream.engine.replay import replay, replay_from_seed
from wbstream.engine.result import GameResult


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
                    raise refuse(exc, f"game {r['key']}: ") from None
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
        raise (refuse(exc) if isinstance(exc, WbstreamError) else InputError(one_line(exc))) from None
    out.print(f"[green]replayed[/] {again.rounds} rounds, {again.queries} queries: every answer matches, "
              f"and every outcome field (failed={again.failed}, first failure round={again.first_failure_round})")
