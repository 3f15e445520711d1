"""python.file: conformance, paths and file objects, local copies, streaming, errors."""

from __future__ import annotations

import hashlib
import io
import os
import subprocess
import sys
import tracemalloc
from pathlib import Path
from typing import Any

import pytest
from bson import ObjectId
from omegacore import OmegaStore
from omegacore.errors import NoKindForObject
from omegacore.gridfile import BATCH_BYTES
from omegacore_testing import KindConformance, data_footprint
from omegacore_testing.crash import CrashConformance

KIND = "python.file"


def content(variant: int) -> bytes:
    return f"line one of {variant}\n".encode() + bytes(range(256)) * (variant + 1)


class TestPythonFileConformance(KindConformance, CrashConformance):
    kind = KIND

    def make_object(self, variant: int) -> Any:
        return io.BytesIO(content(variant))

    def unsupported_objects(self) -> list[Any]:
        return [object(), b"bytes", {"a": 1}, "/no/such/file.bin", 1]

    def assert_same(self, expected: Any, actual: Any) -> None:
        actual.seek(0)  # the same file may be compared twice
        assert actual.read() == expected.getvalue()


def test_file_object_round_trip(store: OmegaStore) -> None:
    meta = store.put(io.BytesIO(b"hello world\n" * 3), "files/hello.txt")
    assert meta.kind == KIND and meta.gridfile_id is not None and not meta.collection
    with store.get("files/hello.txt") as f:
        assert f.read(6) == b"hello "
        f.seek(0)
        assert f.readline() == b"hello world\n"
        assert f.read() == b"hello world\n" * 2
    store.put(io.BytesIO(b"second"), "files/hello.txt")  # a put replaces the file
    assert store.get("files/hello.txt").read() == b"second"


def test_stored_file_reads_across_chunks(store: OmegaStore) -> None:
    chunk = 255 * 1024  # GridFS's default chunk size
    data = b"".join(f"line {i:07d}\n".encode() for i in range(70_000))  # about 3.4 chunks
    store.put(io.BytesIO(data), "lines")
    with store.get("lines") as f:
        assert f.length == len(data) and f.seekable()
        assert f.read(chunk + 10) == data[: chunk + 10]
        f.seek(2 * chunk + 5)
        assert f.tell() == 2 * chunk + 5
        assert f.readchunk() == data[2 * chunk + 5 : 3 * chunk]
        f.seek(-13, io.SEEK_END)
        assert f.read() == data[-13:] and f.read() == b""
        f.seek(0)
        lines = list(f)
    assert len(lines) == 70_000 and lines[-1] == b"line 0069999\n"
    assert f.closed


def test_reads_from_the_current_position(store: OmegaStore) -> None:
    stream = io.BytesIO(b"0123456789")
    stream.seek(4)
    store.put(stream, "tail")
    assert store.get("tail").read() == b"456789"


def test_local_paths(store: OmegaStore, tmp_path: Path) -> None:
    path = tmp_path / "data.csv"
    path.write_bytes(b"a,b\n1,2\n")
    for obj in (str(path), path):
        meta = store.put(obj, "files/data.csv")
        assert meta.kind == KIND and meta.kind_meta == {"source": "data.csv"}
        assert store.get("files/data.csv").read() == b"a,b\n1,2\n"
    with path.open("rb") as handle:
        assert store.put(handle, "fromfh").kind_meta == {"source": "data.csv"}
    out = tmp_path / "out.csv"
    assert store.get("fromfh", local=str(out)) == str(out)
    assert out.read_bytes() == b"a,b\n1,2\n"
    with pytest.raises(IsADirectoryError, match="data.csv"):
        store.get("fromfh", local=tmp_path)


def test_what_is_not_a_file(store: OmegaStore, tmp_path: Path) -> None:
    before = data_footprint(store)
    with pytest.raises(NoKindForObject):
        store.put(b"raw bytes", "b")  # as in omegaml: wrap bytes in io.BytesIO
    with pytest.raises(NoKindForObject):
        store.put(str(tmp_path / "nope.bin"), "nope")  # not an existing file
    with pytest.raises(FileNotFoundError, match="nope.bin"):
        store.put(str(tmp_path / "nope.bin"), "nope", kind=KIND)
    with pytest.raises(TypeError, match="BytesIO"):
        store.put(b"raw bytes", "b", kind=KIND)
    assert data_footprint(store) == before and store.list() == []


def test_text_files_are_refused_before_writing(store: OmegaStore, tmp_path: Path) -> None:
    store.put(io.BytesIO(b"kept"), "text")
    before = data_footprint(store)
    path = tmp_path / "t.txt"
    path.write_text("text data")
    with path.open() as handle, pytest.raises(TypeError, match="text mode.*'rb'"):
        store.put(handle, "text")
    with pytest.raises(TypeError, match="text mode"):
        store.put(io.StringIO("text data"), "text")
    closed = io.BytesIO(b"x")
    closed.close()
    with pytest.raises(ValueError, match="closed"):
        store.put(closed, "text")
    assert data_footprint(store) == before
    assert store.get("text").read() == b"kept"


def test_unknown_options_are_errors(store: OmegaStore) -> None:
    with pytest.raises(TypeError, match="argument encoding; it takes attributes, replace"):
        store.put(io.BytesIO(b"x"), "f", encoding="utf-8")
    store.put(io.BytesIO(b"x"), "f")
    with pytest.raises(TypeError, match="argument mode; it takes local"):
        store.get("f", mode="r")


def test_reads_files_written_by_omegaml(store: OmegaStore) -> None:
    """omegaml's layout: kind python.file, kind_meta {}, gridfile in the bucket's GridFS."""
    file_id = ObjectId()
    store.gridfs_bucket.upload_from_stream_with_id(
        file_id, hashlib.sha1(b"omegaml.data_.report.pdf.file").hexdigest(),
        io.BytesIO(b"%PDF-1.4 body"))
    store._metadata_collection.insert_one({
        "name": "report.pdf", "bucket": store.bucket, "prefix": store.prefix,
        "kind": KIND, "kind_meta": {}, "attributes": {}, "s3file": {}, "uri": "",
        "gridfile": file_id,
    })
    assert store.get("report.pdf").read() == b"%PDF-1.4 body"
    assert store.drop("report.pdf") is True
    assert data_footprint(store) == ([], 0)


#: what pymongo's GridFS upload buffers before it sends chunks (its MAX_MESSAGE_SIZE)
def test_large_files_are_streamed(store: OmegaStore, tmp_path: Path) -> None:
    """A file larger than every buffer on the way never sits whole in memory.

    A put holds a batch of chunk documents (``omegacore.gridfile.BATCH_BYTES``, 8 MiB) and
    the insert message built from them; a get holds a batch of chunks (4 MiB) and its copies.
    """
    size = 128 * 1024 * 1024
    path = tmp_path / "big.bin"
    digest = hashlib.sha256()
    with path.open("wb") as out:
        block = os.urandom(1024 * 1024)
        for i in range(size // len(block)):
            piece = bytes([i % 256]) + block[1:]
            digest.update(piece)
            out.write(piece)
    tracemalloc.start()
    try:
        store.put(str(path), "big")
        _, put_peak = tracemalloc.get_traced_memory()
        tracemalloc.reset_peak()
        read = hashlib.sha256()
        with store.get("big") as stream:
            while piece := stream.read(1024 * 1024):
                read.update(piece)
        _, get_peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert read.hexdigest() == digest.hexdigest()
    assert store.fs.get(store.metadata("big").gridfile_id).length == size
    assert put_peak < 4 * BATCH_BYTES < size, f"put held {put_peak:,} of {size:,} bytes"
    assert get_peak < 16 * 1024 * 1024, f"get held {get_peak:,} bytes of a {size:,} byte file"


def test_listed_with_version(store: OmegaStore) -> None:
    info = {i.distribution: i for i in store.plugins.info()}
    assert info["omegacore-python-file"].version == "0.1.0"
    assert [k.kind for k in info["omegacore-python-file"].kinds] == [KIND]
    assert store.plugins.kind(KIND).priority == 30


def test_plugin_import_is_light() -> None:
    code = (
        "import sys, omegacore_python_file.plugin;"
        "print('omegacore_python_file.backend' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
