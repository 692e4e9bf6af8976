"""What ``wbstream`` and ``wbstream.engine`` export, and that no name means two things."""

from __future__ import annotations

import importlib
import subprocess
import sys
import types

import wbstream
import wbstream.engine
from wbstream.engine.registry import Registry


def test_state_only_is_exported():
    from wbstream import STATE_ONLY
    from wbstream.engine import STATE_ONLY as engine_state_only
    from wbstream.engine.threat import STATE_ONLY as threat_state_only

    assert STATE_ONLY is engine_state_only is threat_state_only and STATE_ONLY.name == "state-only"


def test_registries_have_their_own_names():
    for module in (wbstream, wbstream.engine):
        for name, kind in (("problem_registry", "problem"), ("algorithm_registry", "algorithm"),
                           ("adversary_registry", "adversary")):
            registry = getattr(module, name)
            assert isinstance(registry, Registry) and registry.kind == kind
            assert name in module.__all__
        assert not {"algorithms", "adversaries", "problems"} & set(module.__all__)


def test_subpackage_names_are_never_registries():
    """Before and after an algorithm module is imported, ``wbstream.algorithms`` is the subpackage."""
    code = ("import wbstream, types\n"
            "from wbstream import algorithms, adversaries\n"
            "from wbstream.engine import problems\n"
            "assert isinstance(algorithms, types.ModuleType) and algorithms.__name__ == 'wbstream.algorithms'\n"
            "assert isinstance(adversaries, types.ModuleType) and adversaries.__name__ == 'wbstream.adversaries'\n"
            "assert isinstance(problems, types.ModuleType) and problems.__name__ == 'wbstream.engine.problems'\n"
            "wbstream.algorithm_registry.names()\n"  # imports every algorithm module
            "from wbstream import algorithms as again\n"
            "assert again is algorithms\n")
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stderr


def test_every_exported_name_resolves():
    for module in (wbstream, wbstream.engine):
        for name in module.__all__:
            assert getattr(module, name) is not None, name
    assert isinstance(importlib.import_module("wbstream.algorithms"), types.ModuleType)
