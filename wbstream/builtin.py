"""The built-in catalogue: importing this registers every shipped problem, algorithm and adversary."""

from wbstream.adversaries import kernel, oblivious  # noqa: F401
from wbstream.algorithms import exact  # noqa: F401
from wbstream.algorithms.norms import ams  # noqa: F401
from wbstream.algorithms.sparse import countsketch  # noqa: F401
from wbstream.engine import problems  # noqa: F401
