"""GameResult: everything one game records, serialisable to JSON.

>>> r = GameResult(problem="f2(n=4)", algorithm="exact", adversary="dense", threat="oblivious", seed=1)
>>> GameResult.from_json(r.to_json()) == r
True
"""

from __future__ import annotations

import functools
import json
import subprocess
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path


@functools.lru_cache(maxsize=1)
def package_version() -> str:
    from wbstream import __version__
    return __version__


@functools.lru_cache(maxsize=1)
def git_commit() -> str | None:
    """The commit of the checkout wbstream runs from, or None outside git."""
    try:
        out = subprocess.run(["git", "rev-parse", "HEAD"], cwd=Path(__file__).resolve().parent,
                             capture_output=True, text=True, timeout=5)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return out.stdout.strip() or None if out.returncode == 0 else None


@dataclass
class Transcript:
    """The batches of a game and a digest of each answer: enough to replay it exactly."""

    batches: list[tuple[int, list[int], list[int]]] = field(default_factory=list)
    answers: list[tuple[int, str, bool]] = field(default_factory=list)


@dataclass
class GameResult:
    """The record of one game (DESIGN §7)."""

    problem: str
    algorithm: str
    adversary: str
    threat: str
    seed: int
    #: The game's key (hex), from which its coins and the adversary's generator follow; set when it ends.
    game_key: str | None = None
    query_every: int = 1
    budget_rounds: int | None = None
    budget_updates: int | None = None
    budget_seconds: float | None = None
    version: str = field(default_factory=package_version)
    commit: str | None = field(default_factory=git_commit)
    failed: bool = False
    first_failure_round: int | None = None
    failure_kind: str | None = None
    failure_detail: str | None = None
    final_detail: str | None = None  # the referee's words on the last answer, right or wrong
    failed_queries: int = 0
    rounds: int = 0
    updates: int = 0
    queries: int = 0
    stop_reason: str = ""
    space_state_bits: int = 0
    space_key_bits: int = 0
    space_nbytes: int = 0
    timed_rounds: int = 0
    update_ns_median: float | None = None
    update_ns_p99: float | None = None
    query_ns_median: float | None = None
    adversary_seconds: float = 0.0
    wall_seconds: float = 0.0
    transcript: Transcript | None = None

    def to_dict(self) -> dict:
        return asdict(self)

    def to_json(self) -> str:
        return json.dumps(self.to_dict())

    @classmethod
    def from_dict(cls, data: dict) -> GameResult:
        known = {f.name for f in fields(cls)}
        unknown = set(data) - known
        if unknown:
            raise ValueError(f"not a GameResult: unknown fields {sorted(unknown)}")
        data = dict(data)
        if data.get("transcript") is not None:
            t = data["transcript"]
            data["transcript"] = Transcript([tuple(b) for b in t["batches"]], [tuple(a) for a in t["answers"]])
        return cls(**data)

    @classmethod
    def from_json(cls, text: str) -> GameResult:
        return cls.from_dict(json.loads(text))
