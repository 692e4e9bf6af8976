"""``wbstream list``: the registered problems, algorithms, adversaries and threat models."""

from __future__ import annotations

import json

import click
from rich.table import Table

from wbstream.arena.textfit import fit_print
from wbstream.cli import main, out
from wbstream.engine.plugins import is_plugin
from wbstream.engine.registry import Registry, adversaries, algorithms, problems
from wbstream.engine.threat import ThreatModel


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
        "adversaries": [{"name": n, "needs": c.needs.name, "summary": _first_line(c), "parameters": _params(c),
                         "plugin": is_plugin(c)}
                        for n in adversaries.names() for c in [adversaries.get(n)]],
        "threat_models": [{"name": t.name, "sees": t.description} for t in ThreatModel.levels()],
    }


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
          [(n + (" (plugin)" if is_plugin(c) else ""), c.needs.name, _params_text(c), _first_line(c))
           for n in adversaries.names() for c in [adversaries.get(n)]])
    table("Threat models (each sees everything the one above sees)", ("name", "the adversary sees each round"),
          [(level.name, level.description) for level in ThreatModel.levels()])
