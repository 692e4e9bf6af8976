"""Playing a white-box game while recording every answer the adversary was shown."""

from __future__ import annotations

from wbstream.engine.game import Game


def recording(cls):
    """A subclass of adversary ``cls`` that keeps every answer it was shown (white-box sees them)."""

    class Recording(cls):
        def act(self, obs):
            self.history = [a for _, a in obs.answers]
            RECORDED.append(self)
            return super().act(obs)

    Recording.__name__ = f"Recording{cls.__name__}"
    return Recording


RECORDED: list = []


def play_recorded(problem, algorithm, adversary_cls, **options):
    """Play to the end (no stop on failure); return the result and the adversary, with ``history``."""
    RECORDED.clear()
    result = Game(problem, algorithm, recording(adversary_cls), "white-box", seed=options.pop("seed", 0),
                  stop_on_failure=False, adversary_options=options).play()
    adv = RECORDED[-1]
    assert len(adv.history) == result.rounds
    return result, adv
