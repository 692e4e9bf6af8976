"""Answers an algorithm can give, shared by algorithms and the referee.

>>> SparseVector.from_dense([0, 3, 0, -1])
SparseVector(indices=[1, 3], values=[3, -1])
>>> NOT_SPARSE
NOT_SPARSE
"""

from __future__ import annotations

import enum
import hashlib
import json

import numpy as np


class Detection(enum.Enum):
    """The "this input breaks the promise" answers of problems with detection."""

    NOT_SPARSE = "NOT_SPARSE"
    NOT_LOW_RANK = "NOT_LOW_RANK"

    def __repr__(self) -> str:
        return self.value


NOT_SPARSE = Detection.NOT_SPARSE
NOT_LOW_RANK = Detection.NOT_LOW_RANK


class SparseVector:
    """An integer vector given by its non-zero entries, indices ascending."""

    __slots__ = ("indices", "values")

    def __init__(self, indices, values):
        idx = np.asarray(indices, dtype=np.int64)
        val = np.asarray(values, dtype=np.int64)
        order = np.argsort(idx, kind="stable")
        idx, val = idx[order], val[order]
        keep = val != 0
        self.indices, self.values = idx[keep], val[keep]
        if len(np.unique(self.indices)) != len(self.indices):
            raise ValueError("SparseVector indices must be distinct")

    @classmethod
    def from_dense(cls, x) -> SparseVector:
        x = np.asarray(x)
        idx = np.flatnonzero(x)
        return cls(idx, x[idx])

    def __len__(self) -> int:
        return len(self.indices)

    def __eq__(self, other) -> bool:
        return isinstance(other, SparseVector) and np.array_equal(self.indices, other.indices) \
            and np.array_equal(self.values, other.values)

    __hash__ = None

    def __repr__(self) -> str:
        return f"SparseVector(indices={self.indices.tolist()}, values={self.values.tolist()})"


def answer_to_json(answer) -> object:
    """A JSON-ready form of any answer (used in results and transcripts)."""
    if isinstance(answer, Detection):
        return answer.value
    if isinstance(answer, SparseVector):
        return {"indices": answer.indices.tolist(), "values": answer.values.tolist()}
    if hasattr(answer, "to_json"):  # e.g. the matrix answers of wbstream.engine.matrix_problems
        return answer.to_json()
    if isinstance(answer, (np.integer, np.floating)):
        return answer.item()
    if isinstance(answer, np.ndarray):
        return answer.tolist()
    return answer


def answer_digest(answer) -> str:
    """A short stable fingerprint of an answer, for replay checks."""
    text = json.dumps(answer_to_json(answer), sort_keys=True, default=repr)
    return hashlib.sha256(text.encode()).hexdigest()[:16]
