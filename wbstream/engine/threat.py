"""Threat models: what an adversary is shown each round.

A threat model is a named set of capabilities. One model includes another when
it grants every capability of the other, so the levels are ordered:
``oblivious < adaptive < state-only < white-box``. ``state-only`` sees what
the algorithm stores (sketches, ciphertexts, public keys) but no coin: secrets
drawn from the coins and kept out of ``state()`` (an HE secret key, the hash seeds
of an encrypted sketch) stay hidden, and there is no simulation (it would need coins).

>>> WHITE_BOX.includes(ADAPTIVE), OBLIVIOUS.includes(ADAPTIVE), STATE_ONLY.grants("coins")
(True, False, False)
>>> [t.name for t in ThreatModel.levels()]
['oblivious', 'adaptive', 'state-only', 'white-box']
>>> ThreatModel.parse("white-box") is WHITE_BOX
True
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from .errors import SpecError

#: What each capability lets an adversary read.
CAPABILITIES = {
    "params": "the public parameters (problem, algorithm spec)",
    "round": "the round number",
    "answers": "every answer the algorithm has given",
    "state": "the algorithm's full state, read-only",
    "coins": "every coin the algorithm has drawn so far",
    "simulate": "a private copy of the algorithm to try moves on",
}


@dataclass(frozen=True)
class ThreatModel:
    """A named level with the capabilities it grants."""

    name: str
    capabilities: frozenset[str]
    description: str
    _levels: ClassVar[dict[str, ThreatModel]] = {}

    def __post_init__(self):
        unknown = self.capabilities - CAPABILITIES.keys()
        if unknown:
            raise ValueError(f"unknown capabilities {sorted(unknown)}")
        ThreatModel._levels[self.name] = self

    def includes(self, other: ThreatModel) -> bool:
        return other.capabilities <= self.capabilities

    def grants(self, capability: str) -> bool:
        return capability in self.capabilities

    def __str__(self) -> str:
        return self.name

    @classmethod
    def parse(cls, value: str | ThreatModel) -> ThreatModel:
        if isinstance(value, ThreatModel):
            return value
        key = str(value).strip().lower().replace("_", "-")
        if key == "whitebox":
            key = "white-box"
        try:
            return cls._levels[key]
        except KeyError:
            raise SpecError(f"unknown threat model {value!r}; choose one of {', '.join(cls._levels)}") from None

    @classmethod
    def levels(cls) -> list[ThreatModel]:
        return sorted(cls._levels.values(), key=lambda t: len(t.capabilities))


OBLIVIOUS = ThreatModel("oblivious", frozenset({"params", "round"}),
                        "public parameters and the round number; the stream may be fixed up front")
ADAPTIVE = ThreatModel("adaptive", OBLIVIOUS.capabilities | {"answers"},
                       "+ every answer the algorithm gave so far (black-box)")
STATE_ONLY = ThreatModel("state-only", ADAPTIVE.capabilities | {"state"},
                         "+ the full state (sketches, ciphertexts, public keys); no coins, no simulation")
WHITE_BOX = ThreatModel("white-box", STATE_ONLY.capabilities | {"coins", "simulate"},
                        "+ the full state, every coin drawn so far, all parameters; not future coins")
