"""What Count-Min and CountSketch share as heavy-hitters sketches: a bucket table, m, and a scanned report.

A subclass says whether its table is signed, how it combines one item's per-row
counts into an estimate (min, median), what fraction of ``eps * m`` the estimate
must reach to be reported, its default width, and how many rows a cover set must
reach to fool it. The hash seeds sit in the state, so the matrix and each item's
cells can be rebuilt by a reader of it (``sketch_columns``, ``row_cells``).
"""

from __future__ import annotations

import math
from abc import abstractmethod
from typing import ClassVar

import numpy as np

from wbstream.algorithms.bucket_table import BucketTable
from wbstream.engine.errors import at_least
from wbstream.engine.algorithm import LinearSketch, Space, bits_for_range, nbytes_of
from wbstream.engine.problems import HeavyHitters

#: The default depth keeps the chance of any false heavy hitter in a query below this.
FALSE_REPORT_PROBABILITY = 0.05


def default_depth(n: int) -> int:
    """``ceil(ln(n / 0.05))``: a union bound over the n items a query scans.

    >>> default_depth(100_000)
    15
    """
    return math.ceil(math.log(n / FALSE_REPORT_PROBABILITY))


class BucketHeavyHitters(LinearSketch):
    """Base class: ``depth`` rows (0: :func:`default_depth`) of ``width`` buckets (0: the subclass's default)."""

    problem = HeavyHitters
    arena_problem = "heavy-hitters(n=20000, M=1048576, eps=0.05)"
    signed: ClassVar[bool]
    #: An item is reported when its estimate reaches this fraction of eps * m.
    report_fraction: ClassVar[float]

    def __init__(self, params, coins, *, depth: int = 0, width: int = 0):
        super().__init__(params, coins)
        width = width or self.default_width(params.eps)
        depth = depth or default_depth(params.n)
        at_least(self.name, depth=(depth, 1), width=(width, 2))
        self.depth, self.width = int(depth), int(width)
        self.cells = BucketTable(coins, self.name, depth=self.depth, width=self.width, signed=self.signed)
        self.table = self.cells.table
        self.m = 0

    @staticmethod
    @abstractmethod
    def default_width(eps: float) -> int:
        """The width used when none is given."""

    @abstractmethod
    def combine(self, votes: np.ndarray) -> np.ndarray:
        """One estimate per column of ``votes`` (the per-row counts, ``depth x items``)."""

    @staticmethod
    @abstractmethod
    def rows_to_cover(depth: int) -> int:
        """How many rows must hold a colliding item to make an absent item look heavy."""

    def update(self, indices, deltas):
        self.m += int(deltas.sum())
        self.cells.add(indices, deltas)

    def estimate(self, indices) -> np.ndarray:
        """Each index's estimated count."""
        return self.combine(self.cells.votes(np.asarray(indices, dtype=np.int64)))

    def query(self):
        if self.m <= 0:
            return np.zeros(0, dtype=np.int64)
        threshold = self.report_fraction * self.params.eps * self.m
        return self.cells.scan(self.params.n, lambda keys, votes: self.combine(votes) >= threshold)

    def state(self):
        return {**self.cells.state(), "m": self.m}

    def space(self):
        bound = self.params.n * self.params.M
        counter = bits_for_range(-bound if self.signed else 0, bound)
        return Space(self.table.size * counter + bits_for_range(0, bound), self.cells.key_bits,
                     nbytes_of(self.state()))

    def merge_moduli(self):
        return {"table": None, "m": None}  # exact int64 sums: the sketch of x + x'

    def sketch(self):
        return self.table.reshape(-1).copy()

    @classmethod
    def sketch_columns(cls, params, state, columns):
        return BucketTable.matrix(state, columns)

    @classmethod
    def row_cells(cls, params, state, keys) -> np.ndarray:
        """The counter each key updates in each row, shape ``(depth, len(keys))`` (the cover-set interface)."""
        return BucketTable.cells(state, keys)
