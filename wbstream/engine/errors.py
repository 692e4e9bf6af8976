"""The errors wbstream raises. Each names what is wrong, so a user can fix it."""


class WbstreamError(Exception):
    """Base class of every error wbstream raises on purpose.

    ``bad_input`` is True on the classes that mean the user's input is wrong (a spec, a
    budget, a record, a suite file): the command line exits with status 2 for those, 1 for the rest.
    """

    bad_input = False


class StreamError(WbstreamError, ValueError):
    """A batch was refused whole; the algorithm and the truth are unchanged."""


class SpecError(WbstreamError, ValueError):
    """A registry spec string is malformed, or names something unknown."""

    bad_input = True


class ThreatModelError(WbstreamError, PermissionError):
    """An adversary asked for more than its threat model reveals (or a game's threat model is below what its adversary needs)."""


class BudgetError(WbstreamError, ValueError):
    """A game budget is negative or otherwise meaningless."""

    bad_input = True


class NotApplicableError(WbstreamError, TypeError):
    """An adversary cannot attack this algorithm (the message says why)."""

    bad_input = True


class ReplayMismatch(WbstreamError, AssertionError):
    """A replayed game diverged from its recorded transcript."""


class RecordError(WbstreamError, ValueError):
    """A game record cannot be replayed: a missing or mistyped field, or a transcript outside its budget."""

    bad_input = True


class MergeError(WbstreamError, ValueError):
    """Two sketches cannot be merged (different parameters or keys, or the same sketch twice).

    A refused merge leaves both sketches exactly as they were.
    """


class DetachedCoinsError(WbstreamError, RuntimeError):
    """A detached copy of an algorithm tried to draw a coin: it has none until it is given the adversary's own."""


class AdversaryError(WbstreamError, RuntimeError):
    """An isolated adversary crashed, hung, exited, or sent something that is not a batch.

    The game stops; the algorithm and the truth are as they were before that round.
    """


def at_least(owner: str, **bounds: tuple) -> None:
    """Refuse the first option below its least value, naming it and its range: ``name=(value, least)``.

    >>> at_least("countsketch", rows=(5, 1), cols=(1, 2))
    Traceback (most recent call last):
    ...
    wbstream.engine.errors.SpecError: countsketch: cols must be >= 2, got cols=1
    """
    for name, (value, least) in bounds.items():
        if value < least:
            raise SpecError(f"{owner}: {name} must be >= {least}, got {name}={value!r}")


class OutsideGuaranteeError(SpecError):
    """Parameters under which the algorithm's own guarantee does not hold (the message names the bound).

    An algorithm refuses them unless built with ``allow_outside_guarantee=True``; the arena then
    records no claim for that spec.
    """
