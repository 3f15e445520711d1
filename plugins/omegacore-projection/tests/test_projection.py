"""Column projection in names: parsing, resolving, and real DataFrames read back projected."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pandas as pd
import pytest
from omegacore import OmegaStore
from omegacore_testing import NameSyntaxConformance
from omegacore_testing.mixins import PROBE_KIND, ProbeBytesBackend

from omegacore_projection.spec import (
    ColumnSlice,
    Projection,
    UnknownColumnError,
    parse_spec,
    split_name,
)

pd_testing: Any = pd.testing


class TestProjectionConformance(NameSyntaxConformance):
    distribution = "omegacore-projection"
    syntax_name = "frame[c,a]"

    def plain_names(self) -> tuple[str, ...]:
        # stored under exactly these names, brackets and all: read as is
        return ("literal[a,b]", "odd[name", "nested[x][y]", "hash[a]#")

    def check_syntax_result(self, result: Any, frame: pd.DataFrame) -> None:
        pd_testing.assert_frame_equal(result, frame[["c", "a"]])


# -- parsing -----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "name, expected",
    [
        ("plain", None),
        ("df[a,b]", ("df", "a,b")),
        ("df[]", ("df", "")),
        ("a[1][x]", ("a[1]", "x")),
        ("sales/2024[^c]", ("sales/2024", "^c")),
        ("df[a]#", None),  # an op-spec tail: left to the op-spec plugin
        ("df[a]#rows:start=1", None),
        ("df[a#b]", ("df", "a#b")),  # '#' inside the brackets is part of a column name
        ("[a]", None),
        ("df[a]x", None),
        ("df[a", None),
    ],
)
def test_split_name(name: str, expected: tuple[str, str] | None) -> None:
    assert split_name(name) == expected


@pytest.mark.parametrize(
    "spec, expected",
    [
        ("a,b", Projection(("a", "b"))),
        (" a , with space ", Projection(("a", "with space"))),
        ("a:", Projection((ColumnSlice("a", None),))),
        (":b", Projection((ColumnSlice(None, "b"),))),
        ("a:c", Projection((ColumnSlice("a", "c"),))),
        (":", Projection((ColumnSlice(None, None),))),
        ("^c", Projection(("c",), exclude=True)),
        ("^c, d", Projection(("c", "d"), exclude=True)),
        ("^a:b", Projection((ColumnSlice("a", "b"),), exclude=True)),
        ("x, b:c", Projection(("x", ColumnSlice("b", "c")))),
        ("'a,b', \"x:y\"", Projection(("a,b", "x:y"))),
        ("'^a'", Projection(("^a",))),
        ("' padded '", Projection((" padded ",))),
    ],
)
def test_parse_spec(spec: str, expected: Projection) -> None:
    assert parse_spec(spec) == expected


@pytest.mark.parametrize(
    "spec, message",
    [
        ("", "empty column"),
        ("a,,b", "empty column"),
        ("^", "empty column"),
        ("a:b:c", "more than one ':'"),
        ("'a", "unclosed quote"),
        ("a'b'", "misplaced quote"),
    ],
)
def test_parse_spec_errors(spec: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_spec(spec, "df")


COLUMNS = ["a", "b", "c", "d"]


@pytest.mark.parametrize(
    "spec, expected",
    [
        ("d,a", ["d", "a"]),
        ("b:", ["b", "c", "d"]),
        (":b", ["a", "b"]),
        ("b:c", ["b", "c"]),
        ("c:c", ["c"]),
        (":", COLUMNS),
        ("^b", ["a", "c", "d"]),
        ("^b:c", ["a", "d"]),
        ("d, a:b", ["d", "a", "b"]),
    ],
)
def test_resolve(spec: str, expected: list[str]) -> None:
    assert parse_spec(spec).resolve(COLUMNS, "df") == expected


def test_resolve_matches_non_string_labels_by_text() -> None:
    assert parse_spec("2,0").resolve([0, 1, 2], "ints") == [2, 0]
    assert parse_spec("1:").resolve([0, 1, 2], "ints") == [1, 2]
    # an exact match wins over a textual one
    assert parse_spec("1").resolve([1, "1"], "mixed") == ["1"]


@pytest.mark.parametrize(
    "spec, error, message",
    [
        ("a,zz", UnknownColumnError, r"column 'zz' is not stored in 'df'; its columns are: "
                                     r"\['a', 'b', 'c', 'd'\]"),
        ("zz:", UnknownColumnError, "its columns are"),
        ("^zz", UnknownColumnError, "its columns are"),
        ("c:a", ValueError, "selects no columns"),
        ("a,a:b", ValueError, "selected twice"),
        ("^:", ValueError, "selects no columns"),
    ],
)
def test_resolve_errors(spec: str, error: type[Exception], message: str) -> None:
    with pytest.raises(error, match=message):
        parse_spec(spec).resolve(COLUMNS, "df")


def test_unknown_column_error_is_a_key_error_with_a_readable_message() -> None:
    error = UnknownColumnError("column 'x' is not stored")
    assert isinstance(error, KeyError)
    assert str(error) == "column 'x' is not stored"


# -- real DataFrames ---------------------------------------------------------------------------
@pytest.fixture
def frames(store: OmegaStore) -> OmegaStore:
    """The store with a few DataFrames stored as pandas.dfrows."""
    store.put(FRAME, "df", append=False)
    store.put(INTS, "ints", append=False)
    store.put(ODD, "odd", append=False)
    return store


FRAME = pd.DataFrame({
    "a": [1, 2, 3, 4, 5],
    "b": [0.5, 1.5, 2.5, 3.5, 4.5],
    "c": list("vwxyz"),
    "d": [True, False, True, False, True],
    "e": pd.date_range("2024-01-01", periods=5),
})
INTS = pd.DataFrame([[1, 2, 3], [4, 5, 6]])
ODD = pd.DataFrame({"x:y": [1], "a,b": [2], "with space": [3], "名": [4], "^h": [5]})

CASES: dict[str, Callable[[pd.DataFrame], pd.DataFrame]] = {
    "df[a,b]": lambda df: df[["a", "b"]],
    "df[c,a]": lambda df: df[["c", "a"]],
    "df[e]": lambda df: df[["e"]],
    "df[b:]": lambda df: df.loc[:, "b":],
    "df[:c]": lambda df: df.loc[:, :"c"],
    "df[b:d]": lambda df: df.loc[:, "b":"d"],
    "df[:]": lambda df: df.loc[:, :],
    "df[^c]": lambda df: df.drop(columns=["c"]),
    "df[^b,d]": lambda df: df.drop(columns=["b", "d"]),
    "df[^b:d]": lambda df: df.drop(columns=["b", "c", "d"]),
    "df[e, a:b]": lambda df: df[["e", "a", "b"]],
}


@pytest.mark.parametrize("name", list(CASES))
def test_projection_matches_pandas(frames: OmegaStore, name: str) -> None:
    pd_testing.assert_frame_equal(frames.get(name), CASES[name](FRAME))


def test_int_and_odd_column_names(frames: OmegaStore) -> None:
    pd_testing.assert_frame_equal(frames.get("ints[2,0]"), INTS[[2, 0]])
    pd_testing.assert_frame_equal(frames.get("ints[1:]"), INTS.loc[:, 1:])
    pd_testing.assert_frame_equal(frames.get("ints[^1]"), INTS.drop(columns=[1]))
    got = frames.get("odd['x:y', \"a,b\", with space]")
    pd_testing.assert_frame_equal(got, ODD[["x:y", "a,b", "with space"]])
    pd_testing.assert_frame_equal(frames.get("odd['^h',名]"), ODD[["^h", "名"]])
    pd_testing.assert_frame_equal(frames.get("odd[^'^h']"), ODD.drop(columns=["^h"]))


def test_other_get_arguments_are_forwarded(frames: OmegaStore) -> None:
    got = frames.get("df[^c]", filter={"a__gte": 3})
    pd_testing.assert_frame_equal(got, FRAME[FRAME.a >= 3].drop(columns=["c"]))
    got = frames.get("df[b,a]", a__lt=3)
    pd_testing.assert_frame_equal(got, FRAME[FRAME.a < 3][["b", "a"]])
    chunks = list(frames.get("df[a:b]", chunksize=2))
    assert [len(c) for c in chunks] == [2, 2, 1]
    pd_testing.assert_frame_equal(pd.concat(chunks), FRAME[["a", "b"]])


def test_plain_get_is_untouched(frames: OmegaStore) -> None:
    pd_testing.assert_frame_equal(frames.get("df"), FRAME)
    pd_testing.assert_frame_equal(frames.get("df", columns=["d", "a"]), FRAME[["d", "a"]])


def test_unknown_columns_name_the_stored_ones(frames: OmegaStore) -> None:
    with pytest.raises(KeyError, match=r"'zz' is not stored in 'df\[a,zz\]'; its columns are: "
                                       r"\['a', 'b', 'c', 'd', 'e'\]"):
        frames.get("df[a,zz]")
    with pytest.raises(KeyError, match="its columns are"):
        frames.get("df[zz:]")
    with pytest.raises(KeyError, match="its columns are"):
        frames.get("df[^zz]")
    with pytest.raises(ValueError, match="selects no columns"):
        frames.get("df[d:a]")


def test_columns_given_twice(frames: OmegaStore) -> None:
    with pytest.raises(ValueError, match="names columns twice"):
        frames.get("df[a]", columns=["b"])


def test_missing_object_gives_none(frames: OmegaStore) -> None:
    assert frames.get("nothing[a,b]") is None
    assert frames.get("nothing[a:]") is None


def test_names_with_brackets_are_read_as_stored(frames: OmegaStore) -> None:
    """An object stored under exactly the given name wins; otherwise the last [...] is a spec."""
    literal = pd.DataFrame({"a": [1], "b": [2]})
    frames.put(literal, "lit[a]", append=False)
    pd_testing.assert_frame_equal(frames.get("lit[a]"), literal)
    pd_testing.assert_frame_equal(frames.get("lit[a][b]"), literal[["b"]])
    pd_testing.assert_frame_equal(frames.get("lit[a][^a]"), literal[["b"]])
    assert frames.get("lit[b]") is None  # no object 'lit'


def test_getl_is_projected(frames: OmegaStore) -> None:
    pd_testing.assert_frame_equal(frames.getl("df[c,a]").value, FRAME[["c", "a"]])
    pd_testing.assert_frame_equal(frames.getl("df[^c]").value, FRAME.drop(columns=["c"]))


def test_dfrows_reports_column_names(store: OmegaStore) -> None:
    meta = store.put(FRAME, "df", append=False)
    assert store.get_backend_bykind("pandas.dfrows").column_names(meta) == list(FRAME.columns)


def test_kinds_without_column_order(store: OmegaStore) -> None:
    store.register_backend(PROBE_KIND, ProbeBytesBackend, priority=1000)
    store.put(b"blob", "blob")
    with pytest.raises(ValueError, match="does not report its column order"):
        store.get("blob[a:]")
    with pytest.raises(ValueError, match="does not report its column order"):
        store.get("blob[^a]")
    # a list of labels is handed to the backend as columns=[...]; it decides
    assert store.get("blob[a,b]") == b"blob"
    calls = store.get_backend_bykind(PROBE_KIND).calls  # type: ignore[attr-defined]
    assert calls[-1] == ("get", "blob", {"columns": ["a", "b"]})
