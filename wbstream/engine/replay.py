"""Replay: play a recorded game again and check that it comes out the same.

A record is untrusted input. :func:`replay` re-sends the batches of its
transcript and compares every answer digest *and* every outcome field (failed,
failure kind and round, rounds, updates, queries, ...); :func:`replay_from_seed`
plays the game again from its specs, seed and game key and compares the outcome fields.
Both are bounded by the record's own budget, and a record that is malformed
(missing or mistyped fields, rounds that are not 1, 2, 3, ..., more rounds,
updates or updates per batch than its budget allows, numbers beyond int64)
is a :class:`~wbstream.engine.errors.RecordError` before anything is played.

Sizes of randomized ciphertexts differ from run to run: an algorithm may declare
``space_tolerance`` (a relative tolerance on ``space_state_bits`` and
``space_key_bits``, 0 by default), and replay allows that much difference.
Everything else must be identical.

>>> from wbstream.engine.game import Game
>>> from wbstream.engine.result import GameResult
>>> r = Game("f2(n=64, M=8, eps=0.5)", "exact", "dense(rounds=5)", "oblivious", seed=3,
...          record_transcript=True).play()
>>> replay(r).rounds
5
>>> forged = GameResult.from_json(r.to_json())
>>> forged.failed = True
>>> replay(forged)
Traceback (most recent call last):
...
wbstream.engine.errors.ReplayMismatch: exact vs dense(rounds=5, batch=256) (oblivious), seed 3: failed: recorded True, replayed False
"""

from __future__ import annotations

import numpy as np

from .adversary import Adversary
from .errors import RecordError, ReplayMismatch, StreamError, WbstreamError
from .game import Budget, Game
from .plugins import is_plugin
from .registry import adversaries, parse_spec
from .result import GameResult, Transcript
from .stream import Batch, RowBatch
from .threat import OBLIVIOUS

__all__ = ["OUTCOME_FIELDS", "TranscriptAdversary", "check_transcript", "replay", "replay_from_seed"]

#: What must be identical when a game is played again (timings may differ; space within the
#: algorithm's ``space_tolerance``).
OUTCOME_FIELDS = ("failed", "first_failure_round", "failure_kind", "failure_detail", "final_detail", "failed_queries",
                  "rounds", "updates", "queries", "stop_reason", "space_state_bits", "space_key_bits")
_SPACE_FIELDS = ("space_state_bits", "space_key_bits")

# A transcript ends where the game ended; a game stopped by its update or time budget
# replays to the end of its transcript, where the replay's adversary stops.
_TRANSCRIPT_STOPS = {"update-budget": ("adversary-stopped", "round-budget"),
                     "time-budget": ("adversary-stopped", "round-budget")}


class TranscriptAdversary(Adversary):
    """Re-sends the batches of a recorded transcript, round by round (an empty batch in a round it lacks).

    ``progress`` (a dict, optional) is told the last round served, so a refusal can name it.
    """

    name = "transcript"
    needs = OBLIVIOUS
    stream_kind = None  # re-sends whatever was recorded

    def __init__(self, *, transcript: Transcript, progress: dict | None = None):
        self._by_round = {r: (i, d) for r, i, d in transcript.batches}
        self._last = max(self._by_round, default=0)
        self._progress = progress

    def act(self, obs):
        r = obs.round
        if r > self._last:
            return None
        if self._progress is not None:
            self._progress["round"] = r
        recorded = self._by_round.get(r)
        return Batch.concat([]) if recorded is None else _recorded_batch(r, *recorded)


def _recorded_batch(r: int, indices: list, deltas: list) -> Batch:
    """A transcript's batch: rows of floats come back as a RowBatch, integer updates as a Batch."""
    try:
        if any(type(d) is float for d in deltas):
            return RowBatch.from_entries(indices, deltas)
        return Batch(np.array(indices, np.int64), np.array(deltas, np.int64))
    except (StreamError, OverflowError, TypeError, ValueError) as exc:
        raise RecordError(f"the recorded batch of round {r} is not a batch: {exc}") from None


def _recorded_key(result: GameResult) -> bytes:
    """The record's game key: the same key plays the same coins (and the adversary the same generator)."""
    if result.game_key is None:
        raise RecordError(f"{_label(result)}: the record has no game key (64 hex digits), "
                          f"so its coins cannot be replayed")
    return bytes.fromhex(result.game_key)  # validate() checked it is 64 hex digits


def _label(result: GameResult) -> str:
    return f"{result.algorithm} vs {result.adversary} ({result.threat}), seed {result.seed}"


def check_transcript(result: GameResult) -> None:
    """Refuse a transcript that a game within the record's budget could not have written.

    Rounds must be 1, 2, 3, ... (a game records every round it plays) and no more
    than the round budget; the updates, and the updates of each batch, within theirs.
    (Answers need no check here: replay compares them with its own.)

    >>> from wbstream.engine.result import Transcript
    >>> r = GameResult("f2(n=4)", "exact", "dense", "oblivious", seed=0, budget_rounds=10,
    ...                transcript=Transcript([(1, [0], [1]), (10**15, [0], [1])], []))
    >>> check_transcript(r)
    Traceback (most recent call last):
    ...
    wbstream.engine.errors.RecordError: transcript batch 1 is for round 1000000000000000; rounds must run 1, 2, 3, ... (a game records every round)
    """
    result.validate()
    t = result.transcript
    if not isinstance(t, Transcript):
        raise RecordError("this record has no transcript; play with record_transcript=True")
    for j, (r, idx, dlt) in enumerate(t.batches):
        if r != j + 1:
            raise RecordError(f"transcript batch {j} is for round {r}; rounds must run 1, 2, 3, ... "
                              f"(a game records every round)")
    if result.budget_rounds is not None and len(t.batches) > result.budget_rounds:
        raise RecordError(f"the transcript has {len(t.batches)} rounds, over the record's round budget "
                          f"{result.budget_rounds}")
    sizes = [len(idx) for _, idx, _ in t.batches]
    if result.budget_updates is not None and sum(sizes) > result.budget_updates:
        raise RecordError(f"the transcript has {sum(sizes)} updates, over the record's update budget "
                          f"{result.budget_updates}")
    if result.budget_max_batch is not None and sizes and max(sizes) > result.budget_max_batch:
        raise RecordError(f"the transcript has a batch of {max(sizes)} updates, over the record's max_batch "
                          f"{result.budget_max_batch}")


def _budget(result: GameResult, rounds: int | None) -> Budget:
    """The record's budget, checked whole, with ``rounds`` and no time limit (the replay is bounded otherwise)."""
    try:
        Budget(updates=result.budget_updates, rounds=result.budget_rounds, seconds=result.budget_seconds,
               max_batch=result.budget_max_batch)
        return Budget(updates=result.budget_updates, rounds=rounds, max_batch=result.budget_max_batch)
    except WbstreamError as exc:
        raise RecordError(f"the record's budget: {exc}") from None


def _compare(result: GameResult, again: GameResult, tolerance: float, stops: dict) -> None:
    """Raise :class:`ReplayMismatch` naming the game and the first outcome field that differs."""
    for name in OUTCOME_FIELDS:
        want, got = getattr(result, name), getattr(again, name)
        if name in _SPACE_FIELDS and isinstance(want, int):
            same = abs(got - want) <= tolerance * abs(want)
        elif name == "stop_reason":
            same = got == want or got in stops.get(want, ())
        else:
            same = got == want
        if not same:
            allowed = f" (tolerance {tolerance:.0%})" if name in _SPACE_FIELDS and tolerance else ""
            raise ReplayMismatch(f"{_label(result)}: {name}: recorded {want!r}, replayed {got!r}{allowed}")


def replay(result: GameResult) -> GameResult:
    """Replay a recorded game from its transcript; check every answer and every outcome field.

    Raises :class:`RecordError` if the record cannot be replayed (see
    :func:`check_transcript`; a recorded batch the referee refuses, too) and
    :class:`ReplayMismatch` naming the first answer or field that differs.
    """
    if not isinstance(result, GameResult):
        raise RecordError(f"replay takes a GameResult, got {type(result).__name__}")
    check_transcript(result)
    progress: dict = {}
    game = Game(result.problem, result.algorithm, TranscriptAdversary, result.threat,
                budget=_budget(result, result.budget_rounds), query_every=result.query_every,
                seed=result.seed, stop_on_failure=result.stop_reason == "failure", record_transcript=True,
                adversary_options={"transcript": result.transcript, "progress": progress},
                game_key=_recorded_key(result))
    game.adv_spec = result.adversary
    try:
        again = game.play()
    except StreamError as exc:
        raise RecordError(f"the referee refuses the recorded batch of round {progress.get('round')}: {exc}") from None
    want = {r: (d, ok) for r, d, ok in result.transcript.answers}
    got = {r: (d, ok) for r, d, ok in again.transcript.answers}
    for r in sorted(want):
        if got.get(r) != want[r]:
            raise ReplayMismatch(f"{_label(result)}: round {r}: recorded answer {want[r]} "
                                 f"but the replay gave {got.get(r)}")
    if len(got) != len(want):
        raise ReplayMismatch(f"{_label(result)}: the replay made {len(got)} queries, the record {len(want)}")
    _compare(result, again, getattr(game.alg_cls, "space_tolerance", 0.0), _TRANSCRIPT_STOPS)
    return again


def replay_from_seed(result: GameResult) -> GameResult:
    """Play a recorded game again from its specs and seed, and check the outcome is identical.

    Needs no transcript: games are deterministic given their key (the record's
    ``game_key``, from its run's secret and its seed). Raises
    :class:`ReplayMismatch` naming the game and the first field that differs. Games
    with a time budget are refused (wall-clock time does not replay). The replay plays
    at most one round more than the record (and never beyond the round budget). An
    adversary plugin (:mod:`~wbstream.engine.plugins`) plays again from its own process.
    """
    if not isinstance(result, GameResult):
        raise RecordError(f"replay takes a GameResult, got {type(result).__name__}")
    result.validate()
    if result.budget_seconds is not None:
        raise RecordError(f"{_label(result)}: a game with a time budget cannot be replayed from its seed; "
                          f"record its transcript")
    rounds = result.rounds + 1 if result.budget_rounds is None else min(result.budget_rounds, result.rounds + 1)
    plugin = is_plugin(adversaries.get(parse_spec(result.adversary).name))
    game = Game(result.problem, result.algorithm, result.adversary, result.threat, budget=_budget(result, rounds),
                query_every=result.query_every, seed=result.seed, game_key=_recorded_key(result),
                isolation="process" if plugin else "none")  # an adversary plugin is never imported here
    try:
        again = game.play()
    except StreamError as exc:
        raise ReplayMismatch(f"{_label(result)}: the replay refused a batch the game had accepted: {exc}") from None
    _compare(result, again, getattr(game.alg_cls, "space_tolerance", 0.0), {})
    # only a replay from the seed plays the adversary again (a transcript replay re-sends batches);
    # records made before isolated games carried notes back have none to check
    if result.adversary_notes is not None and again.adversary_notes != result.adversary_notes:
        raise ReplayMismatch(f"{_label(result)}: adversary_notes: recorded {result.adversary_notes!r}, "
                             f"replayed {again.adversary_notes!r}")
    return again
