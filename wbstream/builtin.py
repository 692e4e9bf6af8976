"""The built-in catalogue: importing this registers every shipped problem, algorithm and adversary."""

from wbstream.adversaries import finite_difference, kernel, oblivious  # noqa: F401
from wbstream.algorithms import exact  # noqa: F401
from wbstream.algorithms.norms import ams  # noqa: F401
from wbstream.algorithms.sparse import countsketch, vandermonde  # noqa: F401
from wbstream.engine import problems  # noqa: F401
