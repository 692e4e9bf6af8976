"""The game engine: streams, problems, coins, threat models, the game loop.

The engine knows only protocols; algorithms and adversaries register
themselves in :mod:`wbstream.engine.registry`.
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
from .registry import adversaries, algorithms, parse_spec, problems
from .replay import replay, replay_from_seed
from .result import GameResult
from .stream import Batch, as_batch
from .threat import ADAPTIVE, OBLIVIOUS, WHITE_BOX, ThreatModel

__all__ = [
    "ADAPTIVE", "Adversary", "Batch", "Budget", "BudgetError", "Coins", "DistinctElements", "F2Estimation",
    "Game", "GameResult", "LinearSketch", "NOT_LOW_RANK", "NOT_SPARSE", "NOT_SPARSE", "NotApplicableError",
    "OBLIVIOUS", "Observation", "Params", "Problem", "RecordError", "ReplayMismatch", "Space", "SparseRecovery",
    "SparseVector", "SpecError", "StreamError", "StreamingAlgorithm", "ThreatModel", "ThreatModelError",
    "Verdict", "WHITE_BOX", "WbstreamError", "adversaries", "algorithms", "as_batch", "parse_spec",
    "problems", "replay", "replay_from_seed",
]
