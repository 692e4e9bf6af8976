"""Test-wide configuration for the doctests in wbstream/ and the suite in tests/.

Games draw a fresh secret from the OS unless given one, so two runs of the same
seed play different coins. The suite must not flake, so here every secret a game
would draw is one fixed test secret; a test of the fresh-secret default itself is
marked ``fresh_secret``.
"""

import pytest

from wbstream.engine import keys

TEST_SECRET = bytes.fromhex("5eed" * 16)


def pytest_configure(config):
    config.addinivalue_line("markers", "fresh_secret: games draw real fresh secrets from the OS")


@pytest.fixture(autouse=True)
def fixed_secret(request, monkeypatch):
    if request.node.get_closest_marker("fresh_secret") is None:
        monkeypatch.setattr(keys, "new_secret", lambda: TEST_SECRET)
    yield
