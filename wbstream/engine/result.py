"""GameResult: everything one game records, serialisable to JSON.

>>> r = GameResult(problem="f2(n=4)", algorithm="exact", adversary="dense", threat="oblivious", seed=1)
>>> GameResult.from_json(r.to_json()) == r
True
"""

from __future__ import annotations

import functools
import json
import reprlib
import subprocess
from dataclasses import MISSING, asdict, dataclass, field, fields
from pathlib import Path

from .errors import RecordError


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
    """The record of one game: its specs, budget, outcome, costs, and (optionally) its transcript."""

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
    budget_max_batch: int | None = None
    version: str = field(default_factory=package_version)
    commit: str | None = field(default_factory=git_commit)
    failed: bool = False
    first_failure_round: int | None = None
    failure_kind: str | None = None
    failure_detail: str | None = None
    final_detail: str | None = None  # the referee's words on the last answer, right or wrong
    adversary_notes: str | None = None  # what the adversary reported of its play (Adversary.notes)
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
        """Rebuild a record, checking the type of every field; a malformed one is a :class:`RecordError`.

        >>> GameResult.from_dict({"problem": "f2", "algorithm": "exact", "adversary": "dense",
        ...                       "threat": "oblivious", "seed": "1"})
        Traceback (most recent call last):
        ...
        wbstream.engine.errors.RecordError: record field 'seed' must be int, got str
        """
        if not isinstance(data, dict):
            raise RecordError(f"a game record is a JSON object, got {type(data).__name__}")
        known = {f.name: f for f in fields(cls)}
        unknown = set(data) - set(known)
        if unknown:
            raise RecordError(f"not a GameResult: unknown fields {sorted(map(str, unknown))}")
        missing = [name for name, f in known.items() if name not in data
                   and f.default is MISSING and f.default_factory is MISSING]
        if missing:
            raise RecordError(f"record field {missing[0]!r} is missing")
        data = dict(data)
        for name, value in data.items():
            _check_field(name, known[name].type, value)
        _check_game_key(data.get("game_key"))
        if data.get("transcript") is not None:
            data["transcript"] = _transcript(data["transcript"])
        return cls(**data)

    def validate(self) -> None:
        """Check the type of every field and the transcript's numbers, as :meth:`from_dict` does.

        A record changed after it was read (or built by hand) is checked again before replay.
        """
        for f in fields(self):
            _check_field(f.name, f.type, getattr(self, f.name))
        _check_game_key(self.game_key)
        if self.transcript is not None:
            _transcript(self.transcript)

    @classmethod
    def from_json(cls, text: str) -> GameResult:
        try:
            data = json.loads(text)
        except RecursionError:
            raise RecordError("a game record nested too deeply to read") from None
        except ValueError as exc:  # JSONDecodeError, or bytes that are not UTF-8
            raise RecordError(f"a game record is not valid JSON: {exc}") from None
        return cls.from_dict(data)


_INT64 = (-(1 << 63), (1 << 63) - 1)
_CHECKS = {"str": (str,), "int": (int,), "bool": (bool,), "float": (int, float)}


def _check_field(name: str, annotation: str, value) -> None:
    """Check ``value`` against a field annotation such as ``"int | None"`` (others are not checked here)."""
    options = [t.strip() for t in str(annotation).split("|")]
    if value is None and "None" in options:
        return
    if options[0] == "Transcript":
        return  # checked by _transcript
    allowed = _CHECKS.get(options[0])
    if allowed is None:
        return
    if type(value) not in allowed:  # type(): a bool is not an int here
        raise RecordError(f"record field {name!r} must be {options[0]}, got {type(value).__name__}")


def _check_game_key(key) -> None:
    """A game key is 64 lowercase or uppercase hex digits (32 bytes), or absent."""
    if key is not None and (len(key) != 64 or any(c not in "0123456789abcdefABCDEF" for c in key)):
        raise RecordError(f"record field 'game_key' must be 64 hex digits, got {reprlib.repr(key)}")


def _transcript(t) -> Transcript:
    """A transcript from its JSON form (or a Transcript), every round, index, delta and answer checked."""
    if isinstance(t, Transcript):
        batches, answers = t.batches, t.answers
    elif isinstance(t, dict) and set(t) == {"batches", "answers"}:
        batches, answers = t["batches"], t["answers"]
    else:
        raise RecordError("record field 'transcript' must be an object with 'batches' and 'answers'")
    if type(batches) is not list or type(answers) is not list:
        raise RecordError("transcript 'batches' and 'answers' must be lists")
    out_b = []
    for j, b in enumerate(batches):
        if type(b) not in (list, tuple) or len(b) != 3:
            raise RecordError(f"transcript batch {j} must be [round, indices, deltas]")
        r, idx, dlt = b
        if type(r) is not int or type(idx) is not list or type(dlt) is not list:
            raise RecordError(f"transcript batch {j} must be [round, indices, deltas] with an int round and lists")
        if len(idx) != len(dlt):
            raise RecordError(f"transcript batch {j} (round {r}): {len(idx)} indices but {len(dlt)} deltas")
        _check_numbers(idx, (int,), f"transcript batch {j} (round {r}) indices")
        _check_numbers(dlt, (int, float), f"transcript batch {j} (round {r}) deltas")
        out_b.append((r, idx, dlt))
    out_a = []
    for j, a in enumerate(answers):
        if (type(a) not in (list, tuple) or len(a) != 3 or type(a[0]) is not int or type(a[1]) is not str
                or type(a[2]) is not bool):
            raise RecordError(f"transcript answer {j} must be [round, digest, correct] (int, str, bool)")
        out_a.append(tuple(a))
    return Transcript(out_b, out_a)


def _check_numbers(values: list, allowed: tuple, what: str) -> None:
    kinds = set(map(type, values))
    if not kinds <= set(allowed):
        bad = next(v for v in values if type(v) not in allowed)
        raise RecordError(f"{what}: {reprlib.repr(bad)} is not a number of the stream")
    if int in kinds:
        ints = [v for v in values if type(v) is int] if float in kinds else values
        lo, hi = min(ints), max(ints)
        if lo < _INT64[0] or hi > _INT64[1]:
            raise RecordError(f"{what}: {lo if lo < _INT64[0] else hi} does not fit in int64")
