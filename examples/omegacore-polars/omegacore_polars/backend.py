"""The ``polars.parquet`` backend: a polars DataFrame as one Parquet file in GridFS."""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import Any

import polars as pl
from omegacore import BaseBackend

from omegacore_polars import KIND


class PolarsParquetBackend(BaseBackend):
    """polars DataFrames, stored as a Parquet file in GridFS.

    ``store.put(df, name)`` writes ``df.write_parquet`` output; ``store.get(name)`` reads it
    back with ``pl.read_parquet``. ``store.get(name, columns=["a", "b"])`` reads only those
    columns. The metadata's ``kind_meta`` holds the schema, the row count and the polars
    version that wrote the file.
    """

    KIND = KIND

    @classmethod
    def supports(cls, obj: Any, name: str, **kwargs: Any) -> bool:
        """True for a polars DataFrame (not a LazyFrame or Series)."""
        return isinstance(obj, pl.DataFrame)

    def put(
        self,
        obj: Any,
        name: str,
        attributes: dict[str, Any] | None = None,
        replace: bool = False,
        **kwargs: Any,
    ) -> Any:
        """Store ``obj`` (a polars DataFrame) under ``name``, replacing any earlier object.

        The Parquet file is written to memory first, so a frame that cannot be written
        (e.g. a column of dtype Object) fails before anything is stored.
        """
        if not isinstance(obj, pl.DataFrame):
            raise TypeError(
                f"{KIND} stores polars DataFrames, got {type(obj).__module__}."
                f"{type(obj).__qualname__}; for a LazyFrame call .collect() first, for a Series"
                " call .to_frame()"
            )
        buffer = io.BytesIO()
        try:
            obj.write_parquet(buffer)
        except Exception as exc:  # polars raises several error types here
            raise ValueError(
                f"cannot store {name!r} as {KIND}: this DataFrame cannot be written as Parquet"
                f" ({exc}); cast the offending columns (e.g. Object) to a Parquet-compatible"
                " dtype first"
            ) from exc
        size = buffer.tell()
        buffer.seek(0)
        kind_meta = {
            "schema": schema_of(obj),
            "rows": obj.height,
            "nbytes": size,
            "polars_version": pl.__version__,
        }
        with self.stage(name, attributes, kind_meta=kind_meta) as staged:
            staged.put_file(buffer, ext="parquet")
        return staged.meta

    def get(
        self,
        name: str,
        version: int = -1,
        meta: Any = None,
        columns: str | Sequence[str] | None = None,
        **kwargs: Any,
    ) -> pl.DataFrame:
        """Read the DataFrame stored under ``name``; ``columns`` reads only those columns.

        Columns are returned in the order given. An unknown column raises ``ValueError``
        naming the available columns, before any data is read.
        """
        meta = self.metadata(name, meta)
        selected = self._check_columns(name, meta, columns)
        with self.store.gridfs_bucket.open_download_stream(meta.gridfile_id) as stream:
            data = stream.read()
        return pl.read_parquet(io.BytesIO(data), columns=selected)

    @staticmethod
    def _check_columns(
        name: str, meta: Any, columns: str | Sequence[str] | None
    ) -> list[str] | None:
        """``columns`` as a list of names, checked against the stored schema."""
        if columns is None:
            return None
        selected = [columns] if isinstance(columns, str) else list(columns)
        if not all(isinstance(c, str) for c in selected):
            raise TypeError(f"columns must be column names (str), got {columns!r}")
        available = [field["name"] for field in (meta.kind_meta or {}).get("schema", [])]
        unknown = [c for c in selected if c not in available]
        if unknown:
            raise ValueError(
                f"{name!r} has no column(s) {unknown}; available columns: {available}"
            )
        return selected


def schema_of(df: pl.DataFrame) -> list[dict[str, str]]:
    """The frame's schema as ``[{"name": ..., "dtype": ...}]`` (order kept, any column name)."""
    return [{"name": col, "dtype": str(dtype)} for col, dtype in df.schema.items()]
