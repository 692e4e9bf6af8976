"""The protocol every adversary implements."""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import TYPE_CHECKING, ClassVar

import numpy as np

from .problems import Params, Problem
from .stream import Batch
from .threat import OBLIVIOUS, ThreatModel

if TYPE_CHECKING:
    from .observation import Observation


class Adversary(ABC):
    """Base class: chooses the next batch from what its threat model shows it.

    Subclasses declare ``name``, ``needs`` (the least threat model they can work
    with) and take options as keyword-only ``__init__`` parameters. ``act``
    returns a batch, or ``None`` to stop the game.

    >>> from wbstream.engine.game import Game
    >>> class OneInsert(Adversary):
    ...     name = "one-insert"
    ...     def act(self, obs):
    ...         return Batch.single(obs.round, 1) if obs.round <= 3 else None
    >>> Game("f2(n=8, M=4, eps=0.5)", "exact", OneInsert, "oblivious").play().updates
    3
    """

    name: ClassVar[str]
    needs: ClassVar[ThreatModel] = OBLIVIOUS
    #: Options whose default (0) means "computed": name -> the formula ``wbstream list`` shows.
    computed_defaults: ClassVar[dict[str, str]] = {}
    #: The stream it sends: ``"entries"`` (integer updates) or ``"rows"`` (RowBatch); None: either.
    stream_kind: ClassVar[str | None] = "entries"
    #: The round budget of its games in the built-in arena suites (None: the suites' default, 10,000).
    arena_rounds: ClassVar[int | None] = None

    def applies_to(self, algorithm_cls: type, problem_cls: type[Problem]) -> tuple[bool, str]:
        """Whether this adversary can attack ``algorithm_cls``, and if not, why."""
        return True, ""

    def reset(self, params: Params, rng: np.random.Generator) -> None:
        """Start a new game. ``rng`` is the adversary's own generator."""
        self.params = params
        self.rng = rng

    @abstractmethod
    def act(self, obs: Observation) -> Batch | None:
        """The next batch, or ``None`` to stop."""

    def notes(self) -> str | None:
        """What the adversary wants recorded with the game (its ``adversary_notes``), or None.

        Must follow from the game alone (its key and play), never the clock: a replay from
        the seed checks it.
        """
        return None
