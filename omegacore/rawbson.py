"""Small edits of encoded BSON documents, without decoding them."""

from __future__ import annotations

import struct

from bson.codec_options import CodecOptions
from bson.raw_bson import RawBSONDocument

from omegacore.journal import ROWID_FIELD


def with_int64(raw: bytes | memoryview, field: str, value: int) -> bytes:
    """The BSON document ``raw`` with the int64 element ``field: value`` appended."""
    element = b"\x12" + field.encode() + b"\x00" + struct.pack("<q", value)
    body = bytes(raw[4:-1]) + element
    return struct.pack("<i", len(body) + 5) + body + b"\x00"


def with_rowid(doc: RawBSONDocument, rowid: int, codec_options: CodecOptions | None = None,
               field: str = ROWID_FIELD) -> RawBSONDocument:
    """``doc`` numbered ``rowid`` (``_om#rowid``), as documents of appending kinds are
    (``StagedPut.reserve_rows``)."""
    options = {"codec_options": codec_options} if codec_options is not None else {}
    return RawBSONDocument(with_int64(doc.raw, field, rowid), **options)
