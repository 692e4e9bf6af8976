"""wbstream: an arena in which white-box adversaries attack streaming algorithms.

>>> from wbstream import Game
>>> r = Game("sparse-recovery(n=512, k=4, M=64)", "countsketch(rows=5, cols=16)",
...          "random-sparse(rounds=5)", "oblivious", seed=0).play()
>>> r.failed
False
"""

__version__ = "0.1.0"

from wbstream.engine import *  # noqa: E402,F401,F403
from wbstream.engine import __all__  # noqa: E402,F401
