"""Spec strings: parsing, name lookup with hints, option checking, canonical forms, documentation."""

from __future__ import annotations

import inspect
import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from wbstream.engine.errors import SpecError
from wbstream.engine.registry import Parameter, Registry, Spec, adversaries, algorithms, parse_spec, problems

REGISTRIES = {"problem": problems, "algorithm": algorithms, "adversary": adversaries}


# -- parsing --------------------------------------------------------------------------

@pytest.mark.parametrize("text, name, options", [
    ("countsketch", "countsketch", {}),
    ("  countsketch  ", "countsketch", {}),
    ("countsketch()", "countsketch", {}),
    ("countsketch(rows=5, cols=64)", "countsketch", {"rows": 5, "cols": 64}),
    ("f2(eps=0.25, alpha=1.5e0)", "f2", {"eps": 0.25, "alpha": 1.5}),
    ("x(a=-3, b=-0.5, c=+2)", "x", {"a": -3, "b": -0.5, "c": 2}),
    ("x(s='hello', t=\"w o r l d\")", "x", {"s": "hello", "t": "w o r l d"}),
    ("x(flag=True, other=False, nothing=None)", "x", {"flag": True, "other": False, "nothing": None}),
    ("x(t=(1, 2), big=12345678901234567890)", "x", {"t": (1, 2), "big": 12345678901234567890}),
    ("sparse-recovery(n=16, k=2)", "sparse-recovery", {"n": 16, "k": 2}),
    ("my_plugin.algo-v2(a=1,)", "my_plugin.algo-v2", {"a": 1}),
    ("x(\n  a = 1 ,\n  b = 2\n)", "x", {"a": 1, "b": 2}),
])
def test_good_specs_parse(text, name, options):
    spec = parse_spec(text)
    assert spec == Spec(name, options)
    for key, value in options.items():
        assert type(spec.options[key]) is type(value)
    assert parse_spec(spec) is spec


@given(st.dictionaries(st.from_regex(r"[a-z][a-z0-9_]{0,6}", fullmatch=True).filter(lambda s: s not in {
           "if", "in", "is", "or", "as", "def", "del", "for", "and", "not", "try", "with", "else", "elif",
           "from", "pass", "None", "True", "while", "yield", "break", "class", "raise", "async", "await",
           "assert", "global", "lambda", "return", "import", "except", "finally", "continue", "nonlocal"}),
                       st.one_of(st.integers(-10**20, 10**20), st.floats(allow_nan=False, allow_infinity=False),
                                 st.booleans(), st.none(), st.text(alphabet="abc xyz-_.'\"", max_size=8)),
                       max_size=5))
def test_str_of_a_spec_parses_back(options):
    spec = Spec("name", options)
    assert parse_spec(str(spec)) == spec


@pytest.mark.parametrize("text, why", [
    ("hll(p=12", "unbalanced"),
    ("x(1, 2)", "named"),
    ("x(a=foo)", "literal"),
    ("x(**k)", r"\*\*"),
    ("3abc", "expected name"),
    ("x(a=1) junk", "malformed"),
    ("", "expected name"),
    ("x y", "unexpected"),
    ("x(a=)", "malformed"),
    ("x(a=1))", "unbalanced"),
    ("x(a=f(1))", "literal"),
    ("x(a=1)(b=2)", "malformed"),
    ("x(a=1).y()", "malformed"),
    ("x(a=1, a=2)", "malformed"),
    ("x(a={[1]: 2})", "malformed"),
])
def test_malformed_specs_raise_spec_error(text, why):
    with pytest.raises(SpecError, match=why):
        parse_spec(text)


@pytest.mark.parametrize("value", [None, 3, ["countsketch"], b"countsketch"])
def test_a_spec_must_be_a_string(value):
    with pytest.raises(SpecError, match="a spec is a string"):
        parse_spec(value)


@given(st.text(max_size=40))
def test_parse_spec_returns_a_spec_or_raises_spec_error(text):
    try:
        spec = parse_spec(text)
    except SpecError:
        return
    assert isinstance(spec, Spec) and spec.name and spec.name[0].isalpha()


# -- lookup ---------------------------------------------------------------------------

@pytest.mark.parametrize("registry, typo, meant", [
    (algorithms, "countsktch", "countsketch"),
    (algorithms, "countsketch2", "countsketch"),
    (algorithms, "amss", "ams"),
    (adversaries, "kernel-injektion", "kernel-injection"),
    (problems, "sparse_recovery", "sparse-recovery"),
])
def test_near_misses_get_a_did_you_mean_hint(registry, typo, meant):
    with pytest.raises(SpecError) as info:
        registry.get(typo)
    msg = str(info.value)
    assert "did you mean" in msg and repr(meant) in msg and repr(typo) in msg
    with pytest.raises(SpecError, match="did you mean"):
        registry.resolve(f"{typo}(rows=3)")


def test_unknown_names_far_from_anything_list_what_is_known():
    with pytest.raises(SpecError) as info:
        algorithms.get("zzzzzzzz")
    msg = str(info.value)
    assert "unknown algorithm" in msg and "did you mean" not in msg
    for name in ("ams", "countsketch", "exact"):
        assert name in msg


def test_unknown_options_name_the_accepted_ones():
    with pytest.raises(SpecError) as info:
        algorithms.resolve("countsketch(rows=5, colums=3)")
    msg = str(info.value)
    assert "'colums'" in msg and "rows" in msg and "cols" in msg
    with pytest.raises(SpecError, match="no options"):
        algorithms.resolve("exact(x=1)")


@pytest.mark.parametrize("registry, text, option", [
    (algorithms, "countsketch(rows='5')", "rows"),
    (algorithms, "countsketch(rows=5.0)", "rows"),
    (algorithms, "countsketch(rows=True)", "rows"),
    (algorithms, "ams(medians=None)", "medians"),
    (problems, "f2(eps='small')", "eps"),
    (problems, "f2(eps=True)", "eps"),
    (problems, "distinct-elements(insertion_only=1)", "insertion_only"),
    (problems, "distinct-elements(alpha='2')", "alpha"),
    (adversaries, "dense(rounds=(1, 2))", "rounds"),
])
def test_wrong_option_types_raise(registry, text, option):
    with pytest.raises(SpecError) as info:
        registry.resolve(text)
    assert f"option {option}=" in str(info.value) and "should be" in str(info.value)


def test_options_are_converted_where_harmless():
    _, opts = problems.resolve("f2(eps=1, alpha=2)")
    assert opts == {"eps": 1.0, "alpha": 2.0} and type(opts["eps"]) is float and type(opts["alpha"]) is float
    _, opts = problems.resolve("distinct-elements(alpha=None, insertion_only=True)")
    assert opts == {"alpha": None, "insertion_only": True}


def test_canonical_fills_defaults():
    assert algorithms.canonical("countsketch") == "countsketch(rows=5, cols=0)"
    assert algorithms.canonical("countsketch(cols=16)") == "countsketch(rows=5, cols=16)"
    assert algorithms.canonical("exact") == "exact"
    assert problems.canonical("f2(n=64)") == "f2(n=64, M=1024, eps=0.5, alpha=None, insertion_only=False)"
    assert adversaries.canonical("dense(batch=3)") == "dense(rounds=20, batch=3)"
    for name, registry in [(n, r) for r in REGISTRIES.values() for n in r.names()]:
        canonical = registry.canonical(name)
        assert registry.canonical(canonical) == canonical  # idempotent
        cls, opts = registry.resolve(canonical)
        assert cls is registry.get(name)
        assert set(opts) == {p.name for p in registry.parameters(cls)}


def test_a_missing_required_option_is_named():
    reg = Registry("thing")

    @reg.register
    class Needy:
        """Needs a size."""

        name = "needy"

        def __init__(self, *, size: int):
            self.size = size

    with pytest.raises(SpecError, match="needs option 'size'"):
        reg.resolve("needy")
    assert reg.resolve("needy(size=3)") == (Needy, {"size": 3})
    with pytest.raises(ValueError, match="already registered"):
        @reg.register
        class Impostor:
            name = "needy"
    with pytest.raises(TypeError, match="name"):
        reg.register(type("Nameless", (), {}))


# -- the catalogue --------------------------------------------------------------------

CATALOGUE = [(kind, name) for kind, reg in REGISTRIES.items() for name in reg.names()]


def test_the_catalogue_is_complete():
    assert {"sparse-recovery", "distinct-elements", "f2"} <= set(problems.names())
    assert {"countsketch", "ams", "exact"} <= set(algorithms.names())
    assert {"random-sparse", "dense", "kernel-injection"} <= set(adversaries.names())


@pytest.mark.parametrize("kind, name", CATALOGUE)
def test_every_registered_class_is_documented_and_lists_its_parameters(kind, name):
    registry = REGISTRIES[kind]
    cls = registry.get(name)
    assert cls.name == name
    assert cls.__doc__ and cls.__doc__.strip() and len(cls.__doc__.strip().splitlines()[0]) > 10
    params = registry.parameters(cls)
    assert isinstance(params, list) and all(isinstance(p, Parameter) for p in params)
    init = inspect.signature(cls.__init__).parameters
    keyword_only = [p for p, v in init.items() if v.kind is inspect.Parameter.KEYWORD_ONLY]
    assert [p.name for p in params] == keyword_only
    for p in params:
        assert p.annotation is not inspect.Parameter.empty, f"{name}.{p.name} has no type"
        assert not isinstance(p.annotation, str), f"{name}.{p.name}: unresolved annotation {p.annotation!r}"
        assert p.type_name() and p.type_name() != "any"
        assert not p.required, f"{name}.{p.name} should have a default so '{name}' alone is a spec"
    # the defaults themselves pass the type check
    registry.resolve(Spec(name, {p.name: p.default for p in params}))
    if kind == "algorithm":
        assert cls.guarantee, f"{name} states no guarantee"


def test_computed_defaults_name_real_options_left_at_zero():
    """Every formula in ``computed_defaults`` belongs to a keyword option whose default is the 0 placeholder."""
    from wbstream.engine.registry import adversaries, algorithms

    seen = 0
    for registry in (algorithms, adversaries):
        for name in registry.names():
            cls = registry.get(name)
            params = {p.name: p for p in Registry.parameters(cls)}
            for option, formula in cls.computed_defaults.items():
                assert option in params, (name, option)
                assert params[option].default == 0 and formula, (name, option)
                seen += 1
    assert seen >= 20


def test_list_shows_computed_defaults_as_their_formula():
    from click.testing import CliRunner

    from wbstream.cli import main

    res = CliRunner().invoke(main, ["list", "--json"])
    algorithms = {a["name"]: a for a in json.loads(res.output)["algorithms"]}
    cols = next(p for p in algorithms["countsketch"]["parameters"] if p["name"] == "cols")
    assert cols["default"] == 0 and cols["computed"] == "max(8, 8k)" and cols["shown"] == "auto (max(8, 8k))"
    means = next(p for p in algorithms["ams"]["parameters"] if p["name"] == "means")
    assert means["shown"] == "auto (ceil(4 / eps^2))"
    rows = next(p for p in algorithms["countsketch"]["parameters"] if p["name"] == "rows")
    assert rows["shown"] == "5" and "computed" not in rows
