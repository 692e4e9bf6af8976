"""The errors wbstream raises. Each names what is wrong, so a user can fix it."""


class WbstreamError(Exception):
    """Base class of every error wbstream raises on purpose."""


class StreamError(WbstreamError, ValueError):
    """A batch was refused whole; the algorithm and the truth are unchanged."""


class SpecError(WbstreamError, ValueError):
    """A registry spec string is malformed, or names something unknown."""


class ThreatModelError(WbstreamError, PermissionError):
    """An adversary asked for more than its threat model reveals."""


class BudgetError(WbstreamError, ValueError):
    """A game budget is negative or otherwise meaningless."""


class NotApplicableError(WbstreamError, TypeError):
    """An adversary cannot attack this algorithm (the message says why)."""


class ReplayMismatch(WbstreamError, AssertionError):
    """A replayed game diverged from its recorded transcript."""


class RecordError(WbstreamError, ValueError):
    """A game record cannot be replayed: a missing or mistyped field, or a transcript outside its budget."""


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
