"""DataFrames as files for ``omegacore put`` and ``omegacore get``: CSV, Parquet and Excel.

Round trips are lossless where the format allows: a default index (0, 1, ... unnamed)
is not written, any other index is written as the first columns and read back as the
index (an unnamed one has an empty header, as pandas writes it); ISO 8601 date columns
are read as datetimes.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pandas as pd

#: A cell that holds an ISO 8601 date or timestamp, as pandas writes them.
_ISO_DATE = re.compile(
    r"^\d{4}-\d{2}-\d{2}([ T]\d{2}:\d{2}(:\d{2}(\.\d+)?)?)?(Z|[+-]\d{2}:?\d{2})?$")
_UNNAMED = re.compile(r"^Unnamed: \d+(_level_\d+)?$")


# --------------------------------------------------------------------------------------------
# reading
# --------------------------------------------------------------------------------------------
def read_csv(path: Path, index_col: str | None = None, parse_dates: str | None = None,
             sep: str = ",") -> pd.DataFrame:
    """Read a CSV file as written by ``write_csv`` or by any spreadsheet or script."""
    try:
        frame = pd.read_csv(path, sep=sep)
    except pd.errors.EmptyDataError as exc:
        raise ValueError("the file is empty: a CSV file needs a header line") from exc
    except pd.errors.ParserError as exc:
        detail = str(exc).strip().splitlines()[-1]
        raise ValueError(f"not valid CSV ({detail}); fix the file or export it again") from exc
    except UnicodeDecodeError as exc:
        raise ValueError("not UTF-8 text: save it as UTF-8 CSV") from exc
    return _finish(frame, index_col, parse_dates)


def read_tsv(path: Path, index_col: str | None = None,
             parse_dates: str | None = None) -> pd.DataFrame:
    """Read a tab-separated file (like ``read_csv``)."""
    return read_csv(path, index_col=index_col, parse_dates=parse_dates, sep="\t")


def read_parquet(path: Path) -> pd.DataFrame:
    """Read a Parquet file (with pyarrow); the index pandas stored in it is restored."""
    try:
        return pd.read_parquet(path)
    except ImportError:
        raise
    except Exception as exc:  # noqa: BLE001 - pyarrow raises several types for bad files
        detail = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ValueError(f"not a valid Parquet file ({detail})") from exc


def read_excel(path: Path, index_col: str | None = None, parse_dates: str | None = None,
               sheet: str | None = None) -> pd.DataFrame:
    """Read one sheet of an .xlsx workbook (the first unless ``sheet`` names one)."""
    try:
        frame = pd.read_excel(path, sheet_name=sheet if sheet is not None else 0,
                              engine="openpyxl")
    except ImportError:
        raise
    except ValueError as exc:
        raise ValueError(str(exc).splitlines()[0]) from exc
    except Exception as exc:  # noqa: BLE001 - openpyxl raises zipfile/KeyError for bad files
        raise ValueError(f"not a valid .xlsx workbook ({type(exc).__name__}: {exc})") from exc
    if frame.empty and not len(frame.columns):
        raise ValueError("the sheet is empty")
    return _finish(frame, index_col, parse_dates)


def _finish(frame: pd.DataFrame, index_col: str | None,
            parse_dates: str | None) -> pd.DataFrame:
    """Index and date columns of a frame read from text."""
    if not len(frame.columns):
        raise ValueError("no columns: a CSV file needs a header line")
    frame = _dates(frame, parse_dates)
    if index_col:
        names = [c.strip() for c in index_col.split(",") if c.strip()]
        missing = [c for c in names if c not in frame.columns]
        if missing:
            raise ValueError(
                f"--index-col {', '.join(missing)} names no column; the columns are "
                f"{', '.join(map(str, frame.columns))}")
        return frame.set_index(names)
    unnamed = []
    for column in frame.columns:  # pandas writes an unnamed index with an empty header
        if not (isinstance(column, str) and _UNNAMED.match(column)):
            break
        unnamed.append(column)
    if unnamed and len(unnamed) < len(frame.columns):
        frame = frame.set_index(unnamed)
        frame.index.names = [None] * len(unnamed)
    return frame


def _dates(frame: pd.DataFrame, parse_dates: str | None) -> pd.DataFrame:
    """Convert date columns: ISO 8601 ones by default, ``a,b`` only these, ``none`` none."""
    if parse_dates is not None and parse_dates.strip().lower() == "none":
        return frame
    if parse_dates is None or parse_dates.strip().lower() == "auto":
        columns = [c for c in frame.columns if _looks_like_dates(frame[c])]
        explicit = False
    else:
        columns = [c.strip() for c in parse_dates.split(",") if c.strip()]
        missing = [c for c in columns if c not in frame.columns]
        if missing:
            raise ValueError(f"--parse-dates {', '.join(missing)} names no column; the "
                             f"columns are {', '.join(map(str, frame.columns))}")
        explicit = True
    for column in columns:
        try:
            frame[column] = pd.to_datetime(frame[column], format=None if explicit else "ISO8601")
        except (ValueError, TypeError) as exc:
            if explicit:
                raise ValueError(f"column {column!r} is not a date column ({exc})") from exc
    return frame


def _looks_like_dates(column: pd.Series) -> bool:
    if pd.api.types.is_numeric_dtype(column) or pd.api.types.is_bool_dtype(column):
        return False
    values = column.dropna()
    if values.empty:
        return False
    return all(isinstance(v, str) and _ISO_DATE.match(v) for v in values)


# --------------------------------------------------------------------------------------------
# writing
# --------------------------------------------------------------------------------------------
def _as_frame(obj: Any) -> pd.DataFrame:
    return obj.to_frame() if isinstance(obj, pd.Series) else obj


def _default_index(frame: pd.DataFrame) -> bool:
    index = frame.index
    return (isinstance(index, pd.RangeIndex) and index.start == 0 and index.step == 1
            and index.name is None)


def _index_note(frame: pd.DataFrame) -> str | None:
    names = [n for n in frame.index.names if n is not None]
    if _default_index(frame) or not names:
        return None
    return (f"the index ({', '.join(map(str, names))}) is written as the first column(s); "
            f"read it back with: omegacore put FILE NAME --index-col {','.join(map(str, names))}")


def write_csv(obj: Any, path: Path, sep: str = ",") -> str | None:
    """Write a frame as CSV (the index only when it is not the default one)."""
    frame = _as_frame(obj)
    frame.to_csv(path, index=not _default_index(frame), sep=sep)
    return _index_note(frame)


def write_tsv(obj: Any, path: Path) -> str | None:
    """Write a frame as tab-separated text."""
    return write_csv(obj, path, sep="\t")


def write_parquet(obj: Any, path: Path) -> None:
    """Write a frame as Parquet (index and dtypes kept)."""
    frame = _as_frame(obj)
    try:
        frame.to_parquet(path)
    except ImportError:
        raise
    except (TypeError, ValueError) as exc:  # e.g. non-string column names
        raise ValueError(str(exc).splitlines()[0]) from exc
    except Exception as exc:  # noqa: BLE001 - pyarrow's ArrowException types
        raise ValueError(f"{type(exc).__name__}: {exc}") from exc


def write_excel(obj: Any, path: Path, sheet: str | None = None) -> str | None:
    """Write a frame as one sheet of an .xlsx workbook."""
    frame = _as_frame(obj)
    if any(getattr(frame[c].dtype, "tz", None) is not None for c in frame.columns):
        raise ValueError("Excel cannot hold time zones: write .csv or .parquet instead")
    frame.to_excel(path, index=not _default_index(frame), sheet_name=sheet or "Sheet1",
                   engine="openpyxl")
    return _index_note(frame)
