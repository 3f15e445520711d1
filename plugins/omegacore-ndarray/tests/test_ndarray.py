"""ndarray.bin: conformance, exact round trips per dtype and layout, streaming, errors."""

from __future__ import annotations

import io
import subprocess
import sys
import tracemalloc
from typing import Any

import numpy as np
import pytest
from omegacore import OmegaStore
from omegacore_testing import KindConformance, data_footprint
from omegacore_testing.crash import CrashConformance

from omegacore_ndarray import backend as ndbackend

KIND = "ndarray.bin"


def assert_identical(expected: np.ndarray, actual: Any) -> None:
    """Same type, dtype (incl. byte order and fields), shape, memory order and values."""
    assert type(actual) is np.ndarray
    assert actual.dtype == expected.dtype and actual.dtype.str == expected.dtype.str
    assert actual.dtype.descr == expected.dtype.descr
    assert actual.shape == expected.shape
    if expected.ndim > 1 and expected.flags.f_contiguous and not expected.flags.c_contiguous:
        assert actual.flags.f_contiguous
    assert actual.flags.writeable
    # bytes equality covers NaN, NaT, -0.0 and padding-free structured values exactly
    assert actual.tobytes() == expected.tobytes()


def file_bytes(store: OmegaStore, name: str) -> bytes:
    meta = store.metadata(name)
    with store.gridfs_bucket.open_download_stream(meta.gridfile_id) as stream:
        return stream.read()


class TestNDArrayConformance(KindConformance, CrashConformance):
    kind = KIND

    def make_object(self, variant: int) -> Any:
        return np.arange(12, dtype=np.float64).reshape(3, 4) + variant

    def unsupported_objects(self) -> list[Any]:
        return [object(), [1, 2], {"a": 1}, 1.5]

    def assert_same(self, expected: Any, actual: Any) -> None:
        assert_identical(expected, actual)


def _structured() -> dict[str, np.ndarray]:
    padded = np.dtype({"names": ["a", "b"], "formats": ["u1", "<f8"], "offsets": [0, 8],
                       "itemsize": 24})
    return {
        "struct": np.array([(1, 2.5, "x"), (-1, np.nan, "yz")],
                           dtype=[("i", "<i4"), ("f", ">f8"), ("s", "U2")]),
        "struct-nested": np.array([((1.0, 2.0), [1, 2])],
                                  dtype=[("p", [("x", "<f4"), ("y", "<f4")]), ("v", "<i2", (2,))]),
        "struct-aligned": np.zeros(3, dtype=np.dtype([("a", "u1"), ("b", "<f8")], align=True)),
        "struct-padded": np.zeros(2, dtype=padded),
        "void": np.array([b"\x00\x01\x02\x03"], dtype="V4"),
    }


def _arrays() -> dict[str, np.ndarray]:
    rng = np.random.default_rng(7)
    arrays: dict[str, np.ndarray] = {}
    for code in ["b1", "i1", "i2", "i4", "i8", "u1", "u2", "u4", "u8", "f2", "f4", "f8", "g",
                 "c8", "c16", "G"]:
        dtype = np.dtype(code)
        if dtype.kind == "b":
            arrays[code] = rng.integers(0, 2, size=(4, 5)).astype(dtype)
        elif dtype.kind in "iu":
            low = -50 if dtype.kind == "i" else 0
            arrays[code] = rng.integers(low, 100, size=(4, 5)).astype(dtype)
        else:
            values = rng.standard_normal((4, 5)) * 1e3
            if dtype.kind == "c":
                values = values + 1j * rng.standard_normal((4, 5))
            arrays[code] = values.astype(dtype)
            arrays[code].flat[3:6] = [np.nan, -0.0, np.inf]
    arrays["u8-max"] = np.array([0, 2**64 - 1], dtype=np.uint64)
    arrays[">f8"] = np.array([1.5, np.nan, -2.0], dtype=">f8")
    arrays[">i4"] = np.arange(6, dtype=">i4").reshape(2, 3)
    arrays[">c16"] = np.array([1 + 2j, np.nan], dtype=">c16")
    arrays["M8[ns]"] = np.array(["2024-01-01T00:00:00.123456789", "NaT"], dtype="M8[ns]")
    arrays["M8[D]"] = np.array(["1970-01-01", "2262-04-12", "NaT"], dtype="M8[D]")
    arrays["m8[s]"] = np.array([1, -5, "NaT"], dtype="m8[s]")
    arrays["U"] = np.array([["a", "bcé"], ["", "日本"]])
    arrays["S"] = np.array([b"a", b"", b"xyz"])
    arrays["0-d"] = np.array(3.25)
    arrays["0-d-str"] = np.array("text")
    arrays["empty"] = np.zeros(0)
    arrays["empty-3d"] = np.zeros((3, 0, 2), dtype=np.int16)
    arrays["fortran"] = np.asfortranarray(np.arange(24.0).reshape(2, 3, 4))
    arrays["strided"] = np.arange(100, dtype=np.int32).reshape(10, 10)[::2, ::3]
    arrays["transposed"] = np.arange(12).reshape(3, 4).T[:, ::-1]
    arrays["reversed"] = np.arange(10.0)[::-1]
    arrays["readonly"] = np.frombuffer(np.arange(4.0).tobytes(), dtype=np.float64)
    arrays.update(_structured())
    return arrays


ARRAYS = _arrays()


@pytest.mark.parametrize("array", list(ARRAYS.values()), ids=list(ARRAYS))
def test_round_trip_exact(store: OmegaStore, array: np.ndarray) -> None:
    meta = store.put(array, "arr")
    assert meta.kind == KIND
    assert_identical(array, store.get("arr"))


def test_kind_meta_and_raw_bytes(store: OmegaStore) -> None:
    arr = np.asfortranarray(np.arange(6, dtype=">f4").reshape(2, 3))
    meta = store.put(arr, "raw")
    assert meta.kind_meta == {"format": "npy", "dtype": ">f4", "shape": [2, 3], "order": "F",
                              "nbytes": 24, "save_method": "np.save", "allow_pickle": False}
    # what np.save writes: the .npy header, then the raw bytes; no pickle
    assert file_bytes(store, "raw") == _saved(arr)
    assert file_bytes(store, "raw").endswith(arr.tobytes(order="F"))
    struct = ARRAYS["struct"]
    meta = store.put(struct, "raw")
    assert meta.kind_meta["descr"] == repr(np.lib.format.dtype_to_descr(struct.dtype))
    assert file_bytes(store, "raw") == _saved(struct)


def _saved(arr: np.ndarray) -> bytes:
    out = io.BytesIO()
    np.save(out, arr, allow_pickle=False)
    return out.getvalue()


def test_reads_the_raw_layout_of_earlier_releases(store: OmegaStore) -> None:
    arr = np.asfortranarray(np.arange(6, dtype=">i4").reshape(2, 3))
    meta = store.put(arr, "old")
    store.fs.delete(meta.gridfile_id)
    store.fs.put(arr.tobytes(order="F"), _id=meta.gridfile_id, filename="old")
    store._metadata_collection.update_one(
        {"_id": meta.id},
        {"$set": {"kind_meta": {"format": "raw", "dtype": ">i4", "shape": [2, 3],
                                "order": "F", "nbytes": 24}}})
    assert_identical(arr, store.get("old"))


@pytest.mark.parametrize(
    "array",
    [np.arange(50_000, dtype=np.float64).reshape(500, 100),
     np.asfortranarray(np.arange(50_000, dtype=np.int64).reshape(500, 100)),
     np.arange(100_000, dtype=np.float32).reshape(1000, 100)[::3, 1::2]],
    ids=["C", "F", "strided"],
)
def test_many_chunks(store: OmegaStore, monkeypatch: pytest.MonkeyPatch, array: Any) -> None:
    """Slices that do not line up with GridFS chunks still give back the exact array."""
    monkeypatch.setattr(ndbackend, "CHUNK_BYTES", 100_003)
    store.put(array, "chunked")
    assert_identical(array, store.get("chunked"))


def test_streams_without_a_second_copy(store: OmegaStore) -> None:
    """Neither put nor get copies the whole array.

    pymongo buffers GridFS chunks (up to 32 MB per insert when writing, one cursor batch
    when reading), so a put peaks near 96 MB and a get near 35 MB above the result
    array, whatever the array's size.
    """
    array = np.random.default_rng(1).standard_normal(20_000_000)  # 160 MB
    store.put(np.zeros(1), "warm")
    tracemalloc.start()
    try:
        store.put(array, "big")
        _, put_peak = tracemalloc.get_traced_memory()
        tracemalloc.reset_peak()
        before, _ = tracemalloc.get_traced_memory()
        result = store.get("big")
        _, get_peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert np.array_equal(result, array)
    assert put_peak < 0.75 * array.nbytes, f"put peaked at {put_peak / 1e6:.0f} MB"
    extra = get_peak - before - array.nbytes
    assert extra < 0.5 * array.nbytes, f"get held {extra / 1e6:.0f} MB besides the result"


def test_replace_leaves_no_earlier_file(store: OmegaStore) -> None:
    store.put(np.arange(3), "again")
    store.put(np.arange(4.0), "again")
    assert data_footprint(store) == ([], 1)
    assert_identical(np.arange(4.0), store.get("again"))


# -- bad input: clear errors, nothing written ---------------------------------------------------
@pytest.mark.parametrize(
    "bad, match",
    [
        (np.array([1, "a", None], dtype=object), "as_pydata=True"),
        (np.array([(1, None)], dtype=[("a", "i4"), ("o", "O")]), "as_pydata=True"),
        (np.ma.masked_array([1, 2], mask=[0, 1]), "np.asarray"),
    ],
    ids=["object", "struct-object", "masked"],
)
@pytest.mark.parametrize("existing", [False, True], ids=["new", "existing"])
def test_bad_input_writes_nothing(store: OmegaStore, bad: Any, match: str, existing: bool) -> None:
    if existing:
        store.put(np.arange(3), "bad")
    before = data_footprint(store)
    meta_before = store.metadata("bad")
    with pytest.raises(TypeError, match=match):
        store.put(bad, "bad")
    assert data_footprint(store) == before
    meta_after = store.metadata("bad")
    if existing:
        assert meta_after is not None and meta_before is not None
        assert meta_after.to_mongo() == meta_before.to_mongo()
        assert_identical(np.arange(3), store.get("bad"))
    else:
        assert meta_after is None


def test_unknown_keywords_are_errors(store: OmegaStore) -> None:
    with pytest.raises(TypeError, match="unexpected keyword"):
        store.put(np.arange(3), "kw", compress=True)
    assert store.get("kw") is None
    store.put(np.arange(3), "kw")
    with pytest.raises(TypeError, match="no options"):
        store.get("kw", lazy=True)


def test_damaged_file_is_reported(store: OmegaStore) -> None:
    backend = store.get_backend_bykind(KIND)
    meta = store.put(np.arange(4.0), "damaged")
    with backend.stage("damaged", kind_meta=dict(meta.kind_meta)) as staged:
        staged.put_file(b"\x00" * 8, ext="np")
    with pytest.raises(ValueError, match="damaged"):
        store.get("damaged")


# -- arrays written by omegaml ------------------------------------------------------------------
@pytest.mark.parametrize(
    "array", [np.arange(6.0).reshape(2, 3), np.asfortranarray(np.ones((3, 2), ">i2"))],
    ids=["C", "F"],
)
def test_reads_omegaml_np_save_files(store: OmegaStore, array: np.ndarray) -> None:
    buffer = io.BytesIO()
    np.save(buffer, array, allow_pickle=False)
    kind_meta = {"dtype": array.dtype.name, "shape": list(array.shape),
                 "save_method": "np.save", "allow_pickle": False}
    with store.get_backend_bykind(KIND).stage("legacy", kind_meta=kind_meta) as staged:
        staged.put_file(buffer.getvalue(), ext="np")
    assert_identical(array, store.get("legacy"))


def test_refuses_pickled_omegaml_files(store: OmegaStore) -> None:
    buffer = io.BytesIO()
    np.save(buffer, np.array([{"a": 1}], dtype=object), allow_pickle=True)
    kind_meta = {"dtype": "object", "shape": [1], "save_method": "np.save", "allow_pickle": True}
    with store.get_backend_bykind(KIND).stage("pickled", kind_meta=kind_meta) as staged:
        staged.put_file(buffer.getvalue(), ext="np")
    with pytest.raises(ValueError, match="pickle"):
        store.get("pickled")


def test_reads_omegaml_raw_files(store: OmegaStore) -> None:
    array = np.arange(6, dtype=np.int32).reshape(3, 2)
    kind_meta = {"dtype": "int32", "shape": [3, 2]}
    with store.get_backend_bykind(KIND).stage("rawlegacy", kind_meta=kind_meta) as staged:
        staged.put_file(array.tobytes(), ext="np")
    assert_identical(array, store.get("rawlegacy"))


# -- other kinds for arrays -------------------------------------------------------------------
def test_as_pydata_selects_python_data(store: OmegaStore) -> None:
    if store.plugins.kind("python.data") is None:
        pytest.skip("omegacore-python-data is not installed")
    meta = store.put(np.array([1, "a"], dtype=object), "objs", as_pydata=True)
    assert meta.kind == "python.data"
    # False means "not given": the array kind stores it and never sees the keyword
    assert store.put(np.arange(3), "arr", as_pydata=False).kind == KIND
    with pytest.raises(TypeError, match="as_pydata=True chooses kind 'python.data', but "
                                        "kind='ndarray.bin' was given"):
        store.put(np.arange(3), "arr", kind=KIND, as_pydata=True)


def test_put_ndarray_as_hdf(store: OmegaStore) -> None:
    pd = pytest.importorskip("pandas")
    if store.plugins.kind("pandas.hdf") is None:
        pytest.skip("omegacore-pandas-hdf (kind pandas.hdf) is not installed")
    array = np.arange(6.0).reshape(3, 2)
    meta = store.put_ndarray_as_hdf(array, "hdf", attributes={"a": 1})
    assert meta.kind == "pandas.hdf"
    assert store.metadata("hdf").attributes == {"a": 1}
    pd.testing.assert_frame_equal(store.get("hdf"), pd.DataFrame(array))


# -- packaging ------------------------------------------------------------------------------
def test_listed_with_version(store: OmegaStore) -> None:
    info = {i.distribution: i for i in store.plugins.info()}
    assert info["omegacore-ndarray"].version == "0.1.0"
    assert [k.kind for k in info["omegacore-ndarray"].kinds] == [KIND]
    assert store.plugins.kind(KIND).priority == 50


def test_plugin_and_mixin_import_no_numpy() -> None:
    code = (
        "import sys, omegacore_ndarray.plugin, omegacore_ndarray.mixin;"
        "print('numpy' in sys.modules, 'pandas' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False False"
