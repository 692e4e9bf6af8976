"""The game engine: streams, problems, coins, threat models, the game loop.

The engine knows only protocols; algorithms and adversaries register
themselves in :mod:`wbstream.engine.registry`, exported here (and from ``wbstream``)
as ``problem_registry``, ``algorithm_registry`` and ``adversary_registry``, so that
``wbstream.algorithms`` and ``wbstream.adversaries`` are always the subpackages.

>>> import wbstream
>>> wbstream.algorithm_registry.get("countsketch").name, wbstream.algorithms.__name__
('countsketch', 'wbstream.algorithms')
"""

from .adversary import Adversary
from .algorithm import LinearSketch, Space, StreamingAlgorithm
from .answers import NOT_LOW_RANK, NOT_SPARSE, SparseVector
from .coins import Coins
from .errors import (BudgetError, NotApplicableError, RecordError, ReplayMismatch, SpecError, StreamError,
                     ThreatModelError, WbstreamError)
from .game import Budget, Game
from .observation import Observation
from .problems import DistinctElements, F2Estimation, Params, Problem, SparseRecovery, Verdict
from .registry import adversary_registry, algorithm_registry, parse_spec, problem_registry
from .replay import replay, replay_from_seed
from .result import GameResult
from .stream import Batch, as_batch
from .threat import ADAPTIVE, OBLIVIOUS, STATE_ONLY, WHITE_BOX, ThreatModel

__all__ = [
    "ADAPTIVE", "Adversary", "Batch", "Budget", "BudgetError", "Coins", "DistinctElements", "F2Estimation",
    "Game", "GameResult", "LinearSketch", "NOT_LOW_RANK", "NOT_SPARSE", "NotApplicableError",
    "OBLIVIOUS", "Observation", "Params", "Problem", "RecordError", "ReplayMismatch", "STATE_ONLY", "Space",
    "SparseRecovery", "SparseVector", "SpecError", "StreamError", "StreamingAlgorithm", "ThreatModel",
    "ThreatModelError", "Verdict", "WHITE_BOX", "WbstreamError", "adversary_registry", "algorithm_registry",
    "as_batch", "parse_spec", "problem_registry", "replay", "replay_from_seed",
]
