"""String registries for problems, algorithms and adversaries.

A spec is ``name`` or ``name(key=value, ...)`` with Python literal values, as in
OpenSpiel's ``load_game("kuhn_poker(players=3)")``. The accepted keys are the
keyword parameters of the registered class's ``__init__``; their annotations
and defaults are what ``wbstream list`` shows.

>>> parse_spec("countsketch(rows=5, cols=64)")
Spec(name='countsketch', options={'rows': 5, 'cols': 64})
>>> parse_spec("hll(p=12")
Traceback (most recent call last):
...
wbstream.engine.errors.SpecError: malformed spec 'hll(p=12': unbalanced parentheses
"""

from __future__ import annotations

import ast
import difflib
import importlib
import inspect
import re
import typing
from dataclasses import dataclass, field
from importlib import metadata
from typing import Any, Generic, TypeVar

from .errors import SpecError

T = TypeVar("T", bound=type)

_NAME = re.compile(r"\s*([A-Za-z][A-Za-z0-9_.\-]*)\s*(.*)$", re.S)


@dataclass(frozen=True)
class Spec:
    """A parsed spec: a registry name and its options."""

    name: str
    options: dict[str, Any] = field(default_factory=dict)

    def __str__(self) -> str:
        if not self.options:
            return self.name
        return f"{self.name}(" + ", ".join(f"{k}={v!r}" for k, v in self.options.items()) + ")"


def parse_spec(text: str | Spec) -> Spec:
    """Parse ``name(key=value, ...)``; values are Python literals."""
    if isinstance(text, Spec):
        return text
    if not isinstance(text, str):
        raise SpecError(f"a spec is a string like 'name(key=value)', got {type(text).__name__}")
    m = _NAME.match(text)
    if not m:
        raise SpecError(f"malformed spec {text!r}: expected name or name(key=value, ...)")
    name, rest = m.group(1), m.group(2).strip()
    if not rest:
        return Spec(name)
    if not rest.startswith("("):
        raise SpecError(f"malformed spec {text!r}: unexpected {rest[:20]!r} after the name")
    if rest.count("(") != rest.count(")") or not rest.endswith(")"):
        raise SpecError(f"malformed spec {text!r}: unbalanced parentheses")
    try:
        call = ast.parse("f" + rest, mode="eval").body
    except SyntaxError as exc:
        raise SpecError(f"malformed spec {text!r}: {exc.msg} near column {exc.offset}") from None
    if not isinstance(call, ast.Call) or not isinstance(call.func, ast.Name):
        raise SpecError(f"malformed spec {text!r}: expected exactly one (key=value, ...) after the name")
    if call.args:
        raise SpecError(f"malformed spec {text!r}: options must be named, as key=value")
    options: dict[str, Any] = {}
    for kw in call.keywords:
        if kw.arg is None:
            raise SpecError(f"malformed spec {text!r}: ** is not allowed")
        if kw.arg in options:
            raise SpecError(f"malformed spec {text!r}: option {kw.arg!r} is given twice")
        try:
            options[kw.arg] = ast.literal_eval(kw.value)
        except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
            raise SpecError(f"malformed spec {text!r}: the value of {kw.arg!r} must be a literal "
                            f"(number, string, bool, None, tuple)") from None
    return Spec(name, options)


@dataclass(frozen=True)
class Parameter:
    """One accepted option of a registered class."""

    name: str
    annotation: Any
    default: Any
    required: bool
    #: How the default is computed when it is left at its placeholder (e.g. ``"max(8, 8k)"``), or None.
    computed: str | None = None

    def default_text(self) -> str:
        """The default as ``wbstream list`` shows it: the value, or ``auto (formula)``.

        >>> Parameter("cols", int, 0, False, "max(8, 8k)").default_text(), Parameter("rows", int, 5, False).default_text()
        ('auto (max(8, 8k))', '5')
        """
        if self.required:
            return "required"
        return f"auto ({self.computed})" if self.computed else repr(self.default)

    def type_name(self) -> str:
        a = self.annotation
        if a is inspect.Parameter.empty:
            return "any"
        return getattr(a, "__name__", None) or str(a).replace("typing.", "")


def _check_type(owner: str, p: Parameter, value):
    ann = p.annotation
    if ann is inspect.Parameter.empty or ann is Any:
        return value
    allowed = typing.get_args(ann) if typing.get_origin(ann) in (typing.Union, getattr(__import__("types"), "UnionType")) else (ann,)
    if value is None and type(None) in allowed:
        return None
    for t in allowed:
        if t is bool:
            if isinstance(value, bool):
                return value
        elif t is int:
            if isinstance(value, int) and not isinstance(value, bool):
                return value
        elif t is float:
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                return float(value)
        elif t is str:
            if isinstance(value, str):
                return value
        elif isinstance(t, type) and isinstance(value, t):
            return value
    raise SpecError(f"{owner}: option {p.name}={value!r} should be {p.type_name()}")


class Registry(Generic[T]):
    """Named classes of one kind, created from spec strings.

    >>> cls, options = algorithms.resolve("countsketch(rows=7)")
    >>> cls.name, options, algorithms.canonical("countsketch(rows=7)")
    ('countsketch', {'rows': 7}, 'countsketch(rows=7, cols=0)')
    """

    def __init__(self, kind: str):
        self.kind = kind
        self._classes: dict[str, T] = {}

    def register(self, cls: T) -> T:
        """Class decorator: register ``cls`` under ``cls.name``."""
        name = getattr(cls, "name", None)
        if not name or not isinstance(name, str):
            raise TypeError(f"{cls.__name__} needs a string class attribute 'name' to be registered")
        existing = self._classes.get(name)
        if existing is not None and getattr(existing, "_wbstream_plugin", None) is not None \
                and existing._wbstream_plugin.name == name and existing is not cls:
            existing._wbstream_real = cls  # an adversary plugin imported into this process (an in-process game)
            return cls
        if name in self._classes and self._classes[name] is not cls:
            raise ValueError(f"{self.kind} {name!r} is already registered by {self._classes[name].__qualname__}")
        self._classes[name] = cls
        return cls

    def unregister(self, name: str) -> None:
        """Remove ``name`` (for tests and plugins that register temporarily)."""
        self._classes.pop(name, None)

    def names(self) -> list[str]:
        load_plugins()
        return sorted(self._classes)

    def __contains__(self, name: str) -> bool:
        load_plugins()
        return name in self._classes

    def get(self, name: str) -> T:
        load_plugins()
        try:
            return self._classes[name]
        except KeyError:
            close = difflib.get_close_matches(name, self._classes, n=3)
            hint = f"; did you mean {', '.join(map(repr, close))}?" if close else ""
            raise SpecError(f"unknown {self.kind} {name!r}{hint} (known: {', '.join(sorted(self._classes))})") from None

    @staticmethod
    def parameters(cls) -> list[Parameter]:
        """The keyword options of ``cls.__init__`` (positional ones are supplied by the engine)."""
        described = getattr(cls, "_wbstream_plugin_parameters", None)
        if described is not None and getattr(cls, "_wbstream_plugin", None) is not None:
            return list(described)  # an adversary plugin's stand-in: what its child described
        sig = inspect.signature(cls.__init__)
        try:
            hints = typing.get_type_hints(cls.__init__)
        except Exception:  # unresolvable forward references: fall back to raw annotations
            hints = {}
        computed = getattr(cls, "computed_defaults", {})
        out = []
        for p in sig.parameters.values():
            if p.kind is inspect.Parameter.KEYWORD_ONLY:
                out.append(Parameter(p.name, hints.get(p.name, p.annotation), p.default,
                                     p.default is inspect.Parameter.empty, computed.get(p.name)))
        return out

    def resolve(self, spec: str | Spec | type) -> tuple[T, dict[str, Any]]:
        """Class and checked options (with defaults filled in) for a spec."""
        if isinstance(spec, type):
            return spec, {}
        spec = parse_spec(spec)
        cls = self.get(spec.name)
        params = {p.name: p for p in self.parameters(cls)}
        unknown = [k for k in spec.options if k not in params]
        if unknown:
            raise SpecError(f"{self.kind} {spec.name!r} has no option {unknown[0]!r}; "
                            f"it accepts {', '.join(params) or 'no options'}")
        options = {k: _check_type(f"{self.kind} {spec.name!r}", params[k], v) for k, v in spec.options.items()}
        missing = [p.name for p in params.values() if p.required and p.name not in options]
        if missing:
            raise SpecError(f"{self.kind} {spec.name!r} needs option {missing[0]!r}")
        return cls, options

    def canonical(self, spec: str | Spec | type) -> str:
        """The spec with every option spelled out, defaults included."""
        cls, options = self.resolve(spec)
        full = {p.name: options.get(p.name, p.default) for p in self.parameters(cls)}
        return str(Spec(getattr(cls, "name", cls.__name__), full))


problems: Registry = Registry("problem")
algorithms: Registry = Registry("algorithm")
adversaries: Registry = Registry("adversary")
# The names ``wbstream`` and ``wbstream.engine`` export: there ``algorithms`` and ``adversaries``
# would shadow the subpackages ``wbstream.algorithms``/``wbstream.adversaries`` (and ``problems``
# the module ``wbstream.engine.problems``), so which one an import gave would depend on import order.
problem_registry, algorithm_registry, adversary_registry = problems, algorithms, adversaries

_BUILTIN = "wbstream.builtin"
_loaded = False
_adversary_child = False


def load_plugins() -> None:
    """Import the built-in catalogue and every ``wbstream.plugins`` entry point, once; then register a
    stand-in for each ``wbstream.adversaries`` plugin, described by a child (:mod:`wbstream.engine.plugins`)."""
    global _loaded
    if _loaded:
        return
    _loaded = True
    importlib.import_module(_BUILTIN)
    for ep in metadata.entry_points(group="wbstream.plugins"):
        importlib.import_module(ep.value)
    if not _adversary_child:
        from .plugins import register_stand_ins

        register_stand_ins()


def enter_adversary_child() -> None:
    """In a child that imports adversary plugins itself: load the trusted catalogue, describe no plugin."""
    global _adversary_child
    _adversary_child = True
    load_plugins()
