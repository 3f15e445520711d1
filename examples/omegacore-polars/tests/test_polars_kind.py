"""Tests of the polars.parquet kind, on the real server the omegacore-testing kit starts."""

from __future__ import annotations

import datetime as dt
import decimal
import subprocess
import sys
from typing import Any

import polars as pl
import pytest
from omegacore import OmegaStore
from omegacore.cli import main as omegacore_cli
from omegacore_testing import KindConformance, data_footprint
from polars.testing import assert_frame_equal

import omegacore_polars


def sample(variant: int) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "x": [variant, variant + 1, None],
            "label": [f"v{variant}", None, "ü名"],
            "day": [dt.date(2024, 1, 1 + variant), None, dt.date(1999, 12, 31)],
        }
    )


class TestPolarsKind(KindConformance):
    kind = "polars.parquet"

    def make_object(self, variant: int) -> pl.DataFrame:
        return sample(variant)

    def unsupported_objects(self) -> list[Any]:
        df = sample(0)
        return [object(), {"x": [1, 2]}, [1, 2], df.lazy(), df["x"], None]

    def assert_same(self, expected: Any, actual: Any) -> None:
        assert isinstance(actual, pl.DataFrame)
        assert_frame_equal(actual, expected)


def test_put_selects_kind_by_type(omega_store: OmegaStore) -> None:
    meta = omega_store.put(sample(0), "auto")
    assert meta.kind == "polars.parquet"
    assert omega_store.list(kind="polars.parquet") == ["auto"]


def test_kind_meta(omega_store: OmegaStore) -> None:
    omega_store.put(sample(3), "described")
    meta = omega_store.metadata("described")
    assert meta is not None
    assert meta.kind_meta["schema"] == [
        {"name": "x", "dtype": "Int64"},
        {"name": "label", "dtype": "String"},
        {"name": "day", "dtype": "Date"},
    ]
    assert meta.kind_meta["rows"] == 3
    assert meta.kind_meta["polars_version"] == pl.__version__
    assert meta.kind_meta["nbytes"] > 0


def test_columns_projection(omega_store: OmegaStore) -> None:
    df = sample(1)
    omega_store.put(df, "projected")
    got = omega_store.get("projected", columns=["day", "x"])
    assert got.columns == ["day", "x"]
    assert_frame_equal(got, df.select("day", "x"))
    assert_frame_equal(omega_store.get("projected", columns="label"), df.select("label"))


def test_unknown_column_lists_available(omega_store: OmegaStore) -> None:
    omega_store.put(sample(1), "projected")
    with pytest.raises(ValueError, match=r"\['nope'\].*available columns: \['x', 'label', 'day'\]"):
        omega_store.get("projected", columns=["x", "nope"])
    with pytest.raises(TypeError, match="column names"):
        omega_store.get("projected", columns=[0])


def test_dtypes_round_trip(omega_store: OmegaStore) -> None:
    df = pl.DataFrame(
        {
            "date": [dt.date(2020, 2, 29), None, dt.date(1970, 1, 1)],
            "ts_utc": [dt.datetime(2020, 1, 1, 12, tzinfo=dt.timezone.utc), None, None],
            "ts_ns": pl.Series(
                [dt.datetime(2021, 5, 6, 7, 8, 9, 123456)] * 3, dtype=pl.Datetime("ns")
            ),
            "ts_ms_tz": pl.Series(
                [dt.datetime(2022, 3, 27, 1, 30)] * 3, dtype=pl.Datetime("ms", "Europe/Zurich")
            ),
            "duration": [dt.timedelta(days=1, seconds=3), None, dt.timedelta(0)],
            "time": [dt.time(23, 59, 59), None, dt.time(0)],
            "text": ["plain", None, "ünïcödé 名字"],
            "all_null": [None, None, None],
            "ints": pl.Series([1, None, -3], dtype=pl.Int8),
            "uints": pl.Series([0, 255, None], dtype=pl.UInt8),
            "int128": pl.Series([2**100, None, -(2**100)], dtype=pl.Int128),
            "uint128": pl.Series([2**127, 0, None], dtype=pl.UInt128),
            "floats": [1.5, float("nan"), None],
            "flag": [True, None, False],
            "list": [[1, 2], [], None],
            "array": pl.Series([[1, 2], None, [5, 6]], dtype=pl.Array(pl.Int32, 2)),
            "list_str": [["a", None], None, ["b"]],
            "struct": [{"a": 1, "b": "q"}, None, {"a": None, "b": "r"}],
            "category": pl.Series(["lo", "hi", None], dtype=pl.Categorical),
            "enum": pl.Series(["lo", "hi", "lo"], dtype=pl.Enum(["lo", "hi"])),
            "decimal": [decimal.Decimal("1.25"), None, decimal.Decimal("-0.50")],
            "binary": [b"\x00\x01", None, b""],
            "a.b $c": [1, 2, 3],
        }
    )
    omega_store.put(df, "typed")
    back = omega_store.get("typed")
    assert back.schema == df.schema
    assert_frame_equal(back, df)


def test_empty_frames_round_trip(omega_store: OmegaStore) -> None:
    no_rows = pl.DataFrame(schema={"x": pl.Int64, "s": pl.String})
    omega_store.put(no_rows, "no_rows")
    assert_frame_equal(omega_store.get("no_rows"), no_rows)
    omega_store.put(pl.DataFrame(), "no_columns")
    assert omega_store.get("no_columns").shape == (0, 0)


def test_unwritable_frame_fails_before_writing(omega_store: OmegaStore) -> None:
    omega_store.put(sample(0), "kept")
    before = data_footprint(omega_store)
    bad = pl.DataFrame({"obj": [object(), object()]})
    with pytest.raises(ValueError, match="cannot be written as Parquet"):
        omega_store.put(bad, "kept")
    assert data_footprint(omega_store) == before
    assert_frame_equal(omega_store.get("kept"), sample(0))


def test_put_polars_mixin(omega_store: OmegaStore) -> None:
    meta = omega_store.put_polars(sample(2), "via_mixin", attributes={"source": "test"})  # type: ignore[attr-defined]
    assert meta.kind == "polars.parquet"
    stored = omega_store.metadata("via_mixin")
    assert stored is not None and stored.attributes == {"source": "test"}
    assert_frame_equal(omega_store.get("via_mixin"), sample(2))
    with pytest.raises(TypeError, match="call .collect"):
        omega_store.put_polars(sample(2).lazy(), "lazy")  # type: ignore[attr-defined]
    assert not omega_store.exists("lazy")


def test_plugins_cli_lists_distribution(capsys: pytest.CaptureFixture[str]) -> None:
    assert omegacore_cli(["plugins"]) == 0
    out = capsys.readouterr().out
    assert f"omegacore-polars {omegacore_polars.__version__}" in out
    assert "polars.parquet" in out
    assert "omegacore_polars.mixin:PolarsStoreMixin" in out


def test_plugin_module_does_not_import_polars() -> None:
    code = (
        "import sys, omegacore_polars.plugin as p, omegacore_polars.mixin;"
        "p.omega_kinds(); p.omega_mixins();"
        "assert 'polars' not in sys.modules, 'polars was imported'"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
