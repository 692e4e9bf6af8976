"""The protocol every streaming algorithm implements.

All randomness comes from the engine's :class:`~wbstream.engine.coins.Coins`;
``state()`` returns everything the algorithm keeps; ``space()`` counts bits by
declared word width, split into working state and stored key/randomness.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from .coins import Coins
from .problems import Params, Problem


@dataclass(frozen=True, slots=True)
class Space:
    """Bits of working state, bits of stored key/randomness, and bytes actually held.

    >>> Space(state_bits=640, key_bits=124, nbytes=96).total_bits
    764
    """

    state_bits: int
    key_bits: int
    nbytes: int

    @property
    def total_bits(self) -> int:
        return self.state_bits + self.key_bits


def bits_for_range(low: int, high: int) -> int:
    """Bits of a word holding any integer in ``[low, high]``.

    >>> bits_for_range(-1024, 1024), bits_for_range(0, 1)
    (12, 1)
    """
    return max(1, math.ceil(math.log2(high - low + 1)))


def nbytes_of(state: Mapping) -> int:
    """Bytes held by the arrays and byte strings of a state mapping."""
    total = 0
    for v in state.values():
        if isinstance(v, np.ndarray):
            total += v.nbytes
        elif isinstance(v, (bytes, bytearray)):
            total += len(v)
        elif isinstance(v, Mapping):
            total += nbytes_of(v)
        else:
            total += 8
    return total


class StreamingAlgorithm(ABC):
    """Base class: a streaming algorithm answering one problem.

    Subclasses declare ``name`` (registry name), ``problem`` (the Problem class
    they answer; ``Problem`` itself means any), ``guarantee`` (the claim, in
    words), and take their options as keyword-only ``__init__`` parameters.

    >>> from wbstream.engine.problems import F2Estimation
    >>> class Zero(StreamingAlgorithm):
    ...     name, problem = "zero", F2Estimation
    ...     def update(self, indices, deltas): return None
    ...     def query(self): return 0.0
    ...     def state(self): return {}
    ...     def space(self): return Space(0, 0, 0)
    >>> Zero.supports(F2Estimation), Zero(None, None).query()
    (True, 0.0)
    """

    name: ClassVar[str]
    problem: ClassVar[type[Problem]] = Problem
    guarantee: ClassVar[str] = ""
    #: The small problem the arena plays this algorithm on by default (a spec string).
    arena_problem: ClassVar[str] = "sparse-recovery(n=512, k=2, M=1024)"

    def __init__(self, params: Params, coins: Coins):
        self.params = params
        self.coins = coins

    @classmethod
    def supports(cls, problem_cls: type[Problem]) -> bool:
        return issubclass(problem_cls, cls.problem)

    @abstractmethod
    def update(self, indices: np.ndarray, deltas: np.ndarray) -> None:
        """Apply a batch of updates (int64 arrays of equal length)."""

    @abstractmethod
    def query(self):
        """The current answer."""

    @abstractmethod
    def state(self) -> Mapping[str, np.ndarray | int | bytes]:
        """Everything the algorithm stores, hash seeds and keys included."""

    @abstractmethod
    def space(self) -> Space:
        """Declared bits of state and key, and bytes actually held."""


class TestedRecovery(StreamingAlgorithm):
    """Relaxed recovery plus a linear hash tester (FW'23, FJW'24), both rebuildable from the state.

    A white-box collision attack needs both matrices: the relaxed recovery's
    (so the decoder returns its chosen vector) and the tester's (so the hashes
    agree). Each classmethod returns ``(matrix, modulus)`` for the given columns.
    """

    #: The name of the deterministic relaxed recovery inside (e.g. "vandermonde").
    relaxed_recovery: ClassVar[str]

    @classmethod
    @abstractmethod
    def recovery_columns(cls, params: Params, state: Mapping, columns: np.ndarray) -> tuple[np.ndarray, int]:
        """The relaxed recovery's matrix on ``columns`` and its modulus."""

    @classmethod
    @abstractmethod
    def tester_columns(cls, params: Params, state: Mapping, columns: np.ndarray) -> tuple[np.ndarray, int]:
        """The tester's matrix on ``columns`` and its modulus."""


class LinearSketch(StreamingAlgorithm):
    """A sketch ``y = S x`` whose matrix ``S`` a reader of ``state()`` can rebuild.

    ``sketch_columns`` is a classmethod on purpose: an adversary computes columns
    from the state it was shown and the public code, not from the live object.
    """

    #: None for sketches over the integers; q for sketches mod a fixed q.
    modulus: ClassVar[int | None] = None

    @classmethod
    def sketch_modulus(cls, params: Params, state: Mapping) -> int | None:
        """The modulus of ``S`` as a reader of the state sees it (override if it is per instance)."""
        return cls.modulus

    @classmethod
    @abstractmethod
    def sketch_columns(cls, params: Params, state: Mapping, columns: np.ndarray) -> np.ndarray:
        """The integer matrix ``S[:, columns]`` (rows = sketch coordinates)."""

    @abstractmethod
    def sketch(self) -> np.ndarray:
        """The current sketch vector ``S x``, flattened."""
