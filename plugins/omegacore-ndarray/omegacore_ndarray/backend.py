"""The ``ndarray.bin`` backend: a numpy array as a ``.npy`` file in GridFS.

No pickle: the GridFS file holds numpy's ``.npy`` header and then the array's elements
exactly as numpy holds them in memory (C order, or Fortran order for Fortran-ordered
arrays), byte for byte what ``np.save`` writes; the metadata's ``kind_meta`` says the
same, so omegaml (which reads ``save_method: np.save`` files with ``np.load``) reads it::

    {"format": "npy", "dtype": "<f8", "shape": [1000, 3], "order": "C", "nbytes": 24000,
     "save_method": "np.save", "allow_pickle": false}
    (+ "descr": "[('a', '<i4'), ...]" for structured dtypes)

A put streams the array's buffer to GridFS in slices, and a get reads the file into a
preallocated array, so neither holds a second copy of the data.
"""

from __future__ import annotations

import ast
import io
import itertools
from collections.abc import Iterator
from typing import Any

import numpy as np
from omegacore import BaseBackend, MetadataBase

from omegacore_ndarray import KIND

#: the layout this backend writes, recorded as kind_meta["format"]: a .npy header, then
#: the array's bytes
FORMAT = "npy"
#: the layout of earlier releases: the bytes without a header
RAW_FORMAT = "raw"
#: bytes handed to GridFS per slice of the array's buffer
CHUNK_BYTES = 16 * 1024 * 1024


def _check_array(obj: Any) -> None:
    """Raise TypeError if ``obj`` cannot be stored exactly as raw bytes."""
    if not isinstance(obj, np.ndarray):
        raise TypeError(
            f"{KIND} stores numpy arrays, got {type(obj).__module__}.{type(obj).__qualname__}"
        )
    if type(obj) is not np.ndarray:
        raise TypeError(
            f"{KIND} stores plain numpy arrays, not the subclass {type(obj).__qualname__} "
            "(its extra state, e.g. a mask, would be lost); pass np.asarray(obj) to store "
            "the values, or store it with as_pydata=True"
        )
    if obj.dtype.hasobject:
        raise TypeError(
            f"{KIND} stores raw bytes and cannot store arrays holding python objects "
            f"(dtype {obj.dtype}) without pickle; store it as python data with "
            "store.put(arr, name, as_pydata=True), or convert it to a numeric or string dtype"
        )


def _flat(arr: np.ndarray) -> tuple[str, np.ndarray | None]:
    """The order the bytes are written in, and a 1-d view of them if the array is contiguous."""
    if arr.flags.c_contiguous:
        return "C", arr.reshape(-1)
    if arr.flags.f_contiguous:
        return "F", arr.T.reshape(-1)
    return "C", None


def _chunks(arr: np.ndarray, flat: np.ndarray | None) -> Iterator[memoryview]:
    """The array's bytes as slices of its buffer (copied blocks of rows if strided)."""
    if arr.nbytes == 0:
        return
    if flat is not None:
        view = flat.view(np.uint8).data
        for start in range(0, len(view), CHUNK_BYTES):
            yield view[start : start + CHUNK_BYTES]
        return
    # not contiguous: copy a block of rows at a time, never the whole array
    rows = max(1, CHUNK_BYTES // max(1, arr[0:1].nbytes))
    for start in range(0, arr.shape[0], rows):
        block = np.ascontiguousarray(arr[start : start + rows])
        yield block.reshape(-1).view(np.uint8).data


def npy_header(arr: np.ndarray, order: str) -> bytes:
    """The ``.npy`` header (format 1.0, or 2.0 for very long ones) for ``arr``'s bytes in
    ``order``: the file is then exactly what ``np.save`` writes, so any reader of
    ``.npy`` files (``np.load``, omegaml) reads it."""
    info = {"descr": np.lib.format.dtype_to_descr(arr.dtype),
            "fortran_order": order == "F", "shape": arr.shape}
    out = io.BytesIO()
    try:
        np.lib.format.write_array_header_1_0(out, info)
    except ValueError:  # the header does not fit format 1.0
        out = io.BytesIO()
        np.lib.format.write_array_header_2_0(out, info)
    return out.getvalue()


def dtype_meta(dtype: np.dtype) -> dict[str, Any]:
    """How ``dtype`` is recorded in kind_meta: ``dtype.str`` (+ ``descr`` if structured)."""
    meta: dict[str, Any] = {"dtype": dtype.str}
    if dtype.names is not None:
        meta["descr"] = repr(np.lib.format.dtype_to_descr(dtype))
    return meta


def dtype_from_meta(kind_meta: dict[str, Any]) -> np.dtype:
    """The dtype recorded by ``dtype_meta``."""
    if "descr" in kind_meta:
        return np.lib.format.descr_to_dtype(ast.literal_eval(kind_meta["descr"]))
    return np.dtype(kind_meta["dtype"])


def _fill(stream: Any, out: np.ndarray, order: str) -> None:
    """Read the stream's remaining bytes straight into ``out``'s buffer."""
    if out.nbytes == 0:
        return
    flat = out.T.reshape(-1) if order == "F" else out.reshape(-1)
    view = flat.view(np.uint8).data
    filled = 0
    readinto = getattr(stream, "readinto", None)
    while filled < len(view):
        if readinto is not None:
            got = readinto(view[filled:])
        else:  # pymongo's GridOut: one stored chunk at a time
            chunk = stream.readchunk()
            got = len(chunk)
            view[filled : filled + got] = chunk
        if not got:
            break
        filled += got
    if filled != len(view):
        raise ValueError(f"the GridFS file ended after {filled} of {len(view)} bytes")


def _npy_header(stream: Any) -> tuple[tuple[int, ...], str, np.dtype]:
    """Shape, order and dtype from the header of a file written with ``np.save``."""
    version = np.lib.format.read_magic(stream)
    if version == (1, 0):
        shape, fortran, dtype = np.lib.format.read_array_header_1_0(stream)
    elif version == (2, 0):
        shape, fortran, dtype = np.lib.format.read_array_header_2_0(stream)
    else:
        raise ValueError(f"unsupported .npy format version {version}")
    if dtype.hasobject:
        raise ValueError(
            "this array was stored with pickle (an object array written by omegaml's "
            "np.save); omegacore does not unpickle data"
        )
    return shape, "F" if fortran else "C", dtype


class NumpyArrayBackend(BaseBackend):
    """numpy arrays as raw bytes in GridFS, read back exactly (dtype, shape, order, values).

    Any numeric, bool, complex, datetime64/timedelta64, fixed-width string (``U``/``S``)
    or structured dtype without object fields, any shape. Object arrays need
    ``as_pydata=True`` (kind python.data).
    """

    KIND = KIND

    @classmethod
    def supports(cls, obj: Any, name: str, **kwargs: Any) -> bool:
        """numpy arrays (``as_pydata``/``as_hdf`` choose other kinds before this is asked)."""
        return isinstance(obj, np.ndarray)

    def put(
        self,
        obj: Any,
        name: str,
        attributes: dict[str, Any] | None = None,
        replace: bool = False,
        **kwargs: Any,
    ) -> MetadataBase:
        """Store the array ``obj`` under ``name``, replacing any earlier object of that name."""
        if kwargs:
            raise TypeError(
                f"{KIND} put() got unexpected keyword arguments {sorted(kwargs)}; it takes "
                "only attributes"
            )
        _check_array(obj)
        order, flat = _flat(obj)
        kind_meta = {
            "format": FORMAT,
            **dtype_meta(obj.dtype),
            "shape": list(obj.shape),
            "order": order,
            "nbytes": int(obj.nbytes),
            # omegaml reads a file with this marker with np.load: every dtype and order
            "save_method": "np.save",
            "allow_pickle": False,
        }
        header = npy_header(obj, order)
        with self.stage(name, attributes, kind_meta=kind_meta) as staged:
            # readable slices rather than bytes: GridFS copies each 255 KiB chunk once
            staged.put_file(itertools.chain([header], _chunks(obj, flat)), ext="np")
        return staged.meta

    def get(
        self, name: str, version: int = -1, meta: MetadataBase | None = None, **kwargs: Any
    ) -> np.ndarray:
        """The array stored under ``name``, as a new writable array."""
        if kwargs:
            raise TypeError(f"{KIND} get() takes no options, got {sorted(kwargs)}")
        meta = self.metadata(name, meta)
        kind_meta = dict(meta.kind_meta or {})
        if meta.gridfile_id is None:
            raise ValueError(f"{name!r} has no GridFS file in its metadata; put it again")
        with self.store.gridfs_bucket.open_download_stream(meta.gridfile_id) as stream:
            if kind_meta.get("format") == RAW_FORMAT:  # without a header (before 0.2)
                dtype = dtype_from_meta(kind_meta)
                shape, order = tuple(kind_meta["shape"]), kind_meta.get("order", "C")
            elif kind_meta.get("save_method") == "np.save":  # ours, or written by omegaml
                try:
                    shape, order, dtype = _npy_header(stream)
                except ValueError as exc:
                    raise ValueError(
                        f"{name!r}: the GridFS file has no valid .npy header ({exc}); the "
                        "stored data is damaged, put it again"
                    ) from exc
            else:  # omegaml's older raw layout: dtype name and shape
                dtype, shape, order = np.dtype(kind_meta["dtype"]), tuple(kind_meta["shape"]), "C"
            out = np.empty(shape, dtype=dtype, order="F" if order == "F" else "C")
            remaining = int(stream.length) - stream.tell()
            if remaining != out.nbytes:
                raise ValueError(
                    f"{name!r}: the GridFS file holds {remaining} bytes but dtype {dtype} and "
                    f"shape {shape} need {out.nbytes}; the stored data is damaged, put it again"
                )
            _fill(stream, out, order)
        return out
