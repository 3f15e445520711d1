"""dtypes as small BSON-safe descriptions (for ``kind_meta``), and back.

``describe_dtype(dtype)`` returns a dict that ``restore_dtype`` turns back into an equal
dtype, so a frame read from the store has exactly the dtypes it was stored with::

    {"kind": "numpy", "name": "int32"}                 numpy dtypes (incl. datetime64[unit],
                                                       timedelta64[unit], bool, object)
    {"kind": "datetimetz", "unit": "ns", "tz": "Europe/Zurich", "tzlib": "zoneinfo"}
    {"kind": "masked", "name": "Int64"}                pandas nullable Int/UInt/Float/boolean
    {"kind": "string", "storage": "pyarrow", "na_value": "nan"}   str / string dtypes
    {"kind": "category", "ordered": false, "categories": [...],
     "categories_dtype": {...}}                        categories as BSON values

dtypes MongoDB cannot hold (complex, period, interval, sparse, numpy bytes/str,
structured, pyarrow-backed) raise TypeError from ``describe_dtype``.
"""

from __future__ import annotations

import datetime as _dt
from typing import Any

_NUMPY_KINDS = "biufMmO"  # bool, int, uint, float, datetime64, timedelta64, object
_MASKED = {
    "Int8", "Int16", "Int32", "Int64", "UInt8", "UInt16", "UInt32", "UInt64",
    "Float32", "Float64", "boolean",
}
_UNITS = ("s", "ms", "us", "ns")


def describe_dtype(dtype: Any, where: str = "column") -> dict[str, Any]:
    """A BSON-safe description of ``dtype``; TypeError for dtypes that cannot be stored."""
    import numpy as np
    import pandas as pd

    if isinstance(dtype, np.dtype):
        if dtype.kind not in _NUMPY_KINDS or dtype.names is not None:
            raise _unsupported(dtype, where)
        if dtype.kind in "Mm" and np.datetime_data(dtype)[0] not in _UNITS:
            raise _unsupported(dtype, where)
        return {"kind": "numpy", "name": dtype.name}
    if isinstance(dtype, pd.DatetimeTZDtype):
        return {"kind": "datetimetz", "unit": dtype.unit, **describe_tz(dtype.tz)}
    if isinstance(dtype, pd.StringDtype):
        na = "NA" if dtype.na_value is pd.NA else "nan"
        return {"kind": "string", "storage": dtype.storage, "na_value": na}
    if isinstance(dtype, pd.CategoricalDtype):
        from omegacore_pandas.values import encode_value

        categories = dtype.categories
        return {
            "kind": "category",
            "ordered": bool(dtype.ordered),
            "categories": [encode_value(v, f"{where} categories") for v in categories],
            "categories_dtype": describe_dtype(categories.dtype, f"{where} categories"),
        }
    if getattr(dtype, "name", None) in _MASKED and type(dtype).__module__.startswith("pandas"):
        return {"kind": "masked", "name": dtype.name}
    raise _unsupported(dtype, where)


def _unsupported(dtype: Any, where: str) -> TypeError:
    return TypeError(
        f"{where} has dtype {dtype}, which cannot be stored as document rows; convert it "
        "first (e.g. .astype(str) or .astype(float)), or store the frame with as_hdf=True"
    )


def restore_dtype(desc: dict[str, Any]) -> Any:
    """The dtype described by ``desc`` (inverse of ``describe_dtype``)."""
    import numpy as np
    import pandas as pd

    kind = desc["kind"]
    if kind == "numpy":
        return np.dtype(desc["name"])
    if kind == "datetimetz":
        return pd.DatetimeTZDtype(desc["unit"], restore_tz(desc))
    if kind == "string":
        na_value = pd.NA if desc["na_value"] == "NA" else np.nan
        return pd.StringDtype(desc["storage"], na_value=na_value)
    if kind == "masked":
        return pd.api.types.pandas_dtype(desc["name"])
    if kind == "category":
        from omegacore_pandas.values import decode_value

        cat_dtype = restore_dtype(desc["categories_dtype"])
        values = [decode_value(v) for v in desc["categories"]]
        categories = pd.Index(values, dtype=cat_dtype) if values else pd.Index([], dtype=cat_dtype)
        return pd.CategoricalDtype(categories, ordered=desc["ordered"])
    raise ValueError(f"unknown dtype description {desc!r}")


def describe_tz(tz: Any) -> dict[str, Any]:
    """A time zone as ``{"tz": name, "tzlib": library}`` (offsets as ``offset`` seconds)."""
    module = type(tz).__module__
    if isinstance(tz, _dt.timezone):
        offset = tz.utcoffset(None)
        return {"tz": str(tz), "tzlib": "offset", "offset": int(offset.total_seconds())}
    if module.startswith("zoneinfo"):
        return {"tz": tz.key, "tzlib": "zoneinfo"}
    if module.startswith("pytz"):
        return {"tz": tz.zone, "tzlib": "pytz"}
    if module.startswith("dateutil"):
        name = str(getattr(tz, "_filename", "") or tz)
        if "zoneinfo/" in name:
            name = name.split("zoneinfo/", 1)[1]
        return {"tz": f"dateutil/{name}", "tzlib": "dateutil"}
    return {"tz": str(tz), "tzlib": "name"}


def restore_tz(desc: dict[str, Any]) -> Any:
    """The time zone object described by ``describe_tz``."""
    lib = desc.get("tzlib", "name")
    if lib == "offset":
        offset = _dt.timedelta(seconds=desc["offset"])
        return _dt.timezone.utc if not offset else _dt.timezone(offset)
    if lib == "zoneinfo":
        import zoneinfo

        return zoneinfo.ZoneInfo(desc["tz"])
    if lib == "pytz":
        import pytz

        return pytz.timezone(desc["tz"])
    return desc["tz"]


def dtype_from_name(name: str) -> dict[str, Any]:
    """A description from a dtype name as omegaml 0.18 recorded it (``dtype.name``)."""
    import pandas as pd

    if name.startswith("datetime64[") and "," in name:
        unit, tz = name[len("datetime64["):-1].split(",", 1)
        return {"kind": "datetimetz", "unit": unit.strip(), "tz": tz.strip(), "tzlib": "name"}
    if name == "category":
        return {"kind": "infer-category"}
    if name == "object":
        return {"kind": "infer-object"}
    try:
        return describe_dtype(pd.api.types.pandas_dtype(name))
    except TypeError:
        return {"kind": "infer-object"}
