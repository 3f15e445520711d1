"""The ``pandas.hdf`` backend: a DataFrame or Series as one HDF5 (PyTables) file in GridFS.

A put writes the frame with ``to_hdf`` to a temporary file under ``store.tmppath`` and
streams that file into GridFS; a get streams the GridFS file to a temporary file and reads
it with ``read_hdf``. HDF5 needs a real file, so these temporary files are the one copy
this kind makes; both are removed whatever happens. The metadata's ``kind_meta``::

    {"format": "fixed", "key": "data", "pytype": "DataFrame", "shape": [1000, 3],
     "nbytes": 24576, "pandas_version": "3.1.1", "tables_version": "3.11.1",
     "restore": {...}}   # dtypes HDF5 reads back differently (see omegacore_pandas_hdf.hdf)

This module imports pandas only inside methods: the kind is asked about every dict, list,
tuple and array that is put, and answers "no" without pandas unless ``as_hdf=True``.
"""

from __future__ import annotations

import os
import sys
import tempfile
from typing import Any

from omegacore import BaseBackend
from omegacore.documents import MetadataBase

from omegacore_pandas_hdf import KIND


def _remove(path: str) -> None:
    try:
        os.remove(path)
    except FileNotFoundError:
        pass


class PandasHdfBackend(BaseBackend):
    """pandas DataFrames and Series as HDF5 (PyTables) files in GridFS.

    Chosen only with ``store.put(obj, name, as_hdf=True)`` or ``kind="pandas.hdf"``; lists,
    tuples, dicts and 1-/2-d arrays are converted with ``pandas.DataFrame(obj)``.
    put kwargs: ``format`` ("fixed" or "table"; default: "fixed", or "table" when the frame
    has categoricals, duplicate column names or timezone-aware MultiIndex levels),
    ``complevel`` and ``complib`` (PyTables compression, e.g. ``complevel=5,
    complib="blosc:lz4"``). Loading runs pickle code (PyTables attributes): only load from
    stores whose writers you trust.
    """

    KIND = KIND

    @classmethod
    def supports(cls, obj: Any, name: str, as_hdf: bool = False, **kwargs: Any) -> bool:
        """True with ``as_hdf=True`` for DataFrames, Series, lists, tuples, dicts, arrays."""
        if not as_hdf:
            return False
        if isinstance(obj, (list, tuple, dict)):
            return True
        pd = sys.modules.get("pandas")  # an object cannot be a DataFrame if pandas is not loaded
        if pd is not None and isinstance(obj, (pd.DataFrame, pd.Series)):
            return True
        np = sys.modules.get("numpy")
        return np is not None and isinstance(obj, np.ndarray) and obj.ndim in (1, 2)

    def put(
        self,
        obj: Any,
        name: str,
        attributes: dict[str, Any] | None = None,
        replace: bool = False,
        format: str | None = None,
        complevel: int | None = None,
        complib: str | None = None,
        as_hdf: bool = True,
        **kwargs: Any,
    ) -> MetadataBase:
        """Store ``obj`` under ``name`` as an HDF5 file; return its committed metadata.

        Everything that can fail on the frame (conversion, dtypes, writing the HDF5 file)
        happens before anything is written to the store.
        """
        if as_hdf is not True:
            raise TypeError(f"as_hdf takes True or False, got {as_hdf!r}")
        if kwargs:
            raise TypeError(
                f"unexpected keyword arguments for {KIND}: {', '.join(sorted(kwargs))}; it "
                "accepts attributes=, replace=, format=, complevel= and complib="
            )
        import pandas as pd
        import tables

        from omegacore_pandas_hdf import hdf

        frame = hdf.to_pandas(obj)
        fmt = hdf.choose_format(frame, format)
        hdf.check(frame, fmt)
        kind_meta = {
            "format": fmt,
            "key": hdf.KEY,
            "pytype": "Series" if isinstance(frame, pd.Series) else "DataFrame",
            "shape": list(frame.shape),
            "pandas_version": pd.__version__,
            "tables_version": tables.__version__,
            "restore": hdf.restore_info(frame),
        }
        labels = hdf.column_labels(frame)
        if labels is not None:
            kind_meta["column_names"] = labels
        fd, path = tempfile.mkstemp(suffix=".h5", dir=self.store.tmppath)
        os.close(fd)
        try:
            hdf.write(frame, path, fmt, complevel, complib)
            kind_meta["nbytes"] = os.path.getsize(path)
            with self.stage(name, attributes, kind_meta=kind_meta) as staged:
                with open(path, "rb") as file:
                    staged.put_file(file, ext="hdf")
        finally:
            _remove(path)
        return staged.meta

    def get_object_as_python(self, meta: MetadataBase, version: int = -1) -> Any:
        """The stored HDF5 file, readable (``.read()``), as omegaml's force_python gives it."""
        return self.open_file(meta)

    def column_names(self, meta: MetadataBase) -> list[Any] | None:
        """The stored DataFrame's column labels in order (None for a Series).

        Recorded at put time when MongoDB holds them exactly (str or int labels); other
        labels (tuples of a MultiIndex, timestamps, ...) are read from the stored file.
        """
        kind_meta = meta.kind_meta or {}
        if "column_names" in kind_meta:
            return list(kind_meta["column_names"])
        if kind_meta.get("pytype") == "Series":
            return None
        import pandas as pd

        frame = self.get(meta.name, meta=meta)
        return frame.columns.tolist() if isinstance(frame, pd.DataFrame) else None

    def get(
        self,
        name: str,
        version: int = -1,
        meta: MetadataBase | None = None,
        columns: list[Any] | None = None,
        **kwargs: Any,
    ) -> Any:
        """The DataFrame or Series stored under ``name``; ``columns`` selects columns.

        The file is read whole (HDF5 needs it complete); ``columns`` is applied after
        reading, so that every kind with ``column_names`` honours ``get(columns=...)``.
        """
        if kwargs:
            raise TypeError(
                f"unexpected keyword arguments for getting a {KIND} object: "
                f"{', '.join(sorted(kwargs))} (it is read whole; lazy reads are not supported)"
            )
        from omegacore_pandas_hdf import hdf

        meta = self.metadata(name, meta)
        kind_meta = meta.kind_meta or {}
        fd, path = tempfile.mkstemp(suffix=".h5", dir=self.store.tmppath)
        try:
            with os.fdopen(fd, "wb") as file, self.open_file(meta) as stream:
                # chunk by chunk: GridOut.read(n) would first join chunks into a new buffer
                while chunk := stream.readchunk():
                    file.write(chunk)
            frame = hdf.read(path, kind_meta.get("key"))
        finally:
            _remove(path)
        if "restore" in kind_meta:
            frame = hdf.restore(frame, kind_meta["restore"])
        else:  # written by omegaml: strings as omegaml gives them
            frame = hdf.as_written_by_pandas2(frame)
        if columns is None:
            return frame
        from omegacore_pandas.columns import select_columns

        return select_columns(frame, columns, name)
