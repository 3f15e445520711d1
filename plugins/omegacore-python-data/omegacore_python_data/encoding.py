"""How python data is written into BSON documents and read back.

Values come back as omegaml 0.18 gives them, where omegaml's answer is a plain value:
tuples (and named tuples) as lists, numpy scalars as Python numbers (``bool``, ``int``,
``float``, ``complex``, ``str``, ``bytes``), numpy arrays as (nested) lists of those,
``datetime64``/``timedelta64`` as ``datetime``/``timedelta`` and ``pandas.Timestamp`` as
``datetime``. Where omegaml turns a value into a string (datetimes, dates, sets, complex
numbers, decimals, bytes, dict keys that are not strings), the value keeps its type.

Plain JSON-like data is stored as it is, so MongoDB can query and index it: ``None``,
``bool``, ``int`` (64 bit), ``float``, ``str``, ``bytes``, lists, dicts whose keys are
ordinary strings, naive ``datetime`` values at millisecond precision, ``uuid.UUID``,
``bson.ObjectId`` and ``bson.Decimal128``.

Everything else is stored as a *tagged* value: a sub-document whose field ``__omt__``
names the type (see docs/kinds/python-data.md)::

    set, frozenset          {"__omt__": "set", "v": [items]}
    tuple (as a dict key    {"__omt__": "tuple", "v": [items]}
      or a set item)
    bytearray               {"__omt__": "bytearray", "v": b"..."}
    complex                 {"__omt__": "complex", "v": [real, imag]}
    decimal.Decimal         {"__omt__": "decimal", "v": "1.10"}
    datetime (aware, or     {"__omt__": "datetime", "v": <BSON datetime, UTC>,
      sub-millisecond)        "wall": [y, m, d, H, M, S, us], "tz": {...}, "fold": 1}
    date, time, timedelta   {"__omt__": "date", "v": "2024-05-01"}, "time" (wall, tz),
                            "timedelta" (v: [days, seconds, microseconds])
    dict with other keys    {"__omt__": "dict", "__omi__": [[position, key, value], ...],
                              <the dict's ordinary string keys and values>}

A dict key is *ordinary* if it is a non-empty ``str`` that does not start with ``$``
and contains neither ``.`` nor NUL and is not ``__omt__`` or ``__omi__``; other keys
(ints, tuples, ``"$x"``, ``"a.b"`` ...) go to ``__omi__`` with their position, so key
order and the ordinary fields' queryability are both kept. Keys and set items must stay
hashable, so tuples there keep their type.

Data written by the first version of this encoding (``omegacore.pydata/1``) may hold
tagged tuples, numpy scalars (``"np"``) and arrays (``"ndarray"``) in values; they are read
as lists and Python numbers too, so every object reads the same whenever it was put.

Values that cannot be stored (arbitrary objects, integers beyond 64 bit, datetimes with
nanoseconds, strings that are not valid unicode, documents over 16 MiB) raise TypeError
or ValueError from ``encode``, before anything is written.
"""

from __future__ import annotations

import ast
import datetime as dt
import decimal
import sys
import uuid
import zoneinfo
from collections.abc import Callable
from typing import Any

import bson
from bson.binary import UuidRepresentation
from bson.codec_options import CodecOptions, TypeDecoder, TypeRegistry
from bson.decimal128 import Decimal128
from bson.errors import InvalidDocument
from bson.int64 import Int64
from bson.objectid import ObjectId
from bson.raw_bson import RawBSONDocument

#: field naming the type of a tagged value
MARKER = "__omt__"
#: field of a tagged dict holding the entries whose keys are not ordinary strings
ITEMS = "__omi__"
RESERVED_KEYS = frozenset({MARKER, ITEMS})
MARKER_BYTES = MARKER.encode("ascii")
#: version of this encoding, recorded in the metadata's kind_meta
ENCODING = "omegacore.pydata/2"
#: MongoDB's document size limit
MAX_DOCUMENT_SIZE = 16 * 1024 * 1024
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1


class _Int64AsInt(TypeDecoder):
    """Decode BSON int64 as ``int`` (bson's default is its ``Int64`` subclass)."""

    bson_type = Int64

    def transform_bson(self, value: Any) -> int:
        return int(value)


#: options for encoding documents and for decoding them back
CODEC_OPTIONS: CodecOptions = CodecOptions(
    tz_aware=False,
    uuid_representation=UuidRepresentation.STANDARD,
    type_registry=TypeRegistry([_Int64AsInt()]),
)
#: options for reading documents as raw bytes (decoded by ``decode_document``)
RAW_OPTIONS: CodecOptions = CodecOptions(
    document_class=RawBSONDocument,
    tz_aware=False,
    uuid_representation=UuidRepresentation.STANDARD,
)


class _Unencodable(Exception):
    """Raised inside the encoder; collects the path to the bad value on the way out."""

    def __init__(self, error: type[Exception], message: str) -> None:
        super().__init__(message)
        self.error = error
        self.message = message
        self.parts: list[str] = []


SUPPORTED = (
    "None, bool, int (64 bit), float, complex, str, bytes, bytearray, decimal.Decimal, "
    "datetime/date/time/timedelta (and pandas Timestamp), uuid.UUID, bson "
    "ObjectId/Decimal128, list, tuple, set, frozenset, dict (any hashable supported keys), "
    "numpy scalars and numpy arrays"
)


# -- encoding ---------------------------------------------------------------------------------
def encode(value: Any, where: str = "value") -> Any:
    """``value`` as BSON-native python data (plain where possible, tagged otherwise).

    Raises TypeError (unsupported type) or ValueError (unsupported value) naming the
    position of the offending value inside ``value``.
    """
    try:
        return _enc(value)
    except _Unencodable as exc:
        location = where + "".join(reversed(exc.parts))
        raise exc.error(f"cannot store {location}: {exc.message}") from None


def encode_document(value: Any, doc_id: ObjectId, where: str = "obj") -> RawBSONDocument:
    """The stored document ``{"_id": doc_id, "data": <encoded value>}``, BSON-encoded.

    Encoding to bytes here (not in the driver) means every error, including the size
    limit, is raised before anything is written.
    """
    encoded = encode(value, where)
    try:
        raw = bson.encode({"_id": doc_id, "data": encoded}, codec_options=CODEC_OPTIONS)
    except (InvalidDocument, UnicodeEncodeError) as exc:
        raise ValueError(
            f"cannot store {where}: {exc}; strings must be valid unicode (no lone surrogates)"
        ) from None
    if len(raw) > MAX_DOCUMENT_SIZE:
        raise ValueError(
            f"cannot store {where}: it needs {len(raw):,} bytes as a document, over MongoDB's "
            f"limit of {MAX_DOCUMENT_SIZE:,}; store large numpy arrays as ndarray.bin "
            "(without as_pydata=True), or put the data as several smaller objects "
            "(e.g. as_many=True for a list)"
        )
    return RawBSONDocument(raw, codec_options=RAW_OPTIONS)


def _fail(error: type[Exception], message: str) -> _Unencodable:
    return _Unencodable(error, message)


def _enc(v: Any) -> Any:
    t = type(v)
    if t is str or t is float or t is bool or v is None or t is bytes:
        return v
    if t is int:
        if INT64_MIN <= v <= INT64_MAX:
            return v
        raise _fail(
            ValueError,
            f"the integer {v} does not fit MongoDB's 64-bit integers; store it as "
            "str(value) or decimal.Decimal(value)",
        )
    if t is list:
        return _enc_sequence(v)
    if t is dict:
        return _enc_dict(v)
    encoder = _ENCODERS.get(t)
    if encoder is not None:
        return encoder(v)
    np = sys.modules.get("numpy")
    if np is not None and isinstance(v, (np.ndarray, np.generic)):
        return _enc_numpy(v, np)
    # subclasses of the containers are stored as their base type (documented)
    if isinstance(v, dict):
        return _enc_dict(v)
    if isinstance(v, (list, tuple)):
        return _enc_sequence(v)
    if isinstance(v, dt.datetime) and hasattr(v, "to_pydatetime"):  # pandas Timestamp
        return _enc_timestamp(v)
    raise _fail(
        TypeError,
        f"values of type {t.__module__}.{t.__qualname__} are not supported as python data "
        f"(supported: {SUPPORTED}); convert it first (e.g. a pandas Timestamp with "
        ".to_pydatetime()), or store objects of that type with their own kind",
    )


def _enc_sequence(v: Any) -> list[Any]:
    out: list[Any] = []
    try:
        for item in v:
            out.append(_enc(item))
    except _Unencodable as exc:
        exc.parts.append(f"[{len(out)}]")  # the position of the item that failed
        raise
    return out


def _is_plain_key(key: Any) -> bool:
    return (
        type(key) is str
        and key != ""
        and key[0] != "$"
        and "." not in key
        and "\x00" not in key
        and key not in RESERVED_KEYS
    )


def _enc_key(v: Any) -> Any:
    """A dict key or set item: like a value, but tuples stay tuples (they must be hashable)."""
    if isinstance(v, tuple):
        return {MARKER: "tuple", "v": [_enc_key(item) for item in v]}
    if type(v) is frozenset:
        return {MARKER: "frozenset", "v": [_enc_key(item) for item in v]}
    return _enc(v)


def _enc_set(v: set | frozenset) -> dict[str, Any]:
    tag = "frozenset" if isinstance(v, frozenset) else "set"
    return {MARKER: tag, "v": [_enc_key(item) for item in v]}


def _enc_dict(v: dict) -> dict[str, Any]:
    out: dict[str, Any] = {}
    odd: list[list[Any]] | None = None
    key: Any = None
    try:
        for pos, (key, item) in enumerate(v.items()):
            if _is_plain_key(key):
                out[key] = _enc(item)
            else:
                if odd is None:
                    odd = []
                odd.append([pos, _enc_key(key), _enc(item)])
    except _Unencodable as exc:
        exc.parts.append(f"[{key!r}]")
        raise
    if odd is None:
        return out
    tagged: dict[str, Any] = {MARKER: "dict", ITEMS: odd}
    tagged.update(out)
    return tagged


def _enc_tz(tz: dt.tzinfo, ref: dt.datetime | None) -> dict[str, Any]:
    """A time zone: a zoneinfo key, or a fixed offset (with its name if it has one)."""
    if isinstance(tz, zoneinfo.ZoneInfo) and tz.key:
        return {"zone": tz.key}
    offset = tz.utcoffset(ref)
    if offset is None:
        raise _fail(
            ValueError,
            f"the time zone {tz!r} gives no UTC offset here; use zoneinfo.ZoneInfo or "
            "datetime.timezone",
        )
    name = tz.tzname(ref)
    spec: dict[str, Any] = {"offset": offset // dt.timedelta(microseconds=1)}
    if name is not None and name != dt.timezone(offset).tzname(None):
        spec["name"] = name
    return spec


def _enc_datetime(v: dt.datetime) -> Any:
    if v.tzinfo is None and v.microsecond % 1000 == 0 and not v.fold:
        return v  # BSON holds it exactly: plain, queryable
    tagged: dict[str, Any] = {MARKER: "datetime"}
    try:
        if v.tzinfo is not None:
            offset = v.utcoffset()
            utc = v.replace(tzinfo=None) - (offset or dt.timedelta(0))
            tagged["v"] = utc.replace(microsecond=utc.microsecond // 1000 * 1000)
        else:
            tagged["v"] = v.replace(microsecond=v.microsecond // 1000 * 1000, fold=0)
    except OverflowError:
        raise _fail(ValueError, f"{v!r} is out of the range of UTC datetimes") from None
    tagged["wall"] = [v.year, v.month, v.day, v.hour, v.minute, v.second, v.microsecond]
    if v.tzinfo is not None:
        tagged["tz"] = _enc_tz(v.tzinfo, v)
    if v.fold:
        tagged["fold"] = 1
    return tagged


def _enc_time(v: dt.time) -> dict[str, Any]:
    tagged: dict[str, Any] = {MARKER: "time", "wall": [v.hour, v.minute, v.second, v.microsecond]}
    if v.tzinfo is not None:
        tagged["tz"] = _enc_tz(v.tzinfo, None)
    if v.fold:
        tagged["fold"] = 1
    return tagged


def _enc_timestamp(v: Any) -> Any:
    """A pandas Timestamp as the ``datetime`` it is (NaT as None); nanoseconds refuse."""
    if v != v:  # NaT
        return None
    if getattr(v, "nanosecond", 0):
        raise _fail(
            ValueError,
            f"{v!r} has nanoseconds, which python datetimes cannot hold; round it first, "
            "e.g. value.floor('us')",
        )
    return _enc_datetime(v.to_pydatetime())


def _np_time(v: Any, np: Any) -> Any:
    """A numpy datetime64/timedelta64 scalar as ``datetime``/``timedelta`` (NaT: None)."""
    if np.isnat(v):
        return None
    kind = v.dtype.kind
    exact = v.astype(f"{kind}8[us]")
    item = exact.item()
    if exact != v or not isinstance(item, (dt.datetime, dt.timedelta)):
        raise _fail(
            ValueError,
            f"{v!r} does not fit a python {'datetime' if kind == 'M' else 'timedelta'} "
            "(microsecond precision, years 1-9999); convert it first, e.g. "
            "value.astype('M8[us]') or str(value)",
        )
    return item


def _np_item(v: Any, np: Any) -> Any:
    """A numpy scalar as the Python value it holds (what ``.item()`` gives, made exact)."""
    kind = v.dtype.kind
    if kind in "Mm":
        return _np_time(v, np)
    if kind == "f" and v.dtype.itemsize > 8:
        return float(v)  # longdouble: the nearest float, as Python numbers go
    if kind == "c" and v.dtype.itemsize > 16:
        return complex(v)
    return v.item()


def _enc_numpy(v: Any, np: Any) -> Any:
    if isinstance(v, np.generic):
        return _enc(_np_item(v, np))
    if type(v) is not np.ndarray:
        raise _fail(
            TypeError,
            f"numpy array subclasses ({type(v).__qualname__}) are not supported; pass "
            "np.asarray(value)",
        )
    if v.ndim == 0:
        return _enc(_np_item(v[()], np))
    kind, size = v.dtype.kind, v.dtype.itemsize
    if kind in "Mm" or (kind == "f" and size > 8) or (kind == "c" and size > 16):
        items = np.empty(v.shape, dtype=object)
        for pos, item in enumerate(v.flat):
            items.flat[pos] = _np_item(item, np)
        return _enc_sequence(items.tolist())
    return _enc_sequence(v.tolist())  # nested lists of Python values, tuples for records


_ENCODERS: dict[type, Callable[[Any], Any]] = {
    tuple: _enc_sequence,
    set: _enc_set,
    frozenset: _enc_set,
    bytearray: lambda v: {MARKER: "bytearray", "v": bytes(v)},
    complex: lambda v: {MARKER: "complex", "v": [v.real, v.imag]},
    decimal.Decimal: lambda v: {MARKER: "decimal", "v": str(v)},
    dt.datetime: _enc_datetime,
    dt.date: lambda v: {MARKER: "date", "v": v.isoformat()},
    dt.time: _enc_time,
    dt.timedelta: lambda v: {MARKER: "timedelta", "v": [v.days, v.seconds, v.microseconds]},
    uuid.UUID: lambda v: v,
    ObjectId: lambda v: v,
    Decimal128: lambda v: v,
    Int64: int,
}


# -- decoding ---------------------------------------------------------------------------------
def decode_document(raw: bytes) -> Any:
    """The python value stored in one raw document (its ``data`` field)."""
    doc = bson.decode(raw, codec_options=CODEC_OPTIONS)
    data = doc.get("data")
    return decode(data) if MARKER_BYTES in raw else data


def decode(value: Any) -> Any:
    """Undo ``encode``: resolve tagged values (plain values are returned as they are)."""
    t = type(value)
    if t is dict:
        tag = value.get(MARKER)
        if tag is None:
            return {k: decode(v) for k, v in value.items()}
        decoder = _DECODERS.get(tag)
        if decoder is None:
            raise ValueError(
                f"unknown python.data type tag {tag!r}: the data was written by a newer "
                "omegacore-python-data; upgrade it"
            )
        return decoder(value)
    if t is list:
        return [decode(v) for v in value]
    return value


def decode_key(value: Any) -> Any:
    """Undo ``_enc_key``: like ``decode``, but tuples stay tuples (keys, set items)."""
    if type(value) is dict and value.get(MARKER) in ("tuple", "frozenset"):
        items = [decode_key(item) for item in value["v"]]
        return tuple(items) if value[MARKER] == "tuple" else frozenset(items)
    return decode(value)


def _dec_dict(value: dict[str, Any]) -> dict[Any, Any]:
    plain = [(k, decode(v)) for k, v in value.items() if k not in RESERVED_KEYS]
    odd = value[ITEMS]
    slots: list[tuple[Any, Any] | None] = [None] * (len(plain) + len(odd))
    for pos, key, item in odd:
        slots[pos] = (decode_key(key), decode(item))
    rest = iter(plain)
    return dict(slot if slot is not None else next(rest) for slot in slots)


def _dec_tz(spec: dict[str, Any]) -> dt.tzinfo:
    if "zone" in spec:
        return zoneinfo.ZoneInfo(spec["zone"])
    offset = dt.timedelta(microseconds=spec["offset"])
    name = spec.get("name")
    return dt.timezone(offset, name) if name is not None else dt.timezone(offset)


def _dec_datetime(value: dict[str, Any]) -> dt.datetime:
    tz = _dec_tz(value["tz"]) if "tz" in value else None
    year, month, day, hour, minute, second, micro = value["wall"]
    return dt.datetime(
        year, month, day, hour, minute, second, micro, tzinfo=tz, fold=value.get("fold", 0)
    )


def _dec_time(value: dict[str, Any]) -> dt.time:
    tz = _dec_tz(value["tz"]) if "tz" in value else None
    hour, minute, second, micro = value["wall"]
    return dt.time(hour, minute, second, micro, tzinfo=tz, fold=value.get("fold", 0))


def _numpy() -> Any:
    try:
        import numpy
    except ImportError:  # pragma: no cover - depends on the environment
        raise ImportError(
            "this python data holds numpy values: install numpy to read it"
        ) from None
    return numpy


def _dtype(spec: Any, np: Any) -> Any:
    if isinstance(spec, str):
        return np.dtype(spec)
    return np.lib.format.descr_to_dtype(ast.literal_eval(spec["descr"]))


def _dec_np(value: dict[str, Any]) -> Any:
    np = _numpy()
    dtype = _dtype(value["dtype"], np)
    if "b" in value:
        return np.frombuffer(value["b"], dtype=dtype)[0]
    return dtype.type(value["v"])


def _dec_ndarray(value: dict[str, Any]) -> Any:
    np = _numpy()
    dtype = _dtype(value["dtype"], np)
    shape = tuple(value["shape"])
    if "b" in value:
        if dtype.itemsize == 0 or not value["b"]:
            arr = np.zeros(shape, dtype=dtype)
        else:
            arr = np.frombuffer(value["b"], dtype=dtype).reshape(shape).copy()
    elif dtype.hasobject:
        flat = np.empty(len(value["v"]), dtype=object)
        for i, item in enumerate(value["v"]):
            flat[i] = decode(item)
        arr = flat.reshape(shape)
    else:
        arr = np.array(value["v"], dtype=dtype).reshape(shape)
    if value.get("order") == "F":
        arr = np.asfortranarray(arr)
    return arr


def _plain(value: Any) -> Any:
    """A numpy value written by encoding version 1, as version 2 gives it (lists, numbers).

    A value that version 2 refuses (a datetime64 with nanoseconds) is returned as it is.
    """
    try:
        return decode(_enc(value))
    except _Unencodable:
        return value


_DECODERS: dict[str, Callable[[dict[str, Any]], Any]] = {
    "tuple": lambda v: decode(v["v"]),  # a value: a list, as omegaml gives tuples back
    "set": lambda v: {decode_key(item) for item in v["v"]},
    "frozenset": lambda v: frozenset(decode_key(item) for item in v["v"]),
    "bytearray": lambda v: bytearray(v["v"]),
    "complex": lambda v: complex(*v["v"]),
    "decimal": lambda v: decimal.Decimal(v["v"]),
    "datetime": _dec_datetime,
    "date": lambda v: dt.date.fromisoformat(v["v"]),
    "time": _dec_time,
    "timedelta": lambda v: dt.timedelta(*v["v"]),
    "dict": _dec_dict,
    "np": lambda v: _plain(_dec_np(v)),  # written by version 1 only
    "ndarray": lambda v: _plain(_dec_ndarray(v)),
}
