"""Store methods of the pandas.dfrows kind (names and arguments as in omegaml's OmegaStore)."""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from typing import Any

from omegacore import StoreMixin
from omegacore_pandas_dfrows import KIND


class DataFrameRowsMixin(StoreMixin):
    """Adds ``put_dataframe_as_documents`` and ``get_dataframe_documents`` to the store."""

    def put_dataframe_as_documents(
        self,
        obj: Any,
        name: str,
        append: bool | None = None,
        attributes: dict[str, Any] | None = None,
        index: Any = None,
        timestamp: Any = None,
        chunksize: int | None = None,
        ensure_compat: bool = True,
        **kwargs: Any,
    ) -> Any:
        """Store a DataFrame (or Series) as one document per row; returns the metadata.

        append: True (default) appends to stored rows, False replaces them; when not
            given and rows exist, a warning says that rows are appended.
        index: columns to index: ``+col`` ascending, ``-col`` descending, ``@col``
            2dsphere, or ``{"columns": [...], **create_index options}``.
        timestamp: True or a column name adds the current UTC time; a datetime sets the
            ``_created`` column to it; ``(column, datetime)`` sets both.
        chunksize: rows per insert command.
        ensure_compat: accepted for compatibility; values are always checked.

        Goes through ``store.put`` so that before/after-put hooks see it.
        """
        return self.put(
            obj, name, attributes=attributes, kind=KIND, append=append, index=index,
            timestamp=timestamp, chunksize=chunksize, ensure_compat=ensure_compat, **kwargs,
        )

    def get_dataframe_documents(
        self,
        name: str,
        columns: Sequence[Hashable] | None = None,
        lazy: bool = False,
        filter: Mapping[Hashable, Any] | None = None,
        version: int = -1,
        is_series: bool = False,
        chunksize: int | None = None,
        trusted: bool = False,
        **kwargs: Any,
    ) -> Any:
        """Read a stored DataFrame/Series (or chunks of it, or a lazy frame).

        columns: column projection. filter / kwargs: ``column__op=value`` criteria
            (``filter`` wins where both name a key). is_series: return a Series.
        chunksize: an iterator of frames of this many rows. lazy: an MDataFrame.
        trusted: accept raw MongoDB operators in the filter (never ``$where``).
        """
        from omegacore.errors import DoesNotExist

        meta = self.metadata(name)
        if meta is None:
            raise DoesNotExist(f"{name!r} does not exist in {self!r}")
        if meta.kind not in ("pandas.dfrows", "pandas.serows"):
            raise TypeError(
                f"{name!r} is stored as {meta.kind}, not as rows; use store.get({name!r})"
            )
        backend = self.get_backend_bykind(meta.kind)
        return backend.get(
            name, version=version, meta=meta, columns=columns, lazy=lazy, filter=filter,
            is_series=is_series, chunksize=chunksize, trusted=trusted, **kwargs,
        )
