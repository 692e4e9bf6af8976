"""``python -m wbstream.cli``: the ``wbstream`` command."""

import sys

from wbstream.cli import main

sys.exit(main())
