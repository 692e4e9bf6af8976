"""Adversary plugins: untrusted code that an isolated game never imports into the referee's process.

A package declares its adversaries in the ``wbstream.adversaries`` entry-point group
(a module whose import registers them). The referee does not import that module:
a throwaway child of the clean fork server (:func:`~wbstream.engine.isolation.run_forked_bytes`)
imports it and describes each adversary it registered (name, declared level,
stream kind, options with their types and literal defaults) as bounded JSON,
which the referee decodes and checks field by field, never unpickling. Each
adversary becomes a stand-in class in the registry (:class:`PluginAdversary`);
``applies_to`` and the constructor's checks are asked of another throwaway child.
An isolated game's child imports the module itself (:class:`PluginRef`).

An in-process game (``isolation="none"``) imports the module into the referee and
plays the real class: in-process offers no protection against hostile code.

The ``wbstream.plugins`` group stays for trusted code (algorithms and problems under
test): the referee imports it.

>>> PluginRef("my_attacks.register", "poke")
PluginRef(module='my_attacks.register', name='poke')
>>> _parse_type("int | None") == (int | None), _parse_type("Optional[float]") == (float | None)
(True, True)
"""

from __future__ import annotations

import ast
import importlib
import inspect
import json
import re
import shutil
import warnings
from dataclasses import dataclass
from importlib import metadata
from typing import Any, ClassVar

from . import landlock
from .adversary import Adversary
from .errors import AdversaryError, SpecError
from .isolation import ForkTimeout, run_forked_bytes
from .registry import Parameter, adversaries, enter_adversary_child
from .threat import ThreatModel

#: The entry-point group of adversary plugins (untrusted: imported only in children when isolated).
GROUP = "wbstream.adversaries"
#: Seconds a describing or checking child may take.
PROBE_SECONDS = 60.0
#: The most bytes a description of every plugin may take; the most characters of one text field.
MANIFEST_BYTES, TEXT_CHARS = 1 << 20, 400
_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,63}$")
_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_.\-]{0,63}$")
_TYPES = {"int": int, "float": float, "str": str, "bool": bool, "None": type(None), "tuple": tuple,
          "list": list, "dict": dict}


class PluginWarning(RuntimeWarning):
    """An adversary plugin could not be described, or described itself wrongly; it is left out."""


@dataclass(frozen=True)
class PluginRef:
    """Where an adversary plugin lives: the module its entry point names, and the adversary's name."""

    module: str
    name: str

    def load(self) -> type:
        """The real class, in an isolated child: imports the module there (never in the referee)."""
        enter_adversary_child()
        importlib.import_module(self.module)
        cls = adversaries._classes.get(self.name)
        if getattr(cls, "_wbstream_plugin", None) is not None:  # this child had described its plugins
            cls = cls._wbstream_real
        if cls is None:
            raise SpecError(f"the module {self.module!r} did not register the adversary {self.name!r}")
        return cls


class PluginAdversary(Adversary):
    """The referee's stand-in for an adversary plugin: its description, never its code.

    Its constructor keeps the options; :meth:`applies_to` asks a throwaway child. It
    cannot act: a game plays the real class, in its own process when isolated.

    >>> Stand = _stand_in("my_attacks", {"name": "poke", "needs": "white-box", "stream_kind": "entries",
    ...     "arena_rounds": None, "summary": "Pokes the largest counter.", "parameters": [
    ...     {"name": "rounds", "type": "int", "required": False, "default": "5", "computed": None}]})
    >>> is_plugin(Stand), Stand.needs.name, Stand.__doc__, adversaries.parameters(Stand)[0].default
    (True, 'white-box', 'Pokes the largest counter.', 5)
    >>> Stand(rounds=3).act(None)
    Traceback (most recent call last):
    ...
    wbstream.engine.errors.AdversaryError: the adversary plugin 'poke' plays only from its own process or after in_process() imported it
    """

    name: ClassVar[str] = "plugin"
    _wbstream_plugin: ClassVar[PluginRef | None] = None
    _wbstream_plugin_parameters: ClassVar[tuple[Parameter, ...]] = ()
    _wbstream_real: ClassVar[type | None] = None

    def __init__(self, **options):
        self.options = options

    def applies_to(self, algorithm_cls: type, problem_cls: type) -> tuple[bool, str]:
        return _applies(self._wbstream_plugin, self.options, algorithm_cls, problem_cls)

    def act(self, obs):
        raise AdversaryError(f"the adversary plugin {self.name!r} plays only from its own process "
                             f"or after in_process() imported it")

    @classmethod
    def in_process(cls) -> type:
        """The real class, imported into this process: hostile code then runs beside the referee."""
        if cls._wbstream_real is None:
            try:
                importlib.import_module(cls._wbstream_plugin.module)  # its register() fills _wbstream_real
            except Exception as exc:
                raise SpecError(f"importing the adversary plugin module {cls._wbstream_plugin.module!r} raised "
                                f"{type(exc).__name__}: {' '.join(str(exc).split())[:TEXT_CHARS]}") from None
        if cls._wbstream_real is None:
            raise SpecError(f"the module {cls._wbstream_plugin.module!r} did not register the adversary {cls.name!r}")
        return cls._wbstream_real


def is_plugin(cls) -> bool:
    """Whether ``cls`` is the stand-in of an adversary plugin (whose code the referee has not imported)."""
    return isinstance(cls, type) and getattr(cls, "_wbstream_plugin", None) is not None


# -- in the describing child ---------------------------------------------------------------------
def _describe(modules: list[str]) -> bytes:
    """Import each module and describe the adversaries it registered, as JSON bytes."""
    enter_adversary_child()
    out = []
    for module in modules:
        before = set(adversaries._classes)
        try:
            importlib.import_module(module)
            found = [adversaries._classes[n] for n in sorted(set(adversaries._classes) - before)]
            out.append(json.dumps({"module": module, "adversaries": [_description(c) for c in found]}))
        except BaseException as exc:  # one bad plugin leaves the others described
            out.append(json.dumps({"module": module, "error": f"{type(exc).__name__}: {exc}"[:TEXT_CHARS]}))
    return ("[" + ", ".join(out) + "]").encode()


def _description(cls) -> dict:
    doc = (cls.__doc__ or "").strip().splitlines()
    return {"name": cls.name, "needs": cls.needs.name, "stream_kind": getattr(cls, "stream_kind", "entries"),
            "arena_rounds": getattr(cls, "arena_rounds", None), "summary": doc[0] if doc else "",
            "parameters": [{"name": p.name, "type": p.type_name(), "required": p.required,
                            "default": None if p.required else repr(p.default), "computed": p.computed}
                           for p in adversaries.parameters(cls)]}


def _check_applies(ref: PluginRef, options: dict, algorithm_cls, problem_cls) -> bytes:
    """In a throwaway child: build the real adversary and ask it; ``Y``, ``N`` + why, ``S`` + a spec error."""
    cls = ref.load()
    try:
        ok, why = cls(**options).applies_to(algorithm_cls, problem_cls)
    except (ValueError, TypeError) as exc:
        return b"S" + (" ".join(str(exc).split()) or type(exc).__name__).encode()[:4 * TEXT_CHARS]
    return b"Y" if ok else b"N" + str(why).encode()[:4 * TEXT_CHARS]


# -- in the referee ------------------------------------------------------------------------------
#: The private directories of the children that describe and check plugins (swept as the adversaries' are).
PLUGIN_PREFIX = "wbstream-plugin-"


def _sandboxed(fn, *args, seconds: float, maxlength: int) -> bytes:
    """``run_forked_bytes(fn, *args)`` in a child under the OS sandbox of an isolated adversary (no key files)."""
    from .sandbox import private_dir  # on use: the game (hence the sandbox) loads after the registry

    private = private_dir(PLUGIN_PREFIX)
    try:
        return run_forked_bytes(landlock.run_sandboxed, landlock.policy_for(None, private), fn, *args,
                                seconds=seconds, maxlength=maxlength)
    finally:
        shutil.rmtree(private, ignore_errors=True)


def _bad(module: str, why: str) -> PluginWarning:
    return PluginWarning(f"adversary plugin {module!r} left out: {why}")


def _warn(warning: PluginWarning) -> None:
    """One line on stderr (no source line under it), once per message."""
    warnings.warn_explicit(warning, PluginWarning, filename=GROUP, lineno=0)


def _text(value, what: str, limit: int = TEXT_CHARS) -> str:
    if not isinstance(value, str) or len(value) > limit:
        raise ValueError(f"{what} is not a string of at most {limit} characters")
    return value


def _parse_type(text: str):
    """An annotation from its printed name (only plain types and unions of them; anything else: Any)."""
    m = re.fullmatch(r"(?:typing\.)?Optional\[(\w+)\]", text)
    parts = [m.group(1), "None"] if m else [p.strip() for p in text.split("|")]
    if not all(p in _TYPES for p in parts):
        return Any
    out = _TYPES[parts[0]]
    for p in parts[1:]:
        out = out | _TYPES[p]
    return out


def _parameter(d) -> Parameter:
    if not isinstance(d, dict) or set(d) != {"name", "type", "required", "default", "computed"}:
        raise ValueError("an option is not described by exactly name, type, required, default, computed")
    name = _text(d["name"], "an option's name")
    if not _IDENT.match(name):
        raise ValueError(f"the option name {name!r} is not an identifier")
    if not isinstance(d["required"], bool):
        raise ValueError(f"option {name!r}: required is not a bool")
    default = None
    if not d["required"]:
        try:
            default = ast.literal_eval(_text(d["default"], f"option {name!r}'s default"))
        except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
            raise ValueError(f"option {name!r}: its default is not a literal") from None
    computed = None if d["computed"] is None else _text(d["computed"], f"option {name!r}'s formula")
    return Parameter(name, _parse_type(_text(d["type"], f"option {name!r}'s type")),
                     inspect.Parameter.empty if d["required"] else default, d["required"], computed)


def _stand_in(module: str, d) -> type:
    """The stand-in class of one described adversary; ValueError if the description is malformed."""
    keys = {"name", "needs", "stream_kind", "arena_rounds", "summary", "parameters"}
    if not isinstance(d, dict) or set(d) != keys:
        raise ValueError(f"an adversary is not described by exactly {', '.join(sorted(keys))}")
    name = _text(d["name"], "a name")
    if not _NAME.match(name):
        raise ValueError(f"the name {name!r} is not a registry name")
    levels = {t.name: t for t in ThreatModel.levels()}
    if d["needs"] not in levels:
        raise ValueError(f"{name!r} needs an unknown level {d['needs']!r}")
    if d["stream_kind"] not in ("entries", "rows", None):
        raise ValueError(f"{name!r} streams an unknown kind {d['stream_kind']!r}")
    rounds = d["arena_rounds"]
    if rounds is not None and (type(rounds) is not int or not 0 < rounds <= 10**9):
        raise ValueError(f"{name!r}: arena_rounds is not a positive integer")
    params = d["parameters"]
    if not isinstance(params, list) or len(params) > 64:
        raise ValueError(f"{name!r}: its options are not a list of at most 64")
    parameters = tuple(_parameter(p) for p in params)
    if len({p.name for p in parameters}) != len(parameters):
        raise ValueError(f"{name!r}: an option is described twice")
    return type("Plugin_" + re.sub(r"\W", "_", name), (PluginAdversary,), {
        "__module__": module, "__doc__": _text(d["summary"], "a summary") or f"adversary plugin {name}",
        "name": name, "needs": levels[d["needs"]], "stream_kind": d["stream_kind"], "arena_rounds": rounds,
        "computed_defaults": {p.name: p.computed for p in parameters if p.computed},
        "_wbstream_plugin": PluginRef(module, name), "_wbstream_plugin_parameters": parameters})


def register_stand_ins() -> list[type]:
    """Describe every ``wbstream.adversaries`` plugin from a throwaway child and register its stand-ins."""
    modules = sorted({ep.module for ep in metadata.entry_points(group=GROUP)})
    if not modules:
        return []
    try:
        data = _sandboxed(_describe, modules, seconds=PROBE_SECONDS, maxlength=MANIFEST_BYTES)
        described = json.loads(data.decode("utf-8"))
        if not isinstance(described, list) or [e.get("module") if isinstance(e, dict) else None
                                              for e in described] != modules:
            raise ValueError("the description does not list the plugins' modules in order")
    except (RuntimeError, ForkTimeout, OSError, ValueError) as exc:
        _warn(_bad(", ".join(modules), f"describing it failed ({' '.join(str(exc).split())[:TEXT_CHARS]})"))
        return []
    out = []
    for module, entry in zip(modules, described):
        try:
            if set(entry) == {"module", "error"}:
                raise ValueError(f"importing it raised {_text(entry['error'], 'the error')}")
            if set(entry) != {"module", "adversaries"} or not isinstance(entry["adversaries"], list):
                raise ValueError("a malformed description")
            made = [_stand_in(module, d) for d in entry["adversaries"]]
            taken = [c.name for c in made if c.name in adversaries._classes]
            if taken:
                raise ValueError(f"the name {taken[0]!r} is already registered")
        except ValueError as exc:
            _warn(_bad(module, str(exc)))
            continue
        for cls in made:
            adversaries.register(cls)
        out.extend(made)
    return out


_applies_cache: dict = {}


def _applies(ref: PluginRef, options: dict, algorithm_cls, problem_cls) -> tuple[bool, str]:
    key = (ref, repr(sorted(options.items())), algorithm_cls, problem_cls)
    if key not in _applies_cache:
        try:
            data = _sandboxed(_check_applies, ref, options, algorithm_cls, problem_cls,
                              seconds=PROBE_SECONDS, maxlength=8 * TEXT_CHARS)
        except (AttributeError, TypeError) as exc:  # pickling the classes by name
            raise AdversaryError(f"the adversary plugin {ref.name!r} cannot be asked about {algorithm_cls.__name__!r}: "
                                 f"it does not travel to a new process by name ({exc})") from None
        except (RuntimeError, ForkTimeout) as exc:
            raise AdversaryError(f"the adversary plugin {ref.name!r} failed while checking its options: {exc}") from None
        tag, text = data[:1], data[1:].decode("utf-8", errors="replace")[:TEXT_CHARS]
        if tag == b"S":
            raise SpecError(f"adversary {ref.name!r}: {text}")
        if tag not in (b"Y", b"N") or (tag == b"Y" and text):
            raise AdversaryError(f"the adversary plugin {ref.name!r} answered its check with a malformed message")
        _applies_cache[key] = (tag == b"Y", text)
    return _applies_cache[key]


