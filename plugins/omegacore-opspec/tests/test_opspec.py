"""Op-specs in names: parsing, the op registry, real DataFrames, composition with projection."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pandas as pd
import pytest
from omegacore import MixinSpec, OmegaStore, PluginRegistry
from omegacore_testing import MixinConformance
from omegacore_testing.mixins import PLAIN_NAMES, PROBE_KIND, ProbeBytesBackend

from omegacore_opspec import ops
from omegacore_opspec.mixin import OpSpecMixin
from omegacore_opspec.ops import OPS, Param, parse_params, parse_value, split_opspec

pd_testing: Any = pd.testing


class TestOpSpecConformance(MixinConformance):
    mixin = OpSpecMixin
    distribution = "omegacore-opspec"

    def plain_names(self) -> tuple[str, ...]:
        # stored under exactly these names, '#' and all: read as is
        return (*PLAIN_NAMES, "tag#", "tag#rows:start=1", "c#sharp", "x#bogus:y=1")


# -- parsing -----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "name, expected",
    [
        ("plain", None),
        ("df#", ("df", None, None)),
        ("df#iterchunks", ("df", "iterchunks", None)),
        ("df#iterchunks:chunksize=2", ("df", "iterchunks", "chunksize=2")),
        ("df#rows:", ("df", "rows", "")),
        ("df[a,b]#rows:start=1,end=3", ("df[a,b]", "rows", "start=1,end=3")),
        ("a#b#rows", ("a#b", "rows", None)),
        ("df[a#b]", None),  # a column name with '#'
        ("df#1", None),  # ops are identifiers
        ("df#:x=1", None),
        ("#rows", None),  # nothing to apply it to
    ],
)
def test_split_opspec(name: str, expected: tuple[str, str | None, str | None] | None) -> None:
    assert split_opspec(name) == expected


@pytest.mark.parametrize(
    "text, value",
    [("3", 3), ("-2", -2), ("0.5", 0.5), ("1e3", 1000.0), ("true", True), ("False", False),
     ("none", None), ("text", "text"), ("'1'", "1"), ('" a "', " a "), (" 7 ", 7)],
)
def test_parse_value(text: str, value: Any) -> None:
    parsed = parse_value(text)
    assert parsed == value and type(parsed) is type(value)


def test_parse_params() -> None:
    assert parse_params(None) == {}
    assert parse_params("") == {}
    assert parse_params("a=1, b=x,c='p,q'") == {"a": 1, "b": "x", "c": "p,q"}
    for bad, message in [("a", "expected key=value"), ("1a=2", "expected key=value"),
                         ("a=1,a=2", "given twice"), ("a='x", "unclosed quote")]:
        with pytest.raises(ValueError, match=message):
            parse_params(bad, "get('df#op')")


# -- the op registry ---------------------------------------------------------------------------
def test_builtin_ops_and_their_parameters() -> None:
    assert OPS.names() == ["iterchunks", "rows"]
    iterchunks = OPS.get("iterchunks")
    assert iterchunks.bind({"chunksize": 5}, "w") == {"chunksize": 5}
    assert OPS.get("rows").bind({}, "w") == {"start": 0, "end": None}
    assert OPS.get("rows").bind({"end": 4}, "w") == {"start": 0, "end": 4}
    cases: list[tuple[dict[str, Any], str]] = [
        ({}, "iterchunks needs chunksize"),
        ({"chunksize": 0}, "must be >= 1"),
        ({"chunksize": 2.5}, "chunksize must be int"),
        ({"chunksize": True}, "chunksize must be int"),
        ({"chunksize": "x"}, "chunksize must be int"),
        ({"chunksize": 2, "size": 3}, r"does not take \['size'\]; it takes chunksize"),
    ]
    for given, message in cases:
        with pytest.raises(ValueError, match=message):
            iterchunks.bind(given, "w")


def test_unknown_op_lists_the_known_ones() -> None:
    with pytest.raises(ValueError, match=r"unknown op 'nope'; known ops: "
                                         r"iterchunks:chunksize=<int>, rows:start=<int>,end=<int>"):
        OPS.get("nope", "get('df#nope')")


@pytest.fixture
def custom_op() -> Iterator[str]:
    @OPS.register("head", params={"n": Param(int, default=2)}, description="first n rows")
    def head(store: Any, name: str, args: tuple, kwargs: dict, n: int) -> Any:
        return store.get(name, *args, **kwargs).head(n)

    yield "head"
    OPS.unregister("head")


def test_registering_an_op(custom_op: str) -> None:
    assert custom_op in OPS.names()
    with pytest.raises(ValueError, match="registered already"):
        OPS.register(custom_op)(lambda *a, **k: None)
    with pytest.raises(ValueError, match="identifiers"):
        OPS.register("bad name")
    replaced = OPS.register(custom_op, replace=True)(ops.rows)
    assert OPS.get(custom_op).handler is replaced


# -- real DataFrames ---------------------------------------------------------------------------
FRAME = pd.DataFrame({
    "a": list(range(7)),
    "b": [x / 2 for x in range(7)],
    "c": list("abcdefg"),
    "d": [x % 2 == 0 for x in range(7)],
})


@pytest.fixture
def frames(store: OmegaStore) -> OmegaStore:
    store.put(FRAME, "df", append=False)
    return store


def test_no_op_is_a_plain_get(frames: OmegaStore) -> None:
    pd_testing.assert_frame_equal(frames.get("df#"), FRAME)
    pd_testing.assert_frame_equal(frames.get("df[c,a]#"), FRAME[["c", "a"]])
    pd_testing.assert_frame_equal(frames.get("df#", filter={"a__lt": 2}), FRAME[FRAME.a < 2])


def test_bad_op_specs_fail_before_reading(frames: OmegaStore) -> None:
    with pytest.raises(ValueError, match="unknown op 'bogus'; known ops: iterchunks"):
        frames.get("df#bogus")
    with pytest.raises(ValueError, match="iterchunks needs chunksize"):
        frames.get("df#iterchunks")
    with pytest.raises(ValueError, match="rows start must be int"):
        frames.get("df#rows:start=x")


def test_missing_object_gives_none(frames: OmegaStore) -> None:
    assert frames.get("nothing#") is None
    assert frames.get("nothing#iterchunks:chunksize=2") is None
    assert frames.get("nothing[a]#rows:start=1") is None


def test_iterchunks(frames: OmegaStore) -> None:
    chunks = list(frames.get("df#iterchunks:chunksize=3"))
    assert [len(c) for c in chunks] == [3, 3, 1]
    assert all(isinstance(c, pd.DataFrame) for c in chunks)
    pd_testing.assert_frame_equal(pd.concat(chunks), FRAME)


def test_rows(frames: OmegaStore) -> None:
    pd_testing.assert_frame_equal(frames.get("df#rows:start=2,end=5"), FRAME.iloc[2:5])
    pd_testing.assert_frame_equal(frames.get("df#rows:end=2"), FRAME.iloc[:2])
    pd_testing.assert_frame_equal(frames.get("df#rows:start=4"), FRAME.iloc[4:])


def test_ops_with_projection(frames: OmegaStore) -> None:
    chunks = list(frames.get("df[a,b]#iterchunks:chunksize=2"))
    assert [len(c) for c in chunks] == [2, 2, 2, 1]
    pd_testing.assert_frame_equal(pd.concat(chunks), FRAME[["a", "b"]])
    got = frames.get("df[^c]#rows:start=1,end=3")
    pd_testing.assert_frame_equal(got, FRAME.drop(columns=["c"]).iloc[1:3])
    pd_testing.assert_frame_equal(frames.getl("df[b:]#rows:end=3"), FRAME.loc[:, "b":].iloc[:3])


def test_getl_with_op_specs(frames: OmegaStore) -> None:
    from omegacore_pandas.mdataframe import MDataFrame

    lazy = frames.getl("df[a,c]#")
    assert isinstance(lazy, MDataFrame)
    pd_testing.assert_frame_equal(lazy.value, FRAME[["a", "c"]])
    pd_testing.assert_frame_equal(frames.getl("df#rows:start=5"), FRAME.iloc[5:])
    chunks = list(frames.getl("df#iterchunks:chunksize=4"))
    pd_testing.assert_frame_equal(pd.concat(chunks), FRAME)


def test_ops_forward_get_arguments(frames: OmegaStore) -> None:
    got = frames.get("df#rows:start=0,end=2", filter={"a__gte": 3})
    pd_testing.assert_frame_equal(got, FRAME[FRAME.a >= 3].iloc[0:2])


def test_custom_op_on_a_dataframe(frames: OmegaStore, custom_op: str) -> None:
    pd_testing.assert_frame_equal(frames.get("df[a]#head:n=3"), FRAME[["a"]].head(3))


# -- composition with projection, in both orders -----------------------------------------------
def _projection_mixin() -> type:
    mixin = pytest.importorskip("omegacore_projection.mixin")
    return mixin.ProjectionMixin


def _store_with(store_factory: Callable[..., OmegaStore], order: list[type]) -> OmegaStore:
    """A store with pandas.dfrows and exactly these mixins, outermost first."""
    kind = PluginRegistry().kind("pandas.dfrows")
    assert kind is not None
    registry = PluginRegistry(load_entry_points=False)
    registry.register_runtime(
        kinds=[kind], mixins=[MixinSpec(m, order=i) for i, m in enumerate(order)]
    )
    store = store_factory(plugins=registry)
    mro = type(store).__mro__
    assert [mro.index(m) for m in order] == sorted(mro.index(m) for m in order)
    return store


LITERAL = pd.DataFrame({"a": [10, 20], "b": [30, 40]})
#: names read in both orders; stored: df, 'lit[a]' and 'hash#' (literal names)
COMPOSED: dict[str, Callable[[], pd.DataFrame]] = {
    "df": lambda: FRAME,
    "df#": lambda: FRAME,
    "df[a,b]": lambda: FRAME[["a", "b"]],
    "df[c,a]#": lambda: FRAME[["c", "a"]],
    "df[^b]#": lambda: FRAME.drop(columns=["b"]),
    "lit[a]": lambda: LITERAL,
    "lit[a]#": lambda: LITERAL,
    "lit[a][b]#": lambda: LITERAL[["b"]],
    "hash#": lambda: LITERAL,
    "hash#[a]": lambda: LITERAL[["a"]],
}
LAZY_COMPOSED: dict[str, Callable[[], pd.DataFrame]] = {
    "df[a,b]#rows:start=1,end=4": lambda: FRAME[["a", "b"]].iloc[1:4],
    "df[b:c]#rows:end=2": lambda: FRAME.loc[:, "b":"c"].iloc[:2],
    "lit[a]#rows:start=1": lambda: LITERAL.iloc[1:],
    "lit[a][^a]#rows:end=1": lambda: LITERAL[["b"]].iloc[:1],
}


@pytest.fixture(params=["opspec-outside", "projection-outside"])
def composed(request: pytest.FixtureRequest, store_factory: Callable[..., OmegaStore]
             ) -> OmegaStore:
    projection = _projection_mixin()
    order = [OpSpecMixin, projection]
    if request.param == "projection-outside":
        order.reverse()
    store = _store_with(store_factory, order)
    store.put(FRAME, "df", append=False)
    store.put(LITERAL, "lit[a]", append=False)
    store.put(LITERAL, "hash#", append=False)
    return store


@pytest.mark.parametrize("name", list(COMPOSED))
def test_composition_either_order(composed: OmegaStore, name: str) -> None:
    pd_testing.assert_frame_equal(composed.get(name), COMPOSED[name]())


@pytest.mark.parametrize("name", list(LAZY_COMPOSED))
def test_composition_either_order_lazy(composed: OmegaStore, name: str) -> None:
    pd_testing.assert_frame_equal(composed.get(name), LAZY_COMPOSED[name]())


def test_chunks_with_projection_either_order(composed: OmegaStore) -> None:
    chunks = list(composed.get("df[a:b]#iterchunks:chunksize=3"))
    assert [len(c) for c in chunks] == [3, 3, 1]
    pd_testing.assert_frame_equal(pd.concat(chunks), FRAME[["a", "b"]])


def test_errors_either_order(composed: OmegaStore) -> None:
    with pytest.raises(ValueError, match="unknown op"):
        composed.get("df[a]#bogus")
    with pytest.raises(KeyError, match="its columns are"):
        composed.get("df[zz]#")


def test_exact_name_lookup(store: OmegaStore, monkeypatch: pytest.MonkeyPatch) -> None:
    """One metadata lookup decides whether '#' is part of the name."""
    store.register_backend(PROBE_KIND, ProbeBytesBackend, priority=1000)
    store.put(b"literal", "x#rows")
    store.put(b"plain", "x")
    looked_up: list[str] = []
    original = OmegaStore.metadata

    def counting(self: OmegaStore, name: Any = None, *args: Any, **kwargs: Any) -> Any:
        looked_up.append(name)
        return original(self, name, *args, **kwargs)

    monkeypatch.setattr(OmegaStore, "metadata", counting)
    assert store.get("x#rows") == b"literal"
    assert looked_up == ["x#rows", "x#rows"]  # the mixin's check, then store.get's own
    looked_up.clear()
    assert store.get("x#") == b"plain"
    assert looked_up == ["x#", "x"]
    looked_up.clear()
    assert store.get("x") == b"plain"
    assert looked_up == ["x"]
