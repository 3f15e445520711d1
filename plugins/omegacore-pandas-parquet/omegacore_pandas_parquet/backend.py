"""The ``pandas.parquet`` backend: a frame as Parquet files of row groups in GridFS.

Each put writes one Parquet file (zstd-compressed row groups of ``row_group_size`` rows);
an append writes one more file and keeps the earlier ones. The metadata's ``kind_meta``
lists the files with their row groups' row counts and column statistics, so a filtered
get opens only the row groups that can match and reads only the columns asked for::

    {"format": "parquet", "compression": "zstd", "rows": 1000000, "schema": "<digest>",
     "restore": {...},                        # see omegacore_pandas_parquet.codec
     "parts": [{"file": ObjectId, "rows": 1000000, "bytes": 7.6e6,
                "groups": [{"rows": 65536, "stats": {"x": [min, max, nulls]}}, ...]}]}

Heavy libraries are imported inside the methods (``supports`` answers without them).
"""

from __future__ import annotations

import hashlib
import io
import sys
from collections.abc import Hashable, Mapping, Sequence
from typing import Any

from omegacore import BaseBackend
from omegacore.documents import MetadataBase
from omegacore.staging import StagedPut
from omegacore.validation import check_flag

from omegacore_pandas_parquet import KIND


class PandasParquetBackend(BaseBackend):
    """pandas DataFrames and Series as compressed Parquet row groups in GridFS.

    Chosen with ``store.put(df, name, as_parquet=True)`` or ``kind="pandas.parquet"``.
    put options: ``append`` (add the rows as new row groups; the columns and dtypes must
    match), ``row_group_size`` (rows per row group, default 65,536), ``compression``
    (default ``"zstd"``; any codec pyarrow writes). get options: ``columns`` (only their
    bytes are read), ``column__op=value`` filters (row groups skipped by statistics,
    rows filtered exactly).
    """

    KIND = KIND
    APPEND_SHARES_PARTS = True  # an append writes a file of its own

    @classmethod
    def supports(cls, obj: Any, name: str, as_parquet: bool = False, **kwargs: Any) -> bool:
        """True with ``as_parquet=True`` for DataFrames and Series."""
        pd = sys.modules.get("pandas")
        return bool(as_parquet) and pd is not None and isinstance(obj, (pd.DataFrame,
                                                                         pd.Series))

    # -- put ---------------------------------------------------------------------------------
    def put(
        self,
        obj: Any,
        name: str,
        attributes: dict[str, Any] | None = None,
        replace: bool = False,
        append: bool | None = None,
        row_group_size: int | None = None,
        compression: str | None = None,
        as_parquet: bool = True,
        **kwargs: Any,
    ) -> MetadataBase:
        """Store ``obj`` as Parquet; with ``append=True`` add it to the stored rows.

        Everything that can fail on the frame happens before anything is written.
        """
        if kwargs:
            raise TypeError(
                f"unexpected keyword arguments for {KIND}: {', '.join(sorted(kwargs))}; it "
                "accepts attributes=, replace=, append=, row_group_size= and compression="
            )
        check_flag(append, "append", allow_none=True)
        if as_parquet is not True:
            raise TypeError(f"as_parquet takes True or False, got {as_parquet!r}")
        if row_group_size is not None and (
            not isinstance(row_group_size, int) or isinstance(row_group_size, bool)
            or row_group_size < 1
        ):
            raise ValueError(f"row_group_size must be a positive int, got {row_group_size!r}")
        from omegacore_pandas_parquet import codec

        frame, restore = codec.as_frame(obj)
        table = codec.to_table(frame, restore)
        schema = _schema_digest(table)
        codec_name = compression or codec.COMPRESSION
        import pyarrow as pa

        try:
            data = codec.write(table, row_group_size or codec.ROW_GROUP_SIZE, codec_name)
        except (ValueError, OSError, pa.ArrowException) as exc:
            raise ValueError(f"{KIND}: cannot write Parquet with compression="
                             f"{codec_name!r}: {exc}") from exc
        del table
        codec.check_exact(obj, data, restore)
        part = {"rows": len(frame), "bytes": len(data), "groups": _groups(data)}
        previous = self.store.metadata(name)
        appending = (not replace and append is True and previous is not None
                     and previous.kind == KIND)
        if append is True and not replace and previous is not None and not appending:
            raise ValueError(f"cannot append to {name!r}: it is stored as {previous.kind}. "
                             "Pass append=False to replace it")
        if appending:
            assert previous is not None
            _check_append(previous, schema, restore, name)
        kind_meta = {"format": "parquet", "compression": codec_name, "schema": schema,
                     "restore": restore, "index_names": _plain_names(frame.index.names)}
        with self.stage(name, attributes, kind_meta=kind_meta) as staged:
            earlier = list((previous.kind_meta or {}).get("parts") or []) \
                if appending and previous is not None else []
            # the first file is the object's gridfile, appended ones further files
            part["file"] = staged.put_file(io.BytesIO(data), ext="parquet",
                                           primary=not earlier)
            del data
            if earlier:
                assert previous is not None
                _keep(staged, previous, earlier)
            parts = [*earlier, part]
            staged.meta.kind_meta = {**kind_meta, "parts": parts,
                                     "rows": sum(p["rows"] for p in parts)}
            staged.on_rebase(lambda current: _rebase(staged, current, part, appending, name))
        return staged.meta

    def stored_rest(self, obj: Any, meta: MetadataBase) -> Any:
        """The rows of ``obj`` after those ``meta`` stores, if ``obj`` begins with exactly
        the stored rows (values, dtypes, index and names), else None."""
        import pandas as pd

        rows = (meta.kind_meta or {}).get("rows")
        if not isinstance(obj, (pd.DataFrame, pd.Series)) or rows is None or len(obj) < rows:
            return None
        stored = self.get(meta.name, meta=meta)
        head = obj.iloc[:rows]
        try:
            if isinstance(obj, pd.DataFrame):
                pd.testing.assert_frame_equal(head, stored, check_exact=True, check_freq=False)
            else:
                pd.testing.assert_series_equal(head, stored, check_exact=True,
                                               check_freq=False)
        except AssertionError:
            return None
        return obj.iloc[rows:]

    # -- get ---------------------------------------------------------------------------------
    def get(
        self,
        name: str,
        version: int = -1,
        meta: MetadataBase | None = None,
        columns: Sequence[Hashable] | None = None,
        filter: Mapping[Hashable, Any] | None = None,
        lazy: bool = False,
        **kwargs: Any,
    ) -> Any:
        """The stored frame (or Series): ``columns`` only, rows matching the filters.

        lazy: a ``ParquetFrame`` that reads when asked (``store.getl(name)``).
        """
        from omegacore_pandas_parquet.read import read_parts
        from omegacore_pandas_parquet.selection import Selection

        check_flag(lazy, "lazy")
        meta = self.metadata(name, meta)
        criteria: dict[Hashable, Any] = {key: value for key, value in kwargs.items()}
        criteria.update(filter or {})
        if lazy:
            from omegacore_pandas_parquet.lazy import ParquetFrame

            return ParquetFrame(self.store, meta, columns=columns, criteria=criteria)
        selection = Selection.of(meta.kind_meta or {}, columns, criteria, f"get({name!r})")
        return selection.finish(lambda: read_parts(self.store, selection.parts,
                                                   selection.read_columns(),
                                                   selection.criteria))

    def column_names(self, meta: MetadataBase) -> list[Any] | None:
        """The stored DataFrame's column labels (None for a Series or unusual labels)."""
        restore = (meta.kind_meta or {}).get("restore") or {}
        names = restore.get("names")
        if restore.get("pytype") == "Series" or names is None:
            return None
        return list(names)


def _plain_names(names: Sequence[Any]) -> list[Any]:
    """Index level names the metadata can hold (others as None: not filterable)."""
    return [n if isinstance(n, (str, int)) and not isinstance(n, bool) else None
            for n in names]


def _groups(data: bytes) -> list[dict[str, Any]]:
    """Row counts and per-column ``[min, max, nulls]`` of every row group of ``data``."""
    import pyarrow.parquet as pq

    from omegacore_pandas_parquet.stats import column_stats

    metadata = pq.ParquetFile(io.BytesIO(data)).metadata
    groups = []
    for i in range(metadata.num_row_groups):
        group = metadata.row_group(i)
        groups.append({"rows": group.num_rows, "stats": column_stats(group)})
    return groups


def _schema_digest(table: Any) -> str:
    """Identifies the columns and types (not the pandas details) of a table."""
    text = table.schema.remove_metadata().to_string()
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _check_append(previous: MetadataBase, schema: str, restore: dict[str, Any],
                  name: str) -> None:
    stored = previous.kind_meta or {}
    same = stored.get("schema") == schema and (stored.get("restore") or {}).get("dtypes") == \
        restore.get("dtypes")
    if not same:
        raise ValueError(
            f"cannot append to {name!r}: the columns or dtypes differ from the stored "
            f"frame (stored: {(stored.get('restore') or {}).get('dtypes')}; given: "
            f"{restore.get('dtypes')}). Convert the frame, or pass append=False to replace it"
        )


def _keep(staged: StagedPut, owner: MetadataBase, parts: list[dict[str, Any]]) -> None:
    """Keep ``owner``'s files (its gridfile and further parts) as this object's."""
    staged.meta.gridfile = owner.gridfile
    staged.keep_files([p["file"] for p in parts[1:]])


def _rebase(staged: StagedPut, current: MetadataBase, part: dict[str, Any], appending: bool,
            name: str) -> None:
    """Another put committed first: an append goes after its parts; a replace stays one."""
    if not appending:
        return
    kind_meta = current.kind_meta or {}
    if current.kind != KIND or kind_meta.get("schema") != (staged.meta.kind_meta or {}).get(
            "schema"):
        raise ValueError(f"{name!r} was replaced by another process while this put appended "
                         "to it; put again to append to the new data")
    earlier = list(kind_meta.get("parts") or [])
    _keep(staged, current, earlier)
    parts = [*earlier, part]
    staged.meta.kind_meta = {**(staged.meta.kind_meta or {}), "parts": parts,
                             "rows": sum(p["rows"] for p in parts)}
