"""What an adversary sees each round, gated by its threat model.

Reading something the threat model does not grant raises
:class:`ThreatModelError`. State arrays are read-only views: writing raises.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

import numpy as np

from .coins import CoinDraw, Coins
from .errors import ThreatModelError
from .problems import Params
from .threat import ThreatModel


@dataclass(frozen=True)
class AlgorithmInfo:
    """The public description of the algorithm under attack (its code is public)."""

    name: str
    spec: str
    cls: type


def _readonly(value):
    if isinstance(value, np.ndarray):
        view = value.view()
        view.flags.writeable = False
        return view
    if isinstance(value, Mapping):
        return MappingProxyType({k: _readonly(v) for k, v in value.items()})
    return value


class Observation:
    """The adversary's view. The engine advances ``round`` and appends answers.

    >>> import numpy as np
    >>> from wbstream.engine.coins import Coins
    >>> from wbstream.engine.problems import SparseRecovery
    >>> from wbstream.engine.threat import ADAPTIVE, WHITE_BOX
    >>> from wbstream.algorithms.sparse.countsketch import CountSketchRecovery as CS
    >>> p = SparseRecovery(n=64, k=2, M=8)
    >>> alg = CS(p.params, Coins.from_seed(0, "doc"), rows=3, cols=8)
    >>> obs = Observation(WHITE_BOX, p.params, AlgorithmInfo(CS.name, "countsketch", CS), alg)
    >>> obs.state()["table"].flags.writeable, len(obs.coins)
    (False, 2)
    >>> Observation(ADAPTIVE, p.params, AlgorithmInfo(CS.name, "countsketch", CS), alg).state()
    Traceback (most recent call last):
    ...
    wbstream.engine.errors.ThreatModelError: the adaptive threat model does not reveal the algorithm's state
    """

    __slots__ = ("threat", "params", "algorithm", "round", "_answers", "_alg", "_state", "_state_round")

    def __init__(self, threat: ThreatModel, params: Params, algorithm: AlgorithmInfo, live_algorithm):
        self.threat = threat
        self.params = params
        self.algorithm = algorithm
        self.round = 0
        self._answers: list[tuple[int, object]] = []
        self._alg = live_algorithm
        self._state = None
        self._state_round = -1

    def _require(self, capability: str, what: str) -> None:
        if capability not in self.threat.capabilities:
            raise ThreatModelError(f"the {self.threat.name} threat model does not reveal {what}")

    @property
    def answers(self) -> tuple[tuple[int, object], ...]:
        """``(round, answer)`` for every query so far (adaptive and above)."""
        self._require("answers", "the algorithm's answers")
        return tuple(self._answers)

    def state(self) -> Mapping:
        """The algorithm's full state as read-only views (white-box)."""
        self._require("state", "the algorithm's state")
        if self._state_round != self.round:
            self._state = _readonly(self._alg.state())
            self._state_round = self.round
        return self._state

    @property
    def coins(self) -> tuple[CoinDraw, ...]:
        """Every coin the algorithm drew so far (white-box). Future coins stay unknown."""
        self._require("coins", "the algorithm's coins")
        return self._alg.coins.log

    def simulate(self, rng: np.random.Generator):
        """A private copy of the algorithm whose future coins come from ``rng``.

        Moves tried on the copy never reach the real algorithm, and the copy's
        coins are the adversary's own, not the real future coins.
        """
        self._require("simulate", "a simulation of the algorithm")
        copy = self._alg.detached_copy()
        copy.attach_coins(Coins.from_rng(rng))
        return copy
