"""What an adversary sees each round, gated by its threat model.

Reading something the threat model does not grant raises
:class:`ThreatModelError`. An Observation is sealed when it is made: its level
cannot be changed, it holds a reference to the algorithm only when its level
reveals the state, and every view it hands out is frozen (arrays over immutable
bytes, so no view has a writable base and ``writeable`` cannot be set; mappings
are read-only proxies; lists become tuples). In-process, this guards against
mistakes and curiosity; against hostile code, run the adversary in its own
process (``Game(..., isolation="process")``).
"""

from __future__ import annotations

import mmap
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

import numpy as np

from .coins import CoinDraw, Coins, frozen_array
from .errors import ThreatModelError
from .problems import Params
from .threat import ThreatModel


@dataclass(frozen=True)
class AlgorithmInfo:
    """The public description of the algorithm under attack (its code is public)."""

    name: str
    spec: str
    cls: type


def _read_only_mapping(value: np.ndarray) -> bool:
    """True for a read-only view of a read-only memory-mapped file (its WRITEABLE flag cannot be set)."""
    if value.flags.writeable:
        return False
    base = value
    while isinstance(base, np.ndarray) and base.base is not None:
        base = base.base
    if isinstance(base, memoryview):
        return base.readonly and isinstance(base.obj, mmap.mmap)
    return isinstance(base, mmap.mmap) and memoryview(base).readonly


def frozen_view(value):
    """A deep read-only copy of a state value: no part of it can write into the original.

    >>> a = np.arange(3)
    >>> v = frozen_view({"t": a, "ks": [1, 2]})
    >>> v["t"].flags.writeable, type(v["ks"]).__name__, v["t"].base is not None
    (False, 'tuple', True)
    >>> v["t"].flags.writeable = True
    Traceback (most recent call last):
    ...
    ValueError: cannot set WRITEABLE flag to True of this array
    """
    if isinstance(value, np.ndarray):
        if _read_only_mapping(value):  # e.g. a cached key of GiBs: nothing can write through it, so no copy
            return value
        if value.dtype.hasobject:
            return tuple(frozen_view(v) for v in value.tolist())
        return frozen_array(value.tobytes(), value.dtype, value.shape)
    if isinstance(value, Mapping):
        return MappingProxyType({k: frozen_view(v) for k, v in value.items()})
    if isinstance(value, (list, tuple)):
        return tuple(frozen_view(v) for v in value)
    if isinstance(value, (bytearray, memoryview)):
        return bytes(value)
    return value


class Observation:
    """The adversary's view. The engine advances ``round`` and appends answers.

    >>> from wbstream.engine.problems import SparseRecovery
    >>> from wbstream.engine.threat import ADAPTIVE, WHITE_BOX
    >>> from wbstream.algorithms.sparse.countsketch import CountSketchRecovery as CS
    >>> p = SparseRecovery(n=64, k=2, M=8)
    >>> alg = CS(p.params, Coins.from_seed(0, "doc"), rows=3, cols=8)
    >>> obs = Observation(WHITE_BOX, p.params, AlgorithmInfo(CS.name, "countsketch", CS), alg)
    >>> obs.state()["table"].flags.writeable, len(obs.coins)
    (False, 2)
    >>> low = Observation(ADAPTIVE, p.params, AlgorithmInfo(CS.name, "countsketch", CS), alg)
    >>> low.state()
    Traceback (most recent call last):
    ...
    wbstream.engine.errors.ThreatModelError: the adaptive threat model does not reveal the algorithm's state
    >>> low.threat = WHITE_BOX
    Traceback (most recent call last):
    ...
    AttributeError: ...
    """

    __slots__ = ("round", "_threat", "_params", "_algorithm", "_answers", "_alg", "_state", "_state_round")

    def __init__(self, threat: ThreatModel, params: Params, algorithm: AlgorithmInfo, live_algorithm):
        self._threat = threat
        self._params = params
        self._algorithm = algorithm
        self.round = 0
        self._answers: list[tuple[int, object]] = []
        # Below state-only nothing here leads to the algorithm, whatever a reader sets.
        self._alg = live_algorithm if threat.grants("state") else None
        self._state = None
        self._state_round = -1

    @property
    def threat(self) -> ThreatModel:
        """The level, fixed when the observation was made."""
        return self._threat

    @property
    def params(self) -> Params:
        return self._params

    @property
    def algorithm(self) -> AlgorithmInfo:
        return self._algorithm

    def _require(self, capability: str, what: str) -> None:
        if capability not in self._threat.capabilities or (capability != "answers" and self._alg is None):
            raise ThreatModelError(f"the {self._threat.name} threat model does not reveal {what}")

    @property
    def answers(self) -> tuple[tuple[int, object], ...]:
        """``(round, answer)`` for every query so far (adaptive and above)."""
        self._require("answers", "the algorithm's answers")
        return tuple(self._answers)

    def state(self) -> Mapping:
        """The algorithm's full state as frozen copies (state-only and white-box)."""
        self._require("state", "the algorithm's state")
        if self._state_round != self.round:
            self._state = frozen_view(self._alg.state())
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
