"""Op-specs in names: parsing, the op registry, real DataFrames, nesting with projection."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pandas as pd
import pytest
from omegacore import OmegaStore
from omegacore_testing import NameSyntaxConformance

from omegacore_opspec import ops
from omegacore_opspec.ops import OPS, Param, parse_params, parse_value, split_opspec

pd_testing: Any = pd.testing


class TestOpSpecConformance(NameSyntaxConformance):
    distribution = "omegacore-opspec"
    syntax_name = "frame#rows:start=1,end=2"

    def plain_names(self) -> tuple[str, ...]:
        # stored under exactly these names, '#' and all: read as is
        return ("tag#", "tag#rows:start=1", "c#sharp", "x#bogus:y=1")

    def check_syntax_result(self, result: Any, frame: pd.DataFrame) -> None:
        pd_testing.assert_frame_equal(pd.concat(list(result)), frame.iloc[1:2])


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
    assert OPS.names() == ["head", "iterchunks", "rows", "tail"]
    iterchunks = OPS.get("iterchunks")
    assert iterchunks.bind({"chunksize": 5}, "w") == {"chunksize": 5}
    assert iterchunks.bind({}, "w") == {"chunksize": 100}  # omegaml's default
    assert OPS.get("rows").bind({}, "w") == {"start": 0, "end": None, "chunksize": 100}
    assert OPS.get("rows").bind({"end": 4}, "w") == {"start": 0, "end": 4, "chunksize": 100}
    cases: list[tuple[dict[str, Any], str]] = [
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
    with pytest.raises(ValueError, match=r"unknown op 'nope'; known ops: head:limit=<int>, "
                                         r"iterchunks:chunksize=<int>, rows:start=<int>"):
        OPS.get("nope", "get('df#nope')")


@pytest.fixture
def custom_op() -> Iterator[str]:
    @OPS.register("first", params={"n": Param(int, default=2)}, description="first n rows")
    def first(lazy: Any, n: int) -> Any:
        return lazy.head(n).value

    yield "first"
    OPS.unregister("first")


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


def chunks_of(result: Any) -> list[pd.DataFrame]:
    chunks = list(result)
    assert chunks and all(isinstance(c, pd.DataFrame) for c in chunks)
    return chunks


def test_no_op_iterates_chunks_as_omegaml_does(frames: OmegaStore) -> None:
    result = frames.get("df#")
    assert isinstance(result, Iterator)
    chunks = chunks_of(result)
    assert [len(c) for c in chunks] == [7]  # one chunk of up to 100 rows
    pd_testing.assert_frame_equal(chunks[0], FRAME)
    pd_testing.assert_frame_equal(pd.concat(chunks_of(frames.get("df[c,a]#"))),
                                  FRAME[["c", "a"]])
    got = pd.concat(chunks_of(frames.get("df#", filter={"a__lt": 2})))
    pd_testing.assert_frame_equal(got, FRAME[FRAME.a < 2])


def test_bad_op_specs_fail_before_reading(frames: OmegaStore) -> None:
    with pytest.raises(ValueError, match="unknown op 'bogus'; known ops: head"):
        frames.get("df#bogus")
    with pytest.raises(ValueError, match="chunksize must be >= 1"):
        frames.get("df#iterchunks:chunksize=0")
    with pytest.raises(ValueError, match="rows start must be int"):
        frames.get("df#rows:start=x")


def test_missing_object_gives_none(frames: OmegaStore) -> None:
    assert frames.get("nothing#") is None
    assert frames.get("nothing#iterchunks:chunksize=2") is None
    assert frames.get("nothing[a]#rows:start=1") is None


def test_metadata_of_an_op_spec_name_is_the_objects(frames: OmegaStore) -> None:
    meta = frames.metadata("df#rows:start=1,end=3")
    assert meta is not None and meta.name == "df"
    assert frames.exists("df#") is False  # exists takes names literally


def test_iterchunks(frames: OmegaStore) -> None:
    chunks = chunks_of(frames.get("df#iterchunks:chunksize=3"))
    assert [len(c) for c in chunks] == [3, 3, 1]
    pd_testing.assert_frame_equal(pd.concat(chunks), FRAME)
    assert [len(c) for c in chunks_of(frames.get("df#iterchunks"))] == [7]


def test_rows_iterate_chunks_of_the_rows(frames: OmegaStore) -> None:
    pd_testing.assert_frame_equal(pd.concat(chunks_of(frames.get("df#rows:start=2,end=5"))),
                                  FRAME.iloc[2:5])
    chunks = chunks_of(frames.get("df#rows:start=1,end=6,chunksize=2"))
    assert [len(c) for c in chunks] == [2, 2, 1]
    pd_testing.assert_frame_equal(pd.concat(chunks), FRAME.iloc[1:6])
    pd_testing.assert_frame_equal(pd.concat(chunks_of(frames.get("df#rows:end=2"))),
                                  FRAME.iloc[:2])
    pd_testing.assert_frame_equal(pd.concat(chunks_of(frames.get("df#rows:start=4"))),
                                  FRAME.iloc[4:])


def test_head_and_tail_give_lazy_frames(frames: OmegaStore) -> None:
    from omegacore_pandas.mdataframe import MDataFrame

    lazy = frames.get("df#head:limit=2")
    assert isinstance(lazy, MDataFrame)
    pd_testing.assert_frame_equal(lazy.value, FRAME.head(2))
    pd_testing.assert_frame_equal(frames.get("df[a]#tail:limit=3").value, FRAME[["a"]].tail(3))


def test_ops_with_projection(frames: OmegaStore) -> None:
    chunks = chunks_of(frames.get("df[a,b]#iterchunks:chunksize=2"))
    assert [len(c) for c in chunks] == [2, 2, 2, 1]
    pd_testing.assert_frame_equal(pd.concat(chunks), FRAME[["a", "b"]])
    got = pd.concat(chunks_of(frames.get("df[^c]#rows:start=1,end=3")))
    pd_testing.assert_frame_equal(got, FRAME.drop(columns=["c"]).iloc[1:3])
    got = pd.concat(chunks_of(frames.getl("df[b:]#rows:end=3")))
    pd_testing.assert_frame_equal(got, FRAME.loc[:, "b":].iloc[:3])


def test_ops_forward_get_arguments(frames: OmegaStore) -> None:
    got = pd.concat(chunks_of(frames.get("df#rows:start=0,end=2", filter={"a__gte": 3})))
    pd_testing.assert_frame_equal(got, FRAME[FRAME.a >= 3].iloc[0:2])


def test_custom_op_on_a_dataframe(frames: OmegaStore, custom_op: str) -> None:
    pd_testing.assert_frame_equal(frames.get("df[a]#first:n=3"), FRAME[["a"]].head(3))


# -- literal names and nesting -----------------------------------------------------------------
LITERAL = pd.DataFrame({"a": [10, 20], "b": [30, 40]})
#: stored: df, 'lit[a]' and 'hash#' (literal names)
NESTED: dict[str, Callable[[], pd.DataFrame]] = {
    "df[a,b]": lambda: FRAME[["a", "b"]],
    "lit[a]": lambda: LITERAL,
    "lit[a][b]": lambda: LITERAL[["b"]],
    "hash#": lambda: LITERAL,
    "hash#[a]": lambda: LITERAL[["a"]],
}
NESTED_CHUNKS: dict[str, Callable[[], pd.DataFrame]] = {
    "df[c,a]#": lambda: FRAME[["c", "a"]],
    "lit[a]#": lambda: LITERAL,
    "lit[a][b]#": lambda: LITERAL[["b"]],
    "df[a,b]#rows:start=1,end=4": lambda: FRAME[["a", "b"]].iloc[1:4],
    "df[b:c]#rows:end=2": lambda: FRAME.loc[:, "b":"c"].iloc[:2],
    "lit[a]#rows:start=1": lambda: LITERAL.iloc[1:],
    "lit[a][^a]#rows:end=1": lambda: LITERAL[["b"]].iloc[:1],
}


@pytest.fixture
def nested(frames: OmegaStore) -> OmegaStore:
    pytest.importorskip("omegacore_projection")
    frames.put(LITERAL, "lit[a]", append=False)
    frames.put(LITERAL, "hash#", append=False)
    return frames


@pytest.mark.parametrize("name", list(NESTED))
def test_nested_names(nested: OmegaStore, name: str) -> None:
    pd_testing.assert_frame_equal(nested.get(name), NESTED[name]())


@pytest.mark.parametrize("name", list(NESTED_CHUNKS))
def test_nested_names_with_op_specs(nested: OmegaStore, name: str) -> None:
    pd_testing.assert_frame_equal(pd.concat(chunks_of(nested.get(name))), NESTED_CHUNKS[name]())


def test_errors_of_nested_names(nested: OmegaStore) -> None:
    with pytest.raises(ValueError, match="unknown op"):
        nested.get("df[a]#bogus")
    with pytest.raises(KeyError, match="its columns are"):
        list(nested.get("df[zz]#"))
