"""Shared pytest configuration: hypothesis profiles (``ci`` when $CI is set, else ``dev``)."""

import os
import sys

sys.path.insert(0, os.path.dirname(__file__))  # shared helpers such as streams.py

from hypothesis import settings

settings.register_profile("ci", derandomize=True, deadline=None, max_examples=40, print_blob=True)
settings.register_profile("dev", deadline=None, max_examples=40)
settings.load_profile("ci" if os.environ.get("CI") else "dev")
