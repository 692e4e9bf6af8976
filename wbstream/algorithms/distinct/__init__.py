"""Distinct elements (F0 / L0): hash-based sketches whose hash key sits in the state.

Both sketches here (``kmv``, ``hll``) see only which indices arrive, never the
deltas, so they count F0 of insertion-only streams; on a turnstile stream they
could not forget a deleted item. They refuse problems that are not insertion-only.
"""

from __future__ import annotations


def require_insertion_only(params, name: str) -> None:
    """Raise ValueError unless ``params`` describe an insertion-only problem.

    >>> from wbstream.engine.problems import DistinctElements
    >>> require_insertion_only(DistinctElements(n=8).params, "kmv")
    Traceback (most recent call last):
    ...
    ValueError: kmv counts F0 of insertion-only streams: it cannot delete, so it needs a problem with insertion_only=True (this one is turnstile)
    """
    if params is None or not params.get("insertion_only", False):
        raise ValueError(f"{name} counts F0 of insertion-only streams: it cannot delete, so it needs a "
                         f"problem with insertion_only=True (this one is turnstile)")
