"""The ``wbstream`` command: list the catalogue, play attack games, run the arena, replay them.

The ``main`` group and what every verb shares (the consoles, the one-line errors)
live here; each verb is a module of this package: ``list`` (:mod:`.catalogue`),
``play``, ``presets``, ``ladder``, ``arena``, ``separation``, ``bench``, ``reproduce``, ``report`` and ``replay``.
"""

from __future__ import annotations

import logging
import os
import sys

import click
from rich.console import Console

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


def refuse(exc: Exception, prefix: str = "") -> click.ClickException:
    """The one-line error to exit with: status 2 for bad input (a spec, budget, record or suite), else 1."""
    text = prefix + one_line(exc)
    return InputError(text) if getattr(exc, "bad_input", False) or isinstance(exc, OSError) else click.ClickException(text)


def one_line(exc: Exception) -> str:
    """The exception's text on one line, at most 500 characters."""
    text = " ".join(str(exc).split())
    return text if len(text) <= 500 else text[:497] + "..."


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="wbstream")
@click.option("--redis", "redis_url", default=None, metavar="URL",
              help="Run redis-hll on this Redis server (redis://host:port or unix:///path) instead of an "
                   "embedded one per process (sets $WBSTREAM_REDIS, so worker processes use it too).")
def main(redis_url):
    """wbstream: white-box adversaries against streaming algorithms."""
    _announce_on_stderr()
    if redis_url:
        os.environ["WBSTREAM_REDIS"] = redis_url


class _StderrLines(logging.Handler):
    """One line per record on whatever ``sys.stderr`` is when it is emitted."""

    def emit(self, record):
        try:
            sys.stderr.write(f"wbstream: {record.getMessage()}\n")
            sys.stderr.flush()
        except (OSError, ValueError):  # a closed or broken stderr must not end the game
            pass


def _announce_on_stderr() -> None:
    """Long steps the library announces (a key drawn or checked) go to stderr, one line each."""
    logger = logging.getLogger("wbstream")
    if not any(isinstance(h, _StderrLines) for h in logger.handlers):
        logger.addHandler(_StderrLines())
    logger.setLevel(logging.INFO)


# Each verb registers itself on ``main`` when imported.
from wbstream.cli import catalogue, play, presets, arena, separation, bench, reproduce, report, replay, ladder  # noqa: E402,F401,E501
