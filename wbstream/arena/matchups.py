"""Matchups and suites: which games the arena plays.

A :class:`Matchup` is one (problem, algorithm, adversary, threat) with its game
options; the arena plays it once per trial seed. Suites:

* ``quick``: every registered algorithm against every adversary that applies to
  it, at the least threat level the adversary needs, 3 trials;
* ``standard``: the same at every threat level the adversary supports, 5 trials
  (an oblivious adversary only once: it sees the same at every level, and the
  reports show its result under each), plus the scaling sweep of
  :mod:`wbstream.arena.sweep` (time against k, space against n);
* ``separation``: per problem, an oblivious-only, an adaptive-robust and a white-box-robust
  algorithm against the strongest adversary at each level (:mod:`wbstream.arena.separation`), 3 trials;
* ``paper``: the sparse-recovery and linear-sketch matchups of the seed papers, and
  the lattice attack against every fw23, fjw24 and robust-rank preset that fits
  (:mod:`wbstream.arena.paper`), 10 trials;
* a TOML file: ``[[matchup]]`` tables with ``problem``, ``algorithm``,
  ``adversary``, ``threat`` and optionally ``query_every``, ``rounds``,
  ``updates``, ``seconds``, ``sweep`` (the problem option the matchup varies, such
  as ``"k"``: its games draw the scaling plots and are not judged); a top-level
  ``trials`` sets the default count.

Every algorithm and adversary registered anywhere shows up without changes here.

>>> ms = suite("quick")
>>> any(m.algorithm.startswith("countsketch") and m.adversary.startswith("kernel-injection") for m in ms)
True
>>> len({m.id for m in ms}) == len(ms)
True
>>> {m.threat for m in suite("standard") if m.adversary == "dense"}
{'oblivious'}
"""

from __future__ import annotations

import hashlib
import json
import tomllib
from dataclasses import asdict, dataclass, field
from functools import cached_property
from pathlib import Path

from wbstream.engine.coins import Coins
from wbstream.engine.errors import NotApplicableError, SpecError, ThreatModelError, WbstreamError
from wbstream.engine.game import Budget, Game, build
from wbstream.engine.keys import adversary_rng
from wbstream.engine.plugins import is_plugin
from wbstream.engine.registry import adversaries, algorithms, parse_spec, problems
from wbstream.engine.threat import OBLIVIOUS, ThreatModel

from .rows import SWEEP_PREFIX

#: Default trial counts per built-in suite.
SUITE_TRIALS = {"quick": 3, "standard": 5, "paper": 10, "separation": 3}


class SuiteError(WbstreamError, ValueError):
    """An unknown suite name or a malformed suite file."""

    bad_input = True


@dataclass(frozen=True)
class Matchup:
    """One algorithm against one adversary under one threat model, on one problem."""

    problem: str
    algorithm: str
    adversary: str
    threat: str
    query_every: int = 1
    rounds: int | None = 10_000
    updates: int | None = 10_000_000
    seconds: float | None = None
    #: The run secret that keys the games' coins (the arena sets it; not part of the id).
    secret: bytes | None = field(default=None, repr=False, compare=False)
    #: "auto" (isolate adversaries from outside the package), "all", or "none"; not part of the id.
    isolation: str = "auto"
    #: The problem option a game of the scaling sweep varies (:mod:`wbstream.arena.sweep`), or "" for a game
    #: that is judged: a sweep's games measure time and space, not robustness.
    sweep: str = ""
    #: At most this many games whatever the run's trials (None: the run's): a game that draws a key of
    #: GiBs (the paper suite's full-size presets). Not part of the id: a game is the same game either way.
    max_trials: int | None = None

    @cached_property
    def id(self) -> str:
        """A stable short id of everything that defines the games, every option spelled out.

        Specs are kept as written (short, for reports); the id canonicalises them, so a
        changed default makes a new matchup instead of mixing with stored games.
        """
        fields = asdict(self)
        del fields["secret"]
        del fields["isolation"]  # where the adversary runs does not change the games
        del fields["sweep"]  # marked by the prefix instead, so the ids of stored verdict games stay as they were
        del fields["max_trials"]
        fields["problem"] = problems.canonical(self.problem)
        fields["algorithm"] = algorithms.canonical(self.algorithm)
        fields["adversary"] = adversaries.canonical(self.adversary)
        digest = hashlib.sha256(json.dumps(fields, sort_keys=True).encode()).hexdigest()[:16]
        return f"{SWEEP_PREFIX}{self.sweep}-{digest}" if self.sweep else digest

    def trials(self, run_trials: int) -> int:
        """The games this matchup plays in a run of ``run_trials``: capped by ``max_trials``."""
        return run_trials if self.max_trials is None else min(run_trials, self.max_trials)

    def key(self, seed: int) -> str:
        return f"{self.id}/{seed}"

    def game(self, seed: int) -> Game:
        return Game(self.problem, self.algorithm, self.adversary, self.threat,
                    budget=Budget(updates=self.updates, rounds=self.rounds, seconds=self.seconds),
                    query_every=self.query_every, seed=seed, secret=self.secret,
                    isolation=self.isolation_mode())

    def isolation_mode(self) -> str:
        """``"process"`` for an adversary from outside the package (a plugin, a suite file's module) or
        when isolation is ``"all"``; ``"none"`` for the package's own adversaries or when it is ``"none"``.

        >>> Matchup("f2", "exact", "dense", "oblivious").isolation_mode()
        'none'
        >>> Matchup("f2", "exact", "dense", "oblivious", isolation="all").isolation_mode()
        'process'
        """
        if self.isolation not in ("auto", "all", "none"):
            raise SuiteError(f"isolation must be auto, all or none, got {self.isolation!r}")
        if self.isolation != "auto":
            return "process" if self.isolation == "all" else "none"
        cls = adversaries.get(parse_spec(self.adversary).name)
        return "none" if cls.__module__.startswith("wbstream.") and not is_plugin(cls) else "process"


def _playable(m: Matchup) -> bool:
    """Whether ``m`` builds, and (for the package's own adversaries) whether its adversary accepts
    the problem's options: some refuse only at reset (a turnstile-only attack on an
    ``insertion_only=True`` problem), which would otherwise make every game of it an error."""
    try:
        g = m.game(0)
        if g.isolation == "none":
            problem = g.problem_cls(**g.problem_opts)
            g.adv_cls(**g.adv_opts).reset(problem.params, adversary_rng(g.key_for(0)))
    except (SpecError, ThreatModelError, NotApplicableError):
        return False
    return True


def check_playable(m: Matchup) -> None:
    """Build the problem and the algorithm of ``m`` once (and reset the adversary, unless it is
    isolated from this process), so a bad spec fails now.

    Options a constructor rejects (``fjw24(preset='nosuch')``) pass the spec check and
    would otherwise fail in every game of the run.
    """
    g = m.game(0)
    problem = g.problem_cls(**g.problem_opts)
    key = g.key_for(0)
    g.build_algorithm(problem.params, Coins.for_game(key))
    if g.isolation == "none":
        adversary = g.adv_cls(**g.adv_opts)
        build("adversary", g.adv_spec, lambda: adversary.reset(problem.params, adversary_rng(key)))


def _message(exc: BaseException) -> str:
    return str(exc) if isinstance(exc, WbstreamError) else f"{type(exc).__name__}: {exc}"


def registry_matchups(all_levels: bool) -> list[Matchup]:
    """Every registered algorithm on its arena problem against every adversary that applies."""
    out = []
    for a in algorithms.names():
        alg_cls = algorithms.get(a)
        unavailable = getattr(alg_cls, "unavailable", None)
        if callable(unavailable) and unavailable():  # e.g. redis-hll where no Redis server can be had
            continue
        for d in adversaries.names():
            needs = adversaries.get(d).needs
            # an oblivious adversary sees the same at every level: one play stands for all of them
            levels = ([t for t in ThreatModel.levels() if t.includes(needs)]
                      if all_levels and needs is not OBLIVIOUS else [needs])
            # the fewer of the adversary's and the algorithm's arena rounds (either may set them)
            caps = [c for c in (adversaries.get(d).arena_rounds, getattr(alg_cls, "arena_rounds", None)) if c]
            rounds = min(caps) if caps else None
            for level in levels:
                m = Matchup(alg_cls.arena_problem, alg_cls.arena_spec(), d, level.name,
                            **({"rounds": rounds} if rounds is not None else {}))
                if _playable(m):
                    out.append(m)
    return out


def paper_matchups() -> list[Matchup]:
    """The seed papers' comparisons: sparse recovery with and without testers, and linear sketches;
    then the lattice attack against every fw23, fjw24 and robust-rank preset (:mod:`wbstream.arena.paper`,
    whose ``preset_skips`` lists the presets left out and why)."""
    from wbstream.arena.paper import preset_sweep

    names = ("vandermonde", "fw23", "fjw24", "countsketch", "ams")
    sweep = preset_sweep()[0]
    swept = {m.id for m in sweep}  # the sweep names the preset ("fw23(preset='toy')" for "fw23"): keep its spec
    return [m for m in registry_matchups(all_levels=False)
            if m.algorithm.split("(")[0] in names and m.id not in swept] + sweep


def load_toml(path: str | Path) -> tuple[list[Matchup], int | None]:
    """Matchups and the default trial count from a TOML suite file."""
    try:
        data = tomllib.loads(Path(path).read_text())
    except FileNotFoundError:
        raise SuiteError(f"no suite file {path}") from None
    except tomllib.TOMLDecodeError as exc:
        raise SuiteError(f"malformed suite file {path}: {exc}") from None
    except RecursionError:
        raise SuiteError(f"malformed suite file {path}: its arrays or tables nest too deeply") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise SuiteError(f"cannot read the suite file {path}: {exc}") from None
    tables = data.get("matchup")
    if not isinstance(tables, list) or not tables:
        raise SuiteError(f"suite file {path} has no [[matchup]] tables")
    fields = set(Matchup.__dataclass_fields__)
    out = []
    for i, t in enumerate(tables):
        if not isinstance(t, dict):
            raise SuiteError(f"{path}: matchup {i + 1} is not a table")
        unknown = set(t) - fields
        missing = {"problem", "algorithm", "adversary", "threat"} - set(t)
        if unknown or missing:
            raise SuiteError(f"{path}: matchup {i + 1} " + (f"has unknown keys {sorted(unknown)}" if unknown
                                                            else f"lacks {sorted(missing)}"))
        wrong = [k for k in ("problem", "algorithm", "adversary", "threat") if not isinstance(t[k], str)]
        if wrong:
            raise SuiteError(f"{path}: matchup {i + 1}: {wrong[0]} must be a spec string, got {t[wrong[0]]!r}")
        sweep = t.get("sweep", "")
        if not isinstance(sweep, str) or (sweep and not sweep.isidentifier()):
            raise SuiteError(f"{path}: matchup {i + 1}: sweep must name the problem option it varies "
                             f"(like \"k\"), got {sweep!r}")
        m = Matchup(**t)
        try:
            check_playable(m)
        except Exception as exc:  # whatever building the players raises, it is this matchup's fault
            raise SuiteError(f"{path}: matchup {i + 1} cannot be played: {_message(exc)}") from None
        out.append(m)
    trials = data.get("trials")
    if trials is not None and (not isinstance(trials, int) or isinstance(trials, bool) or trials < 1):
        raise SuiteError(f"{path}: trials must be a positive integer, got {trials!r}")
    return out, trials


def suite(name: str) -> list[Matchup]:
    """The matchups of a built-in suite or a TOML file path."""
    if name == "quick":
        return registry_matchups(all_levels=False)
    if name == "standard":
        from .sweep import sweep_matchups

        from .separation import separation_matchups

        base = registry_matchups(all_levels=True) + sweep_matchups()
        ids = {m.id for m in base}
        return base + [m for m in separation_matchups() if m.id not in ids]
    if name == "separation":
        from .separation import separation_matchups

        return separation_matchups()
    if name == "paper":
        return paper_matchups()
    if name.endswith(".toml"):
        return load_toml(name)[0]
    raise SuiteError(f"unknown suite {name!r}; choose quick, standard, separation, paper, or a .toml file")
