"""DataFrames and Series to and from HDF5 files (pandas + PyTables), with exact dtypes.

This module does the pandas work of the ``pandas.hdf`` kind; the backend imports it only
when a put or get needs it. It checks a frame before anything is written, writes it with
``to_hdf``, and records in ``kind_meta["restore"]`` the few dtypes that HDF5 reads back
differently, so that a get returns what was put:

- object columns and indexes of strings come back as pandas' string dtype (pandas 3):
  cast back to ``object``;
- ``string[python]`` columns come back with the default string storage: cast back;
- datetimes and timedeltas in units other than "ns" come back in "ns" (pandas 2): cast
  back to their unit;
- a DatetimeIndex with a timezone loses its ``freq``: set again.

pandas 2 cannot write string-dtype columns at all: ``writable`` hands it object columns.
"""

from __future__ import annotations

from typing import Any, TypeAlias

import numpy as np
import pandas as pd

from omegacore_pandas_hdf import KIND

#: the HDF5 key the object is written under, recorded as kind_meta["key"]
KEY = "data"
#: the PyTables layouts pandas writes (``to_hdf(format=...)``)
FORMATS = ("fixed", "table")

Frame: TypeAlias = "pd.DataFrame | pd.Series"

#: pandas 3 writes string-dtype and period columns to HDF5; pandas 2 refuses both
PANDAS_3 = int(pd.__version__.split(".", 1)[0]) >= 3


def _qualname(obj: Any) -> str:
    return f"{type(obj).__module__}.{type(obj).__qualname__}"


def to_pandas(obj: Any) -> Frame:
    """``obj`` as a DataFrame or Series; lists, tuples, dicts and arrays become DataFrames."""
    if isinstance(obj, (pd.DataFrame, pd.Series)):
        return obj
    if isinstance(obj, np.ndarray):
        if obj.ndim not in (1, 2):
            raise ValueError(
                f"{KIND} stores 1- or 2-dimensional arrays (as a DataFrame), got "
                f"{obj.ndim} dimensions; reshape it, or store it without as_hdf=True"
            )
        return pd.DataFrame(obj)
    if isinstance(obj, (list, tuple, dict)):
        try:
            return pd.DataFrame(list(obj) if isinstance(obj, tuple) else obj)
        except (ValueError, TypeError) as exc:
            raise ValueError(
                f"{KIND} stores a {type(obj).__name__} only if pandas.DataFrame() accepts it, "
                "e.g. {'a': [1, 2], 'b': [3, 4]}, [{'a': 1, 'b': 3}, ...] or [[1, 3], ...]; "
                f"here pandas says: {exc}. Convert it to a DataFrame yourself, or store it "
                "without as_hdf=True (as python data)"
            ) from exc
    raise TypeError(
        f"{KIND} stores pandas DataFrames and Series (and lists, tuples, dicts or arrays "
        f"that convert into a DataFrame), got {_qualname(obj)}"
    )


# -- dtypes ---------------------------------------------------------------------------------
def _columns(obj: Frame) -> list[tuple[Any, Any]]:
    """(label, dtype) of each column; a Series is its one column."""
    if isinstance(obj, pd.Series):
        return [(obj.name, obj.dtype)]
    return list(zip(obj.columns, obj.dtypes, strict=True))


def _storable(dtype: Any) -> bool:
    """Whether PyTables can hold ``dtype`` (NumPy dtypes and the extension types pandas maps)."""
    if isinstance(dtype, np.dtype):
        return True
    return isinstance(
        dtype, (pd.CategoricalDtype, pd.DatetimeTZDtype, pd.PeriodDtype, pd.StringDtype)
    )


def _list(labels: list[Any], limit: int = 5) -> str:
    shown = ", ".join(repr(label) for label in labels[:limit])
    return shown + (f" and {len(labels) - limit} more" if len(labels) > limit else "")


def _has_tz_level(index: pd.Index) -> bool:
    return isinstance(index, pd.MultiIndex) and any(
        isinstance(level.dtype, pd.DatetimeTZDtype) for level in index.levels
    )


def choose_format(obj: Frame, fmt: str | None) -> str:
    """``fmt`` if given, else "fixed" unless the frame needs "table" (categoricals etc.)."""
    if fmt is not None:
        if fmt not in FORMATS:
            raise ValueError(f"format must be 'fixed' or 'table' (or None to choose), got {fmt!r}")
        return fmt
    needs_table = (
        any(isinstance(dtype, pd.CategoricalDtype) for _, dtype in _columns(obj))
        or (isinstance(obj, pd.DataFrame) and obj.columns.has_duplicates)
        or _has_tz_level(obj.index)
    )
    return "table" if needs_table else "fixed"


def check(obj: Frame, fmt: str) -> None:
    """Raise TypeError/ValueError for what ``fmt`` cannot hold, before anything is written."""
    columns = _columns(obj)
    bad = [(label, dtype) for label, dtype in columns if not _storable(dtype)]
    if bad:
        kinds = sorted({str(dtype) for _, dtype in bad})
        raise TypeError(
            f"{KIND} cannot store column(s) {_list([label for label, _ in bad])} of dtype "
            f"{', '.join(kinds)}: HDF5 holds NumPy dtypes, strings, categoricals, periods and "
            "datetimes with a timezone. Convert them first, e.g. "
            "df.astype({'col': 'float64'}) for nullable integers, floats or booleans "
            "(missing values become NaN) or .astype(object), or store the frame without "
            "as_hdf=True"
        )
    if not PANDAS_3:
        periods = [label for label, dtype in columns if isinstance(dtype, pd.PeriodDtype)]
        if periods:
            raise TypeError(
                f"pandas {pd.__version__} cannot write the period column(s) {_list(periods)} "
                "to HDF5 (pandas 3 can); convert them with .dt.to_timestamp() or "
                ".astype(str), or store the frame without as_hdf=True"
            )
        axes = [obj.index] + ([obj.columns] if isinstance(obj, pd.DataFrame) else [])
        if any(isinstance(axis.dtype, pd.CategoricalDtype) for axis in axes):
            raise TypeError(
                f"pandas {pd.__version__} cannot write a categorical index to HDF5 (pandas 3 "
                "can); convert it with .astype(str) (e.g. df.index = df.index.astype(str)), "
                "or store the frame without as_hdf=True"
            )
    if fmt == "fixed":
        categorical = [label for label, dtype in columns if isinstance(dtype, pd.CategoricalDtype)]
        if categorical:
            raise TypeError(
                f"format='fixed' cannot hold the categorical column(s) {_list(categorical)}; "
                "use format='table' (or leave format unset to choose it), or convert them "
                "with .astype(str)"
            )
        if isinstance(obj, pd.DataFrame) and obj.columns.has_duplicates:
            duplicated = list(obj.columns[obj.columns.duplicated()].unique())
            raise ValueError(
                f"format='fixed' cannot hold duplicate column names ({_list(duplicated)}); "
                "use format='table' (or leave format unset), or rename the columns"
            )
    elif len(obj) == 0:
        raise ValueError(
            "format='table' cannot store an empty frame (pandas writes nothing); use "
            "format='fixed', converting categorical columns with .astype(str) if there are any"
        )


def column_labels(obj: Frame, limit: int = 10_000) -> list[Any] | None:
    """A DataFrame's column labels if MongoDB holds them exactly (str or int), else None."""
    if not isinstance(obj, pd.DataFrame) or len(obj.columns) > limit:
        return None
    labels = obj.columns.tolist()
    simple = all(
        isinstance(label, str)
        or (isinstance(label, int) and not isinstance(label, bool) and -(2**63) <= label < 2**63)
        for label in labels
    )
    return labels if simple else None


# -- what HDF5 reads back differently --------------------------------------------------------
def _unit(dtype: Any) -> str | None:
    """The unit of a datetime or timedelta dtype (with or without timezone), else None."""
    if isinstance(dtype, pd.DatetimeTZDtype):
        return str(dtype.unit)
    if isinstance(dtype, np.dtype) and dtype.kind in "mM":
        return str(np.datetime_data(dtype)[0])
    return None


def _spec(dtype: Any) -> str | None:
    """A string naming ``dtype`` if a read may return it differently, else None."""
    if isinstance(dtype, np.dtype) and dtype == np.dtype(object):
        return "object"
    unit = _unit(dtype)
    if unit is not None:  # pandas 2 reads every unit back as "ns"
        return None if unit == "ns" else f"unit:{unit}"
    if isinstance(dtype, pd.StringDtype):
        na = "NA" if getattr(dtype, "na_value", pd.NA) is pd.NA else "nan"
        return f"string:{dtype.storage}:{na}"
    return None


def _dtype(spec: str) -> Any:
    """The dtype a ``_spec`` string names, as close as this pandas can make it."""
    if spec == "object":
        return np.dtype(object)
    _, storage, na = spec.split(":")
    na_value = np.nan if na == "nan" else pd.NA
    for candidate in (storage, "python"):
        try:
            return pd.StringDtype(storage=candidate, na_value=na_value)
        except TypeError:  # pandas < 2.3: no na_value; "pyarrow_numpy" is the NaN variant
            if na == "nan" and candidate == "pyarrow":
                return pd.StringDtype("pyarrow_numpy")
            return pd.StringDtype(candidate)
        except ImportError:  # pyarrow storage recorded, pyarrow not installed here
            continue
    return pd.StringDtype()


def _index_specs(index: pd.Index) -> list[str | None]:
    levels = index.levels if isinstance(index, pd.MultiIndex) else [index]
    return [_spec(level.dtype) for level in levels]


def restore_info(obj: Frame) -> dict[str, Any]:
    """What ``restore`` needs to undo HDF5's dtype changes (BSON-safe: lists and strings)."""
    info: dict[str, Any] = {
        "columns": [
            [position, spec]
            for position, (_, dtype) in enumerate(_columns(obj))
            if (spec := _spec(dtype)) is not None
        ],
        "index": _index_specs(obj.index),
    }
    if isinstance(obj, pd.DataFrame):
        info["column_index"] = _index_specs(obj.columns)
    freq = getattr(obj.index, "freq", None)
    if isinstance(obj.index, pd.DatetimeIndex) and freq is not None:
        info["index_freq"] = freq.freqstr
    return info


def _cast(values: Any, spec: str | None) -> Any:
    if spec is None:
        return values
    if spec.startswith("unit:"):
        unit = spec.split(":", 1)[1]
        if _unit(values.dtype) in (None, unit):
            return values
        return values.dt.as_unit(unit) if isinstance(values, pd.Series) else values.as_unit(unit)
    target = _dtype(spec)
    return values if values.dtype == target else values.astype(target)


def _restore_index(index: pd.Index, specs: list[str | None] | None) -> pd.Index:
    if not specs or not any(specs):
        return index
    if isinstance(index, pd.MultiIndex):
        levels = [_cast(level, spec) for level, spec in zip(index.levels, specs, strict=False)]
        return index.set_levels(levels)
    return _cast(index, specs[0])


def restore(obj: Frame, info: dict[str, Any]) -> Frame:
    """``obj`` as read from HDF5 with the dtypes recorded by ``restore_info``."""
    for position, spec in info.get("columns") or []:
        if isinstance(obj, pd.Series):
            obj = _cast(obj, spec)
        else:
            column = obj.iloc[:, position]
            cast = _cast(column, spec)
            if cast is not column:
                obj.isetitem(position, cast)
    obj.index = _restore_index(obj.index, info.get("index"))
    if isinstance(obj, pd.DataFrame):
        obj.columns = _restore_index(obj.columns, info.get("column_index"))
    freq = info.get("index_freq")
    if freq and isinstance(obj.index, pd.DatetimeIndex) and obj.index.freq is None:
        obj.index = pd.DatetimeIndex(obj.index, freq=freq)
    return obj


def as_written_by_pandas2(obj: Frame) -> Frame:
    """A frame from a file without restore information (written by omegaml, pandas 2):
    strings as object columns and labels holding None, as omegaml reads them, rather than
    the ``str`` dtype pandas 3 infers."""
    if isinstance(obj, pd.Series):
        return _as_object(obj) if isinstance(obj.dtype, pd.StringDtype) else obj
    for position, dtype in enumerate(obj.dtypes):
        if isinstance(dtype, pd.StringDtype):
            obj.isetitem(position, _as_object(obj.iloc[:, position]))
    if isinstance(obj.columns.dtype, pd.StringDtype):
        obj.columns = obj.columns.astype(object)
    if not isinstance(obj.index, pd.MultiIndex) and isinstance(obj.index.dtype, pd.StringDtype):
        obj.index = obj.index.astype(object)
    return obj


# -- files ----------------------------------------------------------------------------------
def _as_object(values: pd.Series) -> pd.Series:
    """A string-dtype column as an object column of str and None (pandas 2 writes those)."""
    return values.astype(object).where(values.notna(), None)


def _pandas2_column(values: pd.Series) -> pd.Series:
    if isinstance(values.dtype, pd.StringDtype):
        return _as_object(values)
    if _unit(values.dtype) not in (None, "ns"):
        return values.dt.as_unit("ns")
    return values


def _pandas2_index(index: pd.Index) -> pd.Index:
    if isinstance(index, pd.MultiIndex):
        if not any(_unit(level.dtype) not in (None, "ns") for level in index.levels):
            return index
        return index.set_levels([_pandas2_index(level) for level in index.levels])
    return index.as_unit("ns") if _unit(index.dtype) not in (None, "ns") else index


def writable(obj: Frame) -> Frame:
    """``obj`` as pandas 2 writes and reads it correctly in HDF5.

    pandas 2 refuses string-dtype columns (they become object columns) and writes the
    numbers of datetimes and timedeltas in units other than "ns" as if they were "ns"
    (they become "ns"; dates outside 1677-2262 cannot). pandas 3 writes other units as
    they are, which pandas 2 (and so omegaml 0.18) then reads as nanoseconds: the same
    conversion keeps every file readable there. ``restore_info`` of the original records
    the dtypes, so a get casts them back. Under pandas 3, values that do not fit "ns" are
    written as they are (readable by pandas 3 only).
    """
    try:
        if isinstance(obj, pd.Series):
            converted: Frame = _pandas2_column(obj)
            converted.index = _pandas2_index(obj.index)
            return converted
        frame = obj.copy(deep=False)
        for position in range(frame.shape[1]):
            column = frame.iloc[:, position]
            cast = _pandas2_column(column)
            if cast is not column:
                frame.isetitem(position, cast)
        frame.index = _pandas2_index(frame.index)
        frame.columns = _pandas2_index(frame.columns)
        return frame
    except (pd.errors.OutOfBoundsDatetime, pd.errors.OutOfBoundsTimedelta) as exc:
        if PANDAS_3:
            return obj
        raise TypeError(
            f"pandas {pd.__version__} writes datetimes to HDF5 only in nanoseconds, which "
            f"cannot hold these values ({exc}); pandas 3 can, or store the frame without "
            "as_hdf=True"
        ) from exc


def write(obj: Frame, path: str, fmt: str, complevel: int | None, complib: str | None) -> None:
    """Write ``obj`` to the HDF5 file ``path``; pandas' refusals become clear errors."""
    prepared = writable(obj)
    try:
        prepared.to_hdf(path, key=KEY, mode="w", format=fmt, complevel=complevel, complib=complib)
    except (NotImplementedError, TypeError, AttributeError) as exc:
        raise TypeError(
            f"{KIND} cannot store this {type(obj).__name__} with format={fmt!r}: {exc}. "
            "Convert the column(s) named above (e.g. .astype(str) or .astype('float64')), "
            "try the other format, or store it without as_hdf=True; nothing was stored"
        ) from exc
    except ValueError as exc:
        raise ValueError(
            f"{KIND} cannot store this {type(obj).__name__} with format={fmt!r}: {exc}; "
            "nothing was stored"
        ) from exc


def read(path: str, key: str | None) -> Frame:
    """The DataFrame or Series in the HDF5 file ``path`` (its only object if ``key`` is None)."""
    obj = pd.read_hdf(path, key=key, mode="r")
    if not isinstance(obj, (pd.DataFrame, pd.Series)):  # pragma: no cover - pandas promises it
        raise TypeError(f"the HDF5 file holds a {_qualname(obj)}, not a DataFrame or Series")
    return obj
