"""The ``pandas.parquet`` backend: a frame as Parquet files of row groups in GridFS.

Each put writes one Parquet file (zstd-compressed row groups of ``row_group_size`` rows);
an append writes one more file and keeps the earlier ones. The metadata's ``kind_meta``
lists the files with their row groups' row counts and column statistics, so a filtered
get opens only the row groups that can match and reads only the columns asked for::

    {"format": "parquet", "compression": "zstd", "rows": 1000000, "schema": "<digest>",
     "dictionary": ["text"],                  # the dictionary-encoded columns
     "restore": {...},                        # see omegacore_pandas_parquet.codec
     "parts": [{"file": ObjectId, "rows": 1000000, "bytes": 7.6e6,
                "groups": [{"rows": 65536, "bytes": 4.7e5, "digest": "<sha256>",
                            "stats": {"x": [min, max, nulls]}}, ...]}]}

A whole put with ``share_with=name`` (new versions, see omegacore-versions) writes only
the row groups ``name`` does not store; its parts then list row groups of other files,
each with its ``index`` there (``omegacore_pandas_parquet.sharing``).

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

from omegacore_pandas_parquet import KIND, sharing


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
    SHARES_DATA = True  # appends add files; share_with= reuses stored row groups

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
        share_with: str | None = None,
        as_parquet: bool = True,
        **kwargs: Any,
    ) -> MetadataBase:
        """Store ``obj`` as Parquet; with ``append=True`` add it to the stored rows; with
        ``share_with=name`` store only the row groups the stored object ``name`` lacks.

        Everything that can fail on the frame happens before anything is written.
        """
        if kwargs:
            raise TypeError(
                f"unexpected keyword arguments for {KIND}: {', '.join(sorted(kwargs))}; it "
                "accepts attributes=, replace=, append=, row_group_size=, compression= and "
                "share_with="
            )
        check_flag(append, "append", allow_none=True)
        if as_parquet is not True:
            raise TypeError(f"as_parquet takes True or False, got {as_parquet!r}")
        if row_group_size is not None and (
            not isinstance(row_group_size, int) or isinstance(row_group_size, bool)
            or row_group_size < 1
        ):
            raise ValueError(f"row_group_size must be a positive int, got {row_group_size!r}")
        if share_with is not None and not isinstance(share_with, str):
            raise TypeError(f"share_with takes the name of a stored object, got {share_with!r}")
        if share_with is not None and append:
            raise ValueError("share_with= is for whole puts; an append keeps the stored row "
                             "groups anyway")
        from omegacore_pandas_parquet import codec

        frame, restore = codec.as_frame(obj)
        previous = self.store.metadata(name)
        appending = (not replace and append is True and previous is not None
                     and previous.kind == KIND)
        if append is True and not replace and previous is not None and not appending:
            raise ValueError(f"cannot append to {name!r}: it is stored as {previous.kind}. "
                             "Pass append=False to replace it")
        stored = dict(previous.kind_meta or {}) if appending and previous is not None else {}
        span = _index_span(frame, previous if appending else None, name)
        table = codec.to_table(frame, restore, span)
        schema = _schema_digest(table)
        codec_name = compression or codec.COMPRESSION
        size = row_group_size or codec.ROW_GROUP_SIZE
        if appending:
            assert previous is not None
            _check_append(previous, schema, restore, name)
        like = self._like(share_with, schema, codec_name)
        like_parts = list(like.get("parts") or []) if like is not None else []
        # encoded as the object shared with (or appended to) is: equal rows, equal bytes
        model = like if like is not None else stored if appending else {}
        dictionary = list(model["dictionary"]) if "dictionary" in model \
            else codec.dictionary_columns(table, size)
        bounds = sharing.bounds(len(table), size, like_parts)
        data = _encode(table, bounds, codec_name, dictionary)
        codec.check_exact(obj, data, restore, span[0] if span is not None else 0)
        # the pandas metadata of the object (its files may have been written for others)
        restore["pandas"] = _pandas_metadata(previous if appending else None, table)
        groups = _groups(data, span, bounds, frame.index.name)
        reuse = sharing.stored(like_parts)
        new = [i for i, group in enumerate(groups) if group["digest"] not in reuse]
        if len(new) < len(groups):  # some row groups are stored already: write the others
            data = _encode(table, [bounds[i] for i in new], codec_name, dictionary)
        del table
        kind_meta = {"format": "parquet", "compression": codec_name, "schema": schema,
                     "dictionary": dictionary, "restore": restore,
                     "index_names": _plain_names(frame.index.names)}
        with self.stage(name, attributes, kind_meta=kind_meta) as staged:
            earlier = list(stored.get("parts") or [])
            # the first file is the object's gridfile, appended ones further files; a
            # put whose every row group is stored already writes no file
            own = staged.put_file(io.BytesIO(data), ext="parquet", primary=not earlier) \
                if new else None
            part = {"file": own, "rows": len(frame), "bytes": len(data), "groups": groups}
            del data
            if earlier:
                assert previous is not None
                _keep(staged, previous, earlier)
                parts = [*earlier, part]
            elif len(new) < len(groups):
                parts = _shared_parts(own, groups, new, reuse)
                files = sharing.files_of(parts)
                staged.keep_files([f for f in files if f != own],
                                  primary=files[0] if own is None else None)
            else:
                parts = [part]
            staged.meta.kind_meta = {**kind_meta, "parts": parts,
                                     "rows": sum(p["rows"] for p in parts)}
            staged.on_rebase(lambda current: _rebase(staged, current, part, appending, name))
        return staged.meta

    def _like(self, share_with: str | None, schema: str, compression: str
              ) -> dict[str, Any] | None:
        """The ``kind_meta`` of the object to share row groups with, if it can share any
        (same columns, types and compression); a clear error if there is no such object."""
        if share_with is None:
            return None
        meta = self.store.metadata(share_with)
        if meta is None:
            raise ValueError(f"share_with={share_with!r}: no such object; give the name of "
                             f"a stored {KIND} object")
        if meta.kind != KIND:
            raise ValueError(f"share_with={share_with!r} is stored as {meta.kind}; only "
                             f"{KIND} objects share row groups")
        kind_meta = dict(meta.kind_meta or {})
        if kind_meta.get("schema") != schema or kind_meta.get("compression") != compression:
            return None  # encoded otherwise: no row group can be the same
        return kind_meta

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


def _encode(table: Any, bounds: list[tuple[int, int]], compression: str,
            dictionary: list[str]) -> bytes:
    import pyarrow as pa

    from omegacore_pandas_parquet import codec

    try:
        return codec.write(table, bounds, compression, dictionary)
    except (ValueError, OSError, pa.ArrowException) as exc:
        raise ValueError(f"{KIND}: cannot write Parquet with compression="
                         f"{compression!r}: {exc}") from exc


def _index_span(frame: Any, appended_to: MetadataBase | None, name: str
                ) -> tuple[int, int] | None:
    """``(first value, step)`` when ``frame`` is stored without an index: a RangeIndex,
    or rows appended to an object stored so (their index must continue its step)."""
    from omegacore_pandas_parquet import codec

    if appended_to is None:
        return codec.range_of(frame.index)
    stored = ((appended_to.kind_meta or {}).get("restore") or {}).get("range")
    if stored is None:
        return None
    step, index_name = int(stored["step"]), stored.get("name")
    span = codec.range_of(frame.index, exactly=False)
    if span is not None and len(frame) == 1:
        span = (span[0], step)  # one value has any step
    if len(frame) == 0:
        span = (0, step)
    if span is None or span[1] != step or frame.index.name != index_name:
        raise ValueError(
            f"cannot append to {name!r}: it is stored with a RangeIndex (step {step}, name "
            f"{index_name!r}), so appended rows need evenly spaced integer index values with "
            "that step and name, e.g. df.set_axis(range(first, first + len(df))); or pass "
            "append=False to replace it")
    return span


def _pandas_metadata(appended_to: MetadataBase | None, table: Any) -> str | None:
    """What pandas needs to rebuild the object: the stored object's for an append
    (appended files keep its column labels), else the table's."""
    if appended_to is not None:
        return ((appended_to.kind_meta or {}).get("restore") or {}).get("pandas")
    raw = (table.schema.metadata or {}).get(b"pandas")
    return raw.decode() if raw is not None else None


def _groups(data: bytes, span: tuple[int, int] | None, bounds: list[tuple[int, int]],
            index_name: Any) -> list[dict[str, Any]]:
    """Of every row group of ``data`` (rows ``bounds``): rows, bytes, digest (see
    ``sharing``), per-column ``[min, max, nulls]`` and, for frames stored without an
    index (``span``: its first value and step), the group's first index value (the
    statistics then cover a named index too)."""
    import pyarrow.parquet as pq

    from omegacore_pandas_parquet.read import byte_ranges
    from omegacore_pandas_parquet.stats import column_stats

    metadata = pq.ParquetFile(io.BytesIO(data)).metadata
    groups = []
    for i in range(metadata.num_row_groups):
        group = metadata.row_group(i)
        ranges = byte_ranges(metadata, [i], None)
        rows = group.num_rows
        entry: dict[str, Any] = {"rows": rows, "bytes": sum(b - a for a, b in ranges),
                                 "stats": column_stats(group)}
        if span is not None:
            entry["start"] = first = span[0] + span[1] * bounds[i][0]
            if isinstance(index_name, str) and rows and index_name not in entry["stats"]:
                last = first + span[1] * (rows - 1)
                entry["stats"][index_name] = [min(first, last), max(first, last), 0]
        entry["digest"] = sharing.digest(data, ranges, rows, entry.get("start"))
        groups.append(entry)
    return groups


def _shared_parts(own: Any, groups: list[dict[str, Any]], new: list[int],
                  reuse: dict[str, tuple[Any, int]]) -> list[dict[str, Any]]:
    """The parts of a put whose row groups ``new`` went to the file ``own`` (in order)
    and whose other row groups are stored already (``reuse``, by digest)."""
    fresh = {position: index for index, position in enumerate(new)}
    placed = []
    for i, group in enumerate(groups):
        # the entry is this put's own either way: the same bytes, and the index
        # statistics of this object's index
        where = (own, fresh[i]) if i in fresh else reuse[group["digest"]]
        placed.append(sharing.Placed(*where, group))
    return sharing.compose(placed)


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
